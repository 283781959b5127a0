// Micro-benchmark of the disk queue hot path: put, then peek/advance, of fixed-size records.
// Usage: node dist/bench/diskqueue-bench.js [--n 200000] [--size 200] [--sync-every 2500] [--read-ahead 262144]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskQueue } from '../src/diskqueue/disk-queue.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const n = arg('n', 200_000);
const size = arg('size', 200);
const syncEvery = arg('sync-every', 2500);
const readAheadBytes = arg('read-ahead', 256 * 1024);

function report(label: string, ops: number, ns: bigint): void {
  const sec = Number(ns) / 1e9;
  const mb = (ops * size) / (1024 * 1024);
  console.log(
    `${label.padEnd(22)} ${ops} msgs in ${sec.toFixed(3)}s: ${Math.round(ops / sec)} msgs/s, ` +
      `${(mb / sec).toFixed(2)} MB/s, ${((sec * 1e6) / ops).toFixed(3)} µs/op`,
  );
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-dq-bench-'));
try {
  const q = new DiskQueue({
    name: 'bench',
    dataPath: dir,
    maxBytesPerFile: 100 * 1024 * 1024,
    minMsgSize: 26,
    maxMsgSize: 1024 * 1024 + 26,
    syncEvery,
    syncTimeoutMs: 2000,
    readAheadBytes,
  });
  const rec = Buffer.alloc(size, 0x61);

  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, ${os.platform()} ${os.release()}`);
  console.log(`records: ${n} x ${size} bytes, syncEvery ${syncEvery}, read-ahead ${readAheadBytes}, dir ${dir}`);

  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) q.put(rec);
  report('put', n, process.hrtime.bigint() - t0);

  t0 = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    bytes += q.peek()!.length;
    q.advance();
  }
  report('peek+advance', n, process.hrtime.bigint() - t0);
  if (bytes !== n * size || q.depth() !== 0) throw new Error('bench read mismatch');

  // The common nsqd shape: the reader keeps up, each record is written then read back at once.
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    q.put(rec);
    q.peek();
    q.advance();
  }
  report('put+peek+advance', n, process.hrtime.bigint() - t0);

  // Backlog of 1000 records drained in bursts (overflow while consumers are slower).
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1000) {
    for (let j = 0; j < 1000; j++) q.put(rec);
    for (let j = 0; j < 1000; j++) {
      q.peek();
      q.advance();
    }
  }
  report('put/drain x1000', n, process.hrtime.bigint() - t0);
  q.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
