import { idKey } from '../protocol/message-id.js';
import type { Message } from '../protocol/message.js';

const MIN_BUCKETS = 64;

/**
 * Messages by ID (a channel's in-flight and deferred sets, upstream `nsqd/channel.go`
 * inFlightMessages / deferredMessages): a hash table keyed by an integer made from the ID's halves
 * rather than by its text, so no string is made or hashed per delivery or FIN. Buckets chain
 * through `message.idNext` (no entry objects), so a message is in at most one map at a time.
 * The table doubles when it holds more messages than buckets and halves when it is mostly empty.
 */
export class MessageIdMap {
  #buckets: Array<Message | null> = new Array<Message | null>(MIN_BUCKETS).fill(null);
  #mask = MIN_BUCKETS - 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `m` (an ID already present stays findable: the newest is found first). */
  add(m: Message): void {
    if (this.#size >= this.#buckets.length) this.#resize(this.#buckets.length * 2);
    const i = idKey(m.idHi, m.idLo) & this.#mask;
    m.idNext = this.#buckets[i]!;
    this.#buckets[i] = m;
    this.#size++;
  }

  /** The message with this ID (halves, and text when not hex: see message-id.ts), if any. */
  get(hi: number, lo: number, raw: string | null): Message | undefined {
    for (let m: Message | null = this.#buckets[idKey(hi, lo) & this.#mask]!; m !== null; m = m.idNext) {
      if (m.idLo === lo && m.idHi === hi && m.idRaw === raw) return m;
    }
    return undefined;
  }

  /** Whether a message with the ID of `m` is held. */
  hasId(m: Message): boolean {
    return this.get(m.idHi, m.idLo, m.idRaw) !== undefined;
  }

  /** Removes `m` itself; false if it was not held. */
  delete(m: Message): boolean {
    const i = idKey(m.idHi, m.idLo) & this.#mask;
    let prev: Message | null = null;
    for (let cur: Message | null = this.#buckets[i]!; cur !== null; prev = cur, cur = cur.idNext) {
      if (cur !== m) continue;
      if (prev === null) this.#buckets[i] = m.idNext;
      else prev.idNext = m.idNext;
      m.idNext = null;
      this.#size--;
      if (this.#buckets.length > MIN_BUCKETS && this.#size < this.#buckets.length >> 3) this.#resize(this.#buckets.length >> 1);
      return true;
    }
    return false;
  }

  clear(): void {
    for (const head of this.#buckets) {
      for (let m = head; m !== null; ) {
        const next: Message | null = m.idNext;
        m.idNext = null;
        m = next;
      }
    }
    this.#buckets = new Array<Message | null>(MIN_BUCKETS).fill(null);
    this.#mask = MIN_BUCKETS - 1;
    this.#size = 0;
  }

  #resize(n: number): void {
    const old = this.#buckets;
    const buckets = new Array<Message | null>(n).fill(null);
    const mask = n - 1;
    for (const head of old) {
      for (let m = head; m !== null; ) {
        const next: Message | null = m.idNext;
        const i = idKey(m.idHi, m.idLo) & mask;
        m.idNext = buckets[i]!;
        buckets[i] = m;
        m = next;
      }
    }
    this.#buckets = buckets;
    this.#mask = mask;
  }
}
