/**
 * Hostile input never hangs and never crashes (issue 11): FIFOs and devices as configs, includes and
 * .htaccess files; directory include loops; symlink loops on the command line; absurd nesting; huge
 * files and many findings. Every case runs the built CLI as a child process bounded by a timeout and
 * asserts that it finished, its exit code and what it said.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, ensureBuilt } from './harness/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-hostile-'));
chmodSync(tmp, 0o755);

beforeAll(() => ensureBuilt(), 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  /** null when the child was killed by the timeout (or a signal) */
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function why(args: string[], opts: { timeout?: number; input?: string; stdinFile?: string; nodeOptions?: string } = {}): Run {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: opts.timeout ?? 20_000,
    maxBuffer: 64 * 1024 * 1024,
    input: opts.input,
    stdio: opts.stdinFile ? [openStdin(opts.stdinFile), 'pipe', 'pipe'] : undefined,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...(opts.nodeOptions ? { NODE_OPTIONS: opts.nodeOptions } : {}) },
  });
  return { code: r.status, signal: r.signal, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function openStdin(p: string): number {
  return openSync(p, 'r');
}

/** It finished by itself (no timeout kill), and never with an internal error. */
function finished(r: Run): void {
  expect(r.signal, `killed: ${r.err.slice(0, 300)}`).toBeNull();
  expect(r.code).not.toBeNull();
  expect(r.err).not.toMatch(/internal error|Maximum call stack|heap limit|bad_alloc/);
}

function dir(name: string): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  chmodSync(d, 0o755);
  return d;
}

const mkfifo = ['/usr/bin/mkfifo', '/bin/mkfifo'].find((p) => existsSync(p));
function fifo(p: string): void {
  const r = spawnSync(mkfifo!, ['-m', '644', p]);
  if (r.status !== 0) throw new Error(`mkfifo ${p} failed`);
}

describe.skipIf(!mkfifo)('FIFOs and devices are refused, never read', () => {
  if (!mkfifo) console.log('skipped: no mkfifo binary');

  it('a FIFO named as the config', () => {
    const d = dir('fifo-config');
    fifo(join(d, 'nginx.conf'));
    const r = why([join(d, 'nginx.conf')]);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toContain('nginx.conf is a FIFO, not a regular file');
    expect(r.out).toContain('syntax-error');
    expect(r.out).not.toContain('cannot tell whether');
  });

  it('a FIFO as an nginx include target', () => {
    const d = dir('fifo-nginx');
    fifo(join(d, 'pipe.conf'));
    writeFileSync(join(d, 'nginx.conf'), 'events {}\nhttp {\n  include pipe.conf;\n}\n');
    const r = why([join(d, 'nginx.conf')]);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/3:\d+\s+error\s+\S*pipe\.conf is a FIFO, not a regular file/);
  });

  it('a FIFO as an Apache Include target, and `parse` on it', () => {
    const d = dir('fifo-apache');
    fifo(join(d, 'pipe.conf'));
    writeFileSync(join(d, 'httpd.conf'), `ServerRoot ${d}\nListen 80\nInclude pipe.conf\n`);
    const r = why([join(d, 'httpd.conf')]);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/3:1\s+error\s+\S*pipe\.conf is a FIFO, not a regular file/);
    const p = why(['parse', join(d, 'httpd.conf')]);
    finished(p);
    expect(p.out + p.err).toContain('pipe.conf is a FIFO, not a regular file');
  });

  it('a FIFO as the .htaccess that explain --fs reads: unknown (status null), with the reason', () => {
    const d = dir('fifo-htaccess');
    const docs = dir('fifo-htaccess/htdocs');
    writeFileSync(join(docs, 'index.html'), 'hi\n');
    chmodSync(join(docs, 'index.html'), 0o644);
    fifo(join(docs, '.htaccess'));
    writeFileSync(
      join(d, 'httpd.conf'),
      `ServerRoot ${d}\nListen 80\nDocumentRoot ${docs}\n<Directory ${docs}>\n  AllowOverride All\n  Require all granted\n</Directory>\n`,
    );
    const r = why(['explain', '--fs', '-f', 'json', join(d, 'httpd.conf'), 'http://x/index.html']);
    finished(r);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { status: number | null; unknowns?: string[] };
    expect(j.status).toBeNull();
    expect(JSON.stringify(j)).toContain('.htaccess is a FIFO, not a regular file');
  });

  it('a FIFO as the why403 config file (-c, or .why403.json found by lookup): exit 2, never a hang', () => {
    const d = dir('fifo-why403json');
    fifo(join(d, '.why403.json'));
    writeFileSync(join(d, 'nginx.conf'), 'events {}\n');
    for (const args of [['-c', join(d, '.why403.json'), join(d, 'nginx.conf')], [join(d, 'nginx.conf')]]) {
      const r = why(args);
      finished(r);
      expect(r.code).toBe(2);
      expect(r.err).toContain('.why403.json is a FIFO, not a regular file');
    }
  });

  it('/dev/zero as the config and as an include: refused by type, never read', () => {
    if (!existsSync('/dev/zero')) return console.log('skipped: no /dev/zero');
    const r = why(['--server', 'nginx', '/dev/zero']);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toContain('/dev/zero is a character device, not a regular file');
    const d = dir('zero-include');
    writeFileSync(join(d, 'nginx.conf'), 'events {}\ninclude /dev/zero;\n');
    writeFileSync(join(d, 'httpd.conf'), `ServerRoot ${d}\nInclude /dev/zero\n`);
    for (const f of ['nginx.conf', 'httpd.conf']) {
      const s = why([join(d, f)]);
      finished(s);
      expect(s.code).toBe(1);
      expect(s.out).toContain('/dev/zero is a character device, not a regular file');
    }
  });
});

describe('loops', () => {
  it('Apache `Include conf/` over `a -> .` and `b -> .`: the loop is reported, not walked', () => {
    const d = dir('dirloop');
    const conf = dir('dirloop/conf');
    writeFileSync(join(conf, 'x.conf'), 'Define X\n');
    symlinkSync('.', join(conf, 'a'));
    symlinkSync('.', join(conf, 'b'));
    writeFileSync(join(d, 'httpd.conf'), `ServerRoot ${d}\nListen 80\nInclude conf/\n`);
    const r = why([join(d, 'httpd.conf')]);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /3:1\s+error\s+Include\/IncludeOptional: Directory '\S+\/conf\/a' is '\S+\/conf\/?' again \(a symbolic link loop\)/,
    );
    // IncludeOptional too
    writeFileSync(join(d, 'opt.conf'), `ServerRoot ${d}\nListen 80\nIncludeOptional conf/*\n`);
    const o = why(['--server', 'apache', join(d, 'opt.conf')]);
    finished(o);
    expect(o.out).toContain('a symbolic link loop');
  });

  it('`why403 <dir>` over a directory holding symlink loops finishes and lints the configs once', () => {
    const d = dir('walkloop/sites-enabled');
    writeFileSync(join(d, 'site.conf'), 'server {\n  listen 80;\n  return 403;\n}\n');
    symlinkSync('.', join(d, 'a'));
    symlinkSync('..', join(d, 'b'));
    const r = why(['--server', 'nginx', '--context', 'http', join(tmp, 'walkloop')]);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out.match(/nginx-return-403-server/g)?.length).toBe(1);
  });

  it('a symlink loop named on the command line is a "symbolic link loop", not "no such file"', () => {
    const d = dir('cmdloop');
    symlinkSync('loop', join(d, 'loop'));
    const r = why([join(d, 'loop')]);
    finished(r);
    expect(r.code).toBe(1); // a file that cannot be read is a syntax-error finding (README, exit codes)
    expect(r.out).toContain('symbolic link loop');
    expect(r.out).not.toContain('no such file');
    const e = why(['explain', join(d, 'loop'), '/']);
    finished(e);
    expect(e.code).toBe(2);
    expect(e.err).toContain('symbolic link loop');
  });
});

describe('absurd nesting: lint, parse (text and json) and explain survive 5,000 levels', () => {
  const N = 5000;
  const cases: Array<[string, string, string]> = [
    [
      'nginx',
      'deep-nginx.conf',
      'events {}\nhttp {\nserver {\nlisten 80;\n' + 'location /a {\n'.repeat(N) + 'deny all;\n' + '}\n'.repeat(N) + '}\n}\n',
    ],
    ['apache', 'deep-httpd.conf', 'Listen 80\n' + '<IfModule x>\n'.repeat(N) + 'Require all denied\n' + '</IfModule>\n'.repeat(N)],
  ];
  for (const [server, name, text] of cases) {
    it(server, () => {
      const f = join(tmp, name);
      writeFileSync(f, text);
      const msg = 'nesting deeper than 200 levels is not analysed';
      const lint = why(['--server', server, f]);
      finished(lint);
      expect(lint.code).toBe(1);
      expect(lint.out).toContain(msg);
      const parse = why(['parse', '--server', server, f]);
      finished(parse);
      expect(parse.code).toBe(1);
      expect(parse.err + parse.out).toContain(msg);
      const json = why(['parse', '-f', 'json', '--server', server, f]);
      finished(json);
      expect(json.code).toBe(1);
      const payload = JSON.parse(json.out) as { errors: Array<{ error: string; message?: string }> };
      expect(JSON.stringify(payload.errors)).toContain(msg);
      const ex = why(['explain', '--server', server, f, 'http://x/a']);
      finished(ex);
      expect(ex.code).toBe(2);
      expect(ex.err).toContain(msg);
    });
  }

  it('150 nested nginx locations are followed: 403 as nginx answers (the search stopped at 101 before)', () => {
    const f = join(tmp, 'loc150.conf');
    writeFileSync(
      f,
      'events {}\nhttp {\nserver {\nlisten 80;\n' + 'location /a {\n'.repeat(150) + 'deny all;\n' + '}\n'.repeat(150) + '}\n}\n',
    );
    const r = why(['explain', '-f', 'json', f, 'http://x/a']);
    finished(r);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { status: number | null }).status).toBe(403);
  });

  it('nesting through a chain of includes is bounded too: the include that goes too deep is reported', () => {
    const d = dir('chain');
    const files = 30;
    for (let k = 0; k < files; k++) {
      const inner = k < files - 1 ? `include ${join(d, `c${k + 1}.conf`)};\n` : 'deny all;\n';
      writeFileSync(join(d, `c${k}.conf`), 'location /a {\n'.repeat(150) + inner + '}\n'.repeat(150));
    }
    writeFileSync(join(d, 'nginx.conf'), `events {}\nhttp {\nserver {\nlisten 80;\ninclude ${join(d, 'c0.conf')};\n}\n}\n`);
    const r = why([join(d, 'nginx.conf')]);
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/c1\.conf" would nest blocks deeper than that here, so it is not followed/);
    const ex = why(['explain', join(d, 'nginx.conf'), 'http://x/a']);
    finished(ex);
    expect(ex.code).toBe(2);
    expect(ex.err).toContain('nesting deeper than 200 levels is not analysed');
    const ad = dir('achain');
    for (let k = 0; k < files; k++) {
      const inner = k < files - 1 ? `Include ${join(ad, `c${k + 1}.conf`)}\n` : 'Require all denied\n';
      writeFileSync(join(ad, `c${k}.conf`), '<IfModule x>\n'.repeat(150) + inner + '</IfModule>\n'.repeat(150));
    }
    writeFileSync(join(ad, 'httpd.conf'), `ServerRoot ${ad}\nListen 80\nInclude c0.conf\n`);
    const a = why([join(ad, 'httpd.conf')]);
    finished(a);
    expect(a.code).toBe(1);
    expect(a.out).toMatch(/c1\.conf would nest sections deeper than that here, so it is not followed/);
  });
});

describe('size', () => {
  it('mod_macro: macros that double at each level (2^30 uses) stop at the expansion bound, said once', () => {
    const d = dir('macro-bomb');
    const lines = ['<Macro M0>', 'Define x 1', '</Macro>'];
    for (let k = 1; k <= 30; k++) lines.push(`<Macro M${k}>`, `Use M${k - 1}`, `Use M${k - 1}`, '</Macro>');
    lines.push('Use M30');
    writeFileSync(join(d, 'apache2.conf'), lines.join('\n') + '\n');
    const r = why([join(d, 'apache2.conf')], { timeout: 60_000 });
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out.match(/more than 50000 mod_macro expansions in one configuration/g)).toHaveLength(1);
  });

  it('a generated 50 MB nginx config: refused with a message, never a heap crash', () => {
    const f = join(tmp, 'big.conf');
    const unit = 'server { listen 80; return 403; }\nserver { listen 80; location / { deny all; } }\n';
    writeFileSync(f, 'events {}\nhttp {\n' + unit.repeat(Math.ceil(50e6 / unit.length)) + '}\n');
    const r = why([f], { timeout: 60_000 });
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/big\.conf is \d{8} bytes; files over 8388608 bytes are not read/);
    rmSync(f);
  }, 90_000);

  it('includes share one budget (1/128 of the heap): with a 1 GiB heap, a configuration over 8 MiB is cut at the include that crosses it', () => {
    const d = dir('budget');
    const chunk = '# ' + 'x'.repeat(1000) + '\n';
    writeFileSync(join(d, 'a.conf'), chunk.repeat(5000));
    writeFileSync(join(d, 'b.conf'), chunk.repeat(5000));
    writeFileSync(join(d, 'nginx.conf'), 'events {}\nhttp {\ninclude a.conf;\ninclude b.conf;\n}\n');
    const r = why([join(d, 'nginx.conf')], { timeout: 60_000, nodeOptions: '--max-old-space-size=1024' });
    finished(r);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/4:\d+\s+error\s+\S*b\.conf would take the configuration \(the entry file and its includes\) over 8388608 bytes/);
    expect(r.out).toMatch(/NODE_OPTIONS=--max-old-space-size=4096 raises it/);
    expect(r.out).not.toMatch(/a\.conf would take/);
    // a 4 GiB heap: 32 MiB, and the same 10 MB configuration is read whole
    const big = why([join(d, 'nginx.conf')], { timeout: 60_000, nodeOptions: '--max-old-space-size=4096' });
    finished(big);
    expect(big.code).toBe(0);
    expect(big.out).not.toMatch(/would take the configuration/);
  }, 120_000);

  it('stdin from /dev/zero is refused (exit 2), not read to the end', () => {
    if (!existsSync('/dev/zero')) return console.log('skipped: no /dev/zero');
    const r = why(['--server', 'nginx', '-'], { stdinFile: '/dev/zero' });
    finished(r);
    expect(r.code).toBe(2);
    expect(r.err).toContain('standard input is larger than 8388608 bytes');
  });

  it('over 10,000 findings: the first 10,000 are listed, the rest counted and said', () => {
    const f = join(tmp, 'many.conf');
    writeFileSync(f, 'events {}\nhttp {\n' + 'server { listen 80; return 403; }\n'.repeat(10_500) + '}\n');
    const r = why(['-f', 'json', f], { timeout: 120_000 });
    finished(r);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out) as Array<{ messages: unknown[]; errorCount: number }>;
    expect(res[0].messages).toHaveLength(10_000);
    expect(res[0].errorCount).toBe(10_500);
    expect(r.err).toContain('why403: 500 more findings not shown (only the first 10000 are listed');
  }, 150_000);
});
