/**
 * `apache2 -t` on a minimal server config written into `dir`: ServerRoot, a Listen on 127.0.0.1 (never
 * bound: -t only reads the config), the given modules loaded unless compiled in, then `body`. For tests
 * that compare what why403 refuses with what httpd refuses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APACHE_BIN, APACHE_MODULES, apacheCompiledIn } from './servers.js';

export function apacheT(dir: string, name: string, modules: string[], body: string): { ok: boolean; out: string } {
  const builtIn = apacheCompiledIn();
  const mods = modules
    .filter((m) => !builtIn.has(m) && existsSync(join(APACHE_MODULES, `mod_${m}.so`)))
    .map((m) => `LoadModule ${m}_module ${join(APACHE_MODULES, `mod_${m}.so`)}`);
  const conf = join(dir, name);
  writeFileSync(
    conf,
    [
      `ServerRoot ${dir}`,
      'Listen 127.0.0.1:9',
      `PidFile ${dir}/pid`,
      `ErrorLog ${dir}/error.log`,
      'ServerName localhost',
      ...mods,
      body,
      '',
    ].join('\n'),
  );
  const r = spawnSync(APACHE_BIN, ['-t', '-f', conf], { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}
