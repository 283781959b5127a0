/**
 * The durable-publish phase of `npm run bench` (--phases=durable): single PUBs from many
 * connections (one outstanding each) with the default settings and with durable ones
 * (--mem-queue-size=0 --sync-every=1, where an OK waits for the group commit's fsync), next to
 * this machine's one-fsync-per-message rate (write + fdatasync of one message, in a loop), the
 * ceiling of a daemon that syncs each message on its own. Also the bench nsqd process helpers
 * (see responsiveness.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchConn } from './bench-conn.js';

// BENCH_NSQD: another build's nsqd.js, to compare servers under the same load (as bench.ts).
const nsqdPath = process.env.BENCH_NSQD ?? fileURLToPath(new URL('../src/apps/nsqd.js', import.meta.url));

/** A bench nsqd: its process, TCP port, HTTP port (0 without HTTP) and temp data dir. */
export interface Nsqd {
  proc: ChildProcess;
  port: number;
  httpPort: number;
  dir: string;
}

/** nsqd on ephemeral ports (HTTP only with `http`); the ports are read from its (info-level) log. */
export function start(extra: string[], http = false): Promise<Nsqd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-durable-bench-'));
  const httpAddr = http ? '127.0.0.1:0' : '';
  // e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the daemon (as bench.ts).
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
  const args = [...nodeArgs, nsqdPath, '--tcp-address=127.0.0.1:0', `--http-address=${httpAddr}`, `--data-path=${dir}`, ...extra];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /TCP: listening on [^\n]*:(\d+)/.exec(log);
      const h = /HTTP: listening on [^\n]*:(\d+)/.exec(log);
      if (m === null || (http && h === null)) return;
      proc.stderr!.off('data', onData);
      proc.stderr!.resume();
      proc.stdout!.resume();
      resolve({ proc, port: Number(m[1]), httpPort: h === null ? 0 : Number(h[1]), dir });
    };
    proc.stderr!.on('data', onData);
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`nsqd exited (${code}): ${log}`)));
  });
}

/** Stops a bench nsqd and removes its data dir. */
export function stop(n: Nsqd): Promise<void> {
  return new Promise((resolve) => {
    n.proc.removeAllListeners('exit');
    n.proc.once('exit', () => {
      fs.rmSync(n.dir, { recursive: true, force: true });
      resolve();
    });
    n.proc.kill('SIGTERM');
  });
}

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
    const n = await start([...args]);
    try {
      const r = await pubLoad(n.port, connections, size, ms);
      const x = name === 'pub_durable' ? ` (${(r.rate / one).toFixed(1)}x the fsync loop)` : '';
      console.log(`[${name}] ${connections} conns, single PUB of ${size} B: ${r.rate.toFixed(0)} msgs/s${x} - p50: ${r.p50.toFixed(2)}ms p99: ${r.p99.toFixed(2)}ms`);
    } finally {
      await stop(n);
    }
  }
}
