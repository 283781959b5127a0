/**
 * Producer and Consumer against one real nsqd: publish/mpublish/dpublish answers, server error
 * codes, FIN and REQ, the three consumption styles, attempts limit and clean close.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';
import { eventually, sleep } from '../helpers/wait.js';
import { Consumer, NsqError, Producer, type Message } from '../../src/client/index.js';
import { quietLogger } from './helpers.js';

describe('client basics against one nsqd', () => {
  let nsqd: Daemon;
  let producer: Producer;
  let seq = 0;
  const uniq = (p: string) => `${p}_${++seq}`;
  const addr = () => `127.0.0.1:${nsqd.tcpPort}`;

  before(async () => {
    nsqd = await startNsqd(['--max-msg-size=1024']);
    producer = new Producer(addr(), { logger: quietLogger() });
  });
  after(async () => {
    await producer.close();
    await nsqd.stop();
  });

  it('publishes with PUB, MPUB and DPUB, each answered by OK', async () => {
    const topic = uniq('pub');
    await producer.publish(topic, 'one');
    await producer.mpublish(topic, ['two', Buffer.from('three')]);
    await producer.dpublish(topic, 'four', 60000);
    const s = await nsqdStats(nsqd.httpPort, topic);
    const t = s.topics!.find((x) => x.topic_name === topic)!;
    assert.equal(t.message_count, 4);
  });

  it('rejects with the server error code and keeps working after reconnecting', async () => {
    const topic = uniq('err');
    const big = Buffer.alloc(2048, 1);
    const results = await Promise.allSettled([producer.publish(topic, 'ok'), producer.publish(topic, big), producer.publish(topic, 'after')]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    const e = (results[1] as PromiseRejectedResult).reason as NsqError;
    assert.ok(e instanceof NsqError);
    assert.equal(e.code, 'E_BAD_MESSAGE');
    assert.equal(e.fatal, true);
    // nsqd closed the connection after the fatal error: the pipelined publish behind it fails…
    assert.equal(results[2].status, 'rejected');
    assert.equal(((results[2] as PromiseRejectedResult).reason as NsqError).code, 'E_NOT_CONNECTED');
    // …and the next publish reconnects.
    await producer.publish(topic, 'again');
  });

  it('rejects invalid topic names locally', async () => {
    await assert.rejects(producer.publish('bad topic', 'x'), (e: NsqError) => e.code === 'E_BAD_TOPIC');
    await assert.rejects(producer.mpublish('t', []), (e: NsqError) => e.code === 'E_INVALID_ARGUMENT');
  });

  it('consumes with a handler: resolved → FIN, rejected → REQ and redelivery', async () => {
    const topic = uniq('handle');
    const bodies = Array.from({ length: 50 }, (_, i) => `m${i}`);
    await producer.mpublish(topic, bodies);
    const seen = new Map<string, number>();
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], maxInFlight: 10, logger: quietLogger(), maxBackoffDuration: 0, defaultRequeueDelay: 0 });
    c.handle(async (m) => {
      const b = m.body.toString();
      seen.set(b, (seen.get(b) ?? 0) + 1);
      if (m.attempts === 1 && Number(b.slice(1)) % 5 === 0) throw new Error('try again');
    });
    await c.connect();
    await eventually(async () => c.stats().messagesFinished === 50, 10000, 'all finished');
    await c.close();
    assert.equal(seen.size, 50);
    for (const [b, n] of seen) assert.equal(n, Number(b.slice(1)) % 5 === 0 ? 2 : 1, b);
    assert.equal(c.stats().messagesRequeued, 10);
    const ch = channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')!;
    assert.equal(ch.depth, 0);
    assert.equal(ch.in_flight_count, 0);
    assert.equal(ch.requeue_count, 10);
  });

  it('consumes with an async iterator and a message listener', async () => {
    const topic = uniq('iter');
    await producer.mpublish(topic, ['a', 'b', 'c']);
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], maxInFlight: 3, logger: quietLogger() });
    await c.connect();
    const got: string[] = [];
    for await (const m of c) {
      got.push(m.body.toString());
      m.finish();
      if (got.length === 3) break;
    }
    assert.deepEqual(got.sort(), ['a', 'b', 'c']);
    // A listener answering by itself.
    const done = new Promise<Message>((resolve) => c.on('message', (m: Message) => {
      m.finish();
      resolve(m);
    }));
    await producer.publish(topic, 'd');
    const m = await done;
    assert.equal(m.body.toString(), 'd');
    assert.equal(m.attempts, 1);
    assert.equal(m.nsqdAddress, addr());
    assert.equal(m.id.length, 16);
    assert.ok(m.timestamp > 0n);
    await c.close();
    assert.equal(c.stats().messagesFinished, 4);
  });

  it('discards messages over maxAttempts after the discard hook, then FINs them', async () => {
    const topic = uniq('attempts');
    await producer.publish(topic, 'poison');
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], maxAttempts: 2, maxBackoffDuration: 0, logger: quietLogger() });
    let handled = 0;
    const discarded = new Promise<Message>((resolve) => c.on('discard', resolve));
    c.handle((m) => {
      handled++;
      m.requeue(0);
    });
    await c.connect();
    const m = await discarded;
    assert.equal(m.attempts, 3);
    assert.equal(handled, 2);
    await eventually(async () => channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')?.in_flight_count === 0, 5000, 'discarded message finished');
    await c.close();
  });

  it('close() waits for the handler to answer its message before closing', async () => {
    const topic = uniq('close');
    await producer.publish(topic, 'slow');
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], logger: quietLogger() });
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      c.handle(() => {
        resolve();
        return new Promise<void>((r) => (release = r));
      });
    });
    await c.connect();
    await started;
    const closing = c.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await sleep(200);
    assert.equal(closed, false);
    release();
    await closing;
    const ch = channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')!;
    assert.equal(ch.in_flight_count, 0);
    assert.equal(ch.requeue_count, 0);
    assert.equal(ch.timeout_count, 0);
    await eventually(async () => channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')?.client_count === 0, 5000, 'client gone');
  });

  it('close() gives up RDY before requeueing queued messages, so none comes back to it', async () => {
    const topic = uniq('closeq');
    await producer.mpublish(topic, ['a', 'b', 'c', 'd', 'e']);
    // No handler: delivered messages wait in the consumer's queue until close() hands them back.
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], maxInFlight: 10, logger: quietLogger() });
    await c.connect();
    await eventually(() => c.stats().messagesReceived === 5, 5000, 'all five delivered');
    await c.close();
    assert.equal(c.stats().messagesReceived, 5, 'no requeued message was delivered to the closing consumer');
    const ch = channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')!;
    assert.equal(ch.requeue_count, 5);
    assert.equal(ch.in_flight_count, 0);
    assert.equal(ch.depth, 5);
  });

  it('answers heartbeats so an idle connection outlives its read timeout; ping() connects', async () => {
    const topic = uniq('idle');
    const p = new Producer(addr(), { heartbeatInterval: 1000, readTimeout: 3000, logger: quietLogger() });
    await p.ping();
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], heartbeatInterval: 1000, readTimeout: 3000, logger: quietLogger() });
    let closes = 0;
    c.on('nsqdClosed', () => closes++);
    await c.connect();
    await sleep(5000);
    assert.equal(closes, 0);
    assert.equal(p.state, 'connected');
    await p.publish(topic, 'still here');
    const m = await new Promise<Message>((resolve) => c.handle(resolve));
    assert.equal(m.body.toString(), 'still here');
    await c.close();
    await p.close();
  });

  it('autoTouch keeps a slow message from timing out', async () => {
    const topic = uniq('touch');
    await producer.publish(topic, 'slow');
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], msgTimeout: 1000, autoTouch: true, logger: quietLogger() });
    const attempts: number[] = [];
    c.handle(async (m) => {
      attempts.push(m.attempts);
      await sleep(2500);
    });
    await c.connect();
    await eventually(async () => c.stats().messagesFinished === 1, 10000, 'finished');
    await c.close();
    assert.deepEqual(attempts, [1]);
    const ch = channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')!;
    assert.equal(ch.timeout_count, 0);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const topic = uniq('conc');
    await producer.mpublish(topic, Array.from({ length: 20 }, (_, i) => String(i)));
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], maxInFlight: 10, concurrency: 2, logger: quietLogger() });
    let running = 0;
    let peak = 0;
    c.handle(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
    });
    await c.connect();
    await eventually(async () => c.stats().messagesFinished === 20, 10000, 'all handled');
    await c.close();
    assert.equal(peak, 2);
  });

  it('disableAutoResponse leaves answering to the caller; isStarved reports a used-up RDY', async () => {
    const topic = uniq('batch');
    await producer.mpublish(topic, Array.from({ length: 10 }, (_, i) => String(i)));
    const c = new Consumer(topic, 'ch', { nsqdTcpAddresses: [addr()], maxInFlight: 5, logger: quietLogger() });
    const held: Message[] = [];
    c.handle((m) => {
      m.disableAutoResponse();
      held.push(m);
    });
    await c.connect();
    await eventually(async () => held.length === 5, 10000, 'a full batch');
    assert.equal(c.isStarved(), true);
    assert.equal(c.stats().messagesFinished, 0);
    for (const m of held.splice(0)) m.finish();
    await eventually(async () => held.length === 5, 10000, 'the second batch');
    for (const m of held.splice(0)) m.finish();
    await eventually(async () => c.stats().messagesFinished === 10, 10000, 'all finished');
    assert.equal(c.isStarved(), false);
    await c.close();
  });

  it('fails cleanly on an HTTP port and on a closed port', async () => {
    const http = new Producer(`127.0.0.1:${nsqd.httpPort}`, { logger: quietLogger() });
    await assert.rejects(http.publish('t', 'x'), (e: NsqError) => e.code === 'E_PROTOCOL' && /HTTP/.test(e.message));
    await http.close();
    const closed = new Producer('127.0.0.1:1', { logger: quietLogger() });
    await assert.rejects(closed.publish('t', 'x'), (e: NsqError) => e.code === 'E_NOT_CONNECTED');
    await closed.close();
    const c = new Consumer('t', 'c', { logger: quietLogger() });
    await assert.rejects(c.connectToNsqd('127.0.0.1:1'), (e: NsqError) => e.code === 'E_NOT_CONNECTED');
    await c.close();
  });
});
