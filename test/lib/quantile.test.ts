import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E2eLatency, LatencyHistogram } from '../../src/lib/quantile.js';

// Deterministic PRNG so failures reproduce.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exactQuantile(sorted: number[], q: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length - 1e-9)));
  return sorted[rank - 1]!;
}

function assertClose(actual: number, expected: number, relTol: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  assert.ok(err <= relTol, `${what}: got ${actual}, expected ${expected} (rel err ${err})`);
}

test('small values are exact; max and min are exact', () => {
  const h = new LatencyHistogram();
  for (let v = 1; v <= 100; v++) h.add(v);
  assert.deepEqual(LatencyHistogram.quantiles([h], [0.5, 0.99, 1, 0.01]), [50, 99, 100, 1]);
});

test('empty histograms give 0 for every quantile', () => {
  assert.deepEqual(LatencyHistogram.quantiles([new LatencyHistogram()], [0.5, 1]), [0, 0]);
});

test('uniform and log-normal distributions within 1/128 relative error', () => {
  const rand = mulberry32(42);
  const qs = [1, 0.999, 0.99, 0.95, 0.5, 0.1];
  const distributions: Array<[string, () => number]> = [
    ['uniform 1µs..10ms', () => 1e3 + Math.floor(rand() * 1e7)],
    [
      'log-normal around 2ms',
      () => {
        const u = 1 - rand();
        const v = rand();
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        return Math.floor(Math.exp(Math.log(2e6) + 1.5 * z));
      },
    ],
    ['huge values (hours)', () => Math.floor(3.6e12 + rand() * 1e13)],
  ];
  for (const [name, gen] of distributions) {
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 50000; i++) {
      const v = gen();
      values.push(v);
      h.add(v);
    }
    values.sort((a, b) => a - b);
    const got = LatencyHistogram.quantiles([h], qs);
    for (const [i, q] of qs.entries()) assertClose(got[i]!, exactQuantile(values, q), 1 / 128, `${name} q=${q}`);
  }
});

test('negative, NaN and oversize samples are clamped, not thrown', () => {
  const h = new LatencyHistogram();
  h.add(-5);
  h.add(Number.NaN);
  h.add(1e300);
  assert.equal(h.count, 3);
  const [min, max] = LatencyHistogram.quantiles([h], [0.01, 1]);
  assert.equal(min, 0);
  assert.equal(max, 2 ** 53 - 1);
});

test('E2eLatency result shape follows the configured (descending) order', () => {
  let now = 1_000_000;
  const e = new E2eLatency(600_000, [1, 0.99, 0.5], () => now);
  assert.deepEqual(e.result(), {
    count: 0,
    percentiles: [
      { quantile: 1, value: 0 },
      { quantile: 0.99, value: 0 },
      { quantile: 0.5, value: 0 },
    ],
  });
  for (let v = 1; v <= 100; v++) e.record(v);
  now += 10;
  assert.deepEqual(e.result(), {
    count: 100,
    percentiles: [
      { quantile: 1, value: 100 },
      { quantile: 0.99, value: 99 },
      { quantile: 0.5, value: 50 },
    ],
  });
});

test('rolling window: a half expires after two half-windows, everything after long idleness', () => {
  let now = 0;
  const e = new E2eLatency(1000, [1], () => now); // halves of 500 ms
  e.record(10);
  now = 400;
  e.record(20);
  assert.equal(e.result().count, 2);
  now = 501; // first move: the old half becomes current and is cleared; data survives
  e.record(30);
  assert.deepEqual(e.result(), { count: 3, percentiles: [{ quantile: 1, value: 30 }] });
  now = 1001; // second move: the half holding 10 and 20 is cleared
  assert.deepEqual(e.result(), { count: 1, percentiles: [{ quantile: 1, value: 30 }] });
  now = 1502;
  assert.deepEqual(e.result(), { count: 0, percentiles: [{ quantile: 1, value: 0 }] });
  e.record(5);
  now = 1_000_000_000; // long idle: catch-up in one step
  assert.equal(e.result().count, 0);
  e.record(7);
  assert.deepEqual(e.result(), { count: 1, percentiles: [{ quantile: 1, value: 7 }] });
});

test('merge combines channels; empty list and no percentiles give null', () => {
  let now = 0;
  const clock = () => now;
  const a = new E2eLatency(60_000, [1, 0.5], clock);
  const b = new E2eLatency(60_000, [1, 0.5], clock);
  for (let v = 1; v <= 50; v++) a.record(v);
  for (let v = 51; v <= 100; v++) b.record(v);
  now = 100;
  assert.deepEqual(E2eLatency.merge([a, b], [1, 0.5]), {
    count: 100,
    percentiles: [
      { quantile: 1, value: 100 },
      { quantile: 0.5, value: 50 },
    ],
  });
  assert.deepEqual(E2eLatency.merge([], [1]), { count: 0, percentiles: null });
  assert.deepEqual(E2eLatency.merge([a], []), { count: 0, percentiles: null });
  // merging does not disturb the sources
  assert.equal(a.result().count, 50);
});
