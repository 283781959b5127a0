/**
 * A data dir written by the original nsqd 1.3.0 (shared fixture) must be taken over as it is:
 * topics, channels and pause flags from nsqd.dat, every queued message from the disk queues
 * (checked per channel against MANIFEST.json's count and digest), in-flight attempts preserved.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { bodiesDigest, cleanup, consumeAll, copyDirWritable, findFixture, httpOk, readQueueMeta, type Received, scratchDir, topicStats } from './persist-client.js';
import { eventually } from '../helpers/wait.js';

const FIXTURE = findFixture();

interface Expect {
  count: number;
  digest: string;
}
interface Manifest {
  flags: string;
  topics: Record<string, { paused: boolean; channels: Record<string, { paused: boolean; expect: Expect }>; expect_topic_queue?: Expect }>;
  absent: string[];
}

const manifest: Manifest | null = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'MANIFEST.json'), 'utf8')) as Manifest;
const daemons: Daemon[] = [];
after(() => cleanup(daemons));

function manifestOrThrow(): Manifest {
  if (manifest === null) throw new Error('no fixture');
  return manifest;
}

function checkDelivery(label: string, messages: Received[], expect: Expect): void {
  assert.equal(messages.length, expect.count, `${label}: count`);
  assert.equal(new Set(messages.map((m) => m.id)).size, expect.count, `${label}: distinct ids`);
  assert.equal(bodiesDigest(messages.map((m) => m.body)), expect.digest, `${label}: digest`);
}

function attemptsHistogram(messages: Received[]): Record<number, number> {
  const h: Record<number, number> = {};
  for (const m of messages) h[m.attempts] = (h[m.attempts] ?? 0) + 1;
  return h;
}

test('original 1.3.0 data dir: every channel delivers what MANIFEST.json expects', async () => {
  const manifest = manifestOrThrow();
  const dataPath = path.join(scratchDir('tsnsq-persist-fixture-'), 'data');
  copyDirWritable(path.join(FIXTURE, 'data'), dataPath);
  const originalMd = JSON.parse(fs.readFileSync(path.join(dataPath, 'nsqd.dat'), 'utf8')) as { topics: { name: string; paused: boolean; channels: { name: string; paused: boolean }[] | null }[] };

  const flags = manifest.flags.split(/\s+/).filter((f) => f !== '');
  assert.deepEqual(flags, ['--mem-queue-size=10', '--max-bytes-per-file=65536', '--node-id=7']);
  const d = await startNsqd(flags, dataPath);
  daemons.push(d);

  // Topology and pause flags come from nsqd.dat; depths from the disk queue meta files.
  const stats = await topicStats(d.httpPort);
  assert.deepEqual([...stats.keys()].sort(), Object.keys(manifest.topics).sort());
  for (const name of manifest.absent) assert.equal(stats.has(name), false, `${name} must not come back`);
  for (const [tName, tm] of Object.entries(manifest.topics)) {
    const ts = stats.get(tName)!;
    assert.equal(ts.paused, tm.paused, `${tName} paused`);
    assert.deepEqual(ts.channels.map((c) => c.channel_name).sort(), Object.keys(tm.channels).sort());
    for (const [cName, cm] of Object.entries(tm.channels)) {
      const cs = ts.channels.find((c) => c.channel_name === cName)!;
      assert.equal(cs.paused, cm.paused, `${tName}:${cName} paused`);
    }
  }
  assert.equal(stats.get('orders')!.channels.find((c) => c.channel_name === 'billing')!.depth, 905);
  assert.equal(stats.get('orders')!.channels.find((c) => c.channel_name === 'audit')!.depth, 1005);
  assert.equal(stats.get('events')!.depth, 300);
  assert.equal(stats.get('paused_topic')!.depth, 50);

  // Startup rewrote nsqd.dat with the same content (order of topics/channels is not significant).
  const norm = (md: typeof originalMd) =>
    md.topics
      .map((t) => ({ ...t, channels: t.channels === null ? null : [...t.channels].sort((a, b) => a.name.localeCompare(b.name)) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  const rewritten = JSON.parse(fs.readFileSync(path.join(dataPath, 'nsqd.dat'), 'utf8')) as typeof originalMd;
  assert.deepEqual(norm(rewritten), norm(originalMd));

  const port = d.tcpPort;
  const orders = manifest.topics['orders']!;

  // orders:billing — queued messages plus the in-flight (attempts 1 on disk) and deferred ones.
  const billing = consumeAll(port, 'orders', 'billing', orders.channels['billing']!.expect.count);

  // orders:audit is paused: nothing is delivered until it is unpaused.
  const audit = consumeAll(port, 'orders', 'audit', orders.channels['audit']!.expect.count);

  // events has no channel: its 300 messages wait in the topic; a new channel gets them all.
  const events = consumeAll(port, 'events', 'late', manifest.topics['events']!.expect_topic_queue!.count);

  // paused_topic: c1 gets its 50 messages only once the topic is unpaused.
  const pausedTopic = consumeAll(port, 'paused_topic', 'c1', manifest.topics['paused_topic']!.channels['c1']!.expect.count);

  const b = await billing;
  const e = await events;
  await eventually(async () => {
    const s = await topicStats(d.httpPort);
    return s.get('orders')!.channels.find((c) => c.channel_name === 'audit')!.client_count === 1 &&
      s.get('paused_topic')!.channels[0]!.client_count === 1;
  });
  // Both paused ones are still held back while the others have been drained completely.
  let s = await topicStats(d.httpPort);
  assert.equal(s.get('orders')!.channels.find((c) => c.channel_name === 'audit')!.in_flight_count, 0);
  assert.equal(s.get('paused_topic')!.depth, 50);
  assert.equal(s.get('paused_topic')!.channels[0]!.in_flight_count, 0);

  await httpOk(d.httpPort, '/channel/unpause?topic=orders&channel=audit');
  await httpOk(d.httpPort, '/topic/unpause?topic=paused_topic');
  const a = await audit;
  const p = await pausedTopic;

  checkDelivery('orders:billing', b.messages, orders.channels['billing']!.expect);
  checkDelivery('orders:audit', a.messages, orders.channels['audit']!.expect);
  checkDelivery('events:late', e.messages, manifest.topics['events']!.expect_topic_queue!);
  checkDelivery('paused_topic:c1', p.messages, manifest.topics['paused_topic']!.channels['c1']!.expect);

  // 110 billing messages were in flight (attempts 1 on disk): this delivery is their second.
  assert.deepEqual(attemptsHistogram(b.messages), { 1: 795, 2: 110 });
  assert.deepEqual(attemptsHistogram(a.messages), { 1: 1005 });

  // Every FIN has landed: nothing left anywhere.
  await eventually(async () => {
    const st = await topicStats(d.httpPort);
    return [...st.values()].every((t) => t.depth === 0 && t.channels.every((c) => c.depth === 0 && c.in_flight_count === 0 && c.deferred_count === 0));
  }, 5000, 'all queues drained');
  for (const c of [b.conn, a.conn, e.conn, p.conn]) await c.close();

  // A clean stop persists the drained state; a restart finds empty queues and the new flags.
  assert.equal(await d.stop(), 0);
  for (const q of ['orders:billing', 'orders:audit', 'events', 'events:late', 'paused_topic', 'paused_topic:c1']) {
    assert.equal(readQueueMeta(dataPath, q)?.depth, 0, `${q} meta depth`);
  }
  const d2 = await startNsqd(flags, dataPath);
  daemons.push(d2);
  s = await topicStats(d2.httpPort);
  assert.equal(s.get('paused_topic')!.paused, false);
  assert.equal(s.get('orders')!.channels.find((c) => c.channel_name === 'audit')!.paused, false);
  assert.deepEqual(s.get('events')!.channels.map((c) => c.channel_name), ['late']);
  for (const t of s.values()) {
    assert.equal(t.depth, 0, t.topic_name);
    for (const c of t.channels) assert.equal(c.depth, 0, `${t.topic_name}:${c.channel_name}`);
  }
  assert.equal(await d2.stop(), 0);
});
