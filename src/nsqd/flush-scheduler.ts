/**
 * Coalesces output flushes to once per event-loop turn: message frames written while handling
 * one batch of socket input go out in one write per connection (the role the original's
 * output_buffer_timeout ticker plays, with lower latency). The daemon owns one scheduler and
 * lends it to its connections.
 */
export interface Flushable {
  flushScheduled(): void;
}

/** The connections with output waiting for the end of the current turn. */
export class FlushScheduler {
  #pending: Flushable[] = [];
  #scheduled = false;

  #run = (): void => {
    this.#scheduled = false;
    const list = this.#pending;
    this.#pending = [];
    for (const f of list) f.flushScheduled();
  };

  /** `f` is flushed once, after the I/O of the current turn. */
  schedule(f: Flushable): void {
    this.#pending.push(f);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }
}
