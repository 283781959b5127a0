import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { decodeMessage } from '../../src/protocol/message.js';
import { SnappyFrameDecoder, SnappyFrameEncoder } from '../../src/protocol/snappy-stream.js';
import { sleep } from './wait.js';

/**
 * Building blocks of the randomized stress tests (test/nsqd/stress-*.test.ts): a seeded PRNG so a
 * failing run can be replayed from its seed, and an event-driven protocol V2 connection (plain,
 * snappy or deflate) that many chaos clients can drive at once without awaiting every frame.
 */

/** mulberry32: tiny, fast, and good enough to pick actions; the same seed gives the same choices. */
export class Prng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }

  /** An independent generator derived from this one (one per chaos actor keeps them decoupled). */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 4294967296));
  }
}

/** The seed of a stress run: `STRESS_SEED` when set (to replay a failure), else a fresh one. */
export function stressSeed(): number {
  const env = process.env['STRESS_SEED'];
  if (env !== undefined && env !== '') return Number(env) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** How a StressConn's stream is encoded after IDENTIFY. */
export type Transport = 'plain' | 'snappy' | 'deflate';

/** A message frame as a stress client sees it (body copied). */
export interface StressMessage {
  id: string;
  attempts: number;
  body: string;
}

/** What a StressConn reports, frame by frame, once its handshake is done. */
export interface StressHandlers {
  message?(m: StressMessage): void;
  /** A response frame other than a heartbeat (heartbeats are answered with NOP). */
  response?(text: string): void;
  error?(text: string): void;
  close?(): void;
}

/**
 * One V2 connection driven by events: frames are parsed as they arrive and handed to the
 * handlers, so a consumer can keep hundreds of messages in flight. IDENTIFY with snappy or
 * deflate is negotiated in `open`, with the bytes that follow the upgrade's JSON reply passed to
 * the decompressor exactly as a real client must.
 */
export class StressConn {
  readonly sock: net.Socket;
  readonly transport: Transport;
  handlers: StressHandlers = {};
  #buf: Buffer = Buffer.alloc(0);
  #off = 0;
  #mode: Transport = 'plain';
  #snappyEnc: SnappyFrameEncoder | null = null;
  #snappyDec: SnappyFrameDecoder | null = null;
  #deflater: zlib.DeflateRaw | null = null;
  #inflater: zlib.InflateRaw | null = null;
  #closed = false;
  readonly #closeWaiters: Array<() => void> = [];
  /** Frames read during the handshake, before the handlers take over. */
  #early: Array<{ type: number; data: Buffer }> | null = [];
  #earlyWake: (() => void) | null = null;
  /** Between the upgrade's JSON reply and the switch of decoders: raw bytes are only kept. */
  #holding: Buffer[] | null = null;
  /** The next frame is IDENTIFY's reply, after which the stream is compressed. */
  #upgradeNext = false;
  /** Set when the stream from the server could not be decoded (a client-side finding). */
  decodeError: Error | null = null;

  private constructor(sock: net.Socket, transport: Transport) {
    this.sock = sock;
    this.transport = transport;
    sock.on('data', this.#onData);
    sock.on('error', () => {});
    sock.on('close', () => {
      this.#closed = true;
      this.#deflater?.destroy();
      this.#inflater?.destroy();
      this.#earlyWake?.();
      for (const w of this.#closeWaiters.splice(0)) w();
      this.handlers.close?.();
    });
  }

  /**
   * Connects, sends the magic and, for snappy/deflate or when `identify` is given, IDENTIFY.
   * `prePublish` publishes one message to that topic first (answers before IDENTIFY).
   */
  static async open(port: number, transport: Transport = 'plain', identify?: Record<string, unknown>, prePublish?: string): Promise<StressConn> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    sock.setNoDelay(true);
    const c = new StressConn(sock, transport);
    sock.write('  V2');
    if (prePublish !== undefined) {
      c.send(`PUB ${prePublish}`, 'before IDENTIFY');
      const ok = await c.#earlyFrame();
      if (ok.type !== 0 || ok.data.toString() !== 'OK') throw new Error(`PUB before IDENTIFY failed: ${ok.data.toString()}`);
    }
    if (transport !== 'plain' || identify !== undefined) {
      const body: Record<string, unknown> = { feature_negotiation: true, ...identify };
      if (transport === 'snappy') body['snappy'] = true;
      if (transport === 'deflate') {
        body['deflate'] = true;
        body['deflate_level'] = 1;
      }
      c.#upgradeNext = transport !== 'plain';
      c.send('IDENTIFY', JSON.stringify(body));
      const reply = await c.#earlyFrame();
      if (reply.type !== 0 || !reply.data.toString().startsWith('{')) {
        c.destroy();
        throw new Error(`IDENTIFY failed: ${reply.type} ${reply.data.toString()}`);
      }
      if (transport !== 'plain') {
        c.#upgrade(transport);
        const ok = await c.#earlyFrame();
        if (ok.type !== 0 || ok.data.toString() !== 'OK') throw new Error(`upgrade failed: ${ok.data.toString()}`);
      }
    }
    c.#startHandlers();
    return c;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #earlyFrame(timeoutMs = 5000): Promise<{ type: number; data: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.#early!.shift();
      if (f !== undefined) return f;
      if (this.#closed) throw new Error(`connection closed during handshake${this.decodeError ? ` (${this.decodeError.message})` : ''}`);
      if (Date.now() > deadline) throw new Error('handshake timed out');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#earlyWake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#earlyWake = null;
    }
  }

  #startHandlers(): void {
    const early = this.#early!;
    this.#early = null;
    for (const f of early) this.#dispatch(f.type, f.data);
  }

  #upgrade(to: Transport): void {
    // Everything after the JSON reply is already compressed.
    const rest = Buffer.concat([this.#buf.subarray(this.#off), ...(this.#holding ?? [])]);
    this.#holding = null;
    this.#buf = Buffer.alloc(0);
    this.#off = 0;
    this.#mode = to;
    if (to === 'snappy') {
      this.#snappyEnc = new SnappyFrameEncoder();
      this.#snappyDec = new SnappyFrameDecoder();
      if (rest.length > 0) this.#onData(rest);
    } else {
      this.#deflater = zlib.createDeflateRaw({ level: 1 });
      this.#deflater.on('data', (b: Buffer) => {
        if (!this.sock.destroyed) this.sock.write(b);
      });
      this.#deflater.on('error', () => this.destroy());
      this.#inflater = zlib.createInflateRaw();
      this.#inflater.on('data', (b: Buffer) => this.#onPlain(b));
      this.#inflater.on('error', (err) => {
        this.decodeError = err;
        this.destroy();
      });
      if (rest.length > 0) this.#inflater.write(rest);
    }
  }

  #onData = (chunk: Buffer): void => {
    if (this.#holding !== null) {
      this.#holding.push(chunk);
      return;
    }
    if (this.#mode === 'snappy') {
      try {
        for (const p of this.#snappyDec!.push(chunk)) this.#onPlain(p);
      } catch (err) {
        this.decodeError = err as Error;
        this.destroy();
      }
    } else if (this.#mode === 'deflate') {
      if (!this.#inflater!.destroyed) this.#inflater!.write(chunk);
    } else {
      this.#onPlain(chunk);
    }
  };

  #onPlain(chunk: Buffer): void {
    this.#buf = this.#off >= this.#buf.length ? chunk : Buffer.concat([this.#buf.subarray(this.#off), chunk]);
    this.#off = 0;
    const buf = this.#buf;
    while (buf.length - this.#off >= 4) {
      const size = buf.readInt32BE(this.#off);
      if (size < 4 || size > 64 * 1024 * 1024) {
        this.decodeError = new Error(`bad frame size ${size}`);
        this.destroy();
        return;
      }
      if (buf.length - this.#off < 4 + size) break;
      const type = buf.readInt32BE(this.#off + 4);
      const data = buf.subarray(this.#off + 8, this.#off + 4 + size);
      this.#off += 4 + size;
      if (this.#early !== null) {
        this.#early.push({ type, data: Buffer.from(data) });
        this.#earlyWake?.();
        // The handshake switches decoders after its JSON reply: stop here and let it take the rest.
        if (this.#upgradeNext) {
          this.#upgradeNext = false;
          this.#holding = [];
          return;
        }
        continue;
      }
      this.#dispatch(type, data);
      if (this.#closed) return;
    }
  }

  #dispatch(type: number, data: Buffer): void {
    if (type === 2) {
      if (data.length < 26) {
        this.decodeError = new Error(`message frame of ${data.length} bytes`);
        this.destroy();
        return;
      }
      const m = decodeMessage(data);
      this.handlers.message?.({ id: m.id, attempts: m.attempts, body: m.body.toString('latin1') });
      return;
    }
    const text = data.toString('latin1');
    if (type === 0) {
      if (text === '_heartbeat_') this.send('NOP');
      else this.handlers.response?.(text);
      return;
    }
    this.handlers.error?.(text);
  }

  /** Writes raw bytes through the negotiated encoder. */
  write(data: Buffer): void {
    if (this.#closed || this.sock.destroyed) return;
    if (this.#mode === 'snappy') this.sock.write(this.#snappyEnc!.encode(data));
    else if (this.#mode === 'deflate') {
      if (this.#deflater!.destroyed) return;
      this.#deflater!.write(data);
      this.#deflater!.flush(zlib.constants.Z_SYNC_FLUSH);
    } else this.sock.write(data);
  }

  /** A command line with an optional `[size][body]`. */
  send(line: string, body?: string | Buffer): void {
    this.write(commandBytes(line, body));
  }

  /** Stops reading from the socket (the server's writes back up) for `ms`, or until `abort()`. */
  async stall(ms: number, abort: () => boolean = () => false): Promise<void> {
    this.sock.pause();
    const until = Date.now() + ms;
    while (Date.now() < until && !abort() && !this.#closed) await sleep(Math.min(50, until - Date.now()));
    if (!this.#closed) this.sock.resume();
  }

  destroy(): void {
    this.#deflater?.destroy();
    this.#inflater?.destroy();
    this.sock.destroy();
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#closeWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

export function commandBytes(line: string, body?: string | Buffer): Buffer {
  const head = Buffer.from(`${line}\n`, 'latin1');
  if (body === undefined) return head;
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(b.length);
  return Buffer.concat([head, size, b]);
}

export function mpubPayload(bodies: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.allocUnsafe(4);
  count.writeInt32BE(bodies.length);
  parts.push(count);
  for (const x of bodies) {
    const b = typeof x === 'string' ? Buffer.from(x, 'latin1') : x;
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(b.length);
    parts.push(size, b);
  }
  return Buffer.concat(parts);
}

/** Log lines that mean the daemon hit a bug rather than a hostile peer. */
export const DAEMON_BUG_PATTERN = /internal error|TypeError|RangeError|ReferenceError|panic|Uncaught|unhandled|negative depth/i;

export function bugLines(logs: string): string[] {
  return logs.split('\n').filter((l) => DAEMON_BUG_PATTERN.test(l));
}
