/**
 * mod_macro (src/apache/macro.ts): substitution as mod_macro.c does it, the loader reading each `Use`
 * as its expansion in place (rules, the model and explain see the expanded directives at the macro
 * body's lines), httpd's refusals word for word against `apache2 -t`, and no fix offered inside an
 * expansion. What real Apache answers for requests through macros: fixtures/explain/apache/macro
 * (test/explain-real.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { substituteLine } from '../src/apache/macro.js';
import { loadText } from '../src/load.js';
import { lint, type ResultMessage } from '../src/run.js';
import { walk } from '../src/walk.js';
import { modelFor } from '../src/model/index.js';
import { apacheT } from './harness/apache-t.js';
import { apacheSkipReason } from './harness/servers.js';

const load = (text: string) => loadText('/etc/apache2/apache2.conf', text, { server: 'apache' });

describe('substitution (mod_macro substitute_macro_args)', () => {
  it.each([
    ['DocumentRoot /srv/$dir', ['$dir'], ['www'], 'DocumentRoot /srv/www'],
    // the earliest occurrence first; at the same place the longest name
    ['X $ab $a', ['$a', '$ab'], ['1', '2'], 'X 2 1'],
    // names, not ${x}: `$a` also matches inside `$ax`
    ['X $ax', ['$a'], ['1'], 'X 1x'],
    // `@` parameters are quoted, `"` and `\` escaped
    ['<Files @f>', ['@f'], ['a "b" \\c'], '<Files "a \\"b\\" \\\\c">'],
    // the value is not searched again
    ['X $a', ['$a'], ['$a$a'], 'X $a$a'],
    ['X %p', ['%p'], [''], 'X '],
  ])('%s with %j = %j → %s', (line, params, values, want) => {
    expect(substituteLine(line, params, values)).toBe(want);
  });

  it('a substitution that outgrows httpd line buffer is an error, not an endless loop', () => {
    // each pass inserts the name again further on: httpd stops at MAX_STRING_LEN
    expect(substituteLine('X @a', ['@a'], ['x@a'])).toBe('X "x@a"');
    expect(substituteLine('@a '.repeat(3000), ['@a'], ['0123456789'])).toBeNull();
  });
});

describe('the loader reads Use as its expansion', () => {
  const text = [
    '<Macro VHost $name $dir>', // 1
    '  <VirtualHost *:80>', // 2
    '    ServerName $name', // 3
    '    DocumentRoot /srv/$dir', // 4
    '    <Directory /srv/$dir/private>', // 5
    '      Require all denied', // 6
    '    </Directory>', // 7
    '  </VirtualHost>', // 8
    '</Macro>', // 9
    'Use VHost a.example a', // 10
    'Use VHost b.example b', // 11
  ].join('\n');

  it('rules walk the expanded directives at the body lines, and the <Macro> body itself not at all', () => {
    const set = load(text);
    expect(set.errors).toEqual([]);
    const seen: string[] = [];
    walk(set, (n) => {
      if (n.type === 'directive' && n.key === 'documentroot') seen.push(`${n.args[0].value}@${n.span.start.line}:${n.span.start.column}`);
    });
    expect(seen).toEqual(['/srv/a@4:5', '/srv/b@4:5']);
  });

  it('the model has one virtual host per Use', () => {
    const m = modelFor(load(text));
    if (m.server !== 'apache') throw new Error('apache model expected');
    expect(m.tree.vhosts.map((v) => v.serverName)).toEqual(['a.example', 'b.example']);
    const denial = m.tree.vhosts[1].directories.find((d) => d.path === '/srv/b/private/');
    expect(denial?.directive.span.start.line).toBe(5);
  });

  it('a macro used in a macro expands; UndefMacro ends a macro; a later <Macro> replaces one', () => {
    const set = load(
      [
        '<Macro Deny $d>',
        '  <Directory $d>',
        '    Require all denied',
        '  </Directory>',
        '</Macro>',
        '<Macro Twice $x>',
        '  Use Deny /srv/$x/1',
        '  Use Deny /srv/$x/2',
        '</Macro>',
        'Use Twice t',
        'UndefMacro Twice',
        '<Macro Deny $d>',
        '  Define seen $d',
        '</Macro>',
        'Use Deny z',
      ].join('\n'),
    );
    expect(set.errors).toEqual([]);
    const dirs: string[] = [];
    const defines: string[] = [];
    walk(set, (n) => {
      if (n.type !== 'directive') return;
      if (n.key === 'directory') dirs.push(n.args[0].value);
      if (n.key === 'define') defines.push(n.args[1].value);
    });
    expect(dirs).toEqual(['/srv/t/1', '/srv/t/2']);
    expect(defines).toEqual(['z']);
  });

  it('no fix is offered inside an expansion, and the finding says which Use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-macro-'));
    try {
      const conf = join(dir, 'apache2.conf');
      // a legacy Order/Deny line has a fix when written directly (apache-legacy-access-control)
      const body = ['<Directory /srv/$d>', '  Order deny,allow', '  Deny from all', '</Directory>'];
      writeFileSync(conf, ['<Macro Old $d>', ...body, '</Macro>', 'Use Old x', ...body.map((l) => l.replace('$d', 'y'))].join('\n'));
      const run = await lint([conf], { noConfig: true, cwd: dir });
      const msgs = run.results.flatMap((r) => r.messages).filter((m) => m.ruleId === 'apache-legacy-access-control');
      const inMacro = msgs.filter((m) => m.line <= 5);
      const direct = msgs.filter((m) => m.line > 7);
      expect(direct.length).toBeGreaterThan(0);
      expect(direct.some((m) => m.fix)).toBe(true);
      expect(inMacro.length).toBeGreaterThan(0);
      for (const m of inMacro) {
        expect(m.fix).toBeUndefined();
        expect(m.message).toContain('(in macro Old as used at apache2.conf:7)');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Use in .htaccess files (mod_macro: EXEC_ON_READ | OR_ALL)', () => {
  /** A main config defining `Deny`, and a .htaccess under its DocumentRoot that uses it beside an Allow. */
  function tree(htaccess: string): { dir: string; conf: string; ht: string } {
    const dir = mkdtempSync(join(tmpdir(), 'why403-macro-ht-'));
    const conf = join(dir, 'apache2.conf');
    const ht = join(dir, 'htdocs', '.htaccess');
    writeFileSync(
      conf,
      [
        '<Macro Deny>',
        '    Require all denied',
        '</Macro>',
        `DocumentRoot ${dir}/htdocs`,
        `<Directory ${dir}/htdocs>`,
        '    AllowOverride All',
        '</Directory>',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'htdocs'));
    writeFileSync(ht, htaccess);
    return { dir, conf, ht };
  }
  const legacy = (msgs: ResultMessage[]) => msgs.filter((m) => m.ruleId === 'apache-legacy-access-control');

  it('linted with the config that defines the macro, the Use reads as its body: the legacy fix sees the Require it adds', async () => {
    const t = tree('Use Deny\nAllow from all\n');
    try {
      const run = await lint([t.conf, t.ht], { noConfig: true, cwd: t.dir });
      const msgs = run.results.find((r) => r.filePath === t.ht)?.messages ?? [];
      expect(msgs.filter((m) => m.ruleId === 'syntax-error')).toEqual([]);
      // as with `Require all denied` written in the file: the Require lines decide, the Allow goes
      expect(legacy(msgs).map((m) => m.message)).toEqual([expect.stringContaining('the Require lines in force decide alone')]);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it('linted alone, a macro the file does not define is said to be unknown and no fix is offered around it', async () => {
    const t = tree('Use Deny\nAllow from all\n');
    try {
      const run = await lint([t.ht], { noConfig: true, cwd: t.dir });
      const msgs = run.results.flatMap((r) => r.messages);
      const unknown = msgs.filter((m) => m.messageId === 'macro-unknown');
      expect(unknown.map((m) => `${m.line} ${m.severity}`)).toEqual(['1 warning']);
      expect(unknown[0]!.message).toContain("macro 'deny' is not defined in this file");
      const l = legacy(msgs);
      expect(l).toHaveLength(1);
      expect(l[0]!.fix).toBeUndefined();
      expect(l[0]!.message).toContain('`Use Deny` (line 1) was not expanded');
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it("a macro the file defines itself expands alone too; an undefined one is httpd's error once linked", async () => {
    const t = tree('<Macro Local>\n    Require all denied\n</Macro>\nUse Local\nUse Nope\n');
    try {
      const alone = (await lint([t.ht], { noConfig: true, cwd: t.dir })).results.flatMap((r) => r.messages);
      expect(alone.map((m) => `${m.line} ${m.messageId}`)).toEqual(['5 macro-unknown']);
      const linked = (await lint([t.conf, t.ht], { noConfig: true, cwd: t.dir })).results.find((r) => r.filePath === t.ht)?.messages ?? [];
      expect(linked.map((m) => `${m.line} ${m.severity} ${m.message}`)).toEqual(["5 error macro 'nope' undefined"]);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});

const skip = apacheSkipReason();
const dir = skip ? '' : mkdtempSync(join(tmpdir(), 'why403-macro-t-'));
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('what httpd refuses, against apache2 -t', () => {
  if (skip) console.warn(`skipped apache2 -t comparison: ${skip}`);
  const MODULES = ['mpm_event', 'authz_core', 'macro'];
  /** [config body, httpd's message or null when it accepts] */
  const CASES: Array<[string, string | null]> = [
    ['Use X a', 'no macro defined before Use'],
    ['<Macro X $a>\nDefine Y $a\n</Macro>\nUse X', 'used with 0 arguments instead of 1'],
    ['<Macro X $a>\nUse X $a\n</Macro>\nUse X 1', "recursive use of macro 'x' is invalid"],
    ['<Macro X $a>\nDefine Y $a\n</Macro>\nUndefMacro X\nUse X 1', "macro 'x' undefined"],
    ['<Macro X $a>\nDefine Y $a\n</Macro>\nUndefMacro Z', "cannot remove undefined macro 'z'"],
    ['UndefMacro Z', 'no macro defined before UndefMacro'],
    ['<Macro X $a $a>\nDefine Y $a\n</Macro>', "argument name conflict in macro 'x'"],
    ['<Macro X @a>\n<Files @a>\nRequire all denied\n</Files>\n</Macro>\nUse X "b\\"c"', null],
    ['<Macro X $a>\n<Directory /srv/$a>\nRequire all denied\n</Directory>\n</Macro>\nUse X one\nUse x two', null],
  ];
  it.skipIf(!!skip).each(CASES)('%s', (body, message) => {
    const real = apacheT(dir, 'httpd.conf', MODULES, body);
    const ours = load(body).errors.filter((e) => e.code === 'macro');
    if (message === null) {
      expect(real.ok, real.out).toBe(true);
      expect(ours).toEqual([]);
    } else {
      expect(real.ok).toBe(false);
      expect(real.out).toContain(message);
      expect(ours.map((e) => e.message).join('\n')).toContain(message);
    }
  });
});
