/**
 * Method sets as `<Limit>`/`<LimitExcept>` build them (server/core.c: ap_limit_section). HEAD is
 * method number M_GET in httpd, so `<Limit GET>` also covers HEAD.
 */

export interface MethodSet {
  /** When true the set is every method except `methods`. */
  except: boolean;
  methods: Set<string>;
}

export const ALL_METHODS: MethodSet = { except: true, methods: new Set() };

export function methodSet(list: string[], except = false): MethodSet {
  const s = new Set(list.map((m) => m.toUpperCase()));
  s.delete('HEAD');
  return { except, methods: s };
}

/** The method number httpd uses for a request method (HEAD → GET). */
export function methodKey(method: string): string {
  const m = method.toUpperCase();
  return m === 'HEAD' ? 'GET' : m;
}

export function inSet(set: MethodSet, method: string): boolean {
  const k = methodKey(method);
  return set.except ? !set.methods.has(k) : set.methods.has(k);
}

export function union(a: MethodSet, b: MethodSet): MethodSet {
  if (!a.except && !b.except) return { except: false, methods: new Set([...a.methods, ...b.methods]) };
  if (a.except && b.except) return { except: true, methods: new Set([...a.methods].filter((m) => b.methods.has(m))) };
  const [ex, pos] = a.except ? [a, b] : [b, a];
  return { except: true, methods: new Set([...ex.methods].filter((m) => !pos.methods.has(m))) };
}

export function isAll(s: MethodSet): boolean {
  return s.except && s.methods.size === 0;
}

export function describeMethods(s: MethodSet): string {
  if (isAll(s)) return 'all methods';
  const list = [...s.methods].sort().join(' ');
  return s.except ? `all methods except ${list}` : list;
}
