/**
 * Unit tests of the Apache model's pieces on small hand-written configs (no server needed).
 */
import { describe, expect, test } from 'vitest';
import type { ConfigSet, Directive, ParsedFile } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { SourceFile } from '../src/source.js';
import {
  applyOptions,
  buildApacheModel,
  canonicalModule,
  checkOverride,
  effectiveOptions,
  evalIfVersion,
  mergeOptions,
  newOptions,
  simulate,
  ModuleSet,
  type FsStat,
  type ModelFs,
  type SimRequest,
} from '../src/apache/model/index.js';
import { mainServerPort } from '../src/apache/model/sections.js';
import { OPT_ALL, OPT_EXECCGI, OPT_INDEXES, OPT_MULTI, OPT_SYM_LINKS } from '../src/apache/model/options.js';
import { exampleClient, parseSubnet, subnetMatches } from '../src/apache/model/net.js';
import { compilePcre, fnmatch } from '../src/apache/model/regex.js';

function setFrom(text: string, path = '/etc/apache2/apache2.conf'): ConfigSet {
  const root = parseApache(new SourceFile(path, text), { context: 'server' });
  // authz-config: Require structures httpd refuses (src/apache/authz-check.ts); some tests here check
  // what the model makes of them
  expect(root.errors.filter((e) => e.code !== 'authz-config').map((e) => e.message)).toEqual([]);
  return { server: 'apache', root, files: new Map([[path, root]]), errors: [] };
}

function model(text: string, settings = {}) {
  return buildApacheModel(setFrom(text), { serverRoot: '/etc/apache2', ...settings });
}

/** An in-memory filesystem: paths ending in `/` are directories; `->` makes a symlink. */
function memFs(spec: Record<string, { mode?: number; uid?: number; link?: string; text?: string }>): ModelFs {
  const norm = (p: string) => p.replace(/\/+$/, '') || '/';
  const entries = new Map<string, { type: FsStat['type']; mode: number; uid: number; link?: string; text?: string }>();
  const addDirs = (p: string) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      if (!entries.has(d)) entries.set(d, { type: 'dir', mode: 0o755, uid: 0 });
    }
  };
  for (const [p, v] of Object.entries(spec)) {
    const isDir = p.endsWith('/');
    addDirs(isDir ? norm(p) : p.slice(0, p.lastIndexOf('/')));
    entries.set(norm(p), {
      type: v.link ? 'symlink' : isDir ? 'dir' : 'file',
      mode: v.mode ?? (isDir ? 0o755 : 0o644),
      uid: v.uid ?? 0,
      link: v.link,
      text: v.text ?? '',
    });
  }
  const stat = (p: string, follow: boolean): FsStat | null => {
    let e = entries.get(norm(p));
    let guard = 0;
    while (e && e.type === 'symlink' && follow && guard++ < 10) e = entries.get(norm(e.link!));
    return e ? { type: e.type, mode: e.mode, uid: e.uid, gid: 0 } : null;
  };
  return {
    lstat: (p) => stat(p, false),
    stat: (p) => stat(p, true),
    readdir: () => [],
    readFile: (p) => entries.get(norm(p))?.text ?? null,
  };
}

const BASE = `
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot /srv/www
<Directory /srv/www>
    Require all granted
</Directory>
`;

const sim = (m: ReturnType<typeof model>, req: Partial<SimRequest> & { uri: string }) => simulate(m, { clientIp: '127.0.0.1', ...req });

describe('modules and conditionals', () => {
  test('module name spellings are one module', () => {
    expect(canonicalModule('mod_rewrite.c')).toBe('mod_rewrite');
    expect(canonicalModule('rewrite_module')).toBe('mod_rewrite');
    expect(canonicalModule('/usr/lib/apache2/modules/mod_rewrite.so')).toBe('mod_rewrite');
    expect(canonicalModule('core.c')).toBe('core');
    expect(canonicalModule('http_module')).toBe('http_core');
    const s = new ModuleSet(['mod_alias.c']);
    expect(s.has('alias_module')).toBe(true);
    expect(s.has('mod_rewrite.c')).toBe(false);
  });

  test('IfModule follows Debian defaults, LoadModule lines and settings', () => {
    const text = `${BASE}
<IfModule mod_rewrite.c>
    <Directory /srv/www/a>
        Require all denied
    </Directory>
</IfModule>
<IfModule !rewrite_module>
    <Directory /srv/www/b>
        Require all denied
    </Directory>
</IfModule>`;
    // Debian's stock set has no mod_rewrite.
    let m = model(text);
    expect(sim(m, { uri: '/a/x.html' }).status).toBe(null); // granted; the file may or may not exist
    expect(sim(m, { uri: '/b/x.html' }).status).toBe(403);
    m = model(text, { modules: ['rewrite_module'] });
    expect(sim(m, { uri: '/a/x.html' }).status).toBe(403);
    expect(sim(m, { uri: '/b/x.html' }).status).toBe(null);
    // A config with LoadModule lines gets only what it loads (plus the static modules).
    m = model(`LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n${text}`);
    expect(m.modules.has('mod_alias')).toBe(false);
    expect(m.modules.has('mod_version')).toBe(true);
    expect(sim(m, { uri: '/b/x.html' }).status).toBe(403);
  });

  test('IfDefine, Define, IfVersion, IfDirective and IfSection', () => {
    const m = model(`${BASE}
Define EXTRA
<IfDefine EXTRA>
  <Directory /srv/www/d1>
    Require all denied
  </Directory>
</IfDefine>
<IfDefine !EXTRA>
  <Directory /srv/www/d2>
    Require all denied
  </Directory>
</IfDefine>
<IfVersion >= 2.4.10>
  <Directory /srv/www/v1>
    Require all denied
  </Directory>
</IfVersion>
<IfDirective RewriteEngine>
  <Directory /srv/www/r1>
    Require all denied
  </Directory>
</IfDirective>
<IfSection RequireAll>
  <Directory /srv/www/s1>
    Require all denied
  </Directory>
</IfSection>`);
    expect(sim(m, { uri: '/d1/x' }).status).toBe(403);
    expect(sim(m, { uri: '/d2/x' }).status).not.toBe(403);
    expect(sim(m, { uri: '/v1/x' }).status).toBe(403);
    expect(sim(m, { uri: '/r1/x' }).status).not.toBe(403);
    expect(sim(m, { uri: '/s1/x' }).status).toBe(403);
    expect(evalIfVersion(['<', '2.4'], [2, 4, 71])).toBe(false);
    expect(evalIfVersion(['=', '2.4'], [2, 4, 71])).toBe(true);
    expect(evalIfVersion(['!=', '2.2'], [2, 4, 71])).toBe(true);
    expect(evalIfVersion(['>', 'x.y'], [2, 4, 71])).toBe(null);
    expect(evalIfVersion(['~', '^2\\.4'], [2, 4, 71])).toBe(true);
  });
});

describe('Options', () => {
  const opts = (...lists: string[][]) => {
    let c = newOptions(true);
    for (const l of lists) {
      const n = newOptions();
      expect(applyOptions(n, l)).toBe(null);
      c = mergeOptions(c, n);
    }
    return effectiveOptions(c);
  };
  test('server default is FollowSymLinks; a bare list replaces, +/- adjusts', () => {
    expect(opts()).toBe(OPT_SYM_LINKS);
    expect(opts(['Indexes'])).toBe(OPT_INDEXES);
    expect(opts(['+Indexes'])).toBe(OPT_INDEXES | OPT_SYM_LINKS);
    expect(opts(['+Indexes'], ['-FollowSymLinks'])).toBe(OPT_INDEXES);
    expect(opts(['All'])).toBe(OPT_ALL);
    expect(opts(['All'], ['-ExecCGI'])).toBe(OPT_ALL & ~OPT_EXECCGI);
    expect(opts(['None'], ['+MultiViews'])).toBe(OPT_MULTI);
  });
  test('mixing forms, +All and unknown names are errors', () => {
    expect(applyOptions(newOptions(), ['Indexes', '+FollowSymLinks'])).toMatch(/Either all Options must start/);
    expect(applyOptions(newOptions(), ['+All'])).toMatch(/You may not use 'Options \+All'/);
    expect(applyOptions(newOptions(), ['Indexes', 'None'])).toMatch(/must be the first/);
    expect(applyOptions(newOptions(), ['Bogus'])).toBe('Illegal option Bogus');
    expect(applyOptions(newOptions(), ['+MultiViews'], OPT_ALL)).toBe('Option MultiViews not allowed here');
  });
});

describe('authz algebra', () => {
  const at = (body: string, req: Partial<SimRequest> = {}) => {
    const m = model(`${BASE}
<Directory /srv/www/t>
${body}
</Directory>`);
    return sim(m, { uri: '/t/', method: 'GET', ...req });
  };
  test('plain Require lines are OR', () => {
    expect(at('Require ip 10.0.0.0/8\nRequire ip 127.0.0.1').status).not.toBe(403);
    expect(at('Require ip 10.0.0.0/8\nRequire ip 127.0.0.2').status).toBe(403);
  });
  test('RequireAll with a negated member; RequireNone inside RequireAll', () => {
    const b = '<RequireAll>\nRequire all granted\nRequire not ip 127.0.0.9\n</RequireAll>';
    expect(at(b).status).not.toBe(403);
    const r = at(b, { clientIp: '127.0.0.9' });
    expect(r.status).toBe(403);
    expect(r.cause).toBe('A01');
    expect(r.decidedBy?.args.map((a) => a.value)).toEqual(['not', 'ip', '127.0.0.9']);
    const none = '<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 127.0.0.9\n</RequireNone>\n</RequireAll>';
    expect(at(none, { clientIp: '127.0.0.9' }).status).toBe(403);
    expect(at(none, { clientIp: '127.0.0.8' }).status).not.toBe(403);
  });
  test('a tree left NEUTRAL denies', () => {
    // Only a negated member: NEUTRAL when it does not match, so 403 for everyone.
    expect(at('<RequireAll>\nRequire not ip 10.1.1.1\n</RequireAll>').status).toBe(403);
  });
  test('negative Require directly in the implicit RequireAny is a config error', () => {
    const m = model(`${BASE}\n<Directory /srv/www/t>\nRequire not ip 1.2.3.4\n</Directory>`);
    expect(m.notes.some((n) => /negative Require directive has no effect in <RequireAny>/.test(n.message))).toBe(true);
  });
  test('valid-user without credentials: 401 with AuthType, 500 without', () => {
    expect(at('AuthType Basic\nAuthName x\nRequire valid-user').status).toBe(401);
    expect(at('Require valid-user').status).toBe(500);
    expect(at('AuthType Basic\nAuthName x\nRequire user bob', { user: 'alice' }).status).toBe(401);
    const fof = at('AuthType Basic\nAuthName x\nRequire user bob\nAuthzSendForbiddenOnFailure On', { user: 'alice' });
    expect(fof.status).toBe(403);
    expect(fof.cause).toBe('A02');
  });
  test('<Limit> counts as GRANTED under AND and NEUTRAL under OR', () => {
    const lim = '<Limit POST>\nRequire all denied\n</Limit>';
    expect(at(lim).status).not.toBe(403);
    const post = at(lim, { method: 'POST' });
    expect(post.status).toBe(403);
    expect(post.cause).toBe('A10');
    // When every Require of the tree is limited to other methods, the top-level tree itself is
    // "limited to other methods" and apply_authz_sections returns GRANTED for it (parent op AND).
    expect(
      at('<RequireAny>\n<Limit POST>\nRequire all granted\n</Limit>\n<Limit PUT>\nRequire all denied\n</Limit>\n</RequireAny>').status,
    ).not.toBe(403);
    // But a limited member next to an unlimited one is NEUTRAL inside the OR: only the other decides.
    expect(at('<Limit POST>\nRequire all granted\n</Limit>\nRequire ip 10.0.0.1').status).toBe(403);
    expect(at('<Limit POST>\nRequire all granted\n</Limit>\nRequire ip 10.0.0.1', { method: 'POST' }).status).not.toBe(403);
    // LimitExcept GET: POST denied, GET (and HEAD) untouched.
    const le = '<LimitExcept GET>\nRequire all denied\n</LimitExcept>';
    expect(at(le, { method: 'HEAD' }).status).not.toBe(403);
    expect(at(le, { method: 'DELETE' }).status).toBe(403);
  });
  test('Require host is unknown without DNS and lists both outcomes', () => {
    const r = at('Require host example.com');
    expect(r.status).toBe(null);
    expect(r.unknowns.join(' ')).toMatch(/needs DNS/);
    expect(r.possibleOutcomes.map((p) => p.status).sort()).toContain(403);
  });

  test('AuthMerging Off drops, And combines, Or relaxes the inherited tree', () => {
    const m = model(`${BASE}
<Directory /srv/www/p>
    Require all denied
</Directory>
<Directory /srv/www/p/off>
    AuthMerging Off
</Directory>
<Directory /srv/www/p/and>
    AuthMerging And
    Require all granted
</Directory>
<Directory /srv/www/p/or>
    AuthMerging Or
    Require ip 127.0.0.1
</Directory>
<Directory /srv/www/p/replace>
    Require ip 127.0.0.1
</Directory>`);
    expect(sim(m, { uri: '/p/x/' }).status).toBe(403);
    expect(sim(m, { uri: '/p/off/x/' }).status).not.toBe(403);
    expect(sim(m, { uri: '/p/and/x/' }).status).toBe(403);
    expect(sim(m, { uri: '/p/or/x/' }).status).not.toBe(403);
    expect(sim(m, { uri: '/p/or/x/', clientIp: '127.0.0.2' }).status).toBe(403);
    expect(sim(m, { uri: '/p/replace/x/' }).status).not.toBe(403);
  });
});

describe('mod_access_compat', () => {
  test('address forms', () => {
    const t = (spec: string, ip: string) => subnetMatches(parseSubnet(spec)!, ip);
    expect(t('127.0.0', '127.0.0.8')).toBe(true);
    expect(t('127.0.0.', '127.0.1.8')).toBe(false);
    expect(t('127.0.0.0/255.255.255.0', '127.0.0.200')).toBe(true);
    expect(t('127.0.0.0/25', '127.0.0.200')).toBe(false);
    expect(t('::1', '::1')).toBe(true);
    expect(t('127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(parseSubnet('example.com')).toBe(null);
  });
  const at = (body: string, ip = '127.0.0.1', inner = '') => {
    const m = model(`${BASE}
<Directory /srv/www/c>
${body}
</Directory>
<Directory /srv/www/c/d>
${inner}
</Directory>`);
    return sim(m, { uri: inner ? '/c/d/' : '/c/', clientIp: ip });
  };
  test('Order semantics', () => {
    expect(at('Order deny,allow\nDeny from all\nAllow from 127.0.0.1').status).not.toBe(403);
    expect(at('Order allow,deny\nAllow from 127.0.0.1\nDeny from 127.0.0.1').status).toBe(403);
    expect(at('Order allow,deny').status).toBe(403);
    expect(at('Order deny,allow').status).not.toBe(403);
    expect(at('Order mutual-failure\nAllow from 127.0.0.0/8\nDeny from 127.0.0.5', '127.0.0.5').status).toBe(403);
    expect(at('Order mutual-failure\nAllow from 127.0.0.0/8\nDeny from 127.0.0.5', '127.0.0.6').status).not.toBe(403);
    const r = at('Deny from all');
    expect(r.status).toBe(403);
    expect(r.cause).toBe('A04');
    expect(r.decidedBy?.name).toBe('Deny');
  });
  test('a section using any of them replaces the inherited access_compat config', () => {
    // The child says only `Deny from 127.0.0.9`: Order resets to deny,allow and the parent's
    // `Deny from all` is gone, so 127.0.0.1 gets in.
    expect(at('Order allow,deny\nDeny from all', '127.0.0.1', 'Deny from 127.0.0.9').status).not.toBe(403);
    expect(at('Order allow,deny\nDeny from all', '127.0.0.1', 'Options +Indexes').status).toBe(403);
  });
  test('host names are unknown, never guessed; env= is evaluated when the config shows the value', () => {
    const r = at('Order allow,deny\nAllow from example.com');
    expect(r.status).toBe(null);
    expect(r.possibleOutcomes.length).toBeGreaterThan(1);
    // No directive sets variables here, so env= is decidable: not set.
    expect(at('Order allow,deny\nAllow from env=GOOD').status).toBe(403);
    // SetEnvIf is evaluated on the request (src/apache/model/sim/env.ts): no User-Agent, GOOD not set.
    const m = model(`${BASE}\nSetEnvIf User-Agent bot GOOD\n<Directory /srv/www/c>\nOrder allow,deny\nAllow from env=GOOD\n</Directory>`);
    expect(sim(m, { uri: '/c/' }).status).toBe(403);
    expect(sim(m, { uri: '/c/', headers: { 'User-Agent': 'a bot' } }).cause).not.toBe('A04');
    // A variable whose value the simulator cannot know (SetEnvIf on the server's address) stays unknown.
    const u = model(`${BASE}\nSetEnvIf Server_Addr ^10 GOOD\n<Directory /srv/www/c>\nOrder allow,deny\nAllow from env=GOOD\n</Directory>`);
    expect(sim(u, { uri: '/c/' }).status).toBe(null);
  });
  test('Satisfy Any lets access_compat alone grant', () => {
    const body = 'AuthType Basic\nAuthName x\nRequire valid-user\nOrder allow,deny\nAllow from 127.0.0.1\nSatisfy Any';
    expect(at(body).status).not.toBe(401);
    expect(at(body, '127.0.0.2').status).toBe(401);
    expect(at(body.replace('Satisfy Any', 'Satisfy All')).status).toBe(401);
  });
});

describe('merge order', () => {
  test('sections merge by depth, .htaccess after its level, regex, Files, then Location', () => {
    const text = `${BASE}
<Location /m>
    Require all granted
</Location>
<DirectoryMatch "^/srv/www/m/">
    Require all denied
</DirectoryMatch>
<Directory /srv/www/m/deep>
    Require all denied
</Directory>
<Directory /srv/www/m>
    AllowOverride AuthConfig
</Directory>
<Files secret.txt>
    Require all denied
</Files>`;
    const m = model(text);
    const fs = memFs({
      '/srv/www/m/deep/a.txt': {},
      '/srv/www/m/.htaccess': { text: 'Require all granted\n' },
      '/srv/www/x/secret.txt': {},
    });
    const r = sim(m, { uri: '/m/deep/a.txt', fs });
    const order = r.trace
      .filter((t) => t.phase === 'directory_walk' || t.phase === 'file_walk' || t.phase === 'location_walk')
      .map((t) => t.message.replace(/ applies.*| is read.*/, ''));
    expect(order).toEqual([
      '<Directory />',
      '<Directory /srv/www/>',
      '<Directory /srv/www/m/>',
      '/srv/www/m/.htaccess',
      '<Directory /srv/www/m/deep/>',
      '<DirectoryMatch ^/srv/www/m/>',
      '<Location /m>',
    ]);
    expect(r.status).toBe(200);
    expect(r.sections.map((x) => x.label)).toEqual([
      'server config',
      '<Directory />',
      '<Directory /srv/www/>',
      '<Directory /srv/www/m/>',
      '/srv/www/m/.htaccess',
      '<Directory /srv/www/m/deep/>',
      '<DirectoryMatch ^/srv/www/m/>',
      '<Location /m>',
    ]);
    expect(r.sections[1].directive?.span.start.line).toBe(2);
    const f = sim(model(text), { uri: '/x/secret.txt', fs });
    expect(f.status).toBe(403);
    expect(f.decidedBy?.source.text.slice(f.decidedBy.span.start.offset, f.decidedBy.span.end.offset)).toBe('Require all denied');
    expect(f.decidedBy?.span.start.line).toBe(text.split('\n').findIndex((l, i) => i > 20 && l.includes('Require all denied')) + 1);
  });
  test("main server sections come before a vhost's at the same depth", () => {
    const m = model(`${BASE}
<VirtualHost *:80>
    ServerName v.test
    <Directory /srv/www/q>
        Require all granted
    </Directory>
</VirtualHost>
<Directory /srv/www/q>
    Require all denied
</Directory>`);
    // The vhost's section is later in reorder_sorter even though it comes first in the file.
    expect(sim(m, { uri: '/q/', host: 'v.test', port: 80 }).status).not.toBe(403);
    expect(m.vhosts[0].directories.filter((d) => d.path === '/srv/www/q/').map((d) => d.owner)).toEqual([0, 1]);
  });
});

describe('.htaccess and AllowOverride', () => {
  const ov = (text: string, classes: string[], list: string[] = []) => {
    const f: ParsedFile = parseApache(new SourceFile('/x/.htaccess', text), { context: 'htaccess' });
    const d = f.nodes.find((n): n is Directive => n.type === 'directive')!;
    return checkOverride(
      d,
      { classes: new Set(classes), nonfatal: new Set(), optsAllowed: OPT_ALL, list: new Set(list) },
      new ModuleSet(['core', 'mod_authz_core', 'mod_rewrite', 'mod_access_compat', 'mod_dir', 'mod_alias']),
    );
  };
  test('directive → override class', () => {
    expect(ov('Require all denied', ['AuthConfig'])).toBe(null);
    expect(ov('Require all denied', ['Limit'])?.message).toBe('Require not allowed here');
    expect(ov('Order allow,deny', ['Limit'])).toBe(null);
    expect(ov('RewriteEngine On', ['FileInfo'])).toBe(null);
    expect(ov('DirectoryIndex a.html', ['FileInfo'])?.kind).toBe('not-allowed');
    expect(ov('DirectoryIndex a.html', ['Indexes'])).toBe(null);
    expect(ov('Options +Indexes', ['AuthConfig'])?.message).toBe('Options not allowed here');
    expect(ov('AllowOverride All', ['AuthConfig', 'FileInfo', 'Indexes', 'Limit', 'Options'])?.kind).toBe('not-allowed');
    expect(ov('Redirect 403 /x', [], ['redirect'])).toBe(null);
    expect(ov('FooBar 1', ['AuthConfig'])?.kind).toBe('unknown');
    // A directive of a module that is not loaded is "Invalid command" too.
    expect(ov('AuthType Basic', ['AuthConfig'])?.kind).toBe('unknown');
  });
  test('from .htaccess files given without a filesystem', () => {
    const m = model(`${BASE}\n<Directory /srv/www/h>\nAllowOverride AuthConfig\n</Directory>`);
    const ht = (t: string) => new Map([['/srv/www/h', parseApache(new SourceFile('/srv/www/h/.htaccess', t), { context: 'htaccess' })]]);
    expect(sim(m, { uri: '/h/', htaccess: ht('Require all denied\n') }).status).toBe(403);
    expect(sim(m, { uri: '/h/', htaccess: ht('Options +Indexes\n') }).status).toBe(500);
    const unknown = sim(m, { uri: '/h/' });
    expect(unknown.unknowns.join(' ')).toMatch(/AllowOverride lets \/srv\/www\/h\/.htaccess change the outcome/);
  });
  test('RewriteRule [P] in a .htaccess is proxied, not an internal redirect (which would loop into a 500)', () => {
    // apache-httpd-tests' modules/proxy/rewrite/.htaccess; real Apache 503 when the target refuses
    const m = model(
      `LoadModule proxy_module x.so\nLoadModule proxy_http_module y.so\nLoadModule rewrite_module z.so\n${BASE}\n<Directory /srv/www/p>\nAllowOverride FileInfo\n</Directory>`,
    );
    const ht = new Map([
      [
        '/srv/www/p',
        parseApache(new SourceFile('/srv/www/p/.htaccess', 'RewriteEngine on\nRewriteRule ^(.*)$ /modules/rewrite/$1 [P,L]\n'), {
          context: 'htaccess',
        }),
      ],
    ]);
    const r = sim(m, { uri: '/p/a.html', htaccess: ht });
    // the backend answers: unknown, never the 500 of an internal redirect loop
    expect(r.status).toBe(null);
    expect(r.message).toBe('proxied to /modules/rewrite/a.html');
  });
});

describe('a sample client inside an Allow/Require ip range', () => {
  test('the first host of a network, the address itself for a full one, and always inside the range', () => {
    const cases: Array<[string, string]> = [
      ['10.0.0.0/8', '10.0.0.1'],
      ['127.0.0.0/8', '127.0.0.1'],
      ['192.0.2.7', '192.0.2.7'],
      ['10.1', '10.1.0.1'],
      ['172.16.0.0/255.240.0.0', '172.16.0.1'],
      ['2001:db8::/32', '2001:db8:0:0:0:0:0:1'],
      ['::1', '0:0:0:0:0:0:0:1'],
    ];
    for (const [spec, ip] of cases) {
      const sub = parseSubnet(spec)!;
      expect(exampleClient(sub), spec).toBe(ip);
      expect(subnetMatches(sub, ip), spec).toBe(true);
    }
  });
});

describe('the port a request for the main server goes to', () => {
  test('a Listen port (80 without Listen lines) no virtual host answers on; none when every one has virtual hosts', () => {
    expect(mainServerPort(model(`Listen 8080\n${BASE}`))).toBe(8080);
    expect(
      mainServerPort(model(`Listen 127.0.0.1:80\nListen 8443 https\n<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n${BASE}`)),
    ).toBe(8443);
    expect(mainServerPort(model(`Listen 80\n<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n${BASE}`))).toBe(null);
    // no Listen line (a vhost file; Debian keeps Listen 80 in ports.conf): port 80, unless a vhost has it
    expect(mainServerPort(model(BASE))).toBe(80);
    expect(mainServerPort(model(`<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n${BASE}`))).toBe(null);
  });
});

describe('filesystem checks (in-memory disk)', () => {
  const text = `${BASE}
<Directory /srv/www/nolinks>
    Options None
</Directory>
<Directory /srv/www/owner>
    Options SymLinksIfOwnerMatch
</Directory>`;
  const fs = memFs({
    '/srv/www/target.txt': { uid: 0 },
    '/srv/www/nolinks/l.txt': { link: '/srv/www/target.txt' },
    '/srv/www/links.txt': { link: '/srv/www/target.txt' },
    '/srv/www/dangling.txt': { link: '/srv/www/none.txt' },
    '/srv/www/owner/mine.txt': { link: '/srv/www/target.txt', uid: 0 },
    '/srv/www/owner/theirs.txt': { link: '/srv/www/target.txt', uid: 1000 },
  });
  test('symlinks follow the Options of the containing directory (A11)', () => {
    const m = model(text);
    expect(sim(m, { uri: '/links.txt', fs }).status).toBe(200);
    const nl = sim(m, { uri: '/nolinks/l.txt', fs });
    expect(nl.status).toBe(403);
    expect(nl.cause).toBe('A11');
    expect(nl.decidedBy?.args[0].value).toBe('None');
    expect(sim(m, { uri: '/dangling.txt', fs }).cause).toBe('A11');
    expect(sim(m, { uri: '/owner/mine.txt', fs }).status).toBe(200);
    expect(sim(m, { uri: '/owner/theirs.txt', fs }).status).toBe(403);
  });
  test('without a filesystem the outcome lists what the disk could make it', () => {
    const r = sim(model(text), { uri: '/target.txt' });
    expect(r.status).toBe(null);
    expect(r.possibleOutcomes.map((p) => `${p.status}${p.cause ?? ''}`).sort()).toEqual(['200', '403A17', '404']);
  });
});

describe('regex translation', () => {
  test('PCRE constructs JavaScript would read differently are unknown', () => {
    expect(compilePcre('^/a(b|c)$').ok).toBe(true);
    expect(compilePcre('(?i)abc').ok).toBe(false);
    expect(compilePcre('a++').ok).toBe(false);
    expect(compilePcre('\\Aabc').ok).toBe(false);
    expect(compilePcre('[[:alpha:]]').ok).toBe(false);
  });
  test('fnmatch', () => {
    expect(fnmatch('/home/*/public_html/', '/home/bob/public_html/')).toBe(true);
    expect(fnmatch('/home/*/public_html/', '/home/a/b/public_html/')).toBe(false);
    expect(fnmatch('*.txt', 'a.txt', false)).toBe(true);
  });
});

describe('bad input', () => {
  test('deep nesting and garbage never throw', () => {
    const deep = '<RequireAll>\n'.repeat(3000) + 'Require all denied\n' + '</RequireAll>\n'.repeat(3000);
    const f = parseApache(new SourceFile('/etc/apache2/apache2.conf', `<Directory /srv>\n${deep}</Directory>\n`), { context: 'server' });
    const m = buildApacheModel({ server: 'apache', root: f, files: new Map([[f.source.path, f]]), errors: [] }, {});
    expect(() => simulate(m, { uri: '/srv/x' })).not.toThrow();
    const r = simulate(m, { uri: '\u0000%zz/../../..' });
    expect(r.status).toBe(400);
  });
});
