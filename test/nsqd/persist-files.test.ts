/**
 * Files on disk: delete removes a topic's/channel's disk queue, empty drains memory and disk
 * (docs/disk-format.md: segments and meta file deleted, numbering continues), and the data-path
 * lock keeps a second nsqd off the directory but is taken over after a kill -9.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { channelStats, cleanup, consumeAll, createChannel, httpOk, NsqConn, queueFiles, readQueueMeta, scratchDir, segmentFiles, topicStats } from './persist-client.js';
import { eventually } from '../helpers/wait.js';

const daemons: Daemon[] = [];
after(() => cleanup(daemons));

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

async function publishAll(conn: NsqConn, topic: string, bodies: string[]): Promise<void> {
  await Promise.all(bodies.map((b) => conn.pub(topic, b)));
}

test('empty drains memory and disk; delete removes the files; numbering continues', async () => {
  const d = await startNsqd(['--mem-queue-size=10', '--max-bytes-per-file=512']);
  daemons.push(d);
  const dir = d.dataPath;
  const pub = await NsqConn.connect(d.tcpPort);

  // Channel empty: 30 messages, 20 on disk over several segments (512-byte files, 40-byte records).
  await createChannel(d.httpPort, 'em', 'c');
  await createChannel(d.httpPort, 'em', 'other');
  await publishAll(pub, 'em', range('em', 30));
  assert.equal(segmentFiles(dir, 'em:c').length, 2);
  // In flight and deferred messages are dropped by empty as well.
  const cons = await NsqConn.connect(d.tcpPort);
  await cons.sub('em', 'c');
  cons.rdy(2);
  const [m1, m2] = await cons.waitForMessages(2);
  cons.rdy(0);
  cons.req(m1!.id, 3600000);
  await eventually(async () => (await channelStats(d.httpPort, 'em', 'c')).deferred_count === 1);
  await httpOk(d.httpPort, '/channel/empty?topic=em&channel=c');
  const c = await channelStats(d.httpPort, 'em', 'c');
  assert.deepEqual([c.depth, c.backend_depth, c.in_flight_count, c.deferred_count], [0, 0, 0, 0]);
  assert.deepEqual(queueFiles(dir, 'em:c'), [], 'segments and meta file removed');
  // The other channel is untouched.
  assert.equal((await channelStats(d.httpPort, 'em', 'other')).depth, 30);
  // A FIN for an emptied message fails; nothing more arrives for it.
  cons.fin(m2!.id);
  await eventually(() => cons.asyncErrors.length === 1);
  assert.match(cons.asyncErrors[0]!, /^E_FIN_FAILED/);
  await cons.close();
  // New messages go to the next segment number.
  await publishAll(pub, 'em', range('em2', 15));
  assert.deepEqual(segmentFiles(dir, 'em:c'), ['em:c.diskqueue.000002.dat']);
  const after1 = await consumeAll(d.tcpPort, 'em', 'c', 15);
  assert.deepEqual(after1.messages.map((m) => m.body.toString()).sort(), range('em2', 15));
  await after1.conn.close();

  // Topic empty: the topic's own backlog (memory + disk) goes, its channels keep theirs.
  await httpOk(d.httpPort, '/topic/create?topic=te');
  await publishAll(pub, 'te', range('te', 30));
  assert.equal((await topicStats(d.httpPort)).get('te')!.backend_depth, 20);
  assert.ok(queueFiles(dir, 'te').length > 0);
  await httpOk(d.httpPort, '/topic/empty?topic=te');
  let t = (await topicStats(d.httpPort)).get('te')!;
  assert.deepEqual([t.depth, t.backend_depth], [0, 0]);
  assert.deepEqual(queueFiles(dir, 'te'), []);
  await createChannel(d.httpPort, 'te', 'c');
  await publishAll(pub, 'te', range('te2', 3));
  t = (await topicStats(d.httpPort)).get('te')!;
  assert.equal(t.channels[0]!.depth, 3);

  // Channel delete: its files go, the topic's and sibling's stay.
  await publishAll(pub, 'em', range('em3', 20));
  assert.ok(queueFiles(dir, 'em:other').length > 0);
  await httpOk(d.httpPort, '/channel/delete?topic=em&channel=other');
  assert.deepEqual(queueFiles(dir, 'em:other'), []);
  assert.ok(queueFiles(dir, 'em:c').length > 0);

  // Topic delete: topic and all channel files go.
  await publishAll(pub, 'te', range('te3', 30));
  await httpOk(d.httpPort, '/topic/pause?topic=te');
  await publishAll(pub, 'te', range('te4', 30));
  assert.ok(queueFiles(dir, 'te').length > 0 && queueFiles(dir, 'te:c').length > 0);
  await httpOk(d.httpPort, '/topic/delete?topic=te');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('te')), []);

  // A clean stop brings none of them back.
  await pub.close();
  assert.equal(await d.stop(), 0);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('te') || f.startsWith('em:other')), []);
  assert.equal(readQueueMeta(dir, 'em:c')!.depth, 20);
  const md = fs.readFileSync(path.join(dir, 'nsqd.dat'), 'utf8');
  assert.deepEqual(JSON.parse(md), { topics: [{ name: 'em', paused: false, channels: [{ name: 'c', paused: false }] }], version: '1.3.0' });
});

test('the data-path lock: a second nsqd is refused, a stale lock after kill -9 is taken over', async () => {
  const dataPath = scratchDir('tsnsq-persist-lock-');
  const first = await startNsqd(['--mem-queue-size=0'], dataPath);
  daemons.push(first);
  await assert.rejects(startNsqd([], dataPath), (err: Error) => {
    assert.match(err.message, /exited early \(1\)/);
    assert.match(err.message, new RegExp(`FATAL: failed to lock data-path: cannot flock directory ${dataPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} - .*\\(possibly in use by another instance of nsqd\\)`));
    return true;
  });
  // The refused daemon did not touch the running one's files.
  assert.equal((await topicStats(first.httpPort)).size, 0);

  // kill -9 leaves the lock behind; the next start takes it over and works normally.
  // The messages are on disk (--mem-queue-size=0) but no meta file was synced yet (the sync timer
  // is 2 s): they are salvaged from the segment files although the recovered depth is 0.
  await createChannel(first.httpPort, 'locked2', 'pre');
  const pub = await NsqConn.connect(first.tcpPort);
  await pub.pub('locked', 'survives');
  await pub.pub('locked2', 'survives too');
  await first.kill();
  const second = await startNsqd(['--mem-queue-size=0'], dataPath);
  daemons.push(second);
  const { conn, messages } = await consumeAll(second.tcpPort, 'locked', 'c', 1);
  assert.equal(messages[0]!.body.toString(), 'survives');
  await conn.close();
  const pre = await consumeAll(second.tcpPort, 'locked2', 'pre', 1);
  assert.equal(pre.messages[0]!.body.toString(), 'survives too');
  await pre.conn.close();
  // And it is now the owner: yet another one is refused.
  await assert.rejects(startNsqd([], dataPath), /possibly in use by another instance of nsqd/);
  assert.equal(await second.stop(), 0);
  // After a clean stop the directory is free again.
  const third = await startNsqd([], dataPath);
  daemons.push(third);
  assert.equal(await third.stop(), 0);
});

test('a missing data path is a fatal start-up error', async () => {
  const missing = path.join(scratchDir('tsnsq-persist-lock-'), 'nope');
  await assert.rejects(startNsqd([], missing), (err: Error) => {
    assert.ok(err.message.includes(`FATAL: failed to lock data-path: open ${missing}: no such file or directory`), err.message);
    return true;
  });
});

test('a lock whose pid now belongs to another process (reboot, container restart) is stale', async () => {
  const dataPath = scratchDir('tsnsq-persist-lock-');
  const lockFile = path.join(dataPath, '.nsqd.lock');
  // This test process is alive, but it did not start at the recorded time: not the owner.
  fs.writeFileSync(lockFile, `${process.pid} 1\n`);
  const d = await startNsqd([], dataPath);
  daemons.push(d);
  const [pid] = fs.readFileSync(lockFile, 'utf8').split(' ');
  assert.equal(Number(pid), d.proc.pid);
  assert.equal(await d.stop(), 0);
  assert.equal(fs.existsSync(lockFile), false, 'released on a clean stop');
});
