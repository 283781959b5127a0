// statsd push (upstream `nsqd/statsd.go`): pure line building and datagram packing, plus a UDP reporter that
// spreads each round's datagrams over the interval like upstream's SpreadWriter.
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { splitHostPort } from '../lib/host-port.js';
import type { ChannelStatsSnapshot, StatsSnapshot, TopicStatsSnapshot } from './stats-snapshot.js';

export type { ChannelStatsSnapshot, MemStatsSnapshot, StatsSnapshot, TopicStatsSnapshot } from './stats-snapshot.js';

/**
 * The effective key prefix: every `%s` in `template` replaced by the host key
 * (`broadcastAddress:httpPort` with `.` and `:` → `_`), a trailing `.` ensured; '' stays ''.
 */
export function statsdPrefix(template: string, broadcastAddress: string, httpPort: number): string {
  if (template === '') return '';
  // Go's net.JoinHostPort brackets IPv6 literals; the brackets survive into the key.
  const hostPort = broadcastAddress.includes(':') ? `[${broadcastAddress}]:${httpPort}` : `${broadcastAddress}:${httpPort}`;
  const hostKey = hostPort.replace(/[.:]/g, '_');
  const prefix = template.split('%s').join(hostKey);
  return prefix.endsWith('.') ? prefix : prefix + '.';
}

/** What shapes the lines of one push. */
export interface StatsdLineOptions {
  /** Already resolved with statsdPrefix. */
  prefix: string;
  /** Emit `mem.*` (needs `current.memory`). */
  memStats: boolean;
  /** Skip topics and channels whose name ends in `#ephemeral`. */
  excludeEphemeral: boolean;
}

/**
 * The lines of one push, without newlines, in upstream order: per topic (sorted) its counters,
 * gauges and e2e gauges, then per channel the same; `mem.*` last. Counters are deltas against
 * `prev` (null on the first push ⇒ totals), and may be negative after a topic was recreated,
 * as upstream's unsigned subtraction cast to int64 produces.
 */
export function buildStatsdLines(prev: StatsSnapshot | null, current: StatsSnapshot, opts: StatsdLineOptions): string[] {
  const p = opts.prefix;
  const lines: string[] = [];
  const prevTopics = new Map<string, TopicStatsSnapshot>();
  if (prev) for (const t of prev.topics) if (!prevTopics.has(t.name)) prevTopics.set(t.name, t);

  for (const topic of current.topics) {
    if (opts.excludeEphemeral && topic.name.endsWith('#ephemeral')) continue;
    const last = prevTopics.get(topic.name);
    const tk = `${p}topic.${topic.name}`;
    lines.push(
      counter(`${tk}.message_count`, topic.messageCount - (last?.messageCount ?? 0)),
      counter(`${tk}.message_bytes`, topic.messageBytes - (last?.messageBytes ?? 0)),
      gauge(`${tk}.depth`, topic.depth),
      gauge(`${tk}.backend_depth`, topic.backendDepth),
    );
    for (const item of topic.e2e.percentiles ?? []) lines.push(gauge(`${tk}.e2e_processing_latency_${percentileName(item.quantile)}`, item.value));

    for (const channel of topic.channels) {
      if (opts.excludeEphemeral && channel.name.endsWith('#ephemeral')) continue;
      const lastCh = last ? findChannel(last, channel.name) : undefined;
      const ck = `${tk}.channel.${channel.name}`;
      lines.push(
        counter(`${ck}.message_count`, channel.messageCount - (lastCh?.messageCount ?? 0)),
        gauge(`${ck}.depth`, channel.depth),
        gauge(`${ck}.backend_depth`, channel.backendDepth),
        gauge(`${ck}.in_flight_count`, channel.inFlightCount),
        gauge(`${ck}.deferred_count`, channel.deferredCount),
        counter(`${ck}.requeue_count`, channel.requeueCount - (lastCh?.requeueCount ?? 0)),
        counter(`${ck}.timeout_count`, channel.timeoutCount - (lastCh?.timeoutCount ?? 0)),
        gauge(`${ck}.clients`, channel.clientCount),
      );
      for (const item of channel.e2e.percentiles ?? []) lines.push(gauge(`${ck}.e2e_processing_latency_${percentileName(item.quantile)}`, item.value));
    }
  }

  const mem = current.memory;
  if (opts.memStats && mem) {
    lines.push(
      gauge(`${p}mem.heap_objects`, mem.heapObjects),
      gauge(`${p}mem.heap_idle_bytes`, mem.heapIdleBytes),
      gauge(`${p}mem.heap_in_use_bytes`, mem.heapInUseBytes),
      gauge(`${p}mem.heap_released_bytes`, mem.heapReleasedBytes),
      gauge(`${p}mem.gc_pause_usec_100`, mem.gcPauseUsec100),
      gauge(`${p}mem.gc_pause_usec_99`, mem.gcPauseUsec99),
      gauge(`${p}mem.gc_pause_usec_95`, mem.gcPauseUsec95),
      gauge(`${p}mem.next_gc_bytes`, mem.nextGcBytes),
      counter(`${p}mem.gc_runs`, mem.gcTotalRuns - (prev?.memory?.gcTotalRuns ?? 0)),
    );
  }
  return lines;
}

function findChannel(topic: TopicStatsSnapshot, name: string): ChannelStatsSnapshot | undefined {
  for (const c of topic.channels) if (c.name === name) return c;
  return undefined;
}

// Values are printed like Go's %d of an int64 conversion: truncated, never in exponent form.
function int(v: number): string {
  if (!Number.isFinite(v)) return '0';
  const t = Math.trunc(v);
  return Math.abs(t) < 1e21 ? String(t) : BigInt(t).toString();
}

function counter(key: string, delta: number): string {
  return `${key}:${int(delta)}|c`;
}

function gauge(key: string, value: number): string {
  return `${key}:${int(value)}|g`;
}

/** Upstream's `%.0f` of quantile × 100 (Go rounds exact halves to even): 0.99 → "99", 0.999 → "100". */
export function percentileName(quantile: number): string {
  const x = quantile * 100;
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return String(r);
}

/**
 * Packs lines (each sent with a trailing `\n`) greedily into datagrams of at most `maxBytes`,
 * never splitting a line; a line longer than `maxBytes` travels alone (as Go's bufio does).
 */
export function packDatagrams(lines: readonly string[], maxBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let batch: string[] = [];
  let size = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line) + 1;
    if (size > 0 && size + n > maxBytes) {
      out.push(Buffer.from(batch.join('')));
      batch = [];
      size = 0;
    }
    batch.push(line + '\n');
    size += n;
  }
  if (size > 0) out.push(Buffer.from(batch.join('')));
  return out;
}

/** The log methods the reporter uses (satisfied by lib/logger's Logger). */
export interface StatsdLog {
  info(msg: string): void;
  error(msg: string): void;
}

/** Configuration of a StatsdReporter (the `--statsd-*` flags). */
export interface StatsdReporterOptions {
  /** UDP `host:port` (`[v6]:port` accepted). */
  address: string;
  /** Already resolved with statsdPrefix. */
  prefix: string;
  intervalMs: number;
  udpPacketSize: number;
  memStats: boolean;
  excludeEphemeral: boolean;
  /** Current stats without client details; `memory` needed when memStats. */
  snapshot: () => StatsSnapshot;
  log?: StatsdLog;
}

type ReporterState = 'idle' | 'running' | 'stopped';

/**
 * Pushes stats to statsd every interval: a fresh UDP socket per round, counters as deltas since the
 * last successful round, datagrams spread evenly over interval − 1 s. Timers and sockets are unref'd;
 * `stop()` sends whatever is still queued at once (like upstream on exit) and closes.
 */
export class StatsdReporter {
  readonly #opts: StatsdReporterOptions;
  #state: ReporterState = 'idle';
  #timer: NodeJS.Timeout | undefined;
  #prev: StatsSnapshot | null = null;
  #round: Promise<void> | null = null;
  #tickPending = false;
  // Set while a round is spreading datagrams; calling it sends the rest immediately.
  #hurry: (() => void) | null = null;

  constructor(opts: StatsdReporterOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#timer = setInterval(() => this.#tick(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  /** Stops ticking; a round in progress finishes immediately. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    clearInterval(this.#timer);
    this.#tickPending = false;
    this.#hurry?.();
    await this.#round;
  }

  /** Runs one round now (also what each tick does); resolves when its datagrams are sent. */
  push(): Promise<void> {
    if (this.#round) return this.#round;
    this.#round = this.#pushRound().finally(() => {
      this.#round = null;
      if (this.#tickPending && this.#state === 'running') {
        this.#tickPending = false;
        void this.push();
      }
    });
    return this.#round;
  }

  #tick(): void {
    // Upstream's loop is one goroutine: a tick during a slow round runs right after it.
    if (this.#round) this.#tickPending = true;
    else void this.push();
  }

  async #pushRound(): Promise<void> {
    const { address, log } = this.#opts;
    let socket: dgram.Socket;
    try {
      socket = await connectUdp(address);
    } catch {
      log?.error(`failed to create UDP socket to statsd(${address})`);
      return;
    }
    try {
      log?.info(`STATSD: pushing stats to ${address}`);
      const current = this.#opts.snapshot();
      const lines = buildStatsdLines(this.#prev, current, {
        prefix: this.#opts.prefix,
        memStats: this.#opts.memStats,
        excludeEphemeral: this.#opts.excludeEphemeral,
      });
      this.#prev = current;
      const datagrams = packDatagrams(lines, this.#opts.udpPacketSize);
      await this.#spread(socket, datagrams, Math.max(0, this.#opts.intervalMs - 1000));
    } finally {
      socket.close();
    }
  }

  #spread(socket: dgram.Socket, datagrams: Buffer[], spreadMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (datagrams.length === 0) {
        resolve();
        return;
      }
      const step = spreadMs / datagrams.length;
      const start = Date.now();
      let i = 0;
      let timer: NodeJS.Timeout | undefined;
      const sendDue = (all: boolean): void => {
        while (i < datagrams.length && (all || Date.now() - start >= i * step)) socket.send(datagrams[i++]!);
        if (i >= datagrams.length) {
          this.#hurry = null;
          clearTimeout(timer);
          resolve();
          return;
        }
        timer = setTimeout(() => sendDue(false), Math.max(0, start + i * step - Date.now()));
        timer.unref();
      };
      this.#hurry = () => sendDue(true);
      sendDue(this.#state === 'stopped');
    });
  }
}

async function connectUdp(address: string): Promise<dgram.Socket> {
  const hp = splitHostPort(address);
  if (hp.port === 0) throw new Error(`invalid port in address ${address}`);
  // As Go's net.Dial, an empty host means the local system.
  const host = hp.host || 'localhost';
  const port = hp.port;
  const { address: ip, family } = await lookup(host);
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  // ICMP "port unreachable" surfaces as an async error on a connected socket; statsd is best effort.
  socket.on('error', () => {});
  socket.unref();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.connect(port, ip, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return socket;
}
