// nsqd --disk-checksums end to end (docs/disk-format.md): a message damaged on disk while nsqd is
// stopped costs only that message; the skipped bytes show in /stats and /metrics. Without the
// flag, nsqd's /stats and /metrics carry no trace of the feature.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { parseExposition, requireSample } from '../helpers/prometheus-parser.js';
import { eventually } from '../helpers/wait.js';
import { channelStats, cleanup, consumeAll, createChannel, httpCall, httpOk, topicStats } from '../nsqd/persist-client.js';

const daemons: Daemon[] = [];
after(() => cleanup(daemons));

const FLAGS = ['--disk-checksums', '--mem-queue-size=0'];
const bodies = Array.from({ length: 10 }, (_, i) => `checksummed message ${i}`);

/** Offsets and sizes of the records of a checksummed segment (8-byte header, then [len][crc][body]). */
function recordSpans(file: string): Array<{ offset: number; total: number }> {
  const b = fs.readFileSync(file);
  assert.equal(b.toString('hex', 0, 4), '894e5351', 'a checksummed segment');
  const spans: Array<{ offset: number; total: number }> = [];
  for (let pos = 8; pos < b.length; ) {
    const total = 8 + b.readInt32BE(pos);
    spans.push({ offset: pos, total });
    pos += total;
  }
  return spans;
}

test('a record damaged in the middle of a segment loses only that message; /stats and /metrics count the bytes', async () => {
  const d = await startNsqd(FLAGS);
  daemons.push(d);
  await createChannel(d.httpPort, 'ck', 'ch');
  for (const b of bodies) await httpOk(d.httpPort, '/pub?topic=ck', b);
  await eventually(async () => (await channelStats(d.httpPort, 'ck', 'ch')).backend_depth === 10, 10000, '10 messages on disk');
  assert.equal(await d.stop(), 0);

  const seg = path.join(d.dataPath, 'ck:ch.diskqueue.000000.dat');
  const spans = recordSpans(seg);
  assert.equal(spans.length, 10);
  // Damage the body of the 5th message (past its length, checksum and message header).
  const hit = spans[4]!;
  const fd = fs.openSync(seg, 'r+');
  fs.writeSync(fd, Buffer.from('#'), 0, 1, hit.offset + 8 + 26 + 3);
  fs.closeSync(fd);

  const d2 = await startNsqd(FLAGS, d.dataPath);
  daemons.push(d2);
  const { conn, messages } = await consumeAll(d2.tcpPort, 'ck', 'ch', 9);
  assert.deepEqual(messages.map((m) => m.body.toString()), bodies.filter((_, i) => i !== 4));
  await eventually(async () => {
    const c = await channelStats(d2.httpPort, 'ck', 'ch');
    return c.depth === 0 && c.in_flight_count === 0;
  }, 10000, 'everything else consumed');
  conn.socket.destroy();

  const c = await channelStats(d2.httpPort, 'ck', 'ch');
  assert.equal(c.disk_corrupt_bytes, hit.total);
  // Appended after the original's keys.
  assert.deepEqual(Object.keys(c).slice(-2), ['e2e_processing_latency', 'disk_corrupt_bytes']);
  assert.equal((await topicStats(d2.httpPort)).get('ck')!.disk_corrupt_bytes, 0);
  const metrics = parseExposition((await httpCall(d2.httpPort, 'GET', '/metrics')).text);
  assert.equal(requireSample(metrics, 'nsq_channel_disk_corrupt_bytes_total', { topic: 'ck', channel: 'ch' }), hit.total);
  assert.equal(requireSample(metrics, 'nsq_topic_disk_corrupt_bytes_total', { topic: 'ck' }), 0);
  assert.match(d2.logs(), new RegExp(`DISKQUEUE\\(ck:ch\\) checksum mismatch at ${hit.offset} of .*ck:ch\\.diskqueue\\.000000\\.dat - skipped ${hit.total} bytes \\(one record\\)`));
});

test('without --disk-checksums: the original format on disk, no new /stats keys or /metrics families', async () => {
  const d = await startNsqd(['--mem-queue-size=0']);
  daemons.push(d);
  await createChannel(d.httpPort, 'plain', 'ch');
  await httpOk(d.httpPort, '/pub?topic=plain', 'hello');
  await eventually(async () => (await channelStats(d.httpPort, 'plain', 'ch')).backend_depth === 1, 10000, 'on disk');
  const s = await httpCall(d.httpPort, 'GET', '/stats?format=json');
  assert.ok(!s.text.includes('disk_corrupt_bytes'), s.text);
  const m = await httpCall(d.httpPort, 'GET', '/metrics');
  assert.ok(!m.text.includes('disk_corrupt_bytes'));
  assert.equal(await d.stop(), 0);
  const seg = fs.readFileSync(path.join(d.dataPath, 'plain:ch.diskqueue.000000.dat'));
  // [int32 length][message]: 26 bytes of message header + "hello".
  assert.equal(seg.length, 4 + 26 + 5);
  assert.equal(seg.readInt32BE(0), 31);
});
