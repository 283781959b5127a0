/**
 * Graceful shutdown (upstream `nsqd/nsqd.go` Exit) and crash recovery: SIGTERM writes every unfinished message
 * (queued, in flight, deferred; topic backlogs) to disk and a restart delivers them again; a
 * SIGKILL with --mem-queue-size=0 --sync-every=1 loses no acknowledged message.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { channelStats, cleanup, consumeAll, createChannel, NsqConn, readQueueMeta, type Received } from './persist-client.js';
import { eventually } from '../helpers/wait.js';

const daemons: Daemon[] = [];
after(() => cleanup(daemons));

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

test('SIGTERM keeps queued, in-flight and deferred messages; a restart delivers them again', async () => {
  // mem-queue-size 10: the channel holds 10 in memory and 10 on disk before the shutdown.
  const d = await startNsqd(['--mem-queue-size=10']);
  daemons.push(d);
  await createChannel(d.httpPort, 'sd', 'ch');
  const pub = await NsqConn.connect(d.tcpPort);
  const bodies = range('sd', 30);
  for (const b of bodies) await pub.pub('sd', b);
  // A deferred publish (1 h) sits in the channel's deferred queue.
  await pub.dpub('sd', 3600000, 'sd-dpub');
  // A topic without channels keeps its backlog in memory (10) and on disk (5).
  for (const b of range('orphan', 15)) await pub.pub('orphan', b);

  const cons = await NsqConn.connect(d.tcpPort);
  await cons.identify({ msg_timeout: 300000 });
  await cons.sub('sd', 'ch');
  cons.rdy(10);
  const first = (await cons.waitForMessages(10)).slice(0, 10);
  // No more deliveries: the FINs below would otherwise make room for new ones.
  cons.rdy(0);
  // FIN 5, REQ one with a long delay (deferred), leave 4 in flight.
  const finished = first.slice(0, 5);
  const requeued = first[5]!;
  const inFlight = first.slice(6);
  for (const m of finished) cons.fin(m.id);
  cons.req(requeued.id, 3600000);
  await eventually(async () => {
    const c = await channelStats(d.httpPort, 'sd', 'ch');
    return c.in_flight_count === 4 && c.deferred_count === 2;
  }, 5000, 'FIN/REQ processed');
  const c = await channelStats(d.httpPort, 'sd', 'ch');
  assert.equal(c.depth, 20);

  // SIGTERM with a connected consumer and publisher: clean exit.
  assert.equal(await d.stop(), 0);
  await cons.closed;
  await pub.closed;
  assert.deepEqual(cons.asyncErrors, []);
  // 20 queued + 4 in flight + 2 deferred on the channel's disk queue; 15 on the topic's.
  assert.equal(readQueueMeta(d.dataPath, 'sd:ch')!.depth, 26);
  assert.equal(readQueueMeta(d.dataPath, 'orphan')!.depth, 15);

  const d2 = await d.restart();
  daemons.push(d2);
  // Memory and disk are read alternately, so the first 10 deliveries are not sd-0000..9.
  const delivered = new Set(first.map((m) => m.body.toString()));
  const neverDelivered = bodies.filter((b) => !delivered.has(b));
  assert.equal(neverDelivered.length, 20);
  const expectedBodies = [...neverDelivered, ...inFlight.map((m) => m.body.toString()), requeued.body.toString(), 'sd-dpub'].sort();
  const again = await consumeAll(d2.tcpPort, 'sd', 'ch', 26);
  assert.deepEqual(again.messages.map((m) => m.body.toString()).sort(), expectedBodies);
  // Attempts as last sent are preserved: previously delivered messages are on their 2nd attempt.
  const attempts = new Map(again.messages.map((m) => [m.body.toString(), m.attempts]));
  for (const m of [...inFlight, requeued]) assert.equal(attempts.get(m.body.toString()), 2, m.body.toString());
  for (const b of neverDelivered) assert.equal(attempts.get(b), 1, b);
  assert.equal(attempts.get('sd-dpub'), 1);
  // Same message ids as before the restart.
  const ids = new Map(first.map((m) => [m.body.toString(), m.id]));
  for (const m of again.messages) if (ids.has(m.body.toString())) assert.equal(m.id, ids.get(m.body.toString()));
  // FIN'd messages are not redelivered.
  for (const m of finished) assert.equal(attempts.has(m.body.toString()), false);

  const orphan = await consumeAll(d2.tcpPort, 'orphan', 'late', 15);
  assert.deepEqual(orphan.messages.map((m) => m.body.toString()).sort(), range('orphan', 15));

  await eventually(async () => (await channelStats(d2.httpPort, 'sd', 'ch')).in_flight_count === 0);
  await again.conn.close();
  await orphan.conn.close();
  assert.equal(await d2.stop(), 0);
  assert.equal(readQueueMeta(d.dataPath, 'sd:ch')!.depth, 0);
});

test('SIGKILL while publishing with --mem-queue-size=0 --sync-every=1 loses no acknowledged message', async () => {
  const flags = ['--mem-queue-size=0', '--sync-every=1', '--max-bytes-per-file=4096'];
  const d = await startNsqd(flags);
  daemons.push(d);
  await createChannel(d.httpPort, 'crash', 'ch');

  // A consumer takes part of the stream before the crash: what it received counts as delivered.
  const delivered = new Set<string>();
  const cons = await NsqConn.connect(d.tcpPort);
  cons.onMessage = (m: Received) => {
    delivered.add(m.body.toString());
    if (delivered.size % 3 !== 0) cons.fin(m.id);
  };
  await cons.sub('crash', 'ch');
  cons.rdy(5);

  // Publishers stream PUBs (several in flight at once) until the daemon is gone.
  const acked = new Set<string>();
  const pubs = await Promise.all([NsqConn.connect(d.tcpPort), NsqConn.connect(d.tcpPort)]);
  let stop = false;
  const streams = pubs.map(async (p, w) => {
    let i = 0;
    while (!stop) {
      const batch = Array.from({ length: 4 }, () => `crash-${w}-${String(i++).padStart(6, '0')}`);
      const results = await Promise.allSettled(batch.map((b) => p.pub('crash', b)));
      results.forEach((r, k) => {
        if (r.status === 'fulfilled') acked.add(batch[k]!);
      });
      if (results.some((r) => r.status === 'rejected')) return;
    }
  });
  // Topic without channels too: acknowledged messages must all be in its disk queue.
  const orphanAcked = new Set<string>();
  const orphanStream = (async () => {
    const p = await NsqConn.connect(d.tcpPort);
    for (let i = 0; !stop; i++) {
      const b = `orphan-${String(i).padStart(6, '0')}`;
      try {
        await p.pub('crash_orphan', b);
        orphanAcked.add(b);
      } catch {
        return;
      }
    }
  })();

  await eventually(() => acked.size >= 200 && orphanAcked.size >= 50, 20000, 'publishing');
  await d.kill();
  stop = true;
  await Promise.all([...streams, orphanStream]);
  await cons.closed;
  assert.ok(delivered.size > 0);

  const d2 = await d.restart();
  daemons.push(d2);
  // Everything acknowledged and not already delivered must come back (duplicates are allowed).
  const missing = [...acked].filter((b) => !delivered.has(b));
  const after = await NsqConn.connect(d2.tcpPort);
  after.onMessage = (m) => after.fin(m.id);
  await after.sub('crash', 'ch');
  after.rdy(200);
  const got = new Set<string>();
  await eventually(() => {
    for (const m of after.received) got.add(m.body.toString());
    return missing.every((b) => got.has(b));
  }, 15000, `${missing.length} acknowledged messages after the crash`);

  const orphan = await NsqConn.connect(d2.tcpPort);
  orphan.onMessage = (m) => orphan.fin(m.id);
  await orphan.sub('crash_orphan', 'late');
  orphan.rdy(200);
  await eventually(() => {
    const orphanGot = new Set(orphan.received.map((m) => m.body.toString()));
    return [...orphanAcked].every((b) => orphanGot.has(b));
  }, 15000, `${orphanAcked.size} acknowledged messages of the topic backlog`);

  await after.close();
  await orphan.close();
  assert.equal(await d2.stop(), 0);
});
