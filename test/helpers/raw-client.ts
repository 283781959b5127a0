import * as net from 'node:net';
import { FrameDecoder, FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE } from '../../src/protocol/frame.js';
import type { StatsJson } from '../../src/nsqd/stats.js';
import { decodeMessage, type Message } from '../../src/protocol/message.js';

/** One server frame as received (data copied out of the decoder's buffer). */
export interface RawFrame {
  type: number;
  data: Buffer;
}

export { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE };

const DEFAULT_TIMEOUT = 3000;

/**
 * A raw protocol V2 client for integration tests: writes exactly the bytes a test gives it and
 * hands back server frames one by one (decoded with the production FrameDecoder), each wait
 * bounded by a timeout so a missing frame fails the test instead of hanging it.
 */
export class RawClient {
  readonly sock: net.Socket;
  readonly #decoder = new FrameDecoder();
  readonly #frames: RawFrame[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  readonly #closeWaiters: Array<() => void> = [];
  /** Heartbeats received (and skipped) by the `read*` helpers. */
  heartbeats = 0;
  /** When true, heartbeat frames are counted and skipped instead of being returned. */
  skipHeartbeats = true;
  decodeError: Error | null = null;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.#decoder.push(chunk)) {
          const frame = { type: f.type, data: Buffer.from(f.data) };
          if (this.skipHeartbeats && frame.type === FRAME_TYPE_RESPONSE && frame.data.toString() === '_heartbeat_') {
            this.heartbeats++;
            continue;
          }
          this.#frames.push(frame);
        }
      } catch (err) {
        this.decodeError = err as Error;
        sock.destroy();
      }
      this.#wake();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.#closed = true;
      this.#wake();
      for (const w of this.#closeWaiters.splice(0)) w();
    });
  }

  /** Connects to 127.0.0.1:`port`; sends the `  V2` magic unless `magic` is false. */
  static connect(port: number, magic: boolean | string | Buffer = true): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.off('error', reject);
        sock.setNoDelay(true);
        const c = new RawClient(sock);
        if (magic === true) sock.write('  V2');
        else if (magic !== false) sock.write(magic);
        resolve(c);
      });
      sock.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  /** A command line (`\n` appended) with an optional length-prefixed body. */
  send(line: string, body?: string | Buffer): void {
    this.write(command(line, body));
  }

  /** IDENTIFY with a JSON body (an object is stringified, a string is sent as is). */
  identify(data: object | string): void {
    this.send('IDENTIFY', typeof data === 'string' ? data : JSON.stringify(data));
  }

  /** Half-close: no more bytes from us; the server may still answer. */
  end(): void {
    this.sock.end();
  }

  destroy(): void {
    this.sock.destroy();
  }

  /** The next frame (heartbeats skipped unless `skipHeartbeats` is false); rejects on timeout or close. */
  async readFrame(timeoutMs = DEFAULT_TIMEOUT): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.#frames.shift();
      if (f !== undefined) return f;
      if (this.decodeError !== null) throw this.decodeError;
      if (this.#closed) throw new Error('connection closed before a frame arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#waiter = null;
          resolve();
        }, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next frame as `[type, text]` (latin1, so every byte is visible). */
  async readText(timeoutMs = DEFAULT_TIMEOUT): Promise<[number, string]> {
    const f = await this.readFrame(timeoutMs);
    return [f.type, f.data.toString('latin1')];
  }

  /** The next frame must be a response with exactly this body. */
  async expectResponse(text: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const [type, data] = await this.readText(timeoutMs);
    if (type !== FRAME_TYPE_RESPONSE || data !== text) {
      throw new Error(`expected response ${JSON.stringify(text)}, got type ${type} ${JSON.stringify(data)}`);
    }
  }

  /** The next frame must be an error with exactly this body. */
  async expectError(text: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const [type, data] = await this.readText(timeoutMs);
    if (type !== FRAME_TYPE_ERROR || data !== text) {
      throw new Error(`expected error ${JSON.stringify(text)}, got type ${type} ${JSON.stringify(data)}`);
    }
  }

  /** The next frame must be a message; returns it decoded. */
  async readMessage(timeoutMs = DEFAULT_TIMEOUT): Promise<Message> {
    const f = await this.readFrame(timeoutMs);
    if (f.type !== FRAME_TYPE_MESSAGE) throw new Error(`expected a message, got type ${f.type} ${JSON.stringify(f.data.toString('latin1'))}`);
    return decodeMessage(f.data);
  }

  /** Resolves when the server closed the connection; rejects after the timeout. */
  waitClosed(timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.#closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** The next frame must be this error, after which the server must close the connection (fatal errors). */
  async expectFatal(text: string): Promise<void> {
    await this.expectError(text);
    await this.waitClosed();
  }

  /** The next frame must be this error, and the connection must still answer afterwards (non-fatal errors). */
  async expectNonFatal(text: string): Promise<void> {
    await this.expectError(text);
    await this.expectOpen();
  }

  /** Proves the connection still answers: a PUB round trip (PUB is allowed in every state). */
  async expectOpen(topic = 'open_probe'): Promise<void> {
    this.send(`PUB ${topic}`, 'probe');
    await this.expectResponse('OK');
  }

  /** Asserts that no frame (other than heartbeats) arrives within `ms`. */
  async expectSilence(ms: number): Promise<void> {
    try {
      const [type, data] = await this.readText(ms);
      throw new Error(`expected no frame, got type ${type} ${JSON.stringify(data)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('no frame within')) return;
      if ((err as Error).message.startsWith('connection closed')) return;
      throw err;
    }
  }

  /** Frames received and not yet read. */
  pending(): number {
    return this.#frames.length;
  }
}

/** Bytes of a command: line + `\n`, then `[int32 size][body]` when a body is given. */
export function command(line: string, body?: string | Buffer): Buffer {
  const head = Buffer.from(`${line}\n`, 'latin1');
  if (body === undefined) return head;
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const size = Buffer.alloc(4);
  size.writeInt32BE(b.length);
  return Buffer.concat([head, size, b]);
}

/** The MPUB body (without the outer size): `[int32 count]([int32 size][bytes])*`. */
export function mpubBody(messages: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeInt32BE(messages.length);
  parts.push(count);
  for (const m of messages) {
    const b = typeof m === 'string' ? Buffer.from(m) : m;
    const size = Buffer.alloc(4);
    size.writeInt32BE(b.length);
    parts.push(size, b);
  }
  return Buffer.concat(parts);
}

export function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** GET /stats?format=json from nsqd's HTTP port, optionally for one topic. */
export async function nsqdStats(httpPort: number, topic?: string): Promise<NsqdStats> {
  const query = topic === undefined ? '' : `&topic=${encodeURIComponent(topic)}`;
  const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json${query}`);
  if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
  return (await res.json()) as NsqdStats;
}

/** nsqd's /stats JSON, as the daemon declares it (src/nsqd/stats.ts). */
export type NsqdStats = StatsJson;

export function channelStats(s: NsqdStats, topic: string, channel: string) {
  return s.topics?.find((t) => t.topic_name === topic)?.channels.find((c) => c.channel_name === channel);
}
