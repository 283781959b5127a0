import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpApiError } from '../http/api-error.js';
import { RAW, Router, type HttpContext } from '../http/router.js';
import { NSQ_CONTENT_TYPE_HEADER, NSQ_CONTENT_TYPE_V1, JSON_CONTENT_TYPE } from '../http/respond.js';
import { parseLogLevel } from '../lib/logger.js';
import { nowTimestamp } from '../protocol/message.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import type { Channel } from './channel.js';
import type { NsqdHttpHost } from './http-api-host.js';
import { nsqdConfigValue } from './options.js';
import { renderPrometheus } from './prometheus.js';
import { statsJson, statsSnapshot, statsText } from './stats.js';
import { statsdPrefix } from './statsd.js';
import { parseBinaryMpub, splitTextMpub } from './http-mpub-body.js';
import { publishBodies, runSliced } from './mpub-slicer.js';
import { PutError, type Topic } from './topic.js';
import { registerExtensionRoutes, withExtensionStats } from './extensions-http.js';
import { PublishRefusedError } from './queue-extensions.js';
import * as os from 'node:os';

/**
 * nsqd's HTTP API (upstream `nsqd/http.go`), the same handlers on HTTP and HTTPS. Each handler makes
 * the original's checks in the original's order; the Router supplies status/encoding rules.
 */
export function createHttpApi(nsqd: NsqdHttpHost): { http: (req: IncomingMessage, res: ServerResponse) => void; https: (req: IncomingMessage, res: ServerResponse) => void } {
  const routes = (router: Router) => register(router, nsqd);
  const httpsRouter = new Router({ logger: nsqd.logger });
  routes(httpsRouter);
  const httpRouter = new Router({
    logger: nsqd.logger,
    // --tls-required=true refuses plain HTTP (tcp-https leaves it open) (docs/protocol.md, HTTP conventions).
    before: (_req, res) => {
      if (nsqd.options.tlsRequired !== 2) return true;
      res.writeHead(403, { [NSQ_CONTENT_TYPE_HEADER]: NSQ_CONTENT_TYPE_V1, 'Content-Type': JSON_CONTENT_TYPE });
      res.end(`{"message": "TLS_REQUIRED", "https_port": ${nsqd.httpsPort()}}`);
      return false;
    },
  });
  routes(httpRouter);
  return { http: (req, res) => httpRouter.handle(req, res), https: (req, res) => httpsRouter.handle(req, res) };
}

const err = (status: number, text: string) => new HttpApiError(status, text);

/** Upstream's boolParams table: only these four spellings; anything else (or absent) means true. */
function boolParam(v: string | undefined): boolean {
  return v !== 'false' && v !== '0';
}

function contentLength(ctx: HttpContext): number {
  const h = ctx.req.headers['content-length'];
  return h === undefined ? -1 : Number(h);
}

/** topic query arg for /pub, /mpub, /topic/create, /topic/empty. */
function topicArg(ctx: HttpContext): string {
  const q = ctx.query();
  const t = q.get('topic');
  if (t === undefined) throw err(400, 'MISSING_ARG_TOPIC');
  if (!isValidTopicName(t)) throw err(400, 'INVALID_TOPIC');
  return t;
}

function existingTopic(nsqd: NsqdHttpHost, ctx: HttpContext, validate: boolean): Topic {
  const t = ctx.query().get('topic');
  if (t === undefined) throw err(400, 'MISSING_ARG_TOPIC');
  if (validate && !isValidTopicName(t)) throw err(400, 'INVALID_TOPIC');
  const topic = nsqd.getExistingTopic(t);
  if (topic === undefined) throw err(404, 'TOPIC_NOT_FOUND');
  return topic;
}

/** topic + channel args for /channel/* (note the ARG_ in the invalid-name errors). */
function topicChannelArgs(nsqd: NsqdHttpHost, ctx: HttpContext): { topic: Topic; channelName: string } {
  const q = ctx.query();
  const t = q.get('topic');
  if (t === undefined) throw err(400, 'MISSING_ARG_TOPIC');
  if (!isValidTopicName(t)) throw err(400, 'INVALID_ARG_TOPIC');
  const c = q.get('channel');
  if (c === undefined) throw err(400, 'MISSING_ARG_CHANNEL');
  if (!isValidChannelName(c)) throw err(400, 'INVALID_ARG_CHANNEL');
  const topic = nsqd.getExistingTopic(t);
  if (topic === undefined) throw err(404, 'TOPIC_NOT_FOUND');
  return { topic, channelName: c };
}

function existingChannel(topic: Topic, name: string): Channel {
  const ch = topic.getExistingChannel(name);
  if (ch === undefined) throw err(404, 'CHANNEL_NOT_FOUND');
  return ch;
}

/** A failed body read (client abort, bad chunking) is upstream's plain 500, not a handler panic. */
async function readBody(ctx: HttpContext, limit: number): Promise<{ body: Buffer; tooBig: boolean }> {
  try {
    return await ctx.readBody(limit);
  } catch {
    throw err(500, 'INTERNAL_ERROR');
  }
}

async function waitReady(nsqd: NsqdHttpHost, topic: Topic): Promise<void> {
  const ready = nsqd.topicReady(topic);
  if (ready !== null) await ready;
}

/**
 * Runs a publish and waits until it may be acknowledged (at once, or after the group commit with
 * --sync-every=1); a PutError is the original's 503 EXITING.
 */
async function put(topic: Topic, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
    await topic.acknowledged();
  } catch (e) {
    if (e instanceof PutError) throw err(503, e instanceof PublishRefusedError ? e.httpText : 'EXITING');
    throw e;
  }
}

function register(r: Router, nsqd: NsqdHttpHost): void {
  const o = nsqd.options;

  r.get(
    '/ping',
    () => {
      if (!nsqd.isHealthy()) throw err(500, nsqd.health());
      return 'OK';
    },
    { encoder: 'plain' },
  );

  r.get('/info', () => ({
    version: nsqd.version,
    broadcast_address: o.broadcastAddress,
    hostname: os.hostname(),
    http_port: nsqd.httpPort(),
    tcp_port: nsqd.tcpPort(),
    start_time: Math.floor(nsqd.startTime / 1000),
    max_heartbeat_interval: o.maxHeartbeatInterval * 1e6,
    max_output_buffer_size: o.maxOutputBufferSize,
    max_output_buffer_timeout: o.maxOutputBufferTimeout * 1e6,
    max_deflate_level: o.maxDeflateLevel,
    topology_zone: o.topologyZone,
    topology_region: o.topologyRegion,
  }));

  r.get('/stats', (ctx) => {
    const q = ctx.query();
    const filter = {
      topic: q.get('topic'),
      channel: q.get('channel'),
      includeClients: boolParam(q.get('include_clients')),
      includeMem: boolParam(q.get('include_mem')),
    };
    if (q.get('format') === 'json') return withExtensionStats(statsJson(nsqd, filter), nsqd);
    return statsText(nsqd, filter);
  });

  // Beyond the original: Prometheus text exposition of the same counters.
  r.get('/metrics', (ctx) => {
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    ctx.res.end(renderPrometheus(statsSnapshot(nsqd, true)));
    return RAW;
  });

  r.post(
    '/pub',
    async (ctx) => {
      if (contentLength(ctx) > o.maxMsgSize) throw err(413, 'MSG_TOO_BIG');
      const { body, tooBig } = await readBody(ctx, o.maxMsgSize);
      if (tooBig) throw err(413, 'MSG_TOO_BIG');
      if (body.length === 0) throw err(400, 'MSG_EMPTY');
      const name = topicArg(ctx);
      const topic = nsqd.getTopic(name);
      let deferMs = 0;
      const d = ctx.query().get('defer');
      if (d !== undefined) {
        if (!/^[+-]?\d+$/.test(d)) throw err(400, 'INVALID_DEFER');
        deferMs = Number(d);
        if (deferMs < 0 || deferMs > o.maxReqTimeout) throw err(400, 'INVALID_DEFER');
      }
      await waitReady(nsqd, topic);
      const [hi, lo] = nowTimestamp();
      const m = topic.newMessage(body, hi, lo);
      m.deferMs = deferMs;
      await put(topic, () => topic.putMessage(m));
      return 'OK';
    },
    { log: false },
  );

  r.post(
    '/mpub',
    async (ctx) => {
      if (contentLength(ctx) > o.maxBodySize) throw err(413, 'BODY_TOO_BIG');
      const name = topicArg(ctx);
      const topic = nsqd.getTopic(name);
      const b = ctx.query().get('binary');
      const binary = !(b === undefined || b === 'false' || b === '0');
      const { body, tooBig } = await readBody(ctx, o.maxBodySize);
      if (binary && tooBig) throw err(413, 'BODY_TOO_BIG');
      // Parsed and validated whole before anything is published, in slices (a 5 MiB text body
      // is millions of lines), then published in slices too.
      const bodies = await runSliced(
        binary ? parseBinaryMpub(body, o.maxBodySize, o.maxMsgSize) : splitTextMpub(body, o.maxBodySize, o.maxMsgSize),
      );
      await waitReady(nsqd, topic);
      const [hi, lo] = nowTimestamp();
      await put(topic, () => publishBodies(topic, bodies, hi, lo));
      return 'OK';
    },
    { log: false },
  );

  r.post('/topic/create', async (ctx) => {
    const topic = nsqd.getTopic(topicArg(ctx));
    await waitReady(nsqd, topic);
    return null;
  });

  r.post('/topic/delete', (ctx) => {
    const topic = existingTopic(nsqd, ctx, false);
    nsqd.deleteExistingTopic(topic.name);
    return null;
  });

  r.post('/topic/empty', (ctx) => {
    existingTopic(nsqd, ctx, true).empty();
    return null;
  });

  for (const action of ['pause', 'unpause'] as const) {
    r.post(`/topic/${action}`, (ctx) => {
      existingTopic(nsqd, ctx, false).setPaused(action === 'pause');
      nsqd.persistMetadata(true);
      return null;
    });
    r.post(`/channel/${action}`, (ctx) => {
      const { topic, channelName } = topicChannelArgs(nsqd, ctx);
      existingChannel(topic, channelName).setPaused(action === 'pause');
      nsqd.persistMetadata(true);
      return null;
    });
  }

  r.post('/channel/create', (ctx) => {
    const { topic, channelName } = topicChannelArgs(nsqd, ctx);
    topic.getChannel(channelName);
    return null;
  });

  r.post('/channel/delete', (ctx) => {
    const { topic, channelName } = topicChannelArgs(nsqd, ctx);
    if (!topic.deleteExistingChannel(channelName)) throw err(404, 'CHANNEL_NOT_FOUND');
    return null;
  });

  r.post('/channel/empty', (ctx) => {
    const { topic, channelName } = topicChannelArgs(nsqd, ctx);
    existingChannel(topic, channelName).empty();
    return null;
  });

  const configValue = (opt: string) => {
    const v = nsqdConfigValue(o, opt);
    if (v === undefined) throw err(400, 'INVALID_OPTION');
    // Upstream rewrites the option at startup, so readers see the resolved prefix (idempotent).
    if (opt === 'statsd_prefix') return statsdPrefix(o.statsdPrefix, o.broadcastAddress, nsqd.broadcastHttpPort());
    // Likewise the broadcast ports, filled from the bound ports when 0 (upstream `nsqd/nsqd.go` Main).
    if (opt === 'broadcast_tcp_port') return nsqd.broadcastTcpPort();
    if (opt === 'broadcast_http_port') return nsqd.broadcastHttpPort();
    return v.value;
  };

  r.get('/config/:opt', (ctx) => configValue(ctx.params.opt!));

  r.put('/config/:opt', async (ctx) => {
    const opt = ctx.params.opt!;
    const { body, tooBig } = await readBody(ctx, o.maxMsgSize);
    if (tooBig || body.length === 0) throw err(413, 'INVALID_VALUE');
    switch (opt) {
      case 'nsqlookupd_tcp_addresses': {
        let v: unknown;
        try {
          v = JSON.parse(body.toString('utf8'));
        } catch {
          throw err(400, 'INVALID_VALUE');
        }
        if (v === null) v = [];
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw err(400, 'INVALID_VALUE');
        o.lookupdTcpAddresses = v as string[];
        nsqd.lookup()?.setAddresses(o.lookupdTcpAddresses);
        break;
      }
      case 'log_level': {
        const level = parseLogLevel(body.toString('utf8'));
        if (level === undefined) throw err(400, 'INVALID_VALUE');
        o.logLevel = level;
        nsqd.logger.level = level;
        break;
      }
      default:
        throw err(400, 'INVALID_OPTION');
    }
    return configValue(opt);
  });

  r.put(
    '/debug/setblockrate',
    (ctx) => {
      const rate = ctx.query().get('rate') ?? '';
      if (!/^[+-]?\d+$/.test(rate)) throw err(400, `invalid block rate : strconv.Atoi: parsing ${JSON.stringify(rate)}: invalid syntax`);
      return null;
    },
    { encoder: 'plain' },
  );
  r.post(
    '/debug/freememory',
    () => {
      (globalThis as { gc?: () => void }).gc?.();
      return null;
    },
    { encoder: 'plain' },
  );

  // Beyond the original: queue extensions and drain (docs/extensions.md).
  registerExtensionRoutes(r, nsqd);
}
