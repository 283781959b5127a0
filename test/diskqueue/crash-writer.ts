// Child process for crash.test: puts numbered records with syncEvery=1 and consumes every third
// step, acknowledging each completed operation on stdout ("p <i>" / "c <i>") with a synchronous
// write, until it is killed.
import * as fs from 'node:fs';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';

const [dir, maxBytes] = process.argv.slice(2);
const q = new DiskQueue({
  name: 'crash',
  dataPath: dir!,
  maxBytesPerFile: Number(maxBytes),
  minMsgSize: 26,
  maxMsgSize: 1024,
  syncEvery: 1,
  syncTimeoutMs: 2000,
});

for (let i = 0; i < 1_000_000; i++) {
  const rec = Buffer.alloc(26 + (i % 170), 0x2e);
  rec.write(`rec-${i}-`, 0, 'latin1');
  q.put(rec);
  if (q.flushPending() !== null) throw new Error('write failed');
  fs.writeSync(1, `p ${i}\n`);
  if (i % 3 === 2) {
    const b = q.peek()!;
    const idx = Number(/^rec-(\d+)-/.exec(b.toString('latin1'))![1]);
    q.advance();
    fs.writeSync(1, `c ${idx}\n`);
  }
}
