import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { channelStats, mpubBody, nsqdStats, RawClient } from '../helpers/raw-client.js';
import { startNsqd } from '../helpers/daemons.js';
import { sharedNsqd } from '../helpers/shared-nsqd.js';
import type { Message } from '../../src/protocol/message.js';
import { eventually, sleep } from '../helpers/wait.js';

/**
 * Message delivery over protocol V2 against a real nsqd (docs/protocol.md: Delivery,
 * Heartbeats and buffering; upstream `nsqd/channel.go`): RDY as an in-flight ceiling, FIN/REQ/TOUCH with ownership, timeouts and
 * redelivery, CLS, sampling, unbuffered output, consumer limits, ephemeral lifetimes, DPUB/MPUB.
 */
const { daemon, connect, uniq } = sharedNsqd();

/** A consumer: optional IDENTIFY, SUB, optional RDY. */
async function consumer(topic: string, channel: string, opts: { identify?: object; rdy?: number } = {}): Promise<RawClient> {
  const c = await connect();
  if (opts.identify) {
    c.identify(opts.identify);
    await c.expectResponse('OK');
  }
  c.send(`SUB ${topic} ${channel}`);
  await c.expectResponse('OK');
  if (opts.rdy !== undefined) c.send(`RDY ${opts.rdy}`);
  return c;
}

let publisher: RawClient | null = null;
async function publish(topic: string, ...bodies: string[]): Promise<void> {
  publisher ??= await RawClient.connect(daemon().tcpPort);
  for (const b of bodies) {
    publisher.send(`PUB ${topic}`, b);
    await publisher.expectResponse('OK');
  }
}

async function chStats(topic: string, channel: string) {
  const ch = channelStats(await nsqdStats(daemon().httpPort, topic), topic, channel);
  assert.ok(ch, `channel ${topic}:${channel} not in /stats`);
  return ch;
}

const body = (m: Message) => m.body.toString();

// The publisher outlives single tests, so it is not one of sharedNsqd's per-test connections.
after(() => {
  publisher?.destroy();
});

describe('delivery and RDY', () => {
  it('sends nothing until RDY, then a well-formed message frame', async () => {
    const topic = uniq('first');
    const c = await consumer(topic, 'ch');
    const before = Date.now();
    await publish(topic, 'hello');
    await c.expectSilence(150);
    c.send('RDY 1');
    const m = await c.readMessage();
    assert.equal(body(m), 'hello');
    assert.equal(m.attempts, 1);
    assert.match(m.id, /^[0-9a-f]{16}$/);
    const tsMs = m.timestampNs() / 1e6;
    assert.ok(tsMs >= before - 1000 && tsMs <= Date.now() + 1000, `timestamp ${tsMs}`);
  });

  it('treats RDY as a ceiling on in-flight messages that is never decremented', async () => {
    const topic = uniq('ceiling');
    await publish(topic, 'm1', 'm2', 'm3', 'm4', 'm5');
    const c = await consumer(topic, 'ch', { rdy: 2 });
    const a = await c.readMessage();
    const b = await c.readMessage();
    assert.deepEqual([body(a), body(b)], ['m1', 'm2']);
    await c.expectSilence(200);
    let st = await chStats(topic, 'ch');
    assert.equal(st.in_flight_count, 2);
    assert.equal(st.clients![0]!.ready_count, 2);
    assert.equal(st.clients![0]!.in_flight_count, 2);
    // A FIN frees one slot: the next message flows without a new RDY.
    c.send(`FIN ${a.id}`);
    assert.equal(body(await c.readMessage()), 'm3');
    await c.expectSilence(150);
    // RDY 0 stops delivery even when slots free up.
    c.send('RDY 0');
    c.send(`FIN ${b.id}`);
    await c.expectSilence(200);
    st = await chStats(topic, 'ch');
    assert.equal(st.in_flight_count, 1);
    assert.equal(st.depth, 2);
    assert.equal(st.clients![0]!.finish_count, 2);
    assert.equal(st.clients![0]!.message_count, 3);
    // Raising RDY resumes.
    c.send('RDY 10');
    assert.deepEqual([body(await c.readMessage()), body(await c.readMessage())], ['m4', 'm5']);
  });

  it('delivers an MPUB batch in order', async () => {
    const topic = uniq('mpub');
    const c = await consumer(topic, 'ch', { rdy: 10 });
    const p = await connect();
    p.send(`MPUB ${topic}`, mpubBody(['one', 'two', 'three', Buffer.from([0, 255]).toString('latin1')]));
    await p.expectResponse('OK');
    const got = [await c.readMessage(), await c.readMessage(), await c.readMessage(), await c.readMessage()];
    assert.deepEqual(got.slice(0, 3).map(body), ['one', 'two', 'three']);
    assert.equal(new Set(got.map((m) => m.id)).size, 4);
  });

  it('accepts PUB with a CRLF line ending and keeps the body intact', async () => {
    const topic = uniq('crlf');
    const c = await consumer(topic, 'ch', { rdy: 1 });
    const p = await connect();
    p.write(Buffer.concat([Buffer.from(`PUB ${topic}\r\n`), Buffer.from([0, 0, 0, 4]), Buffer.from('a\r\nb')]));
    await p.expectResponse('OK');
    assert.equal(body(await c.readMessage()), 'a\r\nb');
  });

  it('gives every channel its own copy and balances a channel between its consumers', async () => {
    const topic = uniq('fanout');
    const a = await consumer(topic, 'ch1', { rdy: 10 });
    const b1 = await consumer(topic, 'ch2', { rdy: 1 });
    const b2 = await consumer(topic, 'ch2', { rdy: 1 });
    await publish(topic, 'x', 'y');
    assert.deepEqual([body(await a.readMessage()), body(await a.readMessage())], ['x', 'y']);
    const m1 = await b1.readMessage();
    const m2 = await b2.readMessage();
    assert.deepEqual([body(m1), body(m2)].sort(), ['x', 'y']);
  });

  it('delivers thousands of messages exactly once and in order to a consumer that FINs as it goes', async () => {
    const topic = uniq('bulk');
    const c = await consumer(topic, 'ch', { rdy: 50 });
    const p = await connect();
    const total = 5000;
    for (let i = 0; i < total; i += 500) {
      p.send(`MPUB ${topic}`, mpubBody(Array.from({ length: 500 }, (_, j) => `n${i + j}`)));
      await p.expectResponse('OK');
    }
    for (let i = 0; i < total; i++) {
      const m = await c.readMessage();
      assert.equal(body(m), `n${i}`);
      assert.equal(m.attempts, 1);
      c.send(`FIN ${m.id}`);
    }
    await c.expectSilence(100);
    const st = await chStats(topic, 'ch');
    assert.equal(st.clients![0]!.finish_count, total);
    assert.equal(st.in_flight_count, 0);
    assert.equal(st.depth, 0);
  });

  it('delivers with output_buffer_size -1 (unbuffered)', async () => {
    const topic = uniq('unbuf');
    const c = await consumer(topic, 'ch', { identify: { output_buffer_size: -1 }, rdy: 100 });
    const bodies = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await publish(topic, ...bodies);
    const got: string[] = [];
    for (let i = 0; i < bodies.length; i++) got.push(body(await c.readMessage()));
    assert.deepEqual(got, bodies);
  });

  it('delivers with a small output buffer and messages larger than it', async () => {
    const topic = uniq('smallbuf');
    const c = await consumer(topic, 'ch', { identify: { output_buffer_size: 64, output_buffer_timeout: 25 }, rdy: 100 });
    const big = 'B'.repeat(5000);
    await publish(topic, 'a', big, 'c');
    assert.deepEqual([body(await c.readMessage()), body(await c.readMessage()), body(await c.readMessage())], ['a', big, 'c']);
  });
});

describe('FIN, REQ, TOUCH', () => {
  it('enforce ownership between two consumers of one channel (non-fatal)', async () => {
    const topic = uniq('owner');
    const a = await consumer(topic, 'ch', { rdy: 1 });
    const b = await consumer(topic, 'ch', { rdy: 1 });
    await publish(topic, 'p', 'q');
    const ma = await a.readMessage();
    const mb = await b.readMessage();
    a.send(`FIN ${mb.id}`);
    await a.expectError(`E_FIN_FAILED FIN ${mb.id} failed client does not own message`);
    a.send(`REQ ${mb.id} 0`);
    await a.expectError(`E_REQ_FAILED REQ ${mb.id} failed client does not own message`);
    a.send(`TOUCH ${mb.id}`);
    await a.expectError(`E_TOUCH_FAILED TOUCH ${mb.id} failed client does not own message`);
    await a.expectOpen();
    a.send(`FIN ${ma.id}`);
    b.send(`FIN ${mb.id}`);
    await eventually(async () => (await chStats(topic, 'ch')).in_flight_count === 0, 3000, 'both FINs');
    // A second FIN of the same id: no longer in flight.
    a.send(`FIN ${ma.id}`);
    await a.expectError(`E_FIN_FAILED FIN ${ma.id} failed ID not in flight`);
  });

  it('REQ 0 puts the message straight back; attempts grow on redelivery', async () => {
    const topic = uniq('req0');
    const c = await consumer(topic, 'ch', { rdy: 1 });
    await publish(topic, 'again');
    const m1 = await c.readMessage();
    assert.equal(m1.attempts, 1);
    c.send(`REQ ${m1.id} 0`);
    const m2 = await c.readMessage();
    assert.equal(m2.id, m1.id);
    assert.equal(m2.attempts, 2);
    assert.equal(m2.timestampNs(), m1.timestampNs());
    c.send(`FIN ${m2.id}`);
    await c.expectSilence(100);
    const st = await chStats(topic, 'ch');
    assert.equal(st.requeue_count, 1);
    assert.equal(st.clients![0]!.requeue_count, 1);
    assert.equal(st.clients![0]!.finish_count, 1);
    assert.equal(st.in_flight_count, 0);
  });

  it('REQ with a delay defers the message (deferred_count) and redelivers it later', async () => {
    const topic = uniq('reqdelay');
    const c = await consumer(topic, 'ch', { rdy: 1 });
    await publish(topic, 'later');
    const m1 = await c.readMessage();
    c.send(`REQ ${m1.id} 400`);
    await c.expectSilence(100);
    const st = await chStats(topic, 'ch');
    assert.equal(st.deferred_count, 1);
    assert.equal(st.in_flight_count, 0);
    assert.equal(st.requeue_count, 1);
    const m2 = await c.readMessage(3000);
    assert.equal(m2.id, m1.id);
    assert.equal(m2.attempts, 2);
    assert.equal((await chStats(topic, 'ch')).deferred_count, 0);
  });

  it('times a message out after the IDENTIFY msg_timeout and redelivers it with attempts+1', async () => {
    const topic = uniq('timeout');
    const c = await consumer(topic, 'ch', { identify: { msg_timeout: 1000 }, rdy: 1 });
    await publish(topic, 'slow');
    const m1 = await c.readMessage();
    c.send('RDY 0');
    await eventually(async () => (await chStats(topic, 'ch')).timeout_count === 1, 4000, 'timeout');
    const st = await chStats(topic, 'ch');
    assert.equal(st.in_flight_count, 0);
    assert.equal(st.depth, 1);
    assert.equal(st.clients![0]!.in_flight_count, 0);
    c.send(`FIN ${m1.id}`);
    await c.expectError(`E_FIN_FAILED FIN ${m1.id} failed ID not in flight`);
    c.send('RDY 1');
    const m2 = await c.readMessage();
    assert.equal(m2.id, m1.id);
    assert.equal(m2.attempts, 2);
  });

  it('TOUCH pushes the deadline out', async () => {
    const topic = uniq('touch');
    const c = await consumer(topic, 'ch', { identify: { msg_timeout: 1000 }, rdy: 1 });
    await publish(topic, 'held');
    const m = await c.readMessage();
    for (let i = 0; i < 5; i++) {
      await sleep(350);
      c.send(`TOUCH ${m.id}`);
    }
    await c.expectSilence(100); // TOUCH has no response and did not fail
    const st = await chStats(topic, 'ch');
    assert.equal(st.timeout_count, 0, 'touched message timed out');
    assert.equal(st.in_flight_count, 1);
    c.send(`FIN ${m.id}`);
    await c.expectSilence(100);
    assert.equal((await chStats(topic, 'ch')).in_flight_count, 0);
  });

  it('clamps a REQ timeout above --max-req-timeout, and treats an overflowed (negative) one as 0', async () => {
    const topic = uniq('reqclamp');
    const c = await consumer(topic, 'ch', { rdy: 1 });
    await publish(topic, 'r');
    const m1 = await c.readMessage();
    c.send(`REQ ${m1.id} 99999999999`);
    await c.expectSilence(100);
    assert.equal((await chStats(topic, 'ch')).deferred_count, 1);
    // Another message: 9223372036855 ms overflows int64 ns, wraps negative, and requeues at once.
    await publish(topic, 's');
    const m2 = await c.readMessage();
    c.send(`REQ ${m2.id} 9223372036855`);
    const again = await c.readMessage();
    assert.equal(again.id, m2.id);
    assert.equal(again.attempts, 2);
  });

  it('caps TOUCH at delivery + --max-msg-timeout; a later TOUCH fails once the message timed out', async () => {
    const d = await startNsqd(['--msg-timeout=1s', '--max-msg-timeout=1500ms']);
    const c = await RawClient.connect(d.tcpPort);
    try {
      // No msg_timeout in IDENTIFY: the connection gets --msg-timeout.
      c.identify({ feature_negotiation: true });
      const reply = JSON.parse((await c.readText())[1]) as Record<string, unknown>;
      assert.equal(reply.msg_timeout, 1000);
      assert.equal(reply.max_msg_timeout, 1500);
      c.send('SUB capped ch');
      await c.expectResponse('OK');
      c.send('RDY 1');
      const p = await RawClient.connect(d.tcpPort);
      p.send('PUB capped', 'x');
      await p.expectResponse('OK');
      p.destroy();
      const m = await c.readMessage();
      c.send('RDY 0');
      for (const wait of [400, 400, 400]) {
        await sleep(wait);
        c.send(`TOUCH ${m.id}`);
      }
      // Uncapped, the last TOUCH (~1.2 s) would hold the message until ~2.2 s.
      await sleep(800);
      c.send(`TOUCH ${m.id}`);
      await c.expectError(`E_TOUCH_FAILED TOUCH ${m.id} failed ID not in flight`);
      const st = channelStats(await nsqdStats(d.httpPort, 'capped'), 'capped', 'ch')!;
      assert.equal(st.timeout_count, 1);
    } finally {
      c.destroy();
      await d.stop();
    }
  });

  it('keeps a disconnected consumer\'s messages in flight until they time out, then redelivers', async () => {
    const topic = uniq('gone');
    const a = await consumer(topic, 'ch', { identify: { msg_timeout: 1000 }, rdy: 1 });
    await publish(topic, 'orphan');
    const m1 = await a.readMessage();
    a.destroy();
    await eventually(async () => (await chStats(topic, 'ch')).client_count === 0, 3000, 'disconnect');
    const st = await chStats(topic, 'ch');
    assert.equal(st.in_flight_count, 1);
    const b = await consumer(topic, 'ch', { rdy: 1 });
    const m2 = await b.readMessage(4000);
    assert.equal(m2.id, m1.id);
    assert.equal(m2.attempts, 2);
    assert.equal((await chStats(topic, 'ch')).timeout_count, 1);
  });
});

describe('CLS', () => {
  it('stops delivery, leaves the socket open, and FIN/REQ still work', async () => {
    const topic = uniq('cls');
    const c = await consumer(topic, 'ch', { rdy: 2 });
    await publish(topic, 'a', 'b');
    const m1 = await c.readMessage();
    const m2 = await c.readMessage();
    c.send('CLS');
    await c.expectResponse('CLOSE_WAIT');
    await publish(topic, 'c');
    c.send(`FIN ${m1.id}`);
    c.send(`REQ ${m2.id} 0`);
    c.send('RDY 5'); // ignored in closing
    await c.expectSilence(250);
    const st = await chStats(topic, 'ch');
    assert.equal(st.in_flight_count, 0);
    assert.equal(st.depth, 2);
    assert.equal(st.clients![0]!.finish_count, 1);
    assert.equal(st.clients![0]!.requeue_count, 1);
    assert.equal(st.clients![0]!.ready_count, 0);
    assert.equal(c.closed, false);
  });
});

describe('IDENTIFY sample_rate', () => {
  it('delivers only a sample and discards the rest for the channel', async () => {
    const topic = uniq('sample');
    const c = await consumer(topic, 'ch', { identify: { sample_rate: 1 }, rdy: 2500 });
    const p = await connect();
    const bodies = Array.from({ length: 300 }, (_, i) => `s${i}`);
    for (let i = 0; i < bodies.length; i += 100) {
      p.send(`MPUB ${topic}`, mpubBody(bodies.slice(i, i + 100)));
      await p.expectResponse('OK');
    }
    await eventually(async () => (await chStats(topic, 'ch')).depth === 0, 3000, 'drained');
    const st = await chStats(topic, 'ch');
    // P(delivery) = 2%: about 6 of 300; far from all of them, and nothing requeued.
    assert.ok(st.in_flight_count < 60, `in flight ${st.in_flight_count}`);
    assert.equal(st.message_count, 300);
    assert.equal(st.requeue_count, 0);
    assert.equal(st.clients![0]!.sample_rate, 1);
    let received = 0;
    while (c.pending() > 0 || received < st.in_flight_count) {
      await c.readMessage();
      received++;
    }
    assert.equal(received, st.in_flight_count);
  });
});

describe('DPUB', () => {
  it('delivers after the delay, not before', async () => {
    const topic = uniq('dpub');
    const c = await consumer(topic, 'ch', { rdy: 1 });
    const p = await connect();
    const sent = Date.now();
    p.send(`DPUB ${topic} 500`, 'deferred');
    await p.expectResponse('OK');
    await c.expectSilence(200);
    assert.equal((await chStats(topic, 'ch')).deferred_count, 1);
    const m = await c.readMessage(3000);
    assert.equal(body(m), 'deferred');
    assert.equal(m.attempts, 1);
    assert.ok(Date.now() - sent >= 500);
  });
});

describe('limits and lifetimes', () => {
  it('refuses a consumer beyond --max-channel-consumers', async () => {
    const d = await startNsqd(['--max-channel-consumers=1']);
    const opened: RawClient[] = [];
    try {
      const sub = async (topic: string, channel: string) => {
        const c = await RawClient.connect(d.tcpPort);
        opened.push(c);
        c.send(`SUB ${topic} ${channel}`);
        return c;
      };
      await (await sub('lim', 'c')).expectResponse('OK');
      const second = await sub('lim', 'c');
      await second.expectError('E_SUB_FAILED SUB failed consumers for lim:c exceeds limit of 1');
      await second.waitClosed();
      await (await sub('lim', 'other')).expectResponse('OK');
    } finally {
      for (const c of opened) c.destroy();
      await d.stop();
    }
  });

  it('deletes an ephemeral channel with its last client, and an ephemeral topic with its last channel', async () => {
    const topic = `${uniq('eph')}#ephemeral`;
    const c1 = await consumer(topic, 'a#ephemeral');
    const c2 = await consumer(topic, 'a#ephemeral');
    const durable = uniq('durable');
    const c3 = await consumer(durable, 'b#ephemeral');
    c1.destroy();
    await eventually(async () => (await chStats(topic, 'a#ephemeral')).client_count === 1, 3000, 'first client gone');
    c2.destroy();
    c3.destroy();
    await eventually(async () => {
      const topics = (await nsqdStats(daemon().httpPort)).topics ?? [];
      return !topics.some((t) => t.topic_name === topic) && topics.find((t) => t.topic_name === durable)?.channels.length === 0;
    }, 3000, 'ephemeral channel and topic deleted');
  });

  it('closes subscribed sockets without an error frame when their channel is deleted', async () => {
    const topic = uniq('chdel');
    const c = await consumer(topic, 'ch', { rdy: 1 });
    const res = await fetch(`http://127.0.0.1:${daemon().httpPort}/channel/delete?topic=${topic}&channel=ch`, { method: 'POST' });
    assert.equal(res.status, 200);
    await c.waitClosed();
    assert.equal(c.pending(), 0);
  });

  it('holds deliveries while the channel is paused and resumes on unpause', async () => {
    const topic = uniq('pause');
    const c = await consumer(topic, 'ch', { rdy: 5 });
    const post = (path: string) => fetch(`http://127.0.0.1:${daemon().httpPort}${path}?topic=${topic}&channel=ch`, { method: 'POST' });
    assert.equal((await post('/channel/pause')).status, 200);
    await publish(topic, 'held');
    await c.expectSilence(200);
    assert.equal((await post('/channel/unpause')).status, 200);
    assert.equal(body(await c.readMessage()), 'held');
  });

  it('keeps an ephemeral channel that never had a client', async () => {
    const topic = uniq('ephkeep');
    await publish(topic, 'x');
    const res = await fetch(`http://127.0.0.1:${daemon().httpPort}/channel/create?topic=${topic}&channel=x%23ephemeral`, { method: 'POST' });
    assert.equal(res.status, 200);
    await sleep(150);
    assert.ok(await chStats(topic, 'x#ephemeral'));
  });
});
