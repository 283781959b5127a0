import * as net from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { SnappyFrameDecoder, SnappyFrameEncoder } from '../../src/protocol/snappy-stream.js';

/** One server frame as read by WireClient (data copied). */
export interface WireFrame {
  type: number;
  data: Buffer;
}

export const FRAME_RESPONSE = 0;
export const FRAME_ERROR = 1;
export const FRAME_MESSAGE = 2;

type Mode = 'plain' | 'snappy' | 'deflate';

/**
 * A raw protocol V2 client for tests of the connection upgrades (TLS, snappy, deflate): it writes
 * commands byte by byte and reads frames lazily, so the bytes that follow an upgrade's `OK` can be
 * handed to the next decoding layer exactly as a real client must do it.
 */
export class WireClient {
  readonly raw: net.Socket;
  #sock: net.Socket;
  #mode: Mode = 'plain';
  #buf: Buffer = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  #closed = false;
  #closeWaiters: Array<() => void> = [];
  #snappyEnc: SnappyFrameEncoder | null = null;
  #snappyDec: SnappyFrameDecoder | null = null;
  #deflater: zlib.DeflateRaw | null = null;
  #inflater: zlib.InflateRaw | null = null;
  /** Every chunk received from the transport (after TLS, before decompression): lets tests inspect the encoding. */
  readonly wireBytes: Buffer[] = [];
  inputError: Error | null = null;
  /** Offset in the concatenated `wireBytes` where the compressed stream starts (after an upgrade). */
  compressedFrom = -1;

  private constructor(sock: net.Socket) {
    this.raw = sock;
    this.#sock = sock;
    sock.on('data', this.#onData);
    sock.on('close', this.#onClose);
    sock.on('error', () => {});
  }

  static connect(port: number, magic = true): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.off('error', reject);
        const c = new WireClient(sock);
        if (magic) sock.write('  V2');
        resolve(c);
      });
      sock.once('error', reject);
    });
  }

  get socket(): net.Socket {
    return this.#sock;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onData = (chunk: Buffer): void => {
    this.wireBytes.push(chunk);
    try {
      if (this.#mode === 'snappy') {
        for (const p of this.#snappyDec!.push(chunk)) this.#append(p);
      } else if (this.#mode === 'deflate') {
        this.#inflater!.write(chunk);
      } else {
        this.#append(chunk);
      }
    } catch (err) {
      this.inputError = err as Error;
      this.#sock.destroy();
    }
  };

  #append = (chunk: Buffer): void => {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    this.#signal();
  };

  #onClose = (): void => {
    // Inflated bytes arrive asynchronously: deliver what zlib still holds before reporting the close.
    if (this.#inflater !== null && !this.#inflater.destroyed) {
      this.#inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => this.#markClosed());
      return;
    }
    this.#markClosed();
  };

  #markClosed = (): void => {
    this.#closed = true;
    this.#signal();
    for (const w of this.#closeWaiters.splice(0)) w();
  };

  #signal(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  // ---- output ---------------------------------------------------------------------------

  write(data: Buffer | string): void {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.#mode === 'snappy') this.#sock.write(this.#snappyEnc!.encode(b));
    else if (this.#mode === 'deflate') {
      this.#deflater!.write(b);
      this.#deflater!.flush(zlib.constants.Z_SYNC_FLUSH);
    } else this.#sock.write(b);
  }

  /** A command line, plus a length-prefixed body when given. */
  command(line: string, body?: Buffer | string): void {
    if (body === undefined) {
      this.write(`${line}\n`);
      return;
    }
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    const size = Buffer.alloc(4);
    size.writeInt32BE(b.length);
    this.write(Buffer.concat([Buffer.from(`${line}\n`), size, b]));
  }

  identify(data: Record<string, unknown>): void {
    this.command('IDENTIFY', JSON.stringify(data));
  }

  pub(topic: string, body: Buffer | string): void {
    this.command(`PUB ${topic}`, body);
  }

  mpub(topic: string, bodies: Array<Buffer | string>): void {
    const parts: Buffer[] = [Buffer.alloc(4)];
    parts[0]!.writeInt32BE(bodies.length);
    for (const x of bodies) {
      const b = typeof x === 'string' ? Buffer.from(x) : x;
      const n = Buffer.alloc(4);
      n.writeInt32BE(b.length);
      parts.push(n, b);
    }
    this.command(`MPUB ${topic}`, Buffer.concat(parts));
  }

  // ---- input ----------------------------------------------------------------------------

  /** The next frame; rejects when the connection closes first or `timeoutMs` passes. */
  async frame(timeoutMs = 5000): Promise<WireFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buf.length >= 4) {
        const size = this.#buf.readInt32BE(0);
        if (size < 4) throw new Error(`bad frame size ${size}`);
        if (this.#buf.length >= 4 + size) {
          const type = this.#buf.readInt32BE(4);
          const data = Buffer.from(this.#buf.subarray(8, 4 + size));
          this.#buf = this.#buf.subarray(4 + size);
          return { type, data };
        }
      }
      if (this.#closed) throw new Error(`connection closed${this.inputError ? ` (${this.inputError.message})` : ''}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next non-heartbeat frame, answering heartbeats with NOP. */
  async nextFrame(timeoutMs = 5000): Promise<WireFrame> {
    for (;;) {
      const f = await this.frame(timeoutMs);
      if (f.type === FRAME_RESPONSE && f.data.toString() === '_heartbeat_') {
        this.command('NOP');
        continue;
      }
      return f;
    }
  }

  /** The next frame as `[type] text` (e.g. `0 OK`, `1 E_INVALID ...`). */
  async next(timeoutMs = 5000): Promise<string> {
    const f = await this.nextFrame(timeoutMs);
    return `${f.type} ${f.data.toString()}`;
  }

  /** Resolves once the peer closed (or rejects after `timeoutMs`). */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.#closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  // ---- upgrades -------------------------------------------------------------------------

  /** TLS client handshake on the current socket (after the IDENTIFY JSON response was read). */
  async startTls(opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    if (this.#buf.length !== 0) throw new Error('bytes pending before the TLS upgrade');
    const raw = this.#sock;
    raw.off('data', this.#onData);
    raw.off('close', this.#onClose);
    const t = tls.connect({ socket: raw, servername: undefined, rejectUnauthorized: false, ...opts });
    t.on('error', () => {});
    t.on('close', this.#onClose);
    this.#sock = t;
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
      t.once('close', () => reject(new Error('closed during TLS handshake')));
    });
    t.on('data', this.#onData);
    return t;
  }

  /** Switch both directions to snappy framing; bytes already received are decoded too. */
  startSnappy(): void {
    this.#snappyEnc = new SnappyFrameEncoder();
    this.#snappyDec = new SnappyFrameDecoder();
    this.#mode = 'snappy';
    const rest = this.#buf;
    this.compressedFrom = this.#wireLength() - rest.length;
    this.#buf = Buffer.alloc(0);
    if (rest.length > 0) for (const p of this.#snappyDec.push(rest)) this.#append(p);
  }

  /** Switch both directions to raw DEFLATE with sync flushes. */
  startDeflate(level = 6): void {
    this.#deflater = zlib.createDeflateRaw({ level });
    this.#deflater.on('data', (b: Buffer) => this.#sock.write(b));
    this.#inflater = zlib.createInflateRaw();
    this.#inflater.on('data', this.#append);
    this.#inflater.on('error', (err) => {
      this.inputError = err;
      this.#sock.destroy();
    });
    this.#mode = 'deflate';
    const rest = this.#buf;
    this.compressedFrom = this.#wireLength() - rest.length;
    this.#buf = Buffer.alloc(0);
    if (rest.length > 0) this.#inflater.write(rest);
  }

  /** Half-closes once everything written so far (compressed asynchronously with deflate) reached the socket. */
  async endAfterWrites(): Promise<void> {
    if (this.#deflater !== null) await new Promise<void>((r) => this.#deflater!.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    this.#sock.end();
  }

  #wireLength(): number {
    let n = 0;
    for (const b of this.wireBytes) n += b.length;
    return n;
  }

  close(): void {
    this.#deflater?.destroy();
    this.#inflater?.destroy();
    this.#sock.destroy();
    this.raw.destroy();
  }
}

/** Decodes a message frame's payload: [8 ts][2 attempts][16 id][body]. */
export function parseMessage(data: Buffer): { ts: bigint; attempts: number; id: string; body: Buffer } {
  return { ts: data.readBigInt64BE(0), attempts: data.readUInt16BE(8), id: data.toString('latin1', 10, 26), body: data.subarray(26) };
}
