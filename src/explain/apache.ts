/**
 * `explain` for Apache httpd: run the request through src/apache/model's simulator and turn its result
 * into an Explanation — verdict, catalog cause, the trace with the step that decided (the model's
 * `decidedBy`), the sections merged, and what would change the answer.
 */
import type { ConfigSet, Directive } from '../ast.js';
import { diskFs, selectServer, simulate, type SimResult } from '../apache/model/index.js';
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
  modelOptions,
  type ExplainOptions,
} from './common.js';
import type { ExplainRequest } from './request.js';
import { checkCredentials, describeCredentials, diskCredentialFs } from '../auth/htpasswd.js';
import type { CredentialCheck } from '../apache/model/sim/state.js';
import type { PathMapping } from '../ast.js';
import { HtaccessReader } from './htaccess.js';

/** `--auth user:password`: the password checked against the AuthUserFile in force, as mod_authn_file does. */
function passwordCheck(pathMap: PathMapping[] | undefined): CredentialCheck {
  const fs = diskCredentialFs(pathMap ?? []);
  return (file, user, password) => {
    const c = checkCredentials(file, user, password, fs, 'apache');
    const verdict = c === 'valid' ? 'valid' : c === 'invalid' || c === 'unknown-user' ? 'invalid' : 'unknown';
    return { verdict, why: describeCredentials(c, user, file) };
  };
}
import type { Explanation, ExplainStep } from './types.js';

/** Where a trace step points: its directive, or the column of the expression part it evaluated. */
function stepAt(t: SimResult['trace'][number], cwd: string) {
  const at = locationOf(t.directive, cwd);
  return at && t.at ? { ...at, line: t.at.line, column: t.at.column } : at;
}

/** The step that decided: the last trace step about the model's `decidedBy` directive. */
function decisiveIndex(r: SimResult): number {
  if (r.status === null || !r.decidedBy) return -1;
  for (let i = r.trace.length - 1; i >= 0; i--) if (r.trace[i].directive === r.decidedBy) return i;
  return -1;
}

function suggestions(r: SimResult, at: string, req: ExplainRequest): string[] {
  const out: string[] = [];
  if (r.status === 403) {
    switch (r.cause) {
      case 'A01':
        out.push(
          `a \`Require ip ${req.clientIp}\` (or \`Require all granted\`) in the section that decided, at ${at}, would let this client in`,
        );
        break;
      case 'A02':
        out.push(
          'the user is authenticated but not authorized: `Require user`/`Require valid-user` decide; with AuthzSendForbiddenOnFailure Off this is a 401',
        );
        break;
      case 'A04':
        out.push(
          `\`Allow from ${req.clientIp}\` (with \`Order deny,allow\`), or the 2.4 form \`Require ip ${req.clientIp}\`, would let this client in (${at})`,
        );
        break;
      case 'A05':
        out.push(
          'the old Order/Allow grant does not lift an inherited `Require all denied`: use `Require all granted` (or `Require ip …`) in this section instead',
        );
        break;
      case 'A06':
        out.push(
          'grant the directory the URL maps to: `<Directory /its/path> Require all granted </Directory>` (the default `<Directory />` denies everything else)',
        );
        break;
      case 'A07':
        out.push('.ht* files are denied on purpose (they hold passwords and overrides); serve the content under another name');
        break;
      case 'A10':
        out.push(`${req.method} is denied by a method-limited Require (<Limit>/<LimitExcept>) at ${at}`);
        break;
      case 'A11':
        out.push(
          'allow the symlink with `Options +FollowSymLinks` (or +SymLinksIfOwnerMatch with matching owners) on the directory that holds it, and check that its target exists',
        );
        break;
      case 'A12':
        out.push('give the worker user (User/Group) search (x) permission on every directory of the path');
        break;
      case 'A16':
        out.push('make the .htaccess file readable by the worker user, or set `AllowOverride None` for that directory');
        break;
      case 'A17':
        out.push('give the worker user read permission on the file');
        break;
      case 'A18':
        out.push('add a DirectoryIndex file (e.g. index.html) to the directory, or `Options +Indexes` to allow a listing');
        break;
      case 'A19':
        out.push('give the worker user read permission on the directory');
        break;
      case 'A20':
        out.push('the DirectoryIndex file itself is forbidden: its own access check is earlier in the trace');
        break;
      case 'A23':
      case 'A24':
        out.push(`the RewriteRule at ${at} forbids this URL on purpose`);
        break;
      case 'A25':
        out.push(
          'per-directory RewriteRules need `Options +FollowSymLinks` or `+SymLinksIfOwnerMatch` in that context; every request there is 403 until one is set',
        );
        break;
      case 'A29':
        out.push(`the Redirect 403 at ${at} forbids this URL on purpose`);
        break;
      case 'A30':
        out.push('add `Options +ExecCGI` to the directory, or serve the script through ScriptAlias');
        break;
    }
  } else if (r.status === 401) {
    out.push(
      req.user
        ? 'the user is authenticated but not authorized (401, because AuthzSendForbiddenOnFailure is Off)'
        : 'this is an authentication challenge, not a 403: run with --user NAME to see the answer for an authenticated client',
    );
  } else if (r.status === null && r.possibleOutcomes.length) {
    out.push(
      'run with --fs to read the files (and .htaccess files) from disk (with --path-map FROM=TO when the config is checked out elsewhere)',
    );
  }
  if (!req.absoluteTarget && r.unknowns.some((u) => u.startsWith('AllowOverride lets '))) {
    out.push('--htaccess reads only the .htaccess files on the way (no other file, mode or owner), as lint proves a finding in one');
  }
  return out;
}

export function explainApache(set: ConfigSet, configPath: string, req: ExplainRequest, opts: ExplainOptions): Explanation {
  const cwd = opts.cwd ?? process.cwd();
  const view = modelFor(set, modelOptions(opts));
  if (view.server !== 'apache') throw new Error('explainApache needs an Apache config set');
  const model = view.tree;
  let host = req.host;
  let hostFrom = req.hostFrom;
  if (host === undefined) {
    const s = selectServer(model, undefined, req.port);
    const name = s.serverName ?? model.main.serverName;
    if (name) {
      host = name;
      hostFrom = 'default';
    }
  }
  const htaccess = opts.fs
    ? undefined
    : (opts.htaccess ?? (opts.readHtaccess ? new HtaccessReader(model.accessFileNames, opts.pathMap) : undefined));
  const r = simulate(model, {
    method: req.method,
    uri: req.absoluteTarget ?? req.target,
    host,
    port: req.port,
    clientIp: req.clientIp,
    // a client sends the URL's port in its Host header when it is not the scheme's default
    headers:
      !req.absoluteTarget &&
      hostFrom === 'url' &&
      req.port !== (req.scheme === 'https' ? 443 : 80) &&
      !Object.keys(req.headers).some((k) => k.toLowerCase() === 'host')
        ? { ...req.headers, Host: `${host}:${req.port}` }
        : req.headers,
    user: req.user ?? null,
    ...(req.user && req.password !== undefined ? { password: req.password, credentials: passwordCheck(opts.pathMap) } : {}),
    fs: opts.fs ? diskFs(opts.pathMap) : null,
    ...(htaccess ? { htaccess } : {}),
  });
  const di = decisiveIndex(r);
  const brief = opts.brief === true;
  const steps: ExplainStep[] = r.trace.map((t, i) => ({
    n: i + 1,
    phase: t.phase,
    message: t.message,
    at: stepAt(t, cwd),
    // (brief: a proof reads the deciding step's directive text only)
    directive: brief && i !== di ? null : directiveText(t.directive),
    decisive: i === di,
  }));
  let decisive = di >= 0 ? steps[di] : null;
  // A decision whose directive never showed in the trace still gets a step, so the trace names it.
  if (!decisive && r.status !== null && r.decidedBy) {
    decisive = {
      n: steps.length + 1,
      phase: 'decision',
      message: r.message,
      at: locationOf(r.decidedBy, cwd),
      directive: directiveText(r.decidedBy),
      decisive: true,
    };
    steps.push(decisive);
  }
  const outcome = outcomeName(r.status, r.outcome);
  const possibleOutcomes = r.possibleOutcomes.map((p) => ({
    status: p.status,
    outcome: outcomeName(p.status, p.outcome),
    cause: p.cause,
    causeTitle: causeTitle(p.cause),
    when: p.when,
    // rests on the disk alone (what --fs decides; src/model/proof.ts proves under it)
    ...(p.disk ? { disk: true as const } : {}),
  }));
  const { errors, warnings } = brief ? { errors: [], warnings: [] } : configProblems(set, cwd);
  const assumptions = commonAssumptions(req, host, hostFrom, opts.fs);
  if (opts.readHtaccess && !opts.fs && !opts.htaccess)
    assumptions.push(
      `the ${model.accessFileNames.join('/')} files of the directories the request walks were read from disk (--htaccess); nothing else on disk was`,
    );
  assumptions.push(
    `the worker runs as ${model.user}:${model.group}${model.userDirective ? ` (User at ${fmtLoc(locationOf(model.userDirective, cwd))})` : ' (the default)'}`,
  );
  const sections = brief
    ? []
    : r.sections.map((s) => `${s.label}${s.directive ? ` (${fmtLoc(locationOf(s.directive as Directive, cwd))})` : ''}`);
  const exp: Explanation = {
    version: 1,
    server: 'apache',
    config: configPath,
    request: baseRequest(req, host, hostFrom),
    status: r.status,
    outcome,
    cause: r.status === 403 && r.cause ? { id: r.cause, title: causeTitle(r.cause) } : null,
    verdict: '',
    decidedBy: decisive && decisive.at && decisive.directive ? { ...decisive.at, directive: decisive.directive } : null,
    fs: opts.fs,
    possibleOutcomes,
    mayAlso: [],
    trace: steps,
    // the possibility the trace shows (the default handler's "the file exists and is readable")
    traceAssumes: r.tracesFirst ? possibleOutcomes[0].when : [],
    assumptions,
    unknowns: r.unknowns,
    suggestions: brief ? [] : suggestions(r, decisive ? fmtLoc(decisive.at) : '', req),
    configErrors: [...errors, ...warnings],
  };
  if (sections.length && !brief) {
    // The other sections of this server, and why they did not apply.
    const applied = new Set(r.sections.map((x) => x.directive).filter(Boolean));
    const all = [...r.server.directories, ...r.server.regexDirectories, ...r.server.locations];
    if (r.server !== model.main) all.push(...model.main.directories, ...model.main.regexDirectories, ...model.main.locations);
    const seen = new Set<Directive>();
    const others: string[] = [];
    for (const sec of all) {
      if (applied.has(sec.directive) || seen.has(sec.directive)) continue;
      seen.add(sec.directive);
      const what =
        sec.kind === 'location' || sec.kind === 'locationmatch' ? `the URI ${req.target.split('?')[0]}` : (r.filename ?? 'the file name');
      others.push(`${directiveText(sec.directive)} (${fmtLoc(locationOf(sec.directive, cwd))}) does not match ${what}`);
    }
    const details = others.length > 20 ? [...others.slice(0, 20), `… and ${others.length - 20} more`] : others;
    exp.trace.push({
      n: exp.trace.length + 1,
      phase: 'merged',
      message: `sections merged, in order: ${sections.join(', ')}`,
      at: null,
      directive: null,
      decisive: false,
      ...(details.length ? { details: ['not applied:', ...details.map((d) => `  ${d}`)] } : {}),
    });
  }
  if (r.status === 403 || r.status === null) {
    // The final message (e.g. "AH01630: client denied…") is what Apache logs.
    if (r.message && decisive && decisive.message !== r.message) decisive.details = [`Apache logs: ${r.message}`];
  }
  exp.verdict = finishVerdict(r.status, outcome, r.cause, decisive, possibleOutcomes, opts.fs);
  return exp;
}
