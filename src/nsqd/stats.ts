import { PerformanceObserver, performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import { formatDuration } from '../lib/duration.js';
import { E2eLatency, type E2eResult } from '../lib/quantile.js';
import type { CorruptionTally } from '../diskqueue/corruption-tally.js';
import type { Channel } from './channel.js';
import type { ClientV2 } from './client-v2.js';
import type { StatsSnapshot } from './stats-snapshot.js';
import type { StatsSource } from './stats-source.js';
import type { Topic } from './topic.js';

// /stats (upstream `nsqd/http.go` doStats, `nsqd/stats.go`): one collection pass builds the JSON objects in the original's key
// order; the text layout is rendered from those same objects (as upstream prints its stats
// structs), so both formats always agree. Built on demand; nothing is kept per request.

/** The /stats query: `topic`/`channel` select (undefined or '' = all), the flags drop sections. */
export interface StatsFilter {
  topic?: string;
  channel?: string;
  includeClients: boolean;
  includeMem: boolean;
}

/** One client object of /stats (consumer in `clients`, publisher in `producers`), upstream key order. */
export interface ClientStatsJson {
  client_id: string;
  hostname: string;
  version: 'V2';
  remote_address: string;
  state: number;
  ready_count: number;
  in_flight_count: number;
  message_count: number;
  finish_count: number;
  requeue_count: number;
  connect_ts: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  user_agent: string;
  authed?: boolean;
  auth_identity?: string;
  auth_identity_url?: string;
  topology_zone: string;
  topology_region: string;
  pub_counts?: Array<{ topic: string; count: number }>;
  tls: boolean;
  tls_cipher_suite: string;
  tls_version: string;
  tls_negotiated_protocol: string;
  tls_negotiated_protocol_is_mutual: boolean;
}

/** One channel object of /stats, upstream key order. */
export interface ChannelStatsJson {
  channel_name: string;
  depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  requeue_count: number;
  timeout_count: number;
  client_count: number;
  clients: ClientStatsJson[] | null;
  paused: boolean;
  e2e_processing_latency: E2eResult;
  /** Extension (--disk-checksums only): damaged disk-queue bytes skipped since start. */
  disk_corrupt_bytes?: number;
}

/** One topic object of /stats, upstream key order. */
export interface TopicStatsJson {
  topic_name: string;
  channels: ChannelStatsJson[];
  depth: number;
  backend_depth: number;
  message_count: number;
  message_bytes: number;
  paused: boolean;
  e2e_processing_latency: E2eResult;
  /** Extension (--disk-checksums only): damaged disk-queue bytes skipped since start. */
  disk_corrupt_bytes?: number;
}

/** The `memory` object (Go runtime names, filled from V8; docs/compatibility.md). */
export interface MemoryStatsJson {
  heap_objects: number;
  heap_idle_bytes: number;
  heap_in_use_bytes: number;
  heap_released_bytes: number;
  gc_pause_usec_100: number;
  gc_pause_usec_99: number;
  gc_pause_usec_95: number;
  next_gc_bytes: number;
  gc_total_runs: number;
}

/** The whole `/stats?format=json` reply, upstream key order. */
export interface StatsJson {
  version: string;
  health: string;
  start_time: number;
  topics: TopicStatsJson[] | null;
  memory?: MemoryStatsJson;
  producers: ClientStatsJson[] | null;
}

const tlsVersionName: Record<string, string> = { TLSv1: 'TLS1.0', 'TLSv1.1': 'TLS1.1', 'TLSv1.2': 'TLS1.2', 'TLSv1.3': 'TLS1.3' };

/**
 * One connection's stats object. `topicFilter` is the `?topic=` value: upstream reports at most one
 * pub_counts entry, that topic's when filtered, else the first topic the connection published to.
 */
export function clientStats(c: ClientV2, topicFilter?: string): ClientStatsJson {
  const s = {
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
  } as ClientStatsJson;
  if (c.auth !== null && c.auth.authorizations.length > 0) {
    s.authed = true;
    if (c.auth.identity) s.auth_identity = c.auth.identity;
    if (c.auth.identityUrl) s.auth_identity_url = c.auth.identityUrl;
  }
  s.topology_zone = c.topologyZone;
  s.topology_region = c.topologyRegion;
  if (topicFilter !== undefined && topicFilter !== '') {
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
  // Go (since 1.16) always reports true for a TLS connection: the field is deprecated.
  s.tls_negotiated_protocol_is_mutual = t !== null;
  return s;
}

function channelE2e(ch: Channel, percentiles: readonly number[]): E2eResult {
  if (percentiles.length === 0 || ch.e2e === null) return { count: 0, percentiles: null };
  return ch.e2e.result();
}

/** A topic's latency merges all of its channels, whatever the `channel` filter says (as upstream). */
function topicE2e(t: Topic, percentiles: readonly number[]): E2eResult {
  const list = t.channels().map((c) => c.e2e).filter((x): x is E2eLatency => x !== null);
  return E2eLatency.merge(list, percentiles);
}

function channelStats(ch: Channel, f: StatsFilter, percentiles: readonly number[], tally: CorruptionTally | null): ChannelStatsJson {
  const s = {
    channel_name: ch.name,
    depth: ch.depth(),
    backend_depth: ch.backendDepth(),
    in_flight_count: ch.inFlightCount(),
    deferred_count: ch.deferredCount(),
    message_count: ch.messageCount,
  } as ChannelStatsJson;
  // omitempty upstream: absent while 0.
  if (ch.zoneLocalMsgCount !== 0) s.zone_local_msg_count = ch.zoneLocalMsgCount;
  if (ch.regionLocalMsgCount !== 0) s.region_local_msg_count = ch.regionLocalMsgCount;
  if (ch.globalMsgCount !== 0) s.global_msg_count = ch.globalMsgCount;
  s.requeue_count = ch.requeueCount;
  s.timeout_count = ch.timeoutCount;
  s.client_count = ch.clientCount();
  s.clients = f.includeClients ? ch.consumers().map((c) => clientStats(c as ClientV2, f.topic)) : null;
  s.paused = ch.paused;
  s.e2e_processing_latency = channelE2e(ch, percentiles);
  // --disk-checksums only (docs/disk-format.md), after the original's keys.
  if (tally !== null) s.disk_corrupt_bytes = tally.get(`${ch.topicName}:${ch.name}`);
  return s;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// ---- memory ---------------------------------------------------------------------------------

const GC_PAUSE_RING = 256;

/**
 * GC runs and the last 256 pause times, the figures Go keeps in MemStats. The observer does not
 * keep the process alive and costs one callback per GC.
 */
class GcTracker {
  readonly #pausesNs = new Float64Array(GC_PAUSE_RING);
  #runs = 0;

  constructor() {
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.#pausesNs[this.#runs % GC_PAUSE_RING] = e.duration * 1e6;
        this.#runs++;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  }

  get runs(): number {
    return this.#runs;
  }

  /** Upstream's percentile(): sorted pauses, index floor(p/100·n + 0.5) clamped, in whole µs. */
  pauseUsec(perc: number): number {
    const n = Math.min(this.#runs, GC_PAUSE_RING);
    if (n === 0) return 0;
    const sorted = this.#pausesNs.slice(0, n).sort();
    const i = Math.min(Math.floor((perc / 100) * n + 0.5), n - 1);
    return Math.floor(sorted[i]! / 1000);
  }
}

// Started when nsqd loads this module, so run counts and pauses cover (almost) the whole process.
const gcTracker = new GcTracker();

/** Go runtime figures mapped from V8 where there is a counterpart, 0 otherwise (docs/compatibility.md). */
export function memoryStats(): MemoryStatsJson {
  const gc = gcTracker;
  const h = v8.getHeapStatistics();
  return {
    heap_objects: 0,
    heap_idle_bytes: Math.max(0, h.total_heap_size - h.used_heap_size),
    heap_in_use_bytes: h.used_heap_size,
    heap_released_bytes: 0,
    gc_pause_usec_100: gc.pauseUsec(100),
    gc_pause_usec_99: gc.pauseUsec(99),
    gc_pause_usec_95: gc.pauseUsec(95),
    next_gc_bytes: h.total_heap_size,
    gc_total_runs: gc.runs,
  };
}

// ---- collection -----------------------------------------------------------------------------

/**
 * The /stats object. Mirrors upstream GetStats: an unknown `?topic=` returns before anything else
 * is collected (topics and producers both null); topics lacking the `?channel=` are omitted;
 * producers are every publishing connection, not filtered by topic.
 */
export function statsJson(nsqd: StatsSource, f: StatsFilter): StatsJson {
  const percentiles = nsqd.options.e2eProcessingLatencyPercentiles;
  const tally = nsqd.options.diskChecksums ? nsqd.corruptionTally : null;
  const filtered = f.topic !== undefined && f.topic !== '';
  const only = filtered ? nsqd.getExistingTopic(f.topic!) : undefined;
  const known = !filtered || only !== undefined;
  let topicList: TopicStatsJson[] | null = null;
  if (known) {
    const topics = only !== undefined ? [only] : nsqd.topics().sort(byName);
    topicList = [];
    for (const t of topics) {
      let chans = [...t.channels()];
      if (f.channel !== undefined && f.channel !== '') {
        chans = chans.filter((c) => c.name === f.channel);
        if (chans.length === 0) continue;
      } else {
        chans.sort(byName);
      }
      const tj: TopicStatsJson = {
        topic_name: t.name,
        channels: chans.map((c) => channelStats(c, f, percentiles, tally)),
        depth: t.depth(),
        backend_depth: t.backendDepth(),
        message_count: t.messageCount,
        message_bytes: t.messageBytes,
        paused: t.paused,
        e2e_processing_latency: topicE2e(t, percentiles),
      };
      if (tally !== null) tj.disk_corrupt_bytes = tally.get(t.name);
      topicList.push(tj);
    }
  }
  let producers: ClientStatsJson[] | null = null;
  if (known && f.includeClients) {
    for (const c of nsqd.clients.values()) {
      if (c.pubCounts.size === 0) continue;
      (producers ??= []).push(clientStats(c, f.topic));
    }
  }
  const head = { version: nsqd.version, health: nsqd.health(), start_time: Math.floor(nsqd.startTime / 1000), topics: topicList };
  // Key order is part of the contract: memory (when included) sits between topics and producers.
  return f.includeMem ? { ...head, memory: memoryStats(), producers } : { ...head, producers };
}

// ---- text format ----------------------------------------------------------------------------

const padR = (s: string | number, n: number) => String(s).padEnd(n);

/** Upstream's NanoSecondToHuman. */
function humanNs(ns: number): string {
  if (ns > 1e9) return `${(ns / 1e9).toFixed(1)}s`;
  if (ns > 1e6) return `${(ns / 1e6).toFixed(1)}ms`;
  if (ns > 1e3) return `${(ns / 1e3).toFixed(1)}us`;
  return `${ns.toFixed(1)}ns`;
}

function e2eList(r: E2eResult): string {
  return (r.percentiles ?? []).map((p) => humanNs(p.value)).join(', ');
}

function remotePort(addr: string): string {
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(i + 1);
}

/** Go's time.Format(time.RFC3339) in the local zone. */
function rfc3339Local(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${zone}`;
}

/**
 * Upstream ClientStats.String(): a connection with pub_counts prints as a producer (even inside a
 * channel's client list), anything else as a consumer; `connected` is truncated to seconds.
 */
function clientLine(c: ClientStatsJson, nowMs: number): string {
  const connected = formatDuration(Math.max(0, Math.floor(nowMs / 1000) - c.connect_ts) * 1000);
  const id = `${c.hostname}:${remotePort(c.remote_address)} ${c.user_agent}`;
  if (c.pub_counts !== undefined && c.pub_counts.length > 0) {
    let total = 0;
    const parts: string[] = [];
    for (const p of c.pub_counts) {
      total += p.count;
      parts.push(`${p.topic}=${p.count}`);
    }
    return `[V2 ${padR(id, 21)}] msgs: ${padR(total, 8)} topics: ${parts.join(',')} connected: ${connected}`;
  }
  return `[V2 ${padR(id, 21)}] state: ${c.state} inflt: ${padR(c.in_flight_count, 4)} rdy: ${padR(c.ready_count, 4)} fin: ${padR(c.finish_count, 8)} re-q: ${padR(c.requeue_count, 8)} msgs: ${padR(c.message_count, 8)} connected: ${connected}`;
}

/** The default (text) /stats layout, upstream printStats byte for byte apart from the build line. */
export function statsText(nsqd: StatsSource, f: StatsFilter): string {
  const s = statsJson(nsqd, f);
  const now = Date.now();
  let w = `nsqd v${s.version} (built w/${process.version})\n`;
  w += `start_time ${rfc3339Local(nsqd.startTime)}\n`;
  // sub-millisecond precision, like Go's time.Since
  w += `uptime ${formatDuration(performance.timeOrigin + performance.now() - nsqd.startTime)}\n`;
  w += `\nHealth: ${s.health}\n`;
  if (s.memory !== undefined) {
    w += '\nMemory:\n';
    for (const [k, v] of Object.entries(s.memory)) w += `   ${padR(k, 25)}\t${v}\n`;
  }
  const topics = s.topics ?? [];
  w += topics.length === 0 ? '\nTopics: None\n' : '\nTopics:';
  for (const t of topics) {
    w += `\n${t.paused ? '*P ' : '   '}[${padR(t.topic_name, 15)}] depth: ${padR(t.depth, 5)} be-depth: ${padR(t.backend_depth, 5)} msgs: ${padR(t.message_count, 8)} e2e%: ${e2eList(t.e2e_processing_latency)}\n`;
    for (const c of t.channels) {
      w += `${c.paused ? '   *P ' : '      '}[${padR(c.channel_name, 25)}] depth: ${padR(c.depth, 5)} be-depth: ${padR(c.backend_depth, 5)} inflt: ${padR(c.in_flight_count, 4)} def: ${padR(c.deferred_count, 4)} re-q: ${padR(c.requeue_count, 5)} timeout: ${padR(c.timeout_count, 5)} msgs: ${padR(c.message_count, 8)} e2e%: ${e2eList(c.e2e_processing_latency)}\n`;
      for (const cl of c.clients ?? []) w += `        ${clientLine(cl, now)}\n`;
    }
  }
  const producers = s.producers ?? [];
  if (producers.length === 0) {
    w += '\nProducers: None\n';
  } else {
    w += '\nProducers:\n';
    for (const p of producers) w += `   ${clientLine(p, now)}\n`;
  }
  return w;
}
/** The counters view used by statsd and /metrics (no client details). */
export function statsSnapshot(nsqd: StatsSource, includeMem: boolean): StatsSnapshot {
  const percentiles = nsqd.options.e2eProcessingLatencyPercentiles;
  const tally = nsqd.options.diskChecksums ? nsqd.corruptionTally : null;
  const topics = nsqd.topics().sort(byName).map((t) => ({
    name: t.name,
    depth: t.depth(),
    backendDepth: t.backendDepth(),
    messageCount: t.messageCount,
    messageBytes: t.messageBytes,
    paused: t.paused,
    rejectedCount: t.rejectedCount,
    droppedCount: t.droppedCount,
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
      deadLetteredCount: ch.deadLetteredCount,
      expiredCount: ch.expiredCount,
      droppedCount: ch.droppedCount,
      ...(tally !== null && { diskCorruptBytes: tally.get(`${t.name}:${ch.name}`) }),
      e2e: channelE2e(ch, percentiles),
    })),
    ...(tally !== null && { diskCorruptBytes: tally.get(t.name) }),
  }));
  const disk = tally !== null ? { diskChecksums: true } : {};
  if (!includeMem) return { topics, ...disk };
  const m = memoryStats();
  return {
    topics,
    ...disk,
    memory: {
      heapObjects: m.heap_objects,
      heapIdleBytes: m.heap_idle_bytes,
      heapInUseBytes: m.heap_in_use_bytes,
      heapReleasedBytes: m.heap_released_bytes,
      gcPauseUsec100: m.gc_pause_usec_100,
      gcPauseUsec99: m.gc_pause_usec_99,
      gcPauseUsec95: m.gc_pause_usec_95,
      nextGcBytes: m.next_gc_bytes,
      gcTotalRuns: m.gc_total_runs,
    },
  };
}
