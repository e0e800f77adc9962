/**
 * mod_authz_core: the Require tree of a section, AuthMerging, and the GRANTED / DENIED /
 * DENIED_NO_USER / NEUTRAL algebra. Follows modules/aaa/mod_authz_core.c: add_authz_provider,
 * add_authz_section (containers, associativity, the "negative Require has no effect" check),
 * merge_authz_core_dir_config (AuthMerging Off/And/Or) and apply_authz_sections.
 */
import type { Directive } from '../../ast.js';
import { ALL_METHODS, inSet, union, type MethodSet } from './methods.js';

export type AuthzResult = 'GRANTED' | 'DENIED' | 'DENIED_NO_USER' | 'NEUTRAL';
export type AuthzOp = 'and' | 'or';

export interface AuthzProviderNode {
  kind: 'provider';
  /** Provider name, lower-case (`all`, `ip`, `valid-user`, …). */
  name: string;
  args: string[];
  negate: boolean;
  limited: MethodSet;
  directive: Directive;
}

export interface AuthzSectionNode {
  kind: 'section';
  op: AuthzOp;
  negate: boolean;
  limited: MethodSet;
  children: AuthzNode[];
  /** The `<RequireAll>`… container, or null for the implicit top-level RequireAny / a merge node. */
  directive: Directive | null;
  /** True for the node AuthMerging And/Or builds from parent and child. */
  merged?: boolean;
}

export type AuthzNode = AuthzProviderNode | AuthzSectionNode;

export interface AuthzConf {
  section: AuthzSectionNode | null;
  op: 'unset' | 'off' | AuthzOp;
  opDirective: Directive | null;
  /** AuthzSendForbiddenOnFailure; null = unset. */
  forbiddenOnFail: boolean | null;
}

export function newAuthzConf(): AuthzConf {
  return { section: null, op: 'unset', opDirective: null, forbiddenOnFail: null };
}

const NONE: MethodSet = { except: false, methods: new Set() };

function defaultSection(): AuthzSectionNode {
  return { kind: 'section', op: 'or', negate: false, limited: NONE, children: [], directive: null };
}

function describeSection(s: AuthzSectionNode): string {
  if (s.op === 'and') return s.negate ? '<RequireNotAll>' : '<RequireAll>';
  return s.negate ? '<RequireNone>' : '<RequireAny>';
}

/** Builder state while compiling one section's Require lines (mirrors conf->section swapping). */
export class AuthzBuilder {
  constructor(public conf: AuthzConf) {}

  /** A `Require [not] provider args…` line. Returns httpd's error text or null. */
  require(d: Directive, limited: MethodSet, knownProviders: (name: string) => boolean): string | null {
    const words = d.args.map((a) => a.value);
    if (words.length === 0) return 'Require takes at least one argument';
    let i = 0;
    let negate = false;
    if (words[0].toLowerCase() === 'not') {
      negate = true;
      i = 1;
    }
    const name = (words[i] ?? '').toLowerCase();
    if (!knownProviders(name)) return `Unknown Authz provider: ${words[i] ?? ''}`;
    const node: AuthzProviderNode = { kind: 'provider', name, args: words.slice(i + 1), negate, limited, directive: d };
    if (!this.conf.section) this.conf.section = defaultSection();
    const sec = this.conf.section;
    if (negate && sec.op === 'or') return `negative Require directive has no effect in ${describeSection(sec)} directive`;
    sec.limited = union(sec.limited, limited);
    sec.children.push(node);
    return null;
  }

  /**
   * A `<RequireAll|RequireAny|RequireNone>` container; `body` compiles its children (while this
   * builder points at the new container). Returns httpd's error text or null.
   */
  container(d: Directive, body: () => string | null): string | null {
    const k = d.key;
    const section: AuthzSectionNode = {
      kind: 'section',
      op: k === '<requireall' || k === 'requireall' || k === '<requirenotall' || k === 'requirenotall' ? 'and' : 'or',
      negate: !(k === '<requireall' || k === 'requireall' || k === '<requireany' || k === 'requireany'),
      limited: NONE,
      children: [],
      directive: d,
    };
    const old = this.conf.section;
    this.conf.section = section;
    const err = body();
    this.conf.section = old;
    if (err) return err;
    if (section.children.length === 0) return `${describeSection(section)} directive contains no authorization directives`;
    if (!this.conf.section) this.conf.section = defaultSection();
    const parent = this.conf.section;
    if (section.negate && parent.op === 'or') {
      return `${describeSection(section)} directive has no effect in ${describeSection(parent)} directive`;
    }
    parent.limited = union(parent.limited, section.limited);
    if (!section.negate && section.op === parent.op) parent.children.push(...section.children);
    else parent.children.push(section);
    return null;
  }
}

/** merge_authz_core_dir_config: `base` from outer sections, `next` from the section merged in. */
export function mergeAuthz(base: AuthzConf, next: AuthzConf): AuthzConf {
  let conf: AuthzConf;
  if (next.op === 'unset' && !next.section && base.section) {
    conf = { ...base };
  } else if (next.op === 'off' || next.op === 'unset' || !(base.section || next.section)) {
    conf = { ...next };
  } else {
    let section: AuthzSectionNode;
    if (base.section) {
      if (next.section) {
        section = {
          kind: 'section',
          op: next.op,
          negate: false,
          limited: union(base.section.limited, next.section.limited),
          children: [base.section, next.section],
          directive: null,
          merged: true,
        };
      } else {
        section = base.section;
      }
    } else {
      section = next.section!;
    }
    conf = { section, op: next.op, opDirective: next.opDirective, forbiddenOnFail: null };
  }
  conf.forbiddenOnFail = next.forbiddenOnFail === null ? base.forbiddenOnFail : next.forbiddenOnFail;
  return conf;
}

/** What a provider says for the request; `unknown` lists the results it could give. */
export type ProviderVerdict = { result: AuthzResult; why: string } | { unknown: string; possible: AuthzResult[] };

export interface AuthzEval {
  result: AuthzResult;
  /** The provider lines (or container) that fixed the result, outermost decision last. */
  by: Directive | null;
  why: string;
}

/** apply_authz_sections with a fixed verdict per provider. */
function apply(
  node: AuthzNode,
  parentOp: AuthzOp,
  method: string,
  verdict: (p: AuthzProviderNode) => { result: AuthzResult; why: string },
): AuthzEval {
  if (!inSet(node.limited, method)) {
    const result: AuthzResult = parentOp === 'and' ? 'GRANTED' : 'NEUTRAL';
    return { result, by: node.kind === 'provider' ? node.directive : node.directive, why: `limited to other methods, counts as ${result}` };
  }
  let out: AuthzEval;
  if (node.kind === 'provider') {
    const v = verdict(node);
    out = { result: v.result, by: node.directive, why: v.why };
  } else {
    out = { result: 'NEUTRAL', by: node.directive, why: 'no Require applied' };
    for (const child of node.children) {
      const c = apply(child, node.op, method, verdict);
      if (c.result === 'NEUTRAL') continue;
      if (node.op === 'and') {
        if (c.result === 'DENIED') {
          out = c;
          break;
        }
        if ((c.result === 'DENIED_NO_USER' && out.result !== 'DENIED') || out.result === 'NEUTRAL') out = c;
      } else {
        if (c.result === 'GRANTED') {
          out = c;
          break;
        }
        if ((c.result === 'DENIED_NO_USER' && out.result === 'DENIED') || out.result === 'NEUTRAL') out = c;
      }
    }
  }
  if (node.negate) {
    if (out.result === 'GRANTED') out = { ...out, result: 'DENIED', why: `negated: ${out.why}` };
    else if (out.result === 'DENIED' || out.result === 'DENIED_NO_USER') out = { ...out, result: 'NEUTRAL', why: `negated: ${out.why}` };
  }
  return out;
}

function providers(node: AuthzNode, out: AuthzProviderNode[] = []): AuthzProviderNode[] {
  if (node.kind === 'provider') out.push(node);
  else for (const c of node.children) providers(c, out);
  return out;
}

export interface AuthzOutcome {
  /** Every result the tree can give; one element when the request decides it. */
  results: Map<AuthzResult, AuthzEval>;
  /** Providers whose answer the model cannot know, with the reason. */
  unknowns: { directive: Directive; reason: string }[];
}

/**
 * Evaluate the top-level tree (parent op AND, as authorize_user_core does). Providers the model
 * cannot decide (host names, expressions, groups) are tried with every result they can give, so the
 * outcome is the set of possible results (at most 2^8 combinations are tried).
 */
export function evaluateAuthz(
  section: AuthzSectionNode,
  method: string,
  provider: (p: AuthzProviderNode) => ProviderVerdict,
): AuthzOutcome {
  const all = providers(section);
  const fixed = new Map<AuthzProviderNode, { result: AuthzResult; why: string }>();
  const unknown: { node: AuthzProviderNode; reason: string; possible: AuthzResult[] }[] = [];
  for (const p of all) {
    const v = provider(p);
    if ('result' in v) fixed.set(p, v);
    else unknown.push({ node: p, reason: v.unknown, possible: v.possible });
  }
  const results = new Map<AuthzResult, AuthzEval>();
  if (unknown.length === 0) {
    // every provider decided (the usual case): one evaluation, no assignments to try
    const e = apply(section, 'and', method, (p) => fixed.get(p)!);
    results.set(e.result, e);
    return { results, unknowns: [] };
  }
  const limit = Math.min(unknown.length, 8);
  const rec = (i: number, assign: Map<AuthzProviderNode, AuthzResult>) => {
    if (i === limit) {
      const e = apply(section, 'and', method, (p) => {
        const f = fixed.get(p);
        if (f) return f;
        const a = assign.get(p);
        const u = unknown.find((x) => x.node === p)!;
        return { result: a ?? u.possible[0], why: `${u.reason} (assumed ${a ?? u.possible[0]})` };
      });
      if (!results.has(e.result)) results.set(e.result, e);
      return;
    }
    for (const r of unknown[i].possible) {
      assign.set(unknown[i].node, r);
      rec(i + 1, assign);
    }
    assign.delete(unknown[i].node);
  };
  rec(0, new Map());
  return { results, unknowns: unknown.map((u) => ({ directive: u.node.directive, reason: u.reason })) };
}

/** authz_some_auth_required: the tree has a Require for this method. */
export function someAuthRequired(conf: AuthzConf, method: string): boolean {
  return !!conf.section && inSet(conf.section.limited, method);
}

export { ALL_METHODS };
