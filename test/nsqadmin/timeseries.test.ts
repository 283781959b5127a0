/** The live-chart ring buffers and rates (src/nsqadmin/timeseries.ts), without I/O. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeSamples, seriesKey, TimeSeries, type NodeSample } from '../../src/nsqadmin/timeseries.js';

function sample(node: string, key: string, message_count: number, depth = 0): NodeSample {
  return { node, key, depth, channel_depth: 0, in_flight: 0, deferred: 0, requeued: 0, timed_out: 0, message_count };
}

describe('TimeSeries', () => {
  it('has no points before the first sample and unknown series stay empty', () => {
    const ts = new TimeSeries(1000);
    assert.deepEqual(ts.points(''), []);
    ts.ingest(1000, [sample('a', 't', 5)]);
    assert.deepEqual(ts.points('nope'), []);
    assert.equal(ts.points('t').length, 1);
  });

  it('sums nodes and computes the rate from per-node increases', () => {
    const ts = new TimeSeries(2000);
    ts.ingest(0, [sample('a', 't', 10, 1), sample('b', 't', 100, 2)]);
    ts.ingest(2000, [sample('a', 't', 20, 3), sample('b', 't', 110, 4)]);
    const pts = ts.points('t');
    assert.deepEqual(pts[0], { t: 0, depth: 3, channel_depth: 0, in_flight: 0, deferred: 0, requeued: 0, timed_out: 0, message_count: 110, rate: 0 });
    assert.equal(pts[1]!.message_count, 130);
    assert.equal(pts[1]!.depth, 7);
    assert.equal(pts[1]!.rate, 10); // (10 + 10) messages in 2 s
  });

  it('a node missing from one sample is no burst when it comes back; a restart counts from zero', () => {
    const ts = new TimeSeries(1000);
    ts.ingest(0, [sample('a', 't', 100), sample('b', 't', 100)]);
    ts.ingest(1000, [sample('a', 't', 110)]); // b did not answer
    ts.ingest(2000, [sample('a', 't', 120), sample('b', 't', 130)]); // b back: no previous count, no delta
    ts.ingest(3000, [sample('a', 't', 130), sample('b', 't', 5)]); // b restarted
    assert.deepEqual(ts.points('t').map((p) => p.rate), [0, 10, 10, 15]);
  });

  it('keeps only the window and forgets series that stopped', () => {
    const ts = new TimeSeries(1000, 5000);
    for (let i = 0; i < 12; i++) ts.ingest(i * 1000, i < 3 ? [sample('a', 'old', i), sample('a', 'live', i)] : [sample('a', 'live', i)]);
    const live = ts.points('live');
    assert.equal(live.length, 5);
    assert.deepEqual(live.map((p) => p.t), [7000, 8000, 9000, 10000, 11000]);
    assert.deepEqual(ts.points('old'), []);
    assert.equal(ts.points('').length, 5); // the all-topics series always exists
  });
});

describe('nodeSamples', () => {
  it('derives topic rows from their channels and an all-topics row', () => {
    const rows = nodeSamples('n1', [
      {
        topic_name: 't',
        depth: 4,
        message_count: 9,
        channels: [
          { channel_name: 'c1', depth: 1, in_flight_count: 2, deferred_count: 3, requeue_count: 4, timeout_count: 5, message_count: 9 },
          { channel_name: 'c2', depth: 0, in_flight_count: 1, deferred_count: 0, requeue_count: 0, timeout_count: 1, message_count: 9 },
        ],
      },
      { topic_name: 'u', depth: 1, message_count: 1, channels: null },
    ]);
    const byKey = new Map(rows.map((r) => [r.key, r]));
    assert.deepEqual(byKey.get('t/c1'), { node: 'n1', key: 't/c1', depth: 1, channel_depth: 0, in_flight: 2, deferred: 3, requeued: 4, timed_out: 5, message_count: 9 });
    assert.deepEqual(byKey.get('t'), { node: 'n1', key: 't', depth: 4, channel_depth: 1, in_flight: 3, deferred: 3, requeued: 4, timed_out: 6, message_count: 9 });
    assert.deepEqual(byKey.get(''), { node: 'n1', key: '', depth: 5, channel_depth: 1, in_flight: 3, deferred: 3, requeued: 4, timed_out: 6, message_count: 10 });
  });

  it('series keys', () => {
    assert.equal(seriesKey(), '');
    assert.equal(seriesKey('t'), 't');
    assert.equal(seriesKey('t', 'c'), 't/c');
    assert.equal(seriesKey('', 'c'), '');
  });
});
