/**
 * The HTTP client nsqd uses toward other servers (auth servers, nsqlookupd), after upstream's
 * `internal/http_api/api_request.go`: separate connect and whole-request deadlines, the
 * `application/vnd.nsq; version=1.0` Accept header, a bounded body, and the V1 conventions
 * (non-200 is an error; a 403 from plain http naming an `https_port` is retried once over https;
 * pre-1.0 servers' `{"data": …}` envelope is unwrapped).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { goJsonField, isJsonObject } from '../lib/go-json.js';

/** Request settings; timeouts in ms. */
export interface HttpClientOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Root CAs for https (`--tls-root-ca-file` contents). */
  ca?: Buffer;
  /** Connection pooling: an Agent to reuse, or false (default) for one connection per request. */
  agent?: http.Agent | false;
  headers?: Record<string, string>;
  /** Upstream reads bodies unbounded; a cap keeps a broken server from exhausting memory. */
  maxBodyBytes?: number;
}

/** One HTTP exchange: status, headers and the whole body. */
export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The Accept header of NSQ's V1 HTTP API. */
export const NSQ_V1_ACCEPT = 'application/vnd.nsq; version=1.0';
const DEFAULT_MAX_BODY_BYTES = 16 << 20;

/** One request with the deadlines and body cap; any status resolves. */
export function httpRequest(urlString: string, method: 'GET' | 'POST', body: Buffer | null, opts: HttpClientOptions): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(urlString);
    } catch {
      reject(new Error(`invalid URL ${urlString}`));
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new Error(`unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`));
      return;
    }
    const headers: Record<string, string | number> = { Accept: NSQ_V1_ACCEPT, ...opts.headers };
    if (body) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = body.length;
    }
    const options: https.RequestOptions = { method, headers, agent: opts.agent ?? false };
    if (opts.ca) options.ca = opts.ca;
    const req = (url.protocol === 'https:' ? https : http).request(url, options);
    const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, reply?: HttpReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
      if (err || reply === undefined) {
        req.destroy();
        reject(err ?? new Error('no reply'));
      } else resolve(reply);
    };
    const requestTimer = setTimeout(() => finish(new Error(`request timed out after ${opts.requestTimeoutMs}ms`)), opts.requestTimeoutMs);
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => finish(new Error(`connect timed out after ${opts.connectTimeoutMs}ms`)), opts.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.once('error', (err) => finish(err));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) finish(new Error('response body too large'));
        else chunks.push(chunk);
      });
      res.once('error', (err) => finish(err));
      res.once('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }));
    });
    req.end(body ?? undefined);
  });
}

/**
 * A V1 API call: resolves to the body of a 200, follows a plain-http 403 that names an
 * `https_port` once over https, and rejects any other status with `got response <code> "<body>"`.
 */
export async function requestV1(endpoint: string, method: 'GET' | 'POST', body: Buffer | null, opts: HttpClientOptions): Promise<HttpReply> {
  let url = endpoint;
  for (;;) {
    const res = await httpRequest(url, method, body, opts);
    if (res.status === 200) return res;
    if (res.status === 403 && !url.startsWith('https')) {
      url = httpsEndpoint(url, res.body);
      continue;
    }
    throw new Error(`got response ${res.status} ${JSON.stringify(res.body.toString('utf8'))}`);
  }
}

/** GET a V1 JSON endpoint; a pre-1.0 server's `{"data": …}` envelope is removed. */
export async function getJsonV1(endpoint: string, opts: HttpClientOptions): Promise<unknown> {
  const res = await requestV1(endpoint, 'GET', null, opts);
  const data = JSON.parse(res.body.toString('utf8')) as unknown;
  // Only servers that do not mark their reply as V1 wrap it (upstream http_api `RespondV1`).
  if (res.headers['x-nsq-content-type'] !== 'nsq; version=1.0' && isJsonObject(data) && 'data' in data) return data.data;
  return data;
}

function httpsEndpoint(endpoint: string, body: Buffer): string {
  const parsed = JSON.parse(body.toString('utf8')) as unknown;
  const port = isJsonObject(parsed) ? goJsonField(parsed, 'https_port') : undefined;
  if (port !== undefined && port !== null && !Number.isInteger(port)) throw new Error('invalid https_port in 403 response');
  const u = new URL(endpoint);
  u.protocol = 'https:';
  u.port = String(port ?? 0);
  return u.toString();
}
