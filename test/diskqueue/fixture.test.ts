// Reads the queues of a data directory written by the original nsqd 1.3.0 (copied to a temp dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import { parseMeta } from '../../src/diskqueue/files.js';
import { CaptureLogger, drain, queueFiles, tempDir } from './helpers.js';
import { originalDataDir } from '../helpers/fixtures.js';

const fixture = originalDataDir();

interface Manifest {
  topics: Record<
    string,
    {
      channels: Record<string, { expect: { count: number; digest: string } }>;
      expect_topic_queue?: { count: number; digest: string };
    }
  >;
}

/** The MANIFEST digest: sort bodies bytewise, sha256 each (raw), concatenate, sha256 (hex). */
function bodiesDigest(bodies: Buffer[]): string {
  const sorted = [...bodies].sort(Buffer.compare);
  const outer = createHash('sha256');
  for (const b of sorted) outer.update(createHash('sha256').update(b).digest());
  return outer.digest('hex');
}

function copyData(t: { after(fn: () => void): void }): string {
  const dir = tempDir(t);
  const src = path.join(fixture, 'data');
  for (const f of fs.readdirSync(src)) {
    fs.copyFileSync(path.join(src, f), path.join(dir, f));
    fs.chmodSync(path.join(dir, f), 0o600);
  }
  return dir;
}

function openQueue(dir: string, name: string, maxBytesPerFile: number, log = new CaptureLogger()): DiskQueue {
  return new DiskQueue({
    name,
    dataPath: dir,
    maxBytesPerFile,
    minMsgSize: 26,
    maxMsgSize: 1024 * 1024 + 26,
    syncEvery: 2500,
    syncTimeoutMs: 2000,
    logger: log,
  });
}

/** Checks the nsqd message header of a record and returns its body. */
function messageBody(rec: Buffer): Buffer {
  assert.ok(rec.length >= 26, 'record at least 26 bytes');
  const ts = rec.readBigInt64BE(0);
  assert.ok(ts > 1_500_000_000_000_000_000n && ts < 3_000_000_000_000_000_000n, `plausible ns timestamp ${ts}`);
  assert.ok(rec.readUInt16BE(8) < 100, 'plausible attempts');
  assert.match(rec.subarray(10, 26).toString('latin1'), /^[0-9a-f]{16}$/);
  return Buffer.from(rec.subarray(26));
}

const cases: [queue: string, expect: (m: Manifest) => { count: number; digest: string }][] = [
  ['events', (m) => m.topics['events']!.expect_topic_queue!],
  ['orders:billing', (m) => m.topics['orders']!.channels['billing']!.expect],
  ['orders:audit', (m) => m.topics['orders']!.channels['audit']!.expect],
  // c1's messages still wait in the paused topic's own queue.
  ['paused_topic', (m) => m.topics['paused_topic']!.channels['c1']!.expect],
];

for (const maxBytesPerFile of [65536, 104857600]) {
  for (const [name, expectOf] of cases) {
    test(`fixture ${name}: all records read (maxBytesPerFile=${maxBytesPerFile})`, (t) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(fixture, 'MANIFEST.json'), 'utf8')) as Manifest;
      const expect = expectOf(manifest);
      const dir = copyData(t);
      const meta = parseMeta(fs.readFileSync(path.join(dir, `${name}.diskqueue.meta.dat`), 'latin1'));
      const log = new CaptureLogger();
      const q = openQueue(dir, name, maxBytesPerFile, log);
      assert.equal(q.depth(), meta.depth);
      const recs = drain(q);
      assert.equal(recs.length, meta.depth, 'record count equals the meta depth');
      assert.equal(recs.length, expect.count);
      assert.equal(bodiesDigest(recs.map(messageBody)), expect.digest);
      assert.equal(q.depth(), 0);
      assert.ok(!log.lines.some((l) => l.startsWith('ERROR') || l.startsWith('WARNING')), log.lines.join('\n'));
      q.close();
      // Only the segment being written survives; meta says "caught up" at its end.
      const w = `${meta.writeFileNum},${meta.writePos}`;
      assert.equal(fs.readFileSync(path.join(dir, `${name}.diskqueue.meta.dat`), 'latin1'), `0\n${w}\n${w}\n`);
      assert.deepEqual(queueFiles(dir, name).filter((f) => !f.includes('meta') && !f.startsWith(name + ':')), [
        `${name}.diskqueue.${String(meta.writeFileNum).padStart(6, '0')}.dat`,
      ]);
    });
  }
}

test('fixture: the events topic queue spans 13 segments and appends after its last record', (t) => {
  const dir = copyData(t);
  assert.equal(queueFiles(dir, 'events').filter((f) => !f.includes('meta')).length, 13);
  let q = openQueue(dir, 'events', 65536);
  const extra = Buffer.alloc(40, 0x41);
  q.put(extra);
  q.close();
  // Appended at 27937 of segment 12: original bytes untouched, meta advanced by 44.
  const seg12 = fs.readFileSync(path.join(dir, 'events.diskqueue.000012.dat'));
  assert.equal(seg12.length, 27937 + 44);
  assert.deepEqual(seg12.subarray(0, 27937), fs.readFileSync(path.join(fixture, 'data', 'events.diskqueue.000012.dat')));
  assert.equal(fs.readFileSync(path.join(dir, 'events.diskqueue.meta.dat'), 'latin1'), '301\n0,0\n12,27981\n');
  q = openQueue(dir, 'events', 65536);
  t.after(() => q.close());
  const recs = drain(q);
  assert.equal(recs.length, 301);
  assert.deepEqual(recs[300], extra);
});

test('fixture: a queue with only a meta file (paused_topic:c1) and a fully consumed one (orders) are empty', (t) => {
  const dir = copyData(t);
  for (const name of ['paused_topic:c1', 'orders']) {
    const q = openQueue(dir, name, 65536);
    assert.equal(q.depth(), 0);
    assert.equal(q.peek(), null);
    q.close();
  }
  assert.equal(fs.readFileSync(path.join(dir, 'orders.diskqueue.meta.dat'), 'latin1'), '0\n0,29946\n0,29946\n');
});
