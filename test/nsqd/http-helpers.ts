import assert from 'node:assert/strict';

/**
 * HTTP helpers for the nsqd HTTP tests: short forms of the kit's request (test/helpers/http.ts)
 * and assertions for the two response encoders (docs/protocol.md, HTTP conventions).
 */
export { request, type HttpReply, type RequestOptions } from '../helpers/http.js';
import { request, type HttpReply, type RequestOptions } from '../helpers/http.js';

export const V1 = 'nsq; version=1.0';
export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

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
