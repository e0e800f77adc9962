/**
 * The syntax tree shared by the nginx and Apache parsers. The engine, the rules, the formatters and
 * the semantic models read only these types, so they need not care which server a file is for.
 */
import type { SourceFile, Span } from './source.js';

export type { Position, Span } from './source.js';
export type ServerKind = 'nginx' | 'apache';

/** One argument of a directive, as the server tokenizes it. */
export interface Arg {
  /** The value the server sees: quotes removed, escapes processed as that server does. */
  value: string;
  /** The exact source text, quotes included. */
  raw: string;
  /** The quote character, or null when unquoted. */
  quote: '"' | "'" | null;
  span: Span;
}

export interface Directive {
  type: 'directive';
  /** The name as written (Apache names are case-insensitive: compare with `key`). */
  name: string;
  /** Lookup key: the name as nginx compares it (as written), lower-cased for Apache. */
  key: string;
  args: Arg[];
  /** From the first character of the name to the end of the directive: the `;`, the `}` that closes
   * its block, the end of an Apache line, or the `>` of an Apache closing tag. */
  span: Span;
  nameSpan: Span;
  /** Children of an nginx `{ }` block or an Apache `<Section>`; null for a simple directive. */
  block: Node[] | null;
  /** nginx: from `{` to `}` inclusive. Apache: from the `<` of the opening tag to the `>` of the closing tag. */
  blockSpan: Span | null;
  /** Apache only: true for the `<Name args>` … `</Name>` form. */
  section?: boolean;
  /** Raw body of blocks the server does not tokenize (nginx `*_by_lua_block`). */
  rawBody?: string;
  /** The file this directive stands in. */
  source: SourceFile;
  /** For include directives (nginx `include`, Apache `Include`/`IncludeOptional`): the absolute paths
   * of the files it pulled in, in the order the server reads them. Set by the loader. */
  includes?: string[];
  /** Apache mod_macro `Use`: the directives it expands to, read in its place (src/apache/macro.ts). Set
   * by the loader. */
  expansion?: Node[];
}

export interface Comment {
  type: 'comment';
  /** Text after the `#`. */
  text: string;
  /** From the `#` to the end of the line (line terminator excluded). */
  span: Span;
  source: SourceFile;
  /** True when the comment follows a directive on the same line (legal in nginx only). */
  trailing: boolean;
}

export type Node = Directive | Comment;

/** A problem found while reading or parsing; the engine reports these as `syntax-error`. */
export interface Diagnostic {
  /** Stable identifier of the kind of problem, e.g. `unexpected-brace`, `include-cycle`, `unreadable`. */
  code: string;
  message: string;
  /** Path of the file the problem is in (the including file for include problems). */
  file: string;
  span: Span;
  severity: 'error' | 'warning';
}

export interface ParsedFile {
  server: ServerKind;
  source: SourceFile;
  nodes: Node[];
  errors: Diagnostic[];
  /** The context the file's top level was parsed in. nginx: `main`, `http`, `server`, `location`,
   * `upstream`, … Apache: `server` (httpd.conf level), `directory` or `htaccess`. */
  context: string;
  /** Apache `.htaccess`: the directory it applies to (after the path map). */
  htaccessDir?: string;
}

/** A configuration as the server reads it: one entry file and every file it includes. */
export interface ConfigSet {
  server: ServerKind;
  /** The file that was asked for. */
  root: ParsedFile;
  /** Every file read, keyed by absolute path, in the order first read (root first). */
  files: Map<string, ParsedFile>;
  /** Problems that belong to no single parse: include cycles, missing or unreadable includes. Each
   * carries the file and span of the include directive at fault. */
  errors: Diagnostic[];
  /** nginx: the conf prefix the loader resolved relative includes against (absolute, no trailing
   * slash), which every other relative path of the config (`auth_basic_user_file`) resolves against
   * too; absent for sets not built by the loader (then the root file's directory). */
  confPrefix?: string;
}

/** Maps an installed path prefix to where it is checked out (e.g. /etc/nginx → ./deploy/nginx). */
export interface PathMapping {
  from: string;
  to: string;
}

export function isDirective(n: Node): n is Directive {
  return n.type === 'directive';
}

/** A directive as written, for messages: `deny all`, `Require ip 10.0.0.0/8`. */
export function directiveText(d: Directive): string {
  return [d.name, ...d.args.map((a) => a.raw)].join(' ');
}

/** Where a directive stands, for messages: `apache2.conf:162` (the file's base name and line). */
export function directiveAt(d: Directive): string {
  return `${d.source.path.replace(/^.*\//, '')}:${d.span.start.line}`;
}
