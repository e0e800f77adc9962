/**
 * One model, and rules read it (issue 10): a rule asks `ctx.model` where a request goes, what a
 * scope inherits, whom an access list refuses and what the disk holds. It does not import the model's
 * internals to work those out on its own, so rules and explain cannot drift apart again. Helpers that
 * only read or print directives (directiveText, own, scopeLabel, option names…) stay importable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './harness/build.js';

/** Functions that answer a semantic question; `ctx.model` has a query for each. */
const MODEL_INTERNALS = [
  'findLocation', // matching: m.scopeAt(server, uri)
  'toBinary',
  'selectServer',
  'effectiveSettings', // inheritance: m.settingsAt(scope)
  'accessList',
  'accessSegments', // access logic: m.clientsOf(scope), m.accessChanges(a, b)
  'segmentAllows',
  'accessDiff',
  'refusedBy', // m.refusesEveryone(scope)
  'serverOf', // m.serverOf(scope)
  'dirConfAt', // Apache inheritance: m.optionsAt(server, dir)
  'mergeDirConf',
  'htaccessContext', // m.htaccess()
  'linkedViolations', // m.htaccessViolations()
  'fnmatch', // m.filesSectionsFor(server, name)
  'simulate',
];

/** The value (not type-only) names a rule file imports from the model's modules. */
function modelImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'\.\.\/src\/(?:nginx|apache)\/model\/[^']+';/gm)) {
    if (m[1]) continue;
    for (const part of m[2].split(',')) {
      const name = part.trim();
      if (name && !name.startsWith('type ')) out.push(name.split(/\s+as\s+/)[0]);
    }
  }
  return out;
}

describe('rules read the model through ctx.model', () => {
  const files = readdirSync(join(repoRoot, 'rules')).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  it('finds the rule files', () => expect(files.length).toBeGreaterThan(25));
  it.each(files)('%s imports no model internals', (f) => {
    const used = modelImports(readFileSync(join(repoRoot, 'rules', f), 'utf8')).filter((n) => MODEL_INTERNALS.includes(n));
    expect(used, `${f} should ask ctx.model instead`).toEqual([]);
  });
  it('the check sees value imports and skips type-only ones', () => {
    const text = `import { findLocation, type Scope } from '../src/nginx/model/locations.js';\nimport type { Server } from '../src/nginx/model/tree.js';\n`;
    expect(modelImports(text)).toEqual(['findLocation']);
  });
});
