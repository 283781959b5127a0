/**
 * An NSQ message and its byte layout, shared by the wire (frame type 2) and the disk queue:
 * `[int64 BE timestamp ns][uint16 BE attempts][16 ASCII hex id][body]` (docs/protocol.md, Message layout; upstream `nsqd/message.go`).
 *
 * The int64 timestamp is kept as two 32-bit halves so that no BigInt is created per message and
 * a timestamp read from disk is written back byte for byte; the low half as a signed int32, as
 * the ID's halves (message-id.ts), so that it is a small integer to V8, not a boxed number.
 */
import { hex32FromBytes, idRefFromText, idRefText, isHexId, type MessageIdRef, writeHex32 } from './message-id.js';

export const MESSAGE_HEADER_SIZE = 26;
export const MESSAGE_ID_LENGTH = 16;
const TWO_32 = 4294967296;

export class Message implements MessageIdRef {
  /**
   * The ID's halves (see message-id.ts): the 32 bits each 8 hex digits spell, as int32s, or, for
   * an ID that is not lowercase hex (`idRaw` set), a hash of its text.
   */
  idHi: number;
  idLo: number;
  /** The ID's text when it is not 16 lowercase hex digits, else null. */
  idRaw: string | null;
  body: Buffer;
  /** Timestamp (ns since the epoch): high 32 bits, unsigned. */
  tsHi: number;
  /** Timestamp: low 32 bits as an int32 (`>>> 0` gives the unsigned value). */
  tsLo: number;
  attempts: number;

  // Delivery bookkeeping, owned by the channel that holds this copy.
  /** Connection id of the consumer the message is in flight to (0 = none). */
  clientId = 0;
  /** Epoch ms the message was last delivered. */
  deliveryTs = 0;
  /** Epoch ms of the in-flight deadline or the deferred due time (the heap priority). */
  priority = 0;
  /** Position in the in-flight or deferred heap, -1 when in neither. */
  heapIndex = -1;
  /** Neighbours in, and sentinel of, an in-flight list (nsqd/in-flight-queue.ts); null when in none. */
  qPrev: Message | null = null;
  qNext: Message | null = null;
  qHead: Message | null = null;
  /** The next message under the same key in a MessageIdMap (nsqd/message-id-map.ts). */
  idNext: Message | null = null;
  /** Deferral requested at publish (DPUB / ?defer=), ms; 0 = none. */
  deferMs = 0;

  /** `id` is the ID's text, or its high half with `idLo` the low half (no text made). */
  constructor(id: string | number, body: Buffer, tsHi: number, tsLo: number, attempts = 0, idLo = 0) {
    if (typeof id === 'number') {
      this.idHi = id | 0;
      this.idLo = idLo | 0;
      this.idRaw = null;
    } else {
      const ref = idRefFromText(id);
      this.idHi = ref.idHi;
      this.idLo = ref.idLo;
      this.idRaw = ref.idRaw;
    }
    this.body = body;
    this.tsHi = tsHi;
    this.tsLo = tsLo | 0;
    this.attempts = attempts;
  }

  /** The ID's text (made on demand: logs, clients, tests). */
  get id(): string {
    return idRefText(this);
  }

  /** Timestamp in ns as a float (precise to ~256 ns: enough for latency math). */
  timestampNs(): number {
    return this.tsHi * TWO_32 + (this.tsLo >>> 0);
  }

  /** A fresh copy for another channel: same id, body (shared, immutable), timestamp, deferral. */
  copy(): Message {
    const m = new Message(this.idHi, this.body, this.tsHi, this.tsLo, this.attempts, this.idLo);
    m.idRaw = this.idRaw;
    m.deferMs = this.deferMs;
    return m;
  }

  /** Size of the encoded payload (header + body). */
  encodedSize(): number {
    return MESSAGE_HEADER_SIZE + this.body.length;
  }

  /** Writes the 26-byte header and the body at `off`; returns the new offset. */
  writeTo(buf: Buffer, off: number): number {
    buf.writeUInt32BE(this.tsHi, off);
    buf.writeInt32BE(this.tsLo, off + 4);
    buf.writeUInt16BE(this.attempts & 0xffff, off + 8);
    if (this.idRaw === null) {
      writeHex32(buf, off + 10, this.idHi);
      writeHex32(buf, off + 18, this.idLo);
    } else {
      buf.write(this.idRaw, off + 10, MESSAGE_ID_LENGTH, 'latin1');
    }
    this.body.copy(buf, off + MESSAGE_HEADER_SIZE);
    return off + MESSAGE_HEADER_SIZE + this.body.length;
  }

  /** The payload as one new buffer (disk records). */
  encode(): Buffer {
    const out = Buffer.allocUnsafe(this.encodedSize());
    this.writeTo(out, 0);
    return out;
  }
}

/** The current wall clock in ns split into halves (the low one as an int32, see Message). */
export function nowTimestamp(): [number, number] {
  const ns = (performance.timeOrigin + performance.now()) * 1e6;
  const hi = Math.floor(ns / TWO_32);
  return [hi, Math.floor(ns - hi * TWO_32) | 0];
}

export class MessageDecodeError extends Error {}

/**
 * Decodes a payload. The body is a view into `buf` (no copy): callers pass buffers they own.
 */
export function decodeMessage(buf: Buffer): Message {
  if (buf.length < MESSAGE_HEADER_SIZE) {
    throw new MessageDecodeError(`not enough data to decode valid message (${buf.length} < ${MESSAGE_HEADER_SIZE})`);
  }
  const body = buf.subarray(MESSAGE_HEADER_SIZE);
  const tsHi = buf.readUInt32BE(0);
  const tsLo = buf.readInt32BE(4);
  const attempts = buf.readUInt16BE(8);
  if (!isHexId(buf, 10)) return new Message(buf.toString('latin1', 10, 26), body, tsHi, tsLo, attempts);
  return new Message(hex32FromBytes(buf, 10), body, tsHi, tsLo, attempts, hex32FromBytes(buf, 18));
}
