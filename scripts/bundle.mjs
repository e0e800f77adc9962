/**
 * Bundles the built CLI (dist/src/cli.js and everything it imports from dist/, npm packages left
 * external) into one file, dist/src/cli.bundle.js: one module to load instead of ~50 cuts ~35 ms of
 * startup (docs/engine.md, "Libraries and startup"). dist/src/cli.js runs the bundle when it is at
 * least as new as itself (a later `tsc` makes it stale, and the unbundled files run). It sits in
 * dist/src so that every `import.meta.url`-relative path (package.json, rules/*.md, schemas/) is the
 * same as for the unbundled files.
 *
 * `node scripts/bundle.mjs` (npm run build) fails when esbuild fails; with --optional (prepare)
 * it only warns: the CLI then runs unbundled.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--optional');
// --outfile=PATH: somewhere else (tests); it must stay in dist/src for the relative paths to hold.
const outfile = process.argv.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length) ?? join(root, 'dist/src/cli.bundle.js');
/**
 * node:fs, node:util and node:crypto without their ES module facades. `import { readFileSync } from 'node:fs'`
 * makes node build an ESM facade of the whole module, which reads every export, and fs's lazy getters
 * (ReadStream, promises, …) then load the streams and fs/promises modules: ~25 ms of every run, for
 * nothing a lint uses. The bundle reads fs through `require` instead (its plain properties, and the
 * functions behind getters, opendirSync, as wrappers that read them when called), and crypto (only hashes) on first use.
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(fs|util|crypto)$/ }, (a) => ({ path: a.path.replace(/^node:/, ''), namespace: 'why403-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'why403-builtin' }, async (a) => {
      const { createRequire } = await import('node:module');
      const mod = createRequire(import.meta.url)(`node:${a.path}`);
      const lines = [
        "import { createRequire } from 'node:module';",
        'let m;',
        `const mod = () => (m ??= createRequire(import.meta.url)('node:${a.path}'));`,
      ];
      const eager = a.path !== 'crypto'; // fs and util are loaded by node itself before any user code
      if (eager) lines.push('mod();');
      for (const k of Object.keys(mod)) {
        if (!/^[A-Za-z_$][\w$]*$/.test(k) || k === 'default') continue;
        const d = Object.getOwnPropertyDescriptor(mod, k);
        if (eager && !d.get) lines.push(`export const ${k} = m.${k};`);
        // functions only: a getter or value that is not one (fs.promises) is not exported, so importing
        // it fails the build instead of giving something else
        else if (typeof mod[k] === 'function' && /^[a-z]/.test(k))
          lines.push(`export function ${k}(...args) { return mod().${k}(...args); }`);
      }
      lines.push(`export default ${eager ? 'm' : '{}'};`);
      return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
    });
  },
};

try {
  const { build } = await import('esbuild');
  await build({
    plugins: [builtinsWithoutFacade],
    entryPoints: [join(root, 'dist/src/cli.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
} catch (e) {
  console.error(
    `why403: no CLI bundle (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); the CLI runs from the unbundled dist/src files`,
  );
  if (!optional) process.exitCode = 1;
}
