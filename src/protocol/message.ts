/**
 * An NSQ message and its byte layout, shared by the wire (frame type 2) and the disk queue:
 * `[int64 BE timestamp ns][uint16 BE attempts][16 ASCII hex id][body]` (docs/protocol.md, Message layout; upstream `nsqd/message.go`).
 *
 * The int64 timestamp is kept as two uint32 halves so that no BigInt is created per message and
 * a timestamp read from disk is written back byte for byte.
 */
export const MESSAGE_HEADER_SIZE = 26;
export const MESSAGE_ID_LENGTH = 16;
const TWO_32 = 4294967296;

export class Message {
  /** 16 lowercase hex chars. */
  id: string;
  body: Buffer;
  tsHi: number;
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
  /** Deferral requested at publish (DPUB / ?defer=), ms; 0 = none. */
  deferMs = 0;

  constructor(id: string, body: Buffer, tsHi: number, tsLo: number, attempts = 0) {
    this.id = id;
    this.body = body;
    this.tsHi = tsHi;
    this.tsLo = tsLo;
    this.attempts = attempts;
  }

  /** Timestamp in ns as a float (precise to ~256 ns: enough for latency math). */
  timestampNs(): number {
    return this.tsHi * TWO_32 + this.tsLo;
  }

  /** A fresh copy for another channel: same id, body (shared, immutable), timestamp, deferral. */
  copy(): Message {
    const m = new Message(this.id, this.body, this.tsHi, this.tsLo, this.attempts);
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
    buf.writeUInt32BE(this.tsLo, off + 4);
    buf.writeUInt16BE(this.attempts & 0xffff, off + 8);
    buf.write(this.id, off + 10, MESSAGE_ID_LENGTH, 'latin1');
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

/** The current wall clock in ns split into uint32 halves. */
export function nowTimestamp(): [number, number] {
  const ns = (performance.timeOrigin + performance.now()) * 1e6;
  const hi = Math.floor(ns / TWO_32);
  return [hi, Math.floor(ns - hi * TWO_32)];
}

export class MessageDecodeError extends Error {}

/**
 * Decodes a payload. The body is a view into `buf` (no copy): callers pass buffers they own.
 */
export function decodeMessage(buf: Buffer): Message {
  if (buf.length < MESSAGE_HEADER_SIZE) {
    throw new MessageDecodeError(`not enough data to decode valid message (${buf.length} < ${MESSAGE_HEADER_SIZE})`);
  }
  return new Message(
    buf.toString('latin1', 10, 26),
    buf.subarray(MESSAGE_HEADER_SIZE),
    buf.readUInt32BE(0),
    buf.readUInt32BE(4),
    buf.readUInt16BE(8),
  );
}
