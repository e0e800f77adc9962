import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Directive, Node, ParsedFile } from '../src/ast.js';
import { parseApache, type ApacheContext } from '../src/apache/parser.js';
import { expandVars, expandVarsDetailed } from '../src/apache/vars.js';
import { SourceFile } from '../src/source.js';
import { MAX_NESTING } from '../src/walk.js';

const parse = (text: string, context: ApacheContext = 'server'): ParsedFile =>
  parseApache(new SourceFile('/t/test.conf', text), { context });
const dirs = (nodes: Node[]): Directive[] => nodes.filter((n): n is Directive => n.type === 'directive');
const at = (s: { start: { line: number; column: number }; end: { line: number; column: number } }) =>
  `${s.start.line}:${s.start.column}-${s.end.line}:${s.end.column}`;
const errs = (f: ParsedFile, sev: 'error' | 'warning' | 'all' = 'error') =>
  f.errors
    .filter((e) => sev === 'all' || e.severity === sev)
    .map((e) => `${e.span.start.line}:${e.span.start.column} ${e.code}: ${e.message}`);

describe('lines, comments, continuations', () => {
  it('splits words with exact spans and keeps a `#` after a directive as arguments', () => {
    const f = parse('  Require all   denied # not a comment\n');
    const [d] = dirs(f.nodes);
    expect(d.name).toBe('Require');
    expect(d.key).toBe('require');
    expect(d.args.map((a) => a.value)).toEqual(['all', 'denied', '#', 'not', 'a', 'comment']);
    expect(at(d.nameSpan)).toBe('1:3-1:10');
    expect(at(d.args[1].span)).toBe('1:17-1:23');
    expect(at(d.span)).toBe('1:3-1:39');
    expect(f.errors).toEqual([]);
  });

  it('reads whole-line comments only, with text after the #', () => {
    const f = parse('# top\n\t  #indented\nOptions -Indexes\n');
    expect(f.nodes.map((n) => n.type)).toEqual(['comment', 'comment', 'directive']);
    const c = f.nodes[1];
    expect(c.type === 'comment' && c.text).toBe('indented');
    expect(at(c.span)).toBe('2:4-2:13');
  });

  it('joins a line ending in a backslash with the next, keeping original positions', () => {
    const f = parse('Require \\\n    ip 10.0.0.1 \\\r\n  192.168.0.0/16\nAllow from all\n');
    const [d, e] = dirs(f.nodes);
    expect(d.args.map((a) => a.value)).toEqual(['ip', '10.0.0.1', '192.168.0.0/16']);
    expect(at(d.args[0].span)).toBe('2:5-2:7');
    expect(at(d.args[2].span)).toBe('3:3-3:17');
    expect(at(d.span)).toBe('1:1-3:17');
    expect(e.name).toBe('Allow');
    expect(at(e.nameSpan)).toBe('4:1-4:6');
  });

  it('gives an argument split by a continuation a span across lines and its exact raw text', () => {
    const f = parse('Header set X "a\\\nb"\n');
    const [d] = dirs(f.nodes);
    const a = d.args[2];
    expect(a.value).toBe('ab');
    expect(a.raw).toBe('"a\\\nb"');
    expect(at(a.span)).toBe('1:14-2:3');
  });

  it('lets a comment swallow the line a backslash joins to it, as httpd does', () => {
    const f = parse('# Require all denied \\\nRequire all granted\nOptions None\n');
    expect(f.nodes.map((n) => n.type)).toEqual(['comment', 'directive']);
    expect(f.nodes[0].type === 'comment' && f.nodes[0].text).toBe(' Require all denied Require all granted');
    expect((f.nodes[1] as Directive).name).toBe('Options');
  });

  it('keeps a backslash at the end of a file without a final line feed', () => {
    const [d] = dirs(parse('SetEnv A b\\').nodes);
    expect(d.args.map((a) => a.value)).toEqual(['A', 'b\\']);
    const [e] = dirs(parse('SetEnv A b\\\n').nodes);
    expect(e.args.map((a) => a.value)).toEqual(['A', 'b']);
  });

  it('reports a leading UTF-8 BOM as apache2 -t does (Invalid command on line 1), positions unchanged', () => {
    const bytes = Buffer.from('\ufeff# hi\nRequire all granted\n');
    const f = parseApache(SourceFile.fromBytes('/t/.htaccess', bytes), { context: 'directory' });
    expect(errs(f)).toEqual([
      "1:1 bom: the file starts with a UTF-8 byte order mark, which httpd reads as part of the first line (Invalid command '\\xef\\xbb\\xbf#'): save it without the BOM",
    ]);
    expect(at(dirs(f.nodes)[0].nameSpan)).toBe('2:1-2:8');
    expect(errs(parseApache(SourceFile.fromBytes('/t/.htaccess', bytes.subarray(3)), { context: 'directory' }))).toEqual([]);
  });
  it('counts columns in UTF-16 code units and handles CRLF and tabs', () => {
    const f = parse('Header\tset X-Ünï 😀v\r\nOptions None\r\n');
    const [d, e] = dirs(f.nodes);
    expect(at(d.args[2].span)).toBe('1:18-1:21'); // 😀 is two code units
    expect(d.args[2].value).toBe('😀v');
    expect(at(e.span)).toBe('2:1-2:13');
  });
});

describe('quotes and escapes (ap_getword_conf)', () => {
  it('processes \\\\ and \\<quote> inside quotes and keeps other backslashes', () => {
    const [d] = dirs(parse(String.raw`X "a \"b\" c" 'it\'s' "p\d\\q" u\\v w\"x`).nodes);
    expect(d.args.map((a) => a.value)).toEqual(['a "b" c', "it's", 'p\\d\\q', 'u\\v', 'w\\"x']);
    expect(d.args.map((a) => a.quote)).toEqual(['"', "'", '"', null, null]);
    expect(d.args[0].raw).toBe(String.raw`"a \"b\" c"`);
  });

  it('ends a quoted word at its closing quote even without a blank after it', () => {
    const [d] = dirs(parse('X "a"b c"d e"\n').nodes);
    expect(d.args.map((a) => a.value)).toEqual(['a', 'b', 'c"d', 'e"']);
    expect(at(d.args[1].span)).toBe('1:6-1:7');
  });

  it('takes the rest of the line for a quote that is never closed, with a warning at the quote', () => {
    const f = parse('ErrorDocument 403 "Forbidden here\n');
    const [d] = dirs(f.nodes);
    expect(d.args.map((a) => a.value)).toEqual(['403', 'Forbidden here']);
    expect(errs(f, 'warning')).toEqual([
      '1:19 unterminated-quote: missing closing " quote: Apache takes the rest of the line as this argument',
    ]);
  });

  it('keeps ${VAR} raw and expands it on request as ap_resolve_env does', () => {
    const [d] = dirs(parse('ErrorLog ${APACHE_LOG_DIR}/error.log\n').nodes);
    expect(d.args[0].raw).toBe('${APACHE_LOG_DIR}/error.log');
    expect(expandVars(d.args[0].value, { APACHE_LOG_DIR: '/var/log/apache2' })).toBe('/var/log/apache2/error.log');
    expect(expandVarsDetailed('${NOPE}/x ${map:key} $HOME ${D?=dflt}', {})).toEqual({
      value: '${NOPE}/x ${map:key} $HOME dflt',
      undefined: ['NOPE'],
    });
  });
});

describe('sections', () => {
  it('nests sections, case-insensitively closed, with name/key/spans', () => {
    const f = parse('<Directory "/var/www">\n  <FILES ~ "\\.php$">\n    Require all denied\n  </files>\n</DIRECTORY>\n');
    expect(f.errors).toEqual([]);
    const [dir] = dirs(f.nodes);
    expect(dir.section).toBe(true);
    expect(dir.name).toBe('Directory');
    expect(dir.key).toBe('directory');
    expect(dir.args.map((a) => a.value)).toEqual(['/var/www']);
    expect(dir.args[0].raw).toBe('"/var/www"');
    expect(at(dir.nameSpan)).toBe('1:2-1:11');
    expect(at(dir.blockSpan!)).toBe('1:1-5:13');
    expect(at(dir.span)).toBe('1:2-5:13');
    const [files] = dirs(dir.block!);
    expect(files.name).toBe('FILES');
    expect(files.key).toBe('files');
    expect(files.args.map((a) => a.value)).toEqual(['~', '\\.php$']);
    expect(at(files.blockSpan!)).toBe('2:3-4:11');
    expect(dirs(files.block!)[0].name).toBe('Require');
  });

  it('handles <Name> without arguments and text after the last >', () => {
    const f = parse('<RequireAll>\nRequire ip 127.0.0.1\n</RequireAll>\n<IfModule a.c> junk\n</IfModule>\n');
    const [ra, ifm] = dirs(f.nodes);
    expect(ra.args).toEqual([]);
    expect(ifm.args.map((a) => a.value)).toEqual(['a.c']);
    expect(errs(f, 'all')).toEqual(["4:16 text-after-section: text after the '>' of <IfModule> is ignored by Apache"]);
  });

  it('ends section arguments at the last > of the line (a > inside an expression stays)', () => {
    const [d] = dirs(parse('<If "%{QUERY_STRING} =~ /a>b/">\n</If>\n').nodes);
    expect(d.args.map((a) => a.value)).toEqual(['%{QUERY_STRING} =~ /a>b/']);
  });

  it('keeps an unknown section as an opaque block with its children parsed', () => {
    const f = parse('<Frobnicate x y>\n  Require all denied\n</Frobnicate>\n');
    const [d] = dirs(f.nodes);
    expect(d.section).toBe(true);
    expect(d.name).toBe('Frobnicate');
    expect(dirs(d.block!).map((x) => x.name)).toEqual(['Require']);
    // apache2 -t: AH00526 Invalid command '<Frobnicate', …: httpd refuses to start
    expect(errs(f)).toEqual([
      "1:1 unknown-directive: Invalid command '<Frobnicate', perhaps misspelled or defined by a module not included in the server configuration (apache2 refuses to start; if it comes from a module why403 does not know, add it to settings.apacheDirectives in .why403.json)",
    ]);
    expect(errs(f, 'warning')).toEqual([]);
  });

  it('parses If/ElseIf/Else, Require containers, Limit and Macro', () => {
    const src = [
      '<If "-R \'10.0.0.0/8\'">',
      '  Require all granted',
      '</If>',
      '<ElseIf "true">',
      '</ElseIf>',
      '<Else>',
      '  <RequireAll>',
      '    Require all granted',
      '    <RequireNone>',
      '      Require ip 1.2.3.4',
      '    </RequireNone>',
      '  </RequireAll>',
      '</Else>',
      '<LimitExcept GET POST>',
      '  Require valid-user',
      '</LimitExcept>',
      '<Macro VHost $name>',
      '  ServerName $name',
      '</Macro>',
      '',
    ].join('\n');
    const f = parse(src);
    expect(f.errors).toEqual([]);
    expect(dirs(f.nodes).map((d) => d.key)).toEqual(['if', 'elseif', 'else', 'limitexcept', 'macro']);
  });

  it('reports a mismatched closing tag with httpd words at the tag, and recovers', () => {
    const f = parse('<Directory /a>\n  <Files x>\n  </Directory>\nRequire all denied\n');
    expect(errs(f)).toEqual(['3:3 mismatched-close: Expected </Files> but saw </Directory>']);
    const [dir, req] = dirs(f.nodes);
    expect(dir.key).toBe('directory');
    expect(at(dir.blockSpan!)).toBe('1:1-3:15');
    expect(req.name).toBe('Require'); // back at top level
  });

  it('uses the canonical section spelling in messages, as httpd does', () => {
    expect(errs(parse('<directory /a>\n</files>\n</directory>\n'))).toEqual([
      '2:1 mismatched-close: Expected </Directory> but saw </files>',
    ]);
  });

  it('reports a closing tag without an open section', () => {
    expect(errs(parse('Options None\n</Files>\n'))).toEqual(['2:1 unmatched-close: </Files> without matching <Files> section']);
  });

  it('reports sections never closed at their opening tag, innermost first', () => {
    const f = parse('<VirtualHost *:80>\n  <Location /x>\n    Require all denied\n');
    expect(errs(f)).toEqual(['2:3 unclosed-section: <Location> was not closed.', '1:1 unclosed-section: <VirtualHost> was not closed.']);
    const [vh] = dirs(f.nodes);
    expect(vh.blockSpan!.end.offset).toBe(f.source.text.length);
  });

  it('makes an unclosed conditional section a warning (httpd reads it to the end of the file)', () => {
    const f = parse('<IfModule mod_ssl.c>\n<VirtualHost *:443>\n</VirtualHost> </IfModule>\n');
    expect(errs(f)).toEqual([]);
    expect(f.errors.map((e) => [e.code, e.severity])).toEqual([
      ['text-after-section', 'warning'],
      ['unclosed-section', 'warning'],
    ]);
  });

  it('reports a missing > and missing section arguments', () => {
    expect(errs(parse('<Directory /var/www\n</Directory>\n'))).toEqual([
      "1:1 section-missing-gt: <Directory> directive missing closing '>'",
    ]);
    expect(errs(parse('<Files>\n</Files>\n'))).toEqual(['1:1 section-missing-args: <Files> directive requires additional arguments']);
    expect(errs(parse('<Files x>\n</Files\n'))).toEqual(["2:1 section-missing-gt: </Files> directive missing closing '>'"]);
  });

  it('does not flag unknown directives inside conditional sections httpd skips', () => {
    const f = parse('<IfModule mod_security2.c>\n  SecRuleEngine On\n</IfModule>\nSecRuleEngine On\n');
    expect(errs(f).map((e) => e.slice(0, 110))).toEqual([
      "4:1 unknown-directive: Invalid command 'SecRuleEngine', perhaps misspelled or defined by a module not included",
    ]);
    // <IfModule> of a Debian module holds (every Debian module is taken as loaded): its body is read
    const g = parse(
      '<IfModule mod_rewrite.c>\nRewriteEngien On\n</IfModule>\n<IfModule !rewrite_module>\nRewriteEngien On\n</IfModule>\n<IfDefine X>\nFoo\n</IfDefine>\n',
    );
    expect(errs(g).map((e) => e.slice(0, 60))).toEqual(["2:1 unknown-directive: Invalid command 'RewriteEngien', perh"]);
    // settings.apacheModules decides instead
    const h = parseApache(new SourceFile('/t/x.conf', '<IfModule mod_rewrite.c>\nRewriteEngien On\n</IfModule>\n'), { modules: ['alias'] });
    expect(h.errors).toEqual([]);
  });

  it('survives 100k nested sections without recursion; keeps MAX_NESTING levels and says so', () => {
    const depth = 100_000;
    const text = '<IfModule x>\n'.repeat(depth) + 'Require all denied\n' + '</IfModule>\n'.repeat(depth);
    const f = parse(text);
    expect(errs(f)).toEqual([
      `${MAX_NESTING}:1 too-deep: nesting deeper than 200 levels is not analysed: the contents of this <IfModule> section are skipped`,
    ]);
    let d = dirs(f.nodes)[0];
    let k = 1;
    while (d.block && d.block.length > 0 && dirs(d.block)[0].section) {
      d = dirs(d.block)[0];
      k++;
    }
    expect(k).toBe(MAX_NESTING);
  });
});

describe('limits and odd input', () => {
  it('reports a .htaccess line longer than httpd reads (8190 bytes) but not in server config', () => {
    const long = 'Header set X ' + 'a'.repeat(9000) + '\n';
    const h = parseApache(new SourceFile('/t/.htaccess', long), { context: 'htaccess' });
    expect(h.errors.map((e) => e.code)).toEqual(['line-too-long']);
    expect(h.errors[0].message).toContain('Line too long');
    expect(parse(long).errors).toEqual([]);
  });

  it('parses a 10 MB line', () => {
    const f = parse('SetEnvIf Host ' + 'x'.repeat(10 * 1024 * 1024) + '\nOptions None\n');
    const [a, b] = dirs(f.nodes);
    expect(a.args[1].value.length).toBe(10 * 1024 * 1024);
    expect(b.nameSpan.start.line).toBe(2);
  });

  it('records context and htaccessDir', () => {
    const f = parseApache(new SourceFile('/srv/www/.htaccess', 'Require all denied\n'), { context: 'htaccess', htaccessDir: '/srv/www' });
    expect(f.context).toBe('htaccess');
    expect(f.htaccessDir).toBe('/srv/www');
    expect(f.server).toBe('apache');
  });

  it('keeps stray < and > as something sensible', () => {
    const f = parse('<\n>\n<>\nRequire >\n');
    expect(() => f).not.toThrow();
    for (const e of f.errors) expect(e.span.start.offset).toBeLessThanOrEqual(f.source.text.length);
    expect(errs(f).some((e) => e.includes('bad-section'))).toBe(true);
  });
});

describe('foreign syntax', () => {
  it('warns about name = value lines (Config::General style)', () => {
    const f = parse('User = tom\nRewriteCond %{HTTP_HOST} = x\n');
    expect(errs(f, 'warning')).toEqual([
      "1:6 assignment-syntax: 'User = …' is not Apache httpd syntax: httpd takes '=' as the first argument of User (write 'User value')",
    ]);
  });
});

describe('regressions', () => {
  it('keeps positions right for a continuation at the very end of the file', () => {
    const f = parse('Options None\nFoo bar \\\n');
    const d = dirs(f.nodes)[1];
    expect(at(d.nameSpan)).toBe('2:1-2:4');
    expect(at(d.args[0].span)).toBe('2:5-2:8');
    expect(at(f.errors[0].span)).toBe('2:1-2:4');
  });
});

describe('fixtures/parse/apache snapshots', () => {
  /** One line per node: position, kind, name, args as values (JSON), and the diagnostics. */
  function dump(f: ParsedFile): string {
    const out: string[] = [];
    const stack: { n: Node; depth: number }[] = [...f.nodes].reverse().map((n) => ({ n, depth: 0 }));
    while (stack.length > 0) {
      const { n, depth } = stack.pop()!;
      const pad = '  '.repeat(depth);
      if (n.type === 'comment') out.push(`${pad}${at(n.span)} # ${JSON.stringify(n.text)}`);
      else {
        const args = n.args.map((a) => `${JSON.stringify(a.value)}@${at(a.span)}`).join(' ');
        out.push(`${pad}${at(n.span)} ${n.section ? '<' + n.name + '>' : n.name} [${n.key}] ${args}`);
        if (n.block) for (const c of [...n.block].reverse()) stack.push({ n: c, depth: depth + 1 });
      }
    }
    for (const e of f.errors) out.push(`! ${at(e.span)} ${e.severity} ${e.code}: ${e.message}`);
    return out.join('\n') + '\n';
  }
  for (const name of ['tour.conf', 'errors.conf']) {
    it(name, async () => {
      const p = join(__dirname, '../fixtures/parse/apache', name);
      const f = parseApache(new SourceFile(p, readFileSync(p, 'utf8')));
      await expect(dump(f)).toMatchFileSnapshot(`../fixtures/parse/apache/${name}.snap`);
    });
  }
});
