import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd } from '../helpers/daemons.js';
import { parseExposition, requireSample } from '../helpers/prometheus-parser.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';
import type { TopicStatsJson } from '../../src/nsqd/stats.js';
import { get, getJson, postOk } from './http-helpers.js';
import { createRequire } from 'node:module';
import { sleep } from '../helpers/wait.js';

interface ThirdPartyFamily {
  name: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ThirdPartyFamily[];

// GET /metrics on a live nsqd: a strict Prometheus text-format parse, and every value checked
// against /stats taken at the same quiet moment.

test('/metrics parses strictly and agrees with /stats', async () => {
  const d = await startNsqd(['--mem-queue-size=2', '--e2e-processing-latency-percentile=0.99,0.5', '--msg-timeout=60s']);
  const c = await WireClient.connect(d.tcpPort);
  try {
    // mt: channel c1 with a consumer (1 FIN, 1 deferred REQ, 1 in flight), c2 paused and
    // overflowing to disk; mt2 without channels (backlog on disk); a paused ephemeral topic.
    await postOk(d.httpPort, '/topic/create?topic=mt');
    await postOk(d.httpPort, '/channel/create?topic=mt&channel=c1');
    await postOk(d.httpPort, '/channel/create?topic=mt&channel=c2');
    await postOk(d.httpPort, '/channel/pause?topic=mt&channel=c2');
    c.command('SUB mt c1');
    assert.equal(await c.next(), '0 OK');
    for (let i = 0; i < 10; i++) await postOk(d.httpPort, '/pub?topic=mt', `message ${i}`);
    for (let i = 0; i < 5; i++) await postOk(d.httpPort, '/pub?topic=mt2', 'x');
    await postOk(d.httpPort, '/pub?topic=eph%23ephemeral', 'e');
    await postOk(d.httpPort, '/topic/pause?topic=eph%23ephemeral');
    c.command('RDY 3');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = await c.nextFrame();
      assert.equal(f.type, FRAME_MESSAGE);
      ids.push(parseMessage(f.data).id);
    }
    c.command('RDY 0');
    c.command(`FIN ${ids[0]}`);
    c.command(`REQ ${ids[1]} 600000`);
    c.command('NOP');
    await sleep(100);

    const m = await get(d.httpPort, '/metrics');
    assert.equal(m.status, 200);
    assert.equal(m.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const fams = parseExposition(m.text);
    const stats = await getJson<{ topics: TopicStatsJson[] }>(d.httpPort, '/stats?format=json');
    assert.deepEqual(stats.topics.map((t) => t.topic_name), ['eph#ephemeral', 'mt', 'mt2']);

    // The scenario really produced the interesting values.
    const mt = stats.topics.find((t) => t.topic_name === 'mt')!;
    const c1 = mt.channels.find((x) => x.channel_name === 'c1')!;
    const c2 = mt.channels.find((x) => x.channel_name === 'c2')!;
    assert.deepEqual([c1.in_flight_count, c1.deferred_count, c1.requeue_count, c1.client_count], [1, 1, 1, 1]);
    assert.ok(c2.backend_depth > 0 && c2.paused);
    assert.equal(c1.e2e_processing_latency.count, 1);

    let topicSamples = 0;
    let channelSamples = 0;
    for (const t of stats.topics) {
      const tl = { topic: t.topic_name };
      assert.equal(requireSample(fams, 'nsq_topic_depth', tl), t.depth);
      assert.equal(requireSample(fams, 'nsq_topic_backend_depth', tl), t.backend_depth);
      assert.equal(requireSample(fams, 'nsq_topic_messages_total', tl), t.message_count);
      assert.equal(requireSample(fams, 'nsq_topic_message_bytes_total', tl), t.message_bytes);
      assert.equal(requireSample(fams, 'nsq_topic_paused', tl), t.paused ? 1 : 0);
      topicSamples++;
      for (const p of t.e2e_processing_latency.percentiles ?? []) {
        assert.equal(requireSample(fams, 'nsq_topic_e2e_processing_latency_seconds', { ...tl, quantile: String(p.quantile) }), p.value / 1e9);
      }
      if (t.e2e_processing_latency.percentiles) {
        assert.equal(requireSample(fams, 'nsq_topic_e2e_processing_latency_samples', tl), t.e2e_processing_latency.count);
      }
      for (const ch of t.channels) {
        const cl = { topic: t.topic_name, channel: ch.channel_name };
        assert.equal(requireSample(fams, 'nsq_channel_depth', cl), ch.depth);
        assert.equal(requireSample(fams, 'nsq_channel_backend_depth', cl), ch.backend_depth);
        assert.equal(requireSample(fams, 'nsq_channel_in_flight_messages', cl), ch.in_flight_count);
        assert.equal(requireSample(fams, 'nsq_channel_deferred_messages', cl), ch.deferred_count);
        assert.equal(requireSample(fams, 'nsq_channel_messages_total', cl), ch.message_count);
        assert.equal(requireSample(fams, 'nsq_channel_requeued_total', cl), ch.requeue_count);
        assert.equal(requireSample(fams, 'nsq_channel_timed_out_total', cl), ch.timeout_count);
        assert.equal(requireSample(fams, 'nsq_channel_clients', cl), ch.client_count);
        assert.equal(requireSample(fams, 'nsq_channel_paused', cl), ch.paused ? 1 : 0);
        for (const p of ch.e2e_processing_latency.percentiles ?? []) {
          assert.equal(requireSample(fams, 'nsq_channel_e2e_processing_latency_seconds', { ...cl, quantile: String(p.quantile) }), p.value / 1e9);
        }
        assert.equal(requireSample(fams, 'nsq_channel_e2e_processing_latency_samples', cl), ch.e2e_processing_latency.count);
        channelSamples++;
      }
    }
    // No series beyond what /stats lists.
    assert.equal(fams.get('nsq_topic_depth')!.samples.length, topicSamples);
    assert.equal(fams.get('nsq_channel_depth')!.samples.length, channelSamples);
    assert.equal(fams.get('nsq_topic_messages_total')!.type, 'counter');
    assert.equal(fams.get('nsq_channel_depth')!.type, 'gauge');
    for (const name of ['nsq_process_resident_memory_bytes', 'nsq_process_heap_used_bytes', 'nsq_process_cpu_seconds_total', 'nsq_process_start_time_seconds']) {
      assert.ok(requireSample(fams, name, {}) > 0, name);
    }

    // A third-party parser (the prom2json-compatible one used by dashboards' tooling) reads the
    // same families, types, label sets and values.
    const third = parsePrometheusTextFormat(m.text);
    assert.equal(third.length, fams.size);
    for (const fam of third) {
      const ours = fams.get(fam.name);
      assert.ok(ours !== undefined, fam.name);
      assert.equal(fam.type.toLowerCase(), ours.type, fam.name);
      assert.equal(fam.metrics.length, ours.samples.length, fam.name);
      for (const sample of fam.metrics) {
        assert.equal(Number(sample.value), requireSample(fams, fam.name, sample.labels ?? {}), `${fam.name} ${JSON.stringify(sample.labels)}`);
      }
    }
  } finally {
    c.close();
    await d.stop();
  }
});
