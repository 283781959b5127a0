/**
 * Test-side helpers for the persistence tests: a minimal V2 protocol connection (publish,
 * subscribe, FIN/REQ), HTTP calls, the MANIFEST body digest and data-dir inspection.
 * Deliberately independent of the daemon's own client code so it checks the wire, not itself.
 */
import { originalDataDir } from '../helpers/fixtures.js';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ChannelStatsJson, TopicStatsJson } from '../../src/nsqd/stats.js';
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FrameDecoder } from '../../src/protocol/frame.js';
import { tempDir, type Daemon } from '../helpers/daemons.js';
import { request } from '../helpers/http.js';

/** One delivered message as a consumer sees it. */
export interface Received {
  id: string;
  attempts: number;
  body: Buffer;
}

const ASYNC_ERRORS = /^E_(FIN|REQ|TOUCH)_FAILED/;

/** A raw V2 connection: responses are matched to requests in order; messages go to `onMessage`. */
export class NsqConn {
  readonly socket: net.Socket;
  readonly received: Received[] = [];
  /** Non-fatal errors that answer no request (FIN/REQ/TOUCH failures). */
  readonly asyncErrors: string[] = [];
  onMessage: ((m: Received) => void) | null = null;
  readonly closed: Promise<void>;
  readonly #decoder = new FrameDecoder();
  readonly #pending: { resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.#decoder.push(chunk)) this.#frame(f.type, f.data);
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        for (const p of this.#pending.splice(0)) p.reject(new Error('connection closed'));
        this.#wake();
        resolve();
      }),
    );
  }

  static async connect(port: number): Promise<NsqConn> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    socket.write('  V2');
    return new NsqConn(socket);
  }

  #frame(type: number, data: Buffer): void {
    if (type === FRAME_TYPE_MESSAGE) {
      const m: Received = {
        attempts: data.readUInt16BE(8),
        id: data.toString('latin1', 10, 26),
        body: Buffer.from(data.subarray(26)),
      };
      this.received.push(m);
      this.onMessage?.(m);
      this.#wake();
      return;
    }
    const text = data.toString();
    if (text === '_heartbeat_') {
      this.socket.write('NOP\n');
      return;
    }
    if (type === FRAME_TYPE_ERROR && ASYNC_ERRORS.test(text)) {
      this.asyncErrors.push(text);
      return;
    }
    const p = this.#pending.shift();
    if (p === undefined) return;
    if (type === FRAME_TYPE_ERROR) p.reject(new Error(text));
    else p.resolve(text);
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** Sends a command that gets a response frame; resolves with its text, rejects on an error frame. */
  request(line: string, body?: Buffer): Promise<string> {
    const p = new Promise<string>((resolve, reject) => this.#pending.push({ resolve, reject }));
    this.#write(line, body);
    return p;
  }

  #write(line: string, body?: Buffer): void {
    if (body === undefined) {
      this.socket.write(line + '\n');
      return;
    }
    const size = Buffer.allocUnsafe(4);
    size.writeUInt32BE(body.length, 0);
    this.socket.write(Buffer.concat([Buffer.from(line + '\n'), size, body]));
  }

  identify(obj: Record<string, unknown>): Promise<string> {
    return this.request('IDENTIFY', Buffer.from(JSON.stringify(obj)));
  }

  pub(topic: string, body: Buffer | string): Promise<string> {
    return this.request(`PUB ${topic}`, Buffer.from(body));
  }

  dpub(topic: string, deferMs: number, body: Buffer | string): Promise<string> {
    return this.request(`DPUB ${topic} ${deferMs}`, Buffer.from(body));
  }

  sub(topic: string, channel: string): Promise<string> {
    return this.request(`SUB ${topic} ${channel}`);
  }

  rdy(n: number): void {
    this.#write(`RDY ${n}`);
  }

  fin(id: string): void {
    this.#write(`FIN ${id}`);
  }

  req(id: string, delayMs: number): void {
    this.#write(`REQ ${id} ${delayMs}`);
  }

  /** Resolves once `count` messages arrived in total; rejects after `timeoutMs`. */
  async waitForMessages(count: number, timeoutMs = 10000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (this.socket.destroyed) throw new Error(`connection closed after ${this.received.length}/${count} messages`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${this.received.length}/${count} messages`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Closes the connection and waits until the socket is gone. */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

/**
 * Subscribes a consumer that FINs everything it gets and resolves with the first `count` messages.
 * The caller closes the connection.
 */
export async function consumeAll(port: number, topic: string, channel: string, count: number, timeoutMs = 15000): Promise<{ conn: NsqConn; messages: Received[] }> {
  const conn = await NsqConn.connect(port);
  conn.onMessage = (m) => conn.fin(m.id);
  await conn.sub(topic, channel);
  conn.rdy(Math.max(1, Math.min(count, 2500)));
  const messages = await conn.waitForMessages(count, timeoutMs);
  return { conn, messages };
}

/** POST/GET an nsqd HTTP endpoint; returns the status and the body text. */
export async function httpCall(port: number, method: 'GET' | 'POST', pathAndQuery: string, body?: Buffer | string): Promise<{ status: number; text: string }> {
  const res = await request(port, method, pathAndQuery, body === undefined ? {} : { body });
  return { status: res.status, text: res.text };
}

/** POST that must answer 200. */
export async function httpOk(port: number, pathAndQuery: string, body?: Buffer | string): Promise<string> {
  const r = await httpCall(port, 'POST', pathAndQuery, body);
  if (r.status !== 200) throw new Error(`POST ${pathAndQuery} -> ${r.status} ${r.text}`);
  return r.text;
}

/** /topic/create then /channel/create (the latter needs an existing topic). */
export async function createChannel(port: number, topic: string, channel: string): Promise<void> {
  await httpOk(port, `/topic/create?topic=${encodeURIComponent(topic)}`);
  await httpOk(port, `/channel/create?topic=${encodeURIComponent(topic)}&channel=${encodeURIComponent(channel)}`);
}

/** GET /stats?format=json → topics by name. */
export async function topicStats(port: number): Promise<Map<string, TopicStatsJson>> {
  const r = await httpCall(port, 'GET', '/stats?format=json');
  if (r.status !== 200) throw new Error(`/stats -> ${r.status} ${r.text}`);
  const topics = (JSON.parse(r.text) as { topics: TopicStatsJson[] }).topics;
  return new Map(topics.map((t) => [t.topic_name, t]));
}

export async function channelStats(port: number, topic: string, channel: string): Promise<ChannelStatsJson> {
  const t = (await topicStats(port)).get(topic);
  const c = t?.channels.find((x) => x.channel_name === channel);
  if (c === undefined) throw new Error(`no channel ${topic}:${channel} in /stats`);
  return c;
}

/** MANIFEST digest: bodies sorted bytewise, sha256 of each (raw), concatenated, sha256 → hex. */
export function bodiesDigest(bodies: Buffer[]): string {
  const sorted = [...bodies].sort(Buffer.compare);
  const outer = createHash('sha256');
  for (const b of sorted) outer.update(createHash('sha256').update(b).digest());
  return outer.digest('hex');
}

/** The original's data dir fixture (test/fixtures); throws if it is missing. */
export function findFixture(): string {
  return originalDataDir();
}

/** Copies a (read-only) fixture dir into `dest`, making the copy writable. */
export function copyDirWritable(src: string, dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  fs.chmodSync(dest, 0o755);
  for (const name of fs.readdirSync(src)) {
    fs.copyFileSync(path.join(src, name), path.join(dest, name));
    fs.chmodSync(path.join(dest, name), 0o600);
  }
}

/** Data-dir entries belonging to the disk queue `name` (segments, meta, .bad, temp files). */
export function queueFiles(dir: string, name: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(`${name}.diskqueue.`))
    .sort();
}

/** Only the segment files of the disk queue `name` (the meta file comes and goes with syncs). */
export function segmentFiles(dir: string, name: string): string[] {
  return queueFiles(dir, name).filter((f) => /\.diskqueue\.\d+\.dat$/.test(f));
}

/** The three numbers of a disk queue meta file, or null when it does not exist. */
export function readQueueMeta(dir: string, name: string): { depth: number; read: string; write: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, `${name}.diskqueue.meta.dat`), 'latin1');
  } catch {
    return null;
  }
  const [depth, read, write] = text.split('\n');
  return { depth: Number(depth), read: read!, write: write! };
}

const scratch = new Set<string>();

/** A temp dir removed by cleanup(). */
export function scratchDir(prefix: string): string {
  const dir = tempDir(prefix);
  scratch.add(dir);
  return dir;
}

/** Kills what is still running, then removes the daemons' data dirs and every scratch dir. */
export async function cleanup(daemons: Daemon[]): Promise<void> {
  for (const d of daemons) await d.kill();
  for (const d of daemons) if (d.dataPath !== '') scratch.add(d.dataPath);
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}
