/**
 * The language server's entry, imported by `why403 lsp` only (src/cli.ts loads it lazily, so other
 * commands never load vscode-languageserver). Standard input and output carry the protocol: anything
 * else that would write to standard output (console.log) goes to standard error.
 */
export { startServer, EXPLAIN_COMMAND, DEBOUNCE_MS } from './server.js';

/** Serve LSP over stdio until the client sends `exit` (the process then exits). */
export async function runLsp(): Promise<void> {
  const toStderr = (...a: unknown[]) => void process.stderr.write(a.map(String).join(' ') + '\n');
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  const { startServer } = await import('./server.js');
  await startServer();
  // the connection keeps the process alive; `exit` ends it
  await new Promise<void>(() => undefined);
}
