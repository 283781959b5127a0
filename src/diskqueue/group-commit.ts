import type { WriteFailure } from './write-batch.js';

/**
 * Something whose writes can be made durable: a disk queue (fsync its segment, persist its meta
 * file) or nsqd's metadata file.
 */
export interface Committable {
  readonly name: string;
  /**
   * Makes everything written so far durable. The state to persist is captured synchronously in
   * this call; the slow part (fsync) runs off the event loop. Resolves with the error (already
   * logged) when that failed, never rejects.
   */
  commit(): Promise<Error | null>;
}

/** Commits that may run at once (each covers what was written before it started). */
const MAX_COMMITS_IN_FLIGHT = 3;

/**
 * Group commit for durable publishing (--sync-every=1): instead of one fsync per message inside
 * the event loop, every publish of one event-loop turn — and of all turns while the previous
 * commit runs — waits for one shared commit: each dirty queue is fsynced once (libuv's thread
 * pool) and its meta file persisted once, then all of them are answered. The daemon owns one
 * instance and lends it to its queues.
 */
export class GroupCommit {
  #dirty = new Set<Committable>();
  #waiters: Array<(failures: WriteFailure[]) => void> = [];
  #running = 0;
  #scheduled = false;
  #background = 0;
  #idle: Array<() => void> = [];

  /** `c` has changes to commit: they go into the next commit. */
  mark(c: Committable): void {
    this.#dirty.add(c);
    this.#schedule();
  }

  /**
   * Resolves once a commit that started after this call has finished, i.e. everything written
   * (to the kernel) before it is durable; with the participants whose commit failed.
   */
  durable(): Promise<WriteFailure[]> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#schedule();
    });
  }

  /** Work that follows a commit (a meta file write): settled() waits for it too. */
  track(p: Promise<unknown>): void {
    this.#background++;
    const done = () => {
      this.#background--;
      this.#maybeIdle();
    };
    p.then(done, done);
  }

  /** Resolves when no commit (nor tracked work) is running or due (used on shutdown). */
  settled(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #isIdle(): boolean {
    return this.#running === 0 && !this.#scheduled && this.#background === 0;
  }

  #schedule(): void {
    if (this.#running >= MAX_COMMITS_IN_FLIGHT || this.#scheduled) return;
    this.#scheduled = true;
    // At the end of the turn, so every publish handled in it joins the same commit.
    setImmediate(this.#run);
  }

  #run = (): void => {
    this.#scheduled = false;
    if (this.#dirty.size === 0 && this.#waiters.length === 0) {
      this.#maybeIdle();
      return;
    }
    this.#running++;
    const parts = [...this.#dirty];
    this.#dirty.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    void Promise.all(parts.map((p) => p.commit())).then((errors) => {
      const failures: WriteFailure[] = [];
      for (let i = 0; i < parts.length; i++) {
        const error = errors[i];
        if (error) failures.push({ name: parts[i]!.name, error });
      }
      this.#running--;
      for (const w of waiters) w(failures);
      if (this.#dirty.size !== 0 || this.#waiters.length !== 0) this.#schedule();
      else this.#maybeIdle();
    });
    // Publishers answered by a commit send their next message while the following one runs:
    // letting a few commits overlap keeps the disk busy instead of idling between groups.
    if (this.#dirty.size !== 0 || this.#waiters.length !== 0) this.#schedule();
  };

  #maybeIdle(): void {
    if (!this.#isIdle()) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const f of idle) f();
  }
}
