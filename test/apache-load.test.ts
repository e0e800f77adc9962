import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigSet, Directive } from '../src/ast.js';
import { fnmatch, hasWildcard } from '../src/apache/glob.js';
import { apacheDefines, inferApacheContext, loadApache, walkDirectives } from '../src/apache/load.js';
import { toApachePayload } from '../src/apache/payload.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-apache-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

/** Files in the order the server reads them (include directives expanded in place). */
function readingOrder(set: ConfigSet): string[] {
  const out = [set.root.source.path];
  walkDirectives(set, undefined, (d) => {
    for (const p of d.includes ?? []) out.push(p);
  });
  return out;
}

const includeDirs = (set: ConfigSet): Directive[] => {
  const out: Directive[] = [];
  walkDirectives(set, undefined, (d) => {
    if (d.includes) out.push(d);
  });
  return out;
};

describe('Include / IncludeOptional', () => {
  it('resolves relative paths against the main file folder, sorts glob matches, records includes', () => {
    const root = tree('basic', {
      'apache2.conf':
        'Include ports.conf\nIncludeOptional conf-enabled/*.conf\n<VirtualHost *:80>\n  Include vhost.d/*.conf\n</VirtualHost>\n',
      'ports.conf': 'Listen 80\n',
      'conf-enabled/b.conf': 'Options None\n',
      'conf-enabled/a.conf': 'Options None\n',
      'conf-enabled/.hidden.conf': 'Options None\n',
      'conf-enabled/c.load': 'Options None\n',
      'vhost.d/x.conf': 'Require all denied\n',
    });
    const set = loadApache(join(root, 'apache2.conf'));
    expect(set.errors).toEqual([]);
    const inc = includeDirs(set);
    expect(inc.map((d) => d.includes!.map((p) => p.slice(root.length + 1)))).toEqual([
      ['ports.conf'],
      ['conf-enabled/a.conf', 'conf-enabled/b.conf'],
      ['vhost.d/x.conf'],
    ]);
    expect([...set.files.keys()].length).toBe(5);
    expect(set.files.get(join(root, 'vhost.d/x.conf'))!.context).toBe('server');
    expect(set.files.get(join(root, 'ports.conf'))!.context).toBe('server');
  });

  it('parses a file included inside <Directory> in directory context', () => {
    const root = tree('perdir', {
      'main.conf':
        '<VirtualHost *:80>\n  <Directory /srv>\n    <IfModule x>\n      Include d.conf\n    </IfModule>\n  </Directory>\n  Include v.conf\n</VirtualHost>\n',
      'd.conf': 'Require all denied\n',
      'v.conf': 'ServerName x\n',
    });
    const set = loadApache(join(root, 'main.conf'));
    expect(set.files.get(join(root, 'd.conf'))!.context).toBe('directory');
    expect(set.files.get(join(root, 'v.conf'))!.context).toBe('server');
  });

  it('reports a missing Include file at the include line; IncludeOptional stays quiet', () => {
    const root = tree('missing', {
      'main.conf': 'Options None\nInclude nope.conf\nIncludeOptional nope2.conf\nIncludeOptional nodir/*.conf\nInclude conf.d/*.conf\n',
      'conf.d/readme.txt': '\n',
    });
    const set = loadApache(join(root, 'main.conf'));
    expect(set.errors.map((e) => [e.code, e.span.start.line, e.span.start.column, e.file === join(root, 'main.conf')])).toEqual([
      ['include-not-found', 2, 1, true],
      ['include-not-found', 5, 1, true],
    ]);
    expect(set.errors[0].message).toBe(`Could not open configuration file ${root}/nope.conf: No such file or directory`);
    expect(set.errors[1].message).toBe(`Include/IncludeOptional: No matches for the wildcard '*.conf' in '${root}/conf.d', failing`);
  });

  it('resolves a fragment below apache2.conf/httpd.conf against that folder (Debian sites-*, h5bp)', () => {
    const deb = tree('frag-debian', {
      'apache2.conf': 'IncludeOptional sites-enabled/*.conf\n',
      'sites-available/x.conf': '<VirtualHost *:80>\nInclude conf-available/y.conf\n</VirtualHost>\n',
      'conf-available/y.conf': 'Options None\n',
    });
    const x = loadApache(join(deb, 'sites-available/x.conf'));
    expect(x.errors).toEqual([]);
    expect(readingOrder(x)).toEqual([join(deb, 'sites-available/x.conf'), join(deb, 'conf-available/y.conf')]);
    const h5bp = tree('frag-h5bp', {
      'httpd.conf': 'Include h5bp/basic.conf\n',
      'h5bp/basic.conf': 'Include h5bp/security/a.conf\n',
      'h5bp/security/a.conf': 'Options None\n',
    });
    expect(loadApache(join(h5bp, 'h5bp/basic.conf')).errors).toEqual([]);
    // no main config above: the fragment's own folder, as before
    const lone = tree('frag-lone', { 'a/b.conf': 'Include c.conf\n', 'a/c.conf': 'Options None\n' });
    expect(loadApache(join(lone, 'a/b.conf')).errors).toEqual([]);
  });

  it('detects include cycles and still finishes', () => {
    const root = tree('cycle', { 'a.conf': 'Include b.conf\n', 'b.conf': 'Include a.conf\nOptions None\n' });
    const set = loadApache(join(root, 'a.conf'));
    expect(set.errors.map((e) => e.code)).toEqual(['include-cycle']);
    expect(set.errors[0].file).toBe(join(root, 'b.conf'));
    expect(set.errors[0].message).toContain('a.conf -> ');
    const self = tree('self', { 'a.conf': 'Include a.conf\n' });
    expect(loadApache(join(self, 'a.conf')).errors.map((e) => e.code)).toEqual(['include-cycle']);
  });

  it('includes a directory recursively, every entry in byte order', () => {
    const root = tree('dir', {
      'main.conf': 'Include d\n',
      'd/b.conf': '#\n',
      'd/B.conf': '#\n',
      'd/.dot': '#\n',
      'd/sub/z.conf': '#\n',
      'd/a': '#\n',
    });
    const set = loadApache(join(root, 'main.conf'));
    expect(includeDirs(set)[0].includes!.map((p) => p.slice(root.length + 3))).toEqual(['.dot', 'B.conf', 'a', 'b.conf', 'sub/z.conf']);
  });

  it('uses ServerRoot, Define and ${VAR} in include paths, and LoadOptions.pathMap', () => {
    const root = tree('sr', {
      'etc/main.conf': 'ServerRoot /opt/web\nDefine SITES sites\nInclude ${SITES}/*.conf\nInclude /opt/web/${UNKNOWN_X}/x.conf\n',
      'opt/sites/one.conf': 'Options None\n',
    });
    const set = loadApache(join(root, 'etc/main.conf'), { pathMap: [{ from: '/opt/web', to: join(root, 'opt') }] });
    expect(includeDirs(set)[0].includes).toEqual([join(root, 'opt/sites/one.conf')]);
    expect(set.errors.map((e) => [e.code, e.span.start.line])).toEqual([['include-not-found', 4]]);
    expect(set.errors[0].message).toContain('${UNKNOWN_X}'); // unknown variables stay literal
    expect(apacheDefines(set).SITES).toBe('sites');
    // LoadOptions.serverRoot wins over the directive
    const set2 = loadApache(join(root, 'etc/main.conf'), { serverRoot: join(root, 'opt') });
    expect(includeDirs(set2)[0].includes).toEqual([join(root, 'opt/sites/one.conf')]);
  });

  it('parses .htaccess alone in htaccess context and records its directory as the server sees it', () => {
    const root = tree('ht', { 'site/.htaccess': 'Include x.conf\nRequire all denied\n' });
    const set = loadApache(join(root, 'site/.htaccess'), { pathMap: [{ from: '/var/www', to: root }] });
    expect(set.root.context).toBe('htaccess');
    expect(set.root.htaccessDir).toBe('/var/www/site');
    expect(set.errors).toEqual([]);
    expect(inferApacheContext('/x/htaccess.txt')).toBe('htaccess');
    expect(inferApacheContext('/x/.htaccess.server.localhost.conf')).toBe('server');
  });

  it('never throws on unreadable, binary or directory entries', () => {
    const root = tree('bad', { 'main.conf': 'Include bin.conf\nInclude sub\n', 'sub/.keep': '' });
    writeFileSync(join(root, 'bin.conf'), Buffer.from([0x52, 0, 0x01, 0x02]));
    const set = loadApache(join(root, 'main.conf'));
    expect(set.errors.map((e) => [e.code, e.span.start.line])).toEqual([['include-unreadable', 1]]);
    const missing = loadApache(join(root, 'does-not-exist.conf'));
    expect(missing.root.errors.map((e) => e.code)).toEqual(['not-found']);
  });

  it('gives a crossplane-like payload', () => {
    const root = tree('payload', { 'main.conf': '<Directory /x>\n  Include in.conf\n</Directory>\n', 'in.conf': 'Require all denied\n' });
    const p = toApachePayload(loadApache(join(root, 'main.conf')));
    expect(p.status).toBe('ok');
    expect(p.config.map((c) => c.file)).toEqual([join(root, 'main.conf'), join(root, 'in.conf')]);
    expect(p.config[0].parsed).toEqual([
      {
        directive: 'Directory',
        line: 1,
        column: 2,
        args: ['/x'],
        section: true,
        block: [{ directive: 'Include', line: 2, column: 3, args: ['in.conf'], includes: [1] }],
      },
    ]);
  });
});

describe('fnmatch (apr_fnmatch with APR_FNM_PERIOD)', () => {
  it('matches like apr', () => {
    expect(fnmatch('*.conf', 'a.conf')).toBe(true);
    expect(fnmatch('*.conf', '.a.conf')).toBe(false);
    expect(fnmatch('.*.conf', '.a.conf')).toBe(true);
    expect(fnmatch('[ab]?.c*', 'bx.conf')).toBe(true);
    expect(fnmatch('[!ab]*', 'a')).toBe(false);
    expect(fnmatch('{a,b}.conf', 'a.conf')).toBe(false);
    expect(fnmatch('{a,b}.conf', '{a,b}.conf')).toBe(true); // braces are plain characters
    expect(hasWildcard('{a,b}.conf')).toBe(false);
    expect(hasWildcard('a[x')).toBe(false);
    expect(hasWildcard('a[x]')).toBe(true);
  });
});

// ---- against the real server: apache2 -t -D DUMP_INCLUDES prints the files in reading order ----
const APACHE = '/usr/sbin/apache2';
const haveApache = existsSync(APACHE);
if (!haveApache) console.log(`skipping DUMP_INCLUDES comparisons: ${APACHE} not installed`);

function dumpIncludes(serverRoot: string, conf: string): string[] {
  const run = join(tmp, 'run');
  mkdirSync(run, { recursive: true });
  const r = spawnSync(APACHE, ['-d', serverRoot, '-f', conf, '-t', '-D', 'DUMP_INCLUDES'], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      APACHE_RUN_DIR: run,
      APACHE_LOCK_DIR: run,
      APACHE_LOG_DIR: run,
      APACHE_PID_FILE: join(run, 'pid'),
      APACHE_RUN_USER: 'nobody',
      APACHE_RUN_GROUP: 'nogroup',
    },
  });
  return r.stdout
    .split('\n')
    .map((l) => /^\s+\((?:\d+|\*)\) (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[1]);
}

describe.skipIf(!haveApache)('include order equals apache2 -D DUMP_INCLUDES', () => {
  it("for Debian's stock /etc/apache2 tree from the corpus", () => {
    const src = join(__dirname, '../../shared/corpus/apache/debian-apache2/etc/apache2');
    if (!existsSync(src)) {
      console.log(`skipping: corpus not found at ${src}`);
      return;
    }
    const root = join(tmp, 'debian', 'apache2');
    mkdirSync(dirname(root), { recursive: true });
    cpSync(src, root, { recursive: true, verbatimSymlinks: true });
    const conf = join(root, 'apache2.conf');
    const expected = dumpIncludes(root, conf);
    expect(expected.length).toBeGreaterThan(20);
    const set = loadApache(conf);
    expect(set.errors).toEqual([]);
    expect(readingOrder(set)).toEqual(expected);
  });

  it('for a tree of tricky names: dot files, case, digits, directories, inner wildcards', () => {
    const root = tree('tricky', {
      'main.conf': [
        'Include conf.d/*.conf',
        'Include dir',
        'IncludeOptional nothere/*.conf',
        'IncludeOptional opt/*.conf',
        'Include sub*/x.conf',
        'Include conf.d/[ab].conf',
        'Include "conf.d/with space.conf"',
        '',
      ].join('\n'),
      'conf.d/b.conf': '#\n',
      'conf.d/B.conf': '#\n',
      'conf.d/a.conf': '#\n',
      'conf.d/.hidden.conf': '#\n',
      'conf.d/10.conf': '#\n',
      'conf.d/9.conf': '#\n',
      'conf.d/_u.conf': '#\n',
      'conf.d/with space.conf': '#\n',
      'conf.d/{x,y}.conf': '#\n',
      'conf.d/adir.conf/inner.conf': '#\n',
      'dir/z.conf': '#\n',
      'dir/.dot': '#\n',
      'dir/README': '# readme\n',
      'dir/sub/inner.conf': '#\n',
      'sub1/x.conf': '#\n',
      'sub2/x.conf': '#\n',
      subfile: '#\n',
    });
    symlinkSync(join(root, 'dir/z.conf'), join(root, 'conf.d/link.conf'));
    const conf = join(root, 'main.conf');
    const expected = dumpIncludes(root, conf);
    expect(expected.length).toBeGreaterThan(15);
    const set = loadApache(conf);
    expect(set.errors).toEqual([]);
    expect(readingOrder(set)).toEqual(expected);
  });
});
