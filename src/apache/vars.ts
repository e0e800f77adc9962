/**
 * `${VAR}` expansion as httpd's ap_resolve_env (server/core.c) does it: a name is looked up in the
 * `Define`d variables first, then in the environment (here: the `defines` map stands for both);
 * `${VAR?=default}` uses the default when VAR is not set (httpd trunk / 2.4.60+). An unknown
 * `${VAR}` stays as written (httpd logs AH00111 "Config variable ${VAR} is not defined" unless the
 * name holds a `:`, as RewriteMap lookups `${map:key}` do). `$` not followed by `{…}` is kept.
 * httpd expands the whole line before it splits it into words; why403 keeps `Arg.raw` as written
 * and offers this helper to whoever needs the expanded value.
 */

/** What Debian's /etc/apache2/envvars exports for the default instance (apache2ctl sources it). */
export const DEBIAN_ENVVARS: Readonly<Record<string, string>> = Object.freeze({
  APACHE_RUN_USER: 'www-data',
  APACHE_RUN_GROUP: 'www-data',
  APACHE_PID_FILE: '/var/run/apache2/apache2.pid',
  APACHE_RUN_DIR: '/var/run/apache2',
  APACHE_LOCK_DIR: '/var/lock/apache2',
  APACHE_LOG_DIR: '/var/log/apache2',
  LANG: 'C',
});

export interface ExpandResult {
  value: string;
  /** Names that were referenced but not defined (and had no default). */
  undefined: string[];
}

/** Expand `${VAR}` references; unknown ones stay literal. */
export function expandVars(value: string, defines: Readonly<Record<string, string | undefined>>): string {
  return expandVarsDetailed(value, defines).value;
}

export function expandVarsDetailed(value: string, defines: Readonly<Record<string, string | undefined>>): ExpandResult {
  const missing: string[] = [];
  let i = value.indexOf('$');
  if (i === -1) return { value, undefined: missing };
  let out = value.slice(0, i);
  while (i < value.length) {
    const c = value[i];
    if (c === '$' && value[i + 1] === '{') {
      const close = value.indexOf('}', i + 2);
      if (close !== -1) {
        let name = value.slice(i + 2, close);
        let dflt: string | undefined;
        const q = name.indexOf('?=');
        if (q !== -1) {
          dflt = name.slice(q + 2);
          name = name.slice(0, q);
        }
        const v = Object.prototype.hasOwnProperty.call(defines, name) ? defines[name] : undefined;
        if (v !== undefined) out += v;
        else if (dflt !== undefined) out += dflt;
        else {
          if (!name.includes(':')) missing.push(name);
          out += value.slice(i, close + 1);
        }
        i = close + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return { value: out, undefined: missing };
}
