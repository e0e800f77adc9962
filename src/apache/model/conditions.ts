/**
 * Read-time conditionals: `<IfModule>`, `<IfDefine>`, `<IfVersion>` (mod_version), `<IfFile>`,
 * `<IfDirective>`, `<IfSection>`, plus `Define`/`UnDefine` and `LoadModule` in reading order
 * (server/core.c: start_ifmod, start_ifdefine, start_iffile, start_ifdirective, start_ifsection;
 * modules/metadata/mod_version.c). `flatten` expands includes and keeps only the branches that apply,
 * so later stages see the configuration the server would actually run.
 */
import type { ConfigSet, Directive, Node } from '../../ast.js';
import { apacheDirective } from '../directives.js';
import { withArgs, withBlock, withValue } from '../nodes.js';
import { expandVars } from '../vars.js';
import { canonicalModule, type ModuleSet } from './modules.js';
import { compilePcre } from './regex.js';

export interface CondEnv {
  modules: ModuleSet;
  defines: Map<string, string>;
  /** Server version, e.g. [2, 4, 71]. */
  version: number[];
  /** Does this path exist (after ServerRoot resolution)? null = cannot know. */
  fileExists: (path: string) => boolean | null;
  serverRoot: string;
  /** Process environment for `${VAR}` (after Defines): Debian's envvars by default. */
  envVars: Record<string, string>;
}

/** A note the model wants to surface (an IfFile it could not check, a config error…). */
export interface ModelNote {
  directive: Directive;
  message: string;
  severity: 'error' | 'warning' | 'info';
}

/** Section key without the leading `<` (the parser may keep it or not). */
export function sectionKey(d: Directive): string {
  return d.key.startsWith('<') ? d.key.slice(1) : d.key;
}

export function argValues(d: Directive): string[] {
  return d.args.map((a) => a.value);
}

function negated(arg: string): [boolean, string] {
  return arg.startsWith('!') ? [true, arg.slice(1)] : [false, arg];
}

function compareVersion(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** `<IfVersion [[!]operator] version>`; returns null when the arguments make no sense. */
export function evalIfVersion(args: string[], version: number[]): boolean | null {
  let op = '=';
  let ver: string;
  const joined = args.join(' ').trim();
  const m = /^(!?)(==|>=|<=|=|>|<|~)?\s*(.+)$/.exec(joined);
  if (!m) return null;
  const neg = m[1] === '!';
  op = m[2] ?? '=';
  ver = m[3].trim();
  let result: boolean;
  const vstr = version.join('.');
  if (op === '~' || (ver.startsWith('/') && ver.endsWith('/') && ver.length > 1)) {
    const src = ver.startsWith('/') && ver.endsWith('/') ? ver.slice(1, -1) : ver;
    const re = compilePcre(src);
    const hit = re.ok ? re.re.matches(vstr) : null;
    if (typeof hit !== 'boolean') return null;
    result = hit;
  } else {
    const want = ver.split('.').map((x) => Number(x));
    if (want.some((x) => !Number.isInteger(x))) return null;
    // mod_version: a partial version compares only the given parts for = (2.4 == 2.4.x).
    const have = version.slice(0, op === '=' || op === '==' ? want.length : version.length);
    const c = compareVersion(have, want);
    result = op === '=' || op === '==' ? c === 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0;
  }
  return neg ? !result : result;
}

/** Is a directive name known to the running server (its module loaded)? */
export function directiveAvailable(name: string, modules: ModuleSet): boolean {
  const info = apacheDirective(name.toLowerCase());
  if (!info) return false;
  return modules.has(info.module);
}

export const CONDITIONAL_SECTIONS = new Set(['ifmodule', 'ifdefine', 'ifversion', 'iffile', 'ifdirective', 'ifsection']);

/** Evaluate one conditional section; `unknown` carries a reason when it cannot be known. */
export function evalConditional(d: Directive, env: CondEnv): { value: boolean; unknown?: string } {
  const k = sectionKey(d);
  const args = argValues(d);
  const [neg, arg] = negated(args[0] ?? '');
  const ret = (v: boolean) => ({ value: neg ? !v : v });
  switch (k) {
    case 'ifmodule':
      // httpd (core.c find_module) knows a module by its source name (`mod_rewrite.c`) or its
      // symbol (`rewrite_module`) only: `<IfModule mod_rewrite>` never holds (checked on real Apache).
      return ret(/(\.c|_module)$/i.test(arg.trim()) && env.modules.has(arg));
    case 'ifdefine':
      return ret(env.defines.has(arg));
    case 'ifversion': {
      if (!env.modules.has('mod_version')) return { value: false, unknown: 'mod_version is not loaded' };
      const v = evalIfVersion(args, env.version);
      return v === null ? { value: false, unknown: `cannot read IfVersion arguments "${args.join(' ')}"` } : { value: v };
    }
    case 'iffile': {
      const p = arg.startsWith('/') ? arg : `${env.serverRoot.replace(/\/+$/, '')}/${arg}`;
      const e = env.fileExists(p);
      if (e === null) return { value: false, unknown: `cannot check whether ${p} exists` };
      return ret(e);
    }
    case 'ifdirective':
      return ret(directiveAvailable(arg, env.modules));
    case 'ifsection':
      return ret(directiveAvailable('<' + arg, env.modules));
  }
  return { value: true };
}

/**
 * Expand includes and conditionals. Conditional sections vanish (their children take their place
 * when the condition holds); other block directives are shallow-copied with a flattened block, so
 * every leaf is the parser's own Directive object (positions intact).
 */
export function flatten(set: ConfigSet, nodes: Node[], env: CondEnv, notes: ModelNote[]): Directive[] {
  const out: Directive[] = [];
  const seen = new Set<string>();
  const rec = (list: Node[], into: Directive[], depth: number) => {
    if (depth > 200) return;
    for (const n0 of list) {
      if (n0.type !== 'directive') continue;
      const n = expandDirective(n0, env.defines, env.envVars);
      if (n.includes && n.includes.length > 0) {
        for (const p of n.includes) {
          const f = set.files.get(p);
          if (!f || seen.has(p)) continue;
          seen.add(p);
          rec(f.nodes, into, depth + 1);
          seen.delete(p);
        }
        continue;
      }
      // mod_macro: a Use line is read as its expansion; a <Macro> body is stored unread
      if (n.expansion) {
        rec(n.expansion, into, depth + 1);
        continue;
      }
      const k = sectionKey(n);
      if (n.block && k === 'macro') continue;
      if (n.block && CONDITIONAL_SECTIONS.has(k)) {
        const r = evalConditional(n, env);
        if (r.unknown)
          notes.push({ directive: n, message: `<${n.name.replace(/^</, '')}> treated as false: ${r.unknown}`, severity: 'info' });
        if (r.value) rec(n.block, into, depth + 1);
        continue;
      }
      if (!n.block) {
        if (k === 'define' && n.args.length >= 1) env.defines.set(n.args[0].value, n.args[1]?.value ?? '');
        else if (k === 'undefine' && n.args.length >= 1) env.defines.delete(n.args[0].value);
        else if (k === 'loadmodule' && n.args.length >= 1) env.modules.add(canonicalModule(n.args[0].value));
        into.push(n);
        continue;
      }
      const children: Directive[] = [];
      rec(n.block, children, depth + 1);
      into.push(withBlock(n, children));
    }
  };
  rec(nodes, out, 0);
  return out;
}

/** `${VAR}` in arguments, expanded with the defines known at this point (httpd does it per line). */
export function expandDirective(d: Directive, defines: Map<string, string>, envVars: Record<string, string> = {}): Directive {
  if (!d.args.some((a) => a.value.includes('${'))) return d;
  const obj = { ...envVars, ...Object.fromEntries(defines) };
  return withArgs(
    d,
    d.args.map((a) => (a.value.includes('${') ? withValue(a, expandVars(a.value, obj)) : a)),
  );
}

/** True when any file of the set has a LoadModule line (then Debian's default set is not assumed). */
export function hasLoadModule(set: ConfigSet): boolean {
  for (const f of set.files.values()) {
    const stack: Node[] = [...f.nodes];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.type !== 'directive') continue;
      if (n.key === 'loadmodule') return true;
      if (n.block) stack.push(...n.block);
    }
  }
  return false;
}
