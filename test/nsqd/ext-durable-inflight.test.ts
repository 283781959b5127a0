import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { type Daemon, startNsqd, tempDir } from '../helpers/daemons.js';
import { nsqjs, type NsqjsMessage } from '../helpers/nsqjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, sleep } from '../helpers/wait.js';
import { assertV1Empty, channelOf, post, statsJson } from './http-helpers.js';

/**
 * --durable-inflight (docs/extensions.md): messages handed to consumers and deferred messages
 * (DPUB, REQ with a delay) survive kill -9 and SIGTERM with their deadlines and attempts. Real
 * nsqd processes, killed and started again on the same data dir. Timing is asserted only as
 * "not before the deadline, minus a margin" and "eventually".
 */
const FLAG = '--durable-inflight';
/** Slack for "not delivered before its deadline": clocks are read in two processes. */
const MARGIN_MS = 300;

/** nsqd on a fresh data dir (removed after the test), with its topic and channel created. */
async function start(t: TestContext, args: string[], topic = 't', dataPath = tempDir('tsnsq-inflight-', t)): Promise<Daemon> {
  const d = await startNsqd(args, dataPath);
  t.after(() => d.kill());
  assertV1Empty(await post(d.httpPort, `/topic/create?topic=${topic}`));
  assertV1Empty(await post(d.httpPort, `/channel/create?topic=${topic}&channel=c`));
  return d;
}

/** The same nsqd again (same flags and data dir, new ports). */
async function again(t: TestContext, d: Daemon, args = d.args): Promise<Daemon> {
  const d2 = await startNsqd(args.filter((a) => !/^--(tcp|http)-address=|^--data-path=|^--broadcast-address=/.test(a)), d.dataPath);
  t.after(() => d2.kill());
  return d2;
}

async function connect(t: TestContext, d: Daemon): Promise<RawClient> {
  const c = await RawClient.connect(d.tcpPort);
  t.after(() => c.destroy());
  return c;
}

async function subscribe(t: TestContext, d: Daemon, rdy: number, topic = 't'): Promise<RawClient> {
  const c = await connect(t, d);
  c.send(`SUB ${topic} c`);
  await c.expectResponse('OK');
  c.send(`RDY ${rdy}`);
  return c;
}

/** A PUB round trip: every command sent before it on `c` has been handled (and journaled). */
async function sync(c: RawClient): Promise<void> {
  c.send('PUB sync_probe', 'x');
  await c.expectResponse('OK');
}

/** Channel `c` of topic `t` in /stats. */
async function channelStats(d: Daemon): Promise<{ depth: number; in_flight_count: number; deferred_count: number }> {
  const ch = channelOf(await statsJson(d.httpPort, '&topic=t'), 't', 'c');
  assert.ok(ch !== undefined, 'channel t/c in /stats');
  return ch;
}

/** The 4 unFINed in-flight and 2 deferred messages of loadInflightAndDeferred() are delivered. */
async function expectAllSix(t: TestContext, d: Daemon): Promise<void> {
  const sub = await subscribe(t, d, 10);
  const bodies: string[] = [];
  while (bodies.length < 6) bodies.push((await sub.readMessage(10_000)).body.toString());
  assert.deepEqual(bodies.sort(), ['dpub-later', 'inflight-2', 'inflight-3', 'inflight-4', 'inflight-5', 'req-later']);
}

function journals(dataPath: string): string[] {
  return fs.readdirSync(dataPath).filter((f) => f.endsWith('.inflight.dat'));
}

/**
 * In flight: 6 delivered, 2 FINed. Deferred: a DPUB (3 s) and a REQ with a 4 s delay. Returns
 * the earliest time each deferred body may be delivered again.
 */
async function loadInflightAndDeferred(t: TestContext, d: Daemon): Promise<Map<string, number>> {
  const pub = await connect(t, d);
  for (let i = 0; i < 6; i++) {
    pub.send('PUB t', `inflight-${i}`);
    await pub.expectResponse('OK');
  }
  const sub = await subscribe(t, d, 7);
  const got = [];
  for (let i = 0; i < 6; i++) got.push(await sub.readMessage(10_000));
  assert.deepEqual(got.map((m) => [m.body.toString(), m.attempts]), Array.from({ length: 6 }, (_, i) => [`inflight-${i}`, 1]));
  sub.send(`FIN ${got[0]!.id}`);
  sub.send(`FIN ${got[1]!.id}`);
  const notBefore = new Map<string, number>();
  // The REQ'd one: delivered once more, then requeued for 4 s.
  pub.send('PUB t', 'req-later');
  await pub.expectResponse('OK');
  const r = await sub.readMessage(10_000);
  assert.equal(r.body.toString(), 'req-later');
  notBefore.set('req-later', Date.now() + 4000);
  sub.send(`REQ ${r.id} 4000`);
  notBefore.set('dpub-later', Date.now() + 3000);
  pub.send('DPUB t 3000', 'dpub-later');
  await pub.expectResponse('OK');
  await sync(sub);
  return notBefore;
}

/** After a restart: the 4 unFINed in-flight ones again (attempts 2), then the deferred ones, each not before its time. */
async function expectRedelivered(t: TestContext, d: Daemon, notBefore: Map<string, number>): Promise<void> {
  const sub = await subscribe(t, d, 10);
  const seen = new Map<string, number>();
  while (seen.size < 6) {
    const m = await sub.readMessage(15_000);
    const body = m.body.toString();
    assert.ok(!seen.has(body), `${body} delivered twice`);
    seen.set(body, m.attempts);
    const due = notBefore.get(body);
    if (due !== undefined) assert.ok(Date.now() >= due - MARGIN_MS, `${body} delivered ${due - Date.now()} ms before its deadline`);
    sub.send(`FIN ${m.id}`);
  }
  assert.deepEqual(
    [...seen].sort(),
    [['dpub-later', 1], ['inflight-2', 2], ['inflight-3', 2], ['inflight-4', 2], ['inflight-5', 2], ['req-later', 2]].sort(),
  );
  // Nothing else: FINed messages are not redelivered, and nothing comes twice.
  await sub.expectSilence(1000);
}

describe('--durable-inflight', () => {
  it('kill -9: in-flight messages are redelivered (attempts kept), FINed ones are not, deferred ones wait for their deadline', async (t) => {
    const d = await start(t, [FLAG]);
    const notBefore = await loadInflightAndDeferred(t, d);
    assert.deepEqual(journals(d.dataPath), ['t:c.inflight.dat']);
    await d.kill();
    const d2 = await again(t, d);
    assert.match(d2.logs(), /CHANNEL\(c\): restored 4 in-flight and 2 deferred messages from the in-flight journal/);
    await expectRedelivered(t, d2, notBefore);
  });

  it('SIGTERM: in-flight and deferred messages stay in the journal (not also in the disk queue) with their deadlines', async (t) => {
    const d = await start(t, [FLAG]);
    const notBefore = await loadInflightAndDeferred(t, d);
    assert.equal(await d.stop(), 0);
    assert.match(d.logs(), /CHANNEL\(c\): keeping 4 in-flight 2 deferred messages in the in-flight journal/);
    const d2 = await again(t, d);
    await expectRedelivered(t, d2, notBefore);
    // Everything FINed: a clean stop leaves no journal behind.
    await eventually(async () => {
      const ch = await channelStats(d2);
      return ch.depth === 0 && ch.in_flight_count === 0 && ch.deferred_count === 0;
    });
    assert.equal(await d2.stop(), 0);
    assert.deepEqual(journals(d.dataPath), []);
  });

  it('a deferred message whose deadline passed while nsqd was down is delivered promptly', async (t) => {
    const d = await start(t, [FLAG]);
    const pub = await connect(t, d);
    pub.send('DPUB t 1000', 'soon');
    await pub.expectResponse('OK');
    await d.kill();
    await sleep(1500);
    const d2 = await again(t, d);
    const sub = await subscribe(t, d2, 1);
    const m = await sub.readMessage(10_000);
    assert.deepEqual([m.body.toString(), m.attempts], ['soon', 1]);
  });

  it('with --sync-every=1 every acknowledged DPUB survives kill -9 under concurrent load', async (t) => {
    const d = await start(t, [FLAG, '--sync-every=1', '--mem-queue-size=0']);
    const acked = new Map<string, number>();
    let stop = false;
    const publishers = Array.from({ length: 8 }, async (_, p) => {
      const c = await RawClient.connect(d.tcpPort);
      t.after(() => c.destroy());
      try {
        for (let n = 0; !stop; n++) {
          const body = `p${p}-${n}`;
          const sent = Date.now();
          c.send('DPUB t 2000', body);
          await c.expectResponse('OK', 10_000);
          acked.set(body, sent + 2000);
        }
      } catch {
        // The kill cuts the connection: that message was never acknowledged.
      }
    });
    await sleep(1000);
    await d.kill();
    stop = true;
    await Promise.all(publishers);
    assert.ok(acked.size > 20, `only ${acked.size} acknowledged DPUBs`);
    const d2 = await again(t, d);
    const sub = await subscribe(t, d2, 2500);
    let missing = acked.size;
    const seen = new Set<string>();
    while (missing > 0) {
      const m = await sub.readMessage(15_000);
      const body = m.body.toString();
      sub.send(`FIN ${m.id}`);
      const due = acked.get(body);
      if (due === undefined || seen.has(body)) continue;
      assert.ok(Date.now() >= due - MARGIN_MS, `${body} delivered ${due - Date.now()} ms before its deadline`);
      seen.add(body);
      missing--;
    }
  });

  it('an nsqjs consumer gets its unfinished messages again after kill -9', async (t) => {
    const d = await start(t, [FLAG]);
    const pub = await connect(t, d);
    for (let i = 0; i < 5; i++) {
      pub.send('PUB t', `js-${i}`);
      await pub.expectResponse('OK');
    }
    const first: NsqjsMessage[] = [];
    const r1 = new nsqjs.Reader('t', 'c', { nsqdTCPAddresses: [`127.0.0.1:${d.tcpPort}`], maxInFlight: 10 });
    t.after(() => r1.close());
    r1.on('error', () => {});
    r1.on('message', (m) => {
      first.push(m);
      // Odd ones are finished, even ones left in flight.
      if (Number(m.body.toString().slice(3)) % 2 === 1) m.finish();
    });
    r1.connect();
    await eventually(() => first.length === 5, 10_000, 'five messages on the first reader');
    await sync(pub);
    // FIN is fire-and-forget for nsqjs: the daemon's in-flight count says when both were handled.
    await eventually(async () => (await channelStats(d)).in_flight_count === 3);
    await d.kill();
    r1.close();

    const d2 = await again(t, d);
    const second: Array<[string, number]> = [];
    const r2 = new nsqjs.Reader('t', 'c', { nsqdTCPAddresses: [`127.0.0.1:${d2.tcpPort}`], maxInFlight: 10 });
    t.after(() => r2.close());
    r2.on('error', () => {});
    r2.on('message', (m) => {
      second.push([m.body.toString(), m.attempts]);
      m.finish();
    });
    r2.connect();
    await eventually(() => second.length >= 3, 15_000, 'redelivery to the second reader');
    await sleep(500);
    assert.deepEqual(second.sort(), [['js-0', 2], ['js-2', 2], ['js-4', 2]]);
  });

  it('without the flag nothing is journaled and shutdown flushes as the original (deferred become due)', async (t) => {
    const d = await start(t, []);
    await loadInflightAndDeferred(t, d);
    assert.deepEqual(journals(d.dataPath), []);
    assert.equal(await d.stop(), 0);
    assert.match(d.logs(), /CHANNEL\(c\): flushing 0 memory 4 in-flight 2 deferred messages to backend/);
    assert.deepEqual(journals(d.dataPath), []);
    const d2 = await again(t, d);
    // The original's shutdown flush writes deferred messages to the disk queue: no deadline kept.
    const ch = await channelStats(d2);
    assert.deepEqual([ch.depth, ch.deferred_count], [6, 0]);
    await expectAllSix(t, d2);
  });

  it('turning the flag off moves a journal left by kill -9 into the disk queue: nothing is lost', async (t) => {
    const d = await start(t, [FLAG]);
    await loadInflightAndDeferred(t, d);
    await d.kill();
    const d2 = await again(t, d, d.args.filter((a) => a !== FLAG));
    assert.match(d2.logs(), /moved 6 messages from the in-flight journal to the disk queue/);
    assert.deepEqual(journals(d.dataPath), []);
    await expectAllSix(t, d2);
  });

  it('deleting the channel or its topic removes the journal; ephemeral channels have none', async (t) => {
    const d = await start(t, [FLAG]);
    const pub = await connect(t, d);
    pub.send('DPUB t 60000', 'held');
    await pub.expectResponse('OK');
    await subscribe(t, d, 1, 't2');
    const c2 = await connect(t, d);
    c2.send('SUB t2 e#ephemeral');
    await c2.expectResponse('OK');
    c2.send('RDY 1');
    pub.send('DPUB t2 60000', 'held');
    await pub.expectResponse('OK');
    assert.deepEqual(journals(d.dataPath).sort(), ['t2:c.inflight.dat', 't:c.inflight.dat']);
    assertV1Empty(await post(d.httpPort, '/channel/delete?topic=t&channel=c'));
    assertV1Empty(await post(d.httpPort, '/topic/delete?topic=t2'));
    assert.deepEqual(journals(d.dataPath), []);
  });

  it('a journal of another version stops nsqd at start-up with a clear error', async (t) => {
    const dataPath = tempDir('tsnsq-inflight-', t);
    fs.writeFileSync(`${dataPath}/nsqd.dat`, JSON.stringify({ topics: [{ name: 't', paused: false, channels: [{ name: 'c', paused: false }] }], version: '1.3.0' }));
    fs.writeFileSync(`${dataPath}/t:c.inflight.dat`, Buffer.from('894e534a02000008', 'hex'));
    await assert.rejects(startNsqd([FLAG], dataPath), /FATAL: failed to load metadata - unsupported in-flight journal: version 2 \(this nsqd reads version 1\): .*t:c\.inflight\.dat - run the nsqd that wrote it, or move the file away/);
    // Kept as it was, not overwritten.
    assert.equal(fs.readFileSync(`${dataPath}/t:c.inflight.dat`).toString('hex'), '894e534a02000008');
  });
});
