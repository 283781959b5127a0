/**
 * nsq_to_http's delivery of one message body to one address (upstream
 * `apps/nsq_to_http/http.go` + `nsq_to_http.go` PostPublisher/GetPublisher): POST the body
 * (success = any 2xx) or GET the URL with the body query-escaped into its `%s` (success = 200).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { httpRequest } from './http-request.js';

/** A delivery that got a non-success status (the message is then requeued). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Go's url.QueryEscape over raw bytes: unreserved kept, space → `+`, the rest `%XX`. */
export function queryEscape(body: Buffer): string {
  let out = '';
  for (const b of body) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `fmt.Sprintf(addr, escaped)` for an address holding exactly one `%s` (and possibly `%%`). */
export function formatGetUrl(addr: string, body: Buffer): string {
  const escaped = queryEscape(body);
  return addr.replace(/%[s%]/g, (m) => (m === '%%' ? '%' : escaped));
}

/** Parses `--header` values (`Key: Value`, split at the first `:`, both sides non-empty after trimming). */
export function parseHeaders(values: readonly string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf(':');
    if (i < 0) return undefined;
    const key = v.slice(0, i).trim();
    const val = v.slice(i + 1).trim();
    if (key === '' || val === '') return undefined;
    out[key] = val;
  }
  return out;
}

/** How deliveries are made. */
export interface PublisherOptions {
  method: 'GET' | 'POST';
  contentType: string;
  headers: Record<string, string>;
  userAgent: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Delivers message bodies over HTTP with pooled keep-alive connections. */
export class HttpPublisher {
  readonly #o: PublisherOptions;
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #tlsAgent = new https.Agent({ keepAlive: true });

  constructor(o: PublisherOptions) {
    this.#o = o;
  }

  /** Resolves on success; rejects DeliveryError (status) or HttpRequestError (transport). */
  async publish(addr: string, body: Buffer): Promise<void> {
    const get = this.#o.method === 'GET';
    const url = get ? formatGetUrl(addr, body) : addr;
    // Custom --header values are set last, so they may override both (as in the original).
    const headers: Record<string, string> = get
      ? { 'User-Agent': this.#o.userAgent, ...this.#o.headers }
      : { 'User-Agent': this.#o.userAgent, 'Content-Type': this.#o.contentType, ...this.#o.headers };
    const res = await httpRequest(url, {
      method: this.#o.method,
      headers,
      body: get ? undefined : body,
      connectTimeoutMs: this.#o.connectTimeoutMs,
      requestTimeoutMs: this.#o.requestTimeoutMs,
      maxBodyBytes: 0,
      agent: url.startsWith('https:') ? this.#tlsAgent : this.#agent,
    });
    const ok = get ? res.status === 200 : res.status >= 200 && res.status < 300;
    if (!ok) throw new DeliveryError(`got status code ${res.status}`);
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent.destroy();
    this.#tlsAgent.destroy();
  }
}
