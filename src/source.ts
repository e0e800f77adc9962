/**
 * A file's text and the mapping between offsets and 1-based line/column positions.
 *
 * Columns count UTF-16 code units, as SARIF's default `columnKind` does and as JavaScript string
 * indices do. Decoding is lossless: a file that is not valid UTF-8 keeps every byte, because each
 * byte of an invalid sequence becomes one lone surrogate U+DC80..U+DCFF ("surrogateescape", as
 * Python does it). `encode()` turns such text back into the exact original bytes, so `--fix` never
 * changes a byte it did not mean to. A leading UTF-8 byte order mark is not part of `text` (so the
 * first character is column 1) but is remembered and written back.
 */

export interface Position {
  /** Offset into `SourceFile.text` (UTF-16 code units, BOM excluded). */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column in UTF-16 code units. */
  column: number;
}

/** A half-open range [start, end). */
export interface Span {
  start: Position;
  end: Position;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class SourceFile {
  /** Path as it is reported (normally absolute, or the `--stdin-filename`). */
  readonly path: string;
  /** Decoded text without the BOM. */
  readonly text: string;
  /** True when the file started with a UTF-8 BOM. */
  readonly bom: boolean;
  /** True when the bytes were not valid UTF-8 (invalid bytes are kept as U+DC80..U+DCFF). */
  readonly invalidUtf8: boolean;
  private starts: Int32Array | null = null;

  constructor(path: string, text: string, opts: { bom?: boolean; invalidUtf8?: boolean } = {}) {
    this.path = path;
    this.text = text;
    this.bom = opts.bom ?? false;
    this.invalidUtf8 = opts.invalidUtf8 ?? false;
  }

  /** Decode raw bytes losslessly (see the module comment). */
  static fromBytes(path: string, bytes: Uint8Array): SourceFile {
    let start = 0;
    const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    if (bom) start = 3;
    const body = bytes.subarray(start);
    try {
      return new SourceFile(path, utf8Fatal.decode(body), { bom });
    } catch {
      return new SourceFile(path, decodeSurrogateEscape(body), { bom, invalidUtf8: true });
    }
  }

  /** Offsets at which each line starts (line 1 starts at 0). A line ends at LF; CR LF counts once.
   * An Int32Array (4 bytes a line, counted before it is filled) rather than an array grown by push
   * (8 bytes a line and up to half as much again of spare room): a big tree keeps one per file. */
  get lineStarts(): Int32Array {
    if (this.starts === null) {
      const t = this.text;
      let lines = 1;
      for (let i = t.indexOf('\n'); i !== -1; i = t.indexOf('\n', i + 1)) lines++;
      const s = new Int32Array(lines);
      let k = 1;
      for (let i = t.indexOf('\n'); i !== -1; i = t.indexOf('\n', i + 1)) s[k++] = i + 1;
      this.starts = s;
    }
    return this.starts;
  }

  /** The 1-based line of an offset in the text (0 ≤ offset ≤ text.length): the line whose start is
   * the last one at or before it. */
  lineOf(offset: number): number {
    const s = this.lineStarts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Position of an offset (clamped to the text). */
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineOf(o);
    return { offset: o, line, column: o - this.lineStarts[line - 1] + 1 };
  }

  /** Offset of a 1-based line and column (clamped). */
  offsetAt(line: number, column: number): number {
    const s = this.lineStarts;
    const l = Math.max(1, Math.min(line, s.length));
    return Math.min(s[l - 1] + Math.max(0, column - 1), this.text.length);
  }

  spanOf(start: number, end: number): Span {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }

  /** Text of a 1-based line without its line terminator. */
  lineText(line: number): string {
    const s = this.lineStarts;
    if (line < 1 || line > s.length) return '';
    const from = s[line - 1];
    let to = line < s.length ? s[line] - 1 : this.text.length;
    if (to > from && this.text.charCodeAt(to - 1) === 13) to--;
    return this.text.slice(from, to);
  }

  /** Bytes of a text derived from this file (BOM restored, escaped bytes restored). */
  encode(text: string = this.text): Uint8Array {
    const body = this.invalidUtf8 ? encodeSurrogateEscape(text) : Buffer.from(text, 'utf8');
    return this.bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body;
  }
}

/** Decode UTF-8, mapping each byte of an invalid sequence to U+DC80+byte. */
export function decodeSurrogateEscape(b: Uint8Array): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  const n = b.length;
  const flushValid = (to: number) => {
    if (to > runStart) out += utf8Fatal.decode(b.subarray(runStart, to));
  };
  while (i < n) {
    const c = b[i];
    let len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) len = 3;
    else if (c >= 0xf0 && c <= 0xf4) len = 4;
    let ok = len > 0 && i + len <= n;
    if (ok && len > 1) {
      for (let k = 1; k < len; k++) if ((b[i + k] & 0xc0) !== 0x80) ok = false;
      if (ok && len === 3) {
        const c1 = b[i + 1];
        if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) ok = false;
      }
      if (ok && len === 4) {
        const c1 = b[i + 1];
        if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) ok = false;
      }
    }
    if (ok) {
      i += len;
    } else {
      flushValid(i);
      out += String.fromCharCode(0xdc00 + c);
      i += 1;
      runStart = i;
    }
  }
  flushValid(n);
  return out;
}

/** Inverse of decodeSurrogateEscape. */
export function encodeSurrogateEscape(s: string): Uint8Array {
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
      if (prev >= 0xd800 && prev <= 0xdbff) continue; // part of a real surrogate pair
      if (i > runStart) parts.push(Buffer.from(s.slice(runStart, i), 'utf8'));
      parts.push(Buffer.from([c - 0xdc00]));
      runStart = i + 1;
    }
  }
  if (runStart < s.length) parts.push(Buffer.from(s.slice(runStart), 'utf8'));
  return Buffer.concat(parts);
}

/** The span from offset `so` to `eo` of `source`, lines from its line table (a binary search each) and
 * columns from those lines' starts: how both parsers' compact nodes make their spans when read. */
export function spanAt(source: SourceFile, so: number, eo: number): CompactSpan {
  const starts = source.lineStarts;
  const sl = source.lineOf(so);
  const el = eo === so ? sl : source.lineOf(eo);
  return new CompactSpan(so, sl, so - starts[sl - 1] + 1, eo, el, eo - starts[el - 1] + 1);
}

/**
 * A Span stored as six numbers in one object: the parsers make one per directive name and argument,
 * and on a large tree three objects per span (span + two positions) made garbage collection the
 * largest cost of parsing. `start` and `end` are computed on access; use them as plain Positions.
 */
export class CompactSpan implements Span {
  constructor(
    public so: number,
    public sl: number,
    public sc: number,
    public eo: number,
    public el: number,
    public ec: number,
  ) {}
  static from(start: Position, end: Position): CompactSpan {
    return new CompactSpan(start.offset, start.line, start.column, end.offset, end.line, end.column);
  }
  get start(): Position {
    return { offset: this.so, line: this.sl, column: this.sc };
  }
  set start(p: Position) {
    this.so = p.offset;
    this.sl = p.line;
    this.sc = p.column;
  }
  get end(): Position {
    return { offset: this.eo, line: this.el, column: this.ec };
  }
  set end(p: Position) {
    this.eo = p.offset;
    this.el = p.line;
    this.ec = p.column;
  }
  toJSON(): Span {
    return { start: this.start, end: this.end };
  }
}
