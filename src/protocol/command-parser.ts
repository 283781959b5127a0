import { BodyBatch } from './body-batch.js';
import { appendChunk, fillFrom } from './byte-stream.js';
import { ProtocolError } from './errors.js';
import { hex32FromBytes, idRefText, isHexId } from './message-id.js';

/**
 * Incremental parser for the client → server byte stream of protocol V2 (docs/protocol.md, Commands).
 *
 * Pure: no sockets, no timers. Feed chunks with `push`, pull items with `next`.
 * Body-carrying commands (IDENTIFY, AUTH, PUB, DPUB, MPUB) are returned in two steps so the caller
 * can run the checks the original makes before it reads the body (topic name, auth for MPUB):
 * first a `line` item with `hasBody: true`, then, after the caller calls `acceptBody()`, a `body`
 * or `mpub` item. Size errors carry the original's codes and texts, in the original's order.
 */
/** The 4-byte protocol V2 magic a client sends first. */
export const MAGIC_V2 = Buffer.from('  V2');
const EMPTY = Buffer.alloc(0);
export const MAX_LINE_LENGTH = 16384;

/**
 * `FIN <16 lowercase hex digits>`, the most frequent command on a busy consumer, with the ID
 * decoded into halves (protocol/message-id.ts) and no string made. One object per parser,
 * overwritten by the next such line: use it before calling next() again.
 */
export interface FinItem {
  readonly type: 'fin';
  idHi: number;
  idLo: number;
  readonly idRaw: null;
}

export type ParsedItem =
  | { type: 'line'; name: string; params: string[]; hasBody: boolean }
  | { type: 'body'; name: string; params: string[]; body: Buffer }
  | { type: 'mpub'; name: string; params: string[]; messages: BodyBatch };

export interface ParserLimits {
  maxBodySize: number;
  maxMsgSize: number;
}

/** Raised when the connection must be closed without an error frame (line too long). */
export class SilentClose extends Error {}

type BodyKind = 'identify' | 'auth' | 'pub' | 'dpub' | 'mpub';
// A Map, not an object literal: a command named `constructor` or `__proto__` must not match.
const BODY_KINDS: ReadonlyMap<string, BodyKind> = new Map([
  ['IDENTIFY', 'identify'], ['AUTH', 'auth'], ['PUB', 'pub'], ['DPUB', 'dpub'], ['MPUB', 'mpub'],
]);

const enum State {
  Magic,
  Line,
  AwaitAccept,
  BodySize,
  Body,
  MpubCount,
  MpubMsgSize,
  MpubMsgBody,
}

export class CommandParser {
  #limits: ParserLimits;
  #state: State;
  #buf: Buffer = Buffer.alloc(0);
  #off = 0;

  // Current body-carrying command.
  #name = '';
  #params: string[] = [];
  #kind: BodyKind = 'pub';
  #target: Buffer | null = null;
  #filled = 0;
  #mpubLeft = 0;
  #mpubIndex = 0;
  // MPUB bodies go back to back into one arena (see BodyBatch), not one buffer each.
  #bodySize = 0;
  #arena: Buffer = Buffer.alloc(0);
  #arenaLen = 0;
  #starts = new Int32Array(0);
  #ends = new Int32Array(0);
  #msgSize = 0;
  readonly #fin: FinItem = { type: 'fin', idHi: 0, idLo: 0, idRaw: null };

  constructor(limits: ParserLimits, expectMagic = true) {
    this.#limits = limits;
    this.#state = expectMagic ? State.Magic : State.Line;
  }

  setLimits(limits: ParserLimits): void {
    this.#limits = limits;
  }

  push(chunk: Buffer): void {
    this.#buf = appendChunk(this.#buf, this.#off, chunk);
    this.#off = 0;
  }

  /** Unparsed bytes held (for back-pressure decisions and upgrade checks). */
  buffered(): number {
    return this.#buf.length - this.#off;
  }

  /** Takes the bytes not yet parsed (used when the stream is upgraded to TLS/compression). */
  takeBuffered(): Buffer {
    const rest = this.#buf.subarray(this.#off);
    this.#buf = Buffer.alloc(0);
    this.#off = 0;
    return rest;
  }

  /** Proceed with the body of the command last returned as a `line` item with `hasBody`. */
  acceptBody(): void {
    if (this.#state !== State.AwaitAccept) throw new Error('acceptBody() without a pending body command');
    this.#state = State.BodySize;
  }

  /**
   * The next complete item, or null when more bytes are needed.
   * Throws ProtocolError (send the frame, then close) or SilentClose (just close).
   */
  next(): ParsedItem | null {
    const item = this.nextCommand();
    if (item === null || item.type !== 'fin') return item;
    return { type: 'line', name: 'FIN', params: [idRefText(item)], hasBody: false };
  }

  /** As next(), with `FIN <hex id>` lines as the parser's FinItem (the server's hot path). */
  nextCommand(): ParsedItem | FinItem | null {
    for (;;) {
      switch (this.#state) {
        case State.Magic: {
          if (this.#avail() < 4) return null;
          const ok = this.#buf.compare(MAGIC_V2, 0, 4, this.#off, this.#off + 4) === 0;
          this.#off += 4;
          if (!ok) throw new ProtocolError('E_BAD_PROTOCOL', '');
          this.#state = State.Line;
          continue;
        }
        case State.Line:
          return this.#readLine();
        case State.AwaitAccept:
          return null;
        case State.BodySize: {
          if (this.#avail() < 4) return null;
          const size = this.#buf.readInt32BE(this.#off);
          this.#off += 4;
          this.#checkBodySize(size);
          this.#bodySize = size;
          if (this.#kind === 'mpub') {
            this.#state = State.MpubCount;
          } else {
            this.#target = Buffer.allocUnsafe(size);
            this.#filled = 0;
            this.#state = State.Body;
          }
          continue;
        }
        case State.Body: {
          if (!this.#fill()) return null;
          const body = this.#target!;
          this.#target = null;
          this.#state = State.Line;
          return { type: 'body', name: this.#name, params: this.#params, body };
        }
        case State.MpubCount: {
          if (this.#avail() < 4) return null;
          const count = this.#buf.readInt32BE(this.#off);
          this.#off += 4;
          const max = Math.floor((this.#limits.maxBodySize - 4) / 5);
          if (count <= 0 || count > max) throw new ProtocolError('E_BAD_BODY', `MPUB invalid message count ${count}`);
          this.#mpubLeft = count;
          this.#mpubIndex = 0;
          // Sized for the declared body; grows if the sizes say otherwise (the original reads
          // the messages from the stream, not from a body of the declared size).
          this.#arena = Buffer.allocUnsafe(Math.max(64, this.#bodySize - 4 - 4 * count));
          this.#arenaLen = 0;
          this.#starts = new Int32Array(count);
          this.#ends = new Int32Array(count);
          this.#state = State.MpubMsgSize;
          continue;
        }
        case State.MpubMsgSize: {
          if (this.#avail() < 4) return null;
          const size = this.#buf.readInt32BE(this.#off);
          this.#off += 4;
          if (size <= 0) throw new ProtocolError('E_BAD_MESSAGE', `MPUB invalid message(${this.#mpubIndex}) body size ${size}`);
          if (size > this.#limits.maxMsgSize) throw new ProtocolError('E_BAD_MESSAGE', `MPUB message too big ${size} > ${this.#limits.maxMsgSize}`);
          this.#reserve(size);
          this.#msgSize = size;
          this.#filled = 0;
          this.#state = State.MpubMsgBody;
          continue;
        }
        case State.MpubMsgBody: {
          const n = Math.min(this.#msgSize - this.#filled, this.#avail());
          this.#buf.copy(this.#arena, this.#arenaLen + this.#filled, this.#off, this.#off + n);
          this.#off += n;
          this.#filled += n;
          if (this.#filled < this.#msgSize) return null;
          const i = this.#mpubIndex++;
          this.#starts[i] = this.#arenaLen;
          this.#arenaLen += this.#msgSize;
          this.#ends[i] = this.#arenaLen;
          if (--this.#mpubLeft > 0) {
            this.#state = State.MpubMsgSize;
            continue;
          }
          const messages = new BodyBatch(this.#arena, this.#starts, this.#ends);
          this.#arena = Buffer.alloc(0);
          this.#starts = this.#ends = new Int32Array(0);
          this.#state = State.Line;
          return { type: 'mpub', name: this.#name, params: this.#params, messages };
        }
      }
    }
  }

  /** The error the original sends when the stream ends here (the "failed to read" family), if any. */
  eofError(): ProtocolError | null {
    const n = this.#name;
    switch (this.#state) {
      case State.BodySize:
        if (this.#kind === 'identify' || this.#kind === 'auth' || this.#kind === 'mpub') {
          return new ProtocolError('E_BAD_BODY', `${n} failed to read body size`);
        }
        return new ProtocolError('E_BAD_MESSAGE', `${n} failed to read message body size`);
      case State.Body:
        if (this.#kind === 'identify' || this.#kind === 'auth') return new ProtocolError('E_BAD_BODY', `${n} failed to read body`);
        return new ProtocolError('E_BAD_MESSAGE', `${n} failed to read message body`);
      case State.MpubCount:
        return new ProtocolError('E_BAD_BODY', 'MPUB failed to read message count');
      case State.MpubMsgSize:
        return new ProtocolError('E_BAD_MESSAGE', `MPUB failed to read message(${this.#mpubIndex}) body size`);
      case State.MpubMsgBody:
        return new ProtocolError('E_BAD_MESSAGE', 'MPUB failed to read message body');
      default:
        return null;
    }
  }

  /** Room in the arena for `n` more bytes (doubling, so growth costs linear time overall). */
  #reserve(n: number): void {
    const need = this.#arenaLen + n;
    if (need <= this.#arena.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.#arena.length * 2));
    this.#arena.copy(grown, 0, 0, this.#arenaLen);
    this.#arena = grown;
  }

  #avail(): number {
    return this.#buf.length - this.#off;
  }

  /** Copies available bytes into the current target; true when it is full. */
  #fill(): boolean {
    const target = this.#target!;
    // A body that arrives whole in the current chunk is still copied (see fillFrom).
    const n = fillFrom(this.#buf, this.#off, target, this.#filled);
    this.#filled += n;
    this.#off += n;
    return this.#filled === target.length;
  }

  #readLine(): ParsedItem | FinItem | null {
    const buf = this.#buf;
    const nl = buf.indexOf(10, this.#off);
    if (nl < 0) {
      if (this.#off === buf.length) {
        // Everything was parsed: an idle connection keeps no reference to its last read chunk.
        this.#buf = EMPTY;
        this.#off = 0;
        return null;
      }
      if (this.#avail() >= MAX_LINE_LENGTH) throw new SilentClose('line too long');
      return null;
    }
    if (nl - this.#off >= MAX_LINE_LENGTH) throw new SilentClose('line too long');
    let end = nl;
    if (end > this.#off && buf[end - 1] === 13) end--;
    // Fast path for the most frequent command on a busy consumer (see FinItem); any other
    // 16-byte ID takes the general path.
    const off = this.#off;
    if (end - off === 20 && buf[off] === 0x46 && buf[off + 1] === 0x49 && buf[off + 2] === 0x4e && buf[off + 3] === 0x20 && isHexId(buf, off + 4)) {
      this.#off = nl + 1;
      this.#fin.idHi = hex32FromBytes(buf, off + 4);
      this.#fin.idLo = hex32FromBytes(buf, off + 12);
      return this.#fin;
    }
    const line = buf.toString('latin1', this.#off, end);
    this.#off = nl + 1;
    const parts = line.split(' ');
    const name = parts[0]!;
    const params = parts.length > 1 ? parts.slice(1) : [];
    const kind = BODY_KINDS.get(name);
    if (kind === undefined) return { type: 'line', name, params, hasBody: false };
    this.#name = name;
    this.#params = params;
    this.#kind = kind;
    this.#state = State.AwaitAccept;
    return { type: 'line', name, params, hasBody: true };
  }

  #checkBodySize(size: number): void {
    const n = this.#name;
    const { maxBodySize, maxMsgSize } = this.#limits;
    switch (this.#kind) {
      case 'identify':
      case 'auth':
        if (size > maxBodySize) throw new ProtocolError('E_BAD_BODY', `${n} body too big ${size} > ${maxBodySize}`);
        if (size <= 0) throw new ProtocolError('E_BAD_BODY', `${n} invalid body size ${size}`);
        return;
      case 'mpub':
        if (size <= 0) throw new ProtocolError('E_BAD_BODY', `MPUB invalid body size ${size}`);
        if (size > maxBodySize) throw new ProtocolError('E_BAD_BODY', `MPUB body too big ${size} > ${maxBodySize}`);
        return;
      default:
        if (size <= 0) throw new ProtocolError('E_BAD_MESSAGE', `${n} invalid message body size ${size}`);
        if (size > maxMsgSize) throw new ProtocolError('E_BAD_MESSAGE', `${n} message too big ${size} > ${maxMsgSize}`);
    }
  }
}
