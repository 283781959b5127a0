import type { Socket } from 'node:net';
import type * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger.js';
import { FRAME_TYPE_MESSAGE } from '../protocol/frame.js';
import { MESSAGE_HEADER_SIZE, type Message } from '../protocol/message.js';
import { SnappyFrameDecoder, SnappyFrameEncoder } from '../protocol/snappy-stream.js';
import { tlsHandshake, wrapTls, type TlsClientAuthPolicy } from './client-tls.js';
import { currentTurn, SLICE_BUDGET_MS } from './event-loop-slice.js';
import type { Flushable, FlushScheduler } from './flush-scheduler.js';

/** Bytes queued in the socket beyond which a consumer stops receiving messages until 'drain'. */
const MAX_PENDING_WRITE = 1024 * 1024;

/** Buffer for answers and heartbeats (bytes): frames beyond it are written on their own. */
const ANSWER_BUFFER_SIZE = 1024;

/** Why input is paused: the bits of ClientTransport's pause mask. */
export const PAUSE_BUSY = 1;
const PAUSE_BACKLOG = 2;
/** The input handled in this turn took its time budget: reading resumes on the next turn. */
const PAUSE_SLICE = 4;

/** What a transport reports to the protocol session above it. */
export interface TransportSink {
  /** Bytes received, after TLS and decompression. */
  onInput(chunk: Buffer): void;
  /** The peer ended its side; every byte before the end was passed to onInput. */
  onInputEnd(): void;
  /** Reading resumed after the peer caught up with its output. */
  onInputReleased(): void;
  /** Room for output again (socket drained, compressor caught up): deliveries may resume. */
  onWritable(): void;
  /** The socket closed. */
  onClosed(): void;
  /** A decoder failed on the peer's bytes: the connection must be dropped. */
  onBadInput(what: string, err: Error): void;
}

/**
 * The byte layer under one V2 connection: the socket and what stacks on it (TLS, snappy or
 * deflate), output buffering into one write per batch, and back-pressure in both directions
 * (deliveries stop while the peer does not read; reading stops while its answers pile up).
 * Knows frames only as bytes, nothing of commands or protocol state.
 *
 * About 470 lines because the layers (TLS, snappy, deflate), the output batching and the pause
 * mask (busy, backlog, time slice) act on the same socket and must be switched together on
 * upgrades and close.
 */
export class ClientTransport implements Flushable {
  readonly remoteIp: string;
  readonly remoteAddress: string;
  readonly #sink: TransportSink;
  readonly #logger: Logger;
  readonly #maxOutputBacklog: number;
  #sock: Socket;
  #bufferSize = 16 * 1024;
  #out: Buffer | null = null;
  #outLen = 0;
  #flushPending = false;
  /** No more output: the connection is closing or closed. */
  #shut = false;
  #pauseMask = 0;
  #snappyEnc: SnappyFrameEncoder | null = null;
  #snappyDec: SnappyFrameDecoder | null = null;
  #deflater: zlib.DeflateRaw | null = null;
  #inflater: zlib.InflateRaw | null = null;
  #deflateBlocked = false;
  #tls = false;
  /** The 4 magic bytes as far as received (only logged here: the parser checks them). */
  #magicBytes: Buffer | null = Buffer.alloc(0);
  /** The protocol magic: not all in yet, `  V2`, or anything else (refused by the parser). */
  magic: 'pending' | 'V2' | 'other' = 'pending';
  /** Epoch ms of the last bytes received (the read deadline's reference). */
  lastReadAt: number;
  /** Epoch ms since which a write has been waiting for the peer, 0 when none. */
  stalledSince = 0;
  /** The turn (see currentTurn) whose input time is being counted, and when it began. */
  #sliceTurn = -1;
  #sliceStart = 0;

  readonly #flushScheduler: FlushScheduler;

  constructor(sock: Socket, sink: TransportSink, logger: Logger, maxMsgSize: number, flushScheduler: FlushScheduler) {
    this.#sock = sock;
    this.#flushScheduler = flushScheduler;
    this.#sink = sink;
    this.#logger = logger;
    this.remoteIp = sock.remoteAddress ?? '';
    this.remoteAddress = sock.remotePort !== undefined ? joinHostPort(this.remoteIp, sock.remotePort) : '@';
    this.lastReadAt = Date.now();
    // Above what deliveries alone can queue (they stop at MAX_PENDING_WRITE, plus one message).
    this.#maxOutputBacklog = 2 * MAX_PENDING_WRITE + maxMsgSize;
    sock.setNoDelay(true);
    this.#attach(sock);
  }

  get tls(): boolean {
    return this.#tls;
  }

  get snappy(): boolean {
    return this.#snappyEnc !== null;
  }

  get deflate(): boolean {
    return this.#deflater !== null;
  }

  /** TLS details for /stats. */
  tlsInfo(): { cipher: string; version: string; protocol: string } | null {
    if (!this.#tls) return null;
    const s = this.#sock as tls.TLSSocket;
    const c = s.getCipher?.();
    return { cipher: c?.standardName ?? c?.name ?? '', version: s.getProtocol?.() ?? '', protocol: (s.alpnProtocol || '') as string };
  }

  peerCommonName(): string {
    if (!this.#tls) return '';
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
    if (this.#shut) return;
    this.lastReadAt = Date.now();
    if (this.#magicBytes !== null) this.#noteMagic(chunk);
    if (this.#inflater !== null) {
      this.#inflater.write(chunk);
      return;
    }
    if (this.#snappyDec !== null) {
      this.#decodeSnappy(chunk);
      return;
    }
    this.#input(chunk);
  };

  /**
   * Hands input to the session, timing it: once the input of this turn took SLICE_BUDGET_MS,
   * reading pauses until the next turn. The socket can hand over 2 MiB in one turn (libuv reads
   * up to 32 chunks of 64 KiB per readiness event), which as a million MPUB messages would
   * hold the other connections for tens of milliseconds.
   */
  #input(chunk: Buffer): void {
    const turn = currentTurn();
    if (turn !== this.#sliceTurn) {
      this.#sliceTurn = turn;
      this.#sliceStart = performance.now();
    }
    this.#sink.onInput(chunk);
    if ((this.#pauseMask & PAUSE_SLICE) !== 0 || this.#shut) return;
    if (performance.now() - this.#sliceStart < SLICE_BUDGET_MS) return;
    this.pauseInput(PAUSE_SLICE);
    setImmediate(this.#endSlice);
  }

  #endSlice = (): void => {
    this.#sliceTurn = -1;
    if (!this.#shut) this.resumeInput(PAUSE_SLICE);
  };

  /** Logs the protocol magic once its 4 bytes are in (upstream's tcp handler lines). */
  #noteMagic(chunk: Buffer): void {
    const m = Buffer.concat([this.#magicBytes!, chunk.subarray(0, 4 - this.#magicBytes!.length)]);
    if (m.length < 4) {
      this.#magicBytes = m;
      return;
    }
    this.#magicBytes = null;
    const text = m.toString('latin1');
    this.#logger.info(`CLIENT(${this.remoteAddress}): desired protocol magic '${text}'`);
    this.magic = text === '  V2' ? 'V2' : 'other';
    if (this.magic === 'other') this.#logger.error(`client(${this.remoteAddress}) bad protocol magic '${text}'`);
  }

  #decodeSnappy(chunk: Buffer): void {
    let parts: Buffer[];
    try {
      parts = this.#snappyDec!.push(chunk);
    } catch (err) {
      this.#sink.onBadInput('snappy decode failed', err as Error);
      return;
    }
    for (const p of parts) this.#input(p);
  }

  #onEnd = (): void => {
    // Inflated input arrives asynchronously: let zlib hand over what it still holds first.
    if (this.#inflater !== null) this.#inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => this.#sink.onInputEnd());
    else this.#sink.onInputEnd();
  };

  #onError = (err: Error): void => {
    this.#logger.debug(`[${this.remoteAddress}] socket error - ${err.message}`);
  };

  #onClose = (): void => {
    this.#releaseCodecs();
    this.#sink.onClosed();
  };

  /** Decompressed input not yet handed over (a paused inflater still holds it). */
  heldInput(): number {
    return this.#inflater?.readableLength ?? 0;
  }

  /** Input is stopped because the peer does not take its output. */
  get inputHeld(): boolean {
    return (this.#pauseMask & PAUSE_BACKLOG) !== 0;
  }

  /**
   * Stops input at its source for `reason`. The inflater is paused too: it holds compressed
   * bytes already read, and a small deflate stream can expand into gigabytes of commands.
   */
  pauseInput(reason: number): void {
    this.#pauseMask |= reason;
    this.#sock.pause();
    this.#inflater?.pause();
  }

  /** Lifts `reason`; reading resumes when no other reason holds it. */
  resumeInput(reason: number): void {
    this.#pauseMask &= ~reason;
    if (this.#pauseMask !== 0) return;
    this.#sock.resume();
    this.#inflater?.resume();
  }

  /**
   * A peer that sends commands but does not read the answers must not make us buffer them
   * without bound: reading stops until it catches up, as the original's blocking writes do.
   * Deliveries never get here alone (they stop at MAX_PENDING_WRITE). True when input was held.
   */
  holdInputIfBacklogged(): boolean {
    if (this.#outputBacklog() < this.#maxOutputBacklog) return false;
    this.pauseInput(PAUSE_BACKLOG);
    return true;
  }

  #releaseInput(): void {
    if (this.#outputBacklog() >= this.#maxOutputBacklog) return;
    this.resumeInput(PAUSE_BACKLOG);
    this.#sink.onInputReleased();
  }

  // ---- output ---------------------------------------------------------------------------

  /** Bytes written to the connection that the peer has not taken yet. */
  #outputBacklog(): number {
    return this.#sock.writableLength + (this.#deflater?.writableLength ?? 0);
  }

  /** Sets the output buffer size (IDENTIFY output_buffer_size); buffered bytes go out first. */
  setBufferSize(size: number): void {
    if (size === this.#bufferSize) return;
    this.flush();
    this.#out = null; // flush() may keep the buffer; the next one gets the new size
    this.#bufferSize = size;
  }

  /** Room for another delivery: the peer is keeping up with what was written. */
  canDeliver(): boolean {
    if (this.#shut || this.#sock.writableLength >= MAX_PENDING_WRITE) return false;
    // Bytes waiting for the (asynchronous) compressor count against the same limit; once they
    // are compressed the pump is restarted from the flush callback.
    if (this.#deflater === null || this.#sock.writableLength + this.#deflater.writableLength < MAX_PENDING_WRITE) return true;
    this.#deflateBlocked = true;
    return false;
  }

  /**
   * The output buffer with room for `size` more bytes, or null when they must be written on
   * their own (the buffer is then empty). Deliveries (`full`) get a buffer of the negotiated
   * output_buffer_size; answers and heartbeats a small one, so an idle or publishing connection
   * does not keep 16 KiB for its OKs. A small buffer is flushed before deliveries take over.
   */
  #bufferFor(size: number, full: boolean): Buffer | null {
    let out = this.#out;
    if (out !== null && (this.#outLen + size > out.length || (full && out.length < this.#bufferSize))) {
      this.flush();
      if (full && this.#out !== null && this.#out.length < this.#bufferSize) this.#out = null;
      out = this.#out;
    }
    const cap = out?.length ?? (full ? this.#bufferSize : Math.min(this.#bufferSize, ANSWER_BUFFER_SIZE));
    if (size > cap) return null;
    if (out === null) out = this.#out = Buffer.allocUnsafe(cap);
    return out;
  }

  /** Appends a frame to the output buffer (written directly when larger than the buffer). */
  append(frame: Buffer): void {
    if (this.#shut) return;
    const out = this.#bufferFor(frame.length, false);
    if (out === null) {
      this.#write(frame);
      return;
    }
    frame.copy(out, this.#outLen);
    this.#outLen += frame.length;
  }

  /** Appends a message frame (type 2), encoded straight into the output buffer. */
  appendMessage(m: Message): void {
    const size = 8 + MESSAGE_HEADER_SIZE + m.body.length;
    let buf = this.#bufferFor(size, true);
    const off = buf === null ? 0 : this.#outLen;
    buf ??= Buffer.allocUnsafe(size);
    buf.writeInt32BE(size - 4, off);
    buf.writeInt32BE(FRAME_TYPE_MESSAGE, off + 4);
    m.writeTo(buf, off + 8);
    if (buf === this.#out) this.#outLen += size;
    else this.#write(buf);
  }

  /** Flushes at the end of this event-loop turn, with the other connections' output. */
  flushSoon(): void {
    if (this.#flushPending) return;
    this.#flushPending = true;
    this.#flushScheduler.schedule(this);
  }

  flushScheduled(): void {
    this.#flushPending = false;
    this.flush();
  }

  flush(): void {
    if (this.#outLen === 0 || this.#shut) return;
    const out = this.#out!;
    const len = this.#outLen;
    this.#outLen = 0;
    if (this.#deflater === null && this.#snappyEnc === null) {
      this.#writeSocket(out.subarray(0, len));
      // The kernel took all of it at once (nothing is queued): the socket holds no reference, so
      // the buffer serves the next deliveries instead of a fresh 16 KiB per write. Otherwise the
      // queued write owns it.
      if (this.#sock.writableLength !== 0) this.#out = null;
      return;
    }
    // A write can wait in the encoder or the socket's queue for long (a client that does not
    // read): a small one gets its own copy and the buffer is kept, rather than pinning a whole
    // output buffer (16 KiB by default) per response frame.
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
    this.#writeSocket(this.#snappyEnc !== null ? this.#snappyEnc.encode(data) : data);
  }

  #writeSocket = (data: Buffer): void => {
    if (!this.#sock.write(data) && this.stalledSince === 0) this.stalledSince = Date.now();
  };

  #onDeflated = (): void => {
    if (this.inputHeld) this.#releaseInput();
    if (!this.#deflateBlocked) return;
    this.#deflateBlocked = false;
    if (this.#sock.writableLength >= MAX_PENDING_WRITE) return; // 'drain' will pump
    this.#sink.onWritable();
  };

  #onDrain = (): void => {
    this.stalledSince = 0;
    if (this.inputHeld) this.#releaseInput();
    this.#sink.onWritable();
  };

  // ---- upgrades (docs/protocol.md, IDENTIFY) --------------------------------------------------

  /** TLS server handshake on the raw socket; throws the IDENTIFY error the original sends. */
  async upgradeTls(ctx: tls.SecureContext, policy: TlsClientAuthPolicy): Promise<void> {
    const raw = this.#sock;
    this.#detach(raw);
    const sock = wrapTls(raw, ctx, policy);
    this.#sock = sock;
    this.#attach(sock);
    sock.off('data', this.#onSocketData);
    await tlsHandshake(sock, policy);
    sock.on('data', this.#onSocketData);
    if (sock.isPaused()) sock.resume();
    this.#tls = true;
  }

  /** Snappy framing both ways; `pipelined` are bytes the peer sent after IDENTIFY, already compressed. */
  enableSnappy(pipelined: Buffer): void {
    this.flush();
    this.#snappyEnc = new SnappyFrameEncoder();
    this.#snappyDec = new SnappyFrameDecoder();
    if (pipelined.length > 0) this.#decodeSnappy(pipelined);
  }

  /** Raw DEFLATE both ways, every flush a sync flush; `pipelined` as for enableSnappy. */
  enableDeflate(level: number, pipelined: Buffer): void {
    this.flush();
    const deflater = zlib.createDeflateRaw({ level });
    deflater.on('data', this.#writeSocket);
    deflater.on('error', (err) => this.#sink.onBadInput('deflate output error', err));
    const inflater = zlib.createInflateRaw();
    inflater.on('data', (chunk: Buffer) => this.#input(chunk));
    inflater.on('error', (err) => this.#sink.onBadInput('deflate input error', err));
    this.#deflater = deflater;
    this.#inflater = inflater;
    if (pipelined.length > 0) inflater.write(pipelined);
  }

  // ---- closing --------------------------------------------------------------------------

  /**
   * Ends the socket after everything written so far reached it (`destroySoon`: also without
   * waiting for the peer's end). Deflate output is produced asynchronously, so a final error
   * frame would otherwise be written after the end. No output is accepted afterwards.
   */
  end(destroySoon: boolean): void {
    this.#shut = true;
    const sock = this.#sock;
    const end = () => {
      if (destroySoon) sock.destroySoon();
      else sock.end();
    };
    const d = this.#deflater;
    if (d !== null && !d.destroyed) d.flush(zlib.constants.Z_SYNC_FLUSH, end);
    else end();
  }

  /** Drops the connection and whatever is still buffered. */
  destroy(): void {
    this.#shut = true;
    if (!this.#sock.destroyed) this.#sock.destroy();
    this.#releaseCodecs();
  }

  /** Stops accepting input and output without touching the socket (the session is done). */
  shut(): void {
    this.#shut = true;
  }

  #releaseCodecs(): void {
    this.#deflater?.destroy();
    this.#inflater?.destroy();
  }
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
