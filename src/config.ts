/**
 * Configuration: `.why403.json`, `.why403.yaml` (or `.yml`), or a `why403` key in package.json,
 * looked up from each linted file's directory upward to the repository root (the nearest directory
 * holding `.git`; the home directory when there is none). The nearest config wins; configs are not
 * merged. `-c FILE` names one config for every file and turns the lookup off.
 *
 * A config is validated against a JSON Schema built from the rules' metadata (`buildSchema`); an
 * invalid config is a `ConfigError` (exit 2) with a message naming the file and the exact key.
 */
import { SETTING_NAMES, settingsSchema } from './settings-table.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { PathMapping } from './ast.js';
import { readBytes } from './read.js';
import type { Rule, Settings, Severity } from './rule.js';
import type { UnusedMode } from './suppress.js';

export const CONFIG_FILES = ['.why403.json', '.why403.yaml', '.why403.yml', 'package.json'] as const;
export const SCHEMA_ID = 'https://github.com/why403/why403/blob/main/schemas/why403.schema.json';

export type RuleEntry = Severity | 'warn' | [Severity | 'warn'] | [Severity | 'warn', Record<string, unknown>];

export interface Why403Config {
  $schema?: string;
  rules?: Record<string, RuleEntry>;
  /** Globs (relative to the config's directory) of files not to lint. */
  ignores?: string[];
  reportUnusedSuppressions?: UnusedMode;
  settings?: ConfigSettings;
}

export interface ConfigSettings extends Omit<Settings, 'pathMap'> {
  /** Installed path → path of the checkout, relative to the config's directory. */
  pathMap?: Record<string, string>;
  /** nginx prefix (`nginx -p`), relative to the config's directory. */
  nginxPrefix?: string;
  /** Apache ServerRoot, relative to the config's directory. */
  apacheServerRoot?: string;
}

export interface LoadedConfig {
  /** The config file, or null when none applies. */
  file: string | null;
  /** Directory that relative paths in the config resolve against. */
  dir: string;
  config: Why403Config;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const SEVERITY_SCHEMA = { enum: ['off', 'info', 'warning', 'warn', 'error'] };

/** The config's JSON Schema (draft-07), with one property per rule. */
export function buildSchema(rules: readonly Rule<string, object>[]): Record<string, unknown> {
  const ruleProps: Record<string, unknown> = {};
  for (const r of [...rules].sort((a, b) => a.id.localeCompare(b.id))) {
    const opts = r.options ?? { type: 'object', properties: {}, additionalProperties: false };
    ruleProps[r.id] = {
      description: `${r.description} (default: ${r.severity})`,
      anyOf: [
        { $ref: '#/definitions/severity' },
        { type: 'array', items: [{ $ref: '#/definitions/severity' }, opts], minItems: 1, additionalItems: false },
      ],
    };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'why403 configuration',
    type: 'object',
    additionalProperties: false,
    definitions: { severity: SEVERITY_SCHEMA },
    properties: {
      $schema: { type: 'string' },
      rules: { type: 'object', additionalProperties: false, properties: ruleProps },
      ignores: { type: 'array', items: { type: 'string', minLength: 1 } },
      reportUnusedSuppressions: { enum: ['off', 'warn', 'error'] },
      settings: settingsSchema(),
    },
  };
}

interface SchemaError {
  instanceLocation: string;
  keyword: string;
  error: string;
}

function pointerToPath(ptr: string): string {
  const parts = ptr
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const p of parts) out += /^[0-9]+$/.test(p) ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? (out ? `.${p}` : p) : `["${p}"]`;
  return out || '(top level)';
}

/** Turn schema errors into one precise sentence per problem. */
function describeErrors(config: unknown, errors: SchemaError[], rules: readonly Rule<string, object>[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const ids = new Set(rules.map((r) => r.id));
  const add = (s: string) => {
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  };
  // Unknown keys first: the most common mistake, and the schema words them poorly.
  const explained = new Set<string>();
  const check = (obj: unknown, allowed: string[], where: string, what: string) => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
    for (const k of Object.keys(obj)) {
      if (allowed.includes(k)) continue;
      add(`${where}${where ? '.' : ''}${k}: unknown ${what} "${k}"`);
      explained.add(`#${where ? '/' + where : ''}/${encodeURIComponent(k)}`);
    }
  };
  const c = config as Why403Config;
  check(c, ['$schema', 'rules', 'ignores', 'reportUnusedSuppressions', 'settings'], '', 'key');
  if (c && typeof c === 'object' && c.rules && typeof c.rules === 'object') {
    for (const k of Object.keys(c.rules)) {
      if (ids.has(k)) continue;
      add(`rules["${k}"]: unknown rule "${k}" (run \`why403 rules\` for the list)`);
      explained.add(`#/rules/${encodeURIComponent(k)}`);
    }
  }
  if (c && typeof c === 'object' && c.settings) {
    check(c.settings, SETTING_NAMES, 'settings', 'setting');
  }
  // Then the deepest error at each location.
  const byLoc = new Map<string, SchemaError[]>();
  for (const e of errors) {
    if (['properties', 'additionalProperties', 'items', 'anyOf', '$ref', 'allOf'].includes(e.keyword)) continue;
    if ([...explained].some((x) => e.instanceLocation === x || e.instanceLocation.startsWith(x + '/'))) continue;
    const l = byLoc.get(e.instanceLocation) ?? [];
    l.push(e);
    byLoc.set(e.instanceLocation, l);
  }
  const locs = [...byLoc.keys()].sort((a, b) => b.length - a.length);
  for (const loc of locs) {
    if (locs.some((o) => o !== loc && o.startsWith(loc + '/'))) continue;
    const errs = byLoc.get(loc)!;
    const path = pointerToPath(loc);
    const e = errs[0];
    const value = valueAt(config, loc);
    if (e.keyword === 'false') {
      const key = decodeURIComponent(loc.split('/').pop() ?? '');
      add(`${path}: unknown option "${key}"`);
    } else if (e.keyword === 'pattern' && /Version$/.test(loc)) {
      add(`${path}: ${JSON.stringify(value)} is not a version such as "1.22.1"`);
    } else if (e.keyword === 'enum') {
      const isSeverity = /^#\/rules\/[^/]+(\/0)?$/.test(loc);
      const allowed = isSeverity
        ? '"off", "info", "warning" ("warn") or "error"'
        : loc === '#/reportUnusedSuppressions'
          ? '"off", "warn" or "error"'
          : 'one of the allowed values';
      add(`${path}: ${JSON.stringify(value)} is not ${allowed}`);
    } else {
      add(`${path}: ${e.error.replace(/^Instance /, 'value ')}`);
    }
  }
  return out;
}

function valueAt(obj: unknown, ptr: string): unknown {
  let v: unknown = obj;
  for (const p of ptr.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const k = decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~');
    if (v && typeof v === 'object') v = (v as Record<string, unknown>)[k];
    else return undefined;
  }
  return v;
}

type ValidatorCtor = new (
  schema: object,
  draft?: string,
  shortCircuit?: boolean,
) => { validate(x: unknown): { valid: boolean; errors: SchemaError[] } };
const require = createRequire(import.meta.url);
let validatorCache: { rules: readonly Rule<string, object>[]; v: InstanceType<ValidatorCtor> } | null = null;

/** Validate a parsed config; throws ConfigError naming `file`. */
export function validateConfig(config: unknown, file: string, rules: readonly Rule<string, object>[]): Why403Config {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError(`${file}: the configuration must be an object`);
  }
  if (!validatorCache || validatorCache.rules !== rules) {
    // Loaded only when a config exists: keeps startup lean for the common no-config run.
    const { Validator } = require('@cfworker/json-schema') as { Validator: ValidatorCtor };
    validatorCache = { rules, v: new Validator(buildSchema(rules), '7', false) };
  }
  const res = validatorCache.v.validate(config);
  if (!res.valid) {
    const lines = describeErrors(config, res.errors, rules);
    throw new ConfigError(`invalid configuration in ${file}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
  return config as Why403Config;
}

function parseConfigText(file: string, text: string): unknown {
  try {
    if (/\.ya?ml$/i.test(file)) {
      const YAML = require('yaml') as typeof import('yaml');
      const doc = YAML.parseDocument(text, { prettyErrors: true });
      if (doc.errors.length > 0) throw new Error(doc.errors[0].message);
      return doc.toJS() ?? {};
    }
    const data = JSON.parse(text) as unknown;
    if (file.endsWith('package.json')) return (data as Record<string, unknown> | null)?.why403;
    return data;
  } catch (e) {
    throw new ConfigError(`cannot parse ${file}: ${(e as Error).message}`);
  }
}

/** Read and validate one config file. */
export function loadConfigFile(file: string, rules: readonly Rule<string, object>[], cwd: string = process.cwd()): LoadedConfig {
  const abs = resolve(cwd, file);
  // read.ts: regular files only, size-capped (a FIFO named .why403.json must not hang a pre-commit hook)
  const r = readBytes(abs);
  if (!r.ok) {
    const why =
      r.code === 'not-found'
        ? 'no such file'
        : r.code === 'is-directory'
          ? 'it is a directory'
          : r.message.replace(/^cannot read .*?: /, '');
    throw new ConfigError(`cannot read config ${file}: ${why}`);
  }
  const text = r.bytes.toString('utf8');
  const data = parseConfigText(abs, text);
  if (data === undefined && abs.endsWith('package.json')) throw new ConfigError(`${file} has no "why403" key`);
  return { file: abs, dir: dirname(abs), config: validateConfig(data ?? {}, abs, rules) };
}

/** Finds and caches the config for each directory. */
export class ConfigResolver {
  private readonly byDir = new Map<string, LoadedConfig>();
  private readonly fixed: LoadedConfig | null;
  private readonly cwd: string;

  constructor(
    private readonly rules: readonly Rule<string, object>[],
    opts: { configFile?: string; cwd?: string } = {},
  ) {
    this.cwd = opts.cwd ?? process.cwd();
    this.fixed = opts.configFile ? loadConfigFile(opts.configFile, rules, this.cwd) : null;
  }

  /** The config that applies to a file (throws ConfigError for a bad config file). */
  forFile(file: string): LoadedConfig {
    if (this.fixed) return this.fixed;
    const dir = dirname(resolve(this.cwd, file));
    return this.forDir(dir);
  }

  private forDir(dir: string): LoadedConfig {
    const hit = this.byDir.get(dir);
    if (hit) return hit;
    let found: LoadedConfig | null = null;
    const visited: string[] = [];
    let d = dir;
    const home = homedir();
    for (;;) {
      const cached = this.byDir.get(d);
      if (cached) {
        found = cached;
        break;
      }
      visited.push(d);
      for (const name of CONFIG_FILES) {
        const p = join(d, name);
        if (!existsSync(p)) continue;
        if (name === 'package.json') {
          let pkg: unknown;
          try {
            const r = readBytes(p);
            if (!r.ok) continue;
            pkg = JSON.parse(r.bytes.toString('utf8'));
          } catch {
            continue; // a broken package.json is not ours to report
          }
          if (!pkg || typeof pkg !== 'object' || !('why403' in pkg)) continue;
        }
        found = loadConfigFile(p, this.rules);
        break;
      }
      if (found) break;
      const parent = dirname(d);
      if (existsSync(join(d, '.git')) || d === home || parent === d) break;
      d = parent;
    }
    const result = found ?? { file: null, dir: this.cwd, config: {} };
    for (const v of visited) this.byDir.set(v, result);
    return result;
  }
}

/** Normalise a rule entry to severity + options. */
export function ruleEntry(entry: RuleEntry | undefined): { severity?: Severity; options?: Record<string, unknown> } {
  if (entry === undefined) return {};
  const norm = (s: Severity | 'warn'): Severity => (s === 'warn' ? 'warning' : s);
  if (typeof entry === 'string') return { severity: norm(entry) };
  return { severity: norm(entry[0]), options: entry[1] };
}

/** Path mappings from a config, `to` resolved against the config's directory. */
export function configPathMap(c: LoadedConfig): PathMapping[] {
  const m = c.config.settings?.pathMap ?? {};
  return Object.entries(m).map(([from, to]) => ({ from, to: isAbsolute(to) ? to : resolve(c.dir, to) }));
}
