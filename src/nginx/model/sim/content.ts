/**
 * PRECONTENT (try_files) and CONTENT: a content handler (proxy_pass, stub_status, …), or the static
 * modules in nginx's order — random_index, index, autoindex for a URI ending in `/`, else the file
 * (ngx_http_static_handler), with the disk asked through Sim.open.
 */
import { canList } from '../fs.js';
import { fromBinary } from '../regex.js';
import { handlerOf, type EffectiveSettings } from '../settings.js';
import type { Scope } from '../tree.js';
import { METHODS_STATIC, type ReqState, type Sim } from './context.js';
import { done, error, internalRedirect, named } from './errors.js';
import { at, type Outcome } from './types.js';

/** try_files: null when a candidate exists (the request goes on to CONTENT with the new $uri). */
export function tryFiles(sim: Sim, conf: Scope, s: EffectiveSettings, st: ReqState, depth: number): Outcome | null {
  const r = sim.r;
  const d = s.tryFiles!;
  const a = d.args.map((x) => x.value);
  for (let i = 0; i < a.length - 1; i++) {
    const dir = a[i].endsWith('/'); // fixed when the config is read (tf->test_dir), not after expansion
    // nginx drops that slash from the name (ngx_http_core_try_files), so `$uri/` is $uri tested as a directory
    const v = sim.expand(dir ? a[i].slice(0, -1) : a[i], st, 'precontent');
    if (v === undefined) {
      const c = r.choose(`tf:${at(d)}:${i}:${st.uri}`, [
        `try_files candidate "${a[i]}" exists`,
        `try_files candidate "${a[i]}" does not exist`,
      ]);
      if (c === 1) continue;
      if (sim.tracing) sim.step('precontent', `try_files: "${a[i]}" exists (assumed)`, d);
      sim.stop(null, 'unknown');
    }
    const path = sim.mapPath(conf, v, st);
    if (path === null) continue;
    const o = sim.open(path, s, false, 'try_files candidate', dir ? ['dir', 'none'] : ['file', 'dir', 'none']);
    const hit = o.ok && (dir ? o.type === 'dir' : o.type !== 'dir');
    if (!hit) {
      if (sim.tracing)
        sim.step('precontent', `try_files: "${fromBinary(v)}" → ${path} ${o.ok ? `is a ${o.type}` : `fails (${o.errno})`}, next`, d);
      continue;
    }
    if (sim.tracing)
      sim.step(
        'precontent',
        `try_files: "${fromBinary(v)}" → ${path} ${o.type === 'dir' ? 'is a directory' : 'exists'}; $uri becomes "${fromBinary(v)}"`,
        d,
      );
    const q = v.indexOf('?');
    st.uri = q === -1 ? v : v.slice(0, q);
    if (q !== -1) st.args = v.slice(q + 1);
    return null;
  }
  const last = a[a.length - 1];
  if (last === undefined) return null;
  if (/^=[0-9]+$/.test(last)) {
    const code = Number(last.slice(1));
    if (sim.tracing) sim.step('precontent', `try_files: no candidate exists: ${code}`, d);
    return error(sim, code, st, conf, depth, 'error', code === 403 ? 'N08' : null);
  }
  const v = sim.expand(last, st, 'precontent');
  if (v === undefined) {
    if (sim.tracing) sim.step('precontent', `try_files falls back to "${last}", which is not known`, d);
    sim.stop(null, 'unknown');
  }
  if (v.startsWith('@')) {
    if (sim.tracing) sim.step('precontent', `try_files: no candidate exists: named location ${v}`, d);
    return named(sim, v, st, depth);
  }
  if (sim.tracing) sim.step('precontent', `try_files: no candidate exists: internal redirect to "${fromBinary(v)}"`, d);
  return internalRedirect(sim, v, st, depth);
}

export function content(sim: Sim, conf: Scope, s: EffectiveSettings, st: ReqState, depth: number): Outcome {
  const h = handlerOf(conf);
  if (h && h.name !== 'flv' && h.name !== 'mp4') {
    if (h.name === 'stub_status') {
      if (sim.tracing) sim.step('content', 'stub_status answers 200', h);
      return done(sim, 200, 'handler', st);
    }
    if (h.name === 'empty_gif') {
      if (sim.tracing) sim.step('content', 'empty_gif answers', h);
      return METHODS_STATIC.includes(st.method) ? done(sim, 200, 'handler', st) : error(sim, 405, st, conf, depth, 'error');
    }
    const proxied = /_pass$/.test(h.name);
    if (proxied) {
      const ic = {
        proxy_pass: s.proxyInterceptErrors,
        fastcgi_pass: s.fastcgiInterceptErrors,
        uwsgi_pass: s.uwsgiInterceptErrors,
        scgi_pass: s.scgiInterceptErrors,
        grpc_pass: s.grpcInterceptErrors,
      }[h.name];
      const intercepted = !!ic?.value && s.errorPages.pages.some((p) => p.codes.includes(403));
      sim.r.mayAlso.push({
        status: 403,
        outcome: 'proxied',
        cause: 'N21',
        when: [`the backend of ${h.name} answers 403${intercepted ? ' (intercepted: error_page for 403 then applies)' : ''}`],
      });
      if (sim.tracing && ic?.value)
        sim.step('content', `${ic.directive?.name ?? 'intercept_errors'} on: backend errors ≥ 300 go through error_page`, ic.directive);
    }
    if (sim.tracing) sim.step('content', `${h.name} handles the request: the ${proxied ? 'backend' : 'handler'} decides the status`, h);
    return { status: null, outcome: proxied ? 'proxied' : 'handler', cause: null, when: [] };
  }
  const uri = st.uri;
  if (uri.endsWith('/')) return directoryIndex(sim, conf, s, st, depth);
  const other = davOrNotStatic(sim, s, st, conf, depth);
  if (other) return other;
  const path = sim.mapPath(conf, uri, st);
  if (path === null) {
    if (sim.tracing) sim.step('content', 'the file path depends on an unknown variable', s.root.directive);
    sim.stop(null, 'unknown');
  }
  const o = sim.open(path, s, true, 'file', ['file', 'none', 'dir']);
  if (!o.ok) {
    if (o.errno === 'EACCES') {
      if (sim.tracing) sim.step('content', `open() "${path}" failed (13: Permission denied): ${o.why}`, s.root.directive);
      return error(sim, 403, st, conf, depth, 'error', h ? 'N17' : 'N10');
    }
    if (o.errno === 'ELOOP') {
      if (sim.tracing)
        sim.step('content', `open() "${path}" failed (40: Too many levels of symbolic links): ${o.why}`, s.disableSymlinks.directive);
      return error(sim, 403, st, conf, depth, 'error', h ? 'N17' : 'N11');
    }
    if (sim.tracing)
      sim.step(
        'content',
        `open() "${path}" failed (${o.errno === 'ENOTDIR' ? '20: Not a directory' : '2: No such file or directory'}): 404`,
        s.root.directive,
      );
    return error(sim, 404, st, conf, depth, 'error');
  }
  if (o.type === 'dir') {
    if (sim.tracing) sim.step('content', `${path} is a directory: 301 to "${fromBinary(uri)}/"`, s.root.directive);
    return done(sim, 301, 'redirect', st);
  }
  if (o.type !== 'file') return error(sim, 404, st, conf, depth, 'error');
  if (st.method === 'POST') {
    if (sim.tracing) sim.step('content', 'the static module answers 405 to POST on a file');
    return error(sim, 405, st, conf, depth, 'error');
  }
  if (sim.tracing) sim.step('content', `serves ${path}`, s.root.directive);
  return done(sim, 200, 'static', st);
}

/** A URI ending in `/`: random_index, index, autoindex, else 403 (ngx_http_index_handler and friends). */
function directoryIndex(sim: Sim, conf: Scope, s: EffectiveSettings, st: ReqState, depth: number): Outcome {
  const uri = st.uri;
  if (s.randomIndex.value && ['GET', 'HEAD'].includes(st.method)) {
    const dir = sim.mapPath(conf, uri, st);
    if (sim.tracing) sim.step('content', 'random_index on: serves a random file of the directory', s.randomIndex.directive);
    if (dir && sim.req.fs && sim.worker && !canList(sim.req.fs, dir, sim.worker)) return error(sim, 403, st, conf, depth, 'error', 'N16');
    sim.stop(null, 'random-index');
  }
  if (METHODS_STATIC.includes(st.method)) {
    let dirTested = false;
    for (const nameRaw of s.index.value) {
      const name = sim.expand(nameRaw, st, 'content');
      if (name === undefined) {
        if (sim.tracing) sim.step('content', `index "${nameRaw}" is not known`, s.index.directive);
        sim.stop(null, 'unknown');
      }
      if (name.startsWith('/')) {
        if (sim.tracing) sim.step('content', `index "${name}" is absolute: internal redirect`, s.index.directive);
        return internalRedirect(sim, name, st, depth);
      }
      const dir = sim.mapPath(conf, uri, st);
      if (dir === null) sim.stop(null, 'unknown');
      const path = dir + fromBinary(name);
      const o = sim.open(path, s, false, 'index file');
      if (o.ok) {
        if (sim.tracing)
          sim.step(
            'content',
            `index: ${path} exists: internal redirect to "${fromBinary(uri + name)}" (location search and access checks run again)`,
            s.index.directive,
          );
        return internalRedirect(sim, uri + name, st, depth);
      }
      if (o.errno === 'EACCES') {
        if (sim.tracing) sim.step('content', `index: "${path}" is forbidden (${o.why})`, s.index.directive);
        return error(sim, 403, st, conf, depth, 'error', 'N13');
      }
      if (o.errno === 'ELOOP') {
        if (sim.tracing) sim.step('content', `index: ${o.why}`, s.disableSymlinks.directive);
        return error(sim, 403, st, conf, depth, 'error', 'N14');
      }
      if (o.errno === 'ENOTDIR') return error(sim, 404, st, conf, depth, 'error');
      if (!dirTested) {
        dirTested = true;
        const dres = sim.open(dir, s, false, 'directory', ['dir', 'none']);
        if (!dres.ok) {
          if (sim.tracing)
            sim.step(
              'content',
              `directory ${dir} ${dres.errno === 'EACCES' ? `is not searchable (${dres.why})` : 'does not exist'}`,
              s.root.directive,
            );
          if (dres.errno === 'EACCES') return error(sim, 403, st, conf, depth, 'error', 'N13');
          return error(sim, 404, st, conf, depth, 'error');
        }
      }
      if (sim.tracing) sim.step('content', `index: ${path} does not exist`, s.index.directive);
    }
  }
  if (s.autoindex.value && ['GET', 'HEAD'].includes(st.method)) {
    const dir = sim.mapPath(conf, uri, st);
    if (dir && sim.req.fs && sim.worker && !canList(sim.req.fs, dir, sim.worker)) {
      if (sim.tracing) sim.step('content', `autoindex on but ${dir} cannot be listed: 403`, s.autoindex.directive);
      return error(sim, 403, st, conf, depth, 'error', 'N15');
    }
    if (sim.tracing) sim.step('content', 'autoindex on: the directory is listed', s.autoindex.directive);
    return done(sim, 200, 'autoindex', st);
  }
  const other = davOrNotStatic(sim, s, st, conf, depth);
  if (other) return other;
  const dir = sim.mapPath(conf, uri, st);
  if (sim.tracing)
    sim.step(
      'content',
      `directory index of "${dir ?? fromBinary(uri)}" is forbidden: no index file, autoindex off`,
      s.index.directive ?? s.autoindex.directive,
    );
  return error(sim, 403, st, conf, depth, 'error', 'N12');
}

/** Methods the static content phase does not serve: WebDAV's (`dav_methods`: the outcome depends
 * on the disk) or any other than GET/HEAD/POST (405 from the static module). Null to go on. */
function davOrNotStatic(sim: Sim, s: EffectiveSettings, st: ReqState, conf: Scope, depth: number): Outcome | null {
  if (s.davMethods.value.includes(st.method)) {
    if (sim.tracing) sim.step('content', `dav_methods handles ${st.method}`, s.davMethods.directive);
    return { status: null, outcome: 'dav', cause: null, when: [] };
  }
  if (!METHODS_STATIC.includes(st.method)) {
    if (sim.tracing) sim.step('content', `the static module answers 405 to ${st.method}`);
    return error(sim, 405, st, conf, depth, 'error');
  }
  return null;
}
