/**
 * `why403 lsp --stdio`: the language server (vscode-languageserver). Diagnostics come from the lint
 * pipeline of `why403 lint` (src/run.ts) run over the tree around each open document with the
 * unsaved buffers of every open document (workspace.ts), debounced (a change after a quiet moment at
 * once); code actions, hover, document symbols and the `why403.explain` command read the same loader
 * and model (the sets and model the last lint built, while the buffers are what it linted). What did
 * not change between runs is kept (set-cache.ts).
 *
 * Nothing a client sends can stop the server: every handler is wrapped, and an error becomes a log
 * line and an empty answer.
 */
import type { Connection, Diagnostic, InitializeResult } from 'vscode-languageserver';
import type { TextDocument as TextDoc } from 'vscode-languageserver-textdocument';
import type { ConfigSet, ParsedFile } from '../ast.js';
import { realOrSelf } from '../files.js';
import { fileInSet } from '../load.js';
import { codeActions, toDiagnostic } from './diagnostics.js';
import { Workspace, uriToPath, type OpenDoc } from './workspace.js';

export const EXPLAIN_COMMAND = 'why403.explain';
/** How long the server waits after a change that follows another before it lints (ms): enough to
 * take a burst of changes (typing, key repeat, an editor's multi-step edit, a session's files opened
 * in a row) as one, short next to the lint itself. An edit after a quiet moment (no change in the
 * last DEBOUNCE_MS, no lint waiting or running) is linted at once. A change that comes while a lint
 * runs makes it lint again when it ends, never two at once. */
export const DEBOUNCE_MS = 50;

export interface ServerOptions {
  debounceMs?: number;
}

/** Start a server on a connection (stdio by default). The process exits on `exit` (code 0 after `shutdown`). */
export async function startServer(given?: Connection, o: ServerOptions = {}): Promise<Connection> {
  // loaded here, not at the top: the CLI bundle (scripts/bundle.mjs) would otherwise load them for every command
  const { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } = await import('vscode-languageserver/node.js');
  const { TextDocument } = await import('vscode-languageserver-textdocument');
  const connection = given ?? createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  const debounce = o.debounceMs ?? DEBOUNCE_MS;
  const documents = new TextDocuments(TextDocument);
  const ws = new Workspace();
  const published = new Set<string>();
  let lastUri: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const log = (msg: string) => {
    try {
      connection.console.log(`why403: ${msg}`);
    } catch {
      /* the connection has gone */
    }
  };
  const errorText = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));
  /** A handler that never throws: an error is logged and `fallback` answered. */
  function safe<A extends unknown[], R>(name: string, fallback: R, fn: (...a: A) => R | Promise<R>): (...a: A) => Promise<R> {
    return async (...a: A) => {
      try {
        return await fn(...a);
      } catch (e) {
        log(`${name} failed: ${errorText(e)}`);
        return fallback;
      }
    };
  }

  let lastChange = -Infinity;
  /** Lint after the debounce; an edit (`eager`) after a quiet moment at once. Opening files (an editor
   * restoring a session opens many in a row), saves and closes always wait for the debounce. */
  const schedule = (eager = false) => {
    const now = performance.now();
    const quiet = eager && !timer && !running && now - lastChange >= debounce;
    lastChange = now;
    if (timer) clearTimeout(timer);
    timer = setTimeout(
      () => {
        timer = null;
        void lintNow();
      },
      quiet ? 0 : debounce,
    );
  };

  async function lintNow(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await lintOpen();
      } while (again);
    })().finally(() => {
      running = null;
    });
    return running;
  }

  async function lintOpen(): Promise<void> {
    try {
      const docs = [...ws.docs.values()];
      const versions = new Map(docs.map((d) => [d.uri, d.version]));
      const t0 = performance.now();
      const { runs, untitled, configErrors } = await ws.lintDocs(docs);
      const { hits, misses } = ws.cacheStats;
      log(
        `linted ${docs.length} open file(s) and their trees in ${Math.round(performance.now() - t0)} ms (sets reused so far: ${hits}, linted: ${misses})`,
      );
      if (again) return; // a newer edit came in: its run publishes
      const byUri = new Map<string, Diagnostic[]>();
      const add = (doc: OpenDoc, d: Diagnostic[]) => byUri.set(doc.uri, [...(byUri.get(doc.uri) ?? []), ...d]);
      for (const run of [...runs, ...untitled.map((u) => u.run)])
        for (const c of run.crashes) log(`internal error in ${c.ruleId} while linting ${c.file}: ${c.error.split('\n')[0]}`);
      // a result is filed under the path the loader read (sites-enabled/x for an open sites-available/x)
      const byReal = new Map(docs.filter((d) => d.path).map((d) => [realOrSelf(d.path!), d]));
      for (const run of runs)
        for (const r of run.results) {
          if (!r.messages.length) continue; // nothing to file (and no realpath(3) for every file of a large tree)
          const doc = docs.find((d) => d.path === r.filePath) ?? byReal.get(realOrSelf(r.filePath));
          if (doc)
            add(
              doc,
              r.messages.map((m) => toDiagnostic(m, versions.get(doc.uri) ?? 0)),
            );
        }
      // a buffer linted on its own: every result of its run is its own
      for (const { doc, run } of untitled)
        for (const r of run.results)
          add(
            doc,
            r.messages.map((m) => toDiagnostic(m, versions.get(doc.uri) ?? 0)),
          );
      for (const { doc, message } of configErrors)
        add(doc, [
          {
            range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
            severity: 1,
            source: 'why403',
            code: 'config-error',
            message: `why403 settings: ${message}`,
          },
        ]);
      for (const d of docs) {
        if (!ws.docs.has(d.uri)) continue;
        const diagnostics = byUri.get(d.uri) ?? [];
        await connection.sendDiagnostics({ uri: d.uri, version: versions.get(d.uri), diagnostics });
        published.add(d.uri);
      }
    } catch (e) {
      log(`lint failed: ${errorText(e)}`);
    }
  }

  connection.onInitialize(
    safe('initialize', { capabilities: {} } as InitializeResult, (params) => {
      const folders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
      const root = params.rootUri ? uriToPath(params.rootUri) : (params.rootPath ?? null);
      ws.setFolders(folders.length ? folders : root ? [root] : []);
      return {
        capabilities: {
          textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
          hoverProvider: true,
          documentSymbolProvider: true,
          codeActionProvider: { codeActionKinds: ['quickfix'] },
          executeCommandProvider: { commands: [EXPLAIN_COMMAND] },
        },
        serverInfo: { name: 'why403' },
      } satisfies InitializeResult;
    }),
  );

  documents.onDidOpen(
    safe('didOpen', undefined, (e) => {
      ws.open(e.document.uri, e.document.getText(), e.document.version);
      lastUri = e.document.uri;
      schedule();
    }),
  );
  documents.onDidChangeContent(
    safe('didChange', undefined, (e) => {
      const had = ws.docs.get(e.document.uri);
      const text = e.document.getText();
      if (had && had.version === e.document.version && had.text === text) return; // the open itself (TextDocuments fires both)
      ws.change(e.document.uri, text, e.document.version);
      lastUri = e.document.uri;
      schedule(true);
    }),
  );
  documents.onDidSave(
    safe('didSave', undefined, () => {
      ws.diskChanged();
      schedule();
    }),
  );
  documents.onDidClose(
    safe('didClose', undefined, async (e) => {
      ws.close(e.document.uri);
      if (published.delete(e.document.uri)) await connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
      // the other files read its unsaved text: now they read the disk (an unchanged tree costs nothing)
      if (ws.docs.size) schedule();
    }),
  );
  connection.onDidChangeWatchedFiles(
    safe('didChangeWatchedFiles', undefined, () => {
      ws.diskChanged();
      schedule();
    }),
  );

  const docOf = (uri: string): { doc: OpenDoc; text: TextDoc } | null => {
    const doc = ws.docs.get(uri);
    const text = documents.get(uri);
    return doc && text ? { doc, text } : null;
  };

  connection.onCodeAction(
    safe('codeAction', [], (p) => {
      const d = docOf(p.textDocument.uri);
      return d ? codeActions(d.text, p.context.diagnostics) : [];
    }),
  );

  connection.onHover(
    safe('hover', null, async (p) => {
      const d = docOf(p.textDocument.uri);
      if (!d) return null;
      lastUri = d.doc.uri;
      const tree = await ws.treeFor(d.doc);
      if (!tree) return null;
      const file = fileOf(tree.set, d.doc);
      if (!file) return null;
      const { hoverText } = await import('./hover.js');
      const value = await hoverText(tree, file, d.text.offsetAt(p.position), ws.cwdFor(d.doc.path));
      return value ? { contents: { kind: 'markdown' as const, value } } : null;
    }),
  );

  connection.onDocumentSymbol(
    safe('documentSymbol', [], async (p) => {
      const d = docOf(p.textDocument.uri);
      if (!d) return [];
      const tree = await ws.treeFor(d.doc);
      const file = tree ? fileOf(tree.set, d.doc) : null;
      if (!file) return [];
      const { documentSymbols } = await import('./symbols.js');
      return documentSymbols(file);
    }),
  );

  connection.onExecuteCommand(
    safe('executeCommand', null as unknown, async (p) => {
      if (p.command !== EXPLAIN_COMMAND) return null;
      const [url, ip, method, uri] = (p.arguments ?? []) as unknown[];
      if (typeof url !== 'string' || !url) return { error: 'why403.explain takes a URL (and optionally a client address and a method)' };
      const target = (typeof uri === 'string' && ws.docs.get(uri)) || (lastUri && ws.docs.get(lastUri)) || [...ws.docs.values()].at(-1);
      if (!target) return { error: 'open a config file first: the request is explained with the config tree of the open file' };
      const tree = await ws.treeFor(target);
      if (!tree) return { error: `cannot load the config tree of ${target.uri}` };
      const { explain, parseExplainRequest, renderText } = await import('../explain/index.js');
      const req = parseExplainRequest({
        target: url,
        ...(typeof ip === 'string' && ip ? { ip } : {}),
        ...(typeof method === 'string' && method ? { method } : {}),
      });
      if (!req.ok) return { error: req.error };
      const { overlayReads } = await import('../read.js');
      const prev = overlayReads(ws.overlay);
      try {
        const config = tree.set.root.source.path;
        const exp = explain(tree.set, config, req.request, {
          fs: false,
          pathMap: tree.lo.pathMap ?? [],
          ...(tree.lo.prefix ? { prefix: tree.lo.prefix } : {}),
          ...(tree.lo.serverRoot ? { serverRoot: tree.lo.serverRoot } : {}),
          ...(tree.lo.defines ? { defines: tree.lo.defines } : {}),
          settings: tree.settings,
        });
        return { config, status: exp.status, text: renderText(exp), explanation: exp };
      } finally {
        overlayReads(prev);
      }
    }),
  );

  connection.onShutdown(
    safe('shutdown', undefined, () => {
      if (timer) clearTimeout(timer);
      timer = null;
    }),
  );

  documents.listen(connection);
  connection.listen();
  return connection;
}

function fileOf(set: ConfigSet, doc: OpenDoc): ParsedFile | null {
  return doc.path ? fileInSet(set, doc.path) : set.root;
}
