/**
 * nsqadmin's HTTP routes (`nsqadmin/http.go`), all under --base-path: the UI pages and bundle,
 * `/ping`, the `/api/*` JSON API with its admin check and notifications, `/config/:opt`,
 * the optional graphite proxy, and the live-chart extension `/api/x/timeseries`.
 */

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { HttpApiError } from '../http/api-error.js';
import { RAW, Router, type HttpContext } from '../http/router.js';
import { respondPlain } from '../http/respond.js';
import { parseLogLevel, type Logger } from '../lib/logger.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import { parseCidr } from './cidr.js';
import { ClusterError, type ClusterAddresses, type ClusterInfo, type Warnings } from './cluster-info.js';
import { sortClientsByTopology, emptyTopicAggregate, addTopic } from './cluster-stats.js';
import type { Notifier } from './notify.js';
import { NSQADMIN_VERSION, nsqadminConfigValue, type NsqadminOptions } from './options.js';
import { httpAddressOf } from './producers.js';
import type { ChartSampler } from './sampler.js';
import { contentTypeOf, missingUiPage, renderIndex, sendBody, type StaticUi, type UiConfig } from './static-ui.js';
import { seriesKey } from './timeseries.js';
import { decodeJsonBody } from './json-body.js';
import { routeParam } from './route-param.js';

/** What the routes need from the running nsqadmin. */
export interface AdminHttpContext {
  /** Current options (PUT /config/:opt swaps them). */
  opts(): NsqadminOptions;
  setOpts(o: NsqadminOptions): void;
  logger: Logger;
  cluster: ClusterInfo;
  notifier: Notifier;
  sampler: ChartSampler;
  ui: StaticUi;
}

/** `WARNING: a; b` or `""` (maybeWarnMsg). */
export function warnMessage(w: Warnings): string {
  return w.length > 0 ? `WARNING: ${w.join('; ')}` : '';
}

/** Largest JSON body the write actions read. */
const MAX_ACTION_BODY = 1024 * 1024;
const MAX_CONFIG_BODY = 1024 * 1024;

/** The admin ACL: everyone when no --admin-user, else the ACL header must name one of them. */
export function isAdmin(o: NsqadminOptions, req: IncomingMessage): boolean {
  if (o.adminUsers.length === 0) return true;
  const v = req.headers[o.aclHttpHeader.toLowerCase()];
  const user = Array.isArray(v) ? v[0] : v;
  return user !== undefined && o.adminUsers.includes(user);
}

/** Builds the router with every route registered under the base path. */
export function buildAdminRouter(ctx: AdminHttpContext): Router {
  const { logger, cluster, notifier } = ctx;
  const router = new Router({ logger });
  const base = ctx.opts().basePath;
  const prefix = base === '/' ? '' : base;
  const at = (p: string): string => (p === '/' ? base : prefix + p);
  const addrs = (): ClusterAddresses => ({ lookupd: ctx.opts().nsqlookupdHttpAddresses, nsqd: ctx.opts().nsqdHttpAddresses });

  /** Runs a cluster step; a total failure becomes `502 UPSTREAM_ERROR: …` (logged as `what`). */
  async function upstream<T>(what: string, w: Warnings, step: () => Promise<T>): Promise<T> {
    const before = w.length;
    try {
      const v = await step();
      for (const m of w.slice(before)) logger.warn(m);
      return v;
    } catch (err) {
      if (err instanceof ClusterError) {
        logger.error(`failed to ${what} - ${err.message}`);
        throw new HttpApiError(502, `UPSTREAM_ERROR: ${err.message}`);
      }
      throw err;
    }
  }

  function requireAdmin(req: IncomingMessage): void {
    if (!isAdmin(ctx.opts(), req)) throw new HttpApiError(403, 'FORBIDDEN');
  }

  // --- UI -----------------------------------------------------------------------------------
  const index = (c: HttpContext): typeof RAW => {
    const o = ctx.opts();
    const tpl = ctx.ui.file('index.html');
    const config: UiConfig = {
      basePath: base,
      version: NSQADMIN_VERSION,
      isAdmin: isAdmin(o, c.req),
      graphiteUrl: o.proxyGraphite ? prefix : o.graphiteUrl,
      statsdPrefix: o.statsdPrefix,
      statsdCounterFormat: o.statsdCounterFormat,
      statsdGaugeFormat: o.statsdGaugeFormat,
      useStatsdPrefixes: o.useStatsdPrefixes,
      statsdInterval: Math.floor(o.statsdInterval / 1000),
      nsqlookupd: [...o.nsqlookupdHttpAddresses],
      chartIntervalMs: o.chartSampleInterval,
    };
    const html = tpl ? renderIndex(tpl.toString('utf8'), prefix, config) : missingUiPage(ctx.ui.dir);
    sendBody(c.req, c.res, Buffer.from(html), 'text/html; charset=utf-8');
    return RAW;
  };
  for (const p of ['/', '/topics', '/topics/:topic', '/topics/:topic/:channel', '/nodes', '/nodes/:node', '/counter', '/lookup']) {
    router.get(at(p), index);
  }
  router.get(
    at('/static/*file'),
    (c) => {
      const rel = routeParam(c, 'file').slice(1);
      const data = rel === 'index.html' ? undefined : ctx.ui.served(rel, prefix);
      if (!data) throw new HttpApiError(404, 'NOT_FOUND');
      // Vite names assets by content hash, so they never change under the same name.
      if (rel.startsWith('assets/')) c.res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      sendBody(c.req, c.res, data, contentTypeOf(rel), () => ctx.ui.gzipped(rel, data));
      return RAW;
    },
    { encoder: 'plain' },
  );
  router.get(at('/ping'), () => 'OK', { encoder: 'plain' });

  if (ctx.opts().proxyGraphite) {
    router.get(at('/render'), (c) => proxyGraphite(ctx.opts(), c));
  }

  // --- reads --------------------------------------------------------------------------------
  router.get(at('/api/topics'), async (c) => {
    const inactive = c.query().get('inactive') === 'true';
    const w: Warnings = [];
    const topics = await upstream('get topics', w, () => cluster.topics(addrs(), w));
    if (!inactive) return { topics, message: warnMessage(w) };
    const map: Record<string, string[]> = {};
    const lookupds = ctx.opts().nsqlookupdHttpAddresses;
    if (lookupds.length > 0) {
      // Topics lookupd still lists that have no producer left (errors ignored, as upstream).
      const found = await Promise.all(
        topics.map(async (t) => {
          const producers = await cluster.lookupdTopicProducers(t, lookupds, []).catch(() => []);
          if (producers.length > 0) return undefined;
          return [t, await cluster.lookupdTopicChannels(t, lookupds, []).catch(() => [])] as const;
        }),
      );
      for (const f of found) if (f) map[f[0]] = f[1];
    }
    return { topics: map, message: warnMessage(w) };
  });

  router.get(at('/api/topics/:topic'), async (c) => {
    const topic = routeParam(c, 'topic');
    const w: Warnings = [];
    const producers = await upstream('get topic producers', w, () => cluster.topicProducers(topic, addrs(), w));
    const stats = await upstream('get topic metadata', w, () => cluster.nsqdStats(producers, topic, false, w));
    const agg = emptyTopicAggregate(topic);
    for (const t of stats.topics) addTopic(agg, t);
    return { ...agg, message: warnMessage(w) };
  });

  router.get(at('/api/topics/:topic/:channel'), async (c) => {
    const topic = routeParam(c, 'topic');
    const channel = routeParam(c, 'channel');
    const w: Warnings = [];
    const producers = await upstream('get topic producers', w, () => cluster.topicProducers(topic, addrs(), w));
    const stats = await upstream('get channel metadata', w, () => cluster.nsqdStats(producers, topic, true, w));
    const agg = stats.channels.get(channel);
    // Upstream dereferences nil here (500); a clear 404 is kinder and what the UI can show.
    if (!agg) throw new HttpApiError(404, 'CHANNEL_NOT_FOUND');
    if (agg.clients) sortClientsByTopology(agg.clients);
    return { ...agg, message: warnMessage(w) };
  });

  router.get(at('/api/nodes'), async () => {
    const w: Warnings = [];
    const nodes = await upstream('get nodes', w, () => cluster.producers(addrs(), w));
    return { nodes, message: warnMessage(w) };
  });

  router.get(at('/api/nodes/:node'), async (c) => {
    const node = routeParam(c, 'node');
    const w: Warnings = [];
    const producers = await upstream('get producers', w, () => cluster.producers(addrs(), w));
    const producer = producers.find((p) => httpAddressOf(p) === node);
    if (!producer) throw new HttpApiError(404, 'NODE_NOT_FOUND');
    const stats = await upstream('get nsqd stats', [], () => cluster.nsqdStats([producer], '', true, []));
    let totalClients = 0;
    let totalMessages = 0;
    for (const t of stats.topics) {
      for (const ch of t.channels) totalClients += ch.clients?.length ?? 0;
      totalMessages += t.message_count;
    }
    return { node, topics: stats.topics, total_messages: totalMessages, total_clients: totalClients, message: warnMessage(w) };
  });

  router.get(at('/api/counter'), async () => {
    const w: Warnings = [];
    const producers = await upstream('get counter producer list', w, () => cluster.producers(addrs(), w));
    const stats = await upstream('get nsqd stats', w, () => cluster.nsqdStats(producers, '', false, w));
    const out = new Map<string, { node: string; topic_name: string; channel_name: string; message_count: number }>();
    for (const agg of stats.channels.values()) {
      for (const row of agg.nodes ?? []) {
        const key = `${agg.topic_name}:${agg.channel_name}:${row.node}`;
        let s = out.get(key);
        if (!s) out.set(key, (s = { node: row.node, topic_name: agg.topic_name, channel_name: agg.channel_name, message_count: 0 }));
        s.message_count += row.message_count;
      }
    }
    const sorted: Record<string, unknown> = {};
    for (const k of [...out.keys()].sort()) sorted[k] = out.get(k);
    return { stats: sorted, message: warnMessage(w) };
  });

  router.get(at('/api/graphite'), async (c) => {
    const qs = c.query();
    if (qs.get('metric') !== 'rate') throw new HttpApiError(400, 'INVALID_ARG_METRIC');
    const target = qs.get('target');
    if (target === undefined) throw new HttpApiError(400, 'INVALID_ARG_TARGET');
    const o = ctx.opts();
    const secs = Math.floor(o.statsdInterval / 1000);
    const params = new URLSearchParams({ format: 'json', from: `-${secs * 2}sec`, target, until: `-${secs}sec` });
    const url = `${o.graphiteUrl}/render?${params.toString()}`;
    logger.info(`GRAPHITE: ${url}`);
    let rate: number | null | undefined;
    try {
      const reply = await cluster.client.getJson<Array<{ datapoints: Array<Array<number | null>> }>>(url);
      // A reply without points leaves `rate` undefined: 500 below, as upstream fails on it too.
      rate = reply[0]?.datapoints[0]?.[0];
    } catch (err) {
      logger.error(`graphite request failed - ${err instanceof Error ? err.message : String(err)}`);
      throw new HttpApiError(500, 'INTERNAL_ERROR');
    }
    if (typeof rate !== 'number') throw new HttpApiError(500, 'INTERNAL_ERROR');
    return { rate: rate < 0 ? 'N/A' : (rate / secs).toFixed(2) };
  });

  router.get(at('/api/x/timeseries'), (c) => {
    const qs = c.query();
    const topic = qs.get('topic') ?? '';
    const channel = topic === '' ? '' : (qs.get('channel') ?? '');
    const series = ctx.sampler.series;
    return { interval_ms: series.intervalMs, points: series.points(seriesKey(topic, channel)) };
  });

  // --- writes -------------------------------------------------------------------------------
  router.post(at('/api/topics'), async (c) => {
    requireAdmin(c.req);
    const body = await decodeJsonBody(c, MAX_ACTION_BODY, { topic: 'string', channel: 'string' });
    const topic = (body.topic as string | undefined) ?? '';
    const channel = (body.channel as string | undefined) ?? '';
    if (!isValidTopicName(topic)) throw new HttpApiError(400, 'INVALID_TOPIC');
    if (channel.length > 0 && !isValidChannelName(channel)) throw new HttpApiError(400, 'INVALID_CHANNEL');
    const w: Warnings = [];
    await upstream('create topic/channel', w, () => cluster.createTopicChannel(topic, channel, ctx.opts().nsqlookupdHttpAddresses, w));
    notifier.notify('create_topic', topic, '', '', c.req);
    if (channel.length > 0) notifier.notify('create_channel', topic, channel, '', c.req);
    return { message: warnMessage(w) };
  });

  const action = async (c: HttpContext, topic: string, channel: string): Promise<unknown> => {
    requireAdmin(c.req);
    const body = await decodeJsonBody(c, MAX_ACTION_BODY, { action: 'string' });
    const act = body.action;
    if (act !== 'pause' && act !== 'unpause' && act !== 'empty') throw new HttpApiError(400, 'INVALID_ACTION');
    const w: Warnings = [];
    try {
      await upstream(`${act} topic/channel`, w, () => cluster.topicChannelAction(act, topic, channel, addrs(), w));
    } finally {
      // Upstream notifies pause/unpause/empty whether or not the nsqd calls worked.
      notifier.notify(`${act}_${channel === '' ? 'topic' : 'channel'}`, topic, channel, '', c.req);
    }
    return { message: warnMessage(w) };
  };
  router.post(at('/api/topics/:topic'), (c) => action(c, routeParam(c, 'topic'), ''));
  router.post(at('/api/topics/:topic/:channel'), (c) => action(c, routeParam(c, 'topic'), routeParam(c, 'channel')));

  router.delete(at('/api/topics/:topic'), async (c) => {
    requireAdmin(c.req);
    const topic = routeParam(c, 'topic');
    const w: Warnings = [];
    await upstream('delete topic', w, () => cluster.deleteTopic(topic, addrs(), w));
    notifier.notify('delete_topic', topic, '', '', c.req);
    return { message: warnMessage(w) };
  });

  router.delete(at('/api/topics/:topic/:channel'), async (c) => {
    requireAdmin(c.req);
    const topic = routeParam(c, 'topic');
    const channel = routeParam(c, 'channel');
    const w: Warnings = [];
    await upstream('delete channel', w, () => cluster.deleteChannel(topic, channel, addrs(), w));
    notifier.notify('delete_channel', topic, channel, '', c.req);
    return { message: warnMessage(w) };
  });

  router.delete(at('/api/nodes/:node'), async (c) => {
    requireAdmin(c.req);
    const node = routeParam(c, 'node');
    let topic: unknown;
    try {
      topic = (await decodeJsonBody(c, MAX_ACTION_BODY, { topic: 'string' })).topic;
    } catch (err) {
      if (err instanceof HttpApiError && err.status === 400) throw new HttpApiError(400, 'INVALID_BODY');
      throw err;
    }
    if (typeof topic !== 'string' || !isValidTopicName(topic)) throw new HttpApiError(400, 'INVALID_TOPIC');
    const w: Warnings = [];
    await upstream('tombstone node for topic', w, () => cluster.tombstoneNodeForTopic(topic as string, node, ctx.opts().nsqlookupdHttpAddresses, w));
    notifier.notify('tombstone_topic_producer', topic, '', node, c.req);
    return { message: warnMessage(w) };
  });

  // --- /config/:opt -------------------------------------------------------------------------
  const config = async (c: HttpContext): Promise<unknown> => {
    const o = ctx.opts();
    if (o.allowConfigFromCidr !== '') {
      const cidr = parseCidr(o.allowConfigFromCidr);
      const ip = c.req.socket.remoteAddress;
      if (ip === undefined) throw new HttpApiError(400, 'INVALID_REMOTE_ADDR');
      if (!cidr?.contains(ip)) throw new HttpApiError(403, 'FORBIDDEN');
    }
    const opt = routeParam(c, 'opt');
    if (c.req.method === 'PUT') {
      const { body, tooBig } = await c.readBody(MAX_CONFIG_BODY);
      if (tooBig || body.length === 0) throw new HttpApiError(413, 'INVALID_VALUE');
      const next: NsqadminOptions = { ...o };
      const text = body.toString('utf8');
      if (opt === 'nsqlookupd_http_addresses') {
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          throw new HttpApiError(400, 'INVALID_VALUE');
        }
        if (v !== null && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) throw new HttpApiError(400, 'INVALID_VALUE');
        next.nsqlookupdHttpAddresses = (v as string[] | null) ?? [];
      } else if (opt === 'log_level') {
        const level = parseLogLevel(text);
        if (!level) throw new HttpApiError(400, 'INVALID_VALUE');
        next.logLevel = level;
        logger.level = level;
      } else {
        throw new HttpApiError(400, 'INVALID_OPTION');
      }
      ctx.setOpts(next);
    }
    const v = nsqadminConfigValue(ctx.opts(), opt);
    if (!v) throw new HttpApiError(400, 'INVALID_OPTION');
    return v.value;
  };
  router.get(at('/config/:opt'), config);
  router.put(at('/config/:opt'), config);

  return router;
}

/** GET {base}/render → graphite (scheme+host of --graphite-url, Basic auth from its userinfo). */
function proxyGraphite(o: NsqadminOptions, c: HttpContext): Promise<typeof RAW> {
  const target = new URL(o.graphiteUrl);
  const q = c.req.url?.indexOf('?') ?? -1;
  const query = q >= 0 ? (c.req.url as string).slice(q) : '';
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.req.headers)) {
    if (typeof v === 'string' && !['host', 'connection', 'authorization'].includes(k)) headers[k] = v;
  }
  if (target.username !== '') {
    headers.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64');
  }
  const mod = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const up = mod.request({ protocol: target.protocol, hostname: target.hostname, port: target.port, method: 'GET', path: `/render${query}`, headers, timeout: o.httpClientRequestTimeout }, (r) => {
      c.res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(c.res);
      r.on('end', () => resolve(RAW));
      r.on('error', () => {
        c.res.destroy();
        resolve(RAW);
      });
    });
    up.on('timeout', () => up.destroy(new Error('timeout')));
    up.on('error', () => {
      if (!c.res.headersSent) respondPlain(c.res as ServerResponse, 502, 'Bad Gateway');
      else c.res.destroy();
      resolve(RAW);
    });
    up.end();
  });
}
