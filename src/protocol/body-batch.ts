/**
 * The message bodies of one MPUB (or /mpub request) laid out in one buffer, body `i` at
 * `[starts[i], ends[i])`: parsing a million one-byte messages then allocates no object per
 * message, which would otherwise all survive until the batch is published and make every
 * garbage collection in between copy them.
 */
export class BodyBatch {
  readonly #data: Buffer;
  // Offsets in chunks of 2^#shift entries (one chunk when built from single arrays).
  readonly #starts: Int32Array[];
  readonly #ends: Int32Array[];
  readonly #shift: number;
  readonly #mask: number;
  readonly length: number;

  constructor(data: Buffer, starts: Int32Array | Int32Array[], ends: Int32Array | Int32Array[], length?: number, chunkShift = 31) {
    this.#data = data;
    this.#starts = Array.isArray(starts) ? starts : [starts];
    this.#ends = Array.isArray(ends) ? ends : [ends];
    this.#shift = chunkShift;
    this.#mask = chunkShift === 31 ? 0x7fffffff : (1 << chunkShift) - 1;
    this.length = length ?? (Array.isArray(starts) ? 0 : starts.length);
  }

  /**
   * Body `i` as its own buffer. A copy: a view would keep the whole batch in memory for as long
   * as any one of its messages waits in a queue.
   */
  copy(i: number): Buffer {
    const c = i >>> this.#shift;
    const k = i & this.#mask;
    return Buffer.from(this.#data.subarray(this.#starts[c]![k]!, this.#ends[c]![k]!));
  }

  /** Every body, copied (tests and small batches). */
  toArray(): Buffer[] {
    const out = new Array<Buffer>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.copy(i);
    return out;
  }
}

/** log2 of the offsets a builder keeps per chunk. */
const CHUNK_SHIFT = 12;
const CHUNK = 1 << CHUNK_SHIFT;

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

  build(): BodyBatch {
    return new BodyBatch(this.#data, this.#starts, this.#ends, this.#n, CHUNK_SHIFT);
  }
}
