// Raw DEFLATE (RFC 1951, no zlib/gzip wrapper) as nsqd uses it after a granted `deflate` IDENTIFY
// (docs/protocol.md, Upgrades): Go's compress/flate on both sides, every server flush a sync flush.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

/** Receives bytes produced by a deflate/inflate stream, in order. */
export type ByteSink = (chunk: Buffer) => void;
/** Receives the first error of a stream; nothing is emitted after it. */
export type ErrorSink = (err: Error) => void;

/**
 * Compresses one connection's outgoing bytes. `write` queues data; `flush` ends the current
 * batch with a DEFLATE sync flush (`00 00 ff ff`) so the peer can decode everything written so
 * far. Compressed output arrives asynchronously (zlib runs off-thread) via `onData`, in order.
 */
export class DeflateStreamWriter {
  readonly #z: DeflateRaw;
  #closed = false;

  /** `level` 1-9 (the negotiated deflate_level). */
  constructor(level: number, onData: ByteSink, onError: ErrorSink) {
    this.#z = createDeflateRaw({ level });
    this.#z.on('data', onData);
    this.#z.once('error', (err) => {
      this.#closed = true;
      onError(err);
    });
  }

  write(data: Uint8Array): void {
    if (this.#closed || data.length === 0) return;
    this.#z.write(data);
  }

  /** Emits everything written so far; `done` runs after the flushed bytes were handed to `onData`. */
  flush(done?: () => void): void {
    if (this.#closed) return;
    this.#z.flush(constants.Z_SYNC_FLUSH, () => done?.());
  }

  /** Bytes written but not yet compressed; lets the connection apply back-pressure. */
  get pending(): number {
    return this.#z.writableLength;
  }

  /** Drops pending output and releases the zlib handle. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#z.destroy();
  }
}

/**
 * Decompresses one connection's incoming raw-DEFLATE bytes. Pieces may split the stream anywhere;
 * output arrives asynchronously via `onData`, in order. A corrupt stream reports once via `onError`.
 */
export class InflateStreamReader {
  readonly #z: InflateRaw;
  #closed = false;

  constructor(onData: ByteSink, onError: ErrorSink) {
    this.#z = createInflateRaw();
    this.#z.on('data', onData);
    this.#z.once('error', (err) => {
      this.#closed = true;
      onError(err);
    });
  }

  push(chunk: Uint8Array): void {
    if (this.#closed || chunk.length === 0) return;
    this.#z.write(chunk);
  }

  /** Pauses/resumes output, for back-pressure from the command parser. */
  pause(): void {
    this.#z.pause();
  }

  resume(): void {
    this.#z.resume();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#z.destroy();
  }
}
