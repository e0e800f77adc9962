/**
 * `why403 diff <base> <head>` or `why403 diff --base REV <config>`: every probe request whose answer
 * changes between two configs. Exit 0 when nothing `--fail-on` names changed, 1 when it did, 2 on bad
 * input (a config that does not parse, a git revision that cannot be read).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { PathMapping, ServerKind } from '../ast.js';
import type { CliIO } from '../cli-io.js';
import { lazy } from '../lazy.js';
import { loadConfig, serverFor } from '../load.js';
import { diffConfigs, type Change, type DiffResult, type DiffSide } from './index.js';

export interface DiffArgs {
  paths: string[];
  base?: string;
  format?: string;
  failOn?: string;
  server?: string;
  pathMap?: PathMapping[];
  prefix?: string;
  serverRoot?: string;
  /** Read the disk the configs serve (both sides see the same disk; explain --fs). */
  fs?: boolean;
}

const childProcess = lazy<typeof import('node:child_process')>('node:child_process');

const FORMATS = ['text', 'json', 'markdown', 'github'];
const FAIL_ON = ['any', 'opened', 'closed', 'none'];

function usage(io: CliIO, msg: string): number {
  io.err(`why403 diff: ${msg}\n(see why403 diff --help)\n`);
  return 2;
}

function side(path: string, a: DiffArgs, pathMap: PathMapping[], io: CliIO): DiffSide | string {
  try {
    if (statSync(path).isDirectory()) return `${path} is a directory: name the main config file`;
  } catch {
    return `cannot read ${path}: no such file`;
  }
  const server = (a.server as ServerKind | undefined) ?? serverFor(path) ?? undefined;
  if (!server) return `cannot tell whether ${path} is an nginx or an Apache config; choose with --server`;
  const prefix = a.prefix ? resolve(a.prefix).replace(/\/*$/, '/') : undefined;
  const set = loadConfig(path, {
    server,
    ...(pathMap.length ? { pathMap } : {}),
    ...(prefix && server === 'nginx' ? { prefix } : {}),
    ...(a.serverRoot && server === 'apache' ? { serverRoot: resolve(a.serverRoot) } : {}),
  });
  const errs = [...set.errors, ...[...set.files.values()].flatMap((f) => f.errors)].filter(
    (d) => d.severity === 'error' && d.code !== 'unknown-directive',
  );
  if (errs.length)
    return `${path} does not parse:\n${errs
      .slice(0, 10)
      .map((d) => `  ${d.file}:${d.span.start.line}:${d.span.start.column}: ${d.message}`)
      .join('\n')}`;
  void io;
  return {
    set,
    options: {
      ...(pathMap.length ? { pathMap } : {}),
      ...(prefix && server === 'nginx' ? { prefix } : {}),
      ...(a.serverRoot && server === 'apache' ? { serverRoot: resolve(a.serverRoot) } : {}),
      ...(a.fs ? { fs: true } : {}),
    },
  };
}

const fmt = (c: Change) => `${c.request.method} ${c.request.url} from ${c.request.ip}${c.request.user ? ` as ${c.request.user}` : ''}`;
const st = (v: Change['before']) =>
  v.status === null && v.possible?.length
    ? `${v.possible.map((x) => x ?? 'unknown').join(' or ')}, depending on the disk or what the model cannot see`
    : `${v.status ?? 'unknown'}${v.decidedBy ? ` (${v.decidedBy})` : ''}`;

/** Changes that differ only in client address or method, as one line. */
function grouped(cs: Change[]): Array<{ head: Change; clients: string[]; methods: string[] }> {
  const by = new Map<string, { head: Change; clients: string[]; methods: string[] }>();
  for (const c of cs) {
    const k = `${c.request.url} ${c.request.user ?? ''} ${st(c.before)} ${st(c.after)} ${c.kind}`;
    const g = by.get(k) ?? { head: c, clients: [], methods: [] };
    if (!g.clients.includes(c.request.ip)) g.clients.push(c.request.ip);
    if (!g.methods.includes(c.request.method)) g.methods.push(c.request.method);
    by.set(k, g);
  }
  return [...by.values()];
}

/** The partial-config warnings, one per side read without its main config. */
function partialLines(r: DiffResult): string[] {
  const { before, after } = r.partial;
  if (before !== null && before === after) return [`Partial config (both sides): ${before}`];
  return [
    ...(before !== null ? [`Partial config (before): ${before}`] : []),
    ...(after !== null ? [`Partial config (after): ${after}`] : []),
  ];
}

function render(r: DiffResult, format: string): string {
  if (format === 'json') {
    const partial = r.partial.before !== null || r.partial.after !== null ? { partial: r.partial } : {};
    return JSON.stringify({ probes: r.probes, truncated: r.truncated, ...partial, changes: r.changes }, null, 2) + '\n';
  }
  const warn = partialLines(r);
  const byScope = new Map<string, Change[]>();
  for (const c of r.changes) byScope.set(c.scope, [...(byScope.get(c.scope) ?? []), c]);
  if (format === 'markdown') {
    const out = ['## Access changes (why403 diff)', '', ...warn.flatMap((w) => [`> **${w}**`, ''])];
    if (!r.changes.length) out.push(`No request changes its answer (${r.probes} probes).`);
    else {
      out.push('| scope | request | before | after | |', '| --- | --- | --- | --- | --- |');
      for (const [scope, cs] of byScope)
        for (const c of cs)
          out.push(
            `| ${scope.replace(/\|/g, '\\|')} | \`${fmt(c)}\` | ${st(c.before).replace(/\|/g, '\\|')} | ${st(c.after).replace(/\|/g, '\\|')} | ${c.kind} |`,
          );
      out.push('', `${r.changes.length} of ${r.probes} probe requests change their answer.`);
    }
    return out.join('\n') + '\n';
  }
  if (format === 'github') {
    return (
      warn.map((w) => `::notice title=why403 diff::${w}\n`).join('') +
      r.changes
        .map((c) => {
          const at = /^(\S+):(\d+):(\d+) /.exec(c.after.decidedBy ?? c.before.decidedBy ?? '');
          const loc = at ? ` file=${at[1]},line=${at[2]},col=${at[3]}` : '';
          return `::warning${loc},title=why403 diff (${c.kind})::${fmt(c)}: ${st(c.before)} → ${st(c.after)}`.replace(/\n/g, '%0A');
        })
        .join('\n') +
      (r.changes.length ? '\n' : '')
    );
  }
  const out: string[] = warn.length ? [...warn, ''] : [];
  for (const [scope, cs] of byScope) {
    out.push(scope);
    for (const g of grouped(cs)) {
      const c = g.head;
      const clients = g.clients.length > 4 ? `${g.clients.slice(0, 4).join(', ')} and ${g.clients.length - 4} more` : g.clients.join(', ');
      out.push(
        `  ${c.kind.padEnd(7)} ${g.methods.join('/')} ${c.request.url} from ${clients}${c.request.user ? ` as ${c.request.user}` : ''}`,
        `          before: ${st(c.before)}`,
        `          after:  ${st(c.after)}`,
      );
    }
    out.push('');
  }
  out.push(
    r.changes.length
      ? `${r.changes.length} of ${r.probes} probe requests change their answer`
      : `no request changes its answer (${r.probes} probes)`,
  );
  if (r.truncated) out.push('(the probe budget was reached: not every combination was tried)');
  return out.join('\n') + '\n';
}

export async function diffCommand(a: DiffArgs, io: CliIO): Promise<number> {
  const format = a.format ?? 'text';
  if (!FORMATS.includes(format)) return usage(io, `--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  const failOn = a.failOn ?? 'any';
  if (!FAIL_ON.includes(failOn)) return usage(io, `--fail-on must be one of ${FAIL_ON.join(', ')}, got "${failOn}"`);
  const pathMap = a.pathMap ?? [];
  let basePath: string;
  let headPath: string;
  let basePathMap = pathMap;
  let tmp: string | null = null;
  try {
    if (a.base) {
      if (a.paths.length !== 1) return usage(io, 'with --base REV, name one config: the head (working tree) version');
      headPath = resolve(a.paths[0]);
      // The base: the same file in the git tree of REV, extracted to a temporary directory.
      let top: string;
      try {
        top = childProcess()
          .execFileSync('git', ['-C', dirname(headPath), 'rev-parse', '--show-toplevel'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          })
          .trim();
        tmp = mkdtempSync(join(tmpdir(), 'why403-diff-'));
        const tar = childProcess().execFileSync('git', ['-C', top, 'archive', '--format=tar', a.base], {
          maxBuffer: 1 << 30,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        childProcess().execFileSync('tar', ['-x', '-C', tmp], { input: tar, stdio: ['pipe', 'ignore', 'pipe'] });
      } catch (e) {
        return usage(io, `cannot read revision ${a.base}: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`);
      }
      basePath = join(tmp, relative(top, headPath));
      basePathMap = pathMap.map((m) =>
        m.to === top || m.to.startsWith(`${top}/`) ? { from: m.from, to: join(tmp!, relative(top, m.to)) } : m,
      );
    } else {
      if (a.paths.length !== 2) return usage(io, 'name the base config and the head config (or --base REV and one config)');
      basePath = resolve(a.paths[0]);
      headPath = resolve(a.paths[1]);
    }
    const b = side(basePath, a, basePathMap, io);
    if (typeof b === 'string') return usage(io, `base: ${b}`);
    const h = side(headPath, a, pathMap, io);
    if (typeof h === 'string') return usage(io, `head: ${h}`);
    const r = diffConfigs(b, h, { cwd: process.cwd() });
    io.out(render(r, format));
    const hit = failOn === 'none' ? [] : r.changes.filter((c) => failOn === 'any' || c.kind === failOn);
    return hit.length ? 1 : 0;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
