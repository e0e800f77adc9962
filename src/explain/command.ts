/**
 * `why403 explain <config> <url-or-path> [--method] [--ip] [--header]… [--user | --auth] [--proxy PORT] [--fs | --htaccess] [--format]`:
 * load the config, simulate the request on the nginx or Apache model, print the explanation.
 *
 * Exit codes: 0 the explanation was produced (whatever the verdict); 1 with --expect when the predicted
 * status differs; 2 bad input (a URL, IP, header or option that does not parse, a config that cannot be
 * read or does not parse). Never a stack trace (WHY403_DEBUG=1 shows one for internal errors).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import picocolors from 'picocolors';
import type { PathMapping, ServerKind } from '../ast.js';
import type { CliIO } from '../cli-io.js';
import { useColor } from '../color.js';
import { serverFor } from '../load.js';
import { commandLineFor, loadForCommand, parseDefines } from '../command-load.js';
import { errnoText } from '../read.js';
import { explain } from './index.js';
import { parseExplainRequest } from './request.js';
import { renderJson, renderText, type TextStyle } from './render.js';

export interface ExplainArgs {
  config: string;
  target: string;
  method?: string;
  ip?: string;
  header?: string | string[];
  user?: string;
  /** `user:password`: credentials checked against the user file (instead of assumed valid). */
  auth?: string;
  /** `--proxy PORT`: a forward-proxy request (the URL in absolute form) to this port. */
  proxy?: string;
  fs?: boolean;
  /** `--htaccess` (Apache): read the .htaccess files on the request's path, nothing else on disk. */
  htaccess?: boolean;
  format?: string;
  server?: string;
  pathMap?: PathMapping[];
  context?: string;
  prefix?: string;
  serverRoot?: string;
  define?: string | string[];
  expect?: number | string;
  color?: boolean;
  /** A config file to use instead of looking one up (`-c`). */
  configFile?: string;
  /** False with --no-config-lookup: no `.why403.json` is read. */
  configLookup?: boolean;
}

const many = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** An explain error, exit 2; argument errors (`help`) point at `why403 explain --help`. */
function usage(io: CliIO, msg: string, help = true): number {
  io.err(`why403 explain: ${msg}\n${help ? 'Run `why403 explain --help` for usage.\n' : ''}`);
  return 2;
}

export async function explainCommand(a: ExplainArgs, io: CliIO): Promise<number> {
  const format = a.format ?? 'text';
  if (format !== 'text' && format !== 'json') return usage(io, `--format must be text or json, got "${format}"`);
  let expect: number | undefined;
  if (a.expect !== undefined) {
    expect = Number(a.expect);
    if (!Number.isInteger(expect) || expect < 100 || expect > 999)
      return usage(io, `--expect wants an HTTP status such as 403, got "${a.expect}"`);
  }
  const parsed = parseExplainRequest({
    target: a.target,
    method: a.method,
    ip: a.ip,
    headers: many(a.header),
    user: a.user,
    auth: a.auth,
    proxy: a.proxy,
  });
  if (!parsed.ok) return usage(io, parsed.error);
  const parsedDefines = parseDefines(many(a.define));
  if ('error' in parsedDefines) return usage(io, parsedDefines.error);
  const { defines } = parsedDefines;
  const path = resolve(a.config);
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return usage(io, `cannot read the config ${a.config}: ${errnoText(code, String(code))}`, false);
  }
  if (st.isDirectory())
    return usage(io, `${a.config} is a directory: give the main config file (nginx.conf, apache2.conf, httpd.conf or an .htaccess)`);
  const server = (a.server as ServerKind | undefined) ?? serverFor(path) ?? undefined;
  if (!server)
    return usage(
      io,
      `cannot tell whether ${a.config} is an nginx or an Apache httpd config; choose with --server nginx or --server apache`,
    );
  // The same settings lint reads for this file (.why403.json, path maps, prefix, ServerRoot), so the
  // model is the one lint's findings were proven on; the command line wins.
  const loaded = await loadForCommand(path, commandLineFor(server, a, defines), {
    lookup: a.configLookup,
    ...(a.configFile ? { configFile: a.configFile } : {}),
  });
  if (!loaded.ok)
    return usage(
      io,
      loaded.usageHint
        ? loaded.message
        : `${loaded.message}
so the request cannot be explained`,
      loaded.usageHint,
    );
  const { set, lo, settings } = loaded;
  const exp = explain(set, a.config, parsed.request, {
    fs: !!a.fs,
    ...(a.htaccess ? { readHtaccess: true } : {}),
    pathMap: lo.pathMap ?? [],
    ...(lo.prefix ? { prefix: lo.prefix } : {}),
    ...(lo.serverRoot ? { serverRoot: lo.serverRoot } : {}),
    ...(lo.defines ? { defines: lo.defines } : {}),
    settings,
  });
  if (format === 'json') io.out(renderJson(exp));
  else {
    const c = picocolors.createColors(useColor({ flag: a.color, env: io.env, isTTY: io.stdoutTTY }));
    const style: TextStyle = { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow };
    io.out(renderText(exp, style));
  }
  if (expect !== undefined && exp.status !== expect) {
    io.err(`why403 explain: expected ${expect}, the prediction is ${exp.status ?? 'unknown'}\n`);
    return 1;
  }
  return 0;
}
