/**
 * Arguments that make httpd refuse the configuration (apache2 -t: AH00526 "Syntax error on line N";
 * a .htaccess answers 500 to every request below its directory) for the access-control directives
 * of mod_access_compat, mod_authz_core, mod_authn_core, mod_auth_basic and mod_authn_file/_groupfile:
 * a wrong argument count (their TAKE1 / ITERATE2 / FLAG declarations) or a value httpd rejects.
 * The messages are httpd's own, checked with `apache2 -t` (2.4.x, Debian) in
 * test/legacy-refused.test.ts. `Require` and the `<Require…>` containers are checked by the parser
 * (src/apache/authz-check.ts); directives inside conditional sections httpd may skip unread
 * (`<IfDefine>`, `<IfVersion>`, `<IfModule>` of a module Debian does not load) are not checked.
 */
import type { Directive } from '../src/ast.js';
import { canonicalModule, DEBIAN_ENABLED_MODULES, DEBIAN_STATIC_MODULES } from '../src/apache/model/modules.js';
import { parseClient, parseSubnet } from '../src/apache/model/net.js';
import { defineRule } from '../src/rule.js';

/** TAKE1 directives: httpd's "<name> takes one argument, <help>". */
const TAKE1: Record<string, string> = {
  order: "order takes one argument, 'allow,deny', 'deny,allow', or 'mutual-failure'",
  satisfy: "Satisfy takes one argument, access policy if both allow and require used ('all' or 'any')",
  authtype: 'AuthType takes one argument, an HTTP authorization type (e.g., "Basic")',
  authname: 'AuthName takes one argument, the authentication realm (e.g. "Members Only")',
  authuserfile: 'AuthUserFile takes one argument, text file containing user IDs and passwords',
  authgroupfile: 'AuthGroupFile takes one argument, text file containing group names and member user IDs',
  authmerging:
    "AuthMerging takes one argument, controls how a <Directory>, <Location>, or similar directive's authorization directives are combined with those of its predecessor",
};

const LOADED = new Set<string>([...DEBIAN_STATIC_MODULES, ...DEBIAN_ENABLED_MODULES]);
const CONDITIONAL = new Set(['ifdefine', 'ifversion', 'iffile', 'ifdirective', 'ifsection', 'ifmodule']);

/** Inside a conditional section httpd may not read (only `<IfModule loaded-module>` is read for sure). */
function maySkip(parents: Directive[]): boolean {
  return parents.some((p) => {
    const k = p.key.replace(/^</, '');
    if (!CONDITIONAL.has(k)) return false;
    if (k !== 'ifmodule' || p.args.length !== 1) return true;
    const a = p.args[0].value;
    return a.startsWith('!') || !LOADED.has(canonicalModule(a));
  });
}

/** What httpd says about one `Allow from`/`Deny from` item, or null (only the cases we are sure of). */
function itemError(where: string): string | null {
  const lw = where.toLowerCase();
  if (lw.startsWith('env=') || lw === 'all') return null;
  const slash = where.indexOf('/');
  if (slash >= 0) {
    const ip = where.slice(0, slash);
    if (parseSubnet(where)) return null;
    if (parseClient(ip)) return 'The specified network mask is invalid.';
    if (/[g-z]/i.test(ip) && !ip.includes(':')) return 'An IP address was expected';
    return null;
  }
  if (where.includes('#') && !parseSubnet(where)) return 'No comments are allowed here';
  return null;
}

function problem(d: Directive): string | null {
  const args = d.args.map((a) => a.value);
  const k = d.key;
  if (k in TAKE1 && args.length !== 1) return TAKE1[k];
  switch (k) {
    case 'order':
      return ['allow,deny', 'deny,allow', 'mutual-failure'].includes(args[0].toLowerCase()) ? null : 'unknown order';
    case 'satisfy':
      return ['all', 'any'].includes(args[0].toLowerCase()) ? null : "Satisfy either 'any' or 'all'.";
    case 'authmerging':
      return ['off', 'and', 'or'].includes(args[0].toLowerCase()) ? null : 'AuthMerging must be one of: Off | And | Or';
    case 'authzsendforbiddenonfailure':
      return args.length === 1 && ['on', 'off'].includes(args[0].toLowerCase()) ? null : 'AuthzSendForbiddenOnFailure must be On or Off';
    case 'authbasicprovider':
      return args.length
        ? null
        : 'AuthBasicProvider requires at least one argument, specify the auth providers for a directory or location';
    case 'allow':
    case 'deny': {
      if (args.length < 2) return `${k} requires at least two arguments, 'from' followed by hostnames or IP-address wildcards`;
      if (args[0].toLowerCase() !== 'from') return "allow and deny must be followed by 'from'";
      for (const w of args.slice(1)) {
        const e = itemError(w);
        if (e) return e;
      }
      return null;
    }
  }
  return null;
}

const KEYS = [...Object.keys(TAKE1), 'allow', 'deny', 'authzsendforbiddenonfailure', 'authbasicprovider'];

export default defineRule({
  id: 'apache-refused-arguments',
  servers: ['apache'],
  severity: 'error',
  description: 'An access-control directive with arguments httpd rejects: Apache refuses to start (a .htaccess answers 500).',
  category: 'syntax',
  fixable: false,
  proof: {
    none: 'apache2 refuses to start with the line (a .htaccess answers 500); a configuration that does not start answers no request.',
  },
  messages: {
    refused: '{{message}} (apache2 refuses to start with this line; in a .htaccess every request below the directory gets 500)',
  },
  check(ctx) {
    for (const { node, ctx: w } of ctx.directives(...KEYS)) {
      if (maySkip(w.parents)) continue;
      const message = problem(node);
      if (message) ctx.report({ node, messageId: 'refused', data: { message } });
    }
  },
});
