import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterTotal, latestPoint, nextCounterDelay, toChartColumns, type TimeseriesPoint } from '../../src/nsqadmin/ui/src/lib/series.js';

function point(t: number, rate: number, depth: number): TimeseriesPoint {
  return { t, rate, depth, in_flight: 0, deferred: 0, requeued: 0, timed_out: 0, message_count: 0 };
}

test('timeseries points become uPlot columns with x in seconds', () => {
  const cols = toChartColumns([point(2000, 1.5, 10), point(4000, 3, 7)]);
  assert.deepEqual(cols, { t: [2, 4], rate: [1.5, 3], depth: [10, 7] });
});

test('malformed samples are dropped or zeroed, never drawn as NaN', () => {
  const bad = { ...point(6000, Number.NaN, Number.NaN) };
  const cols = toChartColumns([point(Number.NaN, 1, 1), bad]);
  assert.deepEqual(cols, { t: [6], rate: [0], depth: [0] });
});

test('topic and cluster depth include the channels\' backlog', () => {
  const cols = toChartColumns([{ ...point(2000, 1, 3), channel_depth: 40 }, point(4000, 1, 5)]);
  assert.deepEqual(cols.depth, [43, 5]);
});

test('latest point is the newest sample, undefined before the first', () => {
  assert.equal(latestPoint([]), undefined);
  assert.equal(latestPoint([point(1, 1, 1), point(2, 2, 2)])?.t, 2);
});

test('the counter sums every channel on every node', () => {
  const stats = {
    't:c1:127.0.0.1:4151': { node: '127.0.0.1:4151', topic_name: 't', channel_name: 'c1', message_count: 5 },
    't:c2:127.0.0.1:4151': { node: '127.0.0.1:4151', topic_name: 't', channel_name: 'c2', message_count: 7 },
  };
  assert.equal(counterTotal(stats), 12);
  assert.equal(counterTotal({}), 0);
  assert.equal(counterTotal(null), 0);
});

test('the counter polls faster first, then backs off to the cap', () => {
  assert.equal(nextCounterDelay(100, 10_000), 1100);
  assert.equal(nextCounterDelay(9500, 10_000), 10_000);
  assert.equal(nextCounterDelay(100, 2000), 1100);
  assert.equal(nextCounterDelay(1100, 2000), 2000);
});
