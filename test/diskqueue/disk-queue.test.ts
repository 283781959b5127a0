import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import { DummyBackendQueue } from '../../src/diskqueue/dummy-backend-queue.js';
import type { BackendQueue } from '../../src/diskqueue/backend-queue.js';
import { formatMeta } from '../../src/diskqueue/files.js';
import { CaptureLogger, drain, queueFiles, queueOptions, readMeta, record, recordIndex, tempDir } from './helpers.js';

test('round trip: records come back in order, byte for byte', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir));
  t.after(() => q.close());
  const sent: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const r = record(i, 26 + ((i * 37) % 500));
    sent.push(r);
    q.put(r);
  }
  assert.equal(q.depth(), 200);
  const first = q.peek();
  assert.ok(first);
  assert.equal(q.peek(), first, 'peek is idempotent until advance');
  assert.equal(q.depth(), 200, 'peek does not consume');
  const got = drain(q);
  assert.equal(got.length, 200);
  for (let i = 0; i < 200; i++) assert.deepEqual(got[i], sent[i]);
  assert.equal(q.depth(), 0);
  assert.equal(q.peek(), null);
});

test('advance() only consumes a peeked record: no-op without a peek and after empty()', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir));
  t.after(() => q.close());
  q.advance();
  assert.equal(q.depth(), 0);
  q.put(record(0));
  q.put(record(1));
  q.advance();
  assert.equal(q.depth(), 2, 'nothing peeked: nothing consumed');
  assert.equal(recordIndex(q.peek()!), 0);
  q.advance();
  q.advance();
  assert.equal(q.depth(), 1, 'a second advance does not consume the unseen next record');
  assert.equal(recordIndex(q.peek()!), 1);
  q.empty();
  q.put(record(2));
  q.advance();
  assert.equal(q.depth(), 1, 'the record peeked before empty() is forgotten');
  assert.equal(recordIndex(q.peek()!), 2);
});

test('byte-exact record layout and meta file (bytes of the original)', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir));
  const payload = Buffer.concat([
    Buffer.from('18eadf6529e4ca3c', 'hex'), // timestamp
    Buffer.from('0000', 'hex'), // attempts
    Buffer.from('18a65a5413807000', 'latin1'), // id
    Buffer.from('m-a', 'latin1'),
  ]);
  q.put(payload);
  q.close();
  const seg = fs.readFileSync(path.join(dir, 'dq.diskqueue.000000.dat'));
  assert.equal(
    seg.toString('hex'),
    '0000001d18eadf6529e4ca3c0000' + Buffer.from('18a65a5413807000m-a').toString('hex'),
  );
  assert.equal(readMeta(dir), '1\n0,0\n0,33\n');
  assert.deepEqual(queueFiles(dir), ['dq.diskqueue.000000.dat', 'dq.diskqueue.meta.dat']);
  if (process.platform !== 'win32') {
    assert.equal(fs.statSync(path.join(dir, 'dq.diskqueue.000000.dat')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(dir, 'dq.diskqueue.meta.dat')).mode & 0o777, 0o600);
  }
});

test('8 records of 80 bytes, 2 per file: meta is exactly "8\\n0,0\\n3,160\\n" (docs/disk-format.md)', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 160 }));
  for (let i = 0; i < 8; i++) q.put(record(i, 76));
  assert.deepEqual(q.metadata(), { depth: 8, readFileNum: 0, readPos: 0, writeFileNum: 3, writePos: 160 });
  q.close();
  assert.equal(readMeta(dir), '8\n0,0\n3,160\n');
  for (let n = 0; n < 4; n++) assert.equal(fs.statSync(path.join(dir, `dq.diskqueue.00000${n}.dat`)).size, 160);
  // Nothing left behind by the atomic meta writes.
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('rollover across many segments: sizes follow the roll-before-write rule, order kept', (t) => {
  const dir = tempDir(t);
  const max = 1000;
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: max }));
  t.after(() => q.close());
  const sizes: number[] = [];
  for (let i = 0; i < 500; i++) {
    const size = 26 + ((i * 7919) % 300);
    sizes.push(size);
    q.put(record(i, size));
  }
  assert.equal(q.flushPending(), null);
  // Recompute the expected segmentation independently.
  const expected: number[][] = [[]];
  let pos = 0;
  for (const s of sizes) {
    if (pos > 0 && pos + 4 + s > max) {
      expected.push([]);
      pos = 0;
    }
    expected[expected.length - 1]!.push(s);
    pos += 4 + s;
  }
  assert.ok(expected.length > 50, 'many segments');
  assert.equal(q.metadata().writeFileNum, expected.length - 1);
  for (let n = 0; n < expected.length; n++) {
    const f = path.join(dir, `dq.diskqueue.${String(n).padStart(6, '0')}.dat`);
    const want = expected[n]!.reduce((a, s) => a + 4 + s, 0);
    assert.equal(fs.statSync(f).size, want, `segment ${n}`);
    assert.ok(want <= max);
  }
  const got = drain(q);
  assert.deepEqual(got.map(recordIndex), sizes.map((_, i) => i));
  assert.deepEqual(got.map((b) => b.length), sizes);
});

test('a record larger than maxBytesPerFile is written alone at position 0 of a fresh segment', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 100 }));
  t.after(() => q.close());
  q.put(record(0, 30)); // file 0 @0
  q.put(record(1, 300)); // does not fit: file 1 @0, alone
  q.put(record(2, 30)); // file 2
  q.put(record(3, 300)); // file 3
  assert.equal(q.flushPending(), null);
  assert.deepEqual(
    queueFiles(dir).filter((f) => !f.includes('meta')).map((f) => fs.statSync(path.join(dir, f)).size),
    [34, 304, 34, 304],
  );
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3]);
});

test('fully read segments are deleted, the segment being written is kept', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 160 }));
  for (let i = 0; i < 7; i++) q.put(record(i, 76)); // files 0,1,2 full, file 3 holds one
  const seg = (n: number) => `dq.diskqueue.00000${n}.dat`;
  assert.ok(q.peek());
  q.advance();
  assert.ok(fs.existsSync(path.join(dir, seg(0))), 'half-read segment stays');
  q.peek();
  q.advance();
  assert.ok(!fs.existsSync(path.join(dir, seg(0))), 'segment 0 deleted once consumed');
  drain(q);
  assert.deepEqual(
    queueFiles(dir).filter((f) => !f.includes('meta')),
    [seg(3)],
  );
  assert.deepEqual(q.metadata(), { depth: 0, readFileNum: 3, readPos: 80, writeFileNum: 3, writePos: 80 });
  q.close();
  assert.equal(readMeta(dir), '0\n3,80\n3,80\n');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.bad')), []);
});

test('restart mid-segment after close: unconsumed (incl. peeked) records come back', (t) => {
  const dir = tempDir(t);
  const opts = queueOptions(dir, { maxBytesPerFile: 500 });
  let q = new DiskQueue(opts);
  for (let i = 0; i < 20; i++) q.put(record(i, 50));
  for (let i = 0; i < 3; i++) {
    assert.equal(recordIndex(q.peek()!), i);
    q.advance();
  }
  assert.equal(recordIndex(q.peek()!), 3); // peeked, not taken
  q.close();
  assert.equal(readMeta(dir), '17\n0,162\n2,108\n');
  q = new DiskQueue(opts);
  t.after(() => q.close());
  assert.equal(q.depth(), 17);
  q.put(record(20, 50));
  assert.deepEqual(drain(q).map(recordIndex), Array.from({ length: 18 }, (_, i) => i + 3));
});

test('crash without a final sync (delete): stale meta is detected and records are salvaged (docs/disk-format.md)', (t) => {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  const opts = queueOptions(dir, { maxBytesPerFile: 500, syncEvery: 1_000_000, logger: log });
  let q = new DiskQueue(opts);
  // Rollovers sync, so the meta on disk is from the last rollover; records after it are unsynced.
  for (let i = 0; i < 25; i++) q.put(record(i, 50));
  for (let i = 0; i < 4; i++) {
    q.peek();
    q.advance(); // consumed but never persisted: delivered again after the crash
  }
  q.delete();
  assert.equal(readMeta(dir), '18\n0,0\n2,0\n');
  const log2 = new CaptureLogger();
  q = new DiskQueue({ ...opts, logger: log2 });
  t.after(() => q.close());
  assert.ok(log2.has('dq.diskqueue.000002.dat metadata writePos 0 < file size of 378, skipping to new file'));
  assert.equal(q.metadata().writeFileNum, 3);
  q.put(record(25, 50));
  assert.deepEqual(drain(q).map(recordIndex), Array.from({ length: 26 }, (_, i) => i));
  // meta said 18 (+1 put) but 26 were read: reset at the tail.
  assert.ok(log2.has('negative depth at tail (-7), metadata corruption, resetting 0...'));
  assert.equal(q.depth(), 0);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.bad')), []);
});

test('crash with the meta file segments behind: the later segments are read, not overwritten', (t) => {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  const opts = queueOptions(dir, { maxBytesPerFile: 500, syncEvery: 1_000_000, logger: log });
  let q = new DiskQueue(opts);
  for (let i = 0; i < 5; i++) q.put(record(i, 50));
  // The meta file as a group commit may leave it: replaced a moment after the fsync that let
  // the publishes be acknowledged, so a crash in between finds it behind what is on disk.
  const stale = formatMeta(q.metadata());
  for (let i = 5; i < 25; i++) q.put(record(i, 50)); // segments 0, 1 and 2
  assert.equal(q.flushPending(), null);
  q.delete(); // the crash: no final sync
  fs.writeFileSync(path.join(dir, 'dq.diskqueue.meta.dat'), stale);
  assert.equal(stale, '5\n0,0\n0,270\n');

  const log2 = new CaptureLogger();
  q = new DiskQueue({ ...opts, logger: log2 });
  t.after(() => q.close());
  assert.ok(log2.has('dq.diskqueue.000002.dat after the write segment '));
  assert.ok(log2.has('dq.diskqueue.000000.dat (metadata not synced before a crash): reading up to it'));
  assert.equal(q.metadata().writeFileNum, 3);
  q.put(record(25, 50));
  assert.deepEqual(drain(q).map(recordIndex), Array.from({ length: 26 }, (_, i) => i));
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.bad')), []);
});

test('crash before the first sync ever (no meta file): records are still salvaged', (t) => {
  const dir = tempDir(t);
  const opts = queueOptions(dir, { syncEvery: 1_000_000 });
  let q = new DiskQueue(opts);
  for (let i = 0; i < 5; i++) q.put(record(i));
  // Records reach the kernel at the flush that precedes an acknowledgement; a crash after it.
  assert.equal(q.flushPending(), null);
  q.delete();
  assert.ok(!fs.existsSync(path.join(dir, 'dq.diskqueue.meta.dat')));
  q = new DiskQueue(opts);
  t.after(() => q.close());
  q.put(record(5));
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 4, 5]);
  assert.equal(q.depth(), 0);
});

test('records outside [minMsgSize, maxMsgSize] are rejected on put and change nothing', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { maxMsgSize: 1000 }));
  t.after(() => q.close());
  assert.throws(() => q.put(Buffer.alloc(25)), {
    message: 'invalid message write size (25) minMsgSize=26 maxMsgSize=1000',
  });
  assert.throws(() => q.put(Buffer.alloc(1001)), {
    message: 'invalid message write size (1001) minMsgSize=26 maxMsgSize=1000',
  });
  assert.equal(q.depth(), 0);
  assert.deepEqual(queueFiles(dir), []);
  q.put(Buffer.alloc(1000));
  q.put(Buffer.alloc(26));
  assert.equal(q.depth(), 2);
});

test('interleaved writes while reading (random ops vs. a model FIFO)', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 300, syncEvery: 7 }));
  t.after(() => q.close());
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const model: number[] = [];
  const held: [number, Buffer][] = [];
  let next = 0;
  for (let step = 0; step < 5000; step++) {
    const r = rand();
    if (r < 0.5) {
      q.put(record(next, 26 + Math.floor(rand() * 120)));
      model.push(next++);
    } else if (r < 0.6) {
      const b = q.peek();
      assert.equal(b === null ? null : recordIndex(b), model.length ? model[0] : null);
    } else {
      const b = q.peek();
      if (model.length === 0) {
        assert.equal(b, null);
        continue;
      }
      assert.equal(recordIndex(b!), model[0]);
      if (held.length < 100) held.push([model[0]!, b!]);
      q.advance();
      model.shift();
    }
    assert.equal(q.depth(), model.length);
  }
  assert.deepEqual(drain(q).map(recordIndex), model);
  // Buffers handed out earlier were never overwritten by later reads.
  for (const [i, b] of held) assert.equal(recordIndex(b), i);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.bad')), []);
  assert.equal(queueFiles(dir).filter((f) => !f.includes('meta')).length, 1);
});

test('writer rolls over between peek and advance of the last record: no spurious .bad file', (t) => {
  // go-diskqueue issue #42: the original renames the healthy file to .bad here.
  const dir = tempDir(t);
  const log = new CaptureLogger();
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 160, logger: log }));
  t.after(() => q.close());
  q.put(record(0, 76));
  q.put(record(1, 76)); // file 0 full
  assert.equal(recordIndex(q.peek()!), 0);
  q.advance();
  assert.equal(recordIndex(q.peek()!), 1); // last record of file 0, still the write file
  q.put(record(2, 76)); // rolls over to file 1
  q.advance();
  assert.ok(!fs.existsSync(path.join(dir, 'dq.diskqueue.000000.dat')), 'consumed file deleted');
  assert.equal(recordIndex(q.peek()!), 2);
  q.advance();
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.bad')), []);
  assert.ok(!log.has('reading at'), log.lines.join('\n'));
});

test('a meta left by the original in the issue-#42 state (readPos at the end of a finished file) reads on', (t) => {
  const dir = tempDir(t);
  const opts = queueOptions(dir, { maxBytesPerFile: 160 });
  let q = new DiskQueue(opts);
  for (let i = 0; i < 3; i++) q.put(record(i, 76));
  q.close();
  fs.writeFileSync(path.join(dir, 'dq.diskqueue.meta.dat'), '1\n0,160\n1,80\n');
  q = new DiskQueue(opts);
  t.after(() => q.close());
  assert.deepEqual(drain(q).map(recordIndex), [2]);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.bad')), []);
  assert.ok(!fs.existsSync(path.join(dir, 'dq.diskqueue.000000.dat')));
});

test('empty(): files and meta gone, depth 0, numbering continues (docs/disk-format.md)', (t) => {
  const dir = tempDir(t);
  const opts = queueOptions(dir, { maxBytesPerFile: 160, syncEvery: 1 });
  let q = new DiskQueue(opts);
  for (let i = 0; i < 7; i++) q.put(record(i, 76)); // files 0..3
  q.peek();
  q.advance();
  q.peek(); // a peeked record is dropped too
  assert.ok(fs.existsSync(path.join(dir, 'dq.diskqueue.meta.dat')));
  q.empty();
  assert.equal(q.depth(), 0);
  assert.equal(q.peek(), null);
  assert.deepEqual(queueFiles(dir), [], 'segments and meta deleted');
  assert.deepEqual(q.metadata(), { depth: 0, readFileNum: 4, readPos: 0, writeFileNum: 4, writePos: 0 });
  q.put(record(100, 76));
  assert.deepEqual(queueFiles(dir), ['dq.diskqueue.000004.dat', 'dq.diskqueue.meta.dat']);
  q.close();
  assert.equal(readMeta(dir), '1\n4,0\n4,80\n');
  q = new DiskQueue(opts);
  t.after(() => q.close());
  assert.deepEqual(drain(q).map(recordIndex), [100]);
});

test('empty() then close without further activity leaves a meta file with the new numbers', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 160 }));
  for (let i = 0; i < 3; i++) q.put(record(i, 76));
  q.empty();
  q.close();
  assert.equal(readMeta(dir), '0\n2,0\n2,0\n');
});

test('syncEvery counts writes and reads; meta appears exactly at the threshold', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { syncEvery: 3 }));
  t.after(() => q.close());
  const metaPath = path.join(dir, 'dq.diskqueue.meta.dat');
  q.put(record(0));
  q.put(record(1));
  assert.ok(!fs.existsSync(metaPath));
  q.put(record(2));
  assert.equal(readMeta(dir), '3\n0,0\n0,132\n');
  q.peek();
  q.advance();
  q.peek();
  q.advance();
  assert.equal(readMeta(dir), '3\n0,0\n0,132\n', 'two reads: not yet');
  q.peek();
  q.advance();
  assert.equal(readMeta(dir), '0\n0,132\n0,132\n');
});

test('syncEvery=1: the meta on disk follows every put and every advance', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { syncEvery: 1 }));
  t.after(() => q.close());
  q.put(record(0));
  assert.equal(readMeta(dir), '1\n0,0\n0,44\n');
  q.put(record(1));
  assert.equal(readMeta(dir), '2\n0,0\n0,88\n');
  q.peek();
  assert.equal(readMeta(dir), '2\n0,0\n0,88\n', 'peek commits nothing');
  q.advance();
  assert.equal(readMeta(dir), '1\n0,44\n0,88\n');
});

test('the sync-timeout ticker persists meta of an active queue', async (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { syncEvery: 1_000_000, syncTimeoutMs: 20 }));
  t.after(() => q.close());
  q.put(record(0));
  const metaPath = path.join(dir, 'dq.diskqueue.meta.dat');
  for (let i = 0; i < 500 && !fs.existsSync(metaPath); i++) await sleep(20);
  assert.equal(readMeta(dir), '1\n0,0\n0,44\n');
});

test('after close: put/empty throw "exiting", peek is null, close/delete are idempotent', (t) => {
  const dir = tempDir(t);
  const log = new CaptureLogger();
  const q = new DiskQueue(queueOptions(dir, { logger: log }));
  q.put(record(0));
  q.close();
  q.close();
  q.delete();
  assert.throws(() => q.put(record(1)), { message: 'exiting' });
  assert.throws(() => q.empty(), { message: 'exiting' });
  assert.equal(q.peek(), null);
  q.advance();
  assert.equal(q.depth(), 1);
  assert.deepEqual(
    log.lines.filter((l) => l.includes('closing') || l.includes('deleting')),
    ['INFO: DISKQUEUE(dq): closing', 'INFO: DISKQUEUE(dq): closing ... ioLoop'],
  );
  assert.ok(log.has('INFO: DISKQUEUE(dq): writeOne() opened ' + path.join(dir, 'dq.diskqueue.000000.dat')));
});

test('records much larger than the read-ahead chunk and many small ones share reads correctly', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir, { readAheadBytes: 4096, maxBytesPerFile: 64 * 1024 }));
  t.after(() => q.close());
  const sizes = [26, 5000, 30, 30, 20000, 4090, 4096, 26, 100000, 27];
  for (let i = 0; i < sizes.length; i++) q.put(record(i, sizes[i]));
  const got = drain(q);
  assert.deepEqual(got.map(recordIndex), sizes.map((_, i) => i));
  assert.deepEqual(got.map((b) => b.length), sizes);
});

test('a Uint8Array (not a Buffer) can be put', (t) => {
  const dir = tempDir(t);
  const q = new DiskQueue(queueOptions(dir));
  t.after(() => q.close());
  const u = new Uint8Array(record(7));
  q.put(u);
  assert.deepEqual(new Uint8Array(q.peek()!), u);
});

test('DummyBackendQueue drops everything', () => {
  const q: BackendQueue = new DummyBackendQueue();
  q.put(record(0));
  assert.equal(q.peek(), null);
  assert.equal(q.depth(), 0);
  q.advance();
  q.empty();
  q.close();
  q.delete();
});

test('putFrom() writes the same segment bytes as put(), in both formats, for batched and large records', (t) => {
  const bodies = [record(1, 40), record(2, 300 * 1024), record(3, 26)];
  const source = (b: Buffer) => ({ encodedSize: () => b.length, writeTo: (buf: Buffer, off: number) => off + b.copy(buf, off) });
  for (const checksums of [false, true]) {
    const dirs = [tempDir(t), tempDir(t)];
    const [a, b] = dirs.map((dir) => new DiskQueue(queueOptions(dir, { maxBytesPerFile: 1024 * 1024, checksums, maxMsgSize: 1024 * 1024 })));
    for (const body of bodies) {
      a!.put(body);
      b!.putFrom(source(body));
    }
    assert.deepEqual(drain(b!).map(recordIndex), [1, 2, 3]);
    a!.close();
    b!.close();
    const seg = 'dq.diskqueue.000000.dat';
    assert.ok(fs.readFileSync(path.join(dirs[0]!, seg)).equals(fs.readFileSync(path.join(dirs[1]!, seg))), `checksums ${checksums}`);
  }
});
