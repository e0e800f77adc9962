/**
 * `explain` for nginx: run the request through src/nginx/model's simulator and turn its result into an
 * Explanation — verdict, catalog cause, the trace with the step that decided, the access rules in the
 * order nginx evaluates them, and what would change the answer.
 */
import type { ConfigSet, Directive } from '../ast.js';
import {
  accessList,
  DiskFs,
  parseClient,
  resolveWorker,
  ruleMatches,
  selectServer,
  simulate,
  type NginxModel,
  type Outcome as NgOutcome,
  type Scope,
  type SimResult,
  type TraceStep,
} from '../nginx/model/index.js';
import { modelFor } from '../model/index.js';
import { causeTitle } from './causes.js';
import {
  baseRequest,
  commonAssumptions,
  configProblems,
  directiveText,
  finishVerdict,
  fmtLoc,
  locationOf,
  outcomeName,
  type ExplainOptions,
  modelOptions,
} from './common.js';
import { basicAuth, type ExplainRequest } from './request.js';
import { checkCredentials, diskCredentialFs } from '../auth/htpasswd.js';
import type { Explanation, ExplainStep, PossibleOutcome } from './types.js';

const scopeIndexes = new WeakMap<NginxModel, Map<Directive, Scope>>();

/** Every scope of the model, keyed by the directives directly in it (built once per model: a lint
 * run explains one sample request per proved finding, issue 12). */
function scopeIndex(model: NginxModel): Map<Directive, Scope> {
  const cached = scopeIndexes.get(model);
  if (cached) return cached;
  const m = new Map<Directive, Scope>();
  scopeIndexes.set(model, m);
  const visit = (s: Scope) => {
    for (const d of s.body) m.set(d, s);
    for (const l of s.locations) visit(l);
    for (const i of s.ifs) visit(i);
    if (s.limitExcept) visit(s.limitExcept);
  };
  visit(model.http);
  for (const s of model.servers) visit(s);
  return m;
}

function accessDetails(step: TraceStep, scopes: Map<Directive, Scope>): string[] | undefined {
  if (step.phase !== 'access' || !step.directive || (step.directive.name !== 'allow' && step.directive.name !== 'deny')) return undefined;
  const scope = scopes.get(step.directive);
  if (!scope) return undefined;
  const list = accessList(scope);
  if (list.rules.length === 0) return undefined;
  const addr = /matches (\S+?)(?::|$| \()/.exec(step.message)?.[1] ?? /matches (\S+)/.exec(step.message)?.[1];
  const client = addr ? parseClient(addr) : null;
  if (!client) return undefined;
  const out: string[] = [`the rules in the order evaluated (from ${scopeLabelOf(list.from)}):`];
  let decided = false;
  list.rules.forEach((r, i) => {
    const where = r.directive ? `line ${r.directive.nameSpan.start.line}` : '';
    if (decided) {
      out.push(`  ${i + 1}. ${r.action} ${r.text} (${where}): not reached`);
      return;
    }
    const hit = ruleMatches(r, client);
    if (hit) decided = true;
    out.push(
      `  ${i + 1}. ${r.action} ${r.text} (${where}): ${hit ? `matches ${client.text} → ${r.action === 'deny' ? '403' : 'allowed'}` : `does not match ${client.text}`}${r.error ? ` (nginx refuses it: ${r.error})` : ''}`,
    );
  });
  if (!decided) out.push('  no rule matches: the access module declines (allowed)');
  return out;
}

function scopeLabelOf(s: Scope | null): string {
  if (!s) return 'nowhere';
  if (!s.block) return s.kind;
  return [s.block.name, ...s.block.args.map((a) => a.raw)].join(' ');
}

function toPossible(o: NgOutcome): PossibleOutcome {
  const p: PossibleOutcome = {
    status: o.status,
    outcome: outcomeName(o.status, o.outcome),
    cause: o.cause ?? null,
    causeTitle: causeTitle(o.cause),
    when: o.when,
  };
  if (o.disk) p.disk = true;
  return p;
}

function suggestions(
  r: SimResult,
  decisive: ExplainStep | null,
  req: ExplainRequest,
  scopes: Map<Directive, Scope>,
  decisiveDirective: Directive | null,
): string[] {
  const out: string[] = [];
  const at = decisive ? fmtLoc(decisive.at) : '';
  if (r.status === 403) {
    switch (r.cause) {
      case 'N01':
      case 'N02': {
        const scope = decisiveDirective ? scopes.get(decisiveDirective) : undefined;
        out.push(`\`allow ${req.clientIp};\` before ${decisive?.directive ?? 'the deny'} at ${at} would let this client in`);
        if (scope && scope.kind !== 'location' && scope.kind !== 'limit_except')
          out.push(
            `the rules come from ${scopeLabelOf(scope)}; any allow or deny inside the location replaces all of them (they are not merged)`,
          );
        if (r.cause === 'N02') out.push(`or list ${req.method} in the limit_except methods`);
        break;
      }
      case 'N03':
        out.push('under `satisfy any` one passing check is enough: an `allow` for this client, or valid credentials, would let it in');
        break;
      case 'N04':
        out.push(`create the auth_basic_user_file named at ${at} (nginx answers 403, not 401, when it is missing)`);
        break;
      case 'N05':
        out.push('the auth_request endpoint decides: look at the application behind it');
        break;
      case 'N06':
        if (decisiveDirective && scopes.get(decisiveDirective)?.kind === 'if') {
          const cond = scopes.get(decisiveDirective)!.block!;
          out.push(
            `\`return 403\` at ${at} runs when \`if (${cond.args
              .map((a) => a.raw)
              .join(' ')
              .replace(
                /^\(|\)$/g,
                '',
              )})\` holds, and it holds for this request (the trace shows the values): a request for which it does not hold is not refused here`,
          );
          break;
        }
        out.push(
          `\`return 403\` at ${at} runs in the rewrite phase, before any allow/deny or auth: remove it, or move it into an \`if\` or another location`,
        );
        break;
      case 'N08':
        out.push(`try_files at ${at} ends in =403 when no candidate exists: create one of its candidates, or end it with =404`);
        break;
      case 'N09':
        out.push(`error_page at ${at} turns the original error into 403: the original error is earlier in the trace`);
        break;
      case 'N10':
        out.push('give the worker user read permission on the file and search (x) permission on every directory above it');
        break;
      case 'N11':
      case 'N14':
        out.push(`disable_symlinks refuses the symlink: replace the link with the file, or relax disable_symlinks (${at})`);
        break;
      case 'N12':
        out.push(`put an index file (one of the \`index\` names, default index.html) in the directory, or set \`autoindex on;\``);
        break;
      case 'N13':
        out.push('give the worker user search (x) permission on the directory and its ancestors');
        break;
      case 'N15':
      case 'N16':
        out.push('give the worker user read permission on the directory');
        break;
    }
  } else if (r.status === 401) {
    out.push(
      req.user
        ? 'the credentials are refused'
        : 'this is an authentication challenge, not a 403: run with --user NAME to see the answer for an authenticated client',
    );
  } else if (r.status === null && r.possibleOutcomes.some((o) => o.when.some((c) => /exist|is a (file|dir)/.test(c)))) {
    out.push('run with --fs to read the files from disk (with --path-map FROM=TO when the config is checked out elsewhere)');
  }
  return out;
}

export function explainNginx(set: ConfigSet, configPath: string, req: ExplainRequest, opts: ExplainOptions): Explanation {
  const cwd = opts.cwd ?? process.cwd();
  const view = modelFor(set, modelOptions(opts));
  if (view.server !== 'nginx') throw new Error('explainNginx needs an nginx config set');
  const model = view.tree;
  let host = req.host;
  let hostFrom = req.hostFrom;
  if (host === undefined) {
    const def = selectServer(model, { port: req.port });
    const name = def.server?.names.find((n) => n.kind === 'exact' && n.name !== '' && n.name !== '_' && !n.name.startsWith('.'));
    if (name) {
      host = name.name;
      hostFrom = 'default';
    }
  }
  const headers: Record<string, string> = { ...req.headers };
  // a client sends the URL's port in its Host header when it is not the scheme's default (RFC 9110
  // 7.2; curl does): $http_host carries it, $host and the server_name match drop it
  if (
    hostFrom === 'url' &&
    host !== undefined &&
    req.port !== (req.scheme === 'https' ? 443 : 80) &&
    !Object.keys(headers).some((k) => k.toLowerCase() === 'host')
  )
    headers.Host = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${req.port}`;
  if (req.user && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization'))
    headers.Authorization = basicAuth(req.user, req.password);
  const fs = opts.fs ? new DiskFs(opts.pathMap) : undefined;
  // --user: the credentials are valid; --auth user:password: checked against the user file in force.
  const credentialFs = req.password !== undefined ? diskCredentialFs(opts.pathMap) : null;
  const credentials = credentialFs
    ? (file: string, user: string, password: string) => {
        const c = checkCredentials(file, user, password, credentialFs, 'nginx');
        return c === 'valid' ? true : c === 'invalid' || c === 'unknown-user' ? false : null;
      }
    : req.user
      ? ('valid' as const)
      : undefined;
  const brief = opts.brief === true;
  const r = simulate(model, {
    ...(credentials ? { credentials } : {}),
    // a proof reads nothing of an unknown status: stop exploring once the status is known to be null
    ...(brief ? { statusOnly: true } : {}),
    method: req.method,
    uri: req.target,
    host,
    ...(req.absoluteTarget && host !== undefined ? { lineHost: host } : {}),
    port: req.port,
    clientIp: req.clientIp,
    scheme: req.scheme,
    headers,
    fs,
    prefix: opts.prefix,
    // the `user` setting (lint --user) names the worker instead of the config's `user` directive
    ...(fs && opts.settings?.user ? { worker: resolveWorker(opts.settings.user) } : {}),
  });

  const { status, cause } = r;
  const outcomeKind: string = r.outcome;
  const possible = r.possibleOutcomes;
  const outcome = outcomeName(status, outcomeKind);
  // the scope of each directive, for the access rules' details and the suggestions: neither is in a
  // brief explanation, and the index is a map entry per directive of the config (issue 12, memory)
  const scopes = brief ? null : scopeIndex(model);
  const di = r.decisive;
  // an unknown status: the step that decided the possibility the trace follows (possible[0])
  const tdi = status === null && possible.length ? r.traceDecisive : -1;
  // brief (a proof) and no status: the trace is read only when the possibility it follows rests on
  // the disk alone (the proof then holds under those assumptions, src/model/proof.ts)
  const steps: ExplainStep[] = (brief && status === null && !possible[0]?.disk ? [] : r.trace).map((t, i) => {
    const details = scopes ? accessDetails(t, scopes) : undefined;
    return {
      n: i + 1,
      phase: t.phase,
      message: t.message,
      at: locationOf(t.directive, cwd),
      directive: brief && i !== di && i !== tdi ? null : directiveText(t.directive),
      decisive: i === di,
      ...(details ? { details } : {}),
    };
  });
  const decisive = di >= 0 ? (steps[di] ?? null) : null;
  const possibleOutcomes = possible.map(toPossible);
  const traced = tdi >= 0 ? steps[tdi] : undefined;
  if (traced?.at && traced.directive)
    possibleOutcomes[0].decidedBy = { file: traced.at.file, line: traced.at.line, column: traced.at.column, directive: traced.directive };
  const { errors, warnings } = brief ? { errors: [], warnings: [] } : configProblems(set, cwd);
  const assumptions = commonAssumptions(req, host, hostFrom, opts.fs);
  if (opts.prefix) assumptions.push(`relative paths resolve against the prefix ${opts.prefix}`);
  const exp: Explanation = {
    version: 1,
    server: 'nginx',
    config: configPath,
    request: baseRequest(req, host, hostFrom),
    status,
    outcome,
    cause: status === 403 && cause ? { id: cause, title: causeTitle(cause) } : null,
    verdict: '',
    decidedBy:
      decisive && decisive.at && decisive.directive
        ? { file: decisive.at.file, line: decisive.at.line, column: decisive.at.column, directive: decisive.directive }
        : null,
    fs: opts.fs,
    possibleOutcomes,
    mayAlso: r.mayAlso.map(toPossible),
    trace: steps,
    traceAssumes: status === null && possible.length ? r.assumes : [],
    assumptions,
    unknowns: r.unknowns,
    suggestions: scopes ? suggestions(r, decisive, req, scopes, r.decidedBy) : [],
    configErrors: [...errors, ...warnings],
  };
  if (!brief) exp.verdict = finishVerdict(status, outcome, cause, decisive, possibleOutcomes, opts.fs);
  return exp;
}
