/**
 * Issue 12, memory: what an nginx tree and model keep per directive, argument and scope, asserted on
 * the objects themselves (no clock, no heap measure): the fields a node holds, which lists a scope
 * shares instead of copying, the settings a scope shares with its parent. A big tree has one
 * directive a line and a scope per location; each field of each is 8 bytes on 64-bit node.
 * test/memory-shape.test.ts measures the same in bytes per line.
 */
import { describe, expect, it } from 'vitest';
import type { Directive, Node } from '../src/ast.js';
import { defineRule } from '../src/rule.js';
import { lintText } from '../src/run.js';
import { effectiveSettings, findLocation, modelFromText } from '../src/nginx/model/index.js';
import { parseNginx } from '../src/nginx/parser.js';
import { SourceFile } from '../src/source.js';

const text = [
  'events {}',
  'http {',
  '  server {',
  '    listen 80;',
  '    root /srv;',
  '    location /a/ { root /a; }',
  '    location /b/ {',
  '      # a comment',
  '      root /b;',
  '    }',
  '    location /c/ { limit_req_status 429; }',
  '    location "/d/" {',
  '      return 200 "x\\"y";',
  '    }',
  '  }',
  '}',
  '',
].join('\n');

function directives(nodes: Node[], out: Directive[] = []): Directive[] {
  for (const n of nodes)
    if (n.type === 'directive') {
      out.push(n);
      if (n.block) directives(n.block, out);
    }
  return out;
}

describe('nginx tree and model shape (issue 12: memory per line)', () => {
  const src = new SourceFile('/etc/nginx/nginx.conf', text);
  const parsed = parseNginx(src);
  const all = directives(parsed.nodes);

  it('a directive keeps its name, arguments, block, file and two offsets; the rest is read from the text', () => {
    expect(all.length).toBe(13);
    for (const d of all) expect(Object.keys(d).sort()).toEqual(['args', 'block', 'eo', 'name', 'so', 'source']);
    // what is derived is what the text says
    const ret = all.find((d) => d.name === 'return')!;
    expect(ret.key).toBe('return');
    expect(ret.span.start).toEqual(src.positionAt(text.indexOf('return')));
    expect(ret.span.end).toEqual(src.positionAt(text.indexOf('"x\\"y";') + 7));
    expect(ret.nameSpan.end).toEqual(src.positionAt(text.indexOf('return') + 6));
    expect(ret.blockSpan).toBeNull();
    const d = all.find((x) => x.name === 'location' && x.args[0].raw === '"/d/"')!;
    expect(d.blockSpan!.start).toEqual(src.positionAt(text.indexOf('{', text.indexOf('"/d/"'))));
    expect(d.blockSpan!.end).toEqual(d.span.end);
    expect(d.span.end.line).toBe(14);
  });

  it('an argument keeps its value, file and start; its raw text only when it differs from the value', () => {
    const ret = all.find((d) => d.name === 'return')!;
    const [code, body] = ret.args;
    expect(Object.keys(code).sort()).toEqual(['so', 'source', 'value']);
    expect([code.value, code.raw, code.quote]).toEqual(['200', '200', null]);
    expect(Object.keys(body).sort()).toEqual(['raw', 'so', 'source', 'value']);
    expect([body.value, body.raw, body.quote]).toEqual(['x"y', '"x\\"y"', '"']);
    expect(body.span.end).toEqual(src.positionAt(text.indexOf('"x\\"y"') + 6));
  });

  it('a comment keeps its file, start and whether it trails a directive; its text and span are read from the text', () => {
    const loc = all.find((d) => d.name === 'location' && d.args[0].value === '/b/')!;
    const c = loc.block!.find((n) => n.type === 'comment')!;
    expect(Object.keys(c).sort()).toEqual(['so', 'source', 'trailing']);
    expect(c.type).toBe('comment');
    expect(c.type === 'comment' && [c.text, c.trailing]).toEqual([' a comment', false]);
    expect(c.span.start).toEqual(src.positionAt(text.indexOf('# a comment')));
    expect(c.span.end).toEqual(src.positionAt(text.indexOf('# a comment') + 11));
  });

  it('the line table is 4 bytes a line', () => {
    expect(src.lineStarts).toBeInstanceOf(Int32Array);
    expect(src.lineStarts.length).toBe(text.split('\n').length);
    expect(src.lineOf(text.indexOf('listen'))).toBe(4);
  });

  const m = modelFromText(text, '/etc/nginx/nginx.conf');
  const server = m.servers[0];
  const loc = (uri: string) => findLocation(server, uri).location!;

  it("a scope's body is its block's list unless the block holds a comment or an include", () => {
    expect(loc('/a/x').body).toBe(loc('/a/x').block!.block);
    expect(loc('/b/x').body).not.toBe(loc('/b/x').block!.block);
    expect(loc('/b/x').body.map((d) => d.name)).toEqual(['root']);
  });

  it('a scope that sets none of the rare settings shares them with its parent', () => {
    const rare = (s: object) => (s as { rare: object }).rare;
    const sv = effectiveSettings(server);
    const a = effectiveSettings(loc('/a/x'));
    const c = effectiveSettings(loc('/c/x'));
    expect(a).not.toBe(sv); // it sets root
    expect(a.root.value.path).toBe('/a');
    expect(rare(a)).toBe(rare(sv));
    expect(rare(c)).not.toBe(rare(sv));
    expect([sv.limitReqStatus.value, a.limitReqStatus.value, c.limitReqStatus.value]).toEqual([503, 503, 429]);
    expect(Object.keys(a)).toHaveLength(13);
  });
});

describe('the linter reports a finding once', () => {
  it('the same finding twice is one message; another message at the same place is another', async () => {
    const twice = defineRule({
      id: 'nginx-twice',
      servers: ['nginx'],
      severity: 'error',
      description: 'Reports each listen twice, and once more with other words.',
      category: 'other',
      fixable: false,
      messages: { x: 'listen {{n}}' },
      check(ctx) {
        for (const { node } of ctx.directives('listen')) {
          ctx.report({ node, messageId: 'x', data: { n: 1 } });
          ctx.report({ node, messageId: 'x', data: { n: 1 } });
          ctx.report({ node, messageId: 'x', data: { n: 2 } });
          ctx.report({ node, arg: 0, messageId: 'x', data: { n: 1 } });
        }
      },
    });
    const run = await lintText(text, { filename: 'nginx.conf', server: 'nginx', rules: [twice] });
    const got = run.results.flatMap((r) =>
      r.messages.filter((x) => x.ruleId === 'nginx-twice').map((x) => `${x.line}:${x.column} ${x.message}`),
    );
    expect(got).toEqual(['4:5 listen 1', '4:5 listen 2', '4:12 listen 1']);
  });
});
