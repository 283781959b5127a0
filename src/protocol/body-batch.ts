/**
 * The message bodies of one MPUB (or /mpub request) laid out in one buffer, body `i` at
 * `[starts[i], ends[i])`: parsing a million one-byte messages then allocates no object per
 * message, which would otherwise all survive until the batch is published and make every
 * garbage collection in between copy them.
 */
export class BodyBatch {
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

  /**
   * Body `i` as its own buffer. A copy: a view would keep the whole batch in memory for as long
   * as any one of its messages waits in a queue.
   */
  copy(i: number): Buffer {
    return Buffer.from(this.#data.subarray(this.#starts[i]!, this.#ends[i]!));
  }

  /** Every body, copied (tests and small batches). */
  toArray(): Buffer[] {
    const out = new Array<Buffer>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.copy(i);
    return out;
  }
}

/** Collects bodies whose number is not known in advance (the text /mpub body). */
export class BodyBatchBuilder {
  readonly #data: Buffer;
  #starts = new Int32Array(1024);
  #ends = new Int32Array(1024);
  #n = 0;

  constructor(data: Buffer) {
    this.#data = data;
  }

  add(start: number, end: number): void {
    if (this.#n === this.#starts.length) {
      const starts = new Int32Array(this.#n * 2);
      starts.set(this.#starts);
      this.#starts = starts;
      const ends = new Int32Array(this.#n * 2);
      ends.set(this.#ends);
      this.#ends = ends;
    }
    this.#starts[this.#n] = start;
    this.#ends[this.#n] = end;
    this.#n++;
  }

  build(): BodyBatch {
    return new BodyBatch(this.#data, this.#starts, this.#ends, this.#n);
  }
}
