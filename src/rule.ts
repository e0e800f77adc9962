/**
 * The rule API. A rule is one `defineRule({...})` default export in `rules/<id>.ts`: metadata plus a
 * pure `check(ctx)` over the parsed configuration. A rule reports a node (and optionally one of its
 * arguments); the engine derives file, line and column, severity, message text and the docs URL.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigSet, Directive, Node, ServerKind } from './ast.js';
import type { WalkContext } from './walk.js';
import type { Model } from './model/index.js';
import type { Proof, ProofExpectation, SampleInput } from './model/types.js';

/** Where every rule's documentation lives: `<DOCS_BASE><id>.md`. */
export const DOCS_BASE = 'https://github.com/why403/why403/blob/main/rules/';

export type Severity = 'off' | 'info' | 'warning' | 'error';
export type ReportSeverity = Exclude<Severity, 'off'>;
export const SEVERITIES: readonly Severity[] = ['off', 'info', 'warning', 'error'];

export type Category = 'access-control' | 'auth' | 'filesystem' | 'index' | 'rewrite' | 'syntax' | 'suppression' | 'other';

/** A text edit on the file that holds the reported node: replace `[range[0], range[1])` of
 * `SourceFile.text` with `text`. */
export interface Fix {
  range: [number, number];
  text: string;
}

export interface Suggestion {
  desc: string;
  fix: Fix;
}

/** A second location a finding points at (e.g. the directive a rule is shadowed by). */
export interface RelatedReport {
  node: Node;
  arg?: number;
  message: string;
}

export interface ReportDescriptor<M extends string> {
  node: Node;
  /** Index into `node.args`: the finding points at that argument instead of the whole directive. */
  arg?: number;
  messageId: M;
  data?: Record<string, string | number>;
  fix?: Fix;
  suggest?: Suggestion[];
  related?: RelatedReport[];
  /** The request that shows what the finding claims, made by `ctx.prove` (explain agrees with it). */
  proof?: Proof | null | false;
}

/** Settings from the config file that rules and models may read (see src/config.ts). */
export interface Settings {
  /** Target Apache httpd version, e.g. "2.4.62". */
  apacheVersion?: string;
  /** Apache modules assumed loaded (e.g. ["authz_core", "access_compat"]); also decides `<IfModule>`. */
  apacheModules?: string[];
  /** Extra nginx directives (from third-party modules) that are not `unknown directive` errors. */
  nginxDirectives?: string[];
  /** Extra Apache directives (from third-party modules) that are not `Invalid command` errors. */
  apacheDirectives?: string[];
  /** Apache: the `AllowOverride` arguments assumed for a .htaccess that no linted main config covers
   * (e.g. ["All"], ["None"]); unset: unknown (see src/apache/model/htaccess-link.ts). */
  apacheAllowOverride?: string[];
  /** The user the worker processes run as (filesystem checks). */
  user?: string;
  /** Installed path → checked-out path. */
  pathMap?: Record<string, string>;
}

export interface RuleContext<M extends string, O> {
  readonly id: string;
  readonly set: ConfigSet;
  readonly server: ServerKind;
  readonly options: O;
  readonly settings: Settings;
  /** The one semantic model of `set` (src/model/index.ts): the same model `explain` reads. */
  readonly model: Model;
  /** Run `sample` through explain on this model: the proof when it shows `expect`; false when explain
   * says otherwise (the claim is refuted: do not report it); null when there is no sample to try or
   * explain cannot tell (the finding then carries no proof).
   * A finding that claims a status attaches this proof (ReportDescriptor.proof). */
  prove(sample: SampleInput | null | undefined, expect: ProofExpectation): Proof | null | false;
  /** Report a finding. The engine drops a report identical to one already made (same rule, node,
   * argument and message), so a rule need not track what it reported. */
  report(d: ReportDescriptor<M>): void;
  /** Visit every node in reading order, includes expanded (see src/walk.ts). */
  walk(visit: (node: Node, ctx: WalkContext) => boolean | void): void;
  /** Every directive whose `key` is one of `keys` (Apache keys are lower-case), with its context. */
  directives(...keys: string[]): Array<{ node: Directive; ctx: WalkContext }>;
}

/** A JSON Schema object for a rule's options (an object with named properties). */
export interface OptionsSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  additionalProperties?: false;
  [k: string]: unknown;
}

export type RuleProof = 'request' | { none: string };

export interface RuleDefinition<M extends string, O extends object> {
  /** kebab-case with a server prefix: `nginx-…`, `apache-…` or `any-…`. */
  id: string;
  servers: readonly ServerKind[];
  severity: ReportSeverity;
  /** One sentence, used in `why403 rules`, SARIF and the doc's first paragraph. */
  description: string;
  category: Category;
  /** True when `--fix` may apply this rule's fixes (mechanical, behaviour-preserving). */
  fixable: boolean;
  /** How a finding shows what it says. `'request'`: a finding that claims what a request gets carries
   * that request (`ctx.prove`: explain agrees, and the real server in the tests), whenever explain can
   * tell without guessing. `{ none }`: why this rule's findings carry no request (they claim no status,
   * or explain cannot send the request they are about). Every shipped rule says which;
   * test/rules.test.ts holds each to it. */
  proof?: RuleProof;
  hasSuggestions?: boolean;
  messages: Record<M, string>;
  options?: OptionsSchema;
  defaultOptions?: O;
  check(ctx: RuleContext<M, O>): void;
}

export interface Rule<M extends string = string, O extends object = object> extends RuleDefinition<M, O> {
  docsUrl: string;
}

/** Rule ids that the engine itself reports; no rule file may take them. */
export const RESERVED_RULES = ['syntax-error', 'unused-suppression'] as const;
export const RULE_ID_RE = /^(nginx|apache|any)-[a-z0-9]+(-[a-z0-9]+)*$/;

export function docsUrl(id: string): string {
  return `${DOCS_BASE}${id}.md`;
}

/** Type-checked rule factory: messageIds used in `report` must be keys of `messages`. */
export function defineRule<M extends string, O extends object = Record<string, never>>(def: RuleDefinition<M, O>): Rule<M, O> {
  if (!RULE_ID_RE.test(def.id)) throw new Error(`rule id "${def.id}" must be kebab-case and start with nginx-, apache- or any-`);
  return { ...def, docsUrl: docsUrl(def.id) };
}

/** Fill `{{name}}` placeholders. Unknown placeholders are left as written. */
export function formatMessage(template: string, data: Record<string, string | number> | undefined): string {
  if (!data) return template;
  return template.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m, k: string) => (k in data ? String(data[k]) : m));
}

let rootCache: string | null = null;
/** The package's root directory (where package.json and rules/*.md are), from src/ or dist/src/. */
export function packageRoot(): string {
  if (rootCache) return rootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rules'))) return (rootCache = dir);
    dir = dirname(dir);
  }
  return (rootCache = dirname(dirname(fileURLToPath(import.meta.url))));
}

/** The Markdown doc of a rule, or null when it is not shipped. */
export function readRuleDoc(id: string): string | null {
  try {
    return readFileSync(join(packageRoot(), 'rules', `${id}.md`), 'utf8');
  } catch {
    return null;
  }
}
