#!/usr/bin/env node
/**
 * The `why403` command as installed (package.json "bin"). A CommonJS file, so that node runs it
 * without starting its ES module loader (for an ES module entry node loads the loader, fs/promises
 * and readline first: ~13 M instructions of every run; docs/performance.md, "Fifth pass: cold start").
 *
 * It runs the single-file bundle of the CLI (scripts/bundle.mjs: dist/src/cli.bundle.cjs, compiled
 * with the V8 code cache dist/src/cli.bundle.cache) exactly as dist/src/cli.js does (src/cli.ts
 * `loadBundle`, `freshBundle`), and otherwise imports dist/src/cli.js and runs it: when there is no
 * bundle or it is older than cli.js, for --help and --version (they need yargs only), and with
 * WHY403_NO_BUNDLE=1. WHY403_DEBUG_BUNDLE=1 says what ran. Keep the two in step.
 */
'use strict';

const { closeSync, fstatSync, openSync, readSync, statSync } = require('node:fs');
const { dirname, join } = require('node:path');

const dist = join(__dirname, '..', 'dist', 'src');
const cliJs = join(dist, 'cli.js');
const argv = process.argv.slice(2);

/** dist/src/cli.bundle.cjs when it is at least as new as dist/src/cli.js (a later `tsc` makes it stale). */
function freshBundle() {
  if (process.env.WHY403_NO_BUNDLE) return null;
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-v')) return null;
  const bundle = join(dist, 'cli.bundle.cjs');
  try {
    return statSync(bundle).mtimeMs >= statSync(cliJs).mtimeMs ? bundle : null;
  } catch {
    return null;
  }
}

/** Options of the lint command that take a value (src/cli.ts LINT_OPTIONS), so their values are not taken for paths. */
const VALUE_OPTIONS = new Set([
  '-c',
  '-f',
  '-o',
  '-D',
  '--config',
  '--format',
  '--output-file',
  '--only',
  '--path-map',
  '--context',
  '--define',
]);
for (const o of ['print-config', 'stdin-filename', 'user', 'prefix', 'server-root', 'max-warnings', 'report-unused-suppressions'])
  VALUE_OPTIONS.add(`--${o}`);

/**
 * Which server the files of this run are for, when that is plain from the arguments: --server, or the
 * names (an .htaccess, apache2.conf, a path through apache2/ or httpd/: Apache; nginx in the path:
 * nginx), or else the first bytes of the files (a `<Section>` line: Apache; a line ending in `{` or
 * `;`: nginx). null when unsure (a directory, a glob, stdin, both kinds, a subcommand). It only picks
 * the code cache (loadBundle); the CLI detects the server itself, so a wrong guess costs time only.
 */
function serverOf() {
  const paths = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--server' || a.startsWith('--server=')) {
      const v = a === '--server' ? argv[i + 1] : a.slice('--server='.length);
      return v === 'nginx' || v === 'apache' ? v : null;
    }
    if (a === '--') {
      paths.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-' || a === '--stdin') return null;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    if (paths.length === 0 && /^(rules|parse|explain|map|test|diff|lsp)$/.test(a)) return null;
    if (paths.length === 0 && a === 'lint') continue;
    paths.push(a);
  }
  if (paths.length === 0 || paths.length > 64) return null;
  let server = null;
  for (const p of paths) {
    let s = /(^|[/.])htaccess$|(^|\/)(apache2?|httpd)(\.conf$|\/)/i.test(p) ? 'apache' : /nginx/i.test(p) ? 'nginx' : null;
    if (!s) s = sniff(p);
    if (!s || (server && s !== server)) return null;
    server = s;
  }
  return server;
}

/** nginx or apache from the first 4 KiB of a regular file, or null. */
function sniff(path) {
  let fd;
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.allocUnsafe(4096);
    const text = buf.toString('latin1', 0, readSync(fd, buf, 0, 4096, 0));
    return /^\s*<\/?[A-Za-z]/m.test(text) ? 'apache' : /[{;]\s*(#.*)?$/m.test(text) ? 'nginx' : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The bundle's exports and whether V8 took its code cache. The build writes three caches for the one
 * bundle (scripts/bundle.mjs): trained on an nginx lint (cli.bundle.nginx.cache), on an Apache lint
 * (cli.bundle.apache.cache), and on both (cli.bundle.cache, for anything else); each starts with the
 * bundle's id. V8 deserialises the whole cache, so the one of the server at hand is read: about 300
 * fewer pages and 5 M fewer instructions for one nginx file. The source and the cache are read into
 * one buffer, the cache over the source once the source is a string (about 220 pages fewer).
 */
function loadBundle(file) {
  const { Script } = require('node:vm');
  // Module.createRequire from the CommonJS loader that runs this file: `require('node:module')` would
  // load node's ES module loader too (the public module's other exports need it)
  const { createRequire } = module.constructor;
  const { pathToFileURL } = require('node:url');
  const base = file.replace(/\.cjs$/, '');
  const server = serverOf();
  const open = (p) => {
    try {
      const fd = openSync(p, 'r');
      return { fd, size: fstatSync(fd).size };
    } catch {
      return null;
    }
  };
  const src = open(file);
  if (!src) throw new Error(`cannot open ${file}`);
  const cacheFile = (server && open(`${base}.${server}.cache`)) || open(`${base}.cache`);
  const buf = Buffer.allocUnsafe(Math.max(src.size, cacheFile ? cacheFile.size : 0));
  const readAll = (f) => {
    let n = 0;
    for (let r; n < f.size && (r = readSync(f.fd, buf, n, f.size - n, null)) > 0;) n += r;
    closeSync(f.fd);
    return n;
  };
  // ASCII (scripts/bundle.mjs escapes anything else): latin1 is its exact decoding
  const source = buf.toString('latin1', 0, readAll(src));
  const id = /^\/\* why403 bundle ([0-9a-f]+) \*\//.exec(source)?.[1] ?? '';
  let cachedData;
  if (cacheFile) {
    const n = readAll(cacheFile);
    const nl = buf.indexOf(10);
    if (id && nl > 0 && nl < n && buf.toString('latin1', 0, nl) === id) cachedData = buf.subarray(nl + 1, n);
  }
  const script = new Script(source, cachedData ? { filename: file, cachedData } : { filename: file });
  const cache = !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const fn = script.runInThisContext();
  const mod = { exports: {} };
  const url = pathToFileURL(file).href;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file), url, (spec) => import(spec));
  return { exports: mod.exports, cache, server };
}

const bundle = freshBundle();
let loaded;
if (bundle) {
  try {
    loaded = loadBundle(bundle);
  } catch (e) {
    if (process.env.WHY403_DEBUG)
      process.stderr.write(`why403: cannot load ${bundle} (${e instanceof Error ? e.message : String(e)}); running unbundled\n`);
  }
}
if (process.env.WHY403_DEBUG_BUNDLE)
  process.stderr.write(
    loaded ? `why403: bundle ${bundle}, code cache ${loaded.cache}${loaded.server ? ` (${loaded.server})` : ''}\n` : 'why403: unbundled\n',
  );
if (loaded) loaded.exports.runAsBin();
else
  import(require('node:url').pathToFileURL(cliJs).href).then(
    (m) => m.runAsBin(),
    (e) => {
      process.stderr.write(`why403: cannot load ${cliJs} (${e instanceof Error ? e.message : String(e)}); was the package built?\n`);
      process.exitCode = 2;
    },
  );
