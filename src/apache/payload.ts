/**
 * `why403 parse` output for Apache in crossplane's shape (the nginx side uses the same):
 * `{ status, errors, config: [{ file, status, errors, parsed: [...] }] }`; each directive is
 * `{ directive, line, column, args, block?, includes? }` where `includes` holds indexes into
 * `config`. Apache additions: `section: true` for `<Name>` blocks (`directive` is the name without
 * `<`), `comment` entries as crossplane's `--include-comments` (`directive: "#"`, `comment`).
 */
import type { ConfigSet, Diagnostic, Node } from '../ast.js';

export interface PayloadError {
  file: string;
  line: number;
  column: number;
  error: string;
  code: string;
  severity: 'error' | 'warning';
}

export interface PayloadDirective {
  directive: string;
  line: number;
  column: number;
  args: string[];
  section?: true;
  block?: PayloadDirective[];
  includes?: number[];
  comment?: string;
}

export interface PayloadConfig {
  file: string;
  status: 'ok' | 'failed';
  errors: PayloadError[];
  parsed: PayloadDirective[];
}

export interface Payload {
  status: 'ok' | 'failed';
  errors: PayloadError[];
  config: PayloadConfig[];
}

function err(d: Diagnostic): PayloadError {
  return { file: d.file, line: d.span.start.line, column: d.span.start.column, error: d.message, code: d.code, severity: d.severity };
}

export function toApachePayload(set: ConfigSet, opts: { comments?: boolean } = {}): Payload {
  const index = new Map<string, number>();
  let k = 0;
  for (const p of set.files.keys()) index.set(p, k++);
  const conv = (nodes: Node[]): PayloadDirective[] => {
    // explicit stack: sections may nest deeper than the JS stack allows
    const out: PayloadDirective[] = [];
    const stack: { nodes: Node[]; i: number; into: PayloadDirective[] }[] = [{ nodes, i: 0, into: out }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1];
      if (f.i >= f.nodes.length) {
        stack.pop();
        continue;
      }
      const n = f.nodes[f.i++];
      if (n.type === 'comment') {
        if (opts.comments) f.into.push({ directive: '#', line: n.span.start.line, column: n.span.start.column, args: [], comment: n.text });
        continue;
      }
      const d: PayloadDirective = {
        directive: n.name,
        line: n.nameSpan.start.line,
        column: n.nameSpan.start.column,
        args: n.args.map((a) => a.value),
      };
      if (n.section) d.section = true;
      if (n.includes) d.includes = n.includes.map((p) => index.get(p)).filter((x): x is number => x !== undefined);
      f.into.push(d);
      if (n.block) {
        d.block = [];
        stack.push({ nodes: n.block, i: 0, into: d.block });
      }
    }
    return out;
  };
  const all: PayloadError[] = [];
  const config: PayloadConfig[] = [];
  const setErrs = new Map<string, PayloadError[]>();
  for (const e of set.errors) {
    const list = setErrs.get(e.file) ?? [];
    list.push(err(e));
    setErrs.set(e.file, list);
  }
  for (const [p, f] of set.files) {
    const errors = [...f.errors.map(err), ...(setErrs.get(p) ?? [])];
    all.push(...errors);
    config.push({ file: p, status: errors.some((e) => e.severity === 'error') ? 'failed' : 'ok', errors, parsed: conv(f.nodes) });
  }
  return { status: all.some((e) => e.severity === 'error') ? 'failed' : 'ok', errors: all, config };
}
