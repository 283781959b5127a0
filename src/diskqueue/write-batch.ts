/**
 * Coalesces disk-queue writes: records are appended to per-queue pending buffers and written with
 * one positional write per queue per batch instead of one per record. The daemon owns one batch
 * and lends it to every queue it creates; callers that acknowledge a publish flush it first, so
 * nothing is acknowledged before the kernel has it, and a microtask flushes whatever is left at
 * the end of the current turn.
 */

/** A queue with records held back for the next batch write. */
export interface BatchedWriter {
  readonly name: string;
  /** Writes the held records; the error (already logged by the queue) when that failed. */
  flushPending(): Error | null;
}

/** One queue's failed batch write: its records were dropped, as if never put. */
export interface WriteFailure {
  readonly name: string;
  readonly error: Error;
}

/** The queues with pending records, written together at the next flush. */
export class WriteBatch {
  #dirty: BatchedWriter[] = [];
  #late: BatchedWriter[] = [];
  #queued = false;

  /** `w` holds records now; it is written at the next flush, at the latest at the end of the turn. */
  add(w: BatchedWriter): void {
    this.#dirty.push(w);
    this.#queue();
  }

  /**
   * As add(), but `w` is written after every queue added with add(): a journal that records a
   * message leaving it (nsqd's in-flight journal) lands after the queue write that took it over.
   */
  addLate(w: BatchedWriter): void {
    this.#late.push(w);
    this.#queue();
  }

  #queue(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(this.#flushQueued);
  }

  #flushQueued = (): void => {
    this.#queued = false;
    this.flush();
  };

  /** Writes every pending queue; the failures, or null when all writes went through. */
  flush(): WriteFailure[] | null {
    if (this.#dirty.length === 0 && this.#late.length === 0) return null;
    let failures: WriteFailure[] | null = null;
    if (this.#dirty.length !== 0) {
      const list = this.#dirty;
      this.#dirty = [];
      failures = flushAll(list, failures);
    }
    if (this.#late.length !== 0) {
      const list = this.#late;
      this.#late = [];
      failures = flushAll(list, failures);
    }
    return failures;
  }
}

function flushAll(list: readonly BatchedWriter[], failures: WriteFailure[] | null): WriteFailure[] | null {
  for (const w of list) {
    const error = w.flushPending();
    if (error !== null) (failures ??= []).push({ name: w.name, error });
  }
  return failures;
}
