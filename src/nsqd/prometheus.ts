// Prometheus text exposition (format 0.0.4) of nsqd's stats: a view on the same snapshot statsd
// uses, plus process figures. Not in upstream 1.3.0; names follow Prometheus conventions
// (`nsq_` prefix, base units, `_total` counters).
import type { ChannelStatsSnapshot, StatsSnapshot, TopicStatsSnapshot } from './stats-snapshot.js';
import type { E2eResult } from '../lib/quantile.js';

/** The Content-Type to serve renderPrometheus output with. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Process-level figures rendered alongside the queue metrics. */
export interface ProcessMetrics {
  residentMemoryBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  cpuSecondsTotal: number;
  uptimeSeconds: number;
  startTimeSeconds: number;
}

/** Reads this process's figures. */
export function collectProcessMetrics(): ProcessMetrics {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const uptime = process.uptime();
  return {
    residentMemoryBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    cpuSecondsTotal: (cpu.user + cpu.system) / 1e6,
    uptimeSeconds: uptime,
    startTimeSeconds: Math.round(Date.now() / 1000 - uptime),
  };
}

type MetricType = 'gauge' | 'counter';

interface Family<T> {
  name: string;
  type: MetricType;
  help: string;
  value: (item: T) => number;
  /** Rendered only while --disk-checksums is on (docs/disk-format.md). */
  diskChecksumsOnly?: boolean;
}

const TOPIC_FAMILIES: Family<TopicStatsSnapshot>[] = [
  { name: 'nsq_topic_depth', type: 'gauge', help: 'Messages queued in the topic (memory and disk).', value: (t) => t.depth },
  { name: 'nsq_topic_backend_depth', type: 'gauge', help: 'Messages queued in the topic on disk.', value: (t) => t.backendDepth },
  { name: 'nsq_topic_messages_total', type: 'counter', help: 'Messages published to the topic.', value: (t) => t.messageCount },
  { name: 'nsq_topic_message_bytes_total', type: 'counter', help: 'Message body bytes published to the topic.', value: (t) => t.messageBytes },
  { name: 'nsq_topic_paused', type: 'gauge', help: 'Whether the topic is paused (1) or not (0).', value: (t) => (t.paused ? 1 : 0) },
  // Queue extensions (docs/extensions.md).
  { name: 'nsq_topic_rejected_total', type: 'counter', help: 'Publishes refused because the topic was full or nsqd was draining.', value: (t) => t.rejectedCount ?? 0 },
  { name: 'nsq_topic_dropped_total', type: 'counter', help: 'Oldest topic messages dropped by the drop-oldest depth policy.', value: (t) => t.droppedCount ?? 0 },
  { name: 'nsq_topic_disk_corrupt_bytes_total', type: 'counter', help: 'Damaged disk-queue bytes skipped or truncated away (checksummed segments).', value: (t) => t.diskCorruptBytes ?? 0, diskChecksumsOnly: true },
];

const CHANNEL_FAMILIES: Family<ChannelStatsSnapshot>[] = [
  { name: 'nsq_channel_depth', type: 'gauge', help: 'Messages queued in the channel (memory and disk).', value: (c) => c.depth },
  { name: 'nsq_channel_backend_depth', type: 'gauge', help: 'Messages queued in the channel on disk.', value: (c) => c.backendDepth },
  { name: 'nsq_channel_in_flight_messages', type: 'gauge', help: 'Messages sent to clients and not yet finished.', value: (c) => c.inFlightCount },
  { name: 'nsq_channel_deferred_messages', type: 'gauge', help: 'Messages waiting for their deferral to expire.', value: (c) => c.deferredCount },
  { name: 'nsq_channel_messages_total', type: 'counter', help: 'Messages that entered the channel.', value: (c) => c.messageCount },
  { name: 'nsq_channel_requeued_total', type: 'counter', help: 'Messages requeued by clients.', value: (c) => c.requeueCount },
  { name: 'nsq_channel_timed_out_total', type: 'counter', help: 'In-flight messages that timed out.', value: (c) => c.timeoutCount },
  { name: 'nsq_channel_clients', type: 'gauge', help: 'Clients subscribed to the channel.', value: (c) => c.clientCount },
  { name: 'nsq_channel_paused', type: 'gauge', help: 'Whether the channel is paused (1) or not (0).', value: (c) => (c.paused ? 1 : 0) },
  // Queue extensions (docs/extensions.md).
  { name: 'nsq_channel_dead_lettered_total', type: 'counter', help: 'Messages moved to the dead-letter topic after max attempts.', value: (c) => c.deadLetteredCount ?? 0 },
  { name: 'nsq_channel_expired_total', type: 'counter', help: 'Messages dropped at delivery time because older than the TTL.', value: (c) => c.expiredCount ?? 0 },
  { name: 'nsq_channel_dropped_total', type: 'counter', help: 'Oldest channel messages dropped by the drop-oldest depth policy.', value: (c) => c.droppedCount ?? 0 },
  { name: 'nsq_channel_disk_corrupt_bytes_total', type: 'counter', help: 'Damaged disk-queue bytes skipped or truncated away (checksummed segments).', value: (c) => c.diskCorruptBytes ?? 0, diskChecksumsOnly: true },
];

/**
 * Renders the snapshot and process figures in the Prometheus text format: HELP and TYPE for every
 * family, each family's samples together, labels `topic`, `channel` and `quantile` escaped.
 */
export function renderPrometheus(snapshot: StatsSnapshot, proc: ProcessMetrics = collectProcessMetrics()): string {
  const out: string[] = [];
  const topics = snapshot.topics;

  for (const f of TOPIC_FAMILIES) {
    if (f.diskChecksumsOnly === true && snapshot.diskChecksums !== true) continue;
    header(out, f.name, f.type, f.help);
    for (const t of topics) out.push(`${f.name}{topic="${escapeLabel(t.name)}"} ${num(f.value(t))}`);
  }
  e2eFamilies(out, 'nsq_topic', topics.map((t) => [`topic="${escapeLabel(t.name)}"`, t.e2e]));

  const channels: Array<[string, ChannelStatsSnapshot]> = [];
  for (const t of topics) for (const c of t.channels) channels.push([`topic="${escapeLabel(t.name)}",channel="${escapeLabel(c.name)}"`, c]);
  for (const f of CHANNEL_FAMILIES) {
    if (f.diskChecksumsOnly === true && snapshot.diskChecksums !== true) continue;
    header(out, f.name, f.type, f.help);
    for (const [labels, c] of channels) out.push(`${f.name}{${labels}} ${num(f.value(c))}`);
  }
  e2eFamilies(out, 'nsq_channel', channels.map(([labels, c]) => [labels, c.e2e]));

  const processFamilies: Array<[string, MetricType, string, number]> = [
    ['nsq_process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', proc.residentMemoryBytes],
    ['nsq_process_heap_used_bytes', 'gauge', 'V8 heap in use, in bytes.', proc.heapUsedBytes],
    ['nsq_process_heap_total_bytes', 'gauge', 'V8 heap allocated, in bytes.', proc.heapTotalBytes],
    ['nsq_process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', proc.cpuSecondsTotal],
    ['nsq_process_uptime_seconds', 'gauge', 'Seconds since the process started.', proc.uptimeSeconds],
    ['nsq_process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.', proc.startTimeSeconds],
  ];
  for (const [name, type, help, value] of processFamilies) {
    header(out, name, type, help);
    out.push(`${name} ${num(value)}`);
  }
  return out.join('\n') + '\n';
}

// The rolling e2e window is not monotonic, so quantiles and sample count are gauges rather than
// a Prometheus summary (whose _count must only grow).
function e2eFamilies(out: string[], prefix: string, items: Array<[string, E2eResult]>): void {
  const q = `${prefix}_e2e_processing_latency_seconds`;
  header(out, q, 'gauge', 'End-to-end processing latency quantiles over the rolling window, in seconds.');
  for (const [labels, e2e] of items) {
    for (const p of e2e.percentiles ?? []) out.push(`${q}{${labels},quantile="${num(p.quantile)}"} ${num(p.value / 1e9)}`);
  }
  const n = `${prefix}_e2e_processing_latency_samples`;
  header(out, n, 'gauge', 'Finished messages in the end-to-end latency rolling window.');
  for (const [labels, e2e] of items) if (e2e.percentiles) out.push(`${n}{${labels}} ${num(e2e.count)}`);
}

function header(out: string[], name: string, type: MetricType, help: string): void {
  out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
