import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { startNsqd, tempDir, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats, RawClient } from '../helpers/raw-client.js';
import { get, post } from './http-helpers.js';
import { eventually } from '../helpers/wait.js';

/**
 * Corner cases of the V2 protocol and /stats checked against the original (docs/protocol.md; upstream
 * `nsqd/protocol_v2.go`, `nsqd/channel.go`, `nsqd/stats.go`), each with the decision taken where the
 * port knowingly differs from an upstream quirk.
 */
const daemons: Daemon[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(daemons.map((d) => d.stop()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function start(args: string[] = [], dataPath?: string): Promise<Daemon> {
  const d = await startNsqd(args, dataPath);
  daemons.push(d);
  return d;
}

async function connect(d: Daemon): Promise<RawClient> {
  const c = await RawClient.connect(d.tcpPort);
  clients.push(c);
  return c;
}

async function subscribe(d: Daemon, topic: string, channel: string, rdy: number, identify?: object): Promise<RawClient> {
  const c = await connect(d);
  if (identify !== undefined) {
    c.identify(identify);
    await c.readText();
  }
  c.send(`SUB ${topic} ${channel}`);
  await c.expectResponse('OK');
  if (rdy > 0) c.send(`RDY ${rdy}`);
  return c;
}

async function publish(d: Daemon, topic: string, ...bodies: string[]): Promise<void> {
  const p = await connect(d);
  for (const b of bodies) {
    p.send(`PUB ${topic}`, b);
    await p.expectResponse('OK');
  }
}

/** One on-disk message record: [8 ts][2 attempts][16 id][body]. */
function messageRecord(id: string, body: string): Buffer {
  const b = Buffer.from(body);
  const rec = Buffer.alloc(4 + 26 + b.length);
  rec.writeInt32BE(26 + b.length, 0);
  rec.writeBigInt64BE(BigInt(Date.now()) * 1000000n, 4);
  rec.writeUInt16BE(0, 12);
  rec.write(id, 14, 'latin1');
  b.copy(rec, 30);
  return rec;
}

describe('REQ of an id that is already deferred', () => {
  it('answers E_REQ_FAILED … ID already deferred (non-fatal); the message stays in flight', async () => {
    // Two records with the same id in one channel queue: only reachable through a data dir
    // (ids are unique per topic), which is how this fixture makes it.
    const dir = tempDir('tsnsq-audit-dup-');
    dirs.push(dir);
    const id = '0123456789abcdef';
    const data = Buffer.concat([messageRecord(id, 'first'), messageRecord(id, 'second')]);
    fs.writeFileSync(path.join(dir, 'dup:ch.diskqueue.000000.dat'), data);
    fs.writeFileSync(path.join(dir, 'dup:ch.diskqueue.meta.dat'), `2\n0,0\n0,${data.length}\n`);
    fs.writeFileSync(path.join(dir, 'nsqd.dat'), JSON.stringify({ topics: [{ name: 'dup', paused: false, channels: [{ name: 'ch', paused: false }] }], version: '1.3.0' }));
    const d = await start([], dir);

    const c = await subscribe(d, 'dup', 'ch', 1);
    const first = await c.readMessage();
    assert.deepEqual([first.id, first.body.toString()], [id, 'first']);
    c.send(`REQ ${id} 60000`);
    const second = await c.readMessage();
    assert.deepEqual([second.id, second.body.toString()], [id, 'second']);
    c.send(`REQ ${id} 60000`);
    await c.expectNonFatal(`E_REQ_FAILED REQ ${id} failed ID already deferred`);

    // Decision: the refused REQ leaves the message in flight (it can still be FINed or time out);
    // upstream has already popped it by then and loses it.
    let ch = channelStats(await nsqdStats(d.httpPort, 'dup'), 'dup', 'ch')!;
    assert.deepEqual([ch.deferred_count, ch.in_flight_count, ch.requeue_count, ch.clients![0]!.in_flight_count], [1, 1, 1, 1]);
    c.send(`FIN ${id}`);
    await c.expectOpen();
    ch = channelStats(await nsqdStats(d.httpPort, 'dup'), 'dup', 'ch')!;
    assert.deepEqual([ch.deferred_count, ch.in_flight_count, ch.clients![0]!.finish_count], [1, 0, 1]);
  });
});

describe('delivery', () => {
  it('a second IDENTIFY takes full effect, also on delivery (upstream quirk not reproduced)', async () => {
    const d = await start();
    const c = await connect(d);
    c.identify({ msg_timeout: 60000 });
    await c.expectResponse('OK');
    c.identify({ feature_negotiation: true, msg_timeout: 1000 });
    const [, reply] = await c.readText();
    assert.equal((JSON.parse(reply) as { msg_timeout: number }).msg_timeout, 1000);
    c.send('SUB second_identify ch');
    await c.expectResponse('OK');
    c.send('RDY 1');
    await publish(d, 'second_identify', 'x');
    assert.equal((await c.readMessage()).attempts, 1);
    // Upstream's pump would keep the first IDENTIFY's 60 s; here the message times out after 1 s.
    assert.equal((await c.readMessage(5000)).attempts, 2);
  });

  it('balances single publishes across consumers that all have RDY to spare', async () => {
    const d = await start();
    const a = await subscribe(d, 'balance', 'ch', 100);
    const b = await subscribe(d, 'balance', 'ch', 100);
    await publish(d, 'balance', ...Array.from({ length: 10 }, (_, i) => `m${i}`));
    await eventually(async () => channelStats(await nsqdStats(d.httpPort, 'balance'), 'balance', 'ch')!.in_flight_count === 10);
    const counts = channelStats(await nsqdStats(d.httpPort, 'balance'), 'balance', 'ch')!.clients!.map((x) => x.message_count);
    assert.deepEqual(counts, [5, 5]);
    for (const c of [a, b]) for (let i = 0; i < 5; i++) await c.readMessage();
  });

  it('SUB to an ephemeral channel just left by its last client succeeds at once (no E_SUB_FAILED window)', async () => {
    // Upstream deletes such a channel asynchronously and makes a SUB that races it retry once
    // after 100 ms, then fail with E_SUB_FAILED. Here deletion is synchronous with the client's
    // removal, so a SUB sees either the live channel or a new one.
    const d = await start();
    const first = await subscribe(d, 'eph_t', 'e#ephemeral', 0);
    first.destroy();
    const again = await subscribe(d, 'eph_t', 'e#ephemeral', 0);
    again.destroy();
    await eventually(async () => (channelStats(await nsqdStats(d.httpPort, 'eph_t'), 'eph_t', 'e#ephemeral') === undefined), 3000, 'ephemeral channel deleted');
    await subscribe(d, 'eph_t', 'e#ephemeral', 0);
    assert.equal(channelStats(await nsqdStats(d.httpPort, 'eph_t'), 'eph_t', 'e#ephemeral')!.client_count, 1);
  });
});

describe('/stats text', () => {
  it('marks a paused topic and channel with *P and keeps their e2e% lists', async () => {
    const d = await start(['--e2e-processing-latency-percentile=0.99,0.5']);
    await post(d.httpPort, '/topic/create?topic=paused_e2e');
    await post(d.httpPort, '/channel/create?topic=paused_e2e&channel=pc');
    await post(d.httpPort, '/topic/pause?topic=paused_e2e');
    await post(d.httpPort, '/channel/pause?topic=paused_e2e&channel=pc');
    const text = (await get(d.httpPort, '/stats')).body.toString();
    assert.match(text, /\n\*P \[paused_e2e {5}\] depth: 0 {5}be-depth: 0 {5}msgs: 0 {8}e2e%: 0\.0ns, 0\.0ns\n/);
    assert.match(text, /\n {3}\*P \[pc {23}\] depth: 0 {5}be-depth: 0 {5}inflt: 0 {4}def: 0 {4}re-q: 0 {5}timeout: 0 {5}msgs: 0 {8}e2e%: 0\.0ns, 0\.0ns\n/);
  });
});
