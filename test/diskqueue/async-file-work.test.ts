// A queue given a group commit (as nsqd's are) does its file work in libuv's thread pool: meta
// writes (the rename too) and the freeing of deleted segments' blocks. Whatever the event loop does
// meanwhile (empty, delete, close), once the commit has settled the files must say what the
// queue says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import { formatMeta } from '../../src/diskqueue/files.js';
import { GroupCommit } from '../../src/diskqueue/group-commit.js';
import { drain, queueFiles, queueOptions, readMeta, record, recordIndex, tempDir } from './helpers.js';

const META = 'dq.diskqueue.meta.dat';

/** `n` turns of the event loop, so a pool job started before is at some step of its chain. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

function withCommit(dir: string, gc: GroupCommit): DiskQueue {
  // syncEvery 4: reads and writes keep marking the queue for commits (meta writes in flight).
  return new DiskQueue(queueOptions(dir, { maxBytesPerFile: 160, syncEvery: 4, groupCommit: gc }));
}

/**
 * A queue of 6 records with `reads` consumed, `delay` + 1 turns after its commit was due: the
 * commit's meta write is then at some step of its chain in the pool (or done).
 */
async function midCommit(t: Parameters<typeof tempDir>[0], reads: number, delay: number) {
  const dir = tempDir(t);
  const gc = new GroupCommit();
  const q = withCommit(dir, gc);
  for (let i = 0; i < 6; i++) q.put(record(i, 76));
  for (let i = 0; i < reads; i++) {
    q.peek();
    q.advance();
  }
  await turns(1 + delay);
  return { dir, gc, q };
}

test('consumed segments are deleted, their blocks freed in the pool; meta files follow', async (t) => {
  const dir = tempDir(t);
  const gc = new GroupCommit();
  const q = withCommit(dir, gc);
  for (let i = 0; i < 9; i++) q.put(record(i, 76)); // files 0..3 full, file 4 holds one
  assert.deepEqual(drain(q).map(recordIndex), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  await gc.settled();
  assert.deepEqual(queueFiles(dir), ['dq.diskqueue.000004.dat', META]);
  assert.equal(readMeta(dir), formatMeta(q.metadata()));
  q.close();
  assert.equal(readMeta(dir), '0\n4,80\n4,80\n');
});

test('empty() while a meta write is at any step in the pool: the meta file ends with the emptied positions', async (t) => {
  for (let delay = 0; delay < 12; delay++) {
    const { dir, gc, q } = await midCommit(t, 1, delay);
    q.empty();
    await gc.settled();
    if (fs.existsSync(path.join(dir, META))) assert.equal(readMeta(dir), formatMeta(q.metadata()), `delay ${delay}`);
    assert.deepEqual(
      queueFiles(dir).filter((f) => f !== META),
      [],
      `delay ${delay}: no segment is left`,
    );
    q.put(record(100, 76));
    q.close();
    const again = new DiskQueue(queueOptions(dir, { maxBytesPerFile: 160 }));
    assert.deepEqual(drain(again).map(recordIndex), [100], `delay ${delay}: only what came after empty()`);
    again.close();
  }
});

test('empty() + delete() (nsqd deleting a topic or channel) while a meta write is at any step in the pool leave no file behind', async (t) => {
  for (let delay = 0; delay < 12; delay++) {
    const { dir, gc, q } = await midCommit(t, 1, delay);
    q.empty();
    q.delete();
    assert.deepEqual(fs.readdirSync(dir), [], `delay ${delay}: none at once`);
    await gc.settled();
    assert.deepEqual(fs.readdirSync(dir), [], `delay ${delay}: none once the pool is done`);
  }
});

test('close() while a meta write is at any step in the pool: the final positions win', async (t) => {
  for (let delay = 0; delay < 12; delay++) {
    const { dir, gc, q } = await midCommit(t, 3, delay);
    // Positions move after the commit captured its copy: that older copy must not land last.
    q.peek();
    q.advance();
    const final = formatMeta(q.metadata());
    q.close();
    await gc.settled();
    assert.equal(readMeta(dir), final, `delay ${delay}`);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
      `delay ${delay}: no temp file left`,
    );
  }
});

test('empty() with a group commit removes every segment at once (their blocks are freed in the pool)', async (t) => {
  const dir = tempDir(t);
  const gc = new GroupCommit();
  const q = withCommit(dir, gc);
  for (let i = 0; i < 9; i++) q.put(record(i, 76)); // files 0..4
  q.peek();
  q.advance();
  q.empty();
  assert.deepEqual(queueFiles(dir).filter((f) => f !== META), [], 'no segment name left');
  await gc.settled();
  q.put(record(100, 76));
  assert.deepEqual(drain(q).map(recordIndex), [100]);
  q.close();
  assert.deepEqual(queueFiles(dir), ['dq.diskqueue.000005.dat', META]);
});
