import { idText } from '../protocol/message-id.js';

/**
 * Snowflake-style message IDs (upstream `nsqd/guid.go`): ((ts - epoch) << 22) | (nodeId << 12) | seq, with
 * ts = unix ns >> 20, rendered as 16 lowercase hex chars. One factory per topic.
 * Plain doubles are enough: ts - epoch needs ~40 bits, so the id is built as two 32-bit halves
 * (int32s, as message-id.ts holds them).
 */
const TWEPOCH = 1288834974288;
const SEQ_MASK = 0xfff;
const TWO_20 = 1048576;

/**
 * Unlike the original, the factory never fails: when the clock goes backwards or 4096 ids were
 * handed out within one tick, it borrows the next tick (a logical clock), so publishers never
 * stall and ids stay unique and increasing per topic.
 */
export class GuidFactory {
  readonly #nodeBits: number;
  #lastTs = 0;
  #seq = 0;
  /** Halves of the ID made by the last advance(), as int32s (message-id.ts). */
  hi = 0;
  lo = 0;

  constructor(nodeId: number) {
    this.#nodeBits = (nodeId & 0x3ff) << 12;
  }

  /** The next ID as 16 hex chars. */
  next(nowNs?: number): string {
    this.advance(nowNs);
    return idText(this.hi, this.lo);
  }

  /** Makes the next ID, left in `hi` and `lo` (no string made). */
  advance(nowNs = (performance.timeOrigin + performance.now()) * 1e6): void {
    let ts = Math.floor(nowNs / TWO_20);
    if (ts <= this.#lastTs) {
      ts = this.#lastTs;
      this.#seq = (this.#seq + 1) & SEQ_MASK;
      if (this.#seq === 0) ts++;
    } else {
      this.#seq = 0;
    }
    this.#lastTs = ts;
    const d = ts - TWEPOCH;
    this.hi = Math.floor(d / 1024) | 0;
    this.lo = ((d % 1024) << 22) | this.#nodeBits | this.#seq;
  }
}
