// End-to-end processing latency (upstream `internal/quantile`). Upstream keeps perks "targeted quantile" streams;
// any estimator is allowed as long as the JSON shape matches, so this uses a log-linear histogram:
// O(1) recording, trivially mergeable, bounded memory, ≤ 1/128 relative error per value.

/** One reported percentile; `value` is nanoseconds. */
export interface PercentileValue {
  quantile: number;
  value: number;
}

/** The `e2e_processing_latency` object of /stats: `percentiles` is null when not configured or nothing to merge. */
export interface E2eResult {
  count: number;
  percentiles: PercentileValue[] | null;
}

// Values below 2^SUB_BITS get exact buckets; above, every power of two is split into 2^SUB_BITS
// equal buckets. Pages are allocated lazily because latencies cluster in a few octaves.
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const MAX_VALUE = 2 ** 53 - 1;
const PAGE_COUNT = 53 - SUB_BITS + 1;
const TWO_32 = 2 ** 32;
const POW2: number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/**
 * A mergeable latency histogram with bounded memory. Responsible for counting samples and answering
 * rank queries; it knows nothing about time.
 */
export class LatencyHistogram {
  readonly #pages: Array<Float64Array | undefined> = new Array(PAGE_COUNT);
  #count = 0;
  #min = Infinity;
  #max = -Infinity;

  get count(): number {
    return this.#count;
  }

  add(value: number): void {
    let v = value > 0 ? Math.floor(value) : 0; // NaN and clock skew count as 0
    if (v > MAX_VALUE) v = MAX_VALUE;
    let page: number;
    let slot: number;
    if (v < SUB) {
      page = 0;
      slot = v;
    } else {
      const e = v < TWO_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO_32));
      page = e - SUB_BITS + 1;
      slot = Math.floor(v / POW2[e - SUB_BITS]!) - SUB;
    }
    const counts = this.#pages[page] ?? (this.#pages[page] = new Float64Array(SUB));
    counts[slot]!++;
    this.#count++;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  reset(): void {
    if (this.#count === 0) return;
    for (const p of this.#pages) p?.fill(0);
    this.#count = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }

  /** Estimates the given quantiles (0 < q ≤ 1) over the union of `hists`; 0 for each when all are empty. */
  static quantiles(hists: readonly LatencyHistogram[], qs: readonly number[]): number[] {
    const result = new Array<number>(qs.length).fill(0);
    let count = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const h of hists) {
      count += h.#count;
      if (h.#min < min) min = h.#min;
      if (h.#max > max) max = h.#max;
    }
    if (count === 0 || qs.length === 0) return result;

    // Answer every quantile in one ascending walk over the buckets.
    const order = qs.map((_, i) => i).sort((a, b) => qs[a]! - qs[b]!);
    // The tiny shrink keeps e.g. 0.99 × 100 (= 99.00000000000001) at rank 99.
    const ranks = order.map((i) => Math.min(count, Math.max(1, Math.ceil(qs[i]! * count * (1 - 1e-12)))));
    let next = 0;
    let seen = 0;
    for (let page = 0; page < PAGE_COUNT && next < order.length; page++) {
      let any = false;
      for (const h of hists) if (h.#pages[page]) any = true;
      if (!any) continue;
      for (let slot = 0; slot < SUB && next < order.length; slot++) {
        for (const h of hists) seen += h.#pages[page]?.[slot] ?? 0;
        while (next < order.length && seen >= ranks[next]!) {
          const rank = ranks[next]!;
          result[order[next]!] = rank === count ? max : rank === 1 ? min : clamp(bucketValue(page, slot), min, max);
          next++;
        }
      }
    }
    return result;
  }
}

function bucketValue(page: number, slot: number): number {
  if (page <= 1) return page === 0 ? slot : SUB + slot;
  const width = POW2[page - 1]!;
  return (SUB + slot) * width + width / 2;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/**
 * nsqd's coarse rolling window of latency samples: two histograms each covering half of
 * `windowMs`; when a half elapses the older one is cleared and becomes current, so results cover
 * between one half and one full window. One instance per channel; `record` runs on every FIN.
 */
export class E2eLatency {
  readonly #halfMs: number;
  readonly #percentiles: readonly number[];
  readonly #now: () => number;
  readonly #hists: [LatencyHistogram, LatencyHistogram] = [new LatencyHistogram(), new LatencyHistogram()];
  #current = 0;
  #lastMove: number;
  #nextMove: number;

  /** `percentiles` in the configured (descending) order; `now` returns epoch ms. */
  constructor(windowMs: number, percentiles: readonly number[], now: () => number = Date.now) {
    this.#halfMs = Math.max(1, windowMs / 2);
    this.#percentiles = percentiles.slice();
    this.#now = now;
    this.#lastMove = now();
    this.#nextMove = this.#lastMove + this.#halfMs;
  }

  get percentiles(): readonly number[] {
    return this.#percentiles;
  }

  /** Adds one sample: now − message timestamp, in nanoseconds. */
  record(latencyNs: number): void {
    const t = this.#now();
    if (t > this.#nextMove) this.#advance(t);
    this.#hists[this.#current]!.add(latencyNs);
  }

  result(): E2eResult {
    return E2eLatency.merge([this], this.#percentiles);
  }

  /**
   * Combines several windows (a topic's channels) into one result in `percentiles` order.
   * An empty list, or no percentiles, gives `{count: 0, percentiles: null}` like upstream.
   */
  static merge(list: readonly E2eLatency[], percentiles: readonly number[]): E2eResult {
    if (list.length === 0 || percentiles.length === 0) return { count: 0, percentiles: null };
    const hists: LatencyHistogram[] = [];
    let count = 0;
    for (const w of list) {
      w.#advance(w.#now());
      for (const h of w.#hists) {
        hists.push(h);
        count += h.count;
      }
    }
    const values = LatencyHistogram.quantiles(hists, percentiles);
    return { count, percentiles: percentiles.map((quantile, i) => ({ quantile, value: values[i]! })) };
  }

  // Upstream moves one half at a time while `now` is past the current half; after ≥ 2 moves both
  // halves are empty, so the catch-up is done in one step.
  #advance(t: number): void {
    if (t <= this.#nextMove) return;
    const moves = Math.ceil((t - this.#lastMove) / this.#halfMs) - 1;
    if (moves >= 2) {
      this.#hists[0].reset();
      this.#hists[1].reset();
      this.#current ^= moves & 1;
    } else {
      this.#current ^= 1;
      this.#hists[this.#current]!.reset();
    }
    this.#lastMove += moves * this.#halfMs;
    this.#nextMove = this.#lastMove + this.#halfMs;
  }
}
