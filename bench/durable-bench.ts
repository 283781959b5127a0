/**
 * The durable-publish phase of `npm run bench` (--phases=durable): single PUBs from many
 * connections (one outstanding each) with the default settings and with durable ones
 * (--mem-queue-size=0 --sync-every=1, where an OK waits for the group commit's fsync), next to
 * this machine's one-fsync-per-message rate (write + fdatasync of one message, in a loop), the
 * ceiling of a daemon that syncs each message on its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchConn } from './bench-conn.js';
import { startNsqd, stopNsqd } from './bench-nsqd.js';

/** The p-th percentile of ascending `sorted`. */
export function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** write + fdatasync of `size` bytes, appended in a loop for `ms`: syncs per second. */
function fsyncRate(size: number, ms: number): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-fsync-'));
  const fd = fs.openSync(path.join(dir, 'f'), 'w');
  const buf = Buffer.alloc(size, 'a');
  let n = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < ms) {
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
      n++;
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Single PUBs, one outstanding per connection, for `ms`: messages/s and round-trip percentiles. */
async function pubLoad(port: number, connections: number, size: number, ms: number): Promise<{ rate: number; p50: number; p99: number }> {
  const topic = `durable_bench_${Date.now()}`;
  const cmd = Buffer.concat([Buffer.from(`PUB ${topic}\n`), Buffer.alloc(4), Buffer.alloc(size, 'a')]);
  cmd.writeInt32BE(size, cmd.length - size - 4);
  const conns = await Promise.all(Array.from({ length: connections }, () => BenchConn.connect(port)));
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() - t0 < ms) {
        const s = performance.now();
        await c.send(cmd);
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const c of conns) c.close();
  lat.sort((x, y) => x - y);
  return { rate: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99) };
}

/** Runs the phase and prints one line per measurement. */
export async function runDurableBench(size: number, connections = 32, ms = 5000): Promise<void> {
  const one = fsyncRate(size, 2000);
  console.log(`[fsync_loop] write+fdatasync of ${size} B: ${one.toFixed(0)} syncs/s (one fsync per message)`);
  for (const [name, args] of [
    ['pub_default', []],
    ['pub_durable', ['--mem-queue-size=0', '--sync-every=1']],
  ] as const) {
    const n = await startNsqd([...args]);
    try {
      const r = await pubLoad(n.port, connections, size, ms);
      const x = name === 'pub_durable' ? ` (${(r.rate / one).toFixed(1)}x the fsync loop)` : '';
      console.log(`[${name}] ${connections} conns, single PUB of ${size} B: ${r.rate.toFixed(0)} msgs/s${x} - p50: ${r.p50.toFixed(2)}ms p99: ${r.p99.toFixed(2)}ms`);
    } finally {
      await stopNsqd(n);
    }
  }
}
