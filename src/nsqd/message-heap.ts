import type { Message } from '../protocol/message.js';

/**
 * A binary min-heap of messages ordered by `message.priority` (epoch ms), with each message's
 * position kept in `message.heapIndex` so FIN/REQ/TOUCH remove it in O(log n).
 * One per channel for in-flight deadlines and one for deferred due times (upstream `nsqd/in_flight_pqueue.go`, `internal/pqueue`).
 */
export class MessageHeap {
  #items: Message[] = [];

  get length(): number {
    return this.#items.length;
  }

  push(m: Message): void {
    m.heapIndex = this.#items.length;
    this.#items.push(m);
    this.#up(m.heapIndex);
  }

  peek(): Message | undefined {
    return this.#items[0];
  }

  /** Removes and returns the first message whose priority is <= max, if any. */
  popDue(max: number): Message | undefined {
    const top = this.#items[0];
    if (top === undefined || top.priority > max) return undefined;
    this.remove(top);
    return top;
  }

  remove(m: Message): void {
    const i = m.heapIndex;
    const items = this.#items;
    if (i < 0 || items[i] !== m) return;
    const last = items.pop()!;
    m.heapIndex = -1;
    if (i < items.length) {
      items[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
  }

  /** Re-positions a message whose priority changed. */
  update(m: Message): void {
    this.#down(m.heapIndex);
    this.#up(m.heapIndex);
  }

  /** Calls `visit` for every message (heap order). */
  forEach(visit: (m: Message) => void): void {
    for (const m of this.#items) visit(m);
  }

  /** Removes every message (heap order). */
  drain(): Message[] {
    const out = this.#items;
    for (const m of out) m.heapIndex = -1;
    this.#items = [];
    return out;
  }

  #up(i: number): void {
    const items = this.#items;
    const m = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (parent.priority <= m.priority) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = m;
    m.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const m = items[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && items[c + 1]!.priority < items[c]!.priority) c++;
      const child = items[c]!;
      if (child.priority >= m.priority) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = m;
    m.heapIndex = i;
  }
}
