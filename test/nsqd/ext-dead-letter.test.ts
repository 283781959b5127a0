import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { nsqjs, type NsqjsMessage, type NsqjsReader, type NsqjsWriter } from '../helpers/nsqjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, sleep } from '../helpers/wait.js';
import { channelOf, get, getJson, post, postOk, statsJson } from './http-helpers.js';

/**
 * Max attempts + dead-letter topic (docs/extensions.md, nsq#974) against a real nsqd: a poison
 * message always requeued by an nsqjs Reader, or left to time out, moves to `<topic>.dlq` with its
 * id, body, timestamp and attempts; counted in /stats and /metrics; the setting survives a restart.
 */
describe('max attempts and dead-letter topic', () => {
  const daemons: Daemon[] = [];
  const closers: Array<{ close(): void }> = [];
  after(async () => {
    for (const c of closers) c.close();
    await sleep(50);
    for (const d of daemons) await d.stop();
  });

  function reader(d: Daemon, topic: string, channel: string, onMessage: (m: NsqjsMessage) => void): NsqjsReader {
    const r = new nsqjs.Reader(topic, channel, { nsqdTCPAddresses: [`127.0.0.1:${d.tcpPort}`], maxInFlight: 1 });
    closers.push(r);
    r.on('message', onMessage);
    r.on('error', () => {});
    r.connect();
    return r;
  }

  async function writer(d: Daemon): Promise<NsqjsWriter> {
    const w = new nsqjs.Writer('127.0.0.1', d.tcpPort);
    closers.push(w);
    await new Promise<void>((resolve, reject) => {
      w.on('ready', resolve);
      w.on('error', reject);
      w.connect();
    });
    return w;
  }

  it('a message requeued by an nsqjs Reader lands in <topic>.dlq after max_attempts, attempts preserved; config persists', async () => {
    const d = await startNsqd();
    daemons.push(d);
    await postOk(d.httpPort, '/topic/create?topic=orders');
    await postOk(d.httpPort, '/channel/create?topic=orders&channel=billing');
    const set = await post(d.httpPort, '/channel/config?topic=orders&channel=billing', '{"max_attempts": 3}');
    assert.equal(set.status, 200, set.text);
    const reply = JSON.parse(set.text) as { config: object; effective: { max_attempts: number; dead_letter_topic: string } };
    assert.deepEqual(reply.config, { max_attempts: 3 });
    assert.equal(reply.effective.max_attempts, 3);
    assert.equal(reply.effective.dead_letter_topic, 'orders.dlq');
    // The dead-letter topic and a channel on it exist before the poison message, so nothing waits in the topic.
    await postOk(d.httpPort, '/topic/create?topic=orders.dlq');
    await postOk(d.httpPort, '/channel/create?topic=orders.dlq&channel=inspect');

    const seen: NsqjsMessage[] = [];
    let good = 0;
    reader(d, 'orders', 'billing', (m) => {
      if (m.body.toString() === 'good') {
        good++;
        m.finish();
        return;
      }
      seen.push(m);
      m.requeue(0, false);
    });
    const dead: NsqjsMessage[] = [];
    reader(d, 'orders.dlq', 'inspect', (m) => {
      dead.push(m);
      m.finish();
    });
    const w = await writer(d);
    for (const body of ['poison', 'good']) {
      await new Promise<void>((resolve, reject) => w.publish('orders', body, (e) => (e ? reject(e) : resolve())));
    }

    await eventually(() => dead.length === 1, 15000, 'the poison message in orders.dlq');
    await eventually(() => good === 1, 10000, 'the good message');
    assert.deepEqual(seen.map((m) => m.attempts), [1, 2, 3], 'delivered max_attempts times, then dead-lettered');
    const first = seen[0]!;
    const dl = dead[0]!;
    assert.equal(dl.id, first.id);
    assert.equal(dl.body.toString(), 'poison');
    assert.equal(dl.timestamp, first.timestamp);
    // Stored with its 3 attempts; the DLQ delivery is one more, as every delivery counts.
    assert.equal(dl.attempts, 4);

    await eventually(async () => {
      const ch = channelOf(await statsJson(d.httpPort, '&topic=orders'), 'orders', 'billing');
      assert.ok(ch);
      assert.equal(ch['dead_lettered_count'], 1);
      assert.equal(ch.depth, 0);
      assert.equal(ch.in_flight_count, 0);
      assert.equal(ch['expired_count'], 0);
    });
    const metrics = (await get(d.httpPort, '/metrics')).text;
    assert.match(metrics, /^nsq_channel_dead_lettered_total\{topic="orders",channel="billing"\} 1$/m);

    // The setting is an extra key on the channel in nsqd.dat (ignored by the original) and survives a restart.
    const dat = JSON.parse(fs.readFileSync(path.join(d.dataPath, 'nsqd.dat'), 'utf8')) as { topics: Array<{ name: string; channels: Array<{ name: string; extensions?: unknown }> }> };
    const billing = dat.topics.find((t) => t.name === 'orders')?.channels.find((c) => c.name === 'billing');
    assert.deepEqual(billing, { name: 'billing', paused: false, extensions: { max_attempts: 3 } });
    for (const c of closers.splice(0)) c.close();
    const d2 = await d.restart();
    daemons.push(d2);
    const cfg = await getJson<{ config: object; effective: { max_attempts: number } }>(d2.httpPort, '/channel/config?topic=orders&channel=billing');
    assert.deepEqual(cfg.config, { max_attempts: 3 });
    assert.equal(cfg.effective.max_attempts, 3);
  });

  it('--max-attempts: a message that keeps timing out is dead-lettered; the DLQ topic does not dead-letter again', async () => {
    const d = await startNsqd(['--max-attempts=2', '--dead-letter-topic-suffix=.dead']);
    daemons.push(d);
    const c = await RawClient.connect(d.tcpPort);
    closers.push({ close: () => c.destroy() });
    c.identify({ msg_timeout: 1000 });
    await c.expectResponse('OK');
    c.send('SUB jobs w');
    await c.expectResponse('OK');
    c.send('RDY 5');
    const p = await RawClient.connect(d.tcpPort);
    closers.push({ close: () => p.destroy() });
    p.send('PUB jobs', 'slow');
    await p.expectResponse('OK');
    const a = await c.readMessage();
    const b = await c.readMessage(5000); // redelivered after the 1 s timeout
    assert.equal(a.attempts, 1);
    assert.equal(b.attempts, 2);
    assert.equal(b.id, a.id);
    // Never finished: after the second timeout it goes to jobs.dead, with attempts 2.
    await eventually(async () => {
      const s = await statsJson(d.httpPort);
      assert.equal(channelOf(s, 'jobs', 'w')?.['dead_lettered_count'], 1);
      assert.equal(s.topics?.find((t) => t.topic_name === 'jobs.dead')?.depth, 1);
    }, 10000);
    await c.expectSilence(300);
    const sub = await RawClient.connect(d.tcpPort);
    closers.push({ close: () => sub.destroy() });
    sub.send('SUB jobs.dead inspect');
    await sub.expectResponse('OK');
    sub.send('RDY 1');
    const m = await sub.readMessage();
    assert.equal(m.id, a.id);
    assert.equal(m.attempts, 3);
    assert.equal(m.body.toString(), 'slow');
    const cfg = await getJson<{ effective: { max_attempts: number } }>(d.httpPort, '/channel/config?topic=jobs.dead&channel=inspect');
    assert.equal(cfg.effective.max_attempts, 0, 'the flag default does not apply to a dead-letter topic');
  });

  it('bad settings get the API style errors', async () => {
    const d = await startNsqd();
    daemons.push(d);
    await postOk(d.httpPort, '/topic/create?topic=t');
    await postOk(d.httpPort, '/channel/create?topic=t&channel=c');
    const cases: Array<[string, string | undefined, number, string]> = [
      ['/channel/config?topic=t&channel=c&max_attempts=x', undefined, 400, 'INVALID_MAX_ATTEMPTS'],
      ['/channel/config?topic=t&channel=c', '{"dead_letter_topic": "a b"}', 400, 'INVALID_DEAD_LETTER_TOPIC'],
      ['/channel/config?topic=t&channel=c', '[1]', 400, 'INVALID_BODY'],
      ['/channel/config?topic=t&channel=c&nope=1', undefined, 400, 'INVALID_ARG_NOPE'],
      ['/channel/config?topic=t&channel=zz', undefined, 404, 'CHANNEL_NOT_FOUND'],
      ['/topic/config?topic=missing', undefined, 404, 'TOPIC_NOT_FOUND'],
      ['/topic/config?topic=t&max_depth_policy=oldest', undefined, 400, 'INVALID_MAX_DEPTH_POLICY'],
    ];
    for (const [url, body, status, message] of cases) {
      const r = await post(d.httpPort, url, body);
      assert.equal(r.status, status, `${url}: ${r.text}`);
      assert.equal(JSON.parse(r.text).message, message, url);
    }
  });
});
