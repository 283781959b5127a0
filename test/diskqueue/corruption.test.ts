import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import type { DiskQueueOptions } from '../../src/diskqueue/disk-queue.js';
import { CaptureLogger, drain, queueOptions, record, recordIndex, tempDir } from './helpers.js';

/** 8 records of 80 bytes, 2 per segment (files 0..3), closed cleanly: meta 8 / 0,0 / 3,160. */
function eightRecords(t: { after(fn: () => void): void }): { dir: string; opts: DiskQueueOptions; log: CaptureLogger } {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  const opts = queueOptions(dir, { maxBytesPerFile: 160, logger: log });
  const q = new DiskQueue({ ...opts, logger: new CaptureLogger() });
  for (let i = 0; i < 8; i++) q.put(record(i, 76));
  q.close();
  return { dir, opts, log };
}

const seg = (dir: string, n: number) => path.join(dir, `dq.diskqueue.${String(n).padStart(6, '0')}.dat`);

function open(t: { after(fn: () => void): void }, opts: DiskQueueOptions): DiskQueue {
  const q = new DiskQueue(opts);
  t.after(() => q.close());
  return q;
}

test('garbage length in a finished segment: renamed .bad, the other 7 records salvaged (docs/disk-format.md)', (t) => {
  const { dir, opts, log } = eightRecords(t);
  const fd = fs.openSync(seg(dir, 1), 'r+');
  fs.writeSync(fd, Buffer.from('ffffffff', 'hex'), 0, 4, 80); // 2nd record of segment 1
  fs.closeSync(fd);
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 4, 5, 6, 7]);
  assert.equal(q.depth(), 0);
  assert.ok(fs.existsSync(seg(dir, 1) + '.bad'));
  assert.ok(log.has(`ERROR: DISKQUEUE(dq) reading at 80 of ${seg(dir, 1)} - invalid message read size (-1)`), log.lines.join('\n'));
  assert.ok(log.has(`WARNING: DISKQUEUE(dq) jump to next file and saving bad file as ${seg(dir, 1)}.bad`));
  assert.ok(log.has('ERROR: DISKQUEUE(dq) positive depth at tail (1), data loss, resetting 0...'));
  // The queue keeps working.
  q.put(record(8, 76));
  assert.deepEqual(drain(q).map(recordIndex), [8]);
});

test('huge and too-small lengths are corruption too (no giant allocation)', (t) => {
  for (const [bytes, shown] of [
    ['7fffffff', 2147483647],
    ['00000019', 25],
    ['00000000', 0],
  ] as const) {
    const { dir, opts, log } = eightRecords(t);
    const fd = fs.openSync(seg(dir, 2), 'r+');
    fs.writeSync(fd, Buffer.from(bytes, 'hex'), 0, 4, 0);
    fs.closeSync(fd);
    const q = open(t, opts);
    assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 6, 7]);
    assert.ok(log.has(`invalid message read size (${shown})`));
    assert.ok(log.has('positive depth at tail (2), data loss, resetting 0...'));
  }
});

test('truncated finished segment (mid-body and mid-header): .bad, later segments still read', (t) => {
  for (const [cut, idx] of [
    [120, [0, 1, 2, 4, 5, 6, 7]],
    [82, [0, 1, 2, 4, 5, 6, 7]],
    [40, [0, 1, 4, 5, 6, 7]],
  ] as const) {
    const { dir, opts, log } = eightRecords(t);
    fs.truncateSync(seg(dir, 1), cut);
    const q = open(t, opts);
    assert.deepEqual(drain(q).map(recordIndex), idx, `cut at ${cut}`);
    assert.ok(log.has(`- unexpected EOF`), log.lines.join('\n'));
    assert.ok(fs.existsSync(seg(dir, 1) + '.bad'));
    assert.equal(q.depth(), 0);
  }
});

test('corrupt segment that is also the write segment: writes move to a fresh segment', (t) => {
  const { dir, opts, log } = eightRecords(t);
  const fd = fs.openSync(seg(dir, 3), 'r+');
  fs.writeSync(fd, Buffer.from('00000005', 'hex'), 0, 4, 0);
  fs.closeSync(fd);
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 4, 5]);
  assert.ok(log.has('positive depth at tail (2), data loss, resetting 0...'));
  assert.deepEqual(q.metadata(), { depth: 0, readFileNum: 4, readPos: 0, writeFileNum: 4, writePos: 0 });
  assert.ok(fs.existsSync(seg(dir, 3) + '.bad'));
  q.put(record(9, 76));
  assert.deepEqual(drain(q).map(recordIndex), [9]);
  assert.ok(fs.existsSync(seg(dir, 4)));
});

test('write segment shorter than the meta writePos: short read handled, queue continues', (t) => {
  const { dir, opts, log } = eightRecords(t);
  fs.truncateSync(seg(dir, 3), 100);
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(log.has(`reading at 80 of ${seg(dir, 3)} - unexpected EOF`), log.lines.join('\n'));
  q.put(record(9, 76));
  assert.deepEqual(drain(q).map(recordIndex), [9]);
});

test('missing intermediate segment: logged, skipped, rename failure only logged', (t) => {
  const { dir, opts, log } = eightRecords(t);
  fs.rmSync(seg(dir, 1));
  const q = open(t, opts);
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 4, 5, 6, 7]);
  assert.ok(log.has(`reading at 0 of ${seg(dir, 1)} - ENOENT`), log.lines.join('\n'));
  assert.ok(log.has(`failed to rename bad diskqueue file ${seg(dir, 1)} to ${seg(dir, 1)}.bad`));
  assert.ok(log.has('positive depth at tail (2), data loss, resetting 0...'));
});

test('unparsable meta file: logged, queue starts from zeroed state and works', (t) => {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  fs.writeFileSync(path.join(dir, 'dq.diskqueue.meta.dat'), 'hello\n');
  const q = open(t, queueOptions(dir, { logger: log }));
  assert.ok(log.has('ERROR: DISKQUEUE(dq) failed to retrieveMetaData - malformed diskqueue metadata'));
  assert.deepEqual(q.metadata(), { depth: 0, readFileNum: 0, readPos: 0, writeFileNum: 0, writePos: 0 });
  q.put(record(1));
  assert.deepEqual(drain(q).map(recordIndex), [1]);
});

test('idle queue whose meta is at the tail with a non-zero depth is fixed at start', (t) => {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  fs.writeFileSync(path.join(dir, 'dq.diskqueue.meta.dat'), '5\n0,0\n0,0\n');
  const q = open(t, queueOptions(dir, { logger: log }));
  assert.equal(q.depth(), 0);
  assert.ok(log.has('positive depth at tail (5), data loss, resetting 0...'));
  assert.equal(fs.readFileSync(path.join(dir, 'dq.diskqueue.meta.dat'), 'latin1'), '0\n0,0\n0,0\n');
});

test('random byte corruption never throws out of peek/advance and the queue stays usable', (t) => {
  let seed = 777;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let round = 0; round < 20; round++) {
    const dir = tempDir(t);
    const opts = queueOptions(dir, { maxBytesPerFile: 400, maxMsgSize: 300 });
    let q = new DiskQueue(opts);
    for (let i = 0; i < 60; i++) q.put(record(i, 26 + Math.floor(rand() * 200)));
    q.close();
    const segs = fs.readdirSync(dir).filter((f) => /\.\d{6}\.dat$/.test(f));
    for (let k = 0; k < 5; k++) {
      const f = path.join(dir, segs[Math.floor(rand() * segs.length)]!);
      const size = fs.statSync(f).size;
      if (rand() < 0.3) {
        fs.truncateSync(f, Math.floor(rand() * size));
      } else if (size > 0) {
        const fd = fs.openSync(f, 'r+');
        fs.writeSync(fd, Buffer.from([Math.floor(rand() * 256)]), 0, 1, Math.floor(rand() * size));
        fs.closeSync(fd);
      }
    }
    q = new DiskQueue(opts);
    const got = drain(q);
    assert.ok(got.length <= 60);
    assert.equal(q.depth(), 0);
    q.put(record(1000, 40));
    const after = drain(q);
    assert.equal(after.length, 1);
    assert.equal(after[0]!.length, 40);
    q.close();
  }
});
