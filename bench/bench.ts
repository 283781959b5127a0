/**
 * End-to-end benchmark (npm run bench): starts a real nsqd in a process of its own and load
 * generator processes beside it (bench-client.ts, as the original's bench_writer and
 * bench_reader), and measures over loopback:
 *  1. publish: MPUB batches into a topic with no channel (bench_writer),
 *  2. consume: draining that topic through one channel (bench_reader),
 *  3. single-message PUB, one outstanding per connection (latency bound),
 *  4. pub+sub at once: throughput and end-to-end latency percentiles (`--rate=N`: producers
 *     offer N msgs/s in all instead of as many as nsqd takes, so that e2e shows latency at a
 *     load the consumers keep up with rather than a growing backlog),
 *  5. the same publish/consume with --mem-queue-size=0 (every message through the disk queue),
 *  6. idle: nsqd's RSS with `--idle-clients` connections open.
 *  7. durable single PUBs with group commit (durable-bench.ts); responsive: another client's PUB
 *     round trips during 5 MiB MPUB, /mpub and IDENTIFY inputs (responsiveness.ts),
 *  8. library: bench_writer then bench_reader (built on the client library, src/client), one
 *     process per connection started together by --deadline, against a fresh nsqd.
 * Consumers FIN each message in its own write, as real clients do (--fin=corked batches the FINs
 * of one read into one write). Output lines follow the original's bench tools: duration, MB/s,
 * ops/s, µs/op; with the peak RSS of nsqd during the phase.
 */
import { fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientJob, ClientProgress, ClientResult } from './bench-client.js';
import type { FinMode } from './bench-conn.js';
import { runDurableBench } from './durable-bench.js';
import { type Nsqd, startNsqd, stopNsqd } from './bench-nsqd.js';
import { runResponsivenessProbe } from './responsiveness.js';
import { formatDeadline, parseResultLine, type ParsedResult } from './bench-tool.js';

interface Args {
  messages: number;
  size: number;
  batch: number;
  producers: number;
  consumers: number;
  rdy: number;
  fin: FinMode;
  idleClients: number;
  /** pubsub: messages per second offered by all producers together (0: as fast as nsqd takes them). */
  rate: number;
  /** bench_writer's --runfor in the library phase (a Go duration). */
  runfor: string;
  phases: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    messages: 2_000_000, size: 200, batch: 200, producers: 2, consumers: 2, rdy: 2500, fin: 'each', idleClients: 1000, rate: 0, runfor: '10s',
    phases: ['pub', 'sub', 'pub1', 'pubsub', 'disk', 'idle', 'durable', 'responsive', 'library'],
  };
  for (const arg of argv) {
    const m = /^--?([a-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`bad argument ${arg} (use --name=value)`);
    const [, k, v] = m as unknown as [string, string, string];
    const key = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (key === 'phases') a.phases = v.split(',');
    else if (key === 'runfor') a.runfor = v;
    else if (key === 'fin') {
      if (v !== 'each' && v !== 'bufio' && v !== 'corked') throw new Error(`--fin must be each, bufio or corked, not ${v}`);
      a.fin = v;
    } else if (key in a) (a as unknown as Record<string, number>)[key] = Number(v);
    else throw new Error(`unknown argument --${k}`);
  }
  return a;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const clientPath = path.join(here, 'bench-client.js');

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

/** read/write-family system calls a process has made (Linux /proc/<pid>/io), or NaN elsewhere. */
function syscalls(pid: number): { r: number; w: number } {
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/syscr: (\d+)/.exec(io)?.[1]), w: Number(/syscw: (\d+)/.exec(io)?.[1]) };
  } catch {
    return { r: NaN, w: NaN };
  }
}

/**
 * What nsqd itself spent during a phase: peak RSS (MiB), CPU seconds and read/write system calls,
 * robust to a noisy machine.
 */
interface ServerCost {
  rss: number;
  cpu: number;
  reads: number;
  writes: number;
}

/** Samples nsqd's RSS while `f` runs and its CPU time around it. */
async function withServerCost<T>(n: Nsqd, f: () => Promise<T>): Promise<[T, ServerCost]> {
  const pid = n.proc.pid!;
  let peak = rssMiB(pid);
  const cpu0 = cpuSeconds(pid);
  const io0 = syscalls(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  try {
    const r = await f();
    const io = syscalls(pid);
    return [r, { rss: Math.max(peak, rssMiB(pid)), cpu: cpuSeconds(pid) - cpu0, reads: io.r - io0.r, writes: io.w - io0.w }];
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

const cost = (c: ServerCost, msgs: number) =>
  ` - nsqd cpu: ${((c.cpu * 1e6) / msgs).toFixed(2)}us/msg rss peak: ${c.rss.toFixed(0)}MiB` +
  ` syscalls: ${((1000 * c.reads) / msgs).toFixed(1)} reads ${((1000 * c.writes) / msgs).toFixed(1)} writes per 1k msgs`;

const clientsCpu = (g: { cpu: number }, msgs: number) => ` - clients cpu: ${((g.cpu * 1e6) / msgs).toFixed(2)}us/msg`;

function subJob(n: Nsqd, topic: string, a: Args, e2e: boolean): ClientJob {
  return { role: 'sub', port: n.port, topic, conns: 1, rdy: a.rdy, fin: a.fin, e2e };
}

/** An MPUB publisher's job; `rate`: the whole group's messages per second (0 = unpaced). */
function mpubJob(n: Nsqd, topic: string, a: Args, stamp: boolean, rate = 0): (share: number) => ClientJob {
  return (total) => ({ role: 'mpub', port: n.port, topic, total, batch: a.batch, size: a.size, conns: 1, stamp, rate: rate / a.producers });
}

async function phasePubThenSub(n: Nsqd, a: Args, label: string): Promise<void> {
  const topic = `bench_${label}_${Date.now()}`;
  const [pub, pubCost] = await withServerCost(n, () => runPublishers(a.producers, mpubJob(n, topic, a, false), a.messages));
  report(`${label}_writer`, pub.seconds, a.messages, a.size, `${percentiles('mpub', pub.lat, 2)}${cost(pubCost, a.messages)}${clientsCpu(pub, a.messages)}`);
  const [sub, subCost] = await withServerCost(n, () => consumeAll(a.consumers, subJob(n, topic, a, false), a.messages));
  report(`${label}_reader`, sub.seconds, a.messages, a.size, ` - fin: ${a.fin}${cost(subCost, a.messages)}${clientsCpu(sub, a.messages)}`);
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
    return Promise.all([runPublishers(a.producers, mpubJob(n, topic, a, true, a.rate), total), consumers.done]);
  });
  const offered = a.rate > 0 ? ` - offered: ${a.rate} msgs/s` : '';
  report('pubsub_writer', pub.seconds, total, a.size, offered);
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

/** What the bench_writer or bench_reader processes of one run printed, and their CPU seconds. */
interface ToolRun {
  lines: string[];
  results: ParsedResult[];
  cpu: number;
}

/**
 * Runs `n` processes of a bench tool (bench_writer.js / bench_reader.js) with a common
 * `--deadline` a little ahead, so their runs start together as the original's do across hosts.
 * With `stopWhen`, each gets SIGINT once it resolves (the tools then print what they measured).
 */
async function runTools(tool: 'bench_writer' | 'bench_reader', n: number, args: string[], stopWhen?: () => Promise<void>): Promise<ToolRun> {
  const deadline = Math.ceil((Date.now() + 3000) / 1000) * 1000; // node starts slowly on a loaded machine
  const cpu = new Array<number>(n).fill(0);
  const procs = Array.from({ length: n }, () =>
    spawn(process.execPath, [path.join(here, `${tool}.js`), ...args, `--deadline=${formatDeadline(deadline)}`], { stdio: ['ignore', 'inherit', 'pipe'] }),
  );
  // A process's CPU time is only readable while it lives: sample it, keep the last reading.
  const sample = () => {
    for (const [i, p] of procs.entries()) cpu[i] = Math.max(cpu[i]!, cpuSeconds(p.pid!) || 0);
  };
  const timer = setInterval(sample, 50);
  const outputs = procs.map(
    (p) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        p.stderr!.on('data', (d: Buffer) => (text += d.toString()));
        p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${tool} exited with ${code}: ${text}`))));
      }),
  );
  try {
    if (stopWhen !== undefined) {
      await new Promise((r) => setTimeout(r, deadline - Date.now()));
      // A tool that fails ends the wait too (its exit rejects).
      await Promise.race([stopWhen(), Promise.all(outputs)]);
      for (const p of procs) p.kill('SIGINT');
    }
    const lines = (await Promise.all(outputs)).flatMap((t) => t.split('\n').filter((l) => l.includes('duration: ')));
    const results = lines.map(parseResultLine).filter((r): r is ParsedResult => r !== null);
    if (results.length !== n) throw new Error(`${tool}: expected ${n} result lines, got:\n${lines.join('\n')}`);
    return { lines, results, cpu: cpu.reduce((x, y) => x + y, 0) };
  } finally {
    clearInterval(timer);
  }
}

/** One topic's (and optionally one channel's) entry in nsqd's /stats JSON. */
interface TopicStats {
  depth: number;
  message_count: number;
  channels: { channel_name: string; depth: number; in_flight_count: number; deferred_count: number; message_count: number }[];
}

async function topicStats(httpPort: number, topic: string): Promise<TopicStats> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json&topic=${topic}`);
  const body = (await res.json()) as { topics: (TopicStats & { topic_name: string })[] };
  const t = body.topics.find((x) => x.topic_name === topic);
  if (t === undefined) throw new Error(`nsqd has no topic ${topic}`);
  return t;
}

/** Resolves once every one of the topic's `total` messages went through channel `ch` and was FINished. */
async function drained(httpPort: number, topic: string, total: number): Promise<void> {
  for (;;) {
    const t = await topicStats(httpPort, topic);
    const ch = t.channels.find((c) => c.channel_name === 'ch');
    if (ch !== undefined && t.depth === 0 && ch.message_count >= total && ch.depth === 0 && ch.in_flight_count === 0 && ch.deferred_count === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * bench_writer for `--runfor`, then bench_reader until the channel is drained, each as one
 * process per connection (client library Producers and Consumers: the traffic of real clients),
 * against a fresh nsqd. Prints each process's line, then the group's figures as the other phases.
 */
async function phaseLibrary(a: Args): Promise<void> {
  const n = await startNsqd([], true);
  const httpPort = n.httpPort;
  try {
    const topic = `bench_library_${Date.now()}`;
    const common = [`--nsqd-tcp-address=127.0.0.1:${n.port}`, `--topic=${topic}`, `--size=${a.size}`];
    const [w, wCost] = await withServerCost(n, () => runTools('bench_writer', a.producers, [...common, `--runfor=${a.runfor}`, `--batch-size=${a.batch}`]));
    const total = (await topicStats(httpPort, topic)).message_count;
    for (const l of w.lines) console.log(`  ${l}`);
    const wSeconds = Math.max(...w.results.map((r) => r.seconds));
    report('library_writer', wSeconds, total, a.size, `${cost(wCost, total)}${clientsCpu(w, total)}`);
    // The readers run until nsqd has every message FINished (their --runfor is only a safety net).
    const [r, rCost] = await withServerCost(n, () =>
      runTools('bench_reader', a.consumers, [...common, '--runfor=10m', `--rdy=${a.rdy}`], () => drained(httpPort, topic, total)),
    );
    for (const l of r.lines) console.log(`  ${l}`);
    const rSeconds = Math.max(...r.results.map((x) => x.seconds));
    report('library_reader', rSeconds, total, a.size, `${cost(rCost, total)}${clientsCpu(r, total)}`);
  } finally {
    await stopNsqd(n);
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(
    `# tsnsq bench: ${a.messages} msgs of ${a.size} B, MPUB batches of ${a.batch}, ${a.producers} producers, ${a.consumers} consumers (RDY ${a.rdy}, FIN ${a.fin})${a.rate > 0 ? `, pubsub offered ${a.rate} msgs/s` : ''}`,
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
      await phasePubThenSub(n, { ...a, messages: Math.min(a.messages, 1_000_000) }, 'disk');
    } finally {
      await stopNsqd(n);
    }
  }
  if (a.phases.includes('idle')) await phaseIdle(a);
  if (a.phases.includes('durable')) await runDurableBench(a.size);
  if (a.phases.includes('responsive')) await runResponsivenessProbe();
  if (a.phases.includes('library')) await phaseLibrary(a);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
