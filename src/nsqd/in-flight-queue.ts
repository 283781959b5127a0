import { Message } from '../protocol/message.js';

const NO_BODY = Buffer.alloc(0);

/**
 * A channel's in-flight messages ordered by deadline (`message.priority`), the role of upstream's
 * in-flight priority queue (`nsqd/in_flight_pqueue.go`). Deadlines are `now + msg_timeout`, so
 * for one timeout they arrive in order: one list per timeout value, kept sorted by inserting from
 * the tail, makes delivery and FIN O(1) (a heap costs O(log n) scattered reads per FIN).
 * Lists are circular, through `message.qPrev` / `qNext` around a sentinel message (whose
 * priority holds the list's timeout); `message.qHead` is the sentinel of the list it is in.
 */
export class InFlightQueue {
  readonly #lists = new Map<number, Message>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `m`, due at `m.priority`, to the list of messages given `timeoutMs`. */
  push(m: Message, timeoutMs: number): void {
    let head = this.#lists.get(timeoutMs);
    if (head === undefined) {
      head = new Message(0, NO_BODY, 0, 0);
      head.priority = timeoutMs;
      head.qPrev = head.qNext = head;
      this.#lists.set(timeoutMs, head);
    }
    insertSorted(head, m);
    this.#size++;
  }

  /** Removes `m` (no-op if it is not queued). */
  remove(m: Message): void {
    const prev = m.qPrev;
    const next = m.qNext;
    if (prev === null || next === null) return;
    prev.qNext = next;
    next.qPrev = prev;
    m.qPrev = m.qNext = m.qHead = null;
    this.#size--;
  }

  /** Moves a queued message whose deadline changed (TOUCH) within its list. */
  update(m: Message): void {
    const head = m.qHead;
    if (head === null) return;
    this.remove(m);
    insertSorted(head, m);
    this.#size++;
  }

  /** Removes and returns the earliest message due by `max`, if any; empty lists are dropped. */
  popDue(max: number): Message | undefined {
    let best: Message | undefined;
    for (const head of this.#lists.values()) {
      const first = head.qNext!;
      if (first === head) {
        this.#lists.delete(head.priority);
        continue;
      }
      if (first.priority <= max && (best === undefined || first.priority < best.priority)) best = first;
    }
    if (best !== undefined) this.remove(best);
    return best;
  }

  /** Calls `visit` for every queued message (in-flight journal compaction). */
  forEach(visit: (m: Message) => void): void {
    for (const head of this.#lists.values()) {
      for (let m = head.qNext!; m !== head; m = m.qNext!) visit(m);
    }
  }

  /** Removes every message, ordered by delivery time. */
  drain(): Message[] {
    const out: Message[] = [];
    for (const head of this.#lists.values()) {
      for (let m = head.qNext!; m !== head; ) {
        const next = m.qNext!;
        m.qPrev = m.qNext = m.qHead = null;
        out.push(m);
        m = next;
      }
    }
    this.#lists.clear();
    this.#size = 0;
    return out.sort((a, b) => a.deliveryTs - b.deliveryTs);
  }
}

/** Inserts `m` after the last member due no later than it (usually the tail: no scan). */
function insertSorted(head: Message, m: Message): void {
  let after = head.qPrev!;
  while (after !== head && after.priority > m.priority) after = after.qPrev!;
  m.qPrev = after;
  m.qNext = after.qNext;
  after.qNext!.qPrev = m;
  after.qNext = m;
  m.qHead = head;
}
