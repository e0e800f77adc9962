import { describe, expect, it } from 'vitest';
import type { Directive, Node } from '../src/ast.js';
import { tokenize, unescapeNginx } from '../src/nginx/lexer.js';
import { inferNginxContext, parseNginx } from '../src/nginx/parser.js';
import { arityOk, lookupDirective, specIn, CTX } from '../src/nginx/directives.js';
import { SourceFile } from '../src/source.js';
import { MAX_NESTING } from '../src/walk.js';

const src = (t: string) => new SourceFile('/t/nginx.conf', t);
const parse = (t: string, context = 'main') => parseNginx(src(t), { context });
const dirs = (nodes: Node[]) => nodes.filter((n): n is Directive => n.type === 'directive');
const errs = (t: string, context = 'main') =>
  parse(t, context).errors.map((e) => `${e.span.start.line}:${e.span.start.column} ${e.code} ${e.message}`);
const pos = (p: { line: number; column: number; offset: number }) => `${p.line}:${p.column}@${p.offset}`;

describe('nginx lexer', () => {
  it('gives exact spans for names and arguments', () => {
    const f = parse('events {}\nhttp {\n  server_name  a.example "b c";\n}\n', 'server');
    const http = dirs(f.nodes)[1]; // `events`/`http` are not allowed in server: only the spans matter here
    const sn = dirs(http.block!)[0];
    expect(pos(sn.nameSpan.start)).toBe('3:3@19');
    expect(pos(sn.nameSpan.end)).toBe('3:14@30');
    expect(sn.args.map((a) => [a.value, a.raw, a.quote, pos(a.span.start), pos(a.span.end)])).toEqual([
      ['a.example', 'a.example', null, '3:16@32', '3:25@41'],
      ['b c', '"b c"', '"', '3:26@42', '3:31@47'],
    ]);
    expect(pos(sn.span.end)).toBe('3:32@48'); // after the `;`
    expect(pos(http.blockSpan!.start)).toBe('2:6@15');
    expect(pos(http.span.end)).toBe('4:2@50'); // after the `}`
    expect(f.errors.map((e) => e.code)).toEqual(['not-allowed-here', 'not-allowed-here']);
  });

  it('counts columns in UTF-16 code units', () => {
    const d = dirs(parse('add_header X "é😀" always;', 'server').nodes)[0];
    expect(d.args[1].value).toBe('é😀');
    expect(pos(d.args[2].span.start)).toBe('1:20@19'); // é = 1 unit, 😀 = 2 units
  });

  it('unescapes as nginx does, in and out of quotes', () => {
    expect(unescapeNginx('a\\"b')).toBe('a"b');
    expect(unescapeNginx("it\\'s")).toBe("it's");
    expect(unescapeNginx('\\\\')).toBe('\\');
    expect(unescapeNginx('\\t\\r\\n')).toBe('\t\r\n');
    expect(unescapeNginx('\\d+\\.php$')).toBe('\\d+\\.php$');
    expect(unescapeNginx('\\\\d')).toBe('\\d');
    const t = tokenize(src('set $a "x\\"y" \'p\\\'q\' a\\;b;')).tokens;
    expect(t.map((x) => x.value)).toEqual(['set', '$a', 'x"y', "p'q", 'a\\;b', ';']);
    expect(t[2].raw).toBe('"x\\"y"');
  });

  it('keeps ${var}, foo}, a#b and a"b" as single words', () => {
    const t = tokenize(src('x ${var}/a foo} a#b a"b";')).tokens;
    expect(t.map((x) => x.raw)).toEqual(['x', '${var}/a', 'foo}', 'a#b', 'a"b"', ';']);
    expect(t[4].quote).toBe(null);
  });

  it('does not end quoted strings at braces or semicolons', () => {
    const t = tokenize(src('return 200 "{ } ;";')).tokens;
    expect(t.map((x) => x.value)).toEqual(['return', '200', '{ } ;', ';']);
  });

  it('wants whitespace, ;, { or ) after a closing quote (nginx: unexpected "-")', () => {
    expect(tokenize(src('a "b"-c;')).errors.map((e) => `${pos(e.span.start)} ${e.message}`)).toEqual(['1:6@5 unexpected "-"']);
    expect(tokenize(src('if ("$a") {}')).errors).toEqual([]);
    expect(tokenize(src('a "b"#c\n;')).errors.map((e) => e.message)).toEqual(['unexpected "#"']);
  });

  it('keeps comments with positions and marks trailing ones', () => {
    const f = parse('# head\nuser www; # who\n  # alone\r\nevents {} # end');
    const c = f.nodes.filter((n) => n.type === 'comment');
    expect(c.map((n) => [n.type === 'comment' && n.text, n.type === 'comment' && n.trailing, pos(n.span.start), pos(n.span.end)])).toEqual([
      [' head', false, '1:1@0', '1:7@6'],
      [' who', true, '2:11@17', '2:16@22'],
      [' alone', false, '3:3@25', '3:10@32'], // the CR is not part of it
      [' end', true, '4:11@44', '4:16@49'],
    ]);
  });

  it('keeps a comment inside a directive before that directive, in reading order', () => {
    const f = parse('log_format main # the name\n  "$remote_addr";', 'http');
    expect(f.nodes.map((n) => n.type)).toEqual(['directive', 'comment']);
    expect(dirs(f.nodes)[0].args.map((a) => a.value)).toEqual(['main', '$remote_addr']);
  });

  it('handles CRLF and a BOM', () => {
    const bytes = Buffer.from('\ufeffevents {}\r\nhttp {\r\n  server {}\r\n}\r\n');
    const s = SourceFile.fromBytes('/t/bom.conf', bytes);
    const f = parseNginx(s, { context: 'main' });
    const server = dirs(dirs(f.nodes)[1].block!)[0];
    expect(pos(dirs(f.nodes)[0].nameSpan.start)).toBe('1:1@0');
    expect(pos(server.nameSpan.start)).toBe('3:3@21');
    // nginx 1.22 -t: unknown directive "\xEF\xBB\xBFevents" — nginx does not skip a BOM
    expect(f.errors.map((e) => `${e.code} ${e.span.start.line}:${e.span.start.column} ${e.severity}`)).toEqual(['bom 1:1 error']);
    expect(f.errors[0].message).toContain('unknown directive "\\xEF\\xBB\\xBFevents"');
    expect(parseNginx(SourceFile.fromBytes('/t/no-bom.conf', bytes.subarray(3)), { context: 'main' }).errors).toEqual([]);
  });

  it('survives bytes that are not UTF-8 and keeps positions right', () => {
    const bytes = Buffer.concat([
      Buffer.from('# caf'),
      Buffer.from([0xe9]),
      Buffer.from('\nuser "w'),
      Buffer.from([0xff]),
      Buffer.from('x" y;\nevents {}\n'),
    ]);
    const s = SourceFile.fromBytes('/t/latin1.conf', bytes);
    const f = parseNginx(s, { context: 'main' });
    const user = dirs(f.nodes)[0];
    expect(user.args[0].value).toBe('w\udcffx');
    expect(pos(user.args[1].span.start)).toBe('2:12@18'); // the bad byte is one unit
    expect(f.errors).toEqual([]);
  });

  it('takes *_by_lua_block bodies raw, aware of Lua strings, comments and long brackets', () => {
    const lua =
      'content_by_lua_block {\n  local s = "}" .. \'{\' -- }\n  local t = [==[ } ]==] --[[ { ]]\n  if x then y = { 1 } end\n}\nreturn 200;';
    const f = parse(lua, 'location');
    const [d, r] = dirs(f.nodes);
    expect(d.rawBody).toBe('\n  local s = "}" .. \'{\' -- }\n  local t = [==[ } ]==] --[[ { ]]\n  if x then y = { 1 } end\n');
    expect(d.block).toEqual([]);
    const close = lua.indexOf('}\nreturn');
    expect(pos(d.blockSpan!.end)).toBe(`5:2@${close + 1}`);
    expect(pos(r.nameSpan.start)).toBe(`6:1@${close + 2}`);
    expect(f.errors).toEqual([]);
  });
});

describe('nginx parser errors, in nginx words, and recovery', () => {
  it('unexpected "}" for a missing semicolon, keeping the directive', () => {
    const f = parse('events {}\nhttp {\n  server {\n    listen 80\n  }\n}\n');
    expect(f.errors.map((e) => `${e.span.start.line}:${e.span.start.column} ${e.message}`)).toEqual(['5:3 unexpected "}"']);
    const listen = dirs(dirs(dirs(f.nodes)[1].block!)[0].block!)[0];
    expect(listen.name).toBe('listen');
    expect(listen.args.map((a) => a.value)).toEqual(['80']);
  });

  it('unexpected "}" at top level, unexpected ";" and "{" without a name', () => {
    expect(errs('events {}\n}\n;\n')).toEqual(['2:1 unexpected-brace unexpected "}"', '3:1 unexpected-semicolon unexpected ";"']);
    expect(errs('events {}\n{ user x; }\n')).toEqual(['2:1 unexpected-brace unexpected "{"']);
  });

  it('unexpected end of file inside a directive, a block and a quote', () => {
    expect(errs('http {\n    server {\n        listen')).toEqual(['3:15 unexpected-eof unexpected end of file, expecting ";" or "}"']);
    expect(errs('events {}\nhttp {\n')).toEqual(['3:1 unexpected-eof unexpected end of file, expecting "}"']);
    expect(errs('events {}\nuser "www\n;\n')).toEqual(['4:1 unexpected-eof unexpected end of file, expecting ";" or "}"']);
  });

  it('block directive without a block, simple directive with a block', () => {
    expect(errs('server "some";', 'http')).toEqual(['1:1 no-opening-brace directive "server" has no opening "{"']);
    expect(errs('return 200 { }', 'location')).toEqual(['1:1 not-terminated directive "return" is not terminated by ";"']);
  });

  it('context and arity, with the table of nginx-full', () => {
    expect(errs('events {}\nlisten 80;')).toEqual(['2:1 not-allowed-here "listen" directive is not allowed here']);
    expect(errs('events {}\nuser;')).toEqual(['2:1 invalid-args invalid number of arguments in "user" directive']);
    expect(errs('events {}\nhttp { server { location / { allow; } } }')).toEqual([
      '2:30 invalid-args invalid number of arguments in "allow" directive',
    ]);
    // `server` inside upstream is a simple directive with 1 or more arguments
    expect(errs('upstream u { server 127.0.0.1:9000 weight=2; }', 'http')).toEqual([]);
    expect(errs('limit_except GET { deny all; }', 'location')).toEqual([]);
    expect(errs('if ($a) { return 403; }', 'location')).toEqual([]);
    // access directives have no NGX_HTTP_LIF_CONF bit: nginx -t rejects `deny` inside `if`
    expect(errs('if ($a) { deny all; }', 'location')).toEqual(['1:11 not-allowed-here "deny" directive is not allowed here']);
  });

  it('keeps the directives of known third-party module namespaces without an error', () => {
    const f = parse('more_set_headers "Server: x";\nlua_shared_dict d 1m;', 'http');
    expect(f.errors).toEqual([]);
    expect(dirs(f.nodes).map((d) => d.name)).toEqual(['more_set_headers', 'lua_shared_dict']);
  });

  it('makes an unknown directive an error, as nginx -t does, with the closest known name', () => {
    const w = parseNginx(src('server {\n  location / { retrun 403; }\n}'), { context: 'http' }).errors;
    expect(w.map((e) => [e.code, e.severity, e.span.start.line, e.span.start.column])).toEqual([['unknown-directive', 'error', 2, 16]]);
    expect(w[0].message).toBe(
      'unknown directive "retrun": did you mean "return"? (nginx refuses to start; if it comes from a module why403 does not know, add it to settings.nginxDirectives in .why403.json)',
    );
    // declared (settings.nginxDirectives): known, its block's body is checked for names only
    const d = parseNginx(src('vts_zone x { retrun 1; allow 1.2.3.4; }\nvts_status;'), {
      context: 'http',
      extraDirectives: ['vts_zone', 'vts_status'],
    });
    expect(d.errors.map((e) => e.message.slice(0, 26))).toEqual(['unknown directive "retrun"']);
    // an unknown block: nginx stops at its name, so one error, not one per nested name
    expect(parseNginx(src('a { b { c; } }'), { context: 'http' }).errors.map((e) => e.message.slice(0, 21))).toEqual([
      'unknown directive "a"',
    ]);
    // reportUnknown: false keeps the old behaviour
    expect(parseNginx(src('retrun 403;'), { context: 'location', reportUnknown: false }).errors).toEqual([]);
  });

  it('does not read free-form bodies as directives, but a { inside them is an error', () => {
    expect(errs('map $a $b { default 0; ~x 1; }\ntypes { text/html html; }\ngeo $g { ranges; 1.1.1.1-1.1.1.2 x; }', 'http')).toEqual([]);
    expect(errs('map $a $b {\n  x {\n  }\n}', 'http')).toEqual(['2:5 unexpected-brace unexpected "{"']);
  });

  it('too long parameter: a token of 4096 bytes or more', () => {
    expect(errs('user ' + 'x'.repeat(4095) + ';\nevents {}')).toEqual([]);
    expect(errs('user ' + 'x'.repeat(4096) + ';\nevents {}')).toEqual([
      '1:6 too-long-parameter too long parameter "xxxxxxxxxx..." started',
    ]);
    expect(errs('user "' + 'é'.repeat(2048) + '";\nevents {}')).toEqual([
      '1:6 too-long-parameter too long parameter, probably missing terminating """ character',
    ]);
    expect(errs('#' + 'c'.repeat(5000) + '\nevents {}')).toEqual(['1:1 too-long-parameter too long parameter "#ccccccccc..." started']);
  });

  it('survives 10,000-deep nesting (keeps MAX_NESTING levels and says so) and a 10 MB line', () => {
    const deep = parse('a {'.repeat(10000) + '}'.repeat(10000));
    let d = dirs(deep.nodes)[0];
    let depth = 1;
    while (d.block && d.block.length > 0) {
      d = dirs(d.block)[0];
      depth++;
    }
    expect(depth).toBe(MAX_NESTING);
    expect(deep.errors.map((e) => e.code)).toEqual(['unknown-directive', 'too-deep']); // nginx -t: unknown directive "a", once
    const big = parse('events {}\n# ' + 'y'.repeat(10 * 1024 * 1024) + '\nuser a ' + 'z'.repeat(10 * 1024 * 1024) + ';');
    expect(big.errors.map((e) => `${e.span.start.line}:${e.span.start.column} ${e.code}`)).toEqual([
      '2:1 too-long-parameter',
      '3:8 too-long-parameter',
    ]);
    expect(dirs(big.nodes)[1].args[1].value.length).toBe(10 * 1024 * 1024);
  });
});

describe('nginx context inference', () => {
  const infer = (t: string, p = '/etc/nginx/x.conf') => inferNginxContext(parseNginx(src(t), { syntaxOnly: true }).nodes, p);
  it('reads a file of server blocks in http context', () => {
    expect(infer('server { listen 80; }', '/etc/nginx/sites-enabled/default')).toBe('http');
    expect(parseNginx(new SourceFile('/etc/nginx/conf.d/a.conf', 'upstream u { server a; }\nserver { }')).context).toBe('http');
  });
  it('reads a main config in main', () => {
    expect(infer('user www;\nevents {}\nhttp {}')).toBe('main');
  });
  it('reads location-level snippets in location, and files with location blocks in server', () => {
    expect(infer('fastcgi_param A b;\ntry_files $uri =404;')).toBe('location');
    expect(infer('location / { }\nlisten 80;')).toBe('server');
    expect(infer('location /a { deny all; }')).toBe('server');
  });
  it('is overridden by an explicit context', () => {
    expect(parseNginx(src('allow 1.2.3.4;'), { context: 'http' }).context).toBe('http');
  });
});

describe('nginx directive table', () => {
  it('knows block-ness, contexts and arity from the binaries', () => {
    expect(specIn('server', CTX.http)!.type & 0x100).toBe(0x100);
    expect(specIn('server', CTX.upstream)!.type & 0x100).toBe(0);
    expect(specIn('listen', CTX.location)).toBeUndefined();
    expect(lookupDirective('auth_pam')).toBeDefined(); // libnginx-mod-http-auth-pam
    expect(lookupDirective('geoip2')).toBeDefined();
    expect(arityOk(specIn('allow', CTX.location)!.type, 1)).toBe(true);
    expect(arityOk(specIn('allow', CTX.location)!.type, 2)).toBe(false);
    expect(arityOk(specIn('gzip', CTX.http)!.type, 1)).toBe(true); // FLAG
    expect(arityOk(specIn('gzip', CTX.http)!.type, 0)).toBe(false);
  });
});
