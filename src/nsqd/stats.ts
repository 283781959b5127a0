import * as v8 from 'node:v8';
import { formatDuration } from '../lib/duration.js';
import { E2eLatency, type E2eResult } from '../lib/quantile.js';
import type { Channel } from './channel.js';
import type { ClientV2 } from './client-v2.js';
import type { Nsqd } from './nsqd.js';
import type { StatsSnapshot } from './stats-snapshot.js';
import type { Topic } from './topic.js';

/**
 * /stats (nsqd-http.md §3.7): the JSON object with the original's key order, and the text
 * layout. Plain objects built on demand from the live counters; nothing is kept per request.
 */
export interface StatsFilter {
  topic?: string;
  channel?: string;
  includeClients: boolean;
  includeMem: boolean;
}

const tlsVersionName: Record<string, string> = { TLSv1: 'TLS1.0', 'TLSv1.1': 'TLS1.1', 'TLSv1.2': 'TLS1.2', 'TLSv1.3': 'TLS1.3' };

export function clientStats(c: ClientV2, topicFilter?: string): Record<string, unknown> {
  const s: Record<string, unknown> = {
    client_id: c.clientId,
    hostname: c.hostname,
    version: 'V2',
    remote_address: c.remoteAddress,
    state: c.state,
    ready_count: c.rdy,
    in_flight_count: c.inFlight,
    message_count: c.messageCount,
    finish_count: c.finishCount,
    requeue_count: c.requeueCount,
    connect_ts: Math.floor(c.connectTs / 1000),
    sample_rate: c.sampleRate,
    deflate: c.deflate,
    snappy: c.snappy,
    user_agent: c.userAgent,
  };
  if (c.auth !== null && c.auth.authorizations.length > 0) {
    s.authed = true;
    if (c.auth.identity) s.auth_identity = c.auth.identity;
    if (c.auth.identityUrl) s.auth_identity_url = c.auth.identityUrl;
  }
  s.topology_zone = c.topologyZone;
  s.topology_region = c.topologyRegion;
  // Upstream reports at most one topic's publish count.
  if (topicFilter !== undefined) {
    const n = c.pubCounts.get(topicFilter);
    if (n !== undefined) s.pub_counts = [{ topic: topicFilter, count: n }];
  } else {
    for (const [topic, count] of c.pubCounts) {
      s.pub_counts = [{ topic, count }];
      break;
    }
  }
  const t = c.tlsInfo();
  s.tls = t !== null;
  s.tls_cipher_suite = t?.cipher ?? '';
  s.tls_version = t ? (tlsVersionName[t.version] ?? t.version) : '';
  s.tls_negotiated_protocol = t?.protocol ?? '';
  s.tls_negotiated_protocol_is_mutual = false;
  return s;
}

function channelE2e(ch: Channel, percentiles: number[]): E2eResult {
  if (percentiles.length === 0 || ch.e2e === null) return { count: 0, percentiles: null };
  return ch.e2e.result();
}

function topicE2e(t: Topic, percentiles: number[]): E2eResult {
  const list = t.channels().map((c) => c.e2e).filter((x): x is E2eLatency => x !== null);
  return E2eLatency.merge(list, percentiles);
}

function channelStats(ch: Channel, f: StatsFilter, percentiles: number[]): Record<string, unknown> {
  const s: Record<string, unknown> = {
    channel_name: ch.name,
    depth: ch.depth(),
    backend_depth: ch.backendDepth(),
    in_flight_count: ch.inFlightCount(),
    deferred_count: ch.deferredCount(),
    message_count: ch.messageCount,
  };
  if (ch.globalMsgCount !== 0) s.global_msg_count = ch.globalMsgCount;
  s.requeue_count = ch.requeueCount;
  s.timeout_count = ch.timeoutCount;
  s.client_count = ch.clientCount();
  s.clients = f.includeClients ? ch.consumers().map((c) => clientStats(c as ClientV2)) : null;
  s.paused = ch.paused;
  s.e2e_processing_latency = channelE2e(ch, percentiles);
  return s;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function selectedTopics(nsqd: Nsqd, f: StatsFilter): Topic[] | null {
  if (f.topic !== undefined) {
    const t = nsqd.getExistingTopic(f.topic);
    return t === undefined ? null : [t];
  }
  return nsqd.topics().sort(byName);
}

function selectedChannels(t: Topic, f: StatsFilter): Channel[] {
  const all = [...t.channels()].sort(byName);
  return f.channel === undefined ? all : all.filter((c) => c.name === f.channel);
}

/** Go runtime figures mapped from V8 where there is a counterpart, 0 otherwise. */
export function memoryStats(): Record<string, number> {
  const h = v8.getHeapStatistics();
  return {
    heap_objects: 0,
    heap_idle_bytes: Math.max(0, h.total_heap_size - h.used_heap_size),
    heap_in_use_bytes: h.used_heap_size,
    heap_released_bytes: 0,
    gc_pause_usec_100: 0,
    gc_pause_usec_99: 0,
    gc_pause_usec_95: 0,
    next_gc_bytes: h.total_heap_size,
    gc_total_runs: 0,
  };
}

export function statsJson(nsqd: Nsqd, f: StatsFilter): Record<string, unknown> {
  const percentiles = nsqd.options.e2eProcessingLatencyPercentiles;
  const topics = selectedTopics(nsqd, f);
  let topicList: unknown[] | null = null;
  if (topics !== null) {
    topicList = [];
    for (const t of topics) {
      const chans = selectedChannels(t, f);
      if (f.channel !== undefined && chans.length === 0) continue;
      topicList.push({
        topic_name: t.name,
        channels: chans.map((c) => channelStats(c, f, percentiles)),
        depth: t.depth(),
        backend_depth: t.backendDepth(),
        message_count: t.messageCount,
        message_bytes: t.messageBytes,
        paused: t.paused,
        e2e_processing_latency: topicE2e(t, percentiles),
      });
    }
  }
  const out: Record<string, unknown> = {
    version: nsqd.version,
    health: nsqd.health(),
    start_time: Math.floor(nsqd.startTime / 1000),
    topics: topicList,
  };
  if (f.includeMem) out.memory = memoryStats();
  let producers: unknown[] | null = null;
  if (f.includeClients) {
    const list = [];
    for (const c of nsqd.clients.values()) {
      if (c.pubCounts.size === 0) continue;
      if (f.topic !== undefined && !c.pubCounts.has(f.topic)) continue;
      list.push(clientStats(c, f.topic));
    }
    if (list.length > 0) producers = list;
  }
  out.producers = producers;
  return out;
}

// ---- text format ----------------------------------------------------------------------------

const padR = (s: string | number, n: number) => String(s).padEnd(n);

function humanNs(ns: number): string {
  if (ns > 1e9) return `${(ns / 1e9).toFixed(1)}s`;
  if (ns > 1e6) return `${(ns / 1e6).toFixed(1)}ms`;
  if (ns > 1e3) return `${(ns / 1e3).toFixed(1)}us`;
  return `${ns.toFixed(1)}ns`;
}

function e2eList(r: E2eResult): string {
  return (r.percentiles ?? []).map((p) => humanNs(p.value)).join(', ');
}

function since(ts: number): string {
  return formatDuration(Math.floor((Date.now() - ts) / 1000) * 1000);
}

function remotePort(addr: string): string {
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(i + 1);
}

export function statsText(nsqd: Nsqd, f: StatsFilter): string {
  const percentiles = nsqd.options.e2eProcessingLatencyPercentiles;
  const lines: string[] = [];
  lines.push(`nsqd v${nsqd.version} (built w/${process.version})`);
  lines.push(`start_time ${new Date(nsqd.startTime).toISOString().replace(/\.\d+Z$/, 'Z')}`);
  lines.push(`uptime ${formatDuration(Date.now() - nsqd.startTime)}`);
  lines.push('');
  lines.push(`Health: ${nsqd.health()}`);
  if (f.includeMem) {
    lines.push('');
    lines.push('Memory:');
    for (const [k, v] of Object.entries(memoryStats())) lines.push(`   ${padR(k, 25)}\t${v}`);
  }
  const topics = selectedTopics(nsqd, f) ?? [];
  lines.push('');
  if (topics.length === 0) {
    lines.push('Topics: None');
  } else {
    lines.push('Topics:');
    for (const t of topics) {
      const chans = selectedChannels(t, f);
      if (f.channel !== undefined && chans.length === 0) continue;
      lines.push('');
      lines.push(
        `${t.paused ? '*P ' : '   '}[${padR(t.name, 15)}] depth: ${padR(t.depth(), 5)} be-depth: ${padR(t.backendDepth(), 5)} msgs: ${padR(t.messageCount, 8)} e2e%: ${e2eList(topicE2e(t, percentiles))}`,
      );
      for (const ch of chans) {
        lines.push(
          `${ch.paused ? '   *P ' : '      '}[${padR(ch.name, 25)}] depth: ${padR(ch.depth(), 5)} be-depth: ${padR(ch.backendDepth(), 5)} inflt: ${padR(ch.inFlightCount(), 4)} def: ${padR(ch.deferredCount(), 4)} re-q: ${padR(ch.requeueCount, 5)} timeout: ${padR(ch.timeoutCount, 5)} msgs: ${padR(ch.messageCount, 8)} e2e%: ${e2eList(channelE2e(ch, percentiles))}`,
        );
        if (!f.includeClients) continue;
        for (const x of ch.consumers()) {
          const c = x as ClientV2;
          const id = `${c.hostname}:${remotePort(c.remoteAddress)} ${c.userAgent}`;
          lines.push(
            `        [V2 ${padR(id, 21)}] state: ${c.state} inflt: ${padR(c.inFlight, 4)} rdy: ${padR(c.rdy, 4)} fin: ${padR(c.finishCount, 8)} re-q: ${padR(c.requeueCount, 8)} msgs: ${padR(c.messageCount, 8)} connected: ${since(c.connectTs)}`,
          );
        }
      }
    }
  }
  if (f.includeClients) {
    const producers = [...nsqd.clients.values()].filter((c) => c.pubCounts.size > 0);
    lines.push('');
    if (producers.length === 0) lines.push('Producers: None');
    else {
      lines.push('Producers:');
      for (const c of producers) {
        const id = `${c.hostname}:${remotePort(c.remoteAddress)} ${c.userAgent}`;
        let total = 0;
        const parts: string[] = [];
        for (const [t, n] of c.pubCounts) {
          total += n;
          parts.push(`${t}=${n}`);
        }
        lines.push(`   [V2 ${padR(id, 21)}] msgs: ${padR(total, 8)} topics: ${parts.join(',')} connected: ${since(c.connectTs)}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** The counters view used by statsd and /metrics (no client details). */
export function statsSnapshot(nsqd: Nsqd, includeMem: boolean): StatsSnapshot {
  const percentiles = nsqd.options.e2eProcessingLatencyPercentiles;
  const topics = nsqd.topics().sort(byName).map((t) => ({
    name: t.name,
    depth: t.depth(),
    backendDepth: t.backendDepth(),
    messageCount: t.messageCount,
    messageBytes: t.messageBytes,
    paused: t.paused,
    e2e: topicE2e(t, percentiles),
    channels: [...t.channels()].sort(byName).map((ch) => ({
      name: ch.name,
      depth: ch.depth(),
      backendDepth: ch.backendDepth(),
      inFlightCount: ch.inFlightCount(),
      deferredCount: ch.deferredCount(),
      messageCount: ch.messageCount,
      requeueCount: ch.requeueCount,
      timeoutCount: ch.timeoutCount,
      clientCount: ch.clientCount(),
      paused: ch.paused,
      e2e: channelE2e(ch, percentiles),
    })),
  }));
  if (!includeMem) return { topics };
  const m = memoryStats();
  return {
    topics,
    memory: {
      heapObjects: m.heap_objects!,
      heapIdleBytes: m.heap_idle_bytes!,
      heapInUseBytes: m.heap_in_use_bytes!,
      heapReleasedBytes: m.heap_released_bytes!,
      gcPauseUsec100: m.gc_pause_usec_100!,
      gcPauseUsec99: m.gc_pause_usec_99!,
      gcPauseUsec95: m.gc_pause_usec_95!,
      nextGcBytes: m.next_gc_bytes!,
      gcTotalRuns: m.gc_total_runs!,
    },
  };
}
