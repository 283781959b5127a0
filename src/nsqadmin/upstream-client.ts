/**
 * nsqadmin's HTTP client to nsqlookupd, nsqd, graphite and the notification endpoint — the
 * original's `internal/http_api.Client`: `Accept: application/vnd.nsq; version=1.0`, a connect
 * deadline and a whole-request deadline, any non-200 is an error, bodies are bounded.
 * Error texts read like Go's (`Get "http://…": dial tcp …: connect: connection refused`).
 */

import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/** TLS settings for https upstreams (`--http-client-tls-*`). */
export interface UpstreamTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/** Deadlines in milliseconds. */
export interface UpstreamTimeouts {
  connectMs: number;
  requestMs: number;
}

/** An upstream call that failed: refused, timed out, non-200, unparsable body. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    message: string,
    /** HTTP status when the upstream answered, else 0. */
    readonly status = 0,
  ) {
    super(message);
  }
}

/** A reused keep-alive socket was closed by the server before it answered. */
class StaleSocketError extends Error {}

/** Biggest upstream body read (a /stats with many clients is large, but not this large). */
const MAX_BODY = 64 * 1024 * 1024;
const ACCEPT_V1 = 'application/vnd.nsq; version=1.0';

/** Request options of one call. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  headers?: Record<string, string>;
}

/** A completed call: status and raw body. */
export interface UpstreamReply {
  status: number;
  statusText: string;
  body: Buffer;
}

function goMethod(m: string): string {
  return m[0] + m.slice(1).toLowerCase();
}

/** Makes keep-alive HTTP(S) calls with deadlines; close() drops idle sockets. */
export class UpstreamClient {
  #timeouts: UpstreamTimeouts;
  #httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  #httpsAgent: https.Agent;

  constructor(timeouts: UpstreamTimeouts, tls: UpstreamTls = { rejectUnauthorized: true }) {
    this.#timeouts = timeouts;
    this.#httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized });
  }

  /** Changes the deadlines for later calls. */
  setTimeouts(t: UpstreamTimeouts): void {
    this.#timeouts = t;
  }

  /**
   * Sends one request and reads the whole reply (any status). Rejects with UpstreamError.
   * A kept-alive socket the server closed just as it was reused fails before anything was
   * answered; that one case is sent again on a fresh connection.
   */
  async request(r: UpstreamRequest): Promise<UpstreamReply> {
    try {
      return await this.#requestOnce(r);
    } catch (err) {
      if (err instanceof StaleSocketError) return this.#requestOnce(r);
      throw err;
    }
  }

  #requestOnce(r: UpstreamRequest): Promise<UpstreamReply> {
    const what = `${goMethod(r.method)} ${JSON.stringify(r.url)}`;
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      return Promise.reject(new UpstreamError(`parse ${JSON.stringify(r.url)}: invalid URL`));
    }
    const isHttps = url.protocol === 'https:';
    const mod = isHttps ? https : http;
    const { connectMs, requestMs } = this.#timeouts;
    return new Promise<UpstreamReply>((resolve, reject) => {
      let settled = false;
      const fail = (msg: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(overall);
        clearTimeout(connectTimer);
        req.destroy();
        reject(new UpstreamError(`${what}: ${msg}`));
      };
      const headers: Record<string, string | number> = { Accept: ACCEPT_V1, 'User-Agent': 'nsqadmin/v1.3.0', ...r.headers };
      if (r.body !== undefined) headers['Content-Length'] = Buffer.byteLength(r.body);
      const req = mod.request(url, { method: r.method, headers, agent: isHttps ? this.#httpsAgent : this.#httpAgent });
      const overall = setTimeout(() => fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'), requestMs);
      let connectTimer: NodeJS.Timeout | undefined;
      let reused = false;
      let answered = false;
      req.on('socket', (s: Socket) => {
        if (!s.connecting) {
          reused = true; // a kept-alive socket
          return;
        }
        connectTimer = setTimeout(() => fail(`dial tcp ${url.host}: i/o timeout`), connectMs);
        s.once('connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (reused && !answered && !settled && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          settled = true;
          clearTimeout(overall);
          reject(new StaleSocketError(err.message));
          return;
        }
        if (err.code === 'ECONNREFUSED') fail(`dial tcp ${url.host}: connect: connection refused`);
        else if (err.code === 'ENOTFOUND') fail(`dial tcp: lookup ${url.hostname}: no such host`);
        else fail(err.message);
      });
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) fail(`response body larger than ${MAX_BODY} bytes`);
          else chunks.push(c);
        });
        res.on('error', (err) => fail(err.message));
        res.on('aborted', () => fail('unexpected EOF'));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(overall);
          clearTimeout(connectTimer);
          const status = res.statusCode ?? 0;
          resolve({ status, statusText: `${status} ${http.STATUS_CODES[status] ?? ''}`.trim(), body: Buffer.concat(chunks, size) });
        });
      });
      req.end(r.body);
    });
  }

  /**
   * Sends the request; an nsqd that requires TLS answers plain HTTP with 403 and its
   * `https_port`, and the call is repeated once over HTTPS (upstream http_api.Client).
   */
  async #call(method: 'GET' | 'POST', url: string): Promise<UpstreamReply> {
    const reply = await this.request({ method, url });
    if (reply.status !== 403 || !url.startsWith('http:')) return reply;
    const httpsUrl = httpsEndpoint(url, reply.body);
    return httpsUrl === undefined ? reply : this.request({ method, url: httpsUrl });
  }

  /** GET expecting 200 + JSON (the V1 unwrapped body). */
  async getJson<T>(url: string): Promise<T> {
    const reply = await this.#call('GET', url);
    checkOk(reply);
    try {
      return JSON.parse(reply.body.toString('utf8')) as T;
    } catch (e) {
      throw new UpstreamError(`failed to parse JSON from ${url} - ${(e as Error).message}`);
    }
  }

  /** POST without a body expecting 200 (the original's POSTV1 for admin actions). */
  async postV1(url: string): Promise<void> {
    checkOk(await this.#call('POST', url));
  }

  /** Drops idle keep-alive sockets so the process can exit. */
  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}

function checkOk(reply: UpstreamReply): void {
  if (reply.status !== 200) {
    throw new UpstreamError(`got response ${reply.statusText} ${JSON.stringify(reply.body.toString('utf8'))}`, reply.status);
  }
}

/** The https URL a 403 `{"https_port": N}` points to, or undefined when the body has none. */
export function httpsEndpoint(url: string, body: Buffer): string | undefined {
  let port: unknown;
  try {
    port = (JSON.parse(body.toString('utf8')) as { https_port?: unknown }).https_port;
  } catch {
    return undefined;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) return undefined;
  const u = new URL(url);
  u.protocol = 'https:';
  u.port = String(port);
  return u.toString();
}
