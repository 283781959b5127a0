/**
 * Memory/disk split (upstream `nsqd/topic.go` put, `nsqd/channel.go` put): messages past --mem-queue-size go to the disk queue
 * and come back from it; --mem-queue-size=0 puts every message on disk before the PUB is
 * acknowledged; ephemeral topics and channels never touch the disk and drop their overflow.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { channelStats, cleanup, consumeAll, createChannel, httpOk, NsqConn, queueFiles, readQueueMeta, segmentFiles, topicStats } from './persist-client.js';
import { eventually } from '../helpers/wait.js';

const daemons: Daemon[] = [];
after(() => cleanup(daemons));

async function publish(conn: NsqConn, topic: string, bodies: string[]): Promise<void> {
  await Promise.all(bodies.map((b) => conn.pub(topic, b)));
}

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

test('messages past --mem-queue-size spill to disk and are delivered back from it', async () => {
  const d = await startNsqd(['--mem-queue-size=10']);
  daemons.push(d);
  await createChannel(d.httpPort, 'spill', 'c');
  await httpOk(d.httpPort, '/topic/create?topic=backlog');
  const pub = await NsqConn.connect(d.tcpPort);
  const bodies = range('spill', 100);
  await publish(pub, 'spill', bodies);
  await publish(pub, 'backlog', range('backlog', 25));

  // Channel: 10 in memory, 90 on disk. Topic with a channel keeps nothing.
  let s = await topicStats(d.httpPort);
  const c = s.get('spill')!.channels[0]!;
  assert.equal(c.depth, 100);
  assert.equal(c.backend_depth, 90);
  assert.equal(s.get('spill')!.depth, 0);
  // Topic without channels: its own queue spills the same way.
  assert.equal(s.get('backlog')!.depth, 25);
  assert.equal(s.get('backlog')!.backend_depth, 15);
  assert.deepEqual(segmentFiles(d.dataPath, 'spill:c'), ['spill:c.diskqueue.000000.dat']);
  assert.equal(fs.statSync(path.join(d.dataPath, 'spill:c.diskqueue.000000.dat')).size, 90 * (4 + 26 + 10));
  assert.deepEqual(segmentFiles(d.dataPath, 'backlog'), ['backlog.diskqueue.000000.dat']);

  const { conn, messages } = await consumeAll(d.tcpPort, 'spill', 'c', 100);
  assert.deepEqual(messages.map((m) => m.body.toString()).sort(), bodies);
  await eventually(async () => (await channelStats(d.httpPort, 'spill', 'c')).in_flight_count === 0);
  s = await topicStats(d.httpPort);
  assert.equal(s.get('spill')!.channels[0]!.depth, 0);
  assert.equal(s.get('spill')!.channels[0]!.backend_depth, 0);

  // A channel created later drains the topic's memory and disk backlog.
  const late = await consumeAll(d.tcpPort, 'backlog', 'late', 25);
  assert.deepEqual(late.messages.map((m) => m.body.toString()).sort(), range('backlog', 25));
  await eventually(async () => (await topicStats(d.httpPort)).get('backlog')!.backend_depth === 0);

  for (const x of [pub, conn, late.conn]) await x.close();
  assert.equal(await d.stop(), 0);
  assert.equal(readQueueMeta(d.dataPath, 'spill:c')!.depth, 0);
  assert.equal(readQueueMeta(d.dataPath, 'backlog')!.depth, 0);
});

test('--mem-queue-size=0: every message is on disk when the PUB is acknowledged', async () => {
  const d = await startNsqd(['--mem-queue-size=0']);
  daemons.push(d);
  await createChannel(d.httpPort, 'durable', 'c');
  await httpOk(d.httpPort, '/topic/create?topic=nochan');
  const pub = await NsqConn.connect(d.tcpPort);
  const recordSize = (body: string) => 4 + 26 + body.length;
  let expectedChannel = 0;
  let expectedTopic = 0;
  for (const body of range('durable', 5)) {
    assert.equal(await pub.pub('durable', body), 'OK');
    expectedChannel += recordSize(body);
    // Checked right at the acknowledgement, before anything else can happen.
    assert.equal(fs.statSync(path.join(d.dataPath, 'durable:c.diskqueue.000000.dat')).size, expectedChannel);
    assert.equal(await pub.pub('nochan', body), 'OK');
    expectedTopic += recordSize(body);
    assert.equal(fs.statSync(path.join(d.dataPath, 'nochan.diskqueue.000000.dat')).size, expectedTopic);
  }
  const s = await topicStats(d.httpPort);
  assert.equal(s.get('durable')!.channels[0]!.backend_depth, 5);
  assert.equal(s.get('durable')!.channels[0]!.depth, 5);
  assert.equal(s.get('nochan')!.backend_depth, 5);

  // A consumer still gets them (from disk, in order).
  const { conn, messages } = await consumeAll(d.tcpPort, 'durable', 'c', 5);
  assert.deepEqual(messages.map((m) => m.body.toString()), range('durable', 5));
  await pub.close();
  await conn.close();
  assert.equal(await d.stop(), 0);
});

test("a topic's disk backlog moves to its channel's disk queue byte for byte", async () => {
  // Without memory queues the whole backlog goes from the topic's disk queue to the channel's.
  const d = await startNsqd(['--mem-queue-size=0']);
  daemons.push(d);
  await httpOk(d.httpPort, '/topic/create?topic=moved');
  const pub = await NsqConn.connect(d.tcpPort);
  const bodies = range('moved', 40);
  for (const b of bodies) assert.equal(await pub.pub('moved', b), 'OK');
  // The records as published: length, timestamp, attempts, ID, body.
  const topicRecords = fs.readFileSync(path.join(d.dataPath, 'moved.diskqueue.000000.dat'));
  assert.equal(topicRecords.length, 40 * (4 + 26 + 'moved-0000'.length));

  await httpOk(d.httpPort, '/channel/create?topic=moved&channel=c');
  await eventually(async () => (await topicStats(d.httpPort)).get('moved')!.depth === 0);
  const c = await channelStats(d.httpPort, 'moved', 'c');
  assert.equal(c.message_count, 40);
  assert.equal(c.backend_depth, 40);
  // Same records, same order, unchanged.
  assert.deepEqual(fs.readFileSync(path.join(d.dataPath, 'moved:c.diskqueue.000000.dat')), topicRecords);

  const { conn, messages } = await consumeAll(d.tcpPort, 'moved', 'c', 40);
  assert.deepEqual(messages.map((m) => m.body.toString()), bodies);
  assert.ok(messages.every((m) => m.attempts === 1));
  await pub.close();
  await conn.close();
  assert.equal(await d.stop(), 0);
});

test('ephemeral topics and channels stay in memory, drop overflow and leave no files', async () => {
  const d = await startNsqd(['--mem-queue-size=10']);
  daemons.push(d);
  const pub = await NsqConn.connect(d.tcpPort);
  // Ephemeral topic without channels: 10 kept, 15 dropped.
  await publish(pub, 'eph#ephemeral', range('e', 25));
  // Durable topic feeding only an ephemeral channel.
  await createChannel(d.httpPort, 'mixed', 'c#ephemeral');
  await publish(pub, 'mixed', range('m', 25));
  // Ephemeral channel next to a durable one on the same topic: only the durable one spills.
  await createChannel(d.httpPort, 'both', 'durable');
  await createChannel(d.httpPort, 'both', 'e#ephemeral');
  await publish(pub, 'both', range('b', 25));

  const s = await topicStats(d.httpPort);
  assert.equal(s.get('eph#ephemeral')!.depth, 10);
  assert.equal(s.get('eph#ephemeral')!.backend_depth, 0);
  assert.equal(s.get('eph#ephemeral')!.message_count, 25);
  const mixed = s.get('mixed')!.channels[0]!;
  assert.equal(mixed.depth, 10);
  assert.equal(mixed.backend_depth, 0);
  const both = s.get('both')!;
  assert.equal(both.channels.find((c) => c.channel_name === 'durable')!.backend_depth, 15);
  assert.equal(both.channels.find((c) => c.channel_name === 'e#ephemeral')!.depth, 10);
  assert.equal(both.channels.find((c) => c.channel_name === 'e#ephemeral')!.backend_depth, 0);

  // The 10 kept ephemeral messages are deliverable.
  const { conn, messages } = await consumeAll(d.tcpPort, 'mixed', 'c#ephemeral', 10);
  assert.equal(messages.length, 10);
  await conn.close();

  const noEphemeralFiles = () => fs.readdirSync(d.dataPath).filter((f) => f.includes('#ephemeral'));
  assert.deepEqual(noEphemeralFiles(), []);
  await pub.close();
  assert.equal(await d.stop(), 0);
  // Not even a clean shutdown writes them, and nsqd.dat leaves them out.
  assert.deepEqual(noEphemeralFiles(), []);
  assert.equal(fs.readFileSync(path.join(d.dataPath, 'nsqd.dat'), 'utf8').includes('ephemeral'), false);
  // The topic fed its channel directly: no segment, only the meta file every close persists.
  assert.deepEqual(queueFiles(d.dataPath, 'mixed'), ['mixed.diskqueue.meta.dat']);
  assert.equal(readQueueMeta(d.dataPath, 'mixed')!.depth, 0);
});
