/**
 * One bounded HTTP request for the utilities (lookupd/nsqd queries and nsq_to_http deliveries):
 * separate connect and whole-request timeouts like the original's `http_api.NewClient`
 * (`--http-client-connect-timeout`, `--http-client-request-timeout`), and a cap on the body read.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** What to send and how long to wait. */
export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Bytes of response body kept at most (the rest is read and dropped). Default 64 MiB. */
  maxBodyBytes?: number;
  agent?: http.Agent;
}

/** The status, headers and (capped) body of a response. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A transport failure: refused, reset, or a timeout. `message` names the URL like Go's client. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
}

const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

/** Performs the request; rejects HttpRequestError on transport errors and timeouts (never on status). */
export function httpRequest(url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  const method = opts.method ?? 'GET';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      req.destroy();
      reject(new HttpRequestError(`${method === 'GET' ? 'Get' : 'Post'} "${url}": ${why}`));
    };
    let req: http.ClientRequest;
    try {
      const mod = url.startsWith('https:') ? https : http;
      const headers = { ...opts.headers };
      if (opts.body) headers['Content-Length'] = String(opts.body.length);
      req = mod.request(url, { method, headers, agent: opts.agent });
    } catch (err) {
      reject(new HttpRequestError(`${method === 'GET' ? 'Get' : 'Post'} "${url}": ${(err as Error).message}`));
      return;
    }
    const overall = setTimeout(() => fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'), opts.requestTimeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const t = setTimeout(() => fail('dial tcp: i/o timeout'), opts.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(t));
      socket.once('close', () => clearTimeout(t));
    });
    req.on('error', (err) => fail(err.message));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept >= maxBody) return;
        chunks.push(c);
        kept += c.length;
      });
      res.on('error', (err) => fail(err.message));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(overall);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end(opts.body);
  });
}
