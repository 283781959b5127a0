/**
 * The single-page app's routes, as a pure mapping between URL paths and a typed union. The server
 * answers every one of these paths with index.html (nsqadmin/http.go `router.Handle` for "/",
 * "/topics", "/topics/:topic", …), so the browser decides which page to draw.
 */
export type Route =
  | { page: 'topics' }
  | { page: 'topic'; topic: string }
  | { page: 'channel'; topic: string; channel: string }
  | { page: 'nodes' }
  | { page: 'node'; node: string }
  | { page: 'counter' }
  | { page: 'lookup' }
  | { page: 'not-found'; path: string };

/** `--base-path` as nsqadmin normalizes it: leading '/', no trailing '/' ('' for the root). */
export function normalizeBasePath(basePath: string | undefined): string {
  if (!basePath) return '';
  let p = basePath.startsWith('/') ? basePath : `/${basePath}`;
  while (p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Which page a location pathname (including the base path) shows. */
export function parseRoute(pathname: string, basePath: string): Route {
  const base = normalizeBasePath(basePath);
  let rest = pathname;
  if (base && (rest === base || rest.startsWith(`${base}/`))) rest = rest.slice(base.length);
  const raw = rest.split('/').filter((s) => s !== '');
  const parts = raw.map(decodeSegment);
  if (parts.some((p) => p === undefined)) return { page: 'not-found', path: pathname };
  const [a, b, c] = parts as string[];
  switch (parts.length) {
    case 0:
      return { page: 'topics' };
    case 1:
      if (a === 'topics') return { page: 'topics' };
      if (a === 'nodes') return { page: 'nodes' };
      if (a === 'counter') return { page: 'counter' };
      if (a === 'lookup') return { page: 'lookup' };
      break;
    case 2:
      if (a === 'topics') return { page: 'topic', topic: b! };
      if (a === 'nodes') return { page: 'node', node: b! };
      break;
    case 3:
      if (a === 'topics') return { page: 'channel', topic: b!, channel: c! };
      break;
  }
  return { page: 'not-found', path: pathname };
}

/**
 * Encodes one path segment. ':' and IPv6 brackets stay readable because node names
 * (`127.0.0.1:4151`, `[::1]:4151`) appear in URLs exactly like that in the original UI.
 */
export function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%5B/gi, '[').replace(/%5D/gi, ']');
}

/** The URL path of a page under the base path. */
export function routePath(route: Route, basePath: string): string {
  const base = normalizeBasePath(basePath);
  switch (route.page) {
    case 'topics':
      return `${base}/`;
    case 'topic':
      return `${base}/topics/${encodeSegment(route.topic)}`;
    case 'channel':
      return `${base}/topics/${encodeSegment(route.topic)}/${encodeSegment(route.channel)}`;
    case 'nodes':
      return `${base}/nodes`;
    case 'node':
      return `${base}/nodes/${encodeSegment(route.node)}`;
    case 'counter':
      return `${base}/counter`;
    case 'lookup':
      return `${base}/lookup`;
    case 'not-found':
      return route.path;
  }
}

/** The URL of a JSON API path (`/api/...`) under the base path. */
export function apiPath(path: string, basePath: string): string {
  return `${normalizeBasePath(basePath)}${path}`;
}
