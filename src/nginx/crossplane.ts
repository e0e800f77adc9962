/**
 * crossplane's JSON payload (`crossplane parse`), so tools built on crossplane can read why403's
 * parse: `{status, errors[{file, line, error}], config[{file, status, errors[{line, error}],
 * parsed[{directive, line, args, includes?, block?}]}]}`, with `column` added to every directive
 * and error. As in crossplane:
 * - config[] lists the main file first, then the included files in the order crossplane's parser
 *   queues them (breadth-first: a file's includes go to the end of the queue), and `includes`
 *   holds indexes into config[];
 * - an error message ends with ` in <file>:<line>`;
 * - `*_by_lua_block` bodies become the last argument and the directive has no `block`;
 * - comments are left out unless `comments: true` (then `{directive: "#", args: [], comment}`).
 */
import type { ConfigSet, Diagnostic, Node, ParsedFile } from '../ast.js';

export interface CrossplaneOptions {
  /** Include comments as `#` directives (crossplane's `--include-comments`). */
  comments?: boolean;
  /** Keep the parentheses of `if (…)` as nginx tokenizes them (crossplane strips them). */
  ifParens?: boolean;
  /** Rewrite file paths (e.g. make them relative to a directory). */
  filePath?: (path: string) => string;
}

export interface CrossplaneError {
  file?: string;
  line: number;
  column: number;
  error: string;
}

export interface CrossplaneDirective {
  directive: string;
  line: number;
  column: number;
  args: string[];
  includes?: number[];
  block?: CrossplaneDirective[];
  comment?: string;
}

export interface CrossplaneConfig {
  file: string;
  status: 'ok' | 'failed';
  errors: CrossplaneError[];
  parsed: CrossplaneDirective[];
}

export interface CrossplanePayload {
  status: 'ok' | 'failed';
  errors: CrossplaneError[];
  config: CrossplaneConfig[];
}

export function toCrossplanePayload(set: ConfigSet, opts: CrossplaneOptions = {}): CrossplanePayload {
  const fp = opts.filePath ?? ((p: string) => p);
  const order: ParsedFile[] = [set.root];
  const index = new Map<string, number>([[set.root.source.path, 0]]);
  const config: CrossplaneConfig[] = [];
  const allErrors: CrossplaneError[] = [];

  const errorsByFile = new Map<string, Diagnostic[]>();
  const addErr = (d: Diagnostic) => {
    if (d.severity !== 'error') return;
    let l = errorsByFile.get(d.file);
    if (!l) errorsByFile.set(d.file, (l = []));
    l.push(d);
  };
  for (const f of set.files.values()) for (const d of f.errors) addErr(d);
  for (const d of set.errors) addErr(d);

  for (let qi = 0; qi < order.length; qi++) {
    const file = order[qi];
    const path = file.source.path;
    const parsed: CrossplaneDirective[] = [];
    // depth-first in reading order (explicit stack: nesting depth is unbounded)
    const stack: { nodes: Node[]; i: number; out: CrossplaneDirective[] }[] = [{ nodes: file.nodes, i: 0, out: parsed }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.i >= top.nodes.length) {
        stack.pop();
        continue;
      }
      const out = top.out;
      {
        const n = top.nodes[top.i++];
        if (n.type === 'comment') {
          if (opts.comments) {
            out.push({ directive: '#', line: n.span.start.line, column: n.span.start.column, args: [], comment: n.text });
          }
          continue;
        }
        const args = n.args.map((a) => a.value);
        if (n.name === 'if' && opts.ifParens !== true) stripIfParens(args);
        if (n.rawBody !== undefined) args.push(n.rawBody);
        const d: CrossplaneDirective = { directive: n.name, line: n.span.start.line, column: n.span.start.column, args };
        if (n.includes) {
          d.includes = [];
          for (const p of n.includes) {
            let i = index.get(p);
            const target = set.files.get(p);
            if (i === undefined && target) {
              i = order.length;
              index.set(p, i);
              order.push(target);
            }
            if (i !== undefined) d.includes.push(i);
          }
        }
        if (n.block !== null && n.rawBody === undefined) {
          d.block = [];
          out.push(d);
          stack.push({ nodes: n.block, i: 0, out: d.block });
          continue;
        }
        out.push(d);
      }
    }
    const errs = (errorsByFile.get(path) ?? [])
      .slice()
      .sort((a, b) => a.span.start.offset - b.span.start.offset)
      .map((e) => ({
        line: e.span.start.line,
        column: e.span.start.column,
        error: `${e.message} in ${fp(path)}:${e.span.start.line}`,
      }));
    for (const e of errs) allErrors.push({ file: fp(path), ...e });
    config.push({ file: fp(path), status: errs.length > 0 ? 'failed' : 'ok', errors: errs, parsed });
  }
  // Files read but not reachable through includes from the root (should not happen) are left out,
  // as crossplane only lists what it parsed.
  return { status: allErrors.length > 0 ? 'failed' : 'ok', errors: allErrors, config };
}

/** crossplane's treatment of `if` arguments: `(` and `)` around the condition are dropped, and an
 * argument left empty by that is removed (nginx's ngx_http_rewrite_if does the same when it reads
 * the condition). */
export function stripIfParens(args: string[]): void {
  if (args.length === 0 || !args[0].startsWith('(') || !args[args.length - 1].endsWith(')')) return;
  args[0] = args[0].slice(1).trimStart();
  const last = args.length - 1;
  args[last] = args[last].slice(0, -1).trimEnd();
  if (args[last] === '') args.pop();
  if (args.length > 0 && args[0] === '') args.shift();
}
