import { appendChunk, fillFrom } from './byte-stream.js';
import { ProtocolError } from './errors.js';

/**
 * Codec of the nsqlookupd TCP protocol V1 (upstream `nsqlookupd/lookup_protocol_v1.go`, docs/protocol.md), both directions, socket-free:
 *
 *   client → server: `"  V1"`, then text lines `NAME p1 p2\n`; IDENTIFY is followed by
 *                    `[int32 BE size][JSON]`.
 *   server → client: `[int32 BE size][data]` for every command, success or error
 *                    (no frame type, unlike nsqd's V2).
 *
 * The server-side parser is incremental and pull-based like the V2 `CommandParser`: the caller
 * decides whether a body-carrying line's body is read (`acceptBody`), because the original
 * answers `IDENTIFY` on an identified connection before reading any body.
 */
export const MAGIC_V1 = Buffer.from('  V1');

/** Longest command line accepted. Real lines are < 200 bytes; the original has no bound. */
export const MAX_LINE_LENGTH = 16384;

/** Largest IDENTIFY body accepted. nsqd sends ~250 bytes; the original has no bound. */
export const MAX_IDENTIFY_BODY = 1024 * 1024;

/** A parsed line (`hasBody` only for IDENTIFY) or, after `acceptBody`, the IDENTIFY body. */
export type LookupItem =
  | { type: 'line'; name: string; params: string[]; hasBody: boolean }
  | { type: 'body'; name: string; params: string[]; body: Buffer };

const enum State {
  Magic,
  Line,
  AwaitAccept,
  BodySize,
  Body,
}

/** Incremental parser of the client → server stream. Throws ProtocolError (all fatal). */
export class LookupCommandParser {
  readonly #maxLine: number;
  readonly #maxBody: number;
  #state: State = State.Magic;
  #buf: Buffer = Buffer.alloc(0);
  #off = 0;
  #magic = '';
  #name = '';
  #params: string[] = [];
  #target: Buffer | null = null;
  #filled = 0;

  constructor(limits: { maxLineLength?: number; maxBodySize?: number } = {}) {
    this.#maxLine = limits.maxLineLength ?? MAX_LINE_LENGTH;
    this.#maxBody = limits.maxBodySize ?? MAX_IDENTIFY_BODY;
  }

  /** The 4 magic bytes as received (latin1), once read; for the bad-magic log line. */
  get magic(): string {
    return this.#magic;
  }

  /** True until the 4 magic bytes have been read. */
  get awaitingMagic(): boolean {
    return this.#state === State.Magic;
  }

  push(chunk: Buffer): void {
    this.#buf = appendChunk(this.#buf, this.#off, chunk);
    this.#off = 0;
  }

  /** Proceed with the body of the `line` item just returned with `hasBody`. */
  acceptBody(): void {
    if (this.#state !== State.AwaitAccept) throw new Error('acceptBody() without a pending body command');
    this.#state = State.BodySize;
  }

  /** The next complete item, or null when more bytes are needed. */
  next(): LookupItem | null {
    for (;;) {
      switch (this.#state) {
        case State.Magic: {
          if (this.#avail() < 4) return null;
          this.#magic = this.#buf.toString('latin1', this.#off, this.#off + 4);
          const ok = this.#buf.compare(MAGIC_V1, 0, 4, this.#off, this.#off + 4) === 0;
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
          // The original allocates whatever it is told (and crashes on a negative size).
          if (size < 0) throw new ProtocolError('E_BAD_BODY', `${this.#name} invalid body size ${size}`);
          if (size > this.#maxBody) {
            throw new ProtocolError('E_BAD_BODY', `${this.#name} body too big ${size} > ${this.#maxBody}`);
          }
          this.#target = Buffer.allocUnsafe(size);
          this.#filled = 0;
          this.#state = State.Body;
          continue;
        }
        case State.Body: {
          const target = this.#target!;
          const n = fillFrom(this.#buf, this.#off, target, this.#filled);
          this.#filled += n;
          this.#off += n;
          if (this.#filled < target.length) return null;
          this.#target = null;
          this.#state = State.Line;
          return { type: 'body', name: this.#name, params: this.#params, body: target };
        }
      }
    }
  }

  /** The error the original answers when the stream ends at this point, if any. */
  eofError(): ProtocolError | null {
    switch (this.#state) {
      case State.BodySize:
        return new ProtocolError('E_BAD_BODY', `${this.#name} failed to read body size`);
      case State.Body:
        return new ProtocolError('E_BAD_BODY', `${this.#name} failed to read body`);
      default:
        return null;
    }
  }

  #avail(): number {
    return this.#buf.length - this.#off;
  }

  #readLine(): LookupItem | null {
    const buf = this.#buf;
    const nl = buf.indexOf(10, this.#off);
    if (nl < 0) {
      if (this.#avail() > this.#maxLine) throw new ProtocolError('E_INVALID', 'line too long');
      return null;
    }
    if (nl - this.#off > this.#maxLine) throw new ProtocolError('E_INVALID', 'line too long');
    const [start, end] = trimGoSpace(buf, this.#off, nl);
    // latin1 keeps every byte, so names echoed in error texts come back byte for byte.
    const parts = buf.toString('latin1', start, end).split(' ');
    this.#off = nl + 1;
    const name = parts[0]!;
    const params = parts.length > 1 ? parts.slice(1) : [];
    if (name !== 'IDENTIFY') return { type: 'line', name, params, hasBody: false };
    this.#name = name;
    this.#params = params;
    this.#state = State.AwaitAccept;
    return { type: 'line', name, params, hasBody: true };
  }
}

/**
 * Go's `strings.TrimSpace` on raw bytes: strips Unicode white space (ASCII \t\n\v\f\r and space,
 * and the UTF-8 forms of U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000) from both ends. Returns the trimmed [start, end).
 */
export function trimGoSpace(buf: Uint8Array, start: number, end: number): [number, number] {
  for (;;) {
    const n = spaceAt(buf, start, end);
    if (n === 0) break;
    start += n;
  }
  for (;;) {
    const n = spaceEndingAt(buf, start, end);
    if (n === 0) break;
    end -= n;
  }
  return [start, end];
}

/** Length of the white-space rune starting at `i` (0 if none). */
function spaceAt(b: Uint8Array, i: number, end: number): number {
  if (i >= end) return 0;
  const c = b[i]!;
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return 1;
  if (c === 0xc2 && i + 1 < end && (b[i + 1] === 0x85 || b[i + 1] === 0xa0)) return 2;
  if (i + 2 < end && isSpace3(c, b[i + 1]!, b[i + 2]!)) return 3;
  return 0;
}

/** Length of the white-space rune ending just before `end` (0 if none). */
function spaceEndingAt(b: Uint8Array, start: number, end: number): number {
  if (end <= start) return 0;
  const c = b[end - 1]!;
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return 1;
  if (end - 2 >= start && b[end - 2] === 0xc2 && (c === 0x85 || c === 0xa0)) return 2;
  if (end - 3 >= start && isSpace3(b[end - 3]!, b[end - 2]!, c)) return 3;
  return 0;
}

function isSpace3(a: number, b: number, c: number): boolean {
  if (a === 0xe1) return b === 0x9a && c === 0x80; // U+1680
  if (a === 0xe2 && b === 0x80) return (c >= 0x80 && c <= 0x8a) || c === 0xa8 || c === 0xa9 || c === 0xaf;
  if (a === 0xe2 && b === 0x81) return c === 0x9f; // U+205F
  if (a === 0xe3) return b === 0x80 && c === 0x80; // U+3000
  return false;
}

/** Server → client response: `[int32 BE size][data]`. Strings are UTF-8. */
export function encodeLookupResponse(data: string | Uint8Array): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** The error response for `err`; latin1 so that names echoed from the request keep their bytes. */
export function encodeLookupError(err: ProtocolError): Buffer {
  return encodeLookupResponse(Buffer.from(err.wireBody(), 'latin1'));
}

export const RESPONSE_OK = encodeLookupResponse('OK');

/** Client → server command: `NAME p1 p2\n`, plus `[int32 BE size][body]` when a body is given. */
export function encodeLookupCommand(name: string, params: readonly string[] = [], body?: Uint8Array): Buffer {
  const line = Buffer.from(params.length > 0 ? `${name} ${params.join(' ')}\n` : `${name}\n`, 'utf8');
  if (body === undefined) return line;
  const out = Buffer.allocUnsafe(line.length + 4 + body.length);
  line.copy(out, 0);
  out.writeInt32BE(body.length, line.length);
  out.set(body, line.length + 4);
  return out;
}

/** A response the client refuses to read (size out of bounds). */
export class LookupResponseError extends Error {
  override readonly name = 'LookupResponseError';
}

/** Incremental decoder of server → client responses (used by nsqd's lookup peer and tests). */
export class LookupResponseDecoder {
  readonly #limit: number;
  #buf: Buffer = Buffer.alloc(0);
  #off = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#buf = appendChunk(this.#buf, this.#off, chunk);
    this.#off = 0;
  }

  /** The next whole response (a view into the pushed bytes), or null when more bytes are needed. */
  next(): Buffer | null {
    if (this.#buf.length - this.#off < 4) return null;
    const size = this.#buf.readInt32BE(this.#off);
    if (size > this.#limit) {
      throw new LookupResponseError(`response body size (${size}) is greater than limit (${this.#limit})`);
    }
    if (size < 0) throw new LookupResponseError(`invalid response body size (${size})`);
    if (this.#buf.length - this.#off - 4 < size) return null;
    const data = this.#buf.subarray(this.#off + 4, this.#off + 4 + size);
    this.#off += 4 + size;
    return data;
  }
}
