/**
 * End-to-end benchmark (npm run bench): starts a real nsqd in a process of its own and load
 * generator processes beside it (bench-client.ts, as the original's bench_writer and
 * bench_reader), and measures over loopback:
 *  1. publish: MPUB batches into a topic with no channel (bench_writer),
 *  2. consume: draining that topic through one channel (bench_reader),
 *  3. single-message PUB, one outstanding per connection (latency bound),
 *  4. pub+sub at once: throughput and end-to-end latency percentiles,
 *  5. the same publish/consume with --mem-queue-size=0 (every message through the disk queue),
 *  6. idle: nsqd's RSS with `--idle-clients` connections open.
 *  7. durable single PUBs with group commit, and responsiveness under 5 MiB MPUBs (durable-bench.ts).
 * Consumers FIN each message in its own write, as real clients do (--fin=corked batches the FINs
 * of one read into one write). Output lines follow the original's bench tools: duration, MB/s,
 * ops/s, µs/op; with the peak RSS of nsqd during the phase.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientJob, ClientProgress, ClientResult } from './bench-client.js';
import type { FinMode } from './bench-conn.js';
import { runDurableBench } from './durable-bench.js';

interface Args {
  messages: number;
  size: number;
  batch: number;
  producers: number;
  consumers: number;
  rdy: number;
  fin: FinMode;
  idleClients: number;
  phases: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    messages: 2_000_000, size: 200, batch: 200, producers: 2, consumers: 2, rdy: 2500, fin: 'each', idleClients: 1000,
    phases: ['pub', 'sub', 'pub1', 'pubsub', 'disk', 'idle', 'durable'],
  };
  for (const arg of argv) {
    const m = /^--?([a-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`bad argument ${arg} (use --name=value)`);
    const [, k, v] = m as unknown as [string, string, string];
    const key = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (key === 'phases') a.phases = v.split(',');
    else if (key === 'fin') {
      if (v !== 'each' && v !== 'corked') throw new Error(`--fin must be each or corked, not ${v}`);
      a.fin = v;
    } else if (key in a) (a as unknown as Record<string, number>)[key] = Number(v);
    else throw new Error(`unknown argument --${k}`);
  }
  return a;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// BENCH_NSQD: another build's nsqd.js, to compare servers under the same load generators.
const nsqdPath = process.env.BENCH_NSQD ?? path.join(here, '../src/apps/nsqd.js');
const clientPath = path.join(here, 'bench-client.js');

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

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end('  V2'); // a probe without the magic would be logged as an error
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Nsqd {
  proc: ChildProcess;
  port: number;
  dir: string;
}

async function startNsqd(extra: string[]): Promise<Nsqd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-bench-'));
  const port = await freePort();
  // BENCH_NODE_ARGS: node flags for nsqd (--cpu-prof ...); BENCH_NSQD_ARGS: more nsqd flags.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  extra = [...extra, ...(process.env.BENCH_NSQD_ARGS ?? '').split(' ').filter(Boolean)];
  const proc = spawn(process.execPath, [...nodeArgs, nsqdPath, `--tcp-address=127.0.0.1:${port}`, '--http-address=', `--data-path=${dir}`, '--log-level=warn', ...extra], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 10000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('nsqd did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port, dir };
}

function stopNsqd(n: Nsqd): Promise<void> {
  return new Promise((resolve) => {
    n.proc.once('exit', () => {
      fs.rmSync(n.dir, { recursive: true, force: true });
      resolve();
    });
    n.proc.kill('SIGTERM');
  });
}

/**
 * Resident set size of a process in MiB (Linux /proc), or NaN elsewhere. `RssAnon` leaves out
 * the pages of the node binary and libraries, which are shared with every other process.
 */
function rssMiB(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used (Linux /proc), or NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** What nsqd itself spent during a phase: peak RSS (MiB) and CPU seconds, robust to a noisy machine. */
interface ServerCost {
  rss: number;
  cpu: number;
}

/** Samples nsqd's RSS while `f` runs and its CPU time around it. */
async function withServerCost<T>(n: Nsqd, f: () => Promise<T>): Promise<[T, ServerCost]> {
  const pid = n.proc.pid!;
  let peak = rssMiB(pid);
  const cpu0 = cpuSeconds(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  try {
    const r = await f();
    return [r, { rss: Math.max(peak, rssMiB(pid)), cpu: cpuSeconds(pid) - cpu0 }];
  } finally {
    clearInterval(timer);
  }
}

/** A started load generator process. */
interface Client {
  ready: Promise<void>;
  /** Starts the work (a consumer: stops it). */
  go(): void;
  result: Promise<ClientResult>;
}

function startClient(job: ClientJob, onProgress?: (p: ClientProgress) => void): Client {
  const child = fork(clientPath, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<ClientResult>((resolve, reject) => {
    child.on('message', (m: { type: string } & ClientResult & ClientProgress) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'progress') onProgress?.(m);
      else if (m.type === 'result') resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`bench client (${job.role}) exited with ${code}`)));
  });
  return { ready, go: () => child.send('go'), result };
}

/** What a group of load generators measured: seconds from the first start to the last end, sorted latencies. */
interface GroupResult {
  seconds: number;
  lat: Float64Array;
  /** CPU seconds of all the group's processes. */
  cpu: number;
}

function merge(results: ClientResult[]): GroupResult {
  const start = Math.min(...results.map((r) => r.start));
  const end = Math.max(...results.map((r) => r.end));
  const lat = Float64Array.from(results.flatMap((r) => r.lat)).sort();
  return { seconds: (end - start) / 1000, lat, cpu: results.reduce((x, r) => x + r.cpu, 0) };
}

/** One process per connection, as bench_writer's goroutines run side by side; `total` split between them. */
async function runPublishers(n: number, job: (share: number) => ClientJob, total: number): Promise<GroupResult> {
  const clients = Array.from({ length: n }, (_, i) => startClient(job(Math.floor(total / n) + (i < total % n ? 1 : 0))));
  await Promise.all(clients.map((c) => c.ready));
  for (const c of clients) c.go();
  return merge(await Promise.all(clients.map((c) => c.result)));
}

/** One consumer process per connection; resolves `ready` once all are subscribed, `done` after `total` messages. */
function startConsumers(n: number, job: ClientJob, total: number): { ready: Promise<void>; done: Promise<GroupResult> } {
  const counts = new Array<number>(n).fill(0);
  let stopped = false;
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(
      startClient(job, (p) => {
        counts[i] = p.received;
        if (stopped || counts.reduce((x, y) => x + y, 0) < total) return;
        stopped = true;
        for (const c of clients) c.go();
      }),
    );
  }
  const ready = Promise.all(clients.map((c) => c.ready)).then(() => undefined);
  return { ready, done: Promise.all(clients.map((c) => c.result)).then(merge) };
}

async function consumeAll(n: number, job: ClientJob, total: number): Promise<GroupResult> {
  return startConsumers(n, job, total).done;
}

function report(name: string, seconds: number, msgs: number, size: number, extra = ''): void {
  const mb = (msgs * size) / 1024 / 1024 / seconds;
  const ops = msgs / seconds;
  console.log(
    `[${name}] duration: ${seconds.toFixed(3)}s - ${mb.toFixed(3)}mb/s - ${ops.toFixed(1)}ops/s - ${(1e6 / ops).toFixed(3)}us/op${extra}`,
  );
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const percentiles = (what: string, lat: Float64Array, digits: number) =>
  ` - ${what} p50: ${pct(lat, 50).toFixed(digits)}ms p99: ${pct(lat, 99).toFixed(digits)}ms`;

const cost = (c: ServerCost, msgs: number) => ` - nsqd cpu: ${((c.cpu * 1e6) / msgs).toFixed(2)}us/msg rss peak: ${c.rss.toFixed(0)}MiB`;

function subJob(n: Nsqd, topic: string, a: Args, e2e: boolean): ClientJob {
  return { role: 'sub', port: n.port, topic, conns: 1, rdy: a.rdy, fin: a.fin, e2e };
}

function mpubJob(n: Nsqd, topic: string, a: Args, stamp: boolean): (share: number) => ClientJob {
  return (total) => ({ role: 'mpub', port: n.port, topic, total, batch: a.batch, size: a.size, conns: 1, stamp });
}

async function phasePubThenSub(n: Nsqd, a: Args, label: string): Promise<void> {
  const topic = `bench_${label}_${Date.now()}`;
  const [pub, pubCost] = await withServerCost(n, () => runPublishers(a.producers, mpubJob(n, topic, a, false), a.messages));
  report(`${label}_writer`, pub.seconds, a.messages, a.size, `${percentiles('mpub', pub.lat, 2)}${cost(pubCost, a.messages)}`);
  const [sub, subCost] = await withServerCost(n, () => consumeAll(a.consumers, subJob(n, topic, a, false), a.messages));
  report(`${label}_reader`, sub.seconds, a.messages, a.size, ` - fin: ${a.fin}${cost(subCost, a.messages)} - clients cpu: ${((sub.cpu * 1e6) / a.messages).toFixed(2)}us/msg`);
}

/** Single-message PUB, one outstanding command per connection (bench_writer --batch-size=1). */
async function phasePub(n: Nsqd, a: Args): Promise<void> {
  const total = Math.min(a.messages, 200_000);
  const topic = `bench_pub_${Date.now()}`;
  const r = await runPublishers(a.producers, (share) => ({ role: 'pub', port: n.port, topic, total: share, size: a.size, conns: 1 }), total);
  report('pub_writer', r.seconds, total, a.size, percentiles('PUB', r.lat, 3));
}

async function phasePubSub(n: Nsqd, a: Args): Promise<void> {
  const topic = `bench_pubsub_${Date.now()}`;
  const total = a.messages;
  const [[pub, sub], both] = await withServerCost(n, async () => {
    const consumers = startConsumers(a.consumers, subJob(n, topic, a, true), total);
    await consumers.ready;
    return Promise.all([runPublishers(a.producers, mpubJob(n, topic, a, true), total), consumers.done]);
  });
  report('pubsub_writer', pub.seconds, total, a.size);
  report('pubsub_reader', sub.seconds, total, a.size, `${percentiles('e2e', sub.lat, 2)}${cost(both, total)}`);
}

/** nsqd's RSS with `idleClients` connections that sent the magic and nothing else. */
async function phaseIdle(a: Args): Promise<void> {
  const n = await startNsqd([]);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const pid = n.proc.pid!;
    const before = [rssMiB(pid), rssMiB(pid, 'RssAnon')];
    const c = startClient({ role: 'idle', port: n.port, conns: a.idleClients });
    await c.ready;
    await new Promise((r) => setTimeout(r, 1000));
    const after = [rssMiB(pid), rssMiB(pid, 'RssAnon')];
    c.go();
    await c.result;
    const mib = (r: number[]) => `${r[0]!.toFixed(1)}MiB (anon ${r[1]!.toFixed(1)}MiB)`;
    console.log(`[idle] nsqd rss: ${mib(before)} alone - ${mib(after)} with ${a.idleClients} idle clients`);
  } finally {
    await stopNsqd(n);
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(
    `# tsnsq bench: ${a.messages} msgs of ${a.size} B, MPUB batches of ${a.batch}, ${a.producers} producers, ${a.consumers} consumers (RDY ${a.rdy}, FIN ${a.fin})`,
  );
  console.log(`# node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${os.platform()} ${os.release()}`);
  if (['pub', 'sub', 'pub1', 'pubsub'].some((p) => a.phases.includes(p))) {
    const n = await startNsqd([]);
    try {
      if (a.phases.includes('pub') || a.phases.includes('sub')) await phasePubThenSub(n, a, 'bench');
      if (a.phases.includes('pub1')) await phasePub(n, a);
      if (a.phases.includes('pubsub')) await phasePubSub(n, a);
    } finally {
      await stopNsqd(n);
    }
  }
  if (a.phases.includes('disk')) {
    const n = await startNsqd(['--mem-queue-size=0']);
    try {
      await phasePubThenSub(n, { ...a, messages: Math.min(a.messages, 500_000) }, 'disk');
    } finally {
      await stopNsqd(n);
    }
  }
  if (a.phases.includes('idle')) await phaseIdle(a);
  if (a.phases.includes('durable')) await runDurableBench(a.size);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
