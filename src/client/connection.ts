/**
 * One TCP connection to nsqd speaking protocol V2 as a client (go-nsq `conn.go`): dial, magic,
 * IDENTIFY with feature negotiation, then the upgrade stack in the server's order (TLS, then
 * Snappy or DEFLATE), AUTH when required; afterwards frames are decoded incrementally and handed
 * to a ConnectionHandler. Heartbeats are answered with NOP here, so owners never see them.
 *
 * Writes are batched: commands queued during one event-loop turn leave in one socket write (and
 * one compression flush), the way go-nsq's bufio writer is flushed per command batch.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { FrameDecoder, FrameDecodeError, type Frame, FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE } from '../protocol/frame.js';
import { SnappyFrameDecoder, SnappyFrameEncoder } from '../protocol/snappy-stream.js';
import { DeflateStreamWriter, InflateStreamReader } from '../protocol/deflate-stream.js';
import { CMD_NOP, MAGIC_V2, authCommand, identifyCommand } from './commands.js';
import { NsqError, clientError } from './errors.js';
import { identifyBody, parseIdentifyResponse, splitHostPort, type ResolvedConnectionOptions, type ServerFeatures } from './options.js';

/** Receives what a connection reads. Called synchronously from the socket's data path. */
export interface ConnectionHandler {
  /** A response frame other than `_heartbeat_` (`OK`, `CLOSE_WAIT`, JSON). The buffer is a view. */
  onResponse(data: Buffer): void;
  /** An error frame. */
  onErrorFrame(err: NsqError): void;
  /** A message frame payload (26-byte header + body). The buffer may be kept: it is never reused. */
  onMessage(data: Buffer): void;
  /** The connection ended; `err` says why when it was not a requested close. Called once. */
  onClose(err: NsqError | null): void;
}

/** Lifecycle of a connection; changed only through `#setState`. */
export type ConnectionState = 'init' | 'connecting' | 'ready' | 'closing' | 'closed';

/** What the AUTH command returned. */
export interface AuthIdentity {
  identity: string;
  identityUrl: string;
  permissionCount: number;
}

const HEARTBEAT = Buffer.from('_heartbeat_');
const OK = Buffer.from('OK');

/** A protocol V2 client connection with its transport upgrade stack. */
export class Connection {
  readonly address: string;
  readonly #opts: ResolvedConnectionOptions;
  readonly #handler: ConnectionHandler;
  #state: ConnectionState = 'init';
  #raw: net.Socket | null = null;
  #sock: net.Socket | null = null;
  #features: ServerFeatures | null = null;
  #auth: AuthIdentity | null = null;

  // Read side: wire bytes → (snappy | inflate) → plain bytes → handshake buffer or frame decoder.
  #snappyIn: SnappyFrameDecoder | null = null;
  #inflater: InflateStreamReader | null = null;
  #decoder: FrameDecoder | null = null;
  #hs: Buffer = Buffer.alloc(0);
  #hsWaiter: (() => void) | null = null;

  // Write side: queued commands → (snappy | deflate) → socket, flushed once per turn.
  #snappyOut: SnappyFrameEncoder | null = null;
  #deflater: DeflateStreamWriter | null = null;
  #queue: Buffer[] = [];
  #flushScheduled = false;
  #unsentWrites = 0;
  #writeTimer: NodeJS.Timeout | null = null;

  #closeErr: NsqError | null = null;

  constructor(address: string, opts: ResolvedConnectionOptions, handler: ConnectionHandler) {
    this.address = address;
    this.#opts = opts;
    this.#handler = handler;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The server's IDENTIFY answer (after connect). */
  get features(): ServerFeatures {
    if (this.#features === null) throw new Error('not connected');
    return this.#features;
  }

  /** The AUTH answer when the server required AUTH. */
  get auth(): AuthIdentity | null {
    return this.#auth;
  }

  #setState(s: ConnectionState): void {
    this.#state = s;
  }

  /** Dials and negotiates; resolves when the connection is ready for commands. */
  async connect(): Promise<ServerFeatures> {
    if (this.#state !== 'init') throw new Error(`cannot connect in state ${this.#state}`);
    this.#setState('connecting');
    try {
      await this.#dial();
      this.#sendNow(Buffer.concat([MAGIC_V2, identifyCommand(identifyBody(this.#opts))]));
      const features = parseIdentifyResponse(await this.#readHandshakeFrame());
      this.#features = features;
      if (features.tls) {
        if (this.#opts.tls === false) throw clientError('E_PROTOCOL', 'server enabled TLS that was not requested');
        await this.#upgradeTls();
        await this.#expectOk('TLS');
      }
      if (features.deflate) {
        this.#enableDeflate(features.deflateLevel);
        await this.#expectOk('deflate');
      } else if (features.snappy) {
        this.#enableSnappy();
        await this.#expectOk('snappy');
      }
      if (features.authRequired) {
        if (this.#opts.authSecret === '') throw clientError('E_AUTH_REQUIRED', `${this.address}: server requires AUTH but no authSecret is set`);
        this.#sendNow(authCommand(this.#opts.authSecret));
        const j = JSON.parse((await this.#readHandshakeFrame()).toString('utf8')) as Record<string, unknown>;
        this.#auth = {
          identity: String(j['identity'] ?? ''),
          identityUrl: String(j['identity_url'] ?? ''),
          permissionCount: Number(j['permission_count'] ?? 0),
        };
      }
    } catch (err) {
      const e = toNsqError(err, this.address);
      this.destroy(e);
      throw e;
    }
    if (this.state !== 'connecting') throw this.#closeErr ?? clientError('E_NOT_CONNECTED', `${this.address}: connection closed during handshake`);
    this.#setState('ready');
    this.#decoder = new FrameDecoder(this.#opts.maxMsgSize);
    const rest = this.#hs;
    this.#hs = Buffer.alloc(0);
    if (rest.length > 0) queueMicrotask(() => this.#onPlain(rest));
    return this.#features!;
  }

  #dial(): Promise<void> {
    const { host, port } = splitHostPort(this.address);
    return new Promise((resolve, reject) => {
      const local = this.#opts.localAddress === '' ? {} : { localAddress: splitHostPort(this.#opts.localAddress.includes(':') ? this.#opts.localAddress : `${this.#opts.localAddress}:0`).host };
      const sock = net.connect({ host, port, ...local });
      this.#raw = sock;
      this.#sock = sock;
      const timer = setTimeout(() => {
        sock.destroy();
        reject(clientError('E_TIMEOUT', `${this.address}: dial timeout after ${this.#opts.dialTimeout} ms`));
      }, this.#opts.dialTimeout);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.off('error', onErr);
        sock.setNoDelay(true);
        this.#attach(sock);
        resolve();
      });
      const onErr = (err: Error) => {
        clearTimeout(timer);
        reject(clientError('E_NOT_CONNECTED', `${this.address}: ${err.message}`));
      };
      sock.once('error', onErr);
    });
  }

  // Wires socket events; for TLS the TLS socket replaces the raw one for reads and writes.
  #attach(sock: net.Socket): void {
    sock.on('data', this.#onWire);
    sock.on('error', (err) => this.destroy(clientError('E_NOT_CONNECTED', `${this.address}: ${err.message}`)));
    sock.on('close', () => this.#finishClose());
    sock.setTimeout(this.#opts.readTimeout, () =>
      this.destroy(clientError('E_TIMEOUT', `${this.address}: nothing read for ${this.#opts.readTimeout} ms`)),
    );
  }

  #upgradeTls(): Promise<void> {
    if (this.#hs.length > 0) throw clientError('E_PROTOCOL', `${this.address}: unexpected bytes before the TLS handshake`);
    const raw = this.#raw!;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.setTimeout(0);
    raw.on('error', () => {});
    const { host } = splitHostPort(this.address);
    const base = this.#opts.tls === false ? {} : this.#opts.tls;
    return new Promise((resolve, reject) => {
      const sock = tls.connect({ ...base, socket: raw, host, ...(net.isIP(host) === 0 && base.servername === undefined ? { servername: host } : {}) });
      this.#sock = sock;
      const onErr = (err: Error) => reject(clientError('E_NOT_CONNECTED', `${this.address}: TLS handshake failed: ${err.message}`));
      sock.once('error', onErr);
      sock.once('secureConnect', () => {
        sock.off('error', onErr);
        resolve();
      });
      this.#attach(sock);
    });
  }

  #enableSnappy(): void {
    this.#snappyOut = new SnappyFrameEncoder();
    this.#snappyIn = new SnappyFrameDecoder();
    this.#reinjectLeftover();
  }

  #enableDeflate(level: number): void {
    this.#deflater = new DeflateStreamWriter(level, (b) => this.#rawWrite(b), (err) => this.destroy(clientError('E_PROTOCOL', `${this.address}: deflate: ${err.message}`)));
    this.#inflater = new InflateStreamReader((b) => this.#onPlain(b), (err) => this.destroy(clientError('E_PROTOCOL', `${this.address}: inflate: ${err.message}`)));
    this.#reinjectLeftover();
  }

  // Bytes that followed the last plaintext frame belong to the new (compressed) layer.
  #reinjectLeftover(): void {
    const rest = this.#hs;
    this.#hs = Buffer.alloc(0);
    if (rest.length > 0) this.#onWire(rest);
  }

  async #expectOk(what: string): Promise<void> {
    const f = await this.#readHandshakeFrame();
    if (!f.equals(OK)) throw clientError('E_PROTOCOL', `${this.address}: expected OK after ${what} upgrade, got ${JSON.stringify(f.toString())}`);
  }

  // One response frame from the handshake buffer, leaving any following bytes in place.
  async #readHandshakeFrame(): Promise<Buffer> {
    for (;;) {
      if (this.#state !== 'connecting') throw this.#closeErr ?? clientError('E_NOT_CONNECTED', `${this.address}: connection closed during handshake`);
      const hs = this.#hs;
      if (hs.length >= 8) {
        const size = hs.readInt32BE(0);
        if (size < 4 || size > this.#opts.maxMsgSize) {
          throw clientError('E_PROTOCOL', `${this.address}: ${size === 1213486160 ? 'unexpected HTTP response: is this an HTTP port?' : `invalid frame size ${size}`}`);
        }
        if (hs.length >= 4 + size) {
          const type = hs.readInt32BE(4);
          const data = hs.subarray(8, 4 + size);
          this.#hs = hs.subarray(4 + size);
          if (type === FRAME_TYPE_ERROR) throw NsqError.fromFrame(data);
          if (type !== FRAME_TYPE_RESPONSE) throw clientError('E_PROTOCOL', `${this.address}: unexpected frame type ${type} during handshake`);
          if (data.equals(HEARTBEAT)) {
            this.#sendNow(CMD_NOP);
            continue;
          }
          return data;
        }
      }
      await new Promise<void>((resolve) => (this.#hsWaiter = resolve));
    }
  }

  #onWire = (chunk: Buffer): void => {
    try {
      if (this.#snappyIn !== null) {
        for (const p of this.#snappyIn.push(chunk)) this.#onPlain(p);
      } else if (this.#inflater !== null) {
        this.#inflater.push(chunk);
      } else {
        this.#onPlain(chunk);
      }
    } catch (err) {
      this.destroy(toNsqError(err, this.address));
    }
  };

  #onPlain(chunk: Buffer): void {
    const decoder = this.#decoder;
    if (decoder === null) {
      this.#hs = this.#hs.length === 0 ? chunk : Buffer.concat([this.#hs, chunk]);
      const w = this.#hsWaiter;
      this.#hsWaiter = null;
      w?.();
      return;
    }
    if (this.#state === 'closed') return;
    let frames: Frame[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      this.destroy(toNsqError(err, this.address));
      return;
    }
    const h = this.#handler;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.type === FRAME_TYPE_MESSAGE) h.onMessage(f.data);
      else if (f.type === FRAME_TYPE_RESPONSE) {
        if (f.data.length === 11 && f.data.equals(HEARTBEAT)) this.write(CMD_NOP);
        else h.onResponse(f.data);
      } else if (f.type === FRAME_TYPE_ERROR) h.onErrorFrame(NsqError.fromFrame(f.data));
      else {
        this.destroy(clientError('E_PROTOCOL', `${this.address}: unknown frame type ${f.type}`));
        return;
      }
      if (this.state === 'closed') return;
    }
  }

  /** Queues a command; everything queued in this turn is written together. */
  write(cmd: Buffer): void {
    if (this.#state !== 'ready' && this.#state !== 'closing') return;
    this.#queue.push(cmd);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** True while commands can still be written. */
  get writable(): boolean {
    return this.#state === 'ready';
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    const q = this.#queue;
    if (q.length === 0 || this.#sock === null || this.#state === 'closed') {
      q.length = 0;
      return;
    }
    this.#queue = [];
    this.#sendNow(q.length === 1 ? q[0]! : Buffer.concat(q));
  };

  // Writes through the compression layer immediately (handshake steps and batched flushes).
  #sendNow(data: Buffer): void {
    if (this.#snappyOut !== null) this.#rawWrite(this.#snappyOut.encode(data));
    else if (this.#deflater !== null) {
      this.#deflater.write(data);
      this.#deflater.flush();
    } else this.#rawWrite(data);
  }

  // The write deadline: bytes handed to the socket must leave within writeTimeout, measured from
  // the last completed write, or the peer is considered stuck (go-nsq SetWriteDeadline).
  #rawWrite(data: Buffer): void {
    const sock = this.#sock;
    if (sock === null || sock.destroyed) return;
    this.#unsentWrites++;
    if (this.#writeTimer === null) {
      this.#writeTimer = setTimeout(() => {
        this.#writeTimer = null;
        if (this.#unsentWrites > 0) this.destroy(clientError('E_TIMEOUT', `${this.address}: write timeout after ${this.#opts.writeTimeout} ms`));
      }, this.#opts.writeTimeout);
    }
    sock.write(data, this.#onWritten);
  }

  #onWritten = (): void => {
    this.#unsentWrites--;
    const t = this.#writeTimer;
    if (t === null) return;
    if (this.#unsentWrites <= 0) {
      clearTimeout(t);
      this.#writeTimer = null;
    } else t.refresh();
  };

  /** Flushes queued commands, then half-closes; the socket closes when the server closes its side. */
  close(): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    if (this.#state !== 'ready') {
      this.destroy(null);
      return;
    }
    this.#setState('closing');
    this.#flush();
    const sock = this.#sock!;
    const end = () => {
      sock.end();
      // A server that never closes its side must not keep us around.
      setTimeout(() => this.destroy(null), 1000).unref();
    };
    if (this.#deflater !== null) this.#deflater.flush(end);
    else end();
  }

  /** Closes immediately; `err` is reported to the handler as the reason. */
  destroy(err: NsqError | null): void {
    if (this.#state === 'closed') return;
    if (this.#closeErr === null) this.#closeErr = err;
    this.#sock?.destroy();
    this.#raw?.destroy();
    this.#finishClose();
  }

  #finishClose(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    if (this.#writeTimer !== null) clearTimeout(this.#writeTimer);
    this.#writeTimer = null;
    this.#sock?.destroy();
    this.#raw?.destroy();
    this.#deflater?.destroy();
    this.#inflater?.destroy();
    const w = this.#hsWaiter;
    this.#hsWaiter = null;
    w?.();
    if (this.#decoder !== null) this.#handler.onClose(this.#closeErr);
  }
}

function toNsqError(err: unknown, address: string): NsqError {
  if (err instanceof NsqError) return err;
  if (err instanceof FrameDecodeError) return clientError('E_PROTOCOL', `${address}: ${err.message}`);
  return clientError('E_PROTOCOL', `${address}: ${(err as Error).message}`);
}
