/**
 * Server → client frames (docs/protocol.md, Frames; upstream `internal/protocol/protocol.go`): `[int32 size][int32 type][data]`, size = 4 + data.
 * Pure encode/decode; the decoder is incremental (used by our client and by tests).
 */
import { appendChunk } from './byte-stream.js';

export const FRAME_TYPE_RESPONSE = 0;
export const FRAME_TYPE_ERROR = 1;
export const FRAME_TYPE_MESSAGE = 2;

export function encodeFrame(type: number, data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(8 + body.length);
  out.writeInt32BE(4 + body.length, 0);
  out.writeInt32BE(type, 4);
  out.set(body, 8);
  return out;
}

export const encodeResponse = (data: Uint8Array | string) => encodeFrame(FRAME_TYPE_RESPONSE, data);
export const encodeError = (data: Uint8Array | string) => encodeFrame(FRAME_TYPE_ERROR, data);

export const FRAME_OK = encodeResponse('OK');
export const FRAME_HEARTBEAT = encodeResponse('_heartbeat_');
export const FRAME_CLOSE_WAIT = encodeResponse('CLOSE_WAIT');

/** One decoded frame. `data` is a view: copy it if you keep it past the next push. */
export interface Frame {
  type: number;
  data: Buffer;
}

export class FrameDecodeError extends Error {}

/**
 * Incremental frame decoder: feed socket chunks, get whole frames.
 * Keeps at most one partial frame; never concatenates the whole stream.
 */
export class FrameDecoder {
  #buf: Buffer = Buffer.alloc(0);
  #off = 0;
  readonly #maxFrameSize: number;

  constructor(maxFrameSize = 64 * 1024 * 1024) {
    this.#maxFrameSize = maxFrameSize;
  }

  push(chunk: Buffer): Frame[] {
    this.#buf = appendChunk(this.#buf, this.#off, chunk);
    this.#off = 0;
    const frames: Frame[] = [];
    const buf = this.#buf;
    while (buf.length - this.#off >= 4) {
      const size = buf.readInt32BE(this.#off);
      if (size < 4 || size > this.#maxFrameSize) {
        throw new FrameDecodeError(size === 1213486160 ? 'unexpected HTTP response: connected to an HTTP port?' : `invalid frame size ${size}`);
      }
      if (buf.length - this.#off < 4 + size) break;
      const type = buf.readInt32BE(this.#off + 4);
      frames.push({ type, data: buf.subarray(this.#off + 8, this.#off + 4 + size) });
      this.#off += 4 + size;
    }
    return frames;
  }
}
