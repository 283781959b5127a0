import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import {
  buildStatsdLines,
  packDatagrams,
  percentileName,
  StatsdReporter,
  statsdPrefix,
  type ChannelStatsSnapshot,
  type StatsSnapshot,
  type TopicStatsSnapshot,
} from '../../src/nsqd/statsd.js';

const NO_E2E = { count: 0, percentiles: null };

function channel(name: string, over: Partial<ChannelStatsSnapshot> = {}): ChannelStatsSnapshot {
  return { name, depth: 0, backendDepth: 0, inFlightCount: 0, deferredCount: 0, messageCount: 0, requeueCount: 0, timeoutCount: 0, clientCount: 0, e2e: NO_E2E, ...over };
}

function topic(name: string, over: Partial<TopicStatsSnapshot> = {}): TopicStatsSnapshot {
  return { name, depth: 0, backendDepth: 0, messageCount: 0, messageBytes: 0, e2e: NO_E2E, channels: [], ...over };
}

const OPTS = { prefix: 'nsq.myhost_example_34151.', memStats: false, excludeEphemeral: false };

test('statsdPrefix', () => {
  assert.equal(statsdPrefix('nsq.%s', 'myhost.example', 34151), 'nsq.myhost_example_34151.');
  assert.equal(statsdPrefix('', 'myhost.example', 34151), '');
  assert.equal(statsdPrefix('foo', 'h', 1), 'foo.');
  assert.equal(statsdPrefix('a.%s.b.%s.', 'h.x', 1), 'a.h_x_1.b.h_x_1.');
  assert.equal(statsdPrefix('nsq.%s', '::1', 4151), 'nsq.[__1]_4151.');
});

test('percentileName rounds like Go %.0f', () => {
  assert.equal(percentileName(0.99), '99');
  assert.equal(percentileName(0.5), '50');
  assert.equal(percentileName(0.999), '100');
  assert.equal(percentileName(1), '100');
  assert.equal(percentileName(0.125), '12'); // exact half → even
  assert.equal(percentileName(0.375), '38');
  assert.equal(percentileName(0.95), '95');
});

test('first push reproduces the captured datagram (original nsqd 1.3.0)', () => {
  const e2e = { count: 0, percentiles: [{ quantile: 0.99, value: 0 }, { quantile: 0.5, value: 0 }] };
  const snap: StatsSnapshot = {
    topics: [topic('st', { messageCount: 2, messageBytes: 5, e2e, channels: [channel('sc', { messageCount: 2, depth: 2, e2e })] })],
  };
  const lines = buildStatsdLines(null, snap, OPTS);
  assert.deepEqual(lines.slice(0, 8), [
    'nsq.myhost_example_34151.topic.st.message_count:2|c',
    'nsq.myhost_example_34151.topic.st.message_bytes:5|c',
    'nsq.myhost_example_34151.topic.st.depth:0|g',
    'nsq.myhost_example_34151.topic.st.backend_depth:0|g',
    'nsq.myhost_example_34151.topic.st.e2e_processing_latency_99:0|g',
    'nsq.myhost_example_34151.topic.st.e2e_processing_latency_50:0|g',
    'nsq.myhost_example_34151.topic.st.channel.sc.message_count:2|c',
    'nsq.myhost_example_34151.topic.st.channel.sc.depth:2|g',
  ]);
  assert.deepEqual(lines.slice(8), [
    'nsq.myhost_example_34151.topic.st.channel.sc.backend_depth:0|g',
    'nsq.myhost_example_34151.topic.st.channel.sc.in_flight_count:0|g',
    'nsq.myhost_example_34151.topic.st.channel.sc.deferred_count:0|g',
    'nsq.myhost_example_34151.topic.st.channel.sc.requeue_count:0|c',
    'nsq.myhost_example_34151.topic.st.channel.sc.timeout_count:0|c',
    'nsq.myhost_example_34151.topic.st.channel.sc.clients:0|g',
    'nsq.myhost_example_34151.topic.st.channel.sc.e2e_processing_latency_99:0|g',
    'nsq.myhost_example_34151.topic.st.channel.sc.e2e_processing_latency_50:0|g',
  ]);
});

test('counters are deltas from the previous snapshot; gauges are current; e2e values truncated', () => {
  const prev: StatsSnapshot = {
    topics: [topic('a', { messageCount: 10, messageBytes: 100, channels: [channel('c', { messageCount: 7, requeueCount: 2, timeoutCount: 1 })] })],
    memory: { heapObjects: 1, heapIdleBytes: 2, heapInUseBytes: 3, heapReleasedBytes: 4, gcPauseUsec100: 5, gcPauseUsec99: 6, gcPauseUsec95: 7, nextGcBytes: 8, gcTotalRuns: 40 },
  };
  const cur: StatsSnapshot = {
    topics: [
      topic('a', {
        messageCount: 15,
        messageBytes: 130,
        depth: 4,
        backendDepth: 3,
        channels: [
          channel('c', { messageCount: 12, requeueCount: 2, timeoutCount: 4, depth: 1, inFlightCount: 2, deferredCount: 3, clientCount: 2, e2e: { count: 3, percentiles: [{ quantile: 1, value: 1234.9 }] } }),
          channel('new', { messageCount: 3 }),
        ],
      }),
      topic('b', { messageCount: 1 }),
    ],
    memory: { heapObjects: 11, heapIdleBytes: 12, heapInUseBytes: 13, heapReleasedBytes: 14, gcPauseUsec100: 15, gcPauseUsec99: 16, gcPauseUsec95: 17, nextGcBytes: 18, gcTotalRuns: 45 },
  };
  const lines = buildStatsdLines(prev, cur, { prefix: '', memStats: true, excludeEphemeral: false });
  assert.deepEqual(lines, [
    'topic.a.message_count:5|c',
    'topic.a.message_bytes:30|c',
    'topic.a.depth:4|g',
    'topic.a.backend_depth:3|g',
    'topic.a.channel.c.message_count:5|c',
    'topic.a.channel.c.depth:1|g',
    'topic.a.channel.c.backend_depth:0|g',
    'topic.a.channel.c.in_flight_count:2|g',
    'topic.a.channel.c.deferred_count:3|g',
    'topic.a.channel.c.requeue_count:0|c',
    'topic.a.channel.c.timeout_count:3|c',
    'topic.a.channel.c.clients:2|g',
    'topic.a.channel.c.e2e_processing_latency_100:1234|g',
    'topic.a.channel.new.message_count:3|c',
    'topic.a.channel.new.depth:0|g',
    'topic.a.channel.new.backend_depth:0|g',
    'topic.a.channel.new.in_flight_count:0|g',
    'topic.a.channel.new.deferred_count:0|g',
    'topic.a.channel.new.requeue_count:0|c',
    'topic.a.channel.new.timeout_count:0|c',
    'topic.a.channel.new.clients:0|g',
    'topic.b.message_count:1|c',
    'topic.b.message_bytes:0|c',
    'topic.b.depth:0|g',
    'topic.b.backend_depth:0|g',
    'mem.heap_objects:11|g',
    'mem.heap_idle_bytes:12|g',
    'mem.heap_in_use_bytes:13|g',
    'mem.heap_released_bytes:14|g',
    'mem.gc_pause_usec_100:15|g',
    'mem.gc_pause_usec_99:16|g',
    'mem.gc_pause_usec_95:17|g',
    'mem.next_gc_bytes:18|g',
    'mem.gc_runs:5|c',
  ]);
});

test('a recreated topic gives a negative counter delta, like upstream', () => {
  const prev: StatsSnapshot = { topics: [topic('a', { messageCount: 10 })] };
  const lines = buildStatsdLines(prev, { topics: [topic('a', { messageCount: 3 })] }, OPTS);
  assert.equal(lines[0], 'nsq.myhost_example_34151.topic.a.message_count:-7|c');
});

test('excludeEphemeral skips #ephemeral topics and channels', () => {
  const snap: StatsSnapshot = {
    topics: [topic('e#ephemeral', { channels: [channel('c')] }), topic('t', { channels: [channel('c#ephemeral'), channel('d')] })],
  };
  const keys = buildStatsdLines(null, snap, { prefix: '', memStats: false, excludeEphemeral: true }).map((l) => l.split(':')[0]);
  assert.ok(keys.every((k) => !k!.includes('#ephemeral')));
  assert.ok(keys.includes('topic.t.channel.d.depth'));
  const all = buildStatsdLines(null, snap, { prefix: '', memStats: false, excludeEphemeral: false });
  assert.ok(all.some((l) => l.startsWith('topic.e#ephemeral.channel.c.depth:')));
});

test('packDatagrams packs greedily by bytes without splitting lines', () => {
  const lines = ['a'.repeat(9), 'b'.repeat(9), 'c'.repeat(4), 'd'.repeat(30), 'e'];
  const d = packDatagrams(lines, 20).map((b) => b.toString());
  assert.deepEqual(d, ['a'.repeat(9) + '\n' + 'b'.repeat(9) + '\n', 'c'.repeat(4) + '\n', 'd'.repeat(30) + '\n', 'e\n']);
  assert.deepEqual(packDatagrams([], 508), []);
  const many = Array.from({ length: 200 }, (_, i) => `nsq.host_4151.topic.t${i}.depth:${i}|g`);
  const packed = packDatagrams(many, 508);
  assert.ok(packed.every((b) => b.length <= 508));
  assert.equal(packed.map((b) => b.toString()).join(''), many.map((l) => l + '\n').join(''));
});

async function udpListener(): Promise<{ sock: dgram.Socket; port: number; received: string[]; waitFor: (pred: () => boolean) => Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const received: string[] = [];
  let check: (() => void) | null = null;
  sock.on('message', (msg) => {
    received.push(msg.toString());
    check?.();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = (sock.address() as AddressInfo).port;
  const waitFor = (pred: () => boolean) =>
    new Promise<void>((resolve) => {
      check = () => {
        if (pred()) {
          check = null;
          resolve();
        }
      };
      check();
    });
  return { sock, port, received, waitFor };
}

test('reporter: ticks, sends datagrams over UDP, counters as deltas between rounds', async () => {
  const l = await udpListener();
  let count = 0;
  const r = new StatsdReporter({
    address: `127.0.0.1:${l.port}`,
    prefix: 'nsq.h_1.',
    intervalMs: 1050,
    udpPacketSize: 508,
    memStats: false,
    excludeEphemeral: false,
    snapshot: () => {
      count += 5;
      return { topics: [topic('t', { messageCount: count, channels: [channel('c', { depth: 1 })] })] };
    },
  });
  r.start();
  await l.waitFor(() => l.received.filter((d) => d.includes('topic.t.message_count')).length >= 2);
  await r.stop();
  l.sock.close();
  const counts = l.received.join('').split('\n').filter((x) => x.includes('topic.t.message_count'));
  assert.deepEqual(counts.slice(0, 2), ['nsq.h_1.topic.t.message_count:5|c', 'nsq.h_1.topic.t.message_count:5|c']);
});

test('reporter: stop() sends the rest of a spread round at once', async () => {
  const l = await udpListener();
  const topics = Array.from({ length: 40 }, (_, i) => topic(`topic${String(i).padStart(2, '0')}`));
  const logs: string[] = [];
  const r = new StatsdReporter({
    address: `127.0.0.1:${l.port}`,
    prefix: '',
    intervalMs: 600_000, // would spread over ~10 minutes
    udpPacketSize: 100,
    memStats: false,
    excludeEphemeral: false,
    snapshot: () => ({ topics }),
    log: { info: (m) => logs.push(m), error: (m) => logs.push(m) },
  });
  const round = r.push();
  await l.waitFor(() => l.received.length >= 1);
  await r.stop();
  await round;
  const expected = buildStatsdLines(null, { topics }, { prefix: '', memStats: false, excludeEphemeral: false });
  await l.waitFor(() => l.received.join('').split('\n').length - 1 >= expected.length);
  l.sock.close();
  assert.deepEqual(l.received.join('').split('\n').slice(0, -1), expected);
  assert.ok(l.received.every((d) => Buffer.byteLength(d) <= 100));
  assert.deepEqual(logs, [`STATSD: pushing stats to 127.0.0.1:${l.port}`]);
});

test('reporter: a bad address is logged and the round skipped', async () => {
  const errors: string[] = [];
  let snapshots = 0;
  const r = new StatsdReporter({
    address: '127.0.0.1:0',
    prefix: '',
    intervalMs: 60_000,
    udpPacketSize: 508,
    memStats: false,
    excludeEphemeral: false,
    snapshot: () => {
      snapshots++;
      return { topics: [] };
    },
    log: { info: () => {}, error: (m) => errors.push(m) },
  });
  await r.push();
  await r.stop();
  assert.deepEqual(errors, ['failed to create UDP socket to statsd(127.0.0.1:0)']);
  assert.equal(snapshots, 0);
});
