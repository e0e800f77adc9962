/**
 * Bundles the built CLI (dist/src/cli.js and everything it imports from dist/, npm packages left
 * external) into one file, and writes V8's code cache for it, so that a run neither loads ~50 modules
 * nor parses and compiles ~1 MB of JavaScript again (docs/engine.md, "Libraries and startup";
 * docs/performance.md, "Fourth pass: cold start"):
 *
 * - dist/src/cli.bundle.cjs: CommonJS, as one function expression
 *   `(function (exports, require, module, __filename, __dirname, __why403_url, __why403_import) {…})`
 *   after a first line `/* why403 bundle <id> *\/`, ASCII only. dist/src/cli.js compiles it with
 *   `vm.Script` (src/cli.ts `loadBundle`): node 20 has no compile cache for ES modules, and vm.Script
 *   takes `cachedData`. `import.meta.url` is `__why403_url`, `import()` is `__why403_import`.
 * - dist/src/cli.bundle.cache: the id, a newline, then V8's code cache, made after a training run
 *   (a small nginx file and a small Apache tree linted in this process), so it holds the functions a
 *   lint runs, not only the top level. V8 rejects it under another node version or other V8 flags:
 *   the CLI then compiles the source, as without it. It is made with the node that runs this script.
 *   cli.bundle.nginx.cache and cli.bundle.apache.cache: the same, trained on one server's files
 *   (bin/why403.cjs reads the one that fits the files of a run; docs/performance.md, "Fifth pass").
 * - dist/src/cli.bundle.js: an ES module that loads the two (its exports are the CLI's: `runAsBin`,
 *   `main`), for whoever imports the bundle (tests, benches). dist/src/cli.js does not use it.
 *
 * bin/why403.cjs (the installed command) and dist/src/cli.js run the bundle when it is at least as new as dist/src/cli.js (a later `tsc` makes it
 * stale, and the unbundled files run). The files sit in dist/src so that every `import.meta.url`-
 * relative path (package.json, rules/*.md, schemas/) is the same as for the unbundled files.
 *
 * `node scripts/bundle.mjs` (npm run build) fails when esbuild fails; with --optional (prepare)
 * it only warns: the CLI then runs unbundled. --no-cache: no code cache (measurements).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--optional');
// --outfile=PATH (…/NAME.js): somewhere else (tests); it must stay in dist/src for the relative paths
// to hold. NAME.cjs and NAME.cache are written beside it.
const outfile = process.argv.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length) ?? join(root, 'dist/src/cli.bundle.js');
const base = outfile.replace(/\.js$/, '');
const cjsFile = `${base}.cjs`;
const cacheFile = `${base}.cache`;
const withCache = !process.argv.includes('--no-cache');
/**
 * node:fs, node:util, node:crypto and node:os without their ES module facades. `import { readFileSync } from 'node:fs'`
 * makes node build an ESM facade of the whole module, which reads every export, and fs's lazy getters
 * (ReadStream, promises, …) then load the streams and fs/promises modules: ~25 ms of every run, for
 * nothing a lint uses. The bundle reads fs through `require` instead (its plain properties, and the
 * functions behind getters, opendirSync, as wrappers that read them when called), and crypto (only
 * hashes) and os (homedir, tmpdir) on first use.
 *
 * node:module is not loaded at all: node's public `module` loads its ES module loader (≈ 80 kB of
 * JavaScript parsed in every run). Every `createRequire(import.meta.url)` in the bundle asks for a
 * require of the bundle's own file, which is the `require` the bundle is called with (bin/why403.cjs,
 * src/cli.ts `loadBundle`), so `createRequire` returns that.
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(fs|util|crypto|os|module)$/ }, (a) => ({
      path: a.path.replace(/^node:/, ''),
      namespace: 'why403-builtin',
    }));
    b.onLoad({ filter: /.*/, namespace: 'why403-builtin' }, async (a) => {
      if (a.path === 'module')
        return {
          contents: ['export function createRequire() {', '  return require;', '}', 'export default { createRequire };'].join('\n'),
          loader: 'js',
          resolveDir: root,
        };
      const shape = builtinShape(a.path);
      const lines = ['let m;', `const mod = () => (m ??= createRequire(import.meta.url)('node:${a.path}'));`];
      lines.unshift("import { createRequire } from 'node:module';");
      const eager = a.path === 'fs' || a.path === 'util'; // loaded by node itself before any user code
      if (eager) lines.push('mod();');
      for (const { key: k, getter, fn } of shape) {
        if (!/^[A-Za-z_$][\w$]*$/.test(k) || k === 'default') continue;
        if (eager && !getter) lines.push(`export const ${k} = m.${k};`);
        // functions only: a getter or value that is not one (fs.promises) is not exported, so importing
        // it fails the build instead of giving something else
        else if (fn && /^[a-z]/.test(k)) lines.push(`export function ${k}(...args) { return mod().${k}(...args); }`);
      }
      lines.push(`export default ${eager ? 'm' : '{}'};`);
      return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
    });
  },
};

/**
 * The exports of a node builtin as a fresh node has them: which are lazy getters (fs.opendirSync,
 * fs.promises, util.parseArgs…) and which are functions. Asked of a child process: in this one, the
 * ES module facades of node:fs (this script's imports, esbuild's) have already called every getter,
 * which replaces it with its value, and the bundle then read fs.opendirSync at load (node's
 * internal/fs/dir and its binding in every run).
 */
function builtinShape(name) {
  const code = `const m = require('node:${name}'); process.stdout.write(JSON.stringify(Object.keys(m).map((key) => {
    const getter = !!Object.getOwnPropertyDescriptor(m, key).get;
    return { key, getter, fn: typeof m[key] === 'function' };
  })));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`cannot list the exports of node:${name}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

/** Every character outside ASCII as a \\u escape (esbuild escapes them in strings; comments keep them): the CLI
 * reads the bundle as latin1, which for ASCII is its exact decoding and the cheapest. */
const ascii = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Small configs the training run lints, so that the code cache holds what a lint of one file runs. */
function trainingTree() {
  const dir = mkdtempSync(join(tmpdir(), 'why403-train-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    'server {\n    listen 80;\n    root /srv/www;\n    location / { deny all; }\n    location /a/ { allow 10.0.0.0/8; deny all; }\n}\n',
  );
  mkdirSync(join(dir, 'site'));
  writeFileSync(
    join(dir, 'site/apache2.conf'),
    '<VirtualHost *:80>\n    DocumentRoot /srv/site\n    <Directory /srv/site>\n        Require all denied\n        AllowOverride All\n    </Directory>\n</VirtualHost>\n',
  );
  writeFileSync(join(dir, 'site/.htaccess'), 'Order deny,allow\nDeny from all\n');
  // a name that says nothing of the server (detected by content), linted as pre-commit does: with the
  // config lookup, JSON output, through the CLI's own standard output
  mkdirSync(join(dir, 'deploy'));
  writeFileSync(join(dir, 'deploy/site.conf'), 'server {\n    listen 80;\n    location / {\n        deny all;\n    }\n}\n');
  return dir;
}

/**
 * The code caches, one bundle, three trainings (bin/why403.cjs reads the one that fits a run: V8
 * deserialises all of a cache, so a cache of the nginx code alone is ~300 pages and ~5 M instructions
 * less for one nginx file): `name` → the training files linted with a silent io, and the one linted
 * with `-f json` through the CLI's own output.
 */
const TRAININGS = {
  [cacheFile]: { files: ['nginx.conf', 'site/apache2.conf', 'site/.htaccess'], json: 'deploy/site.conf' },
  [`${base}.nginx.cache`]: { files: ['nginx.conf'], json: 'deploy/site.conf' },
  [`${base}.apache.cache`]: { files: ['site/apache2.conf', 'site/.htaccess'], json: 'site/.htaccess' },
};

/**
 * Runs the bundle from its source in a child node, lints the training files with it (output dropped),
 * and writes the code cache V8 then gives for the script. Resolves to an error text, or null.
 */
function writeCache(id, dir, file, { files, json }) {
  const code = [
    `import { loadBundle } from ${JSON.stringify(pathToFileURL(join(dirname(outfile), 'cli.js')).href)};`,
    "import { writeFileSync } from 'node:fs';",
    `const b = loadBundle(${JSON.stringify(cjsFile)}, { cache: false });`,
    'const io = { out() {}, err() {}, stdoutTTY: false, stderrTTY: false, env: {}, readStdin: () => Buffer.alloc(0) };',
    `for (const f of ${JSON.stringify(files)}) await b.exports.main(['--no-config-lookup', ${JSON.stringify(dir)} + '/' + f], io);`,
    // as pre-commit runs it: the config lookup, and the default io (src/cli.ts processIO, writing to
    // this child's stdout, a pipe; dropped)
    `await b.exports.main(['-f', 'json', ${JSON.stringify(join(dir, json))}]);`,
    `writeFileSync(${JSON.stringify(file)}, Buffer.concat([Buffer.from(${JSON.stringify(id + '\n')}), b.script.createCachedData()]));`,
  ].join('\n');
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, WHY403_NO_BUNDLE: '1' } },
      (e, _out, stderr) =>
        done(e ? `the training run for ${file} failed (${stderr.trim().split('\n').pop() || e.message.split('\n')[0]})` : null),
    );
  });
}

async function writeCaches(id) {
  const dir = trainingTree();
  try {
    const errors = await Promise.all(Object.entries(TRAININGS).map(([file, t]) => writeCache(id, dir, file, t)));
    return errors.filter(Boolean).join('; ') || null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  for (const f of Object.keys(TRAININGS)) rmSync(f, { force: true }); // never a cache of an older bundle
  const { build } = await import('esbuild');
  const r = await build({
    plugins: [builtinsWithoutFacade],
    entryPoints: [join(root, 'dist/src/cli.js')],
    bundle: true,
    write: false,
    outfile: cjsFile,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    define: { 'import.meta.url': '__why403_url' },
    logLevel: 'warning',
  });
  let body = ascii(r.outputFiles[0].text).replace(/^#!.*\n/, '');
  // import() of a package: compiled by vm.Script, the bundle has no module to import from
  body = body.replace(/(?<![\w$.])import\(/g, '__why403_import(');
  if (/(?<![\w$.])import\s*\(|import\.meta/.test(body)) throw new Error('an import() or import.meta is left in the bundle');
  const wrapped = `(function (exports, require, module, __filename, __dirname, __why403_url, __why403_import) {\n${body}\n})`;
  const id = createHash('sha256').update(wrapped).digest('hex').slice(0, 16);
  writeFileSync(cjsFile, `/* why403 bundle ${id} */${wrapped}\n`);
  const name = JSON.stringify(`./${cjsFile.split('/').pop()}`);
  writeFileSync(
    outfile,
    [
      '// Loads the CLI bundle (scripts/bundle.mjs) for whoever imports it; dist/src/cli.js loads it itself.',
      "import { fileURLToPath } from 'node:url';",
      "import { loadBundle } from './cli.js';",
      `const { exports } = loadBundle(fileURLToPath(new URL(${name}, import.meta.url)));`,
      'export const { main, runAsBin } = exports;',
      '',
    ].join('\n'),
  );
  if (withCache) {
    const err = await writeCaches(id);
    if (err) console.error(`why403: no code cache for the CLI bundle: ${err}`);
  }
} catch (e) {
  console.error(
    `why403: no CLI bundle (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); the CLI runs from the unbundled dist/src files`,
  );
  rmSync(cjsFile, { force: true });
  rmSync(outfile, { force: true });
  if (!optional) process.exitCode = 1;
}
