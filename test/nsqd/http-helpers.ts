import * as http from 'node:http';
import assert from 'node:assert/strict';

/**
 * Raw HTTP requests for the nsqd HTTP tests: exact control over Content-Length, chunked bodies
 * and headers (fetch hides those), no connection pooling, and assertions for the two response
 * encoders (docs/protocol.md, HTTP conventions).
 */
export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, split into pieces of this size. */
  chunkSize?: number;
  headers?: Record<string, string | number>;
}

export const V1 = 'nsq; version=1.0';
export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

export function request(port: number, method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (body !== undefined && opts.chunkSize === undefined && headers['Content-Length'] === undefined) headers['Content-Length'] = body.length;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
        // A server may answer before reading a body we are still sending (e.g. a lying Content-Length).
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      // An early answer followed by our own destroy is not an error.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed) return;
      reject(err);
    });
    if (body === undefined) {
      req.end();
    } else if (opts.chunkSize !== undefined) {
      for (let off = 0; off < body.length; off += opts.chunkSize) req.write(body.subarray(off, off + opts.chunkSize));
      req.end();
    } else if (Number(headers['Content-Length']) !== body.length) {
      req.write(body); // the declared length is a lie on purpose; the server must answer anyway
    } else {
      req.end(body);
    }
  });
}

export const get = (port: number, path: string, opts?: RequestOptions) => request(port, 'GET', path, opts);
export const post = (port: number, path: string, body?: string | Buffer, opts: RequestOptions = {}) =>
  request(port, 'POST', path, { ...opts, body });
export const put = (port: number, path: string, body?: string | Buffer) => request(port, 'PUT', path, { body });

/** POST that must answer 200 (setting up topics, channels, messages); rejects otherwise. */
export async function postOk(port: number, path: string, body = ''): Promise<void> {
  const r = await post(port, path, body);
  if (r.status !== 200) throw new Error(`${path}: status ${r.status}`);
}

/** GET and parse the body as JSON, whatever the status. */
export async function getJson<T = Record<string, unknown>>(port: number, path: string): Promise<T> {
  return JSON.parse((await get(port, path)).text) as T;
}

/** A V1 error: status, `{"message":…}` JSON body and both headers. */
export function assertV1Error(r: HttpReply, status: number, message: string): void {
  assert.equal(r.status, status, `status for ${message}: ${r.text}`);
  assert.equal(r.text, JSON.stringify({ message }));
  assert.equal(r.headers['content-type'], JSON_TYPE);
  assert.equal(r.headers['x-nsq-content-type'], V1);
}

/** A V1 200 with a raw text body (Go sniffs text/plain). */
export function assertV1Text(r: HttpReply, text: string): void {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, text);
  assert.equal(r.headers['content-type'], TEXT_TYPE);
  assert.equal(r.headers['x-nsq-content-type'], V1);
}

/** A V1 200 with a nil result: empty body, no Content-Type. */
export function assertV1Empty(r: HttpReply): void {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, '');
  assert.equal(r.headers['content-type'], undefined);
  assert.equal(r.headers['x-nsq-content-type'], V1);
}

/** A V1 200 with a JSON body, compared byte for byte. */
export function assertV1Json(r: HttpReply, json: string): void {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, json);
  assert.equal(r.headers['content-type'], JSON_TYPE);
  assert.equal(r.headers['x-nsq-content-type'], V1);
}

export async function statsJson(port: number, query = ''): Promise<StatsReply> {
  const r = await get(port, `/stats?format=json${query}`);
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text) as StatsReply;
}

type Obj = Record<string, unknown>;

export interface StatsReply extends Obj {
  topics: Array<TopicReply> | null;
  producers: Obj[] | null;
  memory?: Obj;
}
export interface TopicReply extends Obj {
  topic_name: string;
  depth: number;
  message_count: number;
  paused: boolean;
  channels: ChannelReply[];
}
export interface ChannelReply extends Obj {
  channel_name: string;
  depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  client_count: number;
  paused: boolean;
  clients: Obj[] | null;
}

export function topicOf(s: StatsReply, topic: string): TopicReply | undefined {
  return s.topics?.find((t) => t.topic_name === topic);
}

export function channelOf(s: StatsReply, topic: string, channel: string): ChannelReply | undefined {
  return topicOf(s, topic)?.channels.find((c) => c.channel_name === channel);
}
