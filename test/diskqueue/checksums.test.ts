// Checksummed segments (docs/disk-format.md): damage costs only the damaged records, a corrupt
// tail is truncated at start-up, and one queue reads both formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import type { DiskQueueOptions } from '../../src/diskqueue/disk-queue.js';
import { CorruptionTally } from '../../src/diskqueue/corruption-tally.js';
import { formatMeta, parseMeta } from '../../src/diskqueue/files.js';
import { encodeRecord, encodeSegmentHeader } from '../../src/diskqueue/record-format.js';
import { CaptureLogger, drain, queueOptions, record, recordIndex, tempDir } from './helpers.js';

// 76-byte bodies are 84-byte checksummed records; three fit in a segment after its header.
const REC = 84;
const HDR = 8;
const PER_FILE = HDR + 3 * REC;

const seg = (dir: string, n: number) => path.join(dir, `dq.diskqueue.${String(n).padStart(6, '0')}.dat`);

function setup(t: { after(fn: () => void): void }, n: number, overrides: Partial<DiskQueueOptions> = {}) {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  const tally = new CorruptionTally();
  const opts = queueOptions(dir, { maxBytesPerFile: PER_FILE, checksums: true, logger: log, corruptionTally: tally, ...overrides });
  const q = new DiskQueue({ ...opts, logger: new CaptureLogger() });
  for (let i = 0; i < n; i++) q.put(record(i, 76));
  q.close();
  return { dir, opts, log, tally };
}

function open(t: { after(fn: () => void): void }, opts: DiskQueueOptions): DiskQueue {
  const q = new DiskQueue(opts);
  t.after(() => q.close());
  return q;
}

function patch(file: string, pos: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, pos);
  fs.closeSync(fd);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('checksummed segments: header, then [length][masked crc32c][body] records', (t) => {
  const { dir, opts } = setup(t, 4);
  const expected = Buffer.concat([encodeSegmentHeader(), ...[0, 1, 2].map((i) => encodeRecord(record(i, 76), 'checksummed'))]);
  assert.deepEqual(fs.readFileSync(seg(dir, 0)), expected);
  assert.deepEqual(fs.readFileSync(seg(dir, 1)), Buffer.concat([encodeSegmentHeader(), encodeRecord(record(3, 76), 'checksummed')]));
  assert.deepEqual(parseMeta(fs.readFileSync(path.join(dir, 'dq.diskqueue.meta.dat'), 'latin1')), {
    depth: 4,
    readFileNum: 0,
    readPos: 0,
    writeFileNum: 1,
    writePos: HDR + REC,
  });
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3]);
});

test('a body byte damaged in the middle of a finished segment loses only that record', (t) => {
  const { dir, opts, log, tally } = setup(t, 9);
  patch(seg(dir, 1), HDR + REC + 8 + 20, Buffer.from('X'));
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 5, 6, 7, 8]);
  assert.equal(q.depth(), 0);
  assert.equal(q.corruptBytesSkipped(), REC);
  assert.equal(tally.get('dq'), REC);
  assert.ok(log.has(`ERROR: DISKQUEUE(dq) checksum mismatch at ${HDR + REC} of ${seg(dir, 1)} - skipped ${REC} bytes (one record)`), log.lines.join('\n'));
  // Exactly one record was lost and depth followed: no tail repair was needed.
  assert.ok(!log.has('depth at tail'));
  assert.ok(!fs.existsSync(seg(dir, 1) + '.bad'));
  q.put(record(9, 76));
  assert.deepEqual(drain(q).map(recordIndex), [9]);
});

test('a damaged length resyncs on the next record that verifies', (t) => {
  for (const bytes of ['ffffffff', '00000fff', '00000000']) {
    const { dir, opts, log } = setup(t, 9);
    patch(seg(dir, 1), HDR + REC, Buffer.from(bytes, 'hex'));
    const q = open(t, opts);
    assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 5, 6, 7, 8], bytes);
    assert.equal(q.corruptBytesSkipped(), REC);
    assert.ok(log.has(`skipped ${REC} bytes (up to the next good record)`), log.lines.join('\n'));
    // The number of records lost was not known: depth is repaired at the tail, as go-diskqueue does.
    assert.equal(q.depth(), 0);
  }
});

test('damage in the segment being written, and in its last record', (t) => {
  const big = PER_FILE * 10;
  const { dir, opts, log } = setup(t, 6, { maxBytesPerFile: big });
  patch(seg(dir, 0), HDR + 2 * REC + 30, Buffer.from('zz'));
  patch(seg(dir, 0), HDR + 5 * REC + 30, Buffer.from('zz'));
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 3, 4]);
  assert.equal(q.corruptBytesSkipped(), 2 * REC);
  assert.equal(q.depth(), 0);
  assert.ok(!log.has('depth at tail'), log.lines.join('\n'));
  q.put(record(6, 76));
  assert.deepEqual(drain(q).map(recordIndex), [6]);
});

test('the original format has no checksum: the same damage is delivered as is', (t) => {
  const { dir, opts } = setup(t, 9, { checksums: false, maxBytesPerFile: 3 * 80 });
  patch(seg(dir, 1), 80 + 4 + 20, Buffer.from('X'));
  // No checksum: the damaged body is delivered as is (go-diskqueue behaviour).
  const q = open(t, { ...opts, checksums: false });
  assert.deepEqual(drain(q).map((b) => b[20]), [...range(0, 4).map(() => 0x2e), 0x58, ...range(5, 9).map(() => 0x2e)]);
});

test('corrupt tail at start-up: a torn record is truncated, records after the last sync survive', (t) => {
  const big = PER_FILE * 10;
  const { dir, opts, log, tally } = setup(t, 5, { maxBytesPerFile: big });
  // As if the meta file was last synced after 3 records and the process died inside a 6th write.
  const metaPath = path.join(dir, 'dq.diskqueue.meta.dat');
  fs.writeFileSync(metaPath, formatMeta({ depth: 3, readFileNum: 0, readPos: 0, writeFileNum: 0, writePos: HDR + 3 * REC }));
  fs.appendFileSync(seg(dir, 0), encodeRecord(record(5, 76), 'checksummed').subarray(0, 50));
  const q = open(t, opts);
  assert.ok(log.has(`WARNING: DISKQUEUE(dq) ${seg(dir, 0)} corrupt tail: truncating 50 bytes after the last good record (at ${HDR + 5 * REC})`), log.lines.join('\n'));
  assert.equal(fs.statSync(seg(dir, 0)).size, HDR + 5 * REC);
  assert.equal(tally.get('dq'), 50);
  q.put(record(6, 76));
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 4, 6]);
});

test('corrupt tail at start-up: zeroed or cut bytes behind the write position are cut back to the last good record', (t) => {
  const big = PER_FILE * 10;
  // Zeros where a crash extended the file without its data.
  {
    const { dir, opts } = setup(t, 3, { maxBytesPerFile: big });
    fs.appendFileSync(seg(dir, 0), Buffer.alloc(4096));
    const q = open(t, opts);
    assert.equal(q.corruptBytesSkipped(), 4096);
    q.put(record(3, 76));
    assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3]);
  }
  // The meta file counts 4 records but the 4th was cut (lost with the page cache).
  {
    const { dir, opts, log } = setup(t, 4, { maxBytesPerFile: big });
    fs.truncateSync(seg(dir, 0), HDR + 3 * REC + 40);
    const q = open(t, opts);
    assert.equal(fs.statSync(seg(dir, 0)).size, HDR + 3 * REC);
    assert.equal(q.metadata().writePos, HDR + 3 * REC);
    q.put(record(4, 76));
    assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 4]);
    assert.ok(log.has('positive depth at tail (1), data loss, resetting 0...'));
  }
});

test('one queue holds both formats: written before, during and after --disk-checksums', (t) => {
  const dir = tempDir(t);
  const base = queueOptions(dir, { maxBytesPerFile: 1024 * 1024 });
  const put = (checksums: boolean, from: number, to: number) => {
    const q = new DiskQueue({ ...base, checksums });
    for (const i of range(from, to)) q.put(record(i, 76));
    q.close();
  };
  put(false, 0, 3);
  put(true, 3, 6);
  put(false, 6, 9);
  // Each change of format finished the segment being written.
  assert.equal(fs.readFileSync(seg(dir, 0)).readInt32BE(0), 76);
  assert.equal(fs.readFileSync(seg(dir, 1)).toString('hex', 0, 4), '894e5351');
  assert.equal(fs.readFileSync(seg(dir, 2)).readInt32BE(0), 76);
  for (const checksums of [true, false]) {
    const copy = tempDir(t);
    for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    const q = open(t, { ...base, dataPath: copy, checksums });
    assert.deepEqual(drain(q).map(recordIndex), range(0, 9));
  }
});

test('records larger than the write buffer and the batch are framed the same', (t) => {
  const dir = tempDir(t);
  const opts = queueOptions(dir, { checksums: true });
  const q = open(t, opts);
  const sizes = [70 * 1024, 300 * 1024, 40];
  for (const [i, n] of sizes.entries()) q.put(record(i, n));
  q.close();
  const q2 = open(t, opts);
  assert.deepEqual(drain(q2).map((b) => [recordIndex(b), b.length]), sizes.map((n, i) => [i, n]));
});
