/** The bodies of one MPUB or /mpub request, laid out in one buffer and copied out one by one. */
export interface Bodies {
  readonly length: number;
  /**
   * Body `i` as its own buffer. A copy: a view would keep the whole batch in memory for as long
   * as any one of its messages waits in a queue.
   */
  copy(i: number): Buffer;
}

/** Every body of `b`, copied (tests and small batches). */
export function copyAll(b: Bodies): Buffer[] {
  const out = new Array<Buffer>(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.copy(i);
  return out;
}

/**
 * The message bodies of one MPUB (or /mpub request) laid out in one buffer, body `i` at
 * `[starts[i], ends[i])`: parsing a million one-byte messages then allocates no object per
 * message, which would otherwise all survive until the batch is published and make every
 * garbage collection in between copy them.
 */
export class BodyBatch implements Bodies {
  readonly #data: Buffer;
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly length: number;

  constructor(data: Buffer, starts: Int32Array, ends: Int32Array, length = starts.length) {
    this.#data = data;
    this.#starts = starts;
    this.#ends = ends;
    this.length = length;
  }

  copy(i: number): Buffer {
    return Buffer.from(this.#data.subarray(this.#starts[i]!, this.#ends[i]!));
  }
}

/** log2 of the offsets a builder keeps per chunk. */
const CHUNK_SHIFT = 12;
const CHUNK = 1 << CHUNK_SHIFT;

/** A BodyBatch whose offsets are in chunks of CHUNK entries (see BodyBatchBuilder). */
class ChunkedBodyBatch implements Bodies {
  readonly #data: Buffer;
  readonly #starts: Int32Array[];
  readonly #ends: Int32Array[];
  readonly length: number;

  constructor(data: Buffer, starts: Int32Array[], ends: Int32Array[], length: number) {
    this.#data = data;
    this.#starts = starts;
    this.#ends = ends;
    this.length = length;
  }

  copy(i: number): Buffer {
    const c = i >>> CHUNK_SHIFT;
    const k = i & (CHUNK - 1);
    return Buffer.from(this.#data.subarray(this.#starts[c]![k]!, this.#ends[c]![k]!));
  }
}

/**
 * Collects bodies whose number is not known in advance (the text /mpub body). Offsets go into
 * fixed-size chunks rather than a doubled array: growing to millions of entries would copy and
 * zero tens of MiB in one go, holding the event loop.
 */
export class BodyBatchBuilder {
  readonly #data: Buffer;
  readonly #starts: Int32Array[] = [];
  readonly #ends: Int32Array[] = [];
  #cur = CHUNK;
  #n = 0;

  constructor(data: Buffer) {
    this.#data = data;
  }

  add(start: number, end: number): void {
    if (this.#cur === CHUNK) {
      this.#starts.push(new Int32Array(CHUNK));
      this.#ends.push(new Int32Array(CHUNK));
      this.#cur = 0;
    }
    const c = this.#starts.length - 1;
    this.#starts[c]![this.#cur] = start;
    this.#ends[c]![this.#cur] = end;
    this.#cur++;
    this.#n++;
  }

  build(): Bodies {
    return new ChunkedBodyBatch(this.#data, this.#starts, this.#ends, this.#n);
  }
}
