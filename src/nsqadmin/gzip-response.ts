/**
 * Response compression for the whole nsqadmin server, as the original wraps its handler in a
 * gzip handler: a ServerResponse whose single-shot answers (writeHead + end(body), the way the
 * router and the UI handlers answer) are gzip-compressed when the client accepts it, the type is
 * text and the body is big enough to gain. Streamed answers (the graphite proxy) pass unchanged.
 */

import http, { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import * as zlib from 'node:zlib';

/** Below this a gzip header costs more than it saves. */
export const MIN_GZIP = 1024;
const COMPRESSIBLE = /^(text\/|application\/(json|javascript)|image\/svg)/;

/** True when Accept-Encoding lists gzip (or `*`) without `q=0`. */
export function acceptsGzip(req: IncomingMessage): boolean {
  for (const part of (req.headers['accept-encoding'] ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** Whether a body of this type and size is worth compressing. */
export function compressible(contentType: string | undefined, length: number): boolean {
  return contentType !== undefined && COMPRESSIBLE.test(contentType) && length >= MIN_GZIP;
}

type WriteHeadArgs = [number, (string | OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined)?, (OutgoingHttpHeaders | OutgoingHttpHeader[])?];

/** Use as `http.createServer({ ServerResponse: GzipServerResponse }, …)`. */
export class GzipServerResponse extends http.ServerResponse {
  #pendingHead: WriteHeadArgs | undefined;

  // Held back so end() can still change Content-Length and add Content-Encoding.
  override writeHead(...args: WriteHeadArgs): this {
    if (this.#pendingHead === undefined && !this.headersSent) {
      this.#pendingHead = args;
      return this;
    }
    return super.writeHead(...(args as [number]));
  }

  #flushHead(): void {
    const head = this.#pendingHead;
    if (head === undefined) return;
    this.#pendingHead = undefined;
    super.writeHead(...(head as [number]));
  }

  override write(...args: unknown[]): boolean {
    this.#flushHead();
    return (super.write as (...a: unknown[]) => boolean).apply(this, args);
  }

  override end(...args: unknown[]): this {
    const [chunk] = args;
    if ((typeof chunk === 'string' || Buffer.isBuffer(chunk)) && !this.headersSent) {
      const status = this.#pendingHead?.[0] ?? this.statusCode;
      const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const type = this.getHeader('content-type');
      if (status === 200 && this.getHeader('content-encoding') === undefined && compressible(typeof type === 'string' ? type : undefined, body.length)) {
        this.setHeader('Vary', 'Accept-Encoding');
        if (acceptsGzip(this.req)) {
          const gz = zlib.gzipSync(body);
          this.setHeader('Content-Encoding', 'gzip');
          this.setHeader('Content-Length', gz.length);
          this.#flushHead();
          return super.end(gz);
        }
      }
    }
    this.#flushHead();
    return (super.end as (...a: unknown[]) => this).apply(this, args);
  }
}
