/**
 * Every rule, sorted by id (the library's and the tests' list), derived from the one hand-written
 * list, src/rule-manifest.ts (a new rule is one line there; test/rule-manifest.test.ts prints the line
 * when a rule file is missing from it). The CLI does not import this module: it loads the rules of
 * the servers in a run only.
 */
import { loadRules } from '../src/rule-manifest.js';
import type { Rule } from '../src/rule.js';

export const rules: readonly Rule<string, object>[] = await loadRules();
