/**
 * The HTTP routing layer shared by nsqd, nsqlookupd and nsqadmin, reproducing what the original
 * gets from julienschmidt/httprouter plus `internal/http_api` (docs/protocol.md, HTTP conventions):
 * 404/405 (+`Allow`)/OPTIONS answers, 301/307 redirects to the canonical path for trailing-slash
 * and case mismatches, V1/PlainText encoders, per-request INFO logging, and panics → 500.
 *
 * Matching is a small exact matcher rather than find-my-way: the API has a few dozen routes with
 * at most one `:param`, and httprouter's observable behaviour (redirect instead of silently
 * ignoring a trailing slash, per-method-tree redirect decisions, the sorted `Allow` list) needs
 * per-method lookups that find-my-way does not expose. Static paths are a Map lookup, so the hot
 * `/pub` and `/mpub` routes cost one hash probe.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpApiError } from './api-error.js';
import { Query } from './query.js';
import { respondPlain, respondV1 } from './respond.js';
import { buildPath, cleanPath, EMPTY_PARAMS, escapePath, matchSegments, parsePattern, type Segment } from './route-path.js';
import { pathUnescape } from './url-unescape.js';
import { joinHostPort } from '../lib/host-port.js';
import type { Logger } from '../lib/logger.js';
import { formatDuration } from '../lib/duration.js';

export { cleanPath } from './route-path.js';

/** Returned by a handler that wrote `ctx.res` itself: the router must not answer again. */
export const RAW: unique symbol = Symbol('http.raw-response');

/** What a handler gets for one request. */
export interface HttpContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path parameters by name, already %-decoded. */
  readonly params: Record<string, string>;
  /** Parsed on first call; throws HttpApiError(400, 'INVALID_REQUEST') then, so handlers choose the check order. */
  query(): Query;
  /**
   * Reads the body, keeping at most `limit + 1` bytes; `tooBig` when more than `limit` arrived.
   * The rest of an oversized body is drained in the background so keep-alive still works.
   */
  readBody(limit: number): Promise<{ body: Buffer; tooBig: boolean }>;
}

/** A route handler: its return value is the response (see the encoders), or RAW. */
export type Handler = (ctx: HttpContext) => unknown | Promise<unknown>;

/** Per-route choices: response encoder (default V1) and request logging (default on). */
export interface RouteOptions {
  encoder?: 'v1' | 'plain';
  log?: boolean;
}

/** Router construction options. */
export interface RouterOptions {
  logger?: Logger;
  /** Runs before routing; return false when it already answered (e.g. TLS_REQUIRED). */
  before?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

interface Route {
  readonly method: string;
  readonly path: string;
  readonly segments: readonly Segment[];
  readonly handler: Handler;
  readonly plain: boolean;
  readonly log: boolean;
}

interface Match {
  route: Route;
  params: Record<string, string>;
}

function remoteAddr(req: IncomingMessage): string {
  const s = req.socket;
  const ip = s.remoteAddress;
  if (ip === undefined) return '@'; // unix socket peers have no address (Go prints "@")
  return joinHostPort(ip, s.remotePort ?? 0);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

class Context implements HttpContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Record<string, string>;
  #rawQuery: string;
  #query: Query | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, params: Record<string, string>, rawQuery: string) {
    this.req = req;
    this.res = res;
    this.params = params;
    this.#rawQuery = rawQuery;
  }

  query(): Query {
    return (this.#query ??= Query.parse(this.#rawQuery));
  }

  readBody(limit: number): Promise<{ body: Buffer; tooBig: boolean }> {
    const req = this.req;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      // With a declared length the body is copied into one buffer as it arrives: concatenating
      // 5 MiB of chunks at the end would hold the event loop for one long copy.
      const declared = Number(req.headers['content-length']);
      let whole = Number.isInteger(declared) && declared > 0 && declared <= limit + 1 ? Buffer.allocUnsafe(declared) : null;
      const keep = (piece: Buffer): void => {
        if (whole !== null && size + piece.length <= whole.length) {
          piece.copy(whole, size);
        } else {
          if (whole !== null) chunks.push(whole.subarray(0, size));
          whole = null;
          chunks.push(piece);
        }
        size += piece.length;
      };
      const finish = (tooBig: boolean): void => {
        if (done) return;
        done = true;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onAborted);
        if (tooBig) req.resume(); // drain the rest so the connection stays usable
        const first = chunks[0];
        const body =
          whole !== null ? whole.subarray(0, size) : chunks.length === 1 && first !== undefined ? first : Buffer.concat(chunks, size);
        resolve({ body, tooBig });
      };
      const onData = (chunk: Buffer): void => {
        const room = limit + 1 - size;
        if (chunk.length >= room) {
          keep(chunk.length === room ? chunk : chunk.subarray(0, room));
          finish(size > limit);
          return;
        }
        keep(chunk);
      };
      const onEnd = (): void => finish(size > limit);
      const onError = (err: Error): void => {
        if (done) return;
        done = true;
        reject(err);
      };
      const onAborted = (): void => onError(new Error('request aborted'));
      if (req.readableEnded) {
        resolve({ body: Buffer.alloc(0), tooBig: false });
        return;
      }
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('aborted', onAborted);
      // Like Go's server, answer `Expect: 100-continue` only once the handler reads the body, so
      // a request rejected on its headers (e.g. Content-Length too big) never uploads it.
      if (/100-continue/i.test(req.headers.expect ?? '') && !this.res.headersSent) this.res.writeContinue();
    });
  }
}

/**
 * Routes requests to handlers with httprouter semantics and encodes their results.
 * Never lets a handler error escape: unknown failures become `500 INTERNAL_ERROR` and are logged.
 */
export class Router {
  #logger: Logger | undefined;
  #before: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  /** method → exact path → route (routes without params). */
  #static = new Map<string, Map<string, Route>>();
  /** method → routes with params, in registration order. */
  #dynamic = new Map<string, Route[]>();

  constructor(opts: RouterOptions = {}) {
    this.#logger = opts.logger;
    this.#before = opts.before;
  }

  get(path: string, h: Handler, o?: RouteOptions): void {
    this.add('GET', path, h, o);
  }
  post(path: string, h: Handler, o?: RouteOptions): void {
    this.add('POST', path, h, o);
  }
  put(path: string, h: Handler, o?: RouteOptions): void {
    this.add('PUT', path, h, o);
  }
  delete(path: string, h: Handler, o?: RouteOptions): void {
    this.add('DELETE', path, h, o);
  }
  options(path: string, h: Handler, o?: RouteOptions): void {
    this.add('OPTIONS', path, h, o);
  }

  /** Registers `h` for `method` + `path` (`/config/:opt`, `/static/*file`). */
  add(method: string, path: string, h: Handler, o: RouteOptions = {}): void {
    const segments = parsePattern(path);
    const route: Route = { method, path, segments, handler: h, plain: o.encoder === 'plain', log: o.log !== false };
    if (segments.every((s) => s.kind === 'static')) {
      let m = this.#static.get(method);
      if (!m) this.#static.set(method, (m = new Map()));
      if (m.has(path)) throw new Error(`duplicate route ${method} ${path}`);
      m.set(path, route);
    } else {
      let list = this.#dynamic.get(method);
      if (!list) this.#dynamic.set(method, (list = []));
      list.push(route);
    }
  }

  #hasMethod(method: string): boolean {
    return this.#static.has(method) || this.#dynamic.has(method);
  }

  #find(method: string, path: string): Match | undefined {
    const route = this.#static.get(method)?.get(path);
    if (route) return { route, params: EMPTY_PARAMS };
    const list = this.#dynamic.get(method);
    if (!list) return undefined;
    const parts = path.slice(1).split('/');
    for (const r of list) {
      const params = matchSegments(r.segments, parts, false);
      if (params) return { route: r, params };
    }
    return undefined;
  }

  #findCaseInsensitive(method: string, path: string): string | undefined {
    const parts = path.slice(1).split('/');
    const routes = [...(this.#static.get(method)?.values() ?? []), ...(this.#dynamic.get(method) ?? [])];
    for (const r of routes) {
      const params = matchSegments(r.segments, parts, true);
      if (params) return buildPath(r.segments, params);
    }
    return undefined;
  }

  /** httprouter's allowed(): other methods with a handler for `path`, plus OPTIONS, sorted. */
  #allowed(path: string, reqMethod: string): string {
    const allowed: string[] = [];
    const methods = new Set<string>([...this.#static.keys(), ...this.#dynamic.keys()]);
    for (const m of methods) {
      if (m === reqMethod || m === 'OPTIONS') continue;
      if (this.#find(m, path)) allowed.push(m);
    }
    if (allowed.length === 0) return '';
    allowed.push('OPTIONS');
    allowed.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return allowed.join(', ');
  }

  /** The request listener: `http.createServer((req, res) => router.handle(req, res))`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.#route(req, res);
    } catch (err) {
      this.#panic(res, err);
    }
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    if (this.#before && !this.#before(req, res)) return;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const path = pathUnescape(rawPath);
    if (path === undefined || !path.startsWith('/')) {
      // Go's server refuses an unparsable request-target before any handler runs.
      respondPlain(res, 400, '400 Bad Request');
      return;
    }
    const method = req.method ?? 'GET';

    const match = this.#find(method, path);
    if (match) {
      this.#run(match.route, new Context(req, res, match.params, rawQuery), req, res);
      return;
    }
    if (method !== 'CONNECT' && path !== '/' && this.#hasMethod(method)) {
      const code = method === 'GET' ? 301 : 307;
      const alt = path.endsWith('/') ? path.slice(0, -1) : path + '/';
      if (alt !== '' && this.#find(method, alt)) {
        this.#redirect(req, res, code, alt, rawQuery);
        return;
      }
      const fixed = this.#findCaseInsensitive(method, cleanPath(path)) ?? this.#fixWithSlash(method, cleanPath(path));
      if (fixed !== undefined) {
        this.#redirect(req, res, code, fixed, rawQuery);
        return;
      }
    }
    if (method === 'OPTIONS') {
      const allow = this.#allowed(path, method);
      if (allow !== '') {
        res.setHeader('Allow', allow);
        res.setHeader('Content-Length', 0);
        res.writeHead(200);
        res.end();
        return;
      }
    } else {
      const allow = this.#allowed(path, method);
      if (allow !== '') {
        res.setHeader('Allow', allow);
        this.#logRequest(405, req, performance.now() - start);
        respondV1(res, 405, 'METHOD_NOT_ALLOWED');
        return;
      }
    }
    this.#logRequest(404, req, performance.now() - start);
    respondV1(res, 404, 'NOT_FOUND');
  }

  #fixWithSlash(method: string, cleaned: string): string | undefined {
    if (cleaned === '/') return undefined;
    const alt = cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned + '/';
    return this.#findCaseInsensitive(method, alt);
  }

  #redirect(req: IncomingMessage, res: ServerResponse, code: number, path: string, rawQuery: string): void {
    const location = escapePath(path) + (rawQuery !== '' ? '?' + rawQuery : '');
    res.setHeader('Location', location);
    if (req.method === 'GET' || req.method === 'HEAD') {
      // Go's http.Redirect body for GET/HEAD.
      const text = code === 301 ? 'Moved Permanently' : 'Temporary Redirect';
      const body = `<a href="${htmlEscape(location)}">${text}</a>.\n\n`;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.writeHead(code);
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.setHeader('Content-Length', 0);
    res.writeHead(code);
    res.end();
  }

  #run(route: Route, ctx: Context, req: IncomingMessage, res: ServerResponse): void {
    const start = route.log ? performance.now() : 0; // Go times the handler only, not the write
    let result: unknown;
    try {
      result = route.handler(ctx);
    } catch (err) {
      this.#finish(route, req, res, start, undefined, err);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (v) => this.#finish(route, req, res, start, v, undefined),
        (err: unknown) => this.#finish(route, req, res, start, undefined, err ?? new Error('rejected')),
      );
    } else {
      this.#finish(route, req, res, start, result, undefined);
    }
  }

  #finish(route: Route, req: IncomingMessage, res: ServerResponse, start: number, value: unknown, err: unknown): void {
    try {
      if (err !== undefined && !(err instanceof HttpApiError)) {
        this.#panic(res, err);
        return;
      }
      const status = err instanceof HttpApiError ? err.status : value === RAW ? res.statusCode : 200;
      if (route.log) this.#logRequest(status, req, performance.now() - start);
      if (value === RAW && err === undefined) return;
      if (res.headersSent) return;
      if (err instanceof HttpApiError) {
        if (route.plain) respondPlain(res, err.status, err.text);
        else respondV1(res, err.status, err.text);
      } else if (route.plain) {
        respondPlain(res, 200, value);
      } else {
        respondV1(res, 200, value);
      }
    } catch (e) {
      this.#panic(res, e);
    }
  }

  #panic(res: ServerResponse, err: unknown): void {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.#logger?.error(`panic in HTTP handler - ${text}`);
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      respondV1(res, 500, 'INTERNAL_ERROR');
    } catch {
      res.destroy();
    }
  }

  #logRequest(status: number, req: IncomingMessage, elapsedMs: number): void {
    const logger = this.#logger;
    if (!logger?.enabled('info')) return;
    logger.info(`${status} ${req.method} ${req.url} (${remoteAddr(req)}) ${formatDuration(elapsedMs)}`);
  }
}

function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] as string);
}
