/**
 * Request-latency status lines of nsq_to_http and nsq_to_nsq (bitly `timer_metrics`): every
 * `statusEvery` samples, log `<prefix> finished <n> - 99th: <x>ms - 95th: <y>ms - avg: <z>ms`
 * and start over. `statusEvery` 0 disables it.
 */

/** Go's timer_metrics percentile: index ceil(p/100·n + 0.5), capped at n−1, over sorted samples. */
export function percentile(perc: number, sorted: Float64Array | readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const idx = Math.min(Math.ceil((perc / 100) * n + 0.5), n - 1);
  // idx is in [0, n) for the 0–100 percentiles asked for.
  return sorted[idx]!;
}

/** Collects request durations and reports them every `statusEvery` samples through `log`. */
export class TimerMetrics {
  readonly #statusEvery: number;
  readonly #prefix: string;
  readonly #log: (line: string) => void;
  readonly #samples: Float64Array;
  #n = 0;

  constructor(statusEvery: number, prefix: string, log: (line: string) => void) {
    this.#statusEvery = statusEvery;
    this.#prefix = prefix;
    this.#log = log;
    this.#samples = new Float64Array(Math.max(0, statusEvery));
    if (statusEvery > 0 && statusEvery < 100) {
      log(`Warning: use more than 100 status values for accurate percentiles (configured with ${statusEvery})`);
    }
  }

  /** Records the time since `startMs` (a performance.now() value). */
  status(startMs: number): void {
    if (this.#statusEvery === 0) return;
    this.statusDuration(performance.now() - startMs);
  }

  /** Records one duration in milliseconds. */
  statusDuration(ms: number): void {
    if (this.#statusEvery === 0) return;
    this.#samples[this.#n++] = ms;
    if (this.#n < this.#statusEvery) return;
    const sorted = this.#samples.subarray(0, this.#n).sort();
    let total = 0;
    for (const ms of sorted) total += ms;
    this.#log(
      `${this.#prefix} finished ${this.#n} - 99th: ${percentile(99, sorted).toFixed(2)}ms - ` +
        `95th: ${percentile(95, sorted).toFixed(2)}ms - avg: ${(total / this.#n).toFixed(2)}ms`,
    );
    this.#n = 0;
  }
}
