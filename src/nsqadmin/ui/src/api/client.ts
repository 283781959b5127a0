import { config } from '../config.js';
import { apiPath, encodeSegment } from '../lib/route.js';
import type { CounterEntry, Timeseries } from '../lib/series.js';
import type { ChannelStats, NodeDetail, Producer, TopicStats, WithMessage } from './types.js';

/** An API call that failed: the server's `message` (or what went wrong on the way) and the status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** Upstream UI: 20 s AJAX timeout (nsqadmin/static/js/main.js `$.ajaxSetup`). */
const REQUEST_TIMEOUT_MS = 20_000;

async function call<T>(method: string, path: string, body?: unknown): Promise<T & WithMessage> {
  let res: Response;
  try {
    res = await fetch(apiPath(path, config.basePath), {
      method,
      headers: {
        Accept: 'application/vnd.nsq; version=1.0',
        'Content-Type': 'application/json',
        'X-UserAgent': `nsqadmin/v${config.version}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ApiError(`${method} ${path}: nsqadmin did not answer (${(err as Error).message})`, 0);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(`${method} ${path}: ${res.status} ${text.slice(0, 200) || res.statusText}`, res.status);
  }
  if (!res.ok) {
    const msg = (json as WithMessage).message;
    throw new ApiError(msg || `${method} ${path}: ${res.status} ${res.statusText}`, res.status);
  }
  return json as T & WithMessage;
}

const seg = encodeSegment;

/** Where an action applies: a topic, or a channel of it. */
export interface Target {
  topic: string;
  channel?: string;
}

function targetPath(t: Target): string {
  return t.channel === undefined ? `/api/topics/${seg(t.topic)}` : `/api/topics/${seg(t.topic)}/${seg(t.channel)}`;
}

/** Typed calls of nsqadmin's JSON API. */
export const api = {
  topics: () => call<{ topics: string[] }>('GET', '/api/topics'),
  inactiveTopics: () => call<{ topics?: Record<string, string[]> }>('GET', '/api/topics?inactive=true'),
  topic: (topic: string) => call<TopicStats>('GET', targetPath({ topic })),
  channel: (topic: string, channel: string) => call<ChannelStats>('GET', targetPath({ topic, channel })),
  nodes: () => call<{ nodes: Producer[] }>('GET', '/api/nodes'),
  node: (node: string) => call<NodeDetail>('GET', `/api/nodes/${seg(node)}`),
  counter: () => call<{ stats: Record<string, CounterEntry> }>('GET', '/api/counter'),
  timeseries: (t: Partial<Target>) => {
    const q = new URLSearchParams();
    if (t.topic !== undefined) q.set('topic', t.topic);
    if (t.channel !== undefined) q.set('channel', t.channel);
    const qs = q.toString();
    return call<Timeseries>('GET', `/api/x/timeseries${qs ? `?${qs}` : ''}`);
  },
  create: (topic: string, channel: string) => call<object>('POST', '/api/topics', { topic, channel }),
  act: (t: Target, action: 'pause' | 'unpause' | 'empty') => call<object>('POST', targetPath(t), { action }),
  remove: (t: Target) => call<object>('DELETE', targetPath(t)),
  tombstone: (node: string, topic: string) => call<object>('DELETE', `/api/nodes/${seg(node)}`, { topic }),
};
