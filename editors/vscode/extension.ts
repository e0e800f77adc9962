/**
 * The why403 VS Code extension: a client only. It starts `why403 lsp --stdio` (the project's
 * node_modules/.bin/why403, else `why403` on the PATH, or the `why403.path` setting) and lets the
 * language server do everything: diagnostics, quick fixes, suppressions, hover, outline. The command
 * "why403: explain URL" asks for a URL, a client address and a method and shows the server's
 * `why403.explain` answer.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

function executable(): string {
  const configured = vscode.workspace.getConfiguration('why403').get<string>('path');
  if (configured) return configured;
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const local = join(f.uri.fsPath, 'node_modules', '.bin', process.platform === 'win32' ? 'why403.cmd' : 'why403');
    if (existsSync(local)) return local;
  }
  return 'why403';
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const command = executable();
  const serverOptions: ServerOptions = {
    run: { command, args: ['lsp', '--stdio'] },
    debug: { command, args: ['lsp', '--stdio'], options: { env: { ...process.env, WHY403_DEBUG: '1' } } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { language: 'nginx' },
      { language: 'apacheconf' },
      { scheme: 'file', pattern: '**/.htaccess' },
      { scheme: 'file', pattern: '**/{nginx,apache2,httpd,apache}/**' },
      { scheme: 'file', pattern: '**/*.conf' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.conf,.htaccess,.why403.json,.why403.yaml,.why403.yml}'),
    },
  };
  client = new LanguageClient('why403', 'why403', serverOptions, clientOptions);
  const output = vscode.window.createOutputChannel('why403 explain');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('why403.explainUrl', async () => {
      const url = await vscode.window.showInputBox({ prompt: 'URL to explain', placeHolder: 'http://example.test/admin/' });
      if (!url || !client) return;
      const ip = await vscode.window.showInputBox({ prompt: 'Client address (empty: 127.0.0.1)', placeHolder: '10.0.0.7' });
      const method = await vscode.window.showInputBox({ prompt: 'Method', value: 'GET' });
      const uri = vscode.window.activeTextEditor?.document.uri.toString();
      const r = (await client.sendRequest('workspace/executeCommand', {
        command: 'why403.explain',
        arguments: [url, ip ?? '', method ?? 'GET', uri ?? ''],
      })) as { text?: string; error?: string } | null;
      output.clear();
      output.appendLine(r?.text ?? r?.error ?? 'no answer');
      output.show(true);
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
