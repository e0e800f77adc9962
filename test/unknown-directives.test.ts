/**
 * Typos are errors as the servers judge them: generated typo configs checked by the real `nginx -t`
 * and `apache2 -t` (skipped when the binaries are absent) against why403's verdict, the
 * `<IfModule>` bodies httpd reads or skips, mod_authz_core's `Require` structure checks, and the
 * corpus rows INDEX.tsv rejects for an unknown directive.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 as prng } from '../bench/prng.js';
import { parseApache } from '../src/apache/parser.js';
import { parseNginx } from '../src/nginx/parser.js';
import { SourceFile } from '../src/source.js';
import { editDistance, closestName } from '../src/suggest.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';
import { APACHE_BIN, APACHE_MODULES, NGINX_BIN, apacheSkipReason, nginxSkipReason } from './harness/servers.js';

const nginxSkip = nginxSkipReason();
const apacheSkip = apacheSkipReason();
if (nginxSkip) console.log(`nginx typo differential skipped: ${nginxSkip}`);
if (apacheSkip) console.log(`apache2 typo differential skipped: ${apacheSkip}`);

const dir = mkdtempSync(join(tmpdir(), 'why403-typos-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One typo of `name`: a transposition, deletion, doubling or substitution of one letter. */
function typo(name: string, rnd: () => number): string {
  const i = Math.floor(rnd() * name.length);
  const op = Math.floor(rnd() * 4);
  if (op === 0 && i + 1 < name.length) return name.slice(0, i) + name[i + 1] + name[i] + name.slice(i + 2);
  if (op === 1 && name.length > 3) return name.slice(0, i) + name.slice(i + 1);
  if (op === 2) return name.slice(0, i) + name[i] + name.slice(i);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const c = letters[Math.floor(rnd() * 26)];
  return name.slice(0, i) + (c === name[i].toLowerCase() ? 'q' : c) + name.slice(i + 1);
}

describe('closest names', () => {
  it('counts a transposition as one edit and stops past the limit', () => {
    expect(editDistance('retrun', 'return', 3)).toBe(1);
    expect(editDistance('proxy_passs', 'proxy_pass', 3)).toBe(1);
    expect(editDistance('abc', 'xyzuvw', 2)).toBe(3);
    expect(closestName('Requre', ['Require', 'Requires'])).toBe('Require');
    expect(closestName('zzzzzz', ['return', 'rewrite'])).toBeNull();
    expect(closestName('ALL', ['all'], (s) => s.toLowerCase())).toBe('all');
  });
});

// ---------------------------------------------------------------------------------------------
// nginx

const NGINX_BASE = `events { worker_connections 64; }
http {
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 5;
    server_tokens off;
    client_max_body_size 1m;
    server {
        listen 127.0.0.1:18081;
        server_name example.test;
        root /tmp;
        index index.html;
        autoindex off;
        error_page 404 /404.html;
        add_header X-Test 1;
        location /admin/ {
            allow 127.0.0.1;
            deny all;
            auth_basic "admin";
            auth_basic_user_file /tmp/htpasswd;
        }
        location /old/ {
            return 403;
        }
        location /files/ {
            alias /tmp/;
            try_files $uri =404;
            expires 1h;
        }
    }
}
`;

/** The dynamic modules Debian's nginx-full loads (modules-enabled/), loaded by absolute path. */
function loadModules(): string {
  let mods: string[] = [];
  try {
    mods = readdirSync('/usr/lib/nginx/modules').filter((f) => f.endsWith('.so'));
  } catch {
    // none
  }
  // ngx_stream_geoip2 needs the stream module loaded before it
  mods.sort((a, b) => (a === 'ngx_stream_module.so' ? -1 : b === 'ngx_stream_module.so' ? 1 : a.localeCompare(b)));
  return mods.map((m) => `load_module /usr/lib/nginx/modules/${m};\n`).join('');
}

function nginxT(text: string): { ok: boolean; message?: string; line?: number } {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, text);
  const r = spawnSync(NGINX_BIN, ['-t', '-q', '-p', dir, '-c', conf, '-e', 'stderr', '-g', `pid ${join(dir, 'nginx.pid')};`], {
    encoding: 'latin1',
    timeout: 20_000,
  });
  expect(r.status, r.error ? String(r.error) : r.stderr).not.toBeNull(); // finished
  if (r.status === 0) return { ok: true };
  const m = /\[emerg\] \d+#\d+: (.*?) in (\S+):(\d+)/.exec(r.stderr);
  if (!m) return { ok: false, message: r.stderr.trim().split('\n')[0] };
  return { ok: false, message: m[1], line: Number(m[3]) };
}

describe.skipIf(nginxSkip !== null)('nginx -t versus why403 on typo configs', () => {
  const prefix = loadModules();
  const offset = prefix.split('\n').length - 1;

  it('accepts the base config like nginx', () => {
    expect(nginxT(prefix + NGINX_BASE)).toEqual({ ok: true });
    expect(parseNginx(new SourceFile(join(dir, 'nginx.conf'), prefix + NGINX_BASE), { context: 'main' }).errors).toEqual([]);
  });

  it('gives the same verdict as nginx for 120 seeded typos of directive names', () => {
    const rnd = prng(403);
    const lines = NGINX_BASE.split('\n');
    const candidates = lines.map((l, i) => [i, /^\s*([a-z_]+)[\s;{]/.exec(l)?.[1]] as const).filter(([, n]) => n !== undefined);
    const tally = { unknown: 0, suggestedOriginal: 0, nginxOk: 0, otherError: 0 };
    const disagreements: string[] = [];
    for (let k = 0; k < 120; k++) {
      const [li, name] = candidates[Math.floor(rnd() * candidates.length)];
      const bad = typo(name!, rnd);
      const mutated = [...lines];
      mutated[li] = mutated[li].replace(name!, bad);
      const text = prefix + mutated.join('\n');
      const real = nginxT(text);
      const ours = parseNginx(new SourceFile(join(dir, 'nginx.conf'), text), { context: 'main' }).errors.filter(
        (e) => e.severity === 'error',
      );
      const unknown = ours.filter((e) => e.code === 'unknown-directive');
      if (real.ok) {
        tally.nginxOk++;
        if (ours.length) disagreements.push(`${bad}: nginx accepts, why403: ${ours[0].message}`);
      } else if (real.message?.startsWith('unknown directive')) {
        tally.unknown++;
        const hit = unknown.find(
          (e) => e.message.startsWith(real.message!) && e.span.start.line <= real.line! && real.line! <= e.span.end.line,
        );
        if (!hit) disagreements.push(`${bad}: nginx ${real.line}: ${real.message}; why403: ${ours.map((e) => e.message).join('; ')}`);
        else if (hit.message.includes(`did you mean "${name}"?`)) tally.suggestedOriginal++;
        expect(real.line).toBe(li + 1 + offset);
      } else {
        tally.otherError++;
        if (unknown.length) disagreements.push(`${bad}: nginx ${real.message}; why403 says unknown: ${unknown[0].message}`);
      }
    }
    console.log('nginx typo differential:', tally);
    expect(disagreements).toEqual([]);
    expect(tally.unknown).toBeGreaterThan(90);
    expect(tally.suggestedOriginal / tally.unknown).toBeGreaterThan(0.9);
  });
});

// ---------------------------------------------------------------------------------------------
// Apache

/** A config that loads every installed module (one MPM), as the directive table assumes. */
function apacheBase(): string {
  let mods: string[] = [];
  try {
    mods = readdirSync(APACHE_MODULES).filter((f) => /^mod_.*\.so$/.test(f) && !/^mod_mpm_(prefork|worker)\.so$/.test(f));
  } catch {
    // none
  }
  const loads = mods.map((m) => `LoadModule ${m.slice(4, -3)}_module ${join(APACHE_MODULES, m)}`).join('\n');
  return `ServerRoot ${dir}\n${loads}\nErrorLog ${join(dir, 'error.log')}\nDefaultRuntimeDir ${dir}\nServerName localhost\n`;
}

function apacheT(text: string): { ok: boolean; message?: string; line?: number } {
  const conf = join(dir, 'apache2.conf');
  writeFileSync(conf, text);
  const r = spawnSync(APACHE_BIN, ['-t', '-f', conf], { encoding: 'latin1', timeout: 20_000 });
  expect(r.status, r.error ? String(r.error) : r.stderr).not.toBeNull(); // finished
  if (r.status === 0) return { ok: true };
  const m = /Syntax error on line (\d+) of [^:]+:\n(.*)/.exec(r.stderr);
  if (m) return { ok: false, line: Number(m[1]), message: m[2].trim() };
  const p = /AH\d+: (.*)/.exec(r.stderr);
  return { ok: false, message: p ? p[1].trim() : r.stderr.trim() };
}

const APACHE_BODY = `<Directory /tmp/site>
    Options FollowSymLinks
    AllowOverride None
    DirectoryIndex index.html
    AddType text/plain .txt
    Header set X-Test 1
    ExpiresActive On
    RewriteEngine On
    RewriteRule ^old$ /new [R=301,L]
    ErrorDocument 403 /forbidden.html
    SetEnvIf Remote_Addr 127 local
    AuthType Basic
    AuthName admin
    AuthUserFile /tmp/htpasswd
    Require all granted
</Directory>
Alias /files /tmp/files
Redirect /a /b
`;

function ours(text: string, modules?: string[]) {
  return parseApache(new SourceFile(join(dir, 'apache2.conf'), text), modules ? { modules } : {}).errors.filter(
    (e) => e.severity === 'error',
  );
}

describe.skipIf(apacheSkip !== null)('apache2 -t versus why403 on typo configs', () => {
  const base = apacheBase();
  const offset = base.split('\n').length - 1;

  it('accepts the base config like apache2', () => {
    expect(apacheT(base + APACHE_BODY)).toEqual({ ok: true });
    expect(ours(base + APACHE_BODY)).toEqual([]);
  });

  it('gives the same verdict as apache2 for 60 seeded typos of directive names', () => {
    const rnd = prng(1403);
    const lines = APACHE_BODY.split('\n');
    const candidates = lines.map((l, i) => [i, /^\s*<?([A-Za-z]+)[\s>]/.exec(l)?.[1]] as const).filter(([, n]) => n !== undefined);
    const tally = { unknown: 0, suggestedOriginal: 0, apacheOk: 0, otherError: 0 };
    const disagreements: string[] = [];
    for (let k = 0; k < 60; k++) {
      const [li, name] = candidates[Math.floor(rnd() * candidates.length)];
      const bad = typo(name!, rnd);
      const mutated = [...lines];
      // a section's closing tag takes the same typo
      for (let j = 0; j < mutated.length; j++)
        if (j === li || mutated[j].trim() === `</${name}>`) mutated[j] = mutated[j].replace(name!, bad);
      const text = base + mutated.join('\n');
      const real = apacheT(text);
      const mine = ours(text);
      const unknown = mine.filter((e) => e.code === 'unknown-directive');
      if (real.ok) {
        tally.apacheOk++;
        if (mine.length) disagreements.push(`${bad}: apache2 accepts, why403: ${mine[0].message}`);
      } else if (real.message?.startsWith('Invalid command')) {
        tally.unknown++;
        const hit = unknown.find((e) => e.message.startsWith(real.message!) && e.span.start.line === real.line);
        if (!hit) disagreements.push(`${bad}: apache2 ${real.line}: ${real.message}; why403: ${mine.map((e) => e.message).join('; ')}`);
        else if (
          hit.message.toLowerCase().includes(`did you mean '${name!.toLowerCase()}'?`) ||
          hit.message.includes(`did you mean '<${name}'?`)
        )
          tally.suggestedOriginal++;
        expect(real.line).toBe(li + 1 + offset);
      } else {
        tally.otherError++;
        if (unknown.length) disagreements.push(`${bad}: apache2 ${real.message}; why403 says unknown: ${unknown[0].message}`);
      }
    }
    console.log('apache2 typo differential:', tally);
    expect(disagreements).toEqual([]);
    expect(tally.unknown).toBeGreaterThan(45);
    expect(tally.suggestedOriginal / tally.unknown).toBeGreaterThan(0.85);
  });

  it('reads the body of an <IfModule> only when it holds, as httpd does', () => {
    const cases: Array<[string, boolean]> = [
      ['<IfModule mod_rewrite.c>\nRewriteEngien On\n</IfModule>', false],
      ['<IfModule rewrite_module>\nRewriteEngien On\n</IfModule>', false],
      ['<IfModule !mod_rewrite.c>\nRewriteEngien On\n</IfModule>', true],
      ['<IfModule mod_security2.c>\nSecRuleEngine On\n</IfModule>', true],
      ['<IfModule !mod_security2.c>\nSecRuleEnigne On\n</IfModule>', false],
      ['<IfModule mod_rewrite.c>\n<IfModule mod_nothere.c>\nFoo\n</IfModule>\n</IfModule>', true],
      ['<IfDefine NOT_DEFINED>\nRequre all granted\n</IfDefine>', true],
    ];
    for (const [body, accepted] of cases) {
      const text = base + body + '\n';
      expect(apacheT(text).ok, body).toBe(accepted);
      expect(ours(text).length === 0, body).toBe(accepted);
    }
    // settings.apacheModules: only those (and the compiled-in ones) are loaded
    const text = '<IfModule mod_rewrite.c>\nRewriteEngien On\n</IfModule>\n';
    expect(ours(text, ['authz_core'])).toEqual([]);
    expect(ours(text, ['authz_core', 'rewrite']).length).toBe(1);
  });

  it("refuses the Require structures mod_authz_core refuses, in httpd's words", () => {
    const d = (body: string) => `<Directory /tmp>\n${body}\n</Directory>\n`;
    const cases = [
      d('Require not ip 10.0.0.1'),
      d('<RequireAny>\nRequire not ip 10.0.0.1\n</RequireAny>'),
      d('<RequireAny>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAny>'),
      d('<RequireAll>\nRequire not ip 10.0.0.1\n</RequireAll>'),
      d('<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAll>'),
      d('<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>'),
      d('<RequireAll>\nRequire all granted\n<RequireNone>\nRequire not ip 10.0.0.1\n</RequireNone>\n</RequireAll>'),
      d('<RequireAll>\n</RequireAll>'),
      d('<RequireAll>\n<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>\n</RequireAll>'),
      d('<RequireAll>\nRequire valid-user\n<RequireNone>\nRequire ip 10.0.0.1\nRequire ip 10.0.0.2\n</RequireNone>\n</RequireAll>'),
      d('<RequireAny>\n<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>\n</RequireAny>'),
      d('<Limit POST>\nRequire not ip 10.0.0.1\n</Limit>'),
      d('Require'),
      d('Require all'),
      d('Require all granted extra'),
      d('Require all Granted'),
      d('Require ALL granted'),
      d('Require not all denied'),
      d('Require ip'),
      d('Require valid_user'),
      '<Files x>\nRequire not host example.com\n</Files>\n',
      '<Location />\n<If "true">\nRequire not ip 1.2.3.4\n</If>\n</Location>\n',
    ];
    const seen: string[] = [];
    for (const body of cases) {
      const text = base + body;
      const real = apacheT(text);
      const mine = ours(text);
      seen.push(`${real.ok ? 'ok' : 'refused'}: ${body.replace(/\n/g, ' ')}`);
      if (real.ok) {
        expect(mine, body).toEqual([]);
        continue;
      }
      expect(
        mine.some((e) => e.message.startsWith(real.message!) && (real.line === undefined || e.span.start.line === real.line)),
        `${body}\napache2: ${real.line}: ${real.message}\nwhy403: ${mine.map((e) => `${e.span.start.line}: ${e.message}`).join('; ')}`,
      ).toBe(true);
    }
    expect(seen.filter((s) => s.startsWith('refused')).length).toBeGreaterThan(15);
  });
});

// ---------------------------------------------------------------------------------------------
// The corpus

const haveCorpus = corpusOrSkip('unknown-directive corpus test');

/** Rows rejected for a reason why403's parser cannot see, with the reason. */
const NOT_PARSER: Array<[RegExp, string]> = [
  [/Invalid command 'Require'/, 'the config loads its own modules and not mod_authz_core: a "module not loaded" question for the model'],
  [/authz_svn\.load/, 'LoadModule of a module Debian does not ship (mod_authz_svn), judged through its main config'],
  [/sites-enabled\/(default|globalssl\.com|ipv6ssl\.com)/, 'rejected for another reason; its main config has the unknown directive'],
];

describe.skipIf(!haveCorpus)('corpus rows rejected for an unknown directive', () => {
  it('get an unknown-directive error at the file and line the server names', () => {
    const rows = corpusRows().filter((r) => r.result === 'fails' && r.rejectClass === 'unknown-directive');
    expect(rows.length).toBeGreaterThan(20);
    let checked = 0;
    for (const r of rows) {
      if (NOT_PARSER.some(([re]) => re.test(r.path) || re.test(r.detail.split(' [')[0]))) continue;
      let file: string;
      let line: number;
      let name: string;
      if (r.server === 'nginx') {
        const m = /^unknown directive "(.*?)" in (\S+):(\d+)/.exec(r.detail)!;
        name = m[1];
        file = m[2];
        line = Number(m[3]);
      } else {
        const m = /Syntax error on line (\d+) of ([^:]+): Invalid command '(.*?)'/.exec(r.detail)!;
        line = Number(m[1]);
        file = m[2];
        name = m[3];
      }
      const text = readFileSync(join(CORPUS, file), 'utf8');
      const errors =
        r.server === 'nginx'
          ? parseNginx(new SourceFile(join(CORPUS, file), text)).errors
          : parseApache(new SourceFile(join(CORPUS, file), text)).errors;
      // httpd names the last physical line of a line continued with `\`
      const phys = text.split('\n');
      const covers = (from: number) => from === line || (from < line && phys.slice(from - 1, line - 1).every((l) => /\\\r?$/.test(l)));
      const hit = errors.find(
        (e) =>
          e.code === 'unknown-directive' &&
          e.severity === 'error' &&
          (covers(e.span.start.line) || (e.span.start.line <= line && line <= e.span.end.line)),
      );
      expect(hit?.message ?? '', `${r.path}: ${name} at ${file}:${line}`).toContain(
        r.server === 'nginx' ? `unknown directive "${name}"` : `Invalid command '${name}'`,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });
});

describe('settings declare third-party directives', () => {
  it('settings.nginxDirectives / apacheDirectives / apacheModules reach the parsers through the config file', async () => {
    const { lint } = await import('../src/run.js');
    const d = mkdtempSync(join(tmpdir(), 'why403-settings-'));
    try {
      writeFileSync(join(d, 'site.conf'), 'server {\n  listen 80;\n  vts_filter on;\n  retrun 403;\n}\n');
      writeFileSync(
        join(d, '.htaccess'),
        '<IfModule mod_rewrite.c>\nRewriteEngien On\n</IfModule>\nSecRuleEngine On\nRequre all granted\n',
      );
      const run = async () => {
        const r = await lint([join(d, 'site.conf'), join(d, '.htaccess')], {
          cwd: d,
          only: ['syntax-error'],
          reportUnusedSuppressions: 'off',
        });
        return r.results.flatMap((x) =>
          x.messages.map((m) => `${x.filePath.slice(d.length + 1)}:${m.line} ${m.severity} ${m.message.split(/[,:]/)[0]}`),
        );
      };
      const before = await run();
      expect(before).toEqual([
        ".htaccess:2 error Invalid command 'RewriteEngien'",
        ".htaccess:4 error Invalid command 'SecRuleEngine'",
        ".htaccess:5 error Invalid command 'Requre'",
        'site.conf:3 error unknown directive "vts_filter"',
        'site.conf:4 error unknown directive "retrun"',
      ]);
      writeFileSync(
        join(d, '.why403.json'),
        JSON.stringify({
          settings: { nginxDirectives: ['vts_filter'], apacheDirectives: ['SecRuleEngine'], apacheModules: ['authz_core'] },
        }),
      );
      expect(await run()).toEqual([".htaccess:5 error Invalid command 'Requre'", 'site.conf:4 error unknown directive "retrun"']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('an unbalanced Apache quote', () => {
  it('is a warning, not a fatal finding: httpd takes the rest of the line as the word and accepts the file', async () => {
    const { lint } = await import('../src/run.js');
    const d = mkdtempSync(join(tmpdir(), 'why403-quote-'));
    try {
      writeFileSync(join(d, '.htaccess'), 'ErrorDocument 403 "Forbidden here\nRequire all granted\n');
      const r = await lint([join(d, '.htaccess')], { cwd: d, noConfig: true, only: ['syntax-error'], reportUnusedSuppressions: 'off' });
      const msgs = r.results.flatMap((x) => x.messages);
      expect(msgs.map((m) => [m.messageId, m.severity, m.line, m.fatal ?? false])).toEqual([['unterminated-quote', 'warning', 1, false]]);
      expect(r.results[0].fatalErrorCount).toBe(0);
      // the argument is the rest of the line, as ap_getword_conf reads it
      const f = parseApache(new SourceFile('/x/.htaccess', 'ErrorDocument 403 "Forbidden here\n'), { context: 'htaccess' });
      expect(f.nodes.filter((n) => n.type === 'directive').map((n) => (n.type === 'directive' ? n.args.map((a) => a.value) : []))).toEqual([
        ['403', 'Forbidden here'],
      ]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
