/**
 * A consumer over three real nsqd nodes: exactly-once accounting of a 20k stream through the FIN,
 * REQ and REQ-with-backoff paths, and the shared max-in-flight: the RDY counts nsqd reports for
 * the consumer's connections never add up to more than the budget, also when the budget is
 * smaller than the number of connections (RDY rotates).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';
import { eventually, sleep } from '../helpers/wait.js';
import { Consumer, Producer, type Message } from '../../src/client/index.js';
import { quietLogger } from './helpers.js';

/** Sum over nodes of the ready_count nsqd reports for the channel's clients. */
async function readyCountSum(nodes: Daemon[], topic: string, channel: string): Promise<number> {
  let sum = 0;
  for (const n of nodes) {
    const ch = channelStats(await nsqdStats(n.httpPort, topic), topic, channel);
    for (const c of ch?.clients ?? []) sum += c.ready_count;
  }
  return sum;
}

/** Polls the RDY sum until stopped; returns the largest value seen and how many polls ran. */
function watchReadyCount(nodes: Daemon[], topic: string, channel: string): { stop(): Promise<{ max: number; polls: number }> } {
  let running = true;
  let max = 0;
  let polls = 0;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, await readyCountSum(nodes, topic, channel));
      polls++;
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { max, polls };
    },
  };
}

describe('consumer flow control over three nsqd', () => {
  let nodes: Daemon[] = [];
  const addrs = () => nodes.map((n) => `127.0.0.1:${n.tcpPort}`);

  // Clients of a test that failed half-way are closed here, or their timers keep the file alive.
  const clients: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(c: T): T => {
    clients.push(c);
    return c;
  };

  before(async () => {
    nodes = await Promise.all([startNsqd(), startNsqd(), startNsqd()]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('finishes every message of a 20k stream exactly once through FIN, REQ and backoff', async () => {
    const topic = 'stream';
    const total = 20000;
    const maxInFlight = 64;
    const isPlainRequeue = (i: number) => i % 10 === 3;
    const isBackoffRequeue = (i: number) => i % 97 === 5 && !isPlainRequeue(i);
    const deliveries = new Uint8Array(total);
    const finishes = new Uint8Array(total);
    let rdyOverBudget = 0;
    let backoffs = 0;

    const consumer = track(new Consumer(topic, 'ch', {
      nsqdTcpAddresses: addrs(),
      maxInFlight,
      backoffMultiplier: 5,
      maxBackoffDuration: 40,
      defaultRequeueDelay: 0,
      maxAttempts: 0,
      logger: quietLogger(),
    }));
    consumer.on('backoff', (level: number) => level > 0 && backoffs++);
    consumer.handle(async (m: Message) => {
      if (consumer.totalRdy > maxInFlight) rdyOverBudget++;
      const i = Number(m.body.toString());
      deliveries[i]!++;
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
      if (m.attempts === 1 && isPlainRequeue(i)) return m.requeue(0, false);
      if (m.attempts === 1 && isBackoffRequeue(i)) throw new Error('backoff please');
      finishes[i]!++;
      m.finish();
    });
    await consumer.connect();
    assert.equal(consumer.stats().connections, 3);
    const watch = watchReadyCount(nodes, topic, 'ch');

    // Publish while consuming: round-robin batches over the three nodes.
    const producers = addrs().map((a) => track(new Producer(a, { logger: quietLogger() })));
    const batches: Promise<void>[] = [];
    for (let start = 0, k = 0; start < total; start += 100, k++) {
      const bodies = Array.from({ length: Math.min(100, total - start) }, (_, j) => String(start + j));
      batches.push(producers[k % 3]!.mpublish(topic, bodies));
    }
    await Promise.all(batches);

    await eventually(async () => consumer.stats().messagesFinished === total, 120000, 'every message finished');
    const rdy = await watch.stop();
    await consumer.close();
    await Promise.all(producers.map((p) => p.close()));

    let requeued = 0;
    for (let i = 0; i < total; i++) {
      assert.equal(finishes[i], 1, `message ${i} finished ${finishes[i]} times`);
      const expected = isPlainRequeue(i) || isBackoffRequeue(i) ? 2 : 1;
      if (expected === 2) requeued++;
      assert.equal(deliveries[i], expected, `message ${i} delivered ${deliveries[i]} times`);
    }
    const s = consumer.stats();
    assert.equal(s.messagesRequeued, requeued);
    assert.equal(s.messagesReceived, total + requeued);
    assert.ok(backoffs > 0, 'backoff engaged');
    assert.equal(rdyOverBudget, 0);
    assert.ok(rdy.polls > 0);
    assert.ok(rdy.max <= maxInFlight, `nsqd saw a total RDY of ${rdy.max} > ${maxInFlight}`);
    for (const n of nodes) {
      const ch = channelStats(await nsqdStats(n.httpPort, topic), topic, 'ch')!;
      assert.equal(ch.depth, 0);
      assert.equal(ch.in_flight_count, 0);
      assert.equal(ch.deferred_count, 0);
    }
  });

  it('rotates RDY when max-in-flight is below the connection count, never exceeding it', async () => {
    const topic = 'rotate';
    for (const a of addrs()) {
      const p = track(new Producer(a, { logger: quietLogger() }));
      await p.mpublish(topic, Array.from({ length: 20 }, (_, i) => `${a}/${i}`));
      await p.close();
    }
    const seen = new Set<string>();
    const consumer = track(new Consumer(topic, 'ch', {
      nsqdTcpAddresses: addrs(),
      maxInFlight: 2,
      rdyRedistributeInterval: 50,
      lowRdyIdleTimeout: 100,
      lowRdyTimeout: 300,
      logger: quietLogger(),
    }));
    consumer.handle((m) => void seen.add(m.body.toString()));
    const watch = watchReadyCount(nodes, topic, 'ch');
    await consumer.connect();
    await eventually(async () => seen.size === 60, 60000, 'all 60 messages from the three nodes');
    const rdy = await watch.stop();
    await consumer.close();
    assert.ok(rdy.max <= 2, `nsqd saw a total RDY of ${rdy.max} > 2`);
    assert.ok(consumer.totalRdy <= 2);
  });

  it('backs off with RDY 0 everywhere, tests with RDY 1, and recovers the full share', async () => {
    const topic = 'backoff';
    const p = track(new Producer(addrs()[0]!, { logger: quietLogger() }));
    await p.mpublish(topic, Array.from({ length: 40 }, (_, i) => String(i)));
    const levels: number[] = [];
    let failuresLeft = 3;
    const consumer = track(new Consumer(topic, 'ch', {
      nsqdTcpAddresses: addrs(),
      maxInFlight: 6,
      backoffMultiplier: 100,
      maxBackoffDuration: 2000,
      defaultRequeueDelay: 0,
      // Only node 0 has messages: the RDY 1 that tests the waters after a backoff goes to a random
      // connection and moves on by redistribution once it stays idle (go-nsq), which with the
      // defaults (every 5 s, idle after 10 s) could take longer than this test waits.
      rdyRedistributeInterval: 100,
      lowRdyIdleTimeout: 300,
      logger: quietLogger(),
    }));
    consumer.on('backoff', (l: number) => levels.push(l));
    let rdyDuringBackoff = -1;
    let done = 0;
    consumer.handle(async (m) => {
      if (failuresLeft > 0 && m.attempts === 1) {
        failuresLeft--;
        if (failuresLeft === 0) {
          // Sample what nsqd sees while the consumer is in its backoff timeout.
          setTimeout(() => void readyCountSum(nodes, topic, 'ch').then((n) => (rdyDuringBackoff = n)), 50);
        }
        throw new Error('fail');
      }
      done++;
    });
    await consumer.connect();
    await eventually(async () => done === 40, 30000, 'all messages handled');
    await eventually(async () => consumer.backoffLevel === 0 && (await readyCountSum(nodes, topic, 'ch')) === 6, 10000, 'full RDY restored');
    await consumer.close();
    await p.close();
    assert.ok(levels.length >= 2 && levels[0] === 1, `levels ${levels}`);
    assert.equal(levels[levels.length - 1], 0);
    assert.ok(rdyDuringBackoff === 0 || rdyDuringBackoff === 1, `RDY during backoff ${rdyDuringBackoff}`);
  });
});
