import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostPool, RoundRobin } from '../../src/apps/lib/host-pool.js';
import { percentile, TimerMetrics } from '../../src/apps/lib/timer-metrics.js';
import { applyJsonFilter, filtersEnabled } from '../../src/apps/lib/json-filter.js';

test('round-robin: nsq_to_http pre-increments, nsq_to_nsq does not', () => {
  const a = new RoundRobin(['a', 'b', 'c'], true);
  assert.deepEqual([a.next(), a.next(), a.next(), a.next()], ['b', 'c', 'a', 'b']);
  const b = new RoundRobin(['a', 'b'], false);
  assert.deepEqual([b.next(), b.next(), b.next()], ['a', 'b', 'a']);
  assert.throws(() => new RoundRobin([], true), RangeError);
  assert.throws(() => new HostPool([]), RangeError);
});

test('host pool skips failed hosts until their retry time, doubling the delay', () => {
  let now = 0;
  const p = new HostPool(['a', 'b'], () => now);
  assert.equal(p.get(), 'a');
  p.mark('a', false);
  assert.deepEqual([p.get(), p.get(), p.get()], ['b', 'b', 'b']);
  now = 30_000;
  assert.equal(p.get(), 'a'); // due for retry
  p.mark('a', false); // delay doubles to 60 s
  now = 60_000;
  assert.equal(p.get(), 'b');
  assert.equal(p.get(), 'b');
  now = 90_000;
  assert.equal(p.get(), 'a');
  p.mark('a', true);
  assert.deepEqual([p.get(), p.get()], ['b', 'a']);
  // all down: revived rather than stalled
  p.mark('a', false);
  p.mark('b', false);
  assert.ok(['a', 'b'].includes(p.get()));
});

test('timer metrics: percentile index and status line', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(99, sorted), 100);
  assert.equal(percentile(95, sorted), 97);
  assert.equal(percentile(95, []), 0);
  const lines: string[] = [];
  const m = new TimerMetrics(4, '[aggregate]:', (l) => lines.push(l));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^Warning: use more than 100 status values/);
  for (const ms of [1, 2, 3, 4]) m.statusDuration(ms);
  assert.equal(lines[1], '[aggregate]: finished 4 - 99th: 4.00ms - 95th: 4.00ms - avg: 2.50ms');
  const off = new TimerMetrics(0, 'x', (l) => lines.push(l));
  off.statusDuration(1);
  assert.equal(lines.length, 2);
});

test('json filters: require field / value, whitelist re-encoding like Go', () => {
  const o = { requireJsonField: '', requireJsonValue: '', whitelistJsonFields: [] as string[] };
  assert.equal(filtersEnabled(o), false);
  const f = { ...o, requireJsonField: 'k' };
  assert.equal(applyJsonFilter(f, Buffer.from('{"k":1}')).kind, 'pass');
  assert.equal(applyJsonFilter(f, Buffer.from('{"x":1}')).kind, 'drop');
  assert.equal(applyJsonFilter(f, Buffer.from('not json')).kind, 'drop');
  const v = { ...f, requireJsonValue: 'yes' };
  assert.equal(applyJsonFilter(v, Buffer.from('{"k":"yes"}')).kind, 'pass');
  assert.equal(applyJsonFilter(v, Buffer.from('{"k":"no"}')).kind, 'drop');
  assert.equal(applyJsonFilter(v, Buffer.from('{"x":"yes"}')).kind, 'backoff');
  const n = { ...f, requireJsonValue: '2' };
  assert.equal(applyJsonFilter(n, Buffer.from('{"k":2.0}')).kind, 'pass');
  assert.equal(applyJsonFilter(n, Buffer.from('{"k":"2"}')).kind, 'pass');
  assert.equal(applyJsonFilter(n, Buffer.from('{"k":[2]}')).kind, 'drop');
  const w = { ...o, whitelistJsonFields: ['z', 'a', 'missing'] };
  const r = applyJsonFilter(w, Buffer.from('{"a":1.0,"b":2,"z":"<x>"}'));
  assert.equal(r.kind, 'pass');
  assert.equal(r.kind === 'pass' && r.body.toString(), '{"a":1,"z":"\\u003cx\\u003e"}');
  assert.equal(applyJsonFilter(w, Buffer.from('[1]')).kind, 'backoff');
});
