/**
 * The language server's cache between lint runs (src/lsp/set-cache.ts, src/lsp/workspace.ts): a
 * set whose files and options did not change reuses its findings, everything else is linted again,
 * and hover reads the sets the last run linted. Driven in-process through `Workspace` the way the
 * server drives it; every result is compared with a workspace that has never linted before (no
 * cache) on the same buffers and disk.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Workspace, pathToUri, type OpenDoc } from '../src/lsp/workspace.js';
import { loadStats } from '../src/load.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-lsp-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const p = join(tmp, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

// an nginx tree: the server's allow/deny comes from an included snippet; the location's own list
// replaces it (nginx-access-list-replaced, reported in the site file) while the snippet allows 10/8
const ACL = 'allow 10.0.0.0/8;\ndeny all;\n';
const NARROW = 'deny 10.1.2.3;\n';
const SITE =
  'server {\n    listen 80;\n    server_name inc.example.test;\n    include snippets/acl.conf;\n    location /x/ {\n        allow 192.168.0.0/16;\n        deny all;\n    }\n}\n';
const SHOP = 'server {\n    listen 80;\n    server_name shop.example.test;\n    return 403;\n}\n';
write('nginx/nginx.conf', 'events {}\nhttp {\n    include sites-enabled/*;\n}\n');
const site = write('nginx/sites-enabled/site', SITE);
const shop = write('nginx/sites-enabled/shop', SHOP);
const acl = write('nginx/snippets/acl.conf', ACL);
// an Apache tree beside it (a second set in the same run)
write(
  'apache2/apache2.conf',
  `ServerRoot ${join(tmp, 'apache2')}\nListen 80\n<Directory />\n    Require all denied\n</Directory>\nIncludeOptional sites-enabled/*.conf\n`,
);
const APP = `<VirtualHost *:80>\n    ServerName app.example.test\n    DocumentRoot ${join(tmp, 'www')}\n    <Location /admin>\n        Order deny,allow\n        Deny from all\n    </Location>\n</VirtualHost>\n`;
const app = write('apache2/sites-enabled/app.conf', APP);
const HTACCESS = 'Order deny,allow\nDeny from all\nAllow from 10.0.0.0/8\n';
const htaccess = write('www/.htaccess', HTACCESS);

type Found = Record<string, string[]>;

/** Every finding of a lint run, by file (the fields the server publishes). */
function findings(r: Awaited<ReturnType<Workspace['lintDocs']>>): Found {
  const out: Found = {};
  const add = (file: string, list: string[]) => (out[file] = [...(out[file] ?? []), ...list].sort());
  for (const run of [...r.runs, ...r.untitled.map((u) => u.run)])
    for (const res of run.results)
      add(
        res.filePath,
        res.messages.map(
          (m) =>
            `${m.line}:${m.column}-${m.endLine}:${m.endColumn} ${m.severity} ${m.ruleId} ${m.message}${m.fix ? ` fix=${JSON.stringify(m.fix)}` : ''}${m.suggestions ? ` sugg=${JSON.stringify(m.suggestions)}` : ''}`,
        ),
      );
  for (const c of r.configErrors) add(c.doc.path ?? c.doc.uri, [`config-error ${c.message}`]);
  return out;
}

/** The same documents linted by a workspace that has never linted: no cache. */
async function fresh(ws: Workspace): Promise<Found> {
  const f = new Workspace();
  f.setFolders([tmp]);
  for (const d of ws.docs.values()) f.open(d.uri, d.text, d.version);
  return findings(await f.lintDocs([...f.docs.values()]));
}

function open(ws: Workspace, path: string, text: string): OpenDoc {
  return ws.open(pathToUri(path), text, 1);
}

const has = (f: Found, file: string, rule: string) => (f[file] ?? []).some((m) => m.includes(` ${rule} `));

describe('the language server reuses only what did not change', () => {
  test('an edit in an included file changes the findings of the file that includes it', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    open(ws, site, SITE);
    const doc = open(ws, acl, ACL);
    const before = findings(await ws.lintDocs([...ws.docs.values()]));
    expect(has(before, site, 'nginx-access-list-replaced')).toBe(true);
    ws.change(doc.uri, NARROW, 2);
    const after = findings(await ws.lintDocs([...ws.docs.values()]));
    expect(has(after, site, 'nginx-access-list-replaced')).toBe(false);
    expect(after).toEqual(await fresh(ws));
    ws.change(doc.uri, ACL, 3);
    const back = findings(await ws.lintDocs([...ws.docs.values()]));
    expect(has(back, site, 'nginx-access-list-replaced')).toBe(true);
    expect(back).toEqual(before);
  });

  test('a file changed on disk and not open is read again (no notification needed)', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    open(ws, site, SITE);
    try {
      expect(has(findings(await ws.lintDocs([...ws.docs.values()])), site, 'nginx-access-list-replaced')).toBe(true);
      writeFileSync(acl, NARROW);
      const r = findings(await ws.lintDocs([...ws.docs.values()]));
      expect(has(r, site, 'nginx-access-list-replaced')).toBe(false);
      expect(r).toEqual(await fresh(ws));
      // and a new file a glob now matches
      const extra = write('nginx/sites-enabled/extra', SHOP.replace('shop.example.test', 'extra.example.test'));
      try {
        const r2 = findings(await ws.lintDocs([...ws.docs.values()]));
        expect(r2).toEqual(await fresh(ws));
      } finally {
        rmSync(extra);
      }
      expect(findings(await ws.lintDocs([...ws.docs.values()]))).toEqual(r);
    } finally {
      writeFileSync(acl, ACL);
    }
  });

  test('closing a buffer falls back to the disk', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    open(ws, site, SITE);
    const doc = open(ws, acl, NARROW); // unsaved: the disk still says ACL
    expect(has(findings(await ws.lintDocs([...ws.docs.values()])), site, 'nginx-access-list-replaced')).toBe(false);
    ws.close(doc.uri);
    const r = findings(await ws.lintDocs([...ws.docs.values()]));
    expect(has(r, site, 'nginx-access-list-replaced')).toBe(true);
    expect(r).toEqual(await fresh(ws));
  });

  test('a set none of whose files changed is not linted again; its findings are the same', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    const s = open(ws, shop, SHOP);
    open(ws, app, APP);
    const first = findings(await ws.lintDocs([...ws.docs.values()]));
    expect(has(first, shop, 'nginx-return-403-server')).toBe(true);
    expect(has(first, app, 'apache-legacy-access-control')).toBe(true);
    const { hits, misses } = ws.cacheStats;
    ws.change(s.uri, SHOP.replace('    return 403;\n', ''), 2);
    const second = findings(await ws.lintDocs([...ws.docs.values()]));
    // the nginx set is linted again, the Apache set (its files unchanged) is not
    expect(ws.cacheStats.misses - misses).toBe(1);
    expect(ws.cacheStats.hits - hits).toBe(1);
    expect(has(second, shop, 'nginx-return-403-server')).toBe(false);
    expect(second[app]).toEqual(first[app]);
    expect(second).toEqual(await fresh(ws));
    // nothing changed: nothing is linted
    const third = findings(await ws.lintDocs([...ws.docs.values()]));
    expect(ws.cacheStats.misses - misses).toBe(1);
    expect(third).toEqual(second);
  });

  test('after N edits across nginx, Apache and .htaccess buffers, the findings equal a fresh lint', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    const docs = {
      site: open(ws, site, SITE),
      shop: open(ws, shop, SHOP),
      acl: open(ws, acl, ACL),
      app: open(ws, app, APP),
      ht: open(ws, htaccess, HTACCESS),
    };
    const edits: Array<[OpenDoc, string]> = [
      [docs.acl, NARROW],
      [docs.shop, SHOP.replace('return 403;', 'return 404;')],
      [docs.app, APP.replace('Deny from all', 'Require all denied')],
      [docs.ht, HTACCESS.replace('Allow from 10.0.0.0/8\n', '')],
      [
        docs.site,
        SITE.replace('deny all;', 'deny all;\n        # why403-disable-next-line nginx-return-403-server -- REASON\n        return 403;'),
      ],
      [docs.acl, ACL],
      [docs.site, SITE.replace('{\n    listen', '{{\n    listen')], // broken while typing
      [docs.shop, SHOP],
      [docs.site, SITE],
      [docs.app, APP],
      [docs.ht, HTACCESS],
    ];
    let v = 1;
    for (const [doc, text] of edits) {
      ws.change(doc.uri, text, ++v);
      const got = findings(await ws.lintDocs([...ws.docs.values()]));
      expect(got, `after edit ${v - 1} (${doc.path})`).toEqual(await fresh(ws));
    }
    expect(ws.cacheStats.hits).toBeGreaterThan(0);
  });

  test('only the edited buffer is parsed again: the other files of the tree keep their parse', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    const doc = open(ws, site, SITE);
    await ws.lintDocs([...ws.docs.values()]);
    const before = (await ws.treeFor(doc))!.set;
    ws.change(doc.uri, SITE.replace('192.168.0.0/16', '172.16.0.0/12'), 2);
    await ws.lintDocs([...ws.docs.values()]);
    const after = (await ws.treeFor(doc))!.set;
    expect(after).not.toBe(before);
    expect(after.files.get(shop)).toBe(before.files.get(shop));
    expect(after.files.get(acl)).toBe(before.files.get(acl));
    expect(after.files.get(site)).not.toBe(before.files.get(site));
    // nginx.conf has an include (the loader writes what it read into the node): parsed for each load
    const main = join(tmp, 'nginx/nginx.conf');
    expect(after.files.get(main)).not.toBe(before.files.get(main));
  });

  test('hover and symbols read the tree the last lint linted, and load it again once a buffer changed', async () => {
    const ws = new Workspace();
    ws.setFolders([tmp]);
    const doc = open(ws, site, SITE);
    await ws.lintDocs([...ws.docs.values()]);
    const loads = loadStats.loads;
    const t = await ws.treeFor(doc);
    expect(loadStats.loads).toBe(loads);
    expect(t?.set.root.source.path).toBe(join(tmp, 'nginx/nginx.conf'));
    expect(t?.set.files.get(site)?.source.text).toBe(SITE);
    // edited, not linted yet: the tree is loaded with the buffer's text
    ws.change(doc.uri, SHOP, 2);
    const t2 = await ws.treeFor(doc);
    expect(loadStats.loads).toBeGreaterThan(loads);
    expect(t2?.set.files.get(site)?.source.text).toBe(SHOP);
    // a change on disk reported by the client: loaded again too
    await ws.lintDocs([...ws.docs.values()]);
    const loads2 = loadStats.loads;
    expect((await ws.treeFor(doc))?.set.files.get(site)?.source.text).toBe(SHOP);
    expect(loadStats.loads).toBe(loads2);
    ws.diskChanged();
    await ws.treeFor(doc);
    expect(loadStats.loads).toBeGreaterThan(loads2);
  });
});
