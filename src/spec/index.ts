/**
 * `why403 test <spec>`: a file of expected answers, checked offline with the one model (each
 * expectation is one `explain`). A spec is YAML or JSON:
 *
 *   config: nginx/nginx.conf          # relative to the spec file
 *   pathMap: { /etc/nginx: nginx }    # optional, installed path → checkout (relative to the spec)
 *   prefix: nginx/                    # optional: nginx -p / Apache ServerRoot (serverRoot:)
 *   expect:
 *     - GET http://shop.test/admin/ from 10.0.0.7 -> 403
 *     - { method: POST, url: http://shop.test/api/, ip: 192.0.2.10, headers: { X-Token: a }, status: 403, decidedBy: nginx/nginx.conf:12 }
 *
 * The compact form: `METHOD URL [from IP] [header "Name: value"]… [as USER[:PASSWORD]] -> STATUS [at FILE:LINE]`.
 * `auth`/`as` with a bare USER: credentials assumed valid (as `explain --user`); with USER:PASSWORD the
 * password is checked against the user file in effect (as `explain --auth`) and, with `test --real`,
 * sent to the real server.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Node as YamlNode } from 'yaml';
import type { PathMapping, ServerKind } from '../ast.js';
import { explain, parseExplainRequest } from '../explain/index.js';
import type { Explanation } from '../explain/types.js';
import { loadConfig, serverFor } from '../load.js';
import { partialOf } from '../load-options.js';

export interface Expectation {
  method: string;
  url: string;
  ip?: string;
  headers: Record<string, string>;
  /** A user whose credentials are assumed valid, or checked when `password` is given. */
  user?: string;
  /** The password sent with `user` (`auth: user:password`, `as user:password`). */
  password?: string;
  status: number;
  /** `file:line` (file relative to the spec) of the directive that must decide. */
  decidedBy?: string;
  /** 1-based position of the expectation in the spec. */
  line: number;
  column: number;
  /** The expectation as written (compact form) or rebuilt. */
  text: string;
}

export interface Spec {
  file: string;
  config: string;
  server?: ServerKind;
  fs: boolean;
  pathMap: PathMapping[];
  prefix?: string;
  serverRoot?: string;
  expect: Expectation[];
}

export interface SpecError {
  file: string;
  line: number;
  column: number;
  message: string;
}

const COMPACT =
  /^(?<method>[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s+(?<url>\S+)(?<rest>(?:\s+(?:from\s+\S+|header\s+(?:"(?:[^"\\]|\\.)*"|'[^']*')|as\s+\S+))*)\s*->\s*(?<status>\d{3})(?:\s+at\s+(?<at>\S+))?\s*$/;

/** The compact line form, or an error message. */
export function parseCompact(s: string): Omit<Expectation, 'line' | 'column'> | string {
  const m = COMPACT.exec(s.trim());
  if (!m?.groups) return `expected "METHOD URL [from IP] [header \\"Name: value\\"]… [as USER] -> STATUS [at FILE:LINE]", got "${s}"`;
  const g = m.groups;
  const out: Omit<Expectation, 'line' | 'column'> = {
    method: g.method.toUpperCase(),
    url: g.url,
    headers: {},
    status: Number(g.status),
    text: s.trim(),
  };
  for (const p of g.rest.matchAll(/from\s+(\S+)|header\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)')|as\s+(\S+)/g)) {
    if (p[1]) out.ip = p[1];
    else if (p[4]) {
      const i = p[4].indexOf(':');
      if (i === 0) return `"as ${p[4]}" has no user name`;
      if (i === -1) out.user = p[4];
      else {
        out.user = p[4].slice(0, i);
        out.password = p[4].slice(i + 1);
      }
    } else {
      const h = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
      const i = h.indexOf(':');
      if (i <= 0) return `header "${h}" is not "Name: value"`;
      out.headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
    }
  }
  if (g.at) out.decidedBy = g.at;
  return out;
}

/** Parse a spec file's text. Errors carry the line and column of the offending value. */
export function parseSpec(text: string, file: string): { spec: Spec | null; errors: SpecError[] } {
  // Loaded here, not at the top: the CLI bundle hoists a package's static import to its first line,
  // and yaml costs ~90 ms of every lint's startup (docs/performance.md, "Cold start").
  const { LineCounter, parseDocument, isMap, isSeq } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const errors: SpecError[] = [];
  const pos = (n: YamlNode | null | undefined): { line: number; column: number } => {
    const off = n?.range?.[0] ?? 0;
    const p = lc.linePos(off);
    return { line: p.line, column: p.col };
  };
  const fail = (n: YamlNode | null | undefined, message: string) => errors.push({ file, ...pos(n), message });
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    errors.push({ file, line: p.line, column: p.col, message: e.message.split('\n')[0] });
  }
  if (errors.length) return { spec: null, errors };
  const root = doc.contents;
  if (!isMap(root)) {
    fail(root as YamlNode, 'a spec is a mapping with `config` and `expect`');
    return { spec: null, errors };
  }
  const dir = dirname(file);
  const get = (k: string) => root.items.find((i) => (i.key as { value?: unknown })?.value === k);
  for (const it of root.items) {
    const k = String((it.key as { value?: unknown })?.value);
    if (!['config', 'server', 'fs', 'pathMap', 'prefix', 'serverRoot', 'expect'].includes(k))
      fail(it.key as YamlNode, `unknown key "${k}" (config, server, fs, pathMap, prefix, serverRoot, expect)`);
  }
  const configNode = get('config');
  const config = configNode?.value && (configNode.value as { value?: unknown }).value;
  if (typeof config !== 'string' || !config) fail((configNode?.value ?? root) as YamlNode, '`config` must name the main config file');
  const serverNode = get('server');
  const server = serverNode ? (serverNode.value as { value?: unknown })?.value : undefined;
  if (server !== undefined && server !== 'nginx' && server !== 'apache')
    fail(serverNode!.value as YamlNode, '`server` must be nginx or apache');
  const fsNode = get('fs');
  const fsv = fsNode ? (fsNode.value as { value?: unknown })?.value : false;
  if (typeof fsv !== 'boolean') fail(fsNode!.value as YamlNode, '`fs` must be true or false');
  const pathMap: PathMapping[] = [];
  const pm = get('pathMap');
  if (pm) {
    if (!isMap(pm.value)) fail(pm.value as YamlNode, '`pathMap` maps installed paths to checked-out ones');
    else
      for (const it of pm.value.items) {
        const from = (it.key as { value?: unknown })?.value;
        const to = (it.value as { value?: unknown })?.value;
        if (typeof from !== 'string' || typeof to !== 'string') fail(it.key as YamlNode, '`pathMap` entries are FROM: TO strings');
        else pathMap.push({ from, to: isAbsolute(to) ? to : resolve(dir, to) });
      }
  }
  const str = (k: string): string | undefined => {
    const n = get(k);
    if (!n) return undefined;
    const v = (n.value as { value?: unknown })?.value;
    if (typeof v !== 'string') {
      fail(n.value as YamlNode, `\`${k}\` must be a path`);
      return undefined;
    }
    return resolve(dir, v);
  };
  const prefix = str('prefix');
  const serverRoot = str('serverRoot');
  const expect: Expectation[] = [];
  const ex = get('expect');
  if (!ex || !isSeq(ex.value) || ex.value.items.length === 0)
    fail((ex?.value ?? root) as YamlNode, '`expect` must be a list of expectations');
  else
    for (const item of ex.value.items) {
      const node = item as YamlNode;
      const p = pos(node);
      const v = doc.getIn(['expect', ex.value.items.indexOf(item)]) as unknown;
      const js = typeof v === 'object' && v !== null && 'toJSON' in v ? (v as { toJSON(): unknown }).toJSON() : v;
      if (typeof js === 'string') {
        const c = parseCompact(js);
        if (typeof c === 'string') fail(node, c);
        else expect.push({ ...c, ...p });
        continue;
      }
      if (!js || typeof js !== 'object') {
        fail(node, 'an expectation is a line ("GET http://h/p -> 403") or a mapping with method, url, status');
        continue;
      }
      const o = js as Record<string, unknown>;
      const bad = Object.keys(o).filter((k) => !['method', 'url', 'ip', 'headers', 'auth', 'status', 'decidedBy'].includes(k));
      if (bad.length) fail(node, `unknown key "${bad[0]}" (method, url, ip, headers, auth, status, decidedBy)`);
      if (typeof o.url !== 'string') fail(node, '`url` is required (http://host/path or /path)');
      if (typeof o.status !== 'number' || o.status < 100 || o.status > 999) fail(node, '`status` must be an HTTP status such as 403');
      if (o.headers !== undefined && (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)))
        fail(node, '`headers` maps names to values');
      if (typeof o.url !== 'string' || typeof o.status !== 'number') continue;
      const headers = Object.fromEntries(Object.entries((o.headers as Record<string, unknown>) ?? {}).map(([k, x]) => [k, String(x)]));
      const method = typeof o.method === 'string' ? o.method.toUpperCase() : 'GET';
      if (o.auth !== undefined && (typeof o.auth !== 'string' || o.auth === '' || o.auth.startsWith(':')))
        fail(node, '`auth` is USER (credentials assumed valid) or USER:PASSWORD (checked)');
      const auth = typeof o.auth === 'string' ? o.auth : '';
      const colon = auth.indexOf(':');
      const user = auth === '' ? undefined : colon === -1 ? auth : auth.slice(0, colon);
      const password = auth !== '' && colon > 0 ? auth.slice(colon + 1) : undefined;
      expect.push({
        method,
        url: o.url,
        ...(typeof o.ip === 'string' ? { ip: o.ip } : {}),
        headers,
        ...(user ? { user } : {}),
        ...(password !== undefined ? { password } : {}),
        status: o.status,
        ...(typeof o.decidedBy === 'string' ? { decidedBy: o.decidedBy } : {}),
        text: `${method} ${o.url}${typeof o.ip === 'string' ? ` from ${o.ip}` : ''} -> ${o.status}`,
        ...p,
      });
    }
  if (errors.length) return { spec: null, errors };
  return {
    spec: {
      file,
      config: resolve(dir, config as string),
      ...(server ? { server: server as ServerKind } : {}),
      fs: fsv === true,
      pathMap,
      ...(prefix ? { prefix: prefix.replace(/\/*$/, '/') } : {}),
      ...(serverRoot ? { serverRoot } : {}),
      expect,
    },
    errors,
  };
}

export interface SpecResult {
  expectation: Expectation;
  ok: boolean;
  /** What explain predicts (null: it cannot tell, with `explanation.unknowns` saying why). */
  status: number | null;
  explanation: Explanation | null;
  /** Why it failed, in words. */
  problem?: string;
}

/** Check every expectation of a spec with explain. Throws nothing: a config that does not load or
 * parse is returned as `configErrors`. */
export function runSpec(spec: Spec): {
  results: SpecResult[];
  configErrors: string[];
  /** The config was read without its main config (a fragment alone): what was not loaded. The answers
   * are then the fragment's own. */
  partial: string | null;
} {
  const server = spec.server ?? serverFor(spec.config) ?? undefined;
  const set = loadConfig(spec.config, {
    ...(server ? { server } : {}),
    ...(spec.pathMap.length ? { pathMap: spec.pathMap } : {}),
    ...(spec.prefix ? { prefix: spec.prefix } : {}),
    ...(spec.serverRoot ? { serverRoot: spec.serverRoot } : {}),
  });
  const configErrors = [...set.errors, ...[...set.files.values()].flatMap((f) => f.errors)]
    .filter((d) => d.severity === 'error' && d.code !== 'unknown-directive')
    .map((d) => `${d.file}:${d.span.start.line}:${d.span.start.column}: ${d.message}`);
  const partial = partialOf(set)?.reason ?? null;
  if (configErrors.length) return { results: [], configErrors, partial };
  const dir = dirname(spec.file);
  const results = spec.expect.map((x): SpecResult => {
    const r = parseExplainRequest({
      target: x.url,
      method: x.method,
      ...(x.ip ? { ip: x.ip } : {}),
      headers: Object.entries(x.headers).map(([k, v]) => `${k}: ${v}`),
      ...(x.user && x.password === undefined ? { user: x.user } : {}),
      ...(x.user && x.password !== undefined ? { auth: `${x.user}:${x.password}` } : {}),
    });
    if (!r.ok) return { expectation: x, ok: false, status: null, explanation: null, problem: r.error };
    const e = explain(set, spec.config, r.request, {
      fs: spec.fs,
      pathMap: spec.pathMap,
      ...(spec.prefix ? { prefix: spec.prefix } : {}),
      ...(spec.serverRoot ? { serverRoot: spec.serverRoot } : {}),
      cwd: dir,
    });
    if (e.status !== x.status)
      return {
        expectation: x,
        ok: false,
        status: e.status,
        explanation: e,
        problem: e.status === null ? `explain cannot tell: ${e.verdict}` : `predicted ${e.status}: ${e.verdict}`,
      };
    if (x.decidedBy) {
      const got = e.decidedBy ? `${e.decidedBy.file}:${e.decidedBy.line}` : '(none)';
      const want = x.decidedBy.replace(/:(\d+):\d+$/, ':$1');
      const wantAbs = `${relative(dir, resolve(dir, want.replace(/:\d+$/, '')))}:${want.split(':').pop()}`;
      if (got !== want && got !== wantAbs)
        return { expectation: x, ok: false, status: e.status, explanation: e, problem: `decided by ${got}, not ${x.decidedBy}` };
    }
    return { expectation: x, ok: true, status: e.status, explanation: e };
  });
  return { results, configErrors, partial };
}
