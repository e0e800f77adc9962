/**
 * Differential test against the real nginx (`nginx -t`, test mode only, nothing listens): seeded
 * random mutations of a self-contained config. nginx stops at its first error; whenever that error is
 * one why403 models (tokenizer, block structure, context, arity, unknown directive), why403 must
 * have a diagnostic with nginx's message spanning nginx's line, and no error wholly before it. When nginx accepts the file, why403
 * must report no error. Skips with a reason when /usr/sbin/nginx is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNginx } from '../src/nginx/parser.js';
import { SourceFile } from '../src/source.js';
import { mulberry32 as prng } from '../bench/prng.js';

const NGINX = '/usr/sbin/nginx';
const present = existsSync(NGINX);
if (!present) console.log(`nginx differential test skipped: ${NGINX} not found`);

// Only directives that need no files, sockets or modules outside nginx-full's core.
const BASE = `# differential base
worker_processes 1;
events {
    worker_connections 64;
}
http {
    access_log off;
    map $http_user_agent $bot {
        default 0;
        "~*(bot|crawl)" 1;
    }
    server {
        listen 127.0.0.1:18080;
        server_name example.test "*.example.test";
        add_header X-Test 'a "quoted" value' always;
        set $x "\${bot}-suffix";
        location / {
            return 200 "ok\\n";
        }
        location ~ ^/admin/(?<rest>.*)$ {
            allow 127.0.0.1;
            deny all; # everyone else
            if ($http_x_token = "") {
                return 403;
            }
        }
        location = /x {
            limit_except GET {
                deny all;
            }
            return 204;
        }
    }
}
`;

const STRAY = ['{', '}', ';', '"', "'", '\\', '#', '$', ' ', '\n', 'x', '(', ')', 'location', 'server'];

function mutate(s: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (s.length + 1));
  const len = 1 + Math.floor(rnd() * 6);
  switch (Math.floor(rnd() * 3)) {
    case 0:
      return s.slice(0, at) + s.slice(at + len);
    case 1:
      return s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
    default:
      return s.slice(0, at) + STRAY[Math.floor(rnd() * STRAY.length)] + s.slice(at);
  }
}

/** Messages of nginx that why403 models; anything else (invalid condition, duplicate …) is not. */
const MODELLED = [
  /^unexpected "[\s\S]{1,4}"$/, // the tokenizer's; not `unexpected "(=" in condition` (the if handler)
  /^unexpected end of file/,
  /^directive ".*" has no opening "\{"$/,
  /^directive ".*" is not terminated by ";"$/,
  /^".*" directive is not allowed here$/,
  /^invalid number of arguments in ".*" directive$/,
  /^unknown directive ".*"$/,
  /^too long parameter/,
];

const dir = present ? mkdtempSync(join(tmpdir(), 'why403-nginx-diff-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function nginxT(text: string): { ok: boolean; message?: string; line?: number } {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, text);
  const r = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-c', conf, '-e', 'stderr', '-g', `pid ${join(dir, 'nginx.pid')};`], {
    encoding: 'latin1',
    timeout: 20_000,
  });
  if (r.status === 0) return { ok: true };
  const m = /\[emerg\] \d+#\d+: (.*?) in (\S+):(\d+)/.exec(r.stderr);
  if (!m) return { ok: false, message: r.stderr.trim().split('\n')[0] };
  return { ok: false, message: m[1], line: Number(m[3]) };
}

describe.skipIf(!present)('nginx -t versus why403 on mutated configs', () => {
  it('the base config is accepted by both', () => {
    expect(nginxT(BASE)).toEqual({ ok: true });
    expect(parseNginx(new SourceFile('/d/nginx.conf', BASE), { context: 'main' }).errors).toEqual([]);
  });

  it('agrees on the first error for 400 seeded mutations', () => {
    const rnd = prng(1403);
    const tally = { same: 0, bothOk: 0, notModelled: 0 };
    const disagreements: string[] = [];
    for (let i = 0; i < 400; i++) {
      let text = BASE;
      const rounds = 1 + Math.floor(rnd() * 2);
      for (let r = 0; r < rounds; r++) text = mutate(text, rnd);
      const real = nginxT(text);
      const ours = parseNginx(new SourceFile(join(dir, 'nginx.conf'), text), { context: 'main', reportUnknown: true }).errors;
      const firstError = ours.find((e) => e.severity === 'error');
      if (real.ok) {
        const errs = ours.filter((e) => e.severity === 'error');
        if (errs.length === 0) tally.bothOk++;
        else disagreements.push(`#${i}: nginx accepts, why403 says ${errs[0].span.start.line}: ${errs[0].message}`);
        continue;
      }
      if (!MODELLED.some((re) => re.test(real.message ?? ''))) {
        tally.notModelled++;
        // not modelled: why403 must at least not invent an earlier error
        if (firstError && real.line && firstError.span.end.line < real.line) {
          disagreements.push(
            `#${i}: nginx ${real.line}: ${real.message}; why403 earlier at ${firstError.span.start.line}: ${firstError.message}`,
          );
        }
        continue;
      }
      // nginx names the line where it stopped: a diagnostic of ours with its message must span that
      // line, and none of our errors may lie wholly before it (nginx would have stopped there)
      const line = real.line ?? 0;
      // (why403 may add to nginx's words: `unknown directive "x": did you mean "y"? (…)`)
      const sameWords = (m: string) => m === real.message || m.startsWith(real.message + ':') || m.startsWith(real.message + ' (');
      const match = ours.find((e) => sameWords(e.message) && e.span.start.line <= line && line <= e.span.end.line);
      const earlier = firstError && firstError.span.end.line < line ? firstError : undefined;
      if (match && !earlier) tally.same++;
      else {
        const o = earlier ?? firstError;
        disagreements.push(
          `#${i}: nginx ${real.line}: ${real.message}; why403 ${o ? `${o.span.start.line}-${o.span.end.line}: ${o.message}` : 'nothing'}`,
        );
      }
    }
    console.log(`nginx differential: ${JSON.stringify(tally)}`);
    expect(disagreements).toEqual([]);
    expect(tally.same).toBeGreaterThan(150);
  }, 240_000); // 400 runs of nginx -t: 30–56 s on a quiet machine, more under load
});
