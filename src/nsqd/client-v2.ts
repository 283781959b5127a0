import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import type { AuthState } from '../auth/auth.js';
import type { Logger } from '../lib/logger.js';
import type { BodyBatch } from '../protocol/body-batch.js';
import { CommandParser, SilentClose, type ParsedItem } from '../protocol/command-parser.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeError, FRAME_HEARTBEAT, FRAME_OK, FRAME_TYPE_MESSAGE } from '../protocol/frame.js';
import { MESSAGE_HEADER_SIZE, type Message } from '../protocol/message.js';
import { SnappyFrameDecoder, SnappyFrameEncoder } from '../protocol/snappy-stream.js';
import type { Channel } from './channel.js';
import type { Consumer } from './context.js';
import type { Flushable, FlushScheduler } from './flush-scheduler.js';
import type { IdentifySettings, Negotiated } from './identify.js';
import type { NsqdOptions } from './options.js';
import type { Topic } from './topic.js';

/** Client states as numbered in /stats (tcp-protocol.md §5). */
export const STATE_INIT = 0;
export const STATE_SUBSCRIBED = 3;
export const STATE_CLOSING = 4;
export type ClientState = typeof STATE_INIT | typeof STATE_SUBSCRIBED | typeof STATE_CLOSING;

/** What a connection needs from the daemon. */
export interface ClientHost {
  readonly options: NsqdOptions;
  readonly logger: Logger;
  readonly version: string;
  /** Output flushes coalesced to once per turn across the daemon's connections. */
  readonly flushScheduler: FlushScheduler;
  secureContext(): tls.SecureContext | null;
  authEnabled(): boolean;
  /** `--tls-root-ca-file` contents: trust roots for an HTTPS auth server (tcp-protocol.md §11.1). */
  tlsRootCa?(): Buffer | undefined;
  getTopic(name: string): Topic;
  /** Resolves once a just-created topic has learned its cluster channels (nsqd.md §3.1), else null. */
  topicReady(topic: Topic): Promise<void> | null;
  clientClosed(c: ClientV2): void;
  now(): number;
}

/** The command table's view of a handler (see protocol-v2.ts). */
export interface CommandHandler {
  /** Checks made before the body is read (body commands only). */
  before?(c: ClientV2, params: string[]): void | Promise<void>;
  exec(c: ClientV2, params: string[], body: Buffer | BodyBatch | null): Buffer | null | Promise<Buffer | null>;
}

/** Bytes queued in the socket beyond which a consumer stops receiving messages until 'drain'. */
const MAX_PENDING_WRITE = 1024 * 1024;
const TLS_HANDSHAKE_TIMEOUT = 5000;

/**
 * One protocol V2 connection: owns the socket (plain, TLS, compressed), the incremental parser,
 * output buffering, heartbeats and deadlines. Commands are executed by the handler table it is
 * given; errors are answered and fatal ones close the connection here, in one place.
 */
export class ClientV2 implements Consumer, Flushable {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly connectTs: number;
  readonly #host: ClientHost;
  readonly #commands: Record<string, CommandHandler | undefined>;
  #sock: Socket;
  #parser: CommandParser;

  state: ClientState = STATE_INIT;
  clientId: string;
  hostname: string;
  userAgent = '';
  topologyRegion = '';
  topologyZone = '';
  /** Set by IDENTIFY under the topology-aware-consumption experiment (nsqd.md §13). */
  zoneLocal = false;
  regionLocal = false;
  settings: IdentifySettings;
  deflate = false;
  snappy = false;
  tls = false;
  auth: AuthState | null = null;
  authSecret = '';

  rdy = 0;
  inFlight = 0;
  messageCount = 0;
  finishCount = 0;
  requeueCount = 0;
  channel: Channel | null = null;
  readonly pubCounts = new Map<string, number>();

  #out: Buffer | null = null;
  #outLen = 0;
  #flushPending = false;
  #busy = false;
  #closed = false;
  #cleaned = false;
  /** Body command waiting for its body: its handler and params. */
  #pending: { h: CommandHandler; params: string[] } | null = null;
  #lastRead: number;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #stalledSince = 0;
  #snappyEnc: SnappyFrameEncoder | null = null;
  #snappyDec: SnappyFrameDecoder | null = null;
  #deflater: zlib.DeflateRaw | null = null;
  #inflater: zlib.InflateRaw | null = null;
  #deflateBlocked = false;
  #inputEnded = false;
  /** Reading stopped because too much output waits for a client that does not read. */
  #inputHeld = false;
  /** Inside #process: answers are flushed once at its end. */
  #batching = false;
  /** An answer was appended during the current batch and must go out at its end. */
  #answerPending = false;
  readonly #maxOutputBacklog: number;
  #eofHandled = false;
  /** The 4 magic bytes as far as received (only logged: the parser checks them). */
  #magic: Buffer | null = Buffer.alloc(0);
  /** The magic was `  V2`: the connection ran the V2 loop, whose end is logged. */
  #ioLoop = false;
  /** The fatal error that ended the connection, logged at exit as upstream's tcp server does. */
  #exitError: string | null = null;

  constructor(id: number, sock: Socket, host: ClientHost, commands: Record<string, CommandHandler | undefined>) {
    this.id = id;
    this.#sock = sock;
    this.#host = host;
    this.#commands = commands;
    const o = host.options;
    this.remoteIp = sock.remoteAddress ?? '';
    this.remoteAddress = sock.remotePort !== undefined ? joinHostPort(this.remoteIp, sock.remotePort) : '@';
    this.clientId = this.remoteIp;
    this.hostname = this.remoteIp;
    this.connectTs = Date.now();
    this.#lastRead = this.connectTs;
    this.settings = {
      heartbeatIntervalMs: o.clientTimeout / 2,
      outputBufferSize: 16 * 1024,
      outputBufferTimeoutMs: o.outputBufferTimeout,
      sampleRate: 0,
      msgTimeoutMs: o.msgTimeout,
    };
    this.#parser = new CommandParser({ maxBodySize: o.maxBodySize, maxMsgSize: o.maxMsgSize });
    // Above what deliveries alone can queue (they stop at MAX_PENDING_WRITE, plus one message).
    this.#maxOutputBacklog = 2 * MAX_PENDING_WRITE + o.maxMsgSize;
    sock.setNoDelay(true);
    this.#attach(sock);
    this.#startTimers();
  }

  get host(): ClientHost {
    return this.#host;
  }

  get msgTimeoutMs(): number {
    return this.settings.msgTimeoutMs;
  }

  get sampleRate(): number {
    return this.settings.sampleRate;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** TLS details for /stats. */
  tlsInfo(): { cipher: string; version: string; protocol: string } | null {
    if (!this.tls) return null;
    const s = this.#sock as tls.TLSSocket;
    const c = s.getCipher?.();
    return { cipher: c?.standardName ?? c?.name ?? '', version: s.getProtocol?.() ?? '', protocol: (s.alpnProtocol || '') as string };
  }

  peerCommonName(): string {
    if (!this.tls) return '';
    const cert = (this.#sock as tls.TLSSocket).getPeerCertificate?.();
    const cn = cert?.subject?.CN;
    return typeof cn === 'string' ? cn : Array.isArray(cn) ? (cn[0] ?? '') : '';
  }

  // ---- input ----------------------------------------------------------------------------

  #attach(sock: Socket): void {
    sock.on('data', this.#onSocketData);
    sock.on('end', this.#onEnd);
    sock.on('error', this.#onError);
    sock.on('close', this.#onClose);
    sock.on('drain', this.#onDrain);
  }

  #detach(sock: Socket): void {
    sock.off('data', this.#onSocketData);
    sock.off('end', this.#onEnd);
    sock.off('error', this.#onError);
    sock.off('close', this.#onClose);
    sock.off('drain', this.#onDrain);
  }

  #onSocketData = (chunk: Buffer): void => {
    // After a fatal error the rest of the input is ignored, as upstream stops reading.
    if (this.#closed) return;
    this.#lastRead = Date.now();
    if (this.#magic !== null) this.#noteMagic(chunk);
    if (this.#inflater !== null) {
      this.#inflater.write(chunk);
      return;
    }
    if (this.#snappyDec !== null) {
      let parts: Buffer[];
      try {
        parts = this.#snappyDec.push(chunk);
      } catch (err) {
        this.#host.logger.error(`[${this.remoteAddress}] snappy decode failed - ${(err as Error).message}`);
        this.destroy();
        return;
      }
      for (const p of parts) this.#parser.push(p);
      this.#process();
      return;
    }
    this.#parser.push(chunk);
    this.#process();
  };

  /** Logs the protocol magic once its 4 bytes are in (upstream's tcp handler lines). */
  #noteMagic(chunk: Buffer): void {
    const m = Buffer.concat([this.#magic!, chunk.subarray(0, 4 - this.#magic!.length)]);
    if (m.length < 4) {
      this.#magic = m;
      return;
    }
    this.#magic = null;
    const text = m.toString('latin1');
    this.#host.logger.info(`CLIENT(${this.remoteAddress}): desired protocol magic '${text}'`);
    if (text === '  V2') this.#ioLoop = true;
    else this.#host.logger.error(`client(${this.remoteAddress}) bad protocol magic '${text}'`);
  }

  #onInflated = (chunk: Buffer): void => {
    this.#parser.push(chunk);
    this.#process();
    this.#finishInput();
  };

  #onEnd = (): void => {
    // Inflated input arrives asynchronously: let zlib hand over what it still holds first.
    if (this.#inflater !== null) this.#inflater.flush(zlib.constants.Z_SYNC_FLUSH, this.#onInputEnd);
    else this.#onInputEnd();
  };

  #onInputEnd = (): void => {
    this.#inputEnded = true;
    this.#finishInput();
  };

  /**
   * EOF is acted on once every command before it was answered, as upstream's read loop only
   * sees it then: a command still running (an auth query) finishes and replies first.
   */
  #finishInput(): void {
    // Commands held back (busy, or the client not reading) are answered first, including those
    // a paused inflater still holds (its flush callback does not wait for them to be read).
    if (!this.#inputEnded || this.#busy || this.#inputHeld || this.#eofHandled) return;
    if (this.#inflater !== null && this.#inflater.readableLength > 0) return;
    this.#eofHandled = true;
    if (this.#magic !== null) this.#host.logger.error('failed to read protocol version - EOF');
    // The original answers a command cut short by EOF with its "failed to read" error.
    if (!this.#closed) {
      const err = this.#parser.eofError();
      if (err !== null) this.#sendError(err);
    }
    this.#endSocket(false);
  }

  #onError = (err: Error): void => {
    this.#host.logger.debug(`[${this.remoteAddress}] socket error - ${err.message}`);
  };

  #onClose = (): void => {
    this.#releaseCodecs();
    this.#cleanup();
  };

  #onDeflated = (): void => {
    if (this.#inputHeld) this.#releaseInput();
    if (!this.#deflateBlocked) return;
    this.#deflateBlocked = false;
    if (this.#sock.writableLength >= MAX_PENDING_WRITE) return; // 'drain' will pump
    if (this.channel !== null && this.state === STATE_SUBSCRIBED) this.channel.pump();
  };

  #onDrain = (): void => {
    this.#stalledSince = 0;
    if (this.#inputHeld) this.#releaseInput();
    if (this.channel !== null && this.state === STATE_SUBSCRIBED) this.channel.pump();
  };

  /** Bytes written to the connection that the client has not taken yet. */
  #outputBacklog(): number {
    return this.#sock.writableLength + (this.#deflater?.writableLength ?? 0);
  }

  /**
   * Stops input at its source. The inflater is paused too: it holds compressed bytes already
   * read, and a small deflate stream can expand into gigabytes of commands.
   */
  #pauseInput(): void {
    this.#sock.pause();
    this.#inflater?.pause();
  }

  #resumeInput(): void {
    this.#sock.resume();
    this.#inflater?.resume();
  }

  /** Reading resumes once the client took enough of its output (see #process). */
  #releaseInput(): void {
    if (this.#outputBacklog() >= this.#maxOutputBacklog) return;
    this.#inputHeld = false;
    if (this.#busy || this.#closed) return; // the async handler's completion resumes
    this.#resumeInput();
    this.#process();
    this.#finishInput();
  }

  /**
   * Parses and executes everything buffered, pausing the socket while a handler is async. The
   * answers of one batch go out in one write at its end (before the event loop turns): a
   * pipelining client would otherwise cost a write, and on a deflate connection a compressor
   * round trip, per answer.
   */
  #process(): void {
    const outer = this.#batching;
    this.#batching = true;
    try {
      this.#processItems();
    } finally {
      this.#batching = outer;
      // Only answers force the write here; message frames delivered meanwhile (FINs freeing
      // RDY slots) keep riding the once-per-turn flush with the other connections' output.
      if (!outer && this.#answerPending) this.flush();
    }
  }

  #processItems(): void {
    while (!this.#busy && !this.#closed) {
      // A client that sends commands but does not read the answers must not make us buffer
      // them without bound: stop reading until it catches up, as the original's blocking
      // writes do. Deliveries never get here alone (they stop at MAX_PENDING_WRITE).
      if (this.#outputBacklog() >= this.#maxOutputBacklog) {
        this.#inputHeld = true;
        this.#pauseInput();
        return;
      }
      let item: ParsedItem | null;
      try {
        item = this.#parser.next();
        if (item === null) return;
        const r = this.#handle(item);
        if (r !== undefined) {
          this.#busy = true;
          this.#pauseInput();
          r.then(
            () => {
              this.#busy = false;
              if (this.#closed) return;
              this.#resumeInput();
              this.#process();
              this.#finishInput();
            },
            (err: unknown) => {
              this.#busy = false;
              this.#fail(err);
              if (!this.#closed) {
                this.#resumeInput();
                this.#process();
                this.#finishInput();
              }
            },
          );
          return;
        }
      } catch (err) {
        this.#fail(err);
      }
    }
  }

  #handle(item: ParsedItem): Promise<void> | undefined {
    if (item.type !== 'line') {
      const p = this.#pending!;
      this.#pending = null;
      return this.#respond(p.h.exec(this, p.params, item.type === 'body' ? item.body : item.messages));
    }
    // TLS policy is checked before anything else, even the command name, except for IDENTIFY
    // (tcp-protocol.md §9.5): upstream's Exec enforces it ahead of its command switch.
    if (this.#host.options.tlsRequired !== 0 && !this.tls && item.name !== 'IDENTIFY') {
      throw new ProtocolError('E_INVALID', `cannot ${item.name} in current state (TLS required)`);
    }
    const h = this.#commands[item.name];
    if (h === undefined) throw new ProtocolError('E_INVALID', `invalid command ${item.name}`);
    if (!item.hasBody) return this.#respond(h.exec(this, item.params, null));
    this.#pending = { h, params: item.params };
    const before = h.before?.(this, item.params);
    if (before instanceof Promise) return before.then(() => this.#parser.acceptBody());
    this.#parser.acceptBody();
    return undefined;
  }

  #respond(r: Buffer | null | Promise<Buffer | null>): Promise<void> | undefined {
    if (r instanceof Promise) {
      return r.then((frame) => {
        if (frame !== null) this.sendFrame(frame);
      });
    }
    if (r !== null) this.sendFrame(r);
    return undefined;
  }

  #fail(err: unknown): void {
    if (err instanceof SilentClose) {
      this.destroy();
      return;
    }
    if (err instanceof ProtocolError) {
      this.#sendError(err);
      return;
    }
    this.#host.logger.error(`[${this.remoteAddress}] internal error - ${(err as Error)?.stack ?? String(err)}`);
    this.#sendError(new ProtocolError('E_INVALID', 'internal error'));
  }

  #sendError(err: ProtocolError): void {
    // A bad magic was logged by #noteMagic; it never entered the V2 loop.
    if (err.fatal && this.#ioLoop) {
      this.#host.logger.error(`[${this.remoteAddress}] - ${err.message}`);
      this.#exitError ??= err.message;
    } else if (!err.fatal) {
      this.#host.logger.debug(`[${this.remoteAddress}] - ${err.message}`);
    }
    this.sendFrame(encodeError(err.wireBytes()));
    if (err.fatal) this.closeGracefully();
  }

  // ---- output ---------------------------------------------------------------------------

  /**
   * A response or error frame: flushed at once (tcp-protocol.md §9.2), or with the other
   * answers of the input batch being processed, at its end.
   */
  sendFrame(frame: Buffer): void {
    if (this.#closed) return;
    this.#append(frame);
    if (!this.#batching) this.flush();
    else this.#answerPending = true;
  }

  sendOK(): void {
    this.sendFrame(FRAME_OK);
  }

  #append(frame: Buffer): void {
    const cap = this.settings.outputBufferSize;
    if (this.#outLen + frame.length > cap) this.flush();
    if (frame.length > cap) {
      this.#write(frame);
      return;
    }
    if (this.#out === null) this.#out = Buffer.allocUnsafe(cap);
    frame.copy(this.#out, this.#outLen);
    this.#outLen += frame.length;
  }

  isReady(): boolean {
    return (
      this.state === STATE_SUBSCRIBED &&
      this.inFlight < this.rdy &&
      !this.#closed &&
      this.#sock.writableLength < MAX_PENDING_WRITE &&
      (this.#deflater === null || this.#deflateReady())
    );
  }

  // Bytes waiting for the (asynchronous) compressor count against the same limit; once they
  // are compressed the pump is restarted from the flush callback.
  #deflateReady(): boolean {
    if (this.#sock.writableLength + this.#deflater!.writableLength < MAX_PENDING_WRITE) return true;
    this.#deflateBlocked = true;
    return false;
  }

  deliver(m: Message): void {
    const size = 8 + MESSAGE_HEADER_SIZE + m.body.length;
    const cap = this.settings.outputBufferSize;
    let buf: Buffer;
    let off: number;
    if (size > cap) {
      this.flush();
      buf = Buffer.allocUnsafe(size);
      off = 0;
    } else {
      if (this.#outLen + size > cap) this.flush();
      if (this.#out === null) this.#out = Buffer.allocUnsafe(cap);
      buf = this.#out;
      off = this.#outLen;
    }
    buf.writeInt32BE(size - 4, off);
    buf.writeInt32BE(FRAME_TYPE_MESSAGE, off + 4);
    m.writeTo(buf, off + 8);
    if (size > cap) this.#write(buf);
    else this.#outLen += size;
    this.inFlight++;
    this.messageCount++;
    if (this.inFlight >= this.rdy) this.flush();
    else if (!this.#flushPending) {
      this.#flushPending = true;
      this.#host.flushScheduler.schedule(this);
    }
  }

  flushScheduled(): void {
    this.#flushPending = false;
    this.flush();
  }

  flush(): void {
    this.#answerPending = false;
    if (this.#outLen === 0 || this.#closed) return;
    const out = this.#out!;
    const len = this.#outLen;
    this.#outLen = 0;
    // A write can wait in the socket's queue for long (a client that does not read): a small
    // one gets its own copy and the buffer is kept, rather than pinning a whole output buffer
    // (16 KiB by default) per response frame.
    if (len <= out.length >>> 2) {
      this.#write(Buffer.from(out.subarray(0, len)));
      return;
    }
    this.#out = null;
    this.#write(out.subarray(0, len));
  }

  #write(data: Buffer): void {
    if (this.#deflater !== null) {
      this.#deflater.write(data);
      this.#deflater.flush(zlib.constants.Z_SYNC_FLUSH, this.#onDeflated);
      return;
    }
    const out = this.#snappyEnc !== null ? this.#snappyEnc.encode(data) : data;
    if (!this.#sock.write(out) && this.#stalledSince === 0) this.#stalledSince = Date.now();
  }

  // ---- Consumer -------------------------------------------------------------------------

  inFlightReleased(count: number): void {
    this.inFlight = Math.max(0, this.inFlight - count);
    if (this.channel !== null) this.channel.pump();
  }

  closeForChannel(): void {
    this.channel = null;
    this.destroy();
  }

  // ---- settings and upgrades ------------------------------------------------------------

  applySettings(s: IdentifySettings): void {
    const bufferChanged = s.outputBufferSize !== this.settings.outputBufferSize;
    if (bufferChanged) {
      this.flush();
      this.#out = null; // flush() may keep the buffer; the next one gets the new size
    }
    const hbChanged = s.heartbeatIntervalMs !== this.settings.heartbeatIntervalMs;
    this.settings = s;
    if (hbChanged) this.#startTimers();
  }

  /** Performs the upgrades granted by IDENTIFY, each followed by its OK frame (tcp-protocol.md §7.1). */
  async upgrade(n: Negotiated): Promise<void> {
    this.flush(); // the IDENTIFY reply goes out before the stream changes
    if (n.tls) {
      await this.#upgradeTls();
      this.sendOK();
    }
    if (n.snappy) {
      this.flush();
      this.#snappyEnc = new SnappyFrameEncoder();
      this.#snappyDec = new SnappyFrameDecoder();
      this.snappy = true;
      this.#reinjectBuffered();
      this.sendOK();
    }
    if (n.deflate) {
      this.flush();
      const deflater = zlib.createDeflateRaw({ level: n.deflateLevel });
      deflater.on('data', (chunk: Buffer) => {
        if (!this.#sock.write(chunk) && this.#stalledSince === 0) this.#stalledSince = Date.now();
      });
      deflater.on('error', () => this.destroy());
      const inflater = zlib.createInflateRaw();
      inflater.on('data', this.#onInflated);
      inflater.on('error', (err) => {
        this.#host.logger.error(`[${this.remoteAddress}] deflate input error - ${err.message}`);
        this.destroy();
      });
      this.#deflater = deflater;
      this.#inflater = inflater;
      this.deflate = true;
      this.#reinjectBuffered();
      this.sendOK();
    }
  }

  /** Bytes pipelined after IDENTIFY were compressed by the client: run them through the decoder. */
  #reinjectBuffered(): void {
    const rest = this.#parser.takeBuffered();
    if (rest.length === 0) return;
    if (this.#inflater !== null) this.#inflater.write(rest);
    else if (this.#snappyDec !== null) for (const p of this.#snappyDec.push(rest)) this.#parser.push(p);
  }

  async #upgradeTls(): Promise<void> {
    const ctx = this.#host.secureContext();
    if (ctx === null) throw new ProtocolError('E_IDENTIFY_FAILED', 'IDENTIFY failed TLS not configured');
    const o = this.#host.options;
    const raw = this.#sock;
    this.#detach(raw);
    const policy = o.tlsClientAuthPolicy;
    const sock = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: ctx,
      requestCert: policy === 'require' || policy === 'require-verify',
      rejectUnauthorized: policy === 'require-verify',
    });
    this.#sock = sock;
    this.#attach(sock);
    sock.off('data', this.#onSocketData);
    await new Promise<void>((resolve, reject) => {
      const fail = (text: string) => {
        clearTimeout(timer);
        reject(new ProtocolError('E_IDENTIFY_FAILED', `IDENTIFY failed ${text}`));
      };
      // Nothing can be sent to a peer that never finished the handshake, and a graceful end
      // would wait for it forever: drop the connection (upstream's 5 s deadline).
      const timer = setTimeout(() => {
        sock.destroy();
        fail('TLS handshake timeout');
      }, TLS_HANDSHAKE_TIMEOUT);
      sock.once('secure', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (err) => fail(err.message));
      sock.once('close', () => fail('connection closed during TLS handshake'));
    });
    // A standalone TLSSocket does not enforce rejectUnauthorized the way tls.Server does: a
    // certificate that fails verification still completes the handshake, so check it here.
    if (policy === 'require-verify') {
      const err = peerVerifyError(sock);
      if (err !== null) throw new ProtocolError('E_IDENTIFY_FAILED', `IDENTIFY failed tls: failed to verify certificate: ${err.message}`);
    }
    if (policy === 'require' && !sock.getPeerCertificate()?.subject) {
      throw new ProtocolError('E_IDENTIFY_FAILED', 'IDENTIFY failed tls: client didn\'t provide a certificate');
    }
    sock.on('data', this.#onSocketData);
    if (sock.isPaused()) sock.resume();
    this.tls = true;
  }

  // ---- timers ---------------------------------------------------------------------------

  #startTimers(): void {
    this.#stopTimers();
    const hb = this.settings.heartbeatIntervalMs;
    if (hb <= 0) return;
    this.#heartbeatTimer = setInterval(() => {
      if (this.#stalledSince !== 0 && Date.now() - this.#stalledSince > hb) {
        this.#host.logger.error(`[${this.remoteAddress}] write deadline exceeded, closing`);
        this.destroy();
        return;
      }
      this.sendFrame(FRAME_HEARTBEAT);
    }, hb);
    this.#armDeadline(2 * hb);
  }

  /** Read deadline: 2 × heartbeat since the last bytes received (tcp-protocol.md §9.1). */
  #armDeadline(ms: number): void {
    this.#deadlineTimer = setTimeout(() => {
      const hb = this.settings.heartbeatIntervalMs;
      if (hb <= 0) return;
      const left = this.#lastRead + 2 * hb - Date.now();
      if (left > 0) {
        this.#armDeadline(left);
        return;
      }
      this.#host.logger.info(`PROTOCOL(V2): [${this.remoteAddress}] read deadline exceeded, closing`);
      // The deadline also bounds a body read: upstream then answers with the command's
      // "failed to read" error before closing; between commands it closes silently.
      const err = this.#busy ? null : this.#parser.eofError();
      if (err !== null) {
        this.#sendError(err);
        return;
      }
      this.flush();
      this.destroy();
    }, ms);
  }

  #stopTimers(): void {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer);
    this.#heartbeatTimer = null;
    this.#deadlineTimer = null;
  }

  // ---- closing --------------------------------------------------------------------------

  /** Flush what is buffered, then end the connection (after a fatal error). */
  closeGracefully(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#endSocket(true);
    this.#cleanup();
  }

  destroy(): void {
    if (!this.#sock.destroyed) this.#sock.destroy();
    this.#releaseCodecs();
    this.#cleanup();
  }

  /**
   * Ends the socket after everything written so far reached it: deflate output is produced
   * asynchronously, so a final error frame would otherwise be written after the end.
   */
  #endSocket(destroySoon: boolean): void {
    const sock = this.#sock;
    const end = () => {
      if (destroySoon) sock.destroySoon();
      else sock.end();
    };
    const d = this.#deflater;
    if (d !== null && !d.destroyed) d.flush(zlib.constants.Z_SYNC_FLUSH, end);
    else end();
  }

  #releaseCodecs(): void {
    this.#deflater?.destroy();
    this.#inflater?.destroy();
  }

  #cleanup(): void {
    this.#closed = true;
    if (this.#cleaned) return;
    this.#cleaned = true;
    this.#stopTimers();
    if (this.#ioLoop) {
      const log = this.#host.logger;
      log.info(`PROTOCOL(V2): [${this.remoteAddress}] exiting ioloop`);
      if (this.#exitError !== null) log.error(`client(${this.remoteAddress}) - ${this.#exitError}`);
      log.info(`PROTOCOL(V2): [${this.remoteAddress}] exiting messagePump`);
    }
    if (this.channel !== null) {
      const ch = this.channel;
      this.channel = null;
      ch.removeConsumer(this);
    }
    this.#host.clientClosed(this);
  }
}

/**
 * OpenSSL's verdict on the peer's certificate chain against the context's CA store. Node applies
 * it (`authorized`, rejectUnauthorized) only to sockets a tls.Server made; a socket wrapped by
 * hand asks its handle, as tls.Server does internally. Fails closed if that is unavailable.
 */
function peerVerifyError(sock: tls.TLSSocket): Error | null {
  const handle = (sock as unknown as { _handle?: { verifyError?: () => Error | null | undefined } })._handle;
  if (typeof handle?.verifyError !== 'function') return new Error('verification unavailable');
  return handle.verifyError() ?? null;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

