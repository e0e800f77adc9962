/**
 * The checks mod_authz_core makes while it reads `Require` lines and `<RequireAll|Any|None>`
 * sections, with its own words; each one makes httpd refuse the configuration (apache2 -t:
 * AH00526 "Syntax error on line N", AH01624 after the whole file was read; a .htaccess answers 500):
 *
 * - `Require <provider>` names no provider httpd knows: `Unknown Authz provider: ALL` (names are
 *   case-sensitive; `not` is not);
 * - a negative item in an OR container (the implicit top-level one of every `<Directory>`,
 *   `<Files>`, `<Location>`, `<If>`, .htaccess …, `<RequireAny>`, `<RequireNone>`):
 *   `negative Require directive has no effect in <RequireAny> directive`,
 *   `<RequireNone> directive has no effect in <RequireAny> directive`;
 * - an empty container: `<RequireAll> directive contains no authorization directives`;
 * - a `<RequireAll>` whose items are all negative once a `<RequireNone>` inside it is expanded by
 *   De Morgan (AH01624): `<RequireAll> directive contains only negative authorization directives`;
 * - `Require all` takes exactly `granted` or `denied`; `Require ip` needs an argument.
 *
 * Verified with `apache2 -t` (2.4.71, Debian) on small configs (test/unknown-directives.test.ts).
 * Sections httpd may skip unread (`skips`) are not looked into.
 */
import type { Diagnostic, Directive, Node } from '../ast.js';
import { closestName } from '../suggest.js';

/** Authz providers of Debian's apache2 modules: mod_authz_core, _host, _user, _groupfile, _owner,
 * _dbm, _dbd and mod_authnz_ldap. */
const PROVIDERS = [
  'all',
  'env',
  'method',
  'expr',
  'ip',
  'host',
  'local',
  'forward-dns',
  'user',
  'valid-user',
  'group',
  'file-owner',
  'file-group',
  'dbm-group',
  'dbd-group',
  'ldap-user',
  'ldap-group',
  'ldap-dn',
  'ldap-attribute',
  'ldap-filter',
  'ldap-search',
];

/** Sections that start a new per-directory configuration, so a new implicit `<RequireAny>`. */
const PER_DIR = new Set([
  'directory',
  'directorymatch',
  'files',
  'filesmatch',
  'location',
  'locationmatch',
  'proxy',
  'proxymatch',
  'if',
  'elseif',
  'else',
]);
const CONTAINERS: Record<string, { name: string; or: boolean; negate: boolean }> = {
  requireall: { name: 'RequireAll', or: false, negate: false },
  requireany: { name: 'RequireAny', or: true, negate: false },
  requirenone: { name: 'RequireNone', or: true, negate: true },
};

interface Section {
  node: Directive | null;
  name: string;
  or: boolean;
  negate: boolean;
  items: Section[];
}

type Report = (node: Directive, message: string, severity?: 'error' | 'warning', arg?: number) => void;

/**
 * Check the `Require` structure of a parsed Apache file. `topPerDir`: the file's top level is a
 * per-directory configuration (.htaccess, a file included inside `<Directory>`). `skips(d)`: httpd
 * may not read the body of section `d`.
 */
export function checkAuthz(nodes: Node[], topPerDir: boolean, skips: (d: Directive) => boolean, file: string, errors: Diagnostic[]): void {
  const report: Report = (node, message, severity = 'error', arg) => {
    const span = arg !== undefined && node.args[arg] ? node.args[arg].span : { start: node.nameSpan.start, end: node.span.end };
    const s = node.block && arg === undefined ? { start: node.blockSpan!.start, end: node.nameSpan.end } : span;
    errors.push({ code: 'authz-config', message, file, span: s, severity });
  };
  const scope = (body: Node[]) => {
    const top: Section = { node: null, name: 'RequireAny', or: true, negate: false, items: [] };
    let failed = false;
    const walk = (ns: Node[], cur: Section) => {
      for (const n of ns) {
        if (n.type !== 'directive') continue;
        if (n.block) {
          if (skips(n)) continue;
          if (PER_DIR.has(n.key)) {
            scope(n.block);
            continue;
          }
          const c = CONTAINERS[n.key];
          if (!c) {
            walk(n.block, cur); // <Limit>, <LimitExcept>, an <IfModule> that holds, …
            continue;
          }
          if (c.negate && cur.or) {
            report(n, `<${c.name}> directive has no effect in <${cur.name}> directive`);
            failed = true;
            continue;
          }
          const sec: Section = { node: n, name: c.name, or: c.or, negate: c.negate, items: [] };
          walk(n.block, sec);
          if (sec.items.length === 0) {
            if (!failed) report(n, `<${c.name}> directive contains no authorization directives`);
            failed = true;
          }
          cur.items.push(sec);
          continue;
        }
        if (n.key !== 'require') continue;
        const args = n.args.map((a) => a.value);
        const negate = args.length > 0 && args[0].toLowerCase() === 'not';
        const pi = negate ? 1 : 0;
        const provider = args[pi] ?? '';
        if (!PROVIDERS.includes(provider)) {
          const guess = provider ? closestName(provider, PROVIDERS, (s) => s.toLowerCase()) : null;
          if (guess)
            report(
              n,
              `Unknown Authz provider: ${provider}: did you mean '${guess}'?` +
                (guess.toLowerCase() === provider.toLowerCase() ? ' (provider names are case-sensitive)' : ''),
              'error',
              pi,
            );
          else
            report(
              n,
              `Unknown Authz provider: ${provider}` +
                (provider ? ' (unless a module why403 does not know provides it; with Debian modules only, apache2 refuses this)' : ''),
              provider ? 'warning' : 'error',
            );
          failed = true;
          continue;
        }
        if (negate && cur.or) {
          report(n, `negative Require directive has no effect in <${cur.name}> directive`);
          failed = true;
          continue;
        }
        const rest = args.slice(pi + 1);
        if (provider === 'all' && (rest.length !== 1 || !/^(granted|denied)$/i.test(rest[0]))) {
          report(n, `Argument for 'Require all' must be 'granted' or 'denied'`);
          failed = true;
          continue;
        }
        if (provider === 'ip' && rest.length === 0) {
          report(n, `'require ip' requires an argument`);
          failed = true;
          continue;
        }
        cur.items.push({ node: n, name: 'Require', or: false, negate, items: [] });
      }
    };
    walk(body, top);
    if (!failed) onlyNegative(top, true, report);
  };
  if (topPerDir) scope(nodes);
  else {
    // server level: Require is not allowed here (another check); look into the sections
    const walk = (ns: Node[]) => {
      for (const n of ns) {
        if (n.type !== 'directive' || !n.block || skips(n)) continue;
        if (PER_DIR.has(n.key)) scope(n.block);
        else walk(n.block);
      }
    };
    walk(nodes);
  }
}

/** authz_core_check_section (AH01624): a container whose items are all negative, after a negated
 * container of the other kind inside it was expanded (De Morgan). Returns false on the first one. */
function onlyNegative(sec: Section, isConf: boolean, report: Report): boolean {
  const flat: Section[] = [];
  for (const c of sec.items) {
    if (c.items.length > 0) {
      if (!onlyNegative(c, false, report)) return false;
      if (c.negate && c.or !== sec.or) {
        for (const g of c.items) flat.push({ ...g, negate: !g.negate });
        continue;
      }
    }
    flat.push(c);
  }
  if (sec.items.length === 0 || flat.some((c) => !c.negate)) return true;
  const what = isConf ? '<Directory>, <Location>, or similar' : `<${sec.name}>`;
  if (sec.node) report(sec.node, `${what} directive contains only negative authorization directives`);
  return false;
}
