/**
 * map_to_storage and the walks: ap_directory_walk (the `<Directory>` sections level by level, each
 * level's .htaccess, symlink and search-permission checks), the regex directories, ap_file_walk
 * (`<Files>`/`<FilesMatch>`), the Location walk, and the `<If>` sections (core's sec_if), merged in
 * httpd's order.
 */
import type { Directive, ParsedFile } from '../../../ast.js';
import { SourceFile } from '../../../source.js';
import { parseApache } from '../../parser.js';
import { withBlock } from '../../nodes.js';
import { expandAccessFile, macroTableOf } from '../../macro.js';
import { expandDirective, flatten } from '../conditions.js';
import { compileSection, kids, mergeDirConf, type DirConf, type NestedSection } from '../dirconf.js';
import { sectionExpr } from '../../expr/index.js';
import { applyEnvIf } from './env.js';
import { runExpr } from './expr.js';
import { permits, type FsStat } from '../fs.js';
import { describeOptions, effectiveOptions, OPT_SYM_LINKS, OPT_SYM_OWNER } from '../options.js';
import { checkOverride, type OverrideState } from '../overrides.js';
import { fnmatch } from '../regex.js';
import { countDirs, sectionLabel, type ServerModel } from '../sections.js';
import type { ConfigRegex } from '../../../regex-engine.js';
import { fin, simStats, type FileType, type Final, type Sim, type TraceStep } from './state.js';

/** What map_to_storage and the Location walk leave: the merged config, the file name and its type. */
export interface Walked {
  conf: DirConf;
  filename: string;
  type: FileType;
}

/** map_to_storage (directory and file walk), then the Location walk and the `<If>` sections. */
export function mapToStorage(sim: Sim, filename: string, uriPath: string, sub: boolean): Walked | Final {
  const walk = directoryWalk(sim, filename, uriPath);
  if ('status' in walk) return walk;
  sim.cur.filename = walk.filename;
  let conf = locationWalk(sim, walk.conf, uriPath);
  conf = ifWalk(sim, conf);
  if (!sub) sim.applied = conf.trail;
  // header_parser: the per-directory SetEnvIf lines (the server's own ran in post_read_request)
  const own = sim.server.base.envIf;
  const perDir = conf.envIf.length >= own.length && own.every((d, i) => conf.envIf[i] === d) ? conf.envIf.slice(own.length) : conf.envIf;
  applyEnvIf(sim, perDir);
  return { ...walk, conf };
}

/** The Location walk (overrides everything from map_to_storage). */
export function locationWalk(sim: Sim, conf: DirConf, uriPath: string): DirConf {
  for (const loc of sim.server.locations) {
    if (locationMatches(sim, loc.kind, loc.path, loc.regex, uriPath)) {
      const label = sectionLabel(loc);
      conf = mergeDirConf(conf, loc.conf, label, loc.directive);
      if (sim.tracing) sim.step('location_walk', `${label} applies`, loc.directive);
    }
  }
  return conf;
}

export function locationMatches(sim: Sim, kind: string, path: string, regex: { ok: boolean } | null, uri: string): boolean {
  if (kind === 'locationmatch') {
    const re = regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
    if (!re.ok) {
      sim.unknown(re.reason);
      return false;
    }
    return sim.rxMatches(re.re, uri);
  }
  if (/[*?[]/.test(path)) return fnmatch(path, uri);
  const p = path.replace(/\/+/g, '/');
  if (!uri.startsWith(p)) return false;
  return p.endsWith('/') || uri.length === p.length || uri[p.length] === '/';
}

/** A directory walk without a disk: its result and what it left in the request (unknowns, trace
 * steps; null when it was walked without a trace). */
interface WalkMemo {
  result: Walked | Final;
  unknowns: string[];
  steps: TraceStep[] | null;
}

/** Walks without a disk (and without .htaccess files handed in), by server and file name: such a
 * walk reads nothing but the server's sections and the file name. A lint probe's directory lookup
 * and its GET of the same file, the rules' extra requests and the proofs' explains walk the same
 * names again. Weak on the server, so a model's walks go with it. */
const walkMemo = new WeakMap<ServerModel, Map<string, WalkMemo>>();
/** A remembered walk that recorded no unknown (the others keep theirs at their length: 18,000 lists at 1,000 vhosts, grown by push with room for 17). */
const NO_UNKNOWNS: string[] = [];

/** ap_directory_walk + regex directories + ap_file_walk; remembered per server and file name when
 * the walk cannot read the disk. */
export function directoryWalk(sim: Sim, filename: string, uri: string): Walked | Final {
  if (sim.fs || sim.req.htaccess) return walkDirectories(sim, filename, uri);
  let byName = walkMemo.get(sim.server);
  if (!byName) walkMemo.set(sim.server, (byName = new Map()));
  const hit = byName.get(filename);
  if (hit && (hit.steps || !sim.tracing)) {
    simStats.walksReused++;
    for (const u of hit.unknowns) sim.unknown(u);
    if (sim.tracing) for (const t of hit.steps!) sim.trace.push(t);
    return hit.result;
  }
  const saved = sim.trace.length;
  const outer = sim.unknownLog;
  const unknowns: string[] = (sim.unknownLog = []);
  let result: Walked | Final;
  try {
    result = walkDirectories(sim, filename, uri);
  } finally {
    sim.unknownLog = outer;
  }
  if (outer) for (const u of unknowns) outer.push(u);
  byName.set(filename, {
    result,
    unknowns: unknowns.length > 0 ? unknowns.slice() : NO_UNKNOWNS,
    steps: sim.tracing ? sim.trace.slice(saved) : null,
  });
  return result;
}

/** The first index at or after `i` that is not a `/` (the length when there is none). */
function skipSlashes(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === 47) i++;
  return i;
}

function walkDirectories(sim: Sim, filename: string, uri: string): Walked | Final {
  simStats.walks++;
  const server = sim.server;
  let conf = server.base;
  const dirs = server.directories;
  let secIdx = 0;
  // the components are read from the name as the walk descends (no array of them per walk)
  const n = filename.length;
  /** start of the next component (n: none left) */
  let seg = skipSlashes(filename, 0);
  const trailing = filename.endsWith('/');
  let cur = '/';
  let type: FsStat['type'] | 'missing' | 'unknown' = 'dir';
  let finalName = filename.replace(/\/+$/, '') || '/';
  for (;;) {
    const comps = cur === '/' ? 0 : countDirs(cur);
    // <Directory> sections of this level (sorted by component count).
    for (; secIdx < dirs.length && dirs[secIdx].components <= comps; secIdx++) {
      const s = dirs[secIdx];
      if (s.components !== comps) continue;
      const match = s.wildcard ? fnmatch(s.path, cur) : s.path === cur;
      if (!match) continue;
      const label = sectionLabel(s);
      conf = mergeDirConf(conf, s.conf, label, s.directive);
      if (sim.tracing) sim.step('directory_walk', `${label} applies to ${cur}`, s.directive);
    }
    // This level's .htaccess.
    const ht = htaccess(sim, cur, conf);
    if (ht && 'status' in ht) return ht;
    if (ht) conf = ht;
    if (seg >= n) break;
    // Descend into the next component.
    let segEnd = filename.indexOf('/', seg);
    if (segEnd === -1) segEnd = n;
    const next = cur + filename.slice(seg, segEnd);
    const after = skipSlashes(filename, segEnd);
    const isLast = after >= n;
    if (sim.fs) {
      const parent = sim.fs.stat(cur.replace(/(.)\/$/, '$1'));
      if (parent && !permits(parent, sim.worker, 1)) {
        if (sim.tracing)
          sim.step(
            'directory_walk',
            `${sim.worker.user} lacks search (x) permission on ${cur} (mode ${parent.mode.toString(8)}): AH00035`,
            sim.model.userDirective,
          );
        return fin(
          403,
          'A12',
          sim.model.userDirective,
          `AH00035: access to ${uri} denied because search permissions are missing on a component of the path`,
        );
      }
      const ls = sim.fs.lstat(next);
      if (!ls) {
        // ap_directory_walk stops at the first missing component: r->filename ends there and the
        // rest is path_info, so <Files> and <DirectoryMatch> test that component, not the last one
        type = 'missing';
        finalName = next;
        break;
      }
      let st: FsStat | null = ls;
      if (ls.type === 'symlink') {
        const o = effectiveOptions(conf.options);
        const by = conf.optionsBy[conf.optionsBy.length - 1] ?? null;
        if (!(o & (OPT_SYM_LINKS | OPT_SYM_OWNER))) {
          if (sim.tracing)
            sim.step(
              'directory_walk',
              `${next} is a symlink and Options for ${cur} (${describeOptions(o)}) allow neither FollowSymLinks nor SymLinksIfOwnerMatch: AH00037`,
              by,
            );
          return fin(403, 'A11', by, `AH00037: Symbolic link not allowed or link target not accessible: ${next}`);
        }
        st = sim.fs.stat(next);
        if (!st) {
          if (sim.tracing) sim.step('directory_walk', `${next} is a dangling symlink: AH00037`, by);
          return fin(403, 'A11', by, `AH00037: Symbolic link not allowed or link target not accessible: ${next}`);
        }
        if (o & OPT_SYM_OWNER && st.uid !== ls.uid) {
          if (sim.tracing)
            sim.step(
              'directory_walk',
              `${next}: SymLinksIfOwnerMatch and the link owner (${ls.uid}) differs from the target owner (${st.uid}): AH00037`,
              by,
            );
          return fin(403, 'A11', by, `AH00037: Symbolic link not allowed or link target not accessible: ${next}`);
        }
      }
      if (st.type === 'file') {
        type = 'file';
        finalName = next;
        if (!isLast) {
          type = 'file'; // PATH_INFO follows; AcceptPathInfo default for static files gives 404
          return fin(404, null, null, `${next} is a file and the URI has extra path info`);
        }
        break;
      }
      if (st.type === 'other') return fin(403, 'A15', null, `AH00038: Forbidden: ${next} doesn't point to a file or directory`);
      cur = next + '/';
      seg = after;
      if (isLast) {
        type = 'dir';
        finalName = next + (trailing ? '/' : '');
        // One more round merges the directory's own sections and .htaccess.
      }
      continue;
    }
    // No filesystem: intermediate components are directories; the last is a file unless the URI ends in '/'.
    if (isLast && !trailing) {
      type = 'unknown';
      finalName = next;
      break;
    }
    cur = next + '/';
    seg = after;
    if (isLast) {
      type = 'dir';
      finalName = next + '/';
    }
  }
  if (type === 'dir' && !finalName.endsWith('/') && trailing) finalName += '/';
  // The last component of a file is walked as one more level: a wildcard <Directory> meets it too
  // (checked on real Apache 2.4: `<Directory /srv/htdocs/*secret*>` applies to /srv/htdocs/topsecret.html).
  if (type !== 'dir' && !finalName.endsWith('/')) {
    const comps = countDirs(finalName + '/');
    for (const s of dirs) {
      if (!s.wildcard || s.components !== comps) continue;
      if (!fnmatch(s.path.replace(/\/+$/, ''), finalName)) continue;
      const label = sectionLabel(s);
      conf = mergeDirConf(conf, s.conf, label, s.directive);
      if (sim.tracing) sim.step('directory_walk', `${label} applies to the file ${finalName}`, s.directive);
    }
  }
  // Regex <Directory ~> / <DirectoryMatch>, in config order, against the whole filename.
  const testName = type === 'dir' ? cur : finalName;
  for (const s of server.regexDirectories) {
    if (!s.regex) continue;
    if (!s.regex.ok) {
      sim.unknown(s.regex.reason);
      continue;
    }
    if (sim.rxMatches(s.regex.re, testName)) {
      const label = sectionLabel(s);
      conf = mergeDirConf(conf, s.conf, label, s.directive);
      if (sim.tracing) sim.step('directory_walk', `${label} applies`, s.directive);
    }
  }
  // ap_file_walk: <Files>/<FilesMatch> on the last component.
  const testFile = type === 'dir' && finalName.endsWith('/') ? '' : finalName.slice(finalName.lastIndexOf('/') + 1);
  for (const f of conf.nested) {
    if (f.kind !== 'files' && f.kind !== 'filesmatch') continue;
    let m = false;
    if (f.kind === 'filesmatch') {
      if (!f.regex || !f.regex.ok) {
        if (f.regex && !f.regex.ok) sim.unknown(f.regex.reason);
        continue;
      }
      m = sim.rxMatches(f.regex.re, testFile);
    } else m = /[*?[]/.test(f.pattern) ? fnmatch(f.pattern, testFile, false) : f.pattern === testFile;
    if (m) {
      conf = mergeDirConf(conf, f.conf, `<${f.directive.name} ${f.pattern}>`, f.directive);
      if (sim.tracing) sim.step('file_walk', `<${f.directive.name} ${f.pattern}> applies to "${testFile}"`, f.directive);
    }
  }
  return { conf, filename: finalName, type };
}

/** `<If>`/`<ElseIf>`/`<Else>` sections (core's ap_if_walk): each chain in order, the first branch
 * that holds is merged, then the sections nested in it. A condition the simulator cannot evaluate is
 * recorded (simulate() re-runs the request with each value) and reads as false meanwhile, as httpd
 * reads a condition whose evaluation fails. */
export function ifWalk(sim: Sim, conf: DirConf): DirConf {
  return ifChain(sim, conf, conf.nested, 0);
}

function ifChain(sim: Sim, conf: DirConf, list: NestedSection[], depth: number): DirConf {
  let out = conf;
  /** The chain so far: true = a branch was taken, false = none yet, null = no open chain. */
  let taken: boolean | null = null;
  if (depth > 20) return out;
  for (const f of list) {
    if (f.kind === 'files' || f.kind === 'filesmatch') continue;
    const d = f.directive;
    const name = d.name.replace(/^</, '');
    if (f.kind !== 'if') {
      if (taken === null) continue; // httpd refuses the config (apache-expr-syntax)
      if (taken) {
        if (f.kind === 'else') taken = null;
        continue;
      }
    }
    let hold = true;
    if (f.kind !== 'else') {
      const e = sectionExpr(d);
      const label = `<${name} "${e.text}">`;
      if (!e.cond) {
        sim.unknown(`${label}: ${e.error?.message ?? 'cannot parse'} (httpd refuses the config)`);
        hold = false;
      } else {
        const r = runExpr(sim, d, e, 'if_walk', `<${name}>`);
        let v = r.value;
        if (v === null) v = sim.decide(`${d.source?.path}:${d.span.start.offset}`, `${label} (${d.source?.path}:${d.span.start.line})`);
        hold = v ?? false;
      }
    }
    const shown = f.kind === 'else' ? '<Else>' : `<${name} ${f.pattern}>`;
    if (sim.tracing) sim.step('if_walk', `${shown} ${hold ? 'holds: its directives apply' : 'does not hold'}`, d);
    if (hold) {
      out = mergeDirConf(out, f.conf, shown, d);
      out = ifChain(sim, out, f.conf.nested, depth + 1);
    }
    taken = f.kind === 'else' ? null : hold;
  }
  return out;
}

/** One level's .htaccess (ap_parse_htaccess); returns the merged config, a Final (403/500) or null. */
export function htaccess(sim: Sim, dir: string, conf: DirConf): DirConf | Final | null {
  // (asked at every level of every walk: no Set made to learn that nothing is allowed)
  if (!conf.override?.classes.size && !conf.overrideList?.value.size) return null;
  const by = conf.override?.by ?? conf.overrideList?.by ?? null;
  for (const name of sim.model.accessFileNames) {
    if (!sim.fs && !sim.req.htaccess) {
      // no disk and no .htaccess handed in (every lint probe): nothing to read here
      sim.unknown(`AllowOverride lets ${dir + name} change the outcome; it was not read (--htaccess or --fs reads it)`);
      continue;
    }
    const path = dir + name;
    let text: string | null = null;
    let parsed: ParsedFile | null = null;
    const dirKey = dir.replace(/(.)\/$/, '$1');
    if (sim.fs) {
      const st = sim.fs.stat(path);
      if (!st) continue;
      const parent = sim.fs.stat(dirKey);
      if (!permits(st, sim.worker, 4) || (parent && !permits(parent, sim.worker, 1))) {
        if (sim.tracing) sim.step('directory_walk', `${path} exists but ${sim.worker.user} cannot read it: AH00529`, by);
        return fin(
          403,
          'A16',
          by,
          `AH00529: ${path} pcfg_openfile: unable to check htaccess file, ensure it is readable and that '${dir}' is executable`,
        );
      }
      text = sim.fs.readFile(path);
      if (text === null) {
        // httpd reads this file and we cannot (a FIFO, a device, unreadable by us): its effect is unknown
        const why = sim.fs.readError?.(path) ?? `cannot read ${path}`;
        sim.unknown(why);
        return { status: null, outcome: 'unknown', cause: null, by, message: why };
      }
      parsed = parseApache(new SourceFile(path, text), { context: 'htaccess', htaccessDir: dirKey });
    } else {
      parsed = sim.req.htaccess?.get(dirKey) ?? null;
      if (!parsed) {
        if (!sim.req.htaccess) sim.unknown(`AllowOverride lets ${path} change the outcome; it was not read (--htaccess or --fs reads it)`);
        continue;
      }
    }
    return applyHtaccess(sim, parsed, dir, conf, by);
  }
  return null;
}

export function applyHtaccess(sim: Sim, parsed: ParsedFile, dir: string, conf: DirConf, by: Directive | null): DirConf | Final {
  const st: OverrideState = {
    classes: conf.override?.classes ?? new Set(),
    nonfatal: conf.override?.nonfatal ?? new Set(),
    optsAllowed: conf.overrideOpts ?? 0xff,
    list: conf.overrideList?.value ?? new Set(),
  };
  const notes = sim.model.notes;
  const env = {
    modules: sim.model.modules,
    defines: new Map(sim.model.defines),
    version: sim.model.version,
    fileExists: () => null,
    serverRoot: sim.model.serverRoot,
    envVars: {},
  };
  // mod_macro: a Use in the file expands with the main configuration's macros (and the file's own)
  const macroErrors = expandAccessFile(parsed, macroTableOf(sim.model.set));
  const list = flatten(
    { server: 'apache', root: parsed, files: new Map([[parsed.source.path, parsed]]), errors: [] },
    parsed.nodes,
    env,
    notes,
  );
  if (parsed.errors.length || macroErrors.length) {
    const e = parsed.errors[0] ?? macroErrors[0];
    if (sim.tracing) sim.step('directory_walk', `${parsed.source.path}: syntax error: ${e.message}`, null);
    return fin(500, null, null, `${parsed.source.path}: ${e.message}`);
  }
  const kept: Directive[] = [];
  const check = (ds: Directive[], into: Directive[]): Final | null => {
    for (const d0 of ds) {
      const d = expandDirective(d0, sim.model.defines);
      const v = checkOverride(d, st, sim.model.modules);
      if (v) {
        if (v.nonfatal) {
          if (sim.tracing) sim.step('directory_walk', `${parsed.source.path}: ${v.message} (ignored: AllowOverride Nonfatal)`, d);
          continue;
        }
        if (sim.tracing) sim.step('directory_walk', `${parsed.source.path}: ${v.message}; real Apache answers 500`, d);
        return fin(500, null, d, `${parsed.source.path}: ${v.message}`);
      }
      if (d.block) {
        const inner: Directive[] = [];
        const r = check(kids(d), inner);
        if (r) return r;
        into.push(withBlock(d, inner));
      } else into.push(d);
    }
    return null;
  };
  const bad = check(list, kept);
  if (bad) return bad;
  const local: typeof notes = [];
  const compiled = compileSection(kept, {
    kind: 'htaccess',
    path: dir,
    notes: local,
    knownProvider: () => true,
    optsAllowed: st.optsAllowed,
    section: null,
    owners: sim.model.owners,
  });
  const err = local.find((n) => n.severity === 'error');
  if (err) {
    if (sim.tracing) sim.step('directory_walk', `${parsed.source.path}: ${err.message}; real Apache answers 500`, err.directive);
    return fin(500, null, err.directive, `${parsed.source.path}: ${err.message}`);
  }
  if (sim.tracing) sim.step('directory_walk', `${parsed.source.path} is read (AllowOverride allows it)`, by);
  return mergeDirConf(conf, compiled, parsed.source.path, null);
}
