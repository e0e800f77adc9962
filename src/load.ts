/**
 * Loading any config: decide the server (LoadOptions.server, else detect.ts) and hand over to the
 * nginx or Apache loader. Sync, never throws.
 *
 * When the server cannot be told, the ConfigSet has no nodes and one error `unknown-server` (file
 * level, line 1) that says how to choose; its `server` field is then only a placeholder.
 */
import { resolve } from 'node:path';
import type { ConfigSet, ParsedFile, ServerKind } from './ast.js';
import { loadApache } from './apache/load.js';
import { DETECT_HEAD_BYTES, detectServer } from './detect.js';
import type { LoadOptions } from './load-options.js';
import { loadNginx } from './nginx/load.js';
import { fileDiagnostic, readBytes, readSource } from './read.js';
import { SourceFile } from './source.js';

export { detectServer } from './detect.js';

/** The first bytes of a file as text, or undefined when it cannot be read (read.ts: never blocks). */
function readHead(path: string): string | undefined {
  const r = readBytes(path, DETECT_HEAD_BYTES, true);
  return r.ok ? r.bytes.toString('utf8') : undefined;
}

function unknownServer(path: string, opts: LoadOptions): ConfigSet {
  const abs = resolve(path);
  const errors = [];
  if (opts.text === undefined) {
    const r = readSource(abs);
    if (!r.ok) errors.push(r.error);
  }
  // a file that cannot be read: its read error says it all
  if (errors.length === 0)
    errors.push(
      fileDiagnostic(
        abs,
        'unknown-server',
        `cannot tell whether ${abs} is an nginx or an Apache httpd config (neither its name, its folder nor its first lines say); choose with --server nginx or --server apache`,
      ),
    );
  const root: ParsedFile = {
    server: 'nginx',
    source: new SourceFile(abs, opts.text ?? ''),
    nodes: [],
    errors,
    context: opts.context ?? '',
  };
  return { server: 'nginx', root, files: new Map([[abs, root]]), errors: [] };
}

/** Which server a config is for, given options (the `server` option wins). */
export function serverFor(path: string, opts: LoadOptions = {}): ServerKind | null {
  if (opts.server) return opts.server;
  return detectServer(path, opts.text ?? readHead(path));
}

export function loadConfig(path: string, opts: LoadOptions = {}): ConfigSet {
  const server = serverFor(path, opts);
  if (server === 'apache') return loadApache(path, opts);
  if (server === 'nginx') return loadNginx(path, opts);
  return unknownServer(path, opts);
}

/** Load text that did not come from a file (stdin); `path` is the name it is reported under. */
export function loadText(path: string, text: string, opts: LoadOptions = {}): ConfigSet {
  return loadConfig(path, { ...opts, text });
}
