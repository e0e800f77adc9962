/**
 * The rules, loaded lazily (CLI startup, see docs/engine.md "Libraries and startup"): one line per
 * rule, `[id, () => import(file)]`, sorted by id. A rule's servers follow from its id prefix
 * (`nginx-`, `apache-`, `any-`: both), so a run loads only the rules for the servers in it.
 *
 * This is the one hand-written list of rules: rules/index.ts derives the library's list from it, and
 * test/rule-manifest.test.ts fails (printing the missing line) when a rule file is not here.
 */
import { readFileSync } from 'node:fs';
import type { ServerKind } from './ast.js';
import { docsUrl, type OptionsSchema, type ReportSeverity, type Rule } from './rule.js';

type Loader = () => Promise<{ default: unknown }>;

export const RULE_MANIFEST: ReadonlyArray<readonly [id: string, load: Loader]> = [
  ['any-config-scope', () => import('../rules/any-config-scope.js')],
  ['any-include-outside-tree', () => import('../rules/any-include-outside-tree.js')],
  ['apache-authmerging-off-drops-deny', () => import('../rules/apache-authmerging-off-drops-deny.js')],
  ['apache-cgi-without-execcgi', () => import('../rules/apache-cgi-without-execcgi.js')],
  ['apache-dead-allow-deny', () => import('../rules/apache-dead-allow-deny.js')],
  ['apache-directory-index-forbidden', () => import('../rules/apache-directory-index-forbidden.js')],
  ['apache-docroot-denied', () => import('../rules/apache-docroot-denied.js')],
  ['apache-explicit-forbidden', () => import('../rules/apache-explicit-forbidden.js')],
  ['apache-expr-syntax', () => import('../rules/apache-expr-syntax.js')],
  ['apache-forward-proxy-denied', () => import('../rules/apache-forward-proxy-denied.js')],
  ['apache-fs-htaccess-unreadable', () => import('../rules/apache-fs-htaccess-unreadable.js')],
  ['apache-fs-no-index', () => import('../rules/apache-fs-no-index.js')],
  ['apache-fs-no-search', () => import('../rules/apache-fs-no-search.js')],
  ['apache-fs-root-missing', () => import('../rules/apache-fs-root-missing.js')],
  ['apache-fs-symlink', () => import('../rules/apache-fs-symlink.js')],
  ['apache-fs-unreadable', () => import('../rules/apache-fs-unreadable.js')],
  ['apache-htaccess-directive-not-allowed', () => import('../rules/apache-htaccess-directive-not-allowed.js')],
  ['apache-htaccess-ignored', () => import('../rules/apache-htaccess-ignored.js')],
  ['apache-legacy-access-control', () => import('../rules/apache-legacy-access-control.js')],
  ['apache-limit-leaves-methods', () => import('../rules/apache-limit-leaves-methods.js')],
  ['apache-location-overrides-files-deny', () => import('../rules/apache-location-overrides-files-deny.js')],
  ['apache-mixed-access-syntax', () => import('../rules/apache-mixed-access-syntax.js')],
  ['apache-no-index-no-indexes', () => import('../rules/apache-no-index-no-indexes.js')],
  ['apache-options-drops-followsymlinks', () => import('../rules/apache-options-drops-followsymlinks.js')],
  ['apache-refused-arguments', () => import('../rules/apache-refused-arguments.js')],
  ['apache-rewrite-without-followsymlinks', () => import('../rules/apache-rewrite-without-followsymlinks.js')],
  ['apache-sslrequiressl-plain-http', () => import('../rules/apache-sslrequiressl-plain-http.js')],
  ['nginx-access-list-replaced', () => import('../rules/nginx-access-list-replaced.js')],
  ['nginx-deny-all-root', () => import('../rules/nginx-deny-all-root.js')],
  ['nginx-directory-index-forbidden', () => import('../rules/nginx-directory-index-forbidden.js')],
  ['nginx-fs-no-index', () => import('../rules/nginx-fs-no-index.js')],
  ['nginx-fs-no-search', () => import('../rules/nginx-fs-no-search.js')],
  ['nginx-fs-root-missing', () => import('../rules/nginx-fs-root-missing.js')],
  ['nginx-fs-symlink', () => import('../rules/nginx-fs-symlink.js')],
  ['nginx-fs-unreadable', () => import('../rules/nginx-fs-unreadable.js')],
  ['nginx-htpasswd-missing', () => import('../rules/nginx-htpasswd-missing.js')],
  ['nginx-invalid-referer-403', () => import('../rules/nginx-invalid-referer-403.js')],
  ['nginx-limit-except-denies', () => import('../rules/nginx-limit-except-denies.js')],
  ['nginx-misleading-403', () => import('../rules/nginx-misleading-403.js')],
  ['nginx-proxy-cache-403', () => import('../rules/nginx-proxy-cache-403.js')],
  ['nginx-return-403-server', () => import('../rules/nginx-return-403-server.js')],
  ['nginx-satisfy-auth-combination', () => import('../rules/nginx-satisfy-auth-combination.js')],
  ['nginx-sensitive-path-403', () => import('../rules/nginx-sensitive-path-403.js')],
  ['nginx-shadowed-allow', () => import('../rules/nginx-shadowed-allow.js')],
  ['nginx-shadowed-deny', () => import('../rules/nginx-shadowed-deny.js')],
];

/** Ids of every rule, without loading any. */
export const RULE_IDS: readonly string[] = RULE_MANIFEST.map(([id]) => id);

/** The servers a rule id is for, from its prefix. */
export function serversOfId(id: string): readonly ServerKind[] {
  return id.startsWith('nginx-') ? ['nginx'] : id.startsWith('apache-') ? ['apache'] : ['nginx', 'apache'];
}

const loaded = new Map<string, Promise<Rule<string, object>>>();

function loadOne(id: string, load: Loader): Promise<Rule<string, object>> {
  let p = loaded.get(id);
  if (!p) {
    p = load().then((m) => m.default as Rule<string, object>);
    loaded.set(id, p);
  }
  return p;
}

/** The rules for these servers (every rule when none are given), in manifest order. */
export async function loadRules(servers?: readonly ServerKind[]): Promise<Rule<string, object>[]> {
  const want = RULE_MANIFEST.filter(([id]) => !servers || serversOfId(id).some((s) => servers.includes(s)));
  return Promise.all(want.map(([id, load]) => loadOne(id, load)));
}

/**
 * Stand-ins for every rule, for config validation only, built from the shipped config schema
 * (schemas/why403.schema.json, which test/docs.test.ts keeps equal to `buildSchema(rules)`): each
 * carries its id, default severity, description and options schema, so `buildSchema(stubs)` is the
 * schema of the real rules and a config can be validated without loading a single rule module.
 * Null when the file is missing, unreadable, or does not name exactly the rules of the manifest
 * (the caller then validates with the real rules).
 */
export function ruleStubsFromSchema(file: string): Rule<string, object>[] | null {
  try {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { properties?: { rules?: { properties?: Record<string, SchemaRule> } } };
    const props = schema.properties?.rules?.properties;
    if (!props) return null;
    const ids = Object.keys(props);
    if (ids.length !== RULE_IDS.length || ids.some((id) => !RULE_IDS.includes(id))) return null;
    const stubs: Rule<string, object>[] = [];
    for (const id of RULE_IDS) {
      const p = props[id];
      const m = /^([\s\S]*) \(default: (info|warning|error)\)$/.exec(p.description ?? '');
      const options = p.anyOf?.[1]?.items?.[1];
      if (!m || !options || typeof options !== 'object') return null;
      stubs.push({
        id,
        servers: serversOfId(id),
        severity: m[2] as ReportSeverity,
        description: m[1],
        category: 'other',
        fixable: false,
        messages: {},
        options: options as OptionsSchema,
        check: () => {},
        docsUrl: docsUrl(id),
      });
    }
    return stubs;
  } catch {
    return null;
  }
}

interface SchemaRule {
  description?: string;
  anyOf?: Array<{ items?: unknown[] }>;
}
