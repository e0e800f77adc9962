import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Directive } from '../src/ast.js';
import { globNginx, loadNginx } from '../src/nginx/load.js';
import { walk } from '../src/walk.js';

const root = mkdtempSync(join(tmpdir(), 'why403-nginx-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

const errs = (set: ReturnType<typeof loadNginx>) =>
  set.errors.map((e) => `${e.file.slice(root.length + 1)}:${e.span.start.line}:${e.span.start.column} ${e.code} ${e.message}`);

describe('loadNginx', () => {
  it('resolves relative includes against the main config directory, globs in byte order', () => {
    const d = tree('rel', {
      'nginx.conf': 'events {}\nhttp {\n  include conf.d/*.conf;\n  include none/*.conf;\n}\n',
      'conf.d/b.conf': 'server { include snippets/x.conf; }\n',
      'conf.d/B.conf': 'server { }\n',
      'conf.d/a.conf': 'server { }\n',
      'conf.d/.hidden.conf': 'garbage {\n',
      'conf.d/a.conf.bak': 'garbage {\n',
      'snippets/x.conf': 'location / { deny all; }\n',
    });
    const set = loadNginx(join(d, 'nginx.conf'));
    expect(errs(set)).toEqual([]);
    expect([...set.files.keys()].map((k) => k.slice(d.length + 1))).toEqual([
      'nginx.conf',
      'conf.d/B.conf',
      'conf.d/a.conf',
      'conf.d/b.conf',
      'snippets/x.conf',
    ]);
    const inc = (set.root.nodes[1] as Directive).block![0] as Directive;
    expect(inc.includes).toEqual([join(d, 'conf.d/B.conf'), join(d, 'conf.d/a.conf'), join(d, 'conf.d/b.conf')]);
    // each file parsed in the context of its include, every file clean
    expect(set.files.get(join(d, 'conf.d/a.conf'))!.context).toBe('http');
    expect(set.files.get(join(d, 'snippets/x.conf'))!.context).toBe('server');
    for (const f of set.files.values()) expect(f.errors).toEqual([]);
    // the walk sees the included location inside its server with its own file positions
    const seen: string[] = [];
    walk(set, (n, ctx) => {
      if (n.type === 'directive' && n.name === 'deny')
        seen.push(
          `${ctx.parents.map((p) => p.name).join('>')} ${n.source.path.slice(d.length + 1)}:${n.span.start.line}:${n.span.start.column}`,
        );
    });
    expect(seen).toEqual(['http>server>location snippets/x.conf:1:14']);
  });

  it('reports a missing explicit file at the include, in nginx words, and goes on', () => {
    const d = tree('missing', {
      'nginx.conf': 'events {}\nhttp {\n    include missing.conf;\n    include ok.conf;\n}\n',
      'ok.conf': 'server {}',
    });
    const set = loadNginx(join(d, 'nginx.conf'));
    expect(errs(set)).toEqual([
      `missing/nginx.conf:3:13 include-not-found open() "${join(d, 'missing.conf')}" failed (2: No such file or directory)`,
    ]);
    expect(set.files.has(join(d, 'ok.conf'))).toBe(true);
  });

  it('detects cycles at the include that closes them', () => {
    const d = tree('cycle', {
      'nginx.conf': 'events {}\nhttp { include a.conf; }\n',
      'a.conf': 'include b.conf;\n',
      'b.conf': '\n  include a.conf;\n',
    });
    const set = loadNginx(join(d, 'nginx.conf'));
    expect(errs(set).map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual(['cycle/b.conf:2:11 include-cycle']);
    expect(set.files.size).toBe(3);
  });

  it('applies the path map to include targets', () => {
    const d = tree('map', {
      'deploy/nginx.conf': 'events {}\nhttp { include /etc/nginx/sites-enabled/*; include /etc/nginx/mime.types; }\n',
      'deploy/sites-enabled/site': 'server { listen 80; }\n',
      'deploy/mime.types': 'types { text/html html; }\n',
    });
    const set = loadNginx(join(d, 'deploy/nginx.conf'), { pathMap: [{ from: '/etc/nginx', to: join(d, 'deploy') }] });
    expect(errs(set)).toEqual([]);
    expect([...set.files.keys()].map((k) => k.slice(d.length + 1))).toEqual([
      'deploy/nginx.conf',
      'deploy/sites-enabled/site',
      'deploy/mime.types',
    ]);
  });

  it('reports binary and unreadable includes at the include line', () => {
    const d = tree('bad', {
      'nginx.conf': 'events {}\nhttp {\ninclude bin.conf;\ninclude secret.conf;\n}\n',
      'bin.conf': Buffer.from([0x73, 0x00, 0x01, 0x02]),
      'secret.conf': 'server {}',
    });
    chmodSync(join(d, 'secret.conf'), 0o000);
    const set = loadNginx(join(d, 'nginx.conf'));
    const e = errs(set);
    expect(e[0]).toMatch(/^bad\/nginx.conf:3:9 include-binary .*binary/);
    if (process.getuid && process.getuid() !== 0)
      expect(e[1]).toMatch(/^bad\/nginx.conf:4:9 include-unreadable open\(\) ".*secret.conf" failed \(13: Permission denied\)/);
  });

  it('validates included files in the context of the include', () => {
    const d = tree('ctx', {
      'nginx.conf': 'events {}\nhttp { server { include s.conf; } }\n',
      's.conf': 'listen 80;\nworker_processes 2;\n',
    });
    const set = loadNginx(join(d, 'nginx.conf'));
    expect(set.files.get(join(d, 's.conf'))!.errors.map((e) => `${e.span.start.line} ${e.message}`)).toEqual([
      '2 "worker_processes" directive is not allowed here',
    ]);
  });

  it('never throws on a missing or binary entry file', () => {
    const set = loadNginx(join(root, 'nope.conf'));
    expect(set.root.errors.map((e) => e.code)).toEqual(['not-found']);
    const d = tree('binroot', { 'x.conf': Buffer.from([0, 1, 2]) });
    expect(loadNginx(join(d, 'x.conf')).root.errors.map((e) => e.code)).toEqual(['binary']);
  });

  it('reads a site file in http context with the Debian conf prefix', () => {
    const d = tree('debian', {
      'sites-enabled/site': 'server { include snippets/p.conf; }\n',
      'snippets/p.conf': 'location ~ \\.php$ { fastcgi_pass unix:/run/php.sock; }\n',
    });
    const set = loadNginx(join(d, 'sites-enabled/site'));
    expect(set.root.context).toBe('http');
    expect(errs(set)).toEqual([]);
    expect(set.files.has(join(d, 'snippets/p.conf'))).toBe(true);
  });

  it('resolves a fragment below nginx.conf against the main config directory (h5bp layout)', () => {
    const d = tree('h5bp', {
      'nginx.conf': 'events {}\nhttp { include conf.d/*.conf; }\n',
      'h5bp/basic.conf': 'include h5bp/security/x.conf;\n',
      'h5bp/security/x.conf': 'add_header X-Frame-Options DENY;\n',
      'conf.d/templates/site.conf': 'server { include h5bp/basic.conf; }\n',
    });
    const basic = loadNginx(join(d, 'h5bp/basic.conf'));
    expect(errs(basic)).toEqual([]);
    expect(basic.files.has(join(d, 'h5bp/security/x.conf'))).toBe(true);
    const site = loadNginx(join(d, 'conf.d/templates/site.conf'));
    expect(errs(site)).toEqual([]);
    expect(site.files.has(join(d, 'h5bp/basic.conf'))).toBe(true);
    // without a main config above, the fragment's own directory stays the prefix
    const lone = tree('lone', { 'a/b.conf': 'include c.conf;\n', 'a/c.conf': 'add_header X 1;\n' });
    expect(errs(loadNginx(join(lone, 'a/b.conf')))).toEqual([]);
  });

  it('globs like glob(3): classes, ?, escapes, no braces, no globstar', () => {
    const d = tree('glob', { 'a1.conf': '', 'a2.conf': '', 'b.conf': '', '{x,y}.conf': '', 'sub/c.conf': '' });
    const g = (p: string) => globNginx(join(d, p)).map((x) => x.slice(d.length + 1));
    expect(g('a[0-9].conf')).toEqual(['a1.conf', 'a2.conf']);
    expect(g('a[!1].conf')).toEqual(['a2.conf']);
    expect(g('?.conf')).toEqual(['b.conf']);
    expect(g('{x,y}.conf')).toEqual(['{x,y}.conf']);
    expect(g('**/c.conf')).toEqual(['sub/c.conf']);
    expect(g('*.conf')).toEqual(['a1.conf', 'a2.conf', 'b.conf', '{x,y}.conf']);
  });
});
