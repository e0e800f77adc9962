/**
 * `why403 lsp --stdio` driven by a real LSP client (vscode-languageserver-protocol over the child's
 * stdio): diagnostics on open and after an edit, hover, code actions, the explain command, document
 * symbols, broken input, a 5,000-line tree, and a clean shutdown/exit. Every wait is bounded; no
 * assertion is about time.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type CodeAction,
  type Diagnostic,
  type DocumentSymbol,
  type Hover,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';
import { DEBOUNCE_MS } from '../src/lsp/server.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-lsp-'));
const uri = (p: string) => pathToFileURL(p).href;

const SHOP = 'server {\n    listen 80;\n    server_name shop.example.test;\n    return 403;\n    location / {\n    }\n}\n';
const ADMIN =
  'server {\n    listen 80;\n    server_name admin.example.test;\n    root /srv/www;\n    location /admin/ { allow 10.0.0.0/8; deny all; }\n}\n';
const HTACCESS = 'Order deny,allow\nDeny from all\nAllow from 10.0.0.0/8\n';

function write(rel: string, text: string): string {
  const p = join(tmp, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

// the workspace's settings: this rule is a warning here (its default is error)
write('.why403.json', JSON.stringify({ rules: { 'nginx-return-403-server': 'warn' } }) + '\n');
write('nginx/nginx.conf', 'events {}\nhttp {\n    include sites-enabled/*;\n}\n');
const shop = write('nginx/sites-enabled/shop', SHOP);
const admin = write('nginx/sites-enabled/admin', ADMIN);
const htaccess = write('www/.htaccess', HTACCESS);
write(
  'apache2/apache2.conf',
  `ServerRoot ${join(tmp, 'apache2')}\nListen 80\n<Directory />\n    Require all denied\n</Directory>\n<Directory ${join(tmp, 'app')}>\n    Require all granted\n</Directory>\nIncludeOptional sites-enabled/*.conf\n`,
);
const APP = `<VirtualHost *:80>\n    ServerName app.example.test\n    DocumentRoot ${join(tmp, 'app')}\n    <Location /admin>\n        Require ip 10.0.0.0/8\n    </Location>\n</VirtualHost>\n`;
const app = write('apache2/sites-enabled/app.conf', APP);

class Client {
  readonly child: ChildProcessWithoutNullStreams;
  readonly conn: ProtocolConnection;
  readonly diagnostics: PublishDiagnosticsParams[] = [];
  private waiters: Array<() => void> = [];
  stderr = '';
  exit: Promise<number | null>;

  constructor(root: string, entry = cliPath) {
    this.child = spawn(process.execPath, [entry, 'lsp', '--stdio'], { cwd: root, env: { ...process.env, WHY403_NO_BUNDLE: '1' } });
    this.child.stderr.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.exit = new Promise((res) => this.child.on('exit', (code) => res(code)));
    this.conn = createProtocolConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    this.conn.onNotification('window/logMessage', (p: { message: string }) => {
      this.stderr += p.message + '\n';
    });
    this.conn.listen();
  }

  async init(root: string): Promise<void> {
    await this.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uri(root),
      workspaceFolders: [{ uri: uri(root), name: 'ws' }],
      capabilities: {},
    });
    await this.conn.sendNotification('initialized', {});
  }

  /** The first diagnostics published for `u` that satisfy `pred` (bounded: rejects after 60 s). */
  waitDiagnostics(u: string, pred: (d: Diagnostic[], p: PublishDiagnosticsParams) => boolean, from = 0): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) => {
      const bound = setTimeout(
        () =>
          reject(
            new Error(
              `no matching diagnostics for ${u}; got ${JSON.stringify(this.diagnostics.filter((p) => p.uri === u))}\n${this.stderr}`,
            ),
          ),
        60_000,
      );
      const check = () => {
        const hit = this.diagnostics.slice(from).find((p) => p.uri === u && pred(p.diagnostics, p));
        if (hit) {
          clearTimeout(bound);
          resolve(hit.diagnostics);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  open(path: string, text: string, languageId = 'nginx'): void {
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: uri(path), languageId, version: 1, text } });
  }

  async stop(): Promise<number | null> {
    await this.conn.sendRequest('shutdown');
    await this.conn.sendNotification('exit');
    return this.exit;
  }
}

let c: Client;
beforeAll(async () => {
  ensureBuilt();
  c = new Client(tmp);
  await c.init(tmp);
}, 180_000);
afterAll(() => {
  if (c && c.child.exitCode === null && c.child.pid) {
    try {
      process.kill(c.child.pid);
    } catch {
      /* gone */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('why403 lsp over stdio', () => {
  test('`return 403;` at server level: a diagnostic on its line, gone after the edit', async () => {
    c.open(shop, SHOP);
    const d = await c.waitDiagnostics(uri(shop), (ds) => ds.length > 0);
    const hit = d.find((x) => x.code === 'nginx-return-403-server');
    expect(hit, JSON.stringify(d)).toBeDefined();
    expect(hit!.range.start.line).toBe(3); // line 4, 0-based
    expect(hit!.source).toBe('why403');
    expect(hit!.severity).toBe(2); // a warning, as .why403.json says
    // the edit removes the line (unsaved: the server reads the buffer, not the disk)
    await c.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: uri(shop), version: 2 },
      contentChanges: [{ range: { start: { line: 3, character: 0 }, end: { line: 4, character: 0 } }, text: '' }],
    });
    const after = await c.waitDiagnostics(uri(shop), (_ds, p) => p.version === 2);
    expect(after.filter((x) => x.code === 'nginx-return-403-server')).toEqual([]);
  });

  test('a file opened where it lives (sites-available) while the main config reads it through a symbolic link', async () => {
    const text = 'server {\n    listen 80;\n    server_name blog.example.test;\n    return 403;\n}\n';
    const real = write('nginx/sites-available/blog', text);
    symlinkSync(real, join(tmp, 'nginx/sites-enabled/blog'));
    c.open(real, text);
    const d = await c.waitDiagnostics(uri(real), (ds) => ds.length > 0);
    expect(d.find((x) => x.code === 'nginx-return-403-server')?.range.start.line).toBe(3);
    const s = (await c.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: uri(real) } })) as DocumentSymbol[];
    expect(s.map((x) => x.name)).toEqual(['server blog.example.test']);
  });

  test('hover on `location /admin/ { allow 10.0.0.0/8; deny all; }` names the range and 403', async () => {
    c.open(admin, ADMIN);
    await c.waitDiagnostics(uri(admin), () => true);
    const h = (await c.conn.sendRequest('textDocument/hover', {
      textDocument: { uri: uri(admin) },
      position: { line: 4, character: 6 },
    })) as Hover | null;
    expect(h).not.toBeNull();
    const text = (h!.contents as { value: string }).value;
    expect(text).toContain('10.0.0.0/8');
    expect(text).toContain('403');
    expect(text).toContain('location /admin/');
    // a link to the deciding line
    expect(text).toContain(`${uri(admin)}#L5`);
    // hover on the access directive itself gives the same block
    const h2 = (await c.conn.sendRequest('textDocument/hover', {
      textDocument: { uri: uri(admin) },
      position: { line: 4, character: 26 },
    })) as Hover | null;
    expect((h2!.contents as { value: string }).value).toContain('10.0.0.0/8');
  });

  test('hover on an Apache <Location>: who gets 403, and the sections merged on the way', async () => {
    c.open(app, APP, 'apache');
    const h = (await c.conn.sendRequest('textDocument/hover', {
      textDocument: { uri: uri(app) },
      position: { line: 3, character: 7 },
    })) as Hover | null;
    const text = (h!.contents as { value: string }).value;
    expect(text).toContain('<Location /admin>');
    expect(text).toContain('clients outside 10.0.0.0/8');
    expect(text).toContain('403');
    // inheritance: the server-wide <Directory /> is applied before the <Location>
    expect(text).toMatch(/<Directory \/> applies/);
    const s = (await c.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: uri(app) } })) as DocumentSymbol[];
    expect(s.map((x) => [x.name, x.children!.map((y) => y.name)])).toEqual([['<VirtualHost *:80>', ['<Location /admin>']]]);
  });

  test('.htaccess with Order/Deny/Allow: code actions with edits (the Require conversion and suppression)', async () => {
    c.open(htaccess, HTACCESS, 'apache');
    const d = await c.waitDiagnostics(uri(htaccess), (ds) => ds.some((x) => x.code === 'apache-legacy-access-control'));
    // the conversion of the whole section sits on its first legacy line
    const first = d.find((x) => x.code === 'apache-legacy-access-control' && x.range.start.line === 0)!;
    expect(first).toBeDefined();
    const fixes = (await c.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: uri(htaccess) },
      range: first.range,
      context: { diagnostics: [first] },
    })) as CodeAction[];
    const replace = fixes.find((a) => a.edit?.changes?.[uri(htaccess)]?.[0]?.newText === 'Require ip 10.0.0.0/8\n');
    expect(replace, JSON.stringify(fixes)).toBeDefined();
    expect(replace!.edit!.changes![uri(htaccess)][0].range).toEqual({ start: { line: 0, character: 0 }, end: { line: 3, character: 0 } });
    const allow = d.find((x) => x.code === 'apache-legacy-access-control' && x.range.start.line === 2)!;
    expect(allow).toBeDefined();
    const actions = (await c.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: uri(htaccess) },
      range: allow.range,
      context: { diagnostics: [allow] },
    })) as CodeAction[];
    const edits = actions.filter((a) => a.edit?.changes?.[uri(htaccess)]?.length);
    const suppress = edits.find((a) => a.edit!.changes![uri(htaccess)][0].newText.includes('why403-disable-next-line'));
    expect(suppress!.edit!.changes![uri(htaccess)][0]).toEqual({
      range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } },
      newText: '# why403-disable-next-line apache-legacy-access-control -- REASON\n',
    });
    // applying the suppression (as the editor would) silences that line and no other
    await c.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: uri(htaccess), version: 2 },
      contentChanges: [
        { range: suppress!.edit!.changes![uri(htaccess)][0].range, text: suppress!.edit!.changes![uri(htaccess)][0].newText },
      ],
    });
    const after = await c.waitDiagnostics(uri(htaccess), (_ds, p) => p.version === 2);
    const legacy = after.filter((x) => x.code === 'apache-legacy-access-control').map((x) => x.range.start.line);
    expect(legacy).toEqual([0, 1]);
  });

  test("a finding's fix is a preferred quick fix with its edit (unused-suppression deletes the comment)", async () => {
    const text = 'server {\n    listen 80;\n    # why403-disable-next-line nginx-return-403-server -- REASON\n    listen 81;\n}\n';
    const p = write('nginx/sites-enabled/unused', text);
    c.open(p, text);
    const d = await c.waitDiagnostics(uri(p), (ds) => ds.some((x) => x.code === 'unused-suppression'));
    const unused = d.find((x) => x.code === 'unused-suppression')!;
    expect(unused.range.start.line).toBe(2);
    const actions = (await c.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: uri(p) },
      range: unused.range,
      context: { diagnostics: [unused] },
    })) as CodeAction[];
    const fix = actions.find((a) => a.isPreferred);
    expect(fix, JSON.stringify(actions)).toBeDefined();
    const [e] = fix!.edit!.changes![uri(p)];
    expect(e.newText).toBe('');
    expect(e.range.start.line).toBe(2);
  });

  test('a settings file that does not validate: a diagnostic that says so, the other files still linted', async () => {
    write('bad/.why403.json', JSON.stringify({ rules: { 'nginx-no-such-rule': 'error' } }));
    const p = write('bad/nginx/sites-enabled/x', SHOP);
    c.open(p, SHOP);
    const d = await c.waitDiagnostics(uri(p), (ds) => ds.length > 0);
    expect(d.map((x) => x.code)).toEqual(['config-error']);
    expect(d[0].message).toContain('nginx-no-such-rule');
    // the shop file (under the good settings) keeps its findings in the same run
    await c.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: uri(shop), version: 3 },
      contentChanges: [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: '    return 403;\n' }],
    });
    const s = await c.waitDiagnostics(uri(shop), (_ds, q) => q.version === 3);
    expect(s.map((x) => x.code)).toContain('nginx-return-403-server');
    await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri: uri(p) } });
    await c.waitDiagnostics(uri(p), (ds) => ds.length === 0);
  });

  test('why403.explain returns the explain result for a URL, address and method', async () => {
    const r = (await c.conn.sendRequest('workspace/executeCommand', {
      command: 'why403.explain',
      arguments: ['http://admin.example.test/admin/', '192.0.2.7', 'GET', uri(admin)],
    })) as { status: number; text: string; config: string };
    expect(r.status).toBe(403);
    expect(r.config).toBe(join(tmp, 'nginx/nginx.conf'));
    expect(r.text).toContain('deny all');
    const ok = (await c.conn.sendRequest('workspace/executeCommand', {
      command: 'why403.explain',
      arguments: ['http://admin.example.test/admin/', '10.1.2.3', 'GET', uri(admin)],
    })) as { status: number };
    expect(ok.status).not.toBe(403);
    const bad = (await c.conn.sendRequest('workspace/executeCommand', { command: 'why403.explain', arguments: [42] })) as {
      error: string;
    };
    expect(bad.error).toMatch(/URL/);
  });

  test('document symbols: servers and locations, nested', async () => {
    const s = (await c.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: uri(admin) } })) as DocumentSymbol[];
    expect(s.map((x) => x.name)).toEqual(['server admin.example.test']);
    expect(s[0].children!.map((x) => x.name)).toEqual(['location /admin/']);
    expect(s[0].children![0].range.start.line).toBe(4);
  });

  test('broken input while typing: the server keeps answering', async () => {
    const junk = join(tmp, 'nginx/sites-enabled/junk');
    writeFileSync(junk, '');
    c.open(junk, 'server {\n  location /x {\n');
    const texts = [
      'server { location { {{ ;;; "unterminated',
      '\u0000\u0001\uDC80 }}}} <Directory',
      'server {\n'.repeat(3000),
      '}'.repeat(500),
      '',
    ];
    let v = 1;
    for (const t of texts) {
      v++;
      await c.conn.sendNotification('textDocument/didChange', {
        textDocument: { uri: uri(junk), version: v },
        contentChanges: [{ text: t }],
      });
      await c.conn.sendRequest('textDocument/hover', { textDocument: { uri: uri(junk) }, position: { line: 0, character: 3 } });
      await c.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: uri(junk) } });
    }
    // bogus requests: unknown document, diagnostics with foreign data, positions past the end
    await c.conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///nope' }, position: { line: 99, character: 99 } });
    const acts = await c.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: uri(junk) },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: {
        diagnostics: [
          {
            range: { start: { line: 9, character: 0 }, end: { line: 9, character: 1 } },
            message: 'x',
            source: 'why403',
            code: 'r',
            data: { fix: 7 },
          },
        ],
      },
    });
    expect(Array.isArray(acts)).toBe(true);
    const last = await c.waitDiagnostics(uri(junk), (_d, p) => p.version === v);
    expect(Array.isArray(last)).toBe(true);
    expect(c.child.exitCode).toBeNull();
    // and still right on a good file
    const h = (await c.conn.sendRequest('textDocument/hover', {
      textDocument: { uri: uri(admin) },
      position: { line: 4, character: 6 },
    })) as Hover;
    expect((h.contents as { value: string }).value).toContain('10.0.0.0/8');
  });

  test('a 5,000-line tree: the diagnostics arrive', async () => {
    const big = join(tmp, 'big');
    write('big/nginx.conf', 'events {}\nhttp {\n    include sites/*.conf;\n}\n');
    let lines = 4;
    let target = '';
    for (let i = 0; i < 50; i++) {
      const out = ['server {', '    listen 80;', `    server_name site${i}.example.test;`, '    root /srv/www;'];
      if (i === 7) out.push('    return 403;');
      for (let j = 0; out.length < 96; j++)
        out.push(`    location /p${j}/ {`, '        allow 10.0.0.0/8;', '        deny all;', '        index index.html;', '    }');
      out.push('}');
      lines += out.length;
      const p = write(`big/sites/s${String(i).padStart(2, '0')}.conf`, out.join('\n') + '\n');
      if (i === 7) target = p;
    }
    expect(lines).toBeGreaterThanOrEqual(5000);
    const b = new Client(big);
    try {
      await b.init(big);
      const t0 = performance.now();
      b.open(target, readFileSync(target, 'utf8'));
      const d = await b.waitDiagnostics(uri(target), (ds) => ds.some((x) => x.code === 'nginx-return-403-server'));
      const first = performance.now() - t0;
      expect(d.find((x) => x.code === 'nginx-return-403-server')!.range.start.line).toBe(4);
      // edits: the time each answer takes now that the rules are loaded (the line removed, put back, …)
      const edits: number[] = [];
      for (let v = 2; v <= 9; v++) {
        const remove = v % 2 === 0;
        const t1 = performance.now();
        await b.conn.sendNotification('textDocument/didChange', {
          textDocument: { uri: uri(target), version: v },
          contentChanges: [
            remove
              ? { range: { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } }, text: '' }
              : { range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, text: '    return 403;\n' },
          ],
        });
        const after = await b.waitDiagnostics(uri(target), (_ds, p) => p.version === v);
        edits.push(performance.now() - t1);
        expect(after.some((x) => x.code === 'nginx-return-403-server')).toBe(!remove);
      }
      const second = edits[0];
      const median = [...edits.slice(1)].sort((x, y) => x - y)[Math.floor((edits.length - 1) / 2)];
      const t2 = performance.now();
      const h = (await b.conn.sendRequest('textDocument/hover', {
        textDocument: { uri: uri(target) },
        position: { line: 5, character: 6 },
      })) as Hover;
      const hover = performance.now() - t2;
      expect((h.contents as { value: string }).value).toContain('10.0.0.0/8');
      console.log(
        `lsp 5,000-line tree (${lines} lines): first diagnostics ${first.toFixed(0)} ms, after the first edit ${second.toFixed(0)} ms, after the next ${edits.length - 1} edits ${median.toFixed(0)} ms (median; debounce included: ${DEBOUNCE_MS} ms), hover ${hover.toFixed(0)} ms`,
      );
      expect(await b.stop()).toBe(0);
    } finally {
      if (b.child.exitCode === null && b.child.pid) b.child.kill();
    }
  });

  test('the CLI bundle (scripts/bundle.mjs) serves it too', async () => {
    const bundle = join(repoRoot, 'dist/src', `cli.bundle-lsp-test-${process.pid}.js`);
    const runner = join(tmp, 'run-bundle.mjs');
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), `--outfile=${bundle}`, '--no-cache'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      // the language server libraries are loaded by `lsp` only, not by the bundle's other commands
      expect(readFileSync(bundle.replace(/\.js$/, '.cjs'), 'utf8')).not.toMatch(/^var .*require\("vscode-languageserver/m);
      writeFileSync(runner, `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});\nm.runAsBin();\n`);
      const b = new Client(tmp, runner);
      try {
        await b.init(tmp);
        const s = (await b.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: uri(admin) } })) as
          DocumentSymbol[] | null;
        expect(s).toEqual([]); // not opened in this session: no symbols, and no error
        b.open(shop, SHOP);
        const d = await b.waitDiagnostics(uri(shop), (ds) => ds.length > 0);
        expect(d.map((x) => x.code)).toContain('nginx-return-403-server');
        expect(await b.stop()).toBe(0);
      } finally {
        if (b.child.exitCode === null && b.child.pid) b.child.kill();
      }
    } finally {
      for (const ext of ['.js', '.cjs', '.cache']) rmSync(bundle.replace(/\.js$/, ext), { force: true });
    }
  }, 180_000);

  test('an unsaved included file counts for the file that includes it, and its disk text once it is closed', async () => {
    // the server's allow/deny comes from a snippet; the location's own list replaces it
    // (nginx-access-list-replaced, in the site file) only while the snippet allows 10.0.0.0/8
    const acl = write('nginx/snippets/acl.conf', 'allow 10.0.0.0/8;\ndeny all;\n');
    const text =
      'server {\n    listen 80;\n    server_name inc.example.test;\n    include snippets/acl.conf;\n    location /x/ {\n        allow 192.168.0.0/16;\n        deny all;\n    }\n}\n';
    const site = write('nginx/sites-enabled/inc', text);
    const replaced = (ds: Diagnostic[]) => ds.some((x) => x.code === 'nginx-access-list-replaced');
    c.open(site, text);
    expect((await c.waitDiagnostics(uri(site), replaced)).find((x) => x.code === 'nginx-access-list-replaced')!.range.start.line).toBe(5);
    c.open(acl, 'deny 10.1.2.3;\n'); // unsaved
    await c.waitDiagnostics(uri(site), (ds) => !replaced(ds));
    const n = c.diagnostics.length;
    await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri: uri(acl) } });
    await c.waitDiagnostics(uri(site), replaced, n);
    await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri: uri(site) } });
  });

  test('shutdown then exit: the process exits with 0', async () => {
    const code = await Promise.race([c.stop(), new Promise<string>((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(code).toBe(0);
  });
});
