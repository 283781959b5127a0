/**
 * Route paths as julienschmidt/httprouter treats them, without any I/O: patterns split into
 * static, `:param` and `*catchAll` segments, matching a request path (optionally ignoring case,
 * for the redirect to the canonical spelling), rebuilding the canonical path, and httprouter's
 * CleanPath. The Router (router.ts) keeps the tables and answers requests.
 */

/** One segment of a route pattern. */
export type Segment = { kind: 'static'; text: string; lower: string } | { kind: 'param'; name: string } | { kind: 'catchAll'; name: string };

/** The params of a route without any (shared, frozen). */
export const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Splits a route pattern (`/topic/:name`, `/debug/pprof/*rest`) into segments. */
export function parsePattern(path: string): Segment[] {
  if (!path.startsWith('/')) throw new Error(`route path must begin with '/': ${path}`);
  const parts = path.slice(1).split('/');
  return parts.map((p, i) => {
    if (p.startsWith(':')) return { kind: 'param', name: p.slice(1) };
    if (p.startsWith('*')) {
      if (i !== parts.length - 1) throw new Error(`catch-all must be last: ${path}`);
      return { kind: 'catchAll', name: p.slice(1) };
    }
    return { kind: 'static', text: p, lower: p.toLowerCase() };
  });
}

/** Matches `parts` (path split on `/`, without the leading empty part) against a route. */
export function matchSegments(segments: readonly Segment[], parts: readonly string[], ignoreCase: boolean): Record<string, string> | undefined {
  let params: Record<string, string> | undefined;
  let i = 0;
  for (const seg of segments) {
    if (seg.kind === 'catchAll') {
      // httprouter hands catch-alls the rest of the path including its leading slash.
      if (i >= parts.length) return undefined;
      (params ??= {})[seg.name] = '/' + parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.kind === 'param') {
      if (part === '') return undefined;
      (params ??= {})[seg.name] = part;
    } else if (ignoreCase ? part.toLowerCase() !== seg.lower : part !== seg.text) {
      return undefined;
    }
    i++;
  }
  if (parts.length !== segments.length) return undefined;
  return params ?? EMPTY_PARAMS;
}

/** The canonical path of a route's `segments` for concrete params (used for case-fix redirects). */
export function buildPath(segments: readonly Segment[], params: Record<string, string>): string {
  let out = '';
  for (const seg of segments) {
    if (seg.kind === 'static') out += '/' + seg.text;
    else if (seg.kind === 'param') out += '/' + params[seg.name];
    else out += params[seg.name];
  }
  return out === '' ? '/' : out;
}

/** httprouter's CleanPath: path.Clean that keeps a trailing slash and a leading `/`. */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  const trailing = p.length > 1 && p.endsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  let cleaned = '/' + out.join('/');
  if (trailing && cleaned !== '/') cleaned += '/';
  return cleaned;
}

const PATH_SAFE = /^[A-Za-z0-9\-._~$&+,/:;=@]*$/;

/** Go's URL path escaping (url.EscapedPath for a modified Path). */
export function escapePath(p: string): string {
  if (PATH_SAFE.test(p)) return p;
  let out = '';
  for (const ch of p) {
    if (PATH_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
