/**
 * Deterministic generator of a large nginx tree for the parser benchmark: `nginx.conf` with an
 * http block that includes maps, upstreams and `sites/*.conf`; each site file holds 100 server
 * blocks with realistic locations (prefix, exact, regex with captures), quoted strings with escapes,
 * `${var}`, comments (whole-line and trailing), `if`, `map`, `limit_except`, and a shared snippet
 * include. N = 10,000 servers gives about 900k lines.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GeneratedTree {
  dir: string;
  main: string;
  files: number;
  lines: number;
  bytes: number;
}

function server(i: number, root: string): string {
  const host = `site${i}.example.test`;
  return `# ---- ${host} (generated server ${i})
server {
    listen 80;
    listen [::]:80;
    listen 443 ssl http2;
    server_name ${host} www.${host} "*.${host}";
    root /srv/www/${host}/public;
    index index.php index.html;
    access_log ${root}/logs/access-${i % 50}.log main buffer=32k; # per-group log (nginx -t opens every file)
    error_log ${root}/logs/error-${i % 50}.log warn;
    ssl_certificate ${root}/ssl/bench.crt;
    ssl_certificate_key ${root}/ssl/bench.key;
    client_max_body_size ${(i % 50) + 1}m;
    add_header X-Frame-Options "SAMEORIGIN" always;
    add_header Content-Security-Policy "default-src 'self'; img-src 'self' data:; script-src 'self' 'unsafe-inline'" always;
    add_header X-Served-By '${host} \\'edge\\'';
    set $site_id "${i}";
    set $upstream_name "app_${i % 100}";

    include snippets/security.conf;

    if ($host !~* ^(www\\.)?${host.replace(/\./g, '\\.')}$) {
        return 444;
    }

    location = /favicon.ico {
        log_not_found off;
        access_log off;
    }

    location / {
        try_files $uri $uri/ /index.php?$query_string;
    }

    location ^~ /static/ {
        alias /srv/www/${host}/static/;
        expires 30d;
        add_header Cache-Control "public, max-age=2592000";
    }

    location ~* \\.(?:css|js|jpg|jpeg|gif|png|svg|webp|woff2?)$ {
        expires 7d;
        access_log off;
    }

    location ~ ^/api/v(?<version>[0-9]+)/ {
        limit_except GET POST {
            deny all;
        }
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Api-Version "\${version}";
        proxy_pass http://$upstream_name;
    }

    location /admin/ {
        allow 10.0.0.0/8;
        allow 192.168.${i % 256}.0/24;
        deny all; # everyone else gets 403
        auth_basic "Admin area";
        auth_basic_user_file /etc/nginx/htpasswd/${host};
    }

    location ~ /\\.(?!well-known) {
        deny all;
    }

    location ~ \\.php$ {
        fastcgi_split_path_info ^(.+\\.php)(/.+)$;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
        fastcgi_index index.php;
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        fastcgi_param PATH_INFO $fastcgi_path_info;
        fastcgi_read_timeout 60s;
    }

    error_page 403 /errors/403.html;
    error_page 404 /errors/404.html;
    error_page 500 502 503 504 /errors/50x.html;
    location = /errors/403.html {
        internal;
    }
}

`;
}

/** A throwaway self-signed certificate for bench.example.test (generated once with openssl; not a secret). */
const BENCH_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQgc2iuYdE5pLqDrz
56h4btQ7MemgwJM2KUsh+1QmayOhRANCAASQSu37tMrAMxpHAaWHxLo74VYB9T+C
Dtk0E9YIxjXDqHkPj2QgfjRoQdilggGK5aOgRDMyj8LnNWN6/ByRZ0GC
-----END PRIVATE KEY-----
`;
const BENCH_CRT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUM/3a21qExyaFNmdHIHDISKJLBVQwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSYmVuY2guZXhhbXBsZS50ZXN0MCAXDTI2MTIwNDEzMDAxNVoY
DzIxMjYxMTEwMTMwMDE1WjAdMRswGQYDVQQDDBJiZW5jaC5leGFtcGxlLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASQSu37tMrAMxpHAaWHxLo74VYB9T+C
Dtk0E9YIxjXDqHkPj2QgfjRoQdilggGK5aOgRDMyj8LnNWN6/ByRZ0GCo1MwUTAd
BgNVHQ4EFgQUSW34qo3kCpy5pzxEVjxdqLkJtEEwHwYDVR0jBBgwFoAUSW34qo3k
Cpy5pzxEVjxdqLkJtEEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiARASCMiWvSXAIAsAzKO3hidoVVAlKsHqR/Jt36nmDDmAIhAL4AxakY+hQdKQuN
MLNwpYuSPtL93Gxl0zDoh4C6uAiS
-----END CERTIFICATE-----
`;

export function generateNginxTree(n = 10_000, dir?: string): GeneratedTree {
  const root = dir ?? mkdtempSync(join(tmpdir(), 'why403-bench-nginx-'));
  mkdirSync(join(root, 'sites'), { recursive: true });
  mkdirSync(join(root, 'snippets'), { recursive: true });
  mkdirSync(join(root, 'logs'), { recursive: true });
  mkdirSync(join(root, 'ssl'), { recursive: true });
  // one fixed self-signed test certificate (P-256), shared by every server: `nginx -t` loads it
  writeFileSync(join(root, 'ssl/bench.key'), BENCH_KEY);
  writeFileSync(join(root, 'ssl/bench.crt'), BENCH_CRT);
  let lines = 0;
  let bytes = 0;
  let files = 0;
  const write = (p: string, text: string) => {
    writeFileSync(join(root, p), text);
    files++;
    bytes += Buffer.byteLength(text);
    let c = 0;
    for (let k = text.indexOf('\n'); k !== -1; k = text.indexOf('\n', k + 1)) c++;
    lines += c;
  };
  write(
    'nginx.conf',
    `user www-data;
worker_processes auto;
pid ${root}/nginx.pid;
error_log ${root}/logs/error.log;
events {
    worker_connections 1024;
}
http {
    include mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" "$http_user_agent"';
    sendfile on;
    server_names_hash_max_size 131072;
    server_names_hash_bucket_size 128;
    include maps.conf;
    include sites/*.conf;
}
`,
  );
  write('mime.types', 'types {\n    text/html html htm;\n    text/css css;\n    application/javascript js;\n    image/png png;\n}\n');
  write(
    'fastcgi_params',
    'fastcgi_param QUERY_STRING $query_string;\nfastcgi_param REQUEST_METHOD $request_method;\nfastcgi_param CONTENT_TYPE $content_type;\n',
  );
  write('snippets/security.conf', '# shared hardening\nserver_tokens off;\nlocation ~ /\\.git {\n    deny all;\n}\n');
  let maps = '';
  for (let u = 0; u < 100; u++) {
    maps += `upstream app_${u} {\n    server 127.0.0.${(u % 250) + 2}:${9000 + u} weight=2 max_fails=3;\n    server 127.0.1.${(u % 250) + 2}:${9000 + u} backup;\n    keepalive 16;\n}\n`;
  }
  maps += 'map $http_user_agent $is_bot {\n    default 0;\n    "~*(googlebot|bingbot)" 1;\n    ~*curl 1;\n}\n';
  write('maps.conf', maps);
  const perFile = 100;
  for (let f = 0; f * perFile < n; f++) {
    let text = '';
    for (let i = f * perFile; i < Math.min(n, (f + 1) * perFile); i++) text += server(i, root);
    write(`sites/${String(f).padStart(4, '0')}.conf`, text);
  }
  return { dir: root, main: join(root, 'nginx.conf'), files, lines, bytes };
}
