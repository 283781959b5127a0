/**
 * The responsiveness probe (`npm run bench -- --phases=responsive`, or `node
 * dist/bench/responsiveness.js` after a build): one connection does PUB round trips back to back
 * while another client sends the largest inputs the defaults allow, one after the other: 3 × 5 MiB
 * MPUB of a million one-byte messages, a 5 MiB /mpub text body of 2.6M lines, a 5 MiB IDENTIFY
 * nested 2.6M deep (refused) and one of 400k keys; then a consumer that FINs each message drains
 * a million 200-byte messages from disk (segments read, rolled over and deleted, meta files
 * written). Prints the probe's longest wait and p99 per input, next to its waits with nothing
 * else going on. Every input is built (the backlog published) before the probe starts, and the
 * probe runs in a worker thread (probe-worker.ts), so this process's own work does not count.
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mpubCommand } from '../src/client/commands.js';
import { BenchConn } from './bench-conn.js';
import { startNsqd, stopNsqd } from './bench-nsqd.js';
import { pct } from './durable-bench.js';

const MAX_BODY = 5 * 1024 * 1024;

/** One heavy input: what it is, what to do before probing, and how to send it (resolves once it was answered). */
interface HeavyInput {
  label: string;
  prepare?: () => Promise<void>;
  send: () => Promise<unknown>;
}

/** `IDENTIFY\n` with its size-prefixed body. */
function identifyCommand(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([Buffer.from('IDENTIFY\n'), size, body]);
}

/** Sends `cmd` on a connection of its own; an error answer counts as answered (the deep IDENTIFY's). */
async function sendOnce(port: number, cmd: Buffer): Promise<void> {
  const c = await BenchConn.connect(port);
  try {
    await c.send(cmd).catch(() => undefined);
  } finally {
    c.close();
  }
}

function inputs(port: number, httpPort: number): HeavyInput[] {
  const mpub = mpubCommand('responsive_heavy', new Array<Buffer>(1_000_000).fill(Buffer.from('x')));
  const text = Buffer.alloc(Math.floor(MAX_BODY / 2) * 2, 'a\n');
  const half = Math.floor(MAX_BODY / 2) - 2;
  const deep = identifyCommand(Buffer.from('['.repeat(half) + ']'.repeat(half)));
  const keys: string[] = [];
  for (let i = 0; i < 400_000; i++) keys.push(`"k${i}":1`);
  const wide = identifyCommand(Buffer.from(`{${keys.join(',')},"client_id":"wide"}`));
  return [
    {
      label: '3 x 5 MiB MPUB (1M one-byte msgs)',
      send: async () => {
        const c = await BenchConn.connect(port);
        for (let i = 0; i < 3; i++) await c.send(mpub);
        c.close();
      },
    },
    {
      label: '5 MiB /mpub text (2.6M lines)',
      send: async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/mpub?topic=responsive_http`, { method: 'POST', body: text });
        if (res.status !== 200) throw new Error(`/mpub answered ${res.status}`);
        await res.text();
      },
    },
    { label: '5 MiB IDENTIFY nested 2.6M deep', send: () => sendOnce(port, deep) },
    { label: '5 MiB IDENTIFY of 400k keys', send: () => sendOnce(port, wide) },
    drainFromDisk(port, 1_000_000),
  ];
}

/** A backlog of `total` 200-byte messages (all but --mem-queue-size of them on disk), then drained by one FIN-per-message consumer. */
function drainFromDisk(port: number, total: number): HeavyInput {
  const topic = 'responsive_backlog';
  const batch = mpubCommand(topic, new Array<Buffer>(200).fill(Buffer.alloc(200, 'b')));
  return {
    label: `a FIN-per-message consumer draining ${total / 1e6}M messages of 200 B from disk`,
    prepare: async () => {
      const c = await BenchConn.connect(port);
      for (let i = 0; i < total / 200; i++) await c.send(batch);
      c.close();
    },
    send: async () => {
      const c = await BenchConn.connect(port);
      let left = total;
      await new Promise<void>((resolve) => {
        void c.consume(topic, 'drain', 2500, 'each', () => {
          if (--left === 0) resolve();
        });
      });
      c.close();
    },
  };
}

/** The probe's figures while `work` runs (or for `ms` when it is null): max and p99 in ms. */
async function probeDuring(port: number, work: (() => Promise<unknown>) | null, ms = 1000): Promise<{ n: number; max: number; p99: number }> {
  // The prober runs in a worker thread: this thread's own work (sending 5 MiB, collecting the
  // garbage of building the inputs) must not count as nsqd's.
  const w = new Worker(new URL('./probe-worker.js', import.meta.url), { workerData: { port } });
  try {
    await once(w, 'message'); // connected
    if (work === null) await new Promise((r) => setTimeout(r, ms));
    else await work();
    w.postMessage('stop');
    const [lat] = (await once(w, 'message')) as [number[]];
    lat.sort((x, y) => x - y);
    return { n: lat.length, max: lat.at(-1) ?? 0, p99: pct(lat, 99) };
  } finally {
    await w.terminate();
  }
}

/** Runs the probe against a fresh nsqd and prints one line per input. */
export async function runResponsivenessProbe(): Promise<void> {
  // Its inputs are bad on purpose (IDENTIFY too deep): nsqd's errors about them are expected.
  const n = await startNsqd([], true, false);
  try {
    const heavy = inputs(n.port, n.httpPort);
    const line = (label: string, r: { n: number; max: number; p99: number }) =>
      console.log(`[responsive] other client's PUB during ${label}: max ${r.max.toFixed(1)}ms p99 ${r.p99.toFixed(1)}ms (${r.n} round trips)`);
    line('nothing (idle, 1 s)', await probeDuring(n.port, null));
    for (const h of heavy) {
      await h.prepare?.();
      line(h.label, await probeDuring(n.port, h.send));
    }
  } finally {
    await stopNsqd(n);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runResponsivenessProbe().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
