/**
 * The one table of `settings` a config file may hold: the config schema's `settings` properties, the
 * key check, and what reaches rules and models (src/settings.ts) all come from it. A new setting is
 * one row here (and its use).
 */

export interface SettingSpec {
  /** JSON Schema of the value (draft-07). */
  schema: Record<string, unknown>;
  description: string;
  /** rule: handed to rules and models as `Settings`; load: becomes a load option (a path, resolved
   * against the config file's folder). */
  kind: 'rule' | 'load';
}

export const SETTINGS = {
  apacheVersion: {
    schema: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+){0,2}$' },
    description: 'Apache httpd version the config is for (IfVersion), e.g. "2.4.62"',
    kind: 'rule',
  },
  apacheModules: {
    schema: { type: 'array', items: { type: 'string', minLength: 1 } },
    description: 'Apache modules loaded besides those the config loads or Debian enables (IfModule, directives)',
    kind: 'rule',
  },
  nginxDirectives: {
    schema: { type: 'array', items: { type: 'string', pattern: '^[^\\s;{}\'"#]+$' } },
    description: 'nginx directives of third-party modules, known to nginx -t where the config runs',
    kind: 'rule',
  },
  apacheDirectives: {
    schema: { type: 'array', items: { type: 'string', pattern: '^<?[^\\s<>\'"#]+$' } },
    description: 'Apache directives of modules why403 does not know',
    kind: 'rule',
  },
  apacheAllowOverride: {
    schema: {
      type: 'array',
      items: {
        type: 'string',
        pattern: '^(All|None|AuthConfig|FileInfo|Indexes|Limit|Options(=[A-Za-z,]+)?|Nonfatal=(Override|Unknown|All))$',
      },
    },
    description: 'AllowOverride assumed for an .htaccess that no linted main config covers',
    kind: 'rule',
  },
  user: {
    schema: { type: 'string', minLength: 1 },
    description: 'the user the worker processes run as (file system checks)',
    kind: 'rule',
  },
  pathMap: {
    schema: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
    description: 'installed path → checked-out path (relative to the config file)',
    kind: 'rule',
  },
  nginxPrefix: {
    schema: { type: 'string', minLength: 1 },
    description: 'nginx -p prefix, relative to the config file',
    kind: 'load',
  },
  apacheServerRoot: {
    schema: { type: 'string', minLength: 1 },
    description: 'Apache ServerRoot when the config sets none, relative to the config file',
    kind: 'load',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** The `settings` object of the config schema. */
export function settingsSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(SETTING_NAMES.map((k) => [k, { description: SETTINGS[k].description, ...SETTINGS[k].schema }])),
  };
}
