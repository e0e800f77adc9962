/** Formatter registry. Each formatter is imported only when asked for (startup stays lean). */
import type { Formatter } from './types.js';

export const FORMATS = ['stylish', 'compact', 'json', 'sarif', 'github'] as const;
export type FormatName = (typeof FORMATS)[number];

export function isFormat(name: string): name is FormatName {
  return (FORMATS as readonly string[]).includes(name);
}

export async function loadFormatter(name: FormatName): Promise<Formatter> {
  switch (name) {
    case 'stylish':
      return (await import('./stylish.js')).stylish;
    case 'compact':
      return (await import('./compact.js')).compact;
    case 'json':
      return (await import('./json.js')).json;
    case 'sarif':
      return (await import('./sarif.js')).sarif;
    case 'github':
      return (await import('./github.js')).github;
  }
}

export type { FormatContext, Formatter } from './types.js';

/** A formatter's text in pieces, written one after the other (the same bytes as the formatter's
 * string). JSON comes one file at a time; the other formats are one piece. */
export async function loadChunkedFormatter(name: FormatName): Promise<(...a: Parameters<Formatter>) => Iterable<string>> {
  if (name === 'json') return (await import('./json.js')).jsonChunks;
  const f = await loadFormatter(name);
  return (results, ctx) => [f(results, ctx)];
}
