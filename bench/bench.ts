/**
 * End-to-end benchmark (npm run bench): starts a real nsqd and measures, over loopback,
 *  1. publish: MPUB batches into a topic with no channel (the original's bench_writer),
 *  2. consume: draining that topic through one channel (bench_reader),
 *  3. single-message PUB, one outstanding per connection (latency bound),
 *  4. pub+sub at once: throughput and end-to-end latency percentiles,
 *  5. the same publish/consume with --mem-queue-size=0 (every message through the disk queue),
 *  6. durable single PUBs with group commit, and responsiveness under 5 MiB MPUBs (durable-bench.ts).
 * Output lines follow the original's bench tools: duration, MB/s, ops/s, µs/op.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchConn, encodeMpub } from './bench-conn.js';
import { runDurableBench } from './durable-bench.js';

interface Args {
  messages: number;
  size: number;
  batch: number;
  producers: number;
  consumers: number;
  rdy: number;
  phases: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { messages: 2_000_000, size: 200, batch: 200, producers: 2, consumers: 2, rdy: 2500, phases: ['pub', 'sub', 'pub1', 'pubsub', 'disk', 'durable'] };
  for (const arg of argv) {
    const m = /^--?([a-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`bad argument ${arg} (use --name=value)`);
    const [, k, v] = m as unknown as [string, string, string];
    if (k === 'phases') a.phases = v.split(',');
    else if (k in a) (a as unknown as Record<string, number>)[k] = Number(v);
    else throw new Error(`unknown argument --${k}`);
  }
  return a;
}

const nsqdPath = fileURLToPath(new URL('../src/apps/nsqd.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startNsqd(extra: string[]): Promise<{ proc: ChildProcess; port: number; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-bench-'));
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, nsqdPath, `--tcp-address=127.0.0.1:${port}`, '--http-address=', `--data-path=${dir}`, '--log-level=warn', ...extra], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      (await BenchConn.connect(port)).close();
      return { proc, port, dir };
    } catch {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error('nsqd did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function stopNsqd(n: { proc: ChildProcess; dir: string }): Promise<void> {
  return new Promise((resolve) => {
    n.proc.once('exit', () => {
      fs.rmSync(n.dir, { recursive: true, force: true });
      resolve();
    });
    n.proc.kill('SIGTERM');
  });
}

function pct(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(name: string, seconds: number, msgs: number, size: number, extra = ''): void {
  const mb = (msgs * size) / 1024 / 1024 / seconds;
  const ops = msgs / seconds;
  console.log(
    `[${name}] duration: ${seconds.toFixed(3)}s - ${mb.toFixed(3)}mb/s - ${ops.toFixed(1)}ops/s - ${(1e6 / ops).toFixed(3)}us/op${extra}`,
  );
}

function makeBodies(n: number, size: number): Buffer[] {
  return Array.from({ length: n }, () => Buffer.alloc(size, 'a'));
}

/**
 * Sends `cmd` `count` times over `producers` connections, one command outstanding per
 * connection; returns seconds and the sorted round-trip latencies (ms).
 */
async function sendRepeatedly(port: number, cmd: Buffer, count: number, producers: number): Promise<{ seconds: number; lat: number[] }> {
  const conns = await Promise.all(Array.from({ length: producers }, () => BenchConn.connect(port)));
  let next = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (next < count) {
        next++;
        const s = performance.now();
        await c.send(cmd);
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const c of conns) c.close();
  return { seconds, lat: lat.sort((x, y) => x - y) };
}

/** Publishes `total` messages in MPUB batches; returns seconds and MPUB round-trip latencies. */
function publish(port: number, topic: string, total: number, a: Args): Promise<{ seconds: number; lat: number[] }> {
  const cmd = encodeMpub(topic, makeBodies(a.batch, a.size));
  return sendRepeatedly(port, cmd, Math.ceil(total / a.batch), a.producers);
}

/** Consumes `total` messages over `consumers` connections with FIN; returns seconds. */
async function consume(port: number, topic: string, total: number, a: Args, onBody?: (b: Buffer) => void): Promise<{ seconds: number; conns: BenchConn[]; done: Promise<number> }> {
  const conns = await Promise.all(Array.from({ length: a.consumers }, () => BenchConn.connect(port)));
  let got = 0;
  let t0 = 0;
  let finish!: (s: number) => void;
  const done = new Promise<number>((r) => (finish = r));
  const fin = Buffer.from('FIN 0000000000000000\n');
  for (const c of conns) {
    c.onMessage = (id, body) => {
      if (t0 === 0) t0 = performance.now();
      id.copy(fin, 4);
      c.sock.write(Buffer.from(fin));
      onBody?.(body);
      if (++got === total) finish((performance.now() - t0) / 1000);
    };
  }
  await Promise.all(conns.map((c) => c.subscribe(topic, 'ch', a.rdy)));
  return { seconds: 0, conns, done };
}

async function phasePubThenSub(port: number, a: Args, label: string): Promise<void> {
  const topic = `bench_${label}_${Date.now()}`;
  const pub = await publish(port, topic, a.messages, a);
  report(`${label}_writer`, pub.seconds, a.messages, a.size, ` - mpub p50: ${pub.lat.length ? pct(pub.lat, 50).toFixed(2) : 0}ms p99: ${pct(pub.lat, 99).toFixed(2)}ms`);
  const sub = await consume(port, topic, a.messages, a);
  const seconds = await sub.done;
  for (const c of sub.conns) c.close();
  report(`${label}_reader`, seconds, a.messages, a.size);
}

/** Single-message PUB, one outstanding command per connection (bench_writer --batch-size=1). */
async function phasePub(port: number, a: Args): Promise<void> {
  const topic = `bench_pub_${Date.now()}`;
  const total = Math.min(a.messages, 200_000);
  const body = Buffer.alloc(a.size, 'a');
  const cmd = Buffer.concat([Buffer.from(`PUB ${topic}\n`), Buffer.alloc(4), body]);
  cmd.writeInt32BE(a.size, cmd.length - a.size - 4);
  const { seconds, lat } = await sendRepeatedly(port, cmd, total, a.producers);
  report('pub_writer', seconds, total, a.size, ` - PUB p50: ${pct(lat, 50).toFixed(3)}ms p99: ${pct(lat, 99).toFixed(3)}ms`);
}

async function phasePubSub(port: number, a: Args): Promise<void> {
  const topic = `bench_pubsub_${Date.now()}`;
  const total = a.messages;
  const lat = new Float64Array(total);
  let n = 0;
  // Every body starts with its publish time, so the consumer measures true end-to-end latency.
  const sub = await consume(port, topic, total, a, (b) => {
    lat[n++] = performance.timeOrigin + performance.now() - b.readDoubleBE(0);
  });
  const conns = await Promise.all(Array.from({ length: a.producers }, () => BenchConn.connect(port)));
  const bodies = makeBodies(a.batch, a.size);
  const batches = Math.ceil(total / a.batch);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (next < batches) {
        next++;
        const now = performance.timeOrigin + performance.now();
        for (const b of bodies) b.writeDoubleBE(now, 0);
        await c.send(encodeMpub(topic, bodies));
      }
    }),
  );
  const pubSeconds = (performance.now() - t0) / 1000;
  const subSeconds = await sub.done;
  for (const c of [...conns, ...sub.conns]) c.close();
  const sorted = lat.subarray(0, n).sort();
  report('pubsub_writer', pubSeconds, total, a.size);
  report('pubsub_reader', subSeconds, total, a.size, ` - e2e p50: ${pct(sorted, 50).toFixed(2)}ms p99: ${pct(sorted, 99).toFixed(2)}ms`);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(
    `# tsnsq bench: ${a.messages} msgs of ${a.size} B, MPUB batches of ${a.batch}, ${a.producers} producers, ${a.consumers} consumers (RDY ${a.rdy})`,
  );
  console.log(`# node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${os.platform()} ${os.release()}`);
  if (['pub', 'sub', 'pub1', 'pubsub'].some((p) => a.phases.includes(p))) {
    const n = await startNsqd([]);
    try {
      if (a.phases.includes('pub') || a.phases.includes('sub')) await phasePubThenSub(n.port, a, 'bench');
      if (a.phases.includes('pub1')) await phasePub(n.port, a);
      if (a.phases.includes('pubsub')) await phasePubSub(n.port, a);
    } finally {
      await stopNsqd(n);
    }
  }
  if (a.phases.includes('disk')) {
    const n = await startNsqd(['--mem-queue-size=0']);
    try {
      await phasePubThenSub(n.port, { ...a, messages: Math.min(a.messages, 500_000) }, 'disk');
    } finally {
      await stopNsqd(n);
    }
  }
  if (a.phases.includes('durable')) await runDurableBench(a.size);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
