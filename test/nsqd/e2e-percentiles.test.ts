import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';
import type { E2eResult } from '../../src/lib/quantile.js';
import { get, postOk } from './http-helpers.js';
import { topicStats } from './persist-client.js';
import { sleep } from '../helpers/wait.js';

// End-to-end processing latency (upstream `internal/quantile`, `nsqd/stats.go`): recorded on FIN only, per
// channel, merged per topic, reported in the configured (descending) order in JSON and text.

/** Takes `n` messages on topic/channel and FINs (or REQs) each after `holdMs`. */
async function consume(d: Daemon, topic: string, channel: string, n: number, holdMs: number, req = 0): Promise<void> {
  const c = await WireClient.connect(d.tcpPort);
  c.command(`SUB ${topic} ${channel}`);
  assert.equal(await c.next(), '0 OK');
  c.command(`RDY ${n}`);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = await c.nextFrame();
    assert.equal(f.type, FRAME_MESSAGE);
    ids.push(parseMessage(f.data).id);
  }
  await sleep(holdMs);
  for (const [i, id] of ids.entries()) c.command(i < req ? `REQ ${id} 60000` : `FIN ${id}`);
  c.command('NOP');
  // Let the FINs land before the caller reads /stats.
  await sleep(50);
  c.close();
}

const QUANTILES = [1, 0.99, 0.5];

function assertShape(e: E2eResult, count: number): number[] {
  assert.deepEqual(Object.keys(e), ['count', 'percentiles']);
  assert.equal(e.count, count);
  assert.ok(e.percentiles !== null);
  assert.deepEqual(e.percentiles.map((p) => p.quantile), QUANTILES, 'configured order, descending');
  for (const p of e.percentiles) assert.deepEqual(Object.keys(p), ['quantile', 'value']);
  const values = e.percentiles.map((p) => p.value);
  assert.ok(values[0]! >= values[1]! && values[1]! >= values[2]!, `monotonic ${values}`);
  return values;
}

test('percentiles from two flags, counts after FINs, topic merge, text e2e%', async () => {
  const d = await startNsqd(['--e2e-processing-latency-percentile=1.0,0.99', '--e2e-processing-latency-percentile=0.5']);
  try {
    await postOk(d.httpPort, '/topic/create?topic=lonely');
    await postOk(d.httpPort, '/topic/create?topic=e2e');
    await postOk(d.httpPort, '/channel/create?topic=e2e&channel=fast');
    await postOk(d.httpPort, '/channel/create?topic=e2e&channel=slow');
    let t = await topicStats(d.httpPort);
    assert.deepEqual(t.get('lonely')!.e2e_processing_latency, { count: 0, percentiles: null }, 'a topic without channels');
    assertShape(t.get('e2e')!.e2e_processing_latency, 0);
    for (const ch of t.get('e2e')!.channels) {
      assert.deepEqual(ch.e2e_processing_latency.percentiles!.map((p) => p.value), [0, 0, 0], 'values 0 when empty');
    }

    for (let i = 0; i < 10; i++) await postOk(d.httpPort, '/pub?topic=e2e', `m${i}`);
    await Promise.all([consume(d, 'e2e', 'fast', 10, 0), consume(d, 'e2e', 'slow', 10, 120, 4)]);

    t = await topicStats(d.httpPort);
    const e2e = t.get('e2e')!;
    const fast = assertShape(e2e.channels.find((c) => c.channel_name === 'fast')!.e2e_processing_latency, 10);
    // REQ records nothing: 6 of 10 were finished.
    const slow = assertShape(e2e.channels.find((c) => c.channel_name === 'slow')!.e2e_processing_latency, 6);
    const merged = assertShape(e2e.e2e_processing_latency, 16);
    assert.ok(slow[2]! >= 100e6, `held 120 ms: median ${slow[2]} ns`);
    assert.ok(slow[0]! < 60e9);
    assert.equal(merged[0], slow[0], 'the topic max is the slowest channel max');
    assert.ok(merged[2]! <= slow[2]! && merged[2]! >= fast[2]!, 'the merged median lies between');

    // Text format: three humanized values per line, in the same order.
    const text = (await get(d.httpPort, '/stats')).text;
    const human = '\\d+\\.\\d(?:ns|us|ms|s)';
    assert.match(text, new RegExp(`\\[e2e {12}\\] depth: 0 .* e2e%: ${human}, ${human}, ${human}\\n`));
    assert.match(text, new RegExp(`\\[slow {21}\\] .* e2e%: \\d+\\.\\dms, ${human}, \\d+\\.\\dms\\n`));
    assert.match(text, /\[lonely {9}\] depth: 0 .* e2e%: \n/);
  } finally {
    await d.stop();
  }
});

test('the rolling window forgets old samples', async () => {
  const d = await startNsqd(['--e2e-processing-latency-percentile=0.5', '--e2e-processing-latency-window-time=1s']);
  try {
    await postOk(d.httpPort, '/topic/create?topic=w');
    await postOk(d.httpPort, '/channel/create?topic=w&channel=c');
    await postOk(d.httpPort, '/pub?topic=w', 'x');
    await consume(d, 'w', 'c', 1, 0);
    let e = (await topicStats(d.httpPort)).get('w')!.channels[0]!.e2e_processing_latency;
    assert.equal(e.count, 1);
    await sleep(1200);
    e = (await topicStats(d.httpPort)).get('w')!.channels[0]!.e2e_processing_latency;
    assert.deepEqual(e, { count: 0, percentiles: [{ quantile: 0.5, value: 0 }] });
  } finally {
    await d.stop();
  }
});

test('without --e2e-processing-latency-percentile: null percentiles, empty e2e% list', async () => {
  const d = await startNsqd();
  try {
    await postOk(d.httpPort, '/topic/create?topic=n');
    await postOk(d.httpPort, '/channel/create?topic=n&channel=c');
    await postOk(d.httpPort, '/pub?topic=n', 'x');
    await consume(d, 'n', 'c', 1, 0);
    const t = (await topicStats(d.httpPort)).get('n')!;
    assert.deepEqual(t.e2e_processing_latency, { count: 0, percentiles: null });
    assert.deepEqual(t.channels[0]!.e2e_processing_latency, { count: 0, percentiles: null });
    assert.match((await get(d.httpPort, '/stats')).text, /\[c {24}\] .* e2e%: \n/);
  } finally {
    await d.stop();
  }
});
