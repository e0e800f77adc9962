/**
 * The handler phase: the handler in force (SetHandler, AddHandler by extension, ScriptAlias), mod_cgi,
 * mod_status, mod_dir's directory handling (fixups.ts), mod_autoindex and core's default_handler.
 */
import type { Directive } from '../../../ast.js';
import type { DirConf } from '../dirconf.js';
import { permits } from '../fs.js';
import { describeOptions, effectiveOptions, OPT_EXECCGI, OPT_INDEXES } from '../options.js';
import { directory } from './fixups.js';
import { fin, type FileType, type Final, type RunResult, type Sim } from './state.js';
import type { Walked } from './walk.js';

/** Run the handler for a request that passed every earlier phase. */
export function handle(sim: Sim, walk: Walked, uriPath: string, query: string, depth: number, scriptAliased: boolean): RunResult {
  const conf = walk.conf;
  const opts = effectiveOptions(conf.options);
  const handler = scriptAliased ? { value: 'cgi-script', by: null as Directive | null } : handlerFor(sim, conf, walk.filename);
  if (walk.type === 'dir') {
    if (handler.value === 'cgi-script' && sim.cgiLoaded()) {
      return { ...fin(403, 'A31', handler.by, 'attempt to invoke directory as script'), filename: walk.filename };
    }
    return { ...directory(sim, conf, uriPath, query, walk.filename, depth), filename: walk.filename };
  }
  if (handler.value === 'cgi-script' && sim.cgiLoaded()) {
    if (!(opts & OPT_EXECCGI) && !scriptAliased) {
      const by = conf.optionsBy[conf.optionsBy.length - 1] ?? handler.by;
      if (sim.tracing)
        sim.step(
          'handler',
          `cgi-script handler (${handler.by ? handler.by.name : 'ScriptAlias'}) but Options (${describeOptions(opts)}) lacks ExecCGI`,
          by,
        );
      return { ...fin(403, 'A30', by, 'Options ExecCGI is off in this directory'), filename: walk.filename };
    }
    if (walk.type === 'missing') return { ...fin(404, null, null, 'script not found'), filename: walk.filename };
    if (sim.fs && walk.type === 'file') {
      // mod_cgid execs the file in its daemon; a file the worker cannot execute fails there → 500
      const st = sim.fs.stat(walk.filename);
      if (st && !permits(st, sim.worker, 1)) {
        if (sim.tracing)
          sim.step(
            'handler',
            `${sim.worker.user} cannot execute ${walk.filename} (mode ${st.mode.toString(8)}): the script fails to start → 500`,
            handler.by,
          );
        return { ...fin(500, null, handler.by, `couldn't create child process: ${walk.filename}`), filename: walk.filename };
      }
    }
    if (sim.tracing) sim.step('handler', 'cgi-script runs the file; its own output decides the status', handler.by);
    return { status: null, outcome: 'cgi', cause: null, by: handler.by, message: 'CGI script output', filename: walk.filename };
  }
  // mod_status answers GET (and HEAD) only; it declines other methods (`r->method_number != M_GET`)
  // and core's default_handler answers for the mapped file
  if (handler.value === 'server-status' && sim.model.modules.has('mod_status') && isGet(sim)) {
    if (sim.tracing) sim.step('handler', 'server-status handler', handler.by);
    return { ...fin(200, null, handler.by, 'server status page'), filename: walk.filename };
  }
  return { ...defaultHandler(sim, walk.filename, walk.type), filename: walk.filename };
}

/** Apache's M_GET: GET and HEAD. */
const isGet = (sim: Sim) => sim.method === 'GET' || sim.method === 'HEAD';

export function handlerFor(sim: Sim, conf: DirConf, filename: string): { value: string; by: Directive | null } {
  if (conf.handler && conf.handler.value !== 'none') return { value: conf.handler.value, by: conf.handler.by };
  if (sim.model.modules.has('mod_mime')) {
    const base = filename.slice(filename.lastIndexOf('/') + 1);
    const exts = base.split('.').slice(1);
    let h: { value: string; by: Directive | null } = { value: '', by: null };
    for (const e of exts) {
      const x = conf.addHandlers.get(e.toLowerCase());
      if (x) h = { value: x.value, by: x.by };
    }
    return h;
  }
  return { value: '', by: null };
}

export function autoindex(sim: Sim, conf: DirConf, dirname: string): Final {
  const opts = effectiveOptions(conf.options);
  const by = conf.optionsBy[conf.optionsBy.length - 1] ?? null;
  if (!sim.model.modules.has('mod_autoindex')) {
    if (sim.tracing) sim.step('handler', 'no index file and mod_autoindex is not loaded: AH00129 → 404', null);
    return fin(404, null, null, `AH00129: Attempt to serve directory: ${dirname}`);
  }
  // mod_autoindex answers for the directory handler only: under a SetHandler to anything else it
  // declines and core's default_handler refuses to serve the directory (AH00129: 404)
  if (conf.handler && !['none', 'httpd/unix-directory'].includes(conf.handler.value.toLowerCase())) {
    if (sim.tracing)
      sim.step(
        'handler',
        `SetHandler ${conf.handler.value}: mod_autoindex declines, the default handler does not serve a directory`,
        conf.handler.by,
      );
    return fin(404, null, null, `AH00129: Attempt to serve directory: ${dirname}`);
  }
  // mod_autoindex declines every method but GET (and HEAD) before it looks at Options; core's
  // default_handler then refuses to serve a directory: 404 (AH00129) for POST, 405 for the rest
  if (!isGet(sim)) {
    if (sim.method === 'OPTIONS') return fin(200, null, null, 'OPTIONS answered by the default handler');
    if (sim.tracing) sim.step('handler', `mod_autoindex lists directories for GET only; ${sim.method} reaches the default handler`, null);
    return sim.method === 'POST'
      ? fin(404, null, null, `AH00129: Attempt to serve directory: ${dirname}`)
      : fin(405, null, null, `${sim.method} is not allowed on a directory`);
  }
  if (!(opts & OPT_INDEXES)) {
    const names = conf.dirIndex ? conf.dirIndex.value.join(', ') || 'none' : 'index.html';
    sim.options = opts;
    sim.indexNames = names;
    if (sim.tracing)
      sim.step(
        'handler',
        `no DirectoryIndex file and Options (${describeOptions(opts)}) lacks Indexes: AH01276`,
        by ?? conf.dirIndex?.by ?? null,
      );
    return fin(
      403,
      'A18',
      by ?? conf.dirIndex?.by ?? null,
      `AH01276: Cannot serve directory ${dirname}: No matching DirectoryIndex (${names}) found, and server-generated directory index forbidden by Options directive`,
    );
  }
  if (sim.fs) {
    const st = sim.fs.stat(dirname.replace(/(.)\/$/, '$1'));
    if (st && !permits(st, sim.worker, 4))
      return fin(403, 'A19', sim.model.userDirective ?? by, `AH01275: Can't open directory for index: ${dirname}`);
  }
  if (sim.tracing) sim.step('handler', 'mod_autoindex lists the directory (Options Indexes)', by);
  return fin(200, null, by, 'directory listing', 'listing');
}

export function defaultHandler(sim: Sim, filename: string, type: FileType): Final {
  // core.c default_handler looks at the file for GET, HEAD and POST only (checked on real Apache 2.4:
  // POST → 200); it answers OPTIONS itself (ap_send_http_options) and any other method with 405,
  // whether the file exists or not
  if (sim.method === 'OPTIONS') {
    if (sim.tracing) sim.step('handler', 'the default handler answers OPTIONS', null);
    return fin(200, null, null, 'OPTIONS answered by the default handler');
  }
  if (!['GET', 'HEAD', 'POST'].includes(sim.method)) {
    if (sim.tracing) sim.step('handler', `the default handler answers ${sim.method} with 405`, null);
    return fin(405, null, null, `${sim.method} is not allowed on a static file`);
  }
  if (type === 'missing') {
    if (sim.tracing) sim.step('handler', `${filename} does not exist → 404`, null);
    return fin(404, null, null, `File does not exist: ${filename}`);
  }
  if (type === 'unknown') {
    return {
      status: null,
      outcome: 'unknown',
      cause: null,
      by: null,
      message: 'depends on the disk',
      // each rests on the disk alone (the run's other unknowns, if any, clear `disk`: sim/index.ts);
      // the trace, which ends before the handler, is the first one's
      possible: [
        { when: [`${filename} exists and is readable`], status: 200, outcome: 'ok', cause: null, disk: true },
        { when: [`${filename} does not exist`], status: 404, outcome: 'not-found', cause: null, disk: true },
        { when: [`${filename} is not readable by ${sim.worker.user}`], status: 403, outcome: 'forbidden', cause: 'A17', disk: true },
      ],
      tracesFirst: true,
    };
  }
  if (sim.fs) {
    const st = sim.fs.stat(filename);
    if (st && !permits(st, sim.worker, 4)) {
      if (sim.tracing)
        sim.step('handler', `${sim.worker.user} cannot read ${filename} (mode ${st.mode.toString(8)}): AH00132`, sim.model.userDirective);
      return fin(403, 'A17', sim.model.userDirective, `AH00132: file permissions deny server access: ${filename}`);
    }
  }
  if (sim.tracing) sim.step('handler', `default handler serves ${filename}`, null);
  return fin(200, null, null, 'file served');
}
