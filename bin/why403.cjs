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

const { readFileSync, statSync } = require('node:fs');
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

/** The bundle's exports and whether V8 took its code cache (the cache file starts with the bundle's id). */
function loadBundle(file) {
  const { Script } = require('node:vm');
  const { createRequire } = require('node:module');
  const { pathToFileURL } = require('node:url');
  // ASCII (scripts/bundle.mjs escapes anything else): latin1 is its exact decoding
  const source = readFileSync(file, 'latin1');
  const id = /^\/\* why403 bundle ([0-9a-f]+) \*\//.exec(source)?.[1] ?? '';
  let cachedData;
  if (id) {
    try {
      const data = readFileSync(file.replace(/\.cjs$/, '') + '.cache');
      const nl = data.indexOf(10);
      if (nl > 0 && data.toString('latin1', 0, nl) === id) cachedData = data.subarray(nl + 1);
    } catch {
      /* no cache: compile from the source */
    }
  }
  const script = new Script(source, cachedData ? { filename: file, cachedData } : { filename: file });
  const cache = !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const fn = script.runInThisContext();
  const module = { exports: {} };
  const url = pathToFileURL(file).href;
  fn.call(module.exports, module.exports, createRequire(url), module, file, dirname(file), url, (spec) => import(spec));
  return { exports: module.exports, cache };
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
  process.stderr.write(loaded ? `why403: bundle ${bundle}, code cache ${loaded.cache}\n` : 'why403: unbundled\n');
if (loaded) loaded.exports.runAsBin();
else
  import(require('node:url').pathToFileURL(cliJs).href).then(
    (m) => m.runAsBin(),
    (e) => {
      process.stderr.write(`why403: cannot load ${cliJs} (${e instanceof Error ? e.message : String(e)}); was the package built?\n`);
      process.exitCode = 2;
    },
  );
