/**
 * A load generator process for bench.ts (forked; the server runs in a process of its own, as
 * bench_writer / bench_reader run beside the original nsqd). Gets its job as a JSON argument,
 * reports `{ type: 'ready' }` once connected (and subscribed) and waits for 'go' (a consumer: for
 * 'stop', reporting its progress meanwhile), then reports `{ type: 'result', ... }` and exits.
 */
import { mpubCommand, pubCommand } from '../src/client/commands.js';
import { BenchConn, type FinMode } from './bench-conn.js';

/** What a bench client process is asked to do. */
export type ClientJob =
  | {
      role: 'mpub';
      port: number;
      topic: string;
      total: number;
      batch: number;
      size: number;
      conns: number;
      stamp: boolean;
      /** Messages per second this process publishes at most (0: as fast as nsqd answers). */
      rate: number;
    }
  | { role: 'pub'; port: number; topic: string; total: number; size: number; conns: number }
  | { role: 'sub'; port: number; topic: string; conns: number; rdy: number; fin: FinMode; e2e: boolean }
  | { role: 'idle'; port: number; conns: number };

/**
 * A bench client's report: wall-clock ms of its first and last operation (messages received
 * for a consumer), and latencies in ms (MPUB/PUB round trips, or end-to-end for a consumer
 * of stamped bodies; a consumer keeps every 16th).
 */
export interface ClientResult {
  start: number;
  end: number;
  lat: number[];
  /** CPU seconds the process used (user + system). */
  cpu: number;
}

/** A consumer's running count, sent while it consumes so the coordinator sees the total. */
export interface ClientProgress {
  received: number;
}

const wallMs = () => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `count` commands over the connections, one outstanding per connection; with `perSecond`
 * > 0, command i leaves no earlier than i / perSecond seconds after the start (a steady offered
 * load: a command that fell behind goes at once, so the rate is kept on average).
 */
async function sendRepeatedly(conns: BenchConn[], count: number, next: () => Buffer, perSecond = 0): Promise<ClientResult> {
  let sent = 0;
  const lat: number[] = [];
  const start = wallMs();
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (sent < count) {
        const due = perSecond > 0 ? t0 + (sent * 1000) / perSecond : 0;
        sent++;
        if (due > performance.now()) await sleep(due - performance.now());
        const s = performance.now();
        await c.send(next());
        lat.push(performance.now() - s);
      }
    }),
  );
  return { start, end: wallMs(), lat, cpu: 0 };
}

/**
 * Subscribes every connection and consumes until told to stop, reporting the count as it goes
 * (every 1000 messages, and every 20 ms while it changes).
 */
async function consume(conns: BenchConn[], job: Extract<ClientJob, { role: 'sub' }>): Promise<() => ClientResult> {
  const lat: number[] = [];
  let got = 0;
  let reported = 0;
  let start = 0;
  let end = 0;
  const report = () => {
    if (got === reported) return;
    reported = got;
    process.send!({ type: 'progress', received: got } satisfies { type: string } & ClientProgress);
  };
  const timer = setInterval(report, 20);
  // Every body of the pubsub phase starts with its publish time (wall clock, shared by processes).
  const onBody = (buf: Buffer, bodyOff: number) => {
    end = wallMs();
    if (start === 0) start = end;
    if (job.e2e && (got & 15) === 0) lat.push(end - buf.readDoubleBE(bodyOff));
    if (++got % 1000 === 0) report();
  };
  await Promise.all(conns.map((c) => c.consume(job.topic, 'ch', job.rdy, job.fin, onBody)));
  return () => {
    clearInterval(timer);
    return { start, end, lat, cpu: 0 };
  };
}

async function run(job: ClientJob): Promise<ClientResult> {
  const conns = await Promise.all(Array.from({ length: job.conns }, () => BenchConn.connect(job.port)));
  const started = new Promise<void>((resolve) => process.once('message', () => resolve()));
  let result: ClientResult;
  if (job.role === 'sub') {
    const stop = await consume(conns, job);
    process.send!({ type: 'ready' });
    await started; // here: the coordinator saw the total and says stop
    result = stop();
  } else if (job.role === 'idle') {
    process.send!({ type: 'ready' });
    await started;
    result = { start: 0, end: 0, lat: [], cpu: 0 };
  } else if (job.role === 'mpub') {
    const bodies = Array.from({ length: job.batch }, () => Buffer.alloc(job.size, 'a'));
    const fixed = mpubCommand(job.topic, bodies);
    process.send!({ type: 'ready' });
    await started;
    const next = () => {
      if (!job.stamp) return fixed;
      const now = wallMs();
      for (const b of bodies) b.writeDoubleBE(now, 0);
      return mpubCommand(job.topic, bodies);
    };
    result = await sendRepeatedly(conns, Math.ceil(job.total / job.batch), next, job.rate / job.batch);
  } else {
    const cmd = pubCommand(job.topic, Buffer.alloc(job.size, 'a'));
    process.send!({ type: 'ready' });
    await started;
    result = await sendRepeatedly(conns, job.total, () => cmd);
  }
  for (const c of conns) c.close();
  return result;
}

run(JSON.parse(process.argv[2]!) as ClientJob).then(
  (r) => {
    const u = process.cpuUsage();
    r.cpu = (u.user + u.system) / 1e6;
    process.send!({ type: 'result', ...r }, () => process.exit(0));
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
