/** How long a saturated consumer waits at most for its refill batch (ms). */
const REFILL_DELAY_MS = 5;

/**
 * When a saturated consumer (every RDY slot in flight) gets messages again. Real clients FIN
 * each message in its own write, so slots come back one or a few per read; refilling each at
 * once answers every small read with a small write, and both sides then spend their time in
 * system calls. Once saturated, a consumer is refilled when a sixteenth of its RDY is free (one
 * slot below RDY 32, so small-RDY consumers see no change), or after REFILL_DELAY_MS with
 * whatever is free, so a consumer that holds messages until more arrive still gets them.
 */
export class RefillWindow {
  readonly #onDue: () => void;
  #saturated = false;
  #timer: NodeJS.Timeout | null = null;

  /** `onDue`: the delay ran out; the owner asks its channel for a delivery pass. */
  constructor(onDue: () => void) {
    this.#onDue = onDue;
  }

  /** Every slot is in flight. */
  saturated(): void {
    this.#saturated = true;
  }

  /** May `free` slots (of `rdy`) be refilled now? Arms the delay when not. */
  mayRefill(free: number, rdy: number): boolean {
    if (!this.#saturated) return true;
    if (free >= rdy >>> 4) {
      this.#saturated = false;
      this.stop();
      return true;
    }
    this.#timer ??= setTimeout(this.#due, REFILL_DELAY_MS);
    return false;
  }

  stop(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  readonly #due = (): void => {
    this.#timer = null;
    this.#saturated = false;
    this.#onDue();
  };
}
