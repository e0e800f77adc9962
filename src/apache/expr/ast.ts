/**
 * The tree of an httpd ap_expr expression (server/util_expr_parse.y): the conditions of `<If>`,
 * `<ElseIf>`, `Require expr`, `SetEnvIfExpr`, … Every node carries its offsets in the expression
 * text (`start` inclusive, `end` exclusive), so a step of the evaluation can point at its column.
 */

/** A string-valued node. */
export type Word =
  | { type: 'digits'; value: string; start: number; end: number }
  /** A quoted string: literal parts and interpolated variables/back-references. */
  | { type: 'string'; parts: StringPart[]; start: number; end: number }
  | { type: 'var'; name: string; start: number; end: number }
  /** `%{func:arg}`: a string function applied to a literal argument. */
  | { type: 'varfunc'; func: string; arg: string; start: number; end: number }
  | { type: 'backref'; n: number; start: number; end: number }
  | { type: 'func'; name: string; arg: Word; start: number; end: number }
  | { type: 'concat'; left: Word; right: Word; start: number; end: number };

export type StringPart = { type: 'text'; value: string } | Extract<Word, { type: 'var' | 'varfunc' | 'backref' }>;

export type UnaryOp = '-d' | '-e' | '-f' | '-s' | '-L' | '-h' | '-x' | '-A' | '-U' | '-F' | '-n' | '-z' | '-T' | '-R';

export type BinaryOp =
  | '=='
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '-eq'
  | '-ne'
  | '-lt'
  | '-le'
  | '-gt'
  | '-ge'
  | '-ipmatch'
  | '-strmatch'
  | '-strcmatch'
  | '-fnmatch';

/** A regex literal: `/re/flags` or `m#re#flags`. */
export interface RegexLit {
  source: string;
  flags: string;
  start: number;
  end: number;
}

export type Cond =
  | { type: 'bool'; value: boolean; start: number; end: number }
  | { type: 'not'; arg: Cond; start: number; end: number }
  | { type: 'and' | 'or'; left: Cond; right: Cond; start: number; end: number }
  | { type: 'unary'; op: UnaryOp; arg: Word; start: number; end: number }
  | { type: 'binary'; op: BinaryOp; left: Word; right: Word; start: number; end: number }
  | { type: 'match'; negate: boolean; left: Word; regex: RegexLit; start: number; end: number }
  | { type: 'in'; left: Word; list: Word[]; start: number; end: number };

/** A syntax or config-time error, as httpd reports it, at an offset of the expression text. */
export interface ExprError {
  message: string;
  offset: number;
}
