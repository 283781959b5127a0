import { HttpApiError } from '../http/api-error.js';
import { JSON_CONTENT_TYPE, NSQ_CONTENT_TYPE_HEADER, NSQ_CONTENT_TYPE_V1, goJson } from '../http/respond.js';
import { RAW, Router } from '../http/router.js';
import type { Query } from '../http/query.js';
import type { Logger } from '../lib/logger.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import {
  type RegistrationDB,
  channelRegistration,
  filterByActive,
  registrationMatches,
  topicRegistration,
  type PeerInfo,
} from './registration-db.js';

/*
 * nsqlookupd's HTTP API (upstream `nsqlookupd/http.go`) as functions of the directory: each takes the query
 * and returns the V1 result (object → JSON, null → empty body) or throws HttpApiError.
 * `buildLookupRouter` at the end binds them to paths.
 */

/** What the HTTP handlers read: the directory, the clock and the visibility timeouts. */
export interface LookupHttpContext {
  readonly db: RegistrationDB;
  readonly logger: Logger;
  readonly version: string;
  /** Wall-clock ms. */
  now(): number;
  inactiveProducerTimeoutMs(): number;
  tombstoneLifetimeMs(): number;
}

/** A producer as `/lookup` shows it (key order is the original's). */
export interface PeerInfoJson {
  remote_address: string;
  hostname: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
  topology_zone: string;
  topology_region: string;
}

/** A node as `/nodes` shows it. */
export interface NodeJson extends PeerInfoJson {
  tombstones: boolean[];
  topics: string[];
}

export function peerInfoJson(p: PeerInfo): PeerInfoJson {
  return {
    remote_address: p.remoteAddress,
    hostname: p.hostname,
    broadcast_address: p.broadcastAddress,
    tcp_port: p.tcpPort,
    http_port: p.httpPort,
    version: p.version,
    topology_zone: p.topologyZone,
    topology_region: p.topologyRegion,
  };
}

function requireParam(q: Query, key: string, missing: string): string {
  const v = q.get(key);
  if (v === undefined) throw new HttpApiError(400, missing);
  return v;
}

/** The original's GetTopicChannelArgs: presence and validity of topic, then of channel. */
function topicChannelArgs(q: Query): [string, string] {
  const topic = requireParam(q, 'topic', 'MISSING_ARG_TOPIC');
  if (!isValidTopicName(topic)) throw new HttpApiError(400, 'INVALID_ARG_TOPIC');
  const channel = requireParam(q, 'channel', 'MISSING_ARG_CHANNEL');
  if (!isValidChannelName(channel)) throw new HttpApiError(400, 'INVALID_ARG_CHANNEL');
  return [topic, channel];
}

export function info(ctx: LookupHttpContext): { version: string } {
  return { version: ctx.version };
}

export function topics(ctx: LookupHttpContext): { topics: string[] } {
  return { topics: ctx.db.findRegistrations('topic', '*', '').map((r) => r.key) };
}

export function channels(ctx: LookupHttpContext, q: Query): { channels: string[] } {
  const topic = requireParam(q, 'topic', 'MISSING_ARG_TOPIC');
  return { channels: ctx.db.findRegistrations('channel', topic, '*').map((r) => r.subkey) };
}

export function lookup(ctx: LookupHttpContext, q: Query): { channels: string[]; producers: PeerInfoJson[] } {
  const topic = requireParam(q, 'topic', 'MISSING_ARG_TOPIC');
  const { db } = ctx;
  if (db.findRegistrations('topic', topic, '').length === 0) throw new HttpApiError(404, 'TOPIC_NOT_FOUND');
  const chans = db.findRegistrations('channel', topic, '*').map((r) => r.subkey);
  const producers = filterByActive(
    db.findProducers('topic', topic, ''),
    ctx.now(),
    ctx.inactiveProducerTimeoutMs(),
    ctx.tombstoneLifetimeMs(),
  );
  return { channels: chans, producers: producers.map((p) => peerInfoJson(p.peerInfo)) };
}

export function nodes(ctx: LookupHttpContext): { producers: NodeJson[] } {
  const { db } = ctx;
  const now = ctx.now();
  const lifetime = ctx.tombstoneLifetimeMs();
  // Tombstones do not hide nodes, only inactivity does.
  const clients = filterByActive(db.findProducers('client', '', ''), now, ctx.inactiveProducerTimeoutMs(), 0);
  const result: NodeJson[] = [];
  for (const client of clients) {
    const info = client.peerInfo;
    const nodeTopics = db
      .lookupRegistrations(info.id)
      .filter((r) => registrationMatches(r, 'topic', '*', ''))
      .map((r) => r.key);
    // The tombstone lives on the peer's producer entry of each topic.
    const tombstones = nodeTopics.map((t) =>
      db.findProducers('topic', t, '').some((p) => p.peerInfo === info && p.isTombstoned(lifetime, now)),
    );
    result.push({ ...peerInfoJson(info), tombstones, topics: nodeTopics });
  }
  return { producers: result };
}

export function createTopic(ctx: LookupHttpContext, q: Query): null {
  const topic = requireParam(q, 'topic', 'MISSING_ARG_TOPIC');
  if (!isValidTopicName(topic)) throw new HttpApiError(400, 'INVALID_ARG_TOPIC');
  ctx.logger.info(`DB: adding topic(${topic})`);
  ctx.db.addRegistration(topicRegistration(topic));
  return null;
}

export function deleteTopic(ctx: LookupHttpContext, q: Query): null {
  const topic = requireParam(q, 'topic', 'MISSING_ARG_TOPIC');
  const { db, logger } = ctx;
  for (const r of db.findRegistrations('channel', topic, '*')) {
    logger.info(`DB: removing channel(${r.subkey}) from topic(${topic})`);
    db.removeRegistration(r);
  }
  for (const r of db.findRegistrations('topic', topic, '')) {
    logger.info(`DB: removing topic(${topic})`);
    db.removeRegistration(r);
  }
  return null;
}

export function tombstoneTopicProducer(ctx: LookupHttpContext, q: Query): null {
  const topic = requireParam(q, 'topic', 'MISSING_ARG_TOPIC');
  const node = requireParam(q, 'node', 'MISSING_ARG_NODE');
  ctx.logger.info(`DB: setting tombstone for producer@${node} of topic(${topic})`);
  const now = ctx.now();
  for (const p of ctx.db.findProducers('topic', topic, '')) {
    // Plain concatenation, no IPv6 brackets: that is what nsqadmin sends.
    if (`${p.peerInfo.broadcastAddress}:${p.peerInfo.httpPort}` === node) p.tombstone(now);
  }
  return null;
}

export function createChannel(ctx: LookupHttpContext, q: Query): null {
  const [topic, channel] = topicChannelArgs(q);
  ctx.logger.info(`DB: adding channel(${channel}) in topic(${topic})`);
  ctx.db.addRegistration(channelRegistration(topic, channel));
  ctx.logger.info(`DB: adding topic(${topic})`);
  ctx.db.addRegistration(topicRegistration(topic));
  return null;
}

export function deleteChannel(ctx: LookupHttpContext, q: Query): null {
  const [topic, channel] = topicChannelArgs(q);
  const regs = ctx.db.findRegistrations('channel', topic, channel);
  if (regs.length === 0) throw new HttpApiError(404, 'CHANNEL_NOT_FOUND');
  ctx.logger.info(`DB: removing channel(${channel}) from topic(${topic})`);
  for (const r of regs) ctx.db.removeRegistration(r);
  return null;
}

/** Go's zero time.Time as UnixNano: what a never-tombstoned producer shows as `tombstoned_at`. */
export const GO_ZERO_TIME_NS = -6795364578871345152n;

/** Wall-clock ms → integer ns (µs precision; ms values do not carry more). */
function msToNsText(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

/**
 * The `/debug` dump as JSON text: `"<category>:<key>:<subkey>"` → producers, keys sorted like Go
 * sorts map keys, empty registrations omitted. Built by hand because the nanosecond times do not
 * fit a JS number exactly.
 */
export function debugJson(ctx: LookupHttpContext): string {
  const entries: [string, string][] = [];
  for (const [r, producers] of ctx.db.entries()) {
    if (producers.size === 0) continue;
    const items: string[] = [];
    for (const p of producers.values()) {
      const i = p.peerInfo;
      const at = p.tombstonedAt;
      items.push(
        `{"broadcast_address":${goJson(i.broadcastAddress)},"hostname":${goJson(i.hostname)},` +
          `"http_port":${i.httpPort},"id":${goJson(i.id)},"last_update":${msToNsText(i.lastUpdate)},` +
          `"tcp_port":${i.tcpPort},"tombstoned":${p.tombstoned},` +
          `"tombstoned_at":${at === null ? GO_ZERO_TIME_NS.toString() : msToNsText(at)},` +
          `"topology_region":${goJson(i.topologyRegion)},"topology_zone":${goJson(i.topologyZone)},` +
          `"version":${goJson(i.version)}}`,
      );
    }
    entries.push([`${r.category}:${r.key}:${r.subkey}`, `[${items.join(',')}]`]);
  }
  // Go sorts map keys bytewise.
  entries.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  return `{${entries.map(([k, v]) => `${goJson(k)}:${v}`).join(',')}}`;
}

/** The lookupd HTTP routes (upstream `nsqlookupd/http.go`) on a Router with the original's encoders. */
export function buildLookupRouter(ctx: LookupHttpContext): Router {
  const router = new Router({ logger: ctx.logger });
  router.get('/ping', () => 'OK', { encoder: 'plain' });
  router.get('/info', () => info(ctx));
  router.get('/debug', (c) => {
    const body = debugJson(ctx);
    c.res.setHeader('Content-Type', JSON_CONTENT_TYPE);
    c.res.setHeader(NSQ_CONTENT_TYPE_HEADER, NSQ_CONTENT_TYPE_V1);
    c.res.setHeader('Content-Length', Buffer.byteLength(body));
    c.res.writeHead(200);
    c.res.end(body);
    return RAW;
  });
  router.get('/lookup', (c) => lookup(ctx, c.query()));
  router.get('/topics', () => topics(ctx));
  router.get('/channels', (c) => channels(ctx, c.query()));
  router.get('/nodes', () => nodes(ctx));
  router.post('/topic/create', (c) => createTopic(ctx, c.query()));
  router.post('/topic/delete', (c) => deleteTopic(ctx, c.query()));
  router.post('/channel/create', (c) => createChannel(ctx, c.query()));
  router.post('/channel/delete', (c) => deleteChannel(ctx, c.query()));
  router.post('/topic/tombstone', (c) => tombstoneTopicProducer(ctx, c.query()));
  return router;
}
