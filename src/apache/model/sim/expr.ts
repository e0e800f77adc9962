/**
 * ap_expr in the simulator: the variables and lookups an expression reads, from the simulated
 * request (src/apache/expr evaluates), and the trace steps of an evaluation with their columns.
 */
import type { Directive } from '../../../ast.js';
import { evaluateExpr, type DirectiveExpr, type ExprContext, type ExprResult, type Value } from '../../expr/index.js';
import { DEBIAN_ENVVARS } from '../../vars.js';
import { simStats, type Sim } from './state.js';

/** The server's OS environment: Debian's envvars (and the `env` setting); other names are unset. */
function osEnv(sim: Sim, name: string): string {
  return sim.model.settings.env?.[name] ?? DEBIAN_ENVVARS[name] ?? '';
}

/** The request as ap_expr sees it at this point of the simulation. */
export function exprContext(sim: Sim): ExprContext {
  const header = (name: string): string => sim.headers[name.toLowerCase()] ?? '';
  return {
    remoteIp: sim.clientIp,
    variable(name: string): Value {
      const cur = sim.cur;
      switch (name) {
        case 'HTTP_ACCEPT':
        case 'HTTP_COOKIE':
        case 'HTTP_FORWARDED':
        case 'HTTP_REFERER':
        case 'HTTP_USER_AGENT':
        case 'HTTP_PROXY_CONNECTION':
          return header(name.slice(5).replace(/_/g, '-'));
        case 'HTTP_HOST':
          return sim.headers.host ?? sim.req.host ?? '';
        case 'REQUEST_METHOD':
          return sim.method;
        case 'REQUEST_SCHEME':
          return sim.tls ? 'https' : 'http';
        case 'HTTPS':
          return sim.tls ? 'on' : 'off';
        case 'REQUEST_URI':
        case 'DOCUMENT_URI':
          return cur.uri;
        case 'QUERY_STRING':
          return cur.query;
        case 'THE_REQUEST':
          return `${sim.method} ${sim.req.uri} HTTP/1.1`;
        case 'SERVER_PROTOCOL':
          return 'HTTP/1.1';
        case 'REQUEST_FILENAME':
        case 'SCRIPT_FILENAME':
          return cur.filename ?? { unknown: `${name} before the URI is mapped` };
        case 'REMOTE_ADDR':
        case 'CONN_REMOTE_ADDR':
          return sim.clientIp;
        case 'IPV6':
          return sim.clientIp.includes(':') ? 'on' : 'off';
        case 'IS_SUBREQ':
          return 'false';
        case 'REMOTE_USER':
          return sim.authUser ?? '';
        case 'SERVER_NAME':
          return sim.server.serverName ?? sim.req.host ?? { unknown: 'SERVER_NAME: the server has no ServerName' };
        case 'SERVER_PORT':
          return sim.req.port !== undefined ? String(sim.req.port) : sim.tls ? '443' : '80';
        case 'DOCUMENT_ROOT':
          return sim.server.documentRoot?.value ?? '/var/www/html';
        case 'AUTH_TYPE':
        case 'CONTENT_TYPE':
        case 'HANDLER':
        case 'PATH_INFO':
        case 'CONTEXT_PREFIX':
        case 'REMOTE_IDENT':
          return name === 'CONTENT_TYPE' ? header('content-type') : '';
        default:
          return { unknown: `%{${name}} is not known before the request is served` };
      }
    },
    lookup(func: string, arg: string): Value {
      switch (func) {
        case 'req':
        case 'http':
        case 'req_novary':
          return header(arg);
        case 'reqenv':
        case 'env': {
          const why = sim.envUnknown.get(arg);
          if (why) return { unknown: why };
          const v = sim.env.get(arg);
          if (v !== undefined) return v;
          return func === 'env' ? osEnv(sim, arg) : '';
        }
        case 'osenv':
          return osEnv(sim, arg);
        case 'note':
          return { unknown: `note('${arg}') reads a request note set by a module at run time` };
        case 'resp':
          return '';
        default:
          return { unknown: `${func}() is not evaluated` };
      }
    },
    fileTest(op: string, path: string) {
      if (!sim.fs) return { unknown: `${op} ${path} needs the disk (run with --fs)` };
      const st = op === '-L' || op === '-h' ? sim.fs.lstat(path) : sim.fs.stat(path);
      switch (op) {
        case '-d':
          return st?.type === 'dir';
        case '-f':
          return st?.type === 'file';
        case '-e':
          return st !== null;
        case '-s':
          return st?.type === 'file' ? { unknown: `-s ${path}: the file size is not read` } : false;
        case '-L':
        case '-h':
          return st?.type === 'symlink';
        case '-x':
          return st !== null && (st.mode & 0o111) !== 0;
      }
      return { unknown: `${op} is not evaluated` };
    },
  };
}

/** Evaluate a directive's expression and put each step in the trace with its line and column. */
export function runExpr(sim: Sim, d: Directive, e: DirectiveExpr, phase: string, what: string): ExprResult {
  const r = evaluateExpr(e.cond!, e.text, exprContext(sim));
  if (sim.tracing)
    for (const s of r.steps) {
      simStats.steps++;
      sim.trace.push({ phase, message: `${what}: ${e.text.slice(s.start, s.end)}: ${s.detail}`, directive: d, at: e.at(s.start) });
    }
  for (const u of r.unknowns) sim.unknown(u);
  return r;
}
