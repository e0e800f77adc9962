/**
 * The CLI's I/O and the lint command's arguments: types shared by src/cli.ts and the command modules
 * (run.ts, explain/, map/, diff/, spec/), which import them from here, not from cli.ts (no cycle).
 */

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  /** Plain types (not NodeJS.ProcessEnv, Buffer), so the library's .d.ts need no @types/node. */
  env: Record<string, string | undefined>;
  readStdin(): Uint8Array;
}

export interface LintArgs {
  paths?: string[];
  server?: string;
  pathMap?: string | string[];
  context?: string;
  config?: string;
  only?: string | string[];
  configLookup?: boolean;
  printConfig?: string;
  format?: string | string[];
  outputFile?: string;
  quiet?: boolean;
  maxWarnings?: number;
  exitZero?: boolean;
  fix?: boolean;
  fixDryRun?: boolean;
  stdin?: boolean;
  stdinFilename?: string;
  inlineConfig?: boolean;
  reportUnusedSuppressions?: string;
  errorOnUnmatchedPattern?: boolean;
  color?: boolean;
  /** Read the disk the config serves (`--fs`) as the worker user (`--user`). */
  fs?: boolean;
  user?: string;
  prefix?: string;
  serverRoot?: string;
  /** Apache `-D NAME[=VALUE]`, repeatable. */
  define?: string | string[];
}
