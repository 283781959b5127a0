import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectProcessMetrics, escapeLabel, renderPrometheus, type ProcessMetrics } from '../../src/nsqd/prometheus.js';
import type { StatsSnapshot } from '../../src/nsqd/stats-snapshot.js';
import { findSample, parseExposition } from '../helpers/prometheus-parser.js';

const PROC: ProcessMetrics = { residentMemoryBytes: 1e8, heapUsedBytes: 2e7, heapTotalBytes: 3e7, cpuSecondsTotal: 1.25, uptimeSeconds: 42.5, startTimeSeconds: 1700000000 };

const e2e = { count: 7, percentiles: [{ quantile: 0.99, value: 2_500_000 }, { quantile: 0.5, value: 1_000 }] };
const SNAP: StatsSnapshot = {
  topics: [
    {
      name: 'orders',
      depth: 12,
      backendDepth: 2,
      messageCount: 1000,
      messageBytes: 123456,
      paused: true,
      e2e,
      channels: [
        { name: 'archive', depth: 5, backendDepth: 1, inFlightCount: 3, deferredCount: 4, messageCount: 990, requeueCount: 6, timeoutCount: 7, clientCount: 2, e2e },
        { name: 'x#ephemeral', depth: 0, backendDepth: 0, inFlightCount: 0, deferredCount: 0, messageCount: 1, requeueCount: 0, timeoutCount: 0, clientCount: 1, paused: true, e2e: { count: 0, percentiles: null } },
      ],
    },
    { name: 'we"ird\\na\nme', depth: 1, backendDepth: 0, messageCount: 1, messageBytes: 1, e2e: { count: 0, percentiles: null }, channels: [] },
  ],
};

test('output parses strictly and carries the snapshot values', () => {
  const fams = parseExposition(renderPrometheus(SNAP, PROC));
  assert.equal(findSample(fams, 'nsq_topic_depth', { topic: 'orders' }), 12);
  assert.equal(findSample(fams, 'nsq_topic_backend_depth', { topic: 'orders' }), 2);
  assert.equal(findSample(fams, 'nsq_topic_messages_total', { topic: 'orders' }), 1000);
  assert.equal(findSample(fams, 'nsq_topic_message_bytes_total', { topic: 'orders' }), 123456);
  assert.equal(findSample(fams, 'nsq_topic_paused', { topic: 'orders' }), 1);
  const ch = { topic: 'orders', channel: 'archive' };
  assert.equal(findSample(fams, 'nsq_channel_depth', ch), 5);
  assert.equal(findSample(fams, 'nsq_channel_backend_depth', ch), 1);
  assert.equal(findSample(fams, 'nsq_channel_in_flight_messages', ch), 3);
  assert.equal(findSample(fams, 'nsq_channel_deferred_messages', ch), 4);
  assert.equal(findSample(fams, 'nsq_channel_messages_total', ch), 990);
  assert.equal(findSample(fams, 'nsq_channel_requeued_total', ch), 6);
  assert.equal(findSample(fams, 'nsq_channel_timed_out_total', ch), 7);
  assert.equal(findSample(fams, 'nsq_channel_clients', ch), 2);
  assert.equal(findSample(fams, 'nsq_channel_paused', ch), 0);
  assert.equal(findSample(fams, 'nsq_channel_paused', { topic: 'orders', channel: 'x#ephemeral' }), 1);
  assert.equal(findSample(fams, 'nsq_channel_e2e_processing_latency_seconds', { ...ch, quantile: '0.99' }), 0.0025);
  assert.equal(findSample(fams, 'nsq_channel_e2e_processing_latency_seconds', { ...ch, quantile: '0.5' }), 0.000001);
  assert.equal(findSample(fams, 'nsq_channel_e2e_processing_latency_samples', ch), 7);
  assert.equal(findSample(fams, 'nsq_topic_e2e_processing_latency_seconds', { topic: 'orders', quantile: '0.99' }), 0.0025);
  // No percentiles → no e2e samples for that channel/topic.
  assert.equal(findSample(fams, 'nsq_channel_e2e_processing_latency_samples', { topic: 'orders', channel: 'x#ephemeral' }), undefined);
  // Escaped label values round-trip.
  assert.equal(findSample(fams, 'nsq_topic_depth', { topic: 'we"ird\\na\nme' }), 1);
  assert.equal(findSample(fams, 'nsq_process_resident_memory_bytes', {}), 1e8);
  assert.equal(findSample(fams, 'nsq_process_heap_used_bytes', {}), 2e7);
  assert.equal(findSample(fams, 'nsq_process_heap_total_bytes', {}), 3e7);
  assert.equal(findSample(fams, 'nsq_process_cpu_seconds_total', {}), 1.25);
  assert.equal(findSample(fams, 'nsq_process_uptime_seconds', {}), 42.5);
  for (const [name, f] of fams) {
    assert.ok(name.startsWith('nsq_'), name);
    assert.ok(f.help, `${name} has HELP`);
    if (f.type === 'counter') assert.ok(name.endsWith('_total'), name);
  }
});

test('HELP/TYPE precede samples and types are right', () => {
  const text = renderPrometheus(SNAP, PROC);
  const fams = parseExposition(text);
  assert.equal(fams.get('nsq_topic_messages_total')!.type, 'counter');
  assert.equal(fams.get('nsq_channel_depth')!.type, 'gauge');
  assert.equal(fams.get('nsq_process_cpu_seconds_total')!.type, 'counter');
  const lines = text.split('\n');
  const idx = lines.indexOf('# TYPE nsq_topic_depth gauge');
  assert.equal(lines[idx - 1], '# HELP nsq_topic_depth Messages queued in the topic (memory and disk).');
  assert.equal(lines[idx + 1], 'nsq_topic_depth{topic="orders"} 12');
});

test('empty snapshot and live process metrics still parse', () => {
  const fams = parseExposition(renderPrometheus({ topics: [] }));
  assert.ok((findSample(fams, 'nsq_process_resident_memory_bytes', {}) ?? 0) > 0);
  assert.ok((findSample(fams, 'nsq_process_uptime_seconds', {}) ?? -1) >= 0);
  const p = collectProcessMetrics();
  assert.ok(p.heapTotalBytes >= p.heapUsedBytes || p.heapUsedBytes > 0);
});

test('the parser itself rejects malformed input', () => {
  assert.throws(() => parseExposition('nsq_x{topic="a} 1\n'));
  assert.throws(() => parseExposition('# TYPE nsq_x gauge\nnsq_x{topic="a\\q"} 1\n'));
  assert.throws(() => parseExposition('# TYPE nsq_x gauge\nnsq_x 1\n# TYPE nsq_y gauge\nnsq_y 1\nnsq_x 2\n'));
  assert.throws(() => parseExposition('# TYPE nsq_x gauge\nnsq_x abc\n'));
  assert.throws(() => parseExposition('nsq_x 1\n'));
  assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
});
