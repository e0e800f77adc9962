/**
 * The Apache parser's nodes, stored compactly (the nginx tree's approach, src/nginx/parser.ts): a
 * directive, argument or comment keeps its file and its offsets, and its spans are made when read,
 * the line found in the file's line table (`SourceFile.lineOf`, a binary search) and the column
 * from that line's start. Every position the parser gave is exactly that (the parser counts lines
 * as the table does, LF only; a continued line's segments keep their own lines and columns), so the
 * spans read are equal to the ones it stored before, from one read to the next equal, not identical.
 *
 * Copies: a spread (`{ ...d }`) keeps only own fields, not the getters, so code that copies a node
 * with a change goes through `withBlock`, `withArgs` and `withValue` below.
 *
 * At 1,000 vhosts (62k lines) the tree held 56k directives (≈ 100 bytes, plus two or three span
 * objects of 72 bytes each) and 78k arguments (56 bytes plus a 72-byte span): see docs/performance.md,
 * "Sixth pass: Apache CPU".
 */
import type { Arg, Comment, Directive, Node } from '../ast.js';
import { spanAt, type SourceFile, type Span } from '../source.js';

/**
 * An Apache directive or section. `so` is where the name starts (a section's name, after its `<`),
 * `ne` where it ends, `eo` where the directive ends (the end of its line, or the `>` of the closing
 * tag), `bo` the `<` of a section's opening tag (-1 for a simple directive).
 */
export class ApacheDirective implements Directive {
  declare readonly type: 'directive';
  name: string;
  key: string;
  args: Arg[];
  block: Node[] | null;
  source: SourceFile;
  so: number;
  ne: number;
  eo: number;
  bo: number;
  declare section?: boolean;
  declare includes?: string[];
  declare expansion?: Node[];
  declare rawBody?: string;
  constructor(
    name: string,
    key: string,
    args: Arg[],
    block: Node[] | null,
    source: SourceFile,
    so: number,
    ne: number,
    eo: number,
    bo: number,
  ) {
    this.name = name;
    this.key = key;
    this.args = args;
    this.block = block;
    this.source = source;
    this.so = so;
    this.ne = ne;
    this.eo = eo;
    this.bo = bo;
  }
  get span(): Span {
    return spanAt(this.source, this.so, this.eo);
  }
  set span(v: Span) {
    this.so = v.start.offset;
    this.eo = v.end.offset;
  }
  get nameSpan(): Span {
    return spanAt(this.source, this.so, this.ne);
  }
  set nameSpan(v: Span) {
    this.so = v.start.offset;
    this.ne = v.end.offset;
  }
  get blockSpan(): Span | null {
    return this.bo < 0 ? null : spanAt(this.source, this.bo, this.eo);
  }
  set blockSpan(v: Span | null) {
    if (v === null) this.bo = -1;
    else {
      this.bo = v.start.offset;
      this.eo = v.end.offset;
    }
  }
  /** A copy (own fields and the optional ones), for withBlock/withArgs. */
  copy(): ApacheDirective {
    const C = this.constructor as typeof ApacheDirective;
    const c = new C(this.name, this.key, this.args, this.block, this.source, this.so, this.ne, this.eo, this.bo);
    if (this.includes !== undefined) c.includes = this.includes;
    if (this.expansion !== undefined) c.expansion = this.expansion;
    if (this.rawBody !== undefined) c.rawBody = this.rawBody;
    return c;
  }
}
Object.defineProperty(ApacheDirective.prototype, 'type', { value: 'directive', enumerable: true });

/** A `<Section>`: `section` is true (on the prototype, so that the objects keep one shape). */
export class ApacheSection extends ApacheDirective {}
Object.defineProperty(ApacheSection.prototype, 'section', { value: true, enumerable: true });

/** An argument: its value, file, start and end (the raw text is the source's between them). */
export abstract class ApacheArgBase implements Arg {
  value: string;
  abstract readonly raw: string;
  source: SourceFile;
  so: number;
  eo: number;
  constructor(value: string, source: SourceFile, so: number, eo: number) {
    this.value = value;
    this.source = source;
    this.so = so;
    this.eo = eo;
  }
  get quote(): '"' | "'" | null {
    const c = this.raw.charCodeAt(0);
    return c === 34 ? '"' : c === 39 ? "'" : null;
  }
  get span(): Span {
    return spanAt(this.source, this.so, this.eo);
  }
  set span(v: Span) {
    this.so = v.start.offset;
    this.eo = v.end.offset;
  }
}

/** An argument written as its value (no quotes, no backslash, on one line). */
export class ApacheArg extends ApacheArgBase {
  get raw(): string {
    return this.value;
  }
  override get quote(): null {
    return null;
  }
}

/** An argument whose source text differs from its value (quoted, escaped, continued or expanded). */
export class ApacheRawArg extends ApacheArgBase {
  readonly raw: string;
  constructor(value: string, raw: string, source: SourceFile, so: number, eo: number) {
    super(value, source, so, eo);
    this.raw = raw;
  }
}

/** A comment line (with the lines a `\` joins to it). `text` is the source's after the `#`, kept
 * only when continued lines make it differ. */
export class ApacheComment implements Comment {
  declare readonly type: 'comment';
  declare readonly trailing: false;
  source: SourceFile;
  so: number;
  eo: number;
  private joined: string | null;
  constructor(source: SourceFile, so: number, eo: number, joined: string | null) {
    this.source = source;
    this.so = so;
    this.eo = eo;
    this.joined = joined;
  }
  get text(): string {
    return this.joined ?? this.source.text.slice(this.so + 1, this.eo);
  }
  set text(v: string) {
    this.joined = v;
  }
  get span(): Span {
    return spanAt(this.source, this.so, this.eo);
  }
  set span(v: Span) {
    this.so = v.start.offset;
    this.eo = v.end.offset;
  }
}
Object.defineProperty(ApacheComment.prototype, 'type', { value: 'comment', enumerable: true });
Object.defineProperty(ApacheComment.prototype, 'trailing', { value: false, enumerable: true });

/** `d` with another block (a spread would drop the spans of a compact node). */
export function withBlock(d: Directive, block: Node[] | null): Directive {
  if (d instanceof ApacheDirective) {
    const c = d.copy();
    c.block = block;
    return c;
  }
  return { ...d, block };
}

/** `d` with other arguments. */
export function withArgs(d: Directive, args: Arg[]): Directive {
  if (d instanceof ApacheDirective) {
    const c = d.copy();
    c.args = args;
    return c;
  }
  return { ...d, args };
}

/** `a` with another value (its raw text, quote and span kept). */
export function withValue(a: Arg, value: string): Arg {
  if (a instanceof ApacheArgBase) return new ApacheRawArg(value, a.raw, a.source, a.so, a.eo);
  return { ...a, value };
}
