/**
 * One headless Neovim session attaches `why403 lsp --stdio` to an nginx file with `return 403;` at
 * server level and writes the diagnostics it receives to a file. Debian's Neovim is 0.7 (no
 * `vim.lsp.start`), so the client is started with `vim.lsp.start_client` and attached with
 * `vim.lsp.buf_attach_client`. Skips with a reason when `nvim` is absent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { cliPath, ensureBuilt } from './harness/build.js';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8', timeout: 10_000 });
const haveNvim = nvim.status === 0;
if (!haveNvim) console.log('skipping the Neovim LSP test: `nvim` is not installed (Debian: apt-get install neovim)');

const tmp = mkdtempSync(join(tmpdir(), 'why403-nvim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Lua for Neovim ≥ 0.5: start the client, attach it to the buffer, write the first non-empty
// diagnostics as "line<TAB>code" (1-based line), then quit. A timer bounds the wait inside Neovim too.
const LUA = `
local out = os.getenv('WHY403_OUT')
local function finish(lines)
  local f = io.open(out, 'w')
  f:write(table.concat(lines, '\\n') .. '\\n')
  f:close()
  vim.schedule(function() vim.cmd('qall!') end)
end
local id = vim.lsp.start_client({
  name = 'why403',
  cmd = { os.getenv('WHY403_NODE'), os.getenv('WHY403_CLI'), 'lsp', '--stdio' },
  root_dir = os.getenv('WHY403_ROOT'),
  handlers = {
    ['textDocument/publishDiagnostics'] = function(_, result)
      if result and result.diagnostics and #result.diagnostics > 0 then
        local lines = {}
        for _, d in ipairs(result.diagnostics) do
          table.insert(lines, (d.range.start.line + 1) .. '\\t' .. tostring(d.code))
        end
        finish(lines)
      end
    end,
  },
})
vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('WHY403_FILE')))
vim.lsp.buf_attach_client(0, id)
vim.defer_fn(function() finish({ 'timeout' }) end, 45000)
`;

describe.skipIf(!haveNvim)('Neovim (headless) attaches why403 lsp', () => {
  test('the diagnostic of `return 403;` arrives on its line with its rule id', async () => {
    ensureBuilt();
    mkdirSync(join(tmp, 'sites-enabled'), { recursive: true });
    const file = join(tmp, 'sites-enabled', 'shop');
    writeFileSync(file, 'server {\n    listen 80;\n    server_name shop.example.test;\n\n    return 403;\n}\n');
    const script = join(tmp, 'attach.lua');
    writeFileSync(script, LUA);
    const out = join(tmp, 'diagnostics.txt');
    const child = spawn('nvim', ['--headless', '--clean', '-n', '-c', `luafile ${script}`], {
      cwd: tmp,
      env: {
        ...process.env,
        WHY403_OUT: out,
        WHY403_NODE: process.execPath,
        WHY403_CLI: cliPath,
        WHY403_ROOT: tmp,
        WHY403_FILE: file,
        HOME: tmp,
        XDG_CONFIG_HOME: join(tmp, 'config'),
        XDG_DATA_HOME: join(tmp, 'data'),
        XDG_STATE_HOME: join(tmp, 'state'),
        XDG_CACHE_HOME: join(tmp, 'cache'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      // bounded: Neovim quits by itself (the Lua timer), and is killed after 60 s if it does not
      const code = await new Promise<number | string | null>((res) => {
        const bound = setTimeout(() => res('killed: Neovim did not quit'), 60_000);
        child.on('exit', (c) => {
          clearTimeout(bound);
          res(c);
        });
      });
      expect(code, stderr).toBe(0);
      expect(existsSync(out), stderr).toBe(true);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines).toContain('5\tnginx-return-403-server');
    } finally {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
});
