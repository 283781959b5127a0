import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, sleep } from '../helpers/wait.js';
import { channelOf, getJson, post, postOk, statsJson, topicOf } from './http-helpers.js';

/** TTL, max depth and drain (docs/extensions.md) against a real nsqd, seen through /stats and the publisher's errors. */
describe('message TTL, bounded queues and drain', () => {
  const daemons: Daemon[] = [];
  const clients: RawClient[] = [];
  after(async () => {
    for (const c of clients) c.destroy();
    for (const d of daemons) await d.stop();
  });
  async function connect(d: Daemon): Promise<RawClient> {
    const c = await RawClient.connect(d.tcpPort);
    clients.push(c);
    return c;
  }

  it('expired messages are dropped at delivery and counted; a full topic rejects PUB and /pub', async () => {
    const d = await startNsqd(['--msg-ttl=200ms']);
    daemons.push(d);
    await postOk(d.httpPort, '/topic/create?topic=t');
    await postOk(d.httpPort, '/channel/create?topic=t&channel=c');
    await postOk(d.httpPort, '/pub?topic=t', 'old');
    await sleep(400);
    const sub = await connect(d);
    sub.send('SUB t c');
    await sub.expectResponse('OK');
    sub.send('RDY 1');
    await postOk(d.httpPort, '/pub?topic=t', 'fresh');
    const m = await sub.readMessage();
    assert.equal(m.body.toString(), 'fresh');
    const ch = channelOf(await statsJson(d.httpPort), 't', 'c');
    assert.equal(ch?.['expired_count'], 1);

    await postOk(d.httpPort, '/topic/config?topic=t&max_depth=2&msg_ttl=0');
    const p = await connect(d);
    for (const b of ['a', 'b']) {
      p.send('PUB t', b);
      await p.expectResponse('OK');
    }
    p.send('PUB t', 'c');
    await p.expectError('E_PUB_FAILED PUB failed topic t is full');
    const r = await post(d.httpPort, '/pub?topic=t', 'd');
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.text).message, 'TOPIC_FULL');
    const t = topicOf(await statsJson(d.httpPort), 't');
    assert.equal(t?.['rejected_count'], 2);
  });

  it('drop-oldest keeps the newest messages', async () => {
    const d = await startNsqd(['--max-depth=2', '--max-depth-policy=drop-oldest']);
    daemons.push(d);
    await postOk(d.httpPort, '/topic/create?topic=q');
    await postOk(d.httpPort, '/channel/create?topic=q&channel=c');
    for (const b of ['1', '2', '3', '4']) await postOk(d.httpPort, '/pub?topic=q', b);
    const ch = channelOf(await statsJson(d.httpPort), 'q', 'c');
    assert.equal(ch?.depth, 2);
    assert.equal(ch?.['dropped_count'], 2);
    const sub = await connect(d);
    sub.send('SUB q c');
    await sub.expectResponse('OK');
    sub.send('RDY 2');
    assert.deepEqual([(await sub.readMessage()).body.toString(), (await sub.readMessage()).body.toString()], ['3', '4']);
  });

  it('drain: publishes refused, held messages delivered, exit code 0', async () => {
    const d = await startNsqd();
    daemons.push(d);
    await postOk(d.httpPort, '/topic/create?topic=w');
    await postOk(d.httpPort, '/channel/create?topic=w&channel=c');
    const p = await connect(d);
    for (let i = 0; i < 20; i++) {
      p.send('PUB w', `m${i}`);
      await p.expectResponse('OK');
    }
    const r = await post(d.httpPort, '/drain');
    assert.equal(r.status, 200, r.text);
    p.send('PUB w', 'late');
    await p.expectError('E_PUB_FAILED PUB failed draining');
    const h = await post(d.httpPort, '/pub?topic=w', 'late');
    assert.equal(h.status, 503);
    assert.equal(JSON.parse(h.text).message, 'DRAINING');
    const s = await statsJson(d.httpPort);
    assert.equal(s['draining'], true);
    assert.equal(s['drain_remaining'], 20);
    const sub = await connect(d);
    sub.send('SUB w c');
    await sub.expectResponse('OK');
    sub.send('RDY 5');
    const got: string[] = [];
    while (got.length < 20) {
      const m = await sub.readMessage();
      got.push(m.body.toString());
      sub.send(`FIN ${m.id}`);
    }
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i}`));
    await eventually(() => d.proc.exitCode !== null, 10000, 'nsqd to exit');
    assert.equal(await d.stop(), 0);
    assert.match(d.logs(), /DRAIN: complete/);
  });
  it('drain: nsqd leaves nsqlookupd at once while it still delivers what it holds', async () => {
    const lookupd = await startNsqlookupd();
    daemons.push(lookupd);
    const d = await startNsqd([`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`]);
    daemons.push(d);
    await postOk(d.httpPort, '/topic/create?topic=lk');
    await postOk(d.httpPort, '/channel/create?topic=lk&channel=c');
    await postOk(d.httpPort, '/pub?topic=lk', 'held');
    type Lookup = { channels: string[]; producers: { tcp_port: number }[] };
    const registered = await eventually(async () => {
      const r = await getJson<Lookup>(lookupd.httpPort, '/lookup?topic=lk').catch(() => null);
      return r !== null && r.producers.length === 1 && r.channels.includes('c') ? r : false;
    }, 10000, 'nsqd registered with nsqlookupd');
    assert.equal(registered.producers[0]?.tcp_port, d.tcpPort);

    const r = await post(d.httpPort, '/drain');
    assert.equal(r.status, 200, r.text);
    // The producer disappears from the topic (the channel registration is emptied too) while
    // nsqd still holds a message, so consumers polling lookupd stop finding it.
    await eventually(async () => {
      const l = await getJson<Lookup>(lookupd.httpPort, '/lookup?topic=lk');
      return l.producers.length === 0;
    }, 10000, 'nsqd gone from /lookup');
    const nodes = await getJson<{ producers: { tcp_port: number; topics: string[] }[] }>(lookupd.httpPort, '/nodes');
    assert.deepEqual(nodes.producers.find((p) => p.tcp_port === d.tcpPort)?.topics ?? [], []);
    assert.equal(d.proc.exitCode, null, 'nsqd keeps running while it holds a message');

    const sub = await connect(d);
    sub.send('SUB lk c');
    await sub.expectResponse('OK');
    sub.send('RDY 1');
    const m = await sub.readMessage();
    assert.equal(m.body.toString(), 'held');
    sub.send(`FIN ${m.id}`);
    await eventually(() => d.proc.exitCode !== null, 10000, 'nsqd to exit');
    assert.equal(await d.stop(), 0);
  });
});
