/**
 * The fixups phase: per-directory mod_rewrite (with its AH00670 symlink-option check), per-directory
 * mod_alias Redirect, and mod_dir (DirectorySlash, the DirectoryIndex subrequests) with mod_autoindex
 * behind it.
 */
import type { DirConf } from '../dirconf.js';
import { describeOptions, effectiveOptions, OPT_SYM_LINKS, OPT_SYM_OWNER } from '../options.js';
import { autoindex, handle } from './handler.js';
import { applyRewrite } from './rewrite.js';
import {
  fin,
  type Final,
  type IndexCandidate,
  type Lookup,
  type PossibleOutcome,
  type RunResult,
  type Sim,
  type TraceStep,
} from './state.js';
import { redirectMatches, vhostStep } from './translate.js';
import type { Walked } from './walk.js';

/** Per-dir rewrite and Redirect; a result ends the request (or starts an internal redirect). */
export function fixups(sim: Sim, walk: Walked, uriPath: string, query: string, depth: number, sub: boolean): RunResult | null {
  const conf = walk.conf;
  const server = sim.server;
  // ---- fixups: per-dir mod_rewrite ----
  const rw = conf.rewrite;
  const opts = effectiveOptions(conf.options);
  sim.options = opts;
  if (rw && rw.state && rw.directory !== null && sim.model.modules.has('mod_rewrite')) {
    const dirNoSlash = rw.directory.replace(/\/$/, '');
    if (walk.filename !== dirNoSlash) {
      if (!(opts & (OPT_SYM_LINKS | OPT_SYM_OWNER))) {
        const by = rw.stateBy ?? rw.rules[0]?.directive ?? null;
        if (sim.tracing)
          sim.step(
            'fixups',
            `RewriteEngine On in per-directory context while Options (${describeOptions(opts)}) has neither FollowSymLinks nor SymLinksIfOwnerMatch: AH00670`,
            by,
          );
        return {
          ...fin(
            403,
            'A25',
            by,
            'AH00670: Options FollowSymLinks and SymLinksIfOwnerMatch are both off, so the RewriteRule directive is also forbidden',
          ),
          filename: walk.filename,
        };
      }
      const rel = walk.filename.startsWith(rw.directory) ? walk.filename.slice(rw.directory.length) : walk.filename;
      const r = applyRewrite(sim, rw.rules, rel, uriPath, walk.filename, query, 'fixups');
      if (r.final) return { ...r.final, filename: walk.filename };
      if (r.newPath !== undefined) {
        let target = r.newPath;
        // mod_rewrite's hook_fixup: a result equal to the filename it started from is no redirect
        // ("initial URL equal rewritten URL … [IGNORING REWRITE]"): the request goes on as it is
        if (!target.startsWith('/') && rw.directory + target === walk.filename) {
          if (sim.tracing) sim.step('fixups', `RewriteRule result ${target} is the file itself: the rewrite is ignored`, r.by);
          return null;
        }
        // in a lookup subrequest (mod_dir's DirectoryIndex candidates) the internal redirect is only
        // recorded, never run: the candidate is not a regular file
        if (sub) {
          if (sim.tracing) sim.step('fixups', `the subrequest would be redirected to ${target}: not a file for mod_dir`, r.by);
          return { ...fin(200, null, r.by ?? null, `redirect:${target}`), filename: walk.filename, type: 'missing' };
        }
        if (!target.startsWith('/')) {
          const full = rw.directory + target;
          const root = (server.documentRoot?.value ?? '/var/www/html').replace(/\/+$/, '');
          if (full.startsWith(root + '/')) target = full.slice(root.length);
          else {
            sim.unknown(`per-directory rewrite to ${full} outside DocumentRoot needs RewriteBase, not modelled`);
            return {
              status: null,
              outcome: 'unknown',
              cause: null,
              by: r.by ?? null,
              message: 'rewrite target not modelled',
              filename: walk.filename,
            };
          }
        }
        if (sim.tracing) sim.step('fixups', `internal redirect to ${target}`, r.by);
        return sim.run(target + (query ? `?${query}` : ''), depth + 1, sub);
      }
    }
  }
  // ---- fixups: per-dir Redirect ----
  if (sim.model.modules.has('mod_alias')) {
    for (const rd of conf.redirects) {
      if (redirectMatches(sim, rd, uriPath)) {
        if (sim.tracing) sim.step('fixups', `${rd.directive.name} answers ${rd.status} for ${uriPath}`, rd.directive);
        return {
          ...fin(rd.status, rd.status === 403 ? 'A29' : null, rd.directive, `${rd.directive.name} ${rd.status}`),
          filename: walk.filename,
        };
      }
    }
  }
  return null;
}

/**
 * mod_dir serves a DirectoryIndex candidate whose lookup subrequest passed by httpd's fast internal
 * redirect (`ap_internal_fast_redirect`): the request becomes the subrequest — its translation, walk,
 * access checks, fixups and environment — and only the handler runs. The trace reads as a request of
 * that URI: the virtual host, the subrequest's steps, the handler's.
 */
function serveLookup(sim: Sim, lookup: Lookup, subTrace: TraceStep[], depth: number): RunResult {
  vhostStep(sim);
  for (const s of subTrace) sim.trace.push(s);
  sim.applied = lookup.walk.conf.trail;
  return handle(sim, lookup.walk, lookup.uriPath, lookup.query, depth, lookup.scriptAliased);
}

/** A directory: DirectorySlash, DirectoryIndex subrequests, then mod_autoindex. */
export function directory(sim: Sim, conf: DirConf, uri: string, query: string, dirname: string, depth: number): Final {
  const hasDir = sim.model.modules.has('mod_dir');
  if (hasDir && !uri.endsWith('/')) {
    if (conf.dirSlash?.value === false) {
      if (sim.tracing) sim.step('fixups', 'DirectorySlash Off: no redirect, no index', conf.dirSlash.by);
    } else {
      if (sim.tracing) sim.step('fixups', `mod_dir: ${uri} is a directory → 301 to ${uri}/`, conf.dirSlash?.by ?? null);
      return fin(301, null, conf.dirSlash?.by ?? null, `redirect to ${uri}/`);
    }
  } else if (hasDir) {
    const names = conf.dirIndex ? conf.dirIndex.value : ['index.html'];
    let errorStatus: Final | null = null;
    const refused: IndexCandidate[] = [];
    const possible: PossibleOutcome[] = [];
    for (const name of names) {
      const target = name.startsWith('/') ? name : uri + name;
      const saved = sim.trace.length;
      const sub = sim.run(target + (query ? `?${query}` : ''), depth + 1, true);
      const subTrace = sim.trace.splice(saved);
      if (sub.status === 200 && (sub.type === 'file' || sub.type === 'unknown') && sub.lookup) {
        if (sub.type === 'unknown') {
          // No filesystem: the index may or may not be there.
          const served = serveLookup(sim, sub.lookup, subTrace, depth + 1);
          if (served.status === null && served.possible) {
            for (const p of served.possible) if (p.status !== 404) possible.push({ ...p, when: p.when.map((w) => `${target}: ${w}`) });
          } else
            possible.push({
              when: [`${target} exists`],
              status: served.status,
              outcome: served.outcome,
              cause: served.cause,
              ...(served.status !== null ? { disk: true as const } : {}),
            });
          continue;
        }
        if (sim.tracing)
          sim.step('fixups', `mod_dir: DirectoryIndex ${name} found → internal redirect to ${target}`, conf.dirIndex?.by ?? null);
        for (const s of subTrace) sim.trace.push(s);
        return serveLookup(sim, sub.lookup, subTrace, depth + 1);
      }
      if (sub.status !== null && sub.status !== 200 && sub.status !== 404) {
        sim.trace.push(...subTrace);
        if (sim.tracing) sim.step('fixups', `mod_dir: the subrequest for ${target} answered ${sub.status}`, sub.by);
        // mod_dir keeps the last such status and returns it when no candidate is served (fixup_dir)
        errorStatus = { ...sub, cause: sub.status === 403 ? 'A20' : sub.cause };
        refused.push({ name, target, status: sub.status, cause: sub.cause, by: sub.by });
      }
    }
    const savedTrace = sim.trace.length;
    const listing = autoindex(sim, conf, dirname);
    if (errorStatus) sim.trace.splice(savedTrace); // mod_autoindex never runs
    sim.dirIndex = { names, by: conf.dirIndex?.by ?? null, refused, listing: listing.outcome };
    const fallback = errorStatus ?? listing;
    if (possible.length) {
      possible.push({
        when: [`no DirectoryIndex file (${names.join(' ') || 'none'}) exists`],
        status: fallback.status,
        outcome: fallback.outcome,
        cause: fallback.cause,
        ...(fallback.status !== null ? { disk: true as const } : {}),
      });
      const st = new Set(possible.map((p) => p.status));
      if (st.size === 1) return { ...fallback, possible };
      return {
        status: null,
        outcome: 'unknown',
        cause: fallback.cause,
        by: fallback.by,
        message: 'depends on which index files exist',
        possible,
      };
    }
    return fallback;
  }
  return autoindex(sim, conf, dirname);
}
