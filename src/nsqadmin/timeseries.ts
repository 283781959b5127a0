/**
 * The live-chart history behind `GET /api/x/timeseries` (an nsqadmin extension): per series
 * (all topics, one topic, one topic's channel) a fixed-size ring of points summed over nodes,
 * each with a message rate. Pure: the sampler feeds it node counters and a clock reading.
 *
 * The rate is the sum of per-node message_count increases since the previous sample divided by
 * the time between samples, so a node that misses one sample (or restarts and counts from zero)
 * does not show up as a burst or a negative rate.
 */

/** The counters a chart point carries, summed over nodes. */
export interface Counters {
  /** The series' own queue: a topic's or a channel's depth (memory + disk). */
  depth: number;
  /** For a topic (and the all-topics series), the sum of its channels' depths: the backlog consumers still face; 0 for a channel. */
  channel_depth: number;
  in_flight: number;
  deferred: number;
  requeued: number;
  timed_out: number;
  message_count: number;
}

/** One chart point as the API returns it. */
export interface Point extends Counters {
  /** Epoch milliseconds of the sample. */
  t: number;
  /** Messages per second since the previous point (0 for the first). */
  rate: number;
}

/** One node's counters for one series. */
export interface NodeSample extends Counters {
  node: string;
  /** Series key, see seriesKey(). */
  key: string;
}

/** `''` = all topics, `topic`, or `topic/channel` ('/' never appears in a valid name). */
export function seriesKey(topic?: string, channel?: string): string {
  if (!topic) return '';
  return channel ? `${topic}/${channel}` : topic;
}

const FIELDS = ['depth', 'channel_depth', 'in_flight', 'deferred', 'requeued', 'timed_out', 'message_count'] as const;
const COLS = FIELDS.length + 2; // + t + rate

/** A ring of points stored column-wise in one Float64Array (no per-sample objects kept). */
class Ring {
  readonly #cap: number;
  readonly #data: Float64Array;
  #head = 0; // next write slot
  #size = 0;

  constructor(capacity: number) {
    this.#cap = capacity;
    this.#data = new Float64Array(capacity * COLS);
  }

  push(t: number, c: Counters, rate: number): void {
    const o = this.#head * COLS;
    const d = this.#data;
    d[o] = t;
    for (let i = 0; i < FIELDS.length; i++) d[o + 1 + i] = c[FIELDS[i]!];
    d[o + COLS - 1] = rate;
    this.#head = (this.#head + 1) % this.#cap;
    if (this.#size < this.#cap) this.#size++;
  }

  lastT(): number {
    if (this.#size === 0) return -Infinity;
    return this.#data[((this.#head - 1 + this.#cap) % this.#cap) * COLS]!;
  }

  points(): Point[] {
    const out: Point[] = [];
    const d = this.#data;
    for (let i = 0; i < this.#size; i++) {
      const o = ((this.#head - this.#size + i + this.#cap) % this.#cap) * COLS;
      // `o` is a slot start below cap * COLS, so every column index is in range.
      const p = { t: d[o]!, ...zero(), rate: d[o + COLS - 1]! };
      for (let i = 0; i < FIELDS.length; i++) p[FIELDS[i]!] = d[o + 1 + i]!;
      out.push(p);
    }
    return out;
  }
}

function zero(): Counters {
  return { depth: 0, channel_depth: 0, in_flight: 0, deferred: 0, requeued: 0, timed_out: 0, message_count: 0 };
}

/** Every chart series; ingest() once per sample, points() per request. */
export class TimeSeries {
  readonly intervalMs: number;
  readonly #capacity: number;
  readonly #series = new Map<string, Ring>();
  /** `node\n key` → message_count at the previous sample. */
  #lastCounts = new Map<string, number>();
  #lastT: number | undefined;

  /** Keeps `windowMs` of history at one point per `intervalMs`. */
  constructor(intervalMs: number, windowMs = 600_000) {
    this.intervalMs = intervalMs;
    this.#capacity = Math.max(2, Math.ceil(windowMs / Math.max(1, intervalMs)));
  }

  /** Records one sample taken at `t` (epoch ms) from the nodes that answered. */
  ingest(t: number, samples: readonly NodeSample[]): void {
    const sums = new Map<string, Counters>();
    const deltas = new Map<string, number>();
    const counts = new Map<string, number>();
    sums.set('', zero());
    deltas.set('', 0);
    for (const s of samples) {
      let sum = sums.get(s.key);
      if (!sum) sums.set(s.key, (sum = zero()));
      for (const f of FIELDS) sum[f] += s[f];
      const id = `${s.node}\n${s.key}`;
      counts.set(id, s.message_count);
      const prev = this.#lastCounts.get(id);
      // A counter below its previous value means the nsqd restarted: count from zero.
      const delta = prev === undefined ? 0 : s.message_count >= prev ? s.message_count - prev : s.message_count;
      deltas.set(s.key, (deltas.get(s.key) ?? 0) + delta);
    }
    this.#lastCounts = counts;
    const dtSec = this.#lastT === undefined ? 0 : (t - this.#lastT) / 1000;
    this.#lastT = t;
    for (const [key, sum] of sums) {
      let ring = this.#series.get(key);
      if (!ring) this.#series.set(key, (ring = new Ring(this.#capacity)));
      const rate = dtSec > 0 ? (deltas.get(key) ?? 0) / dtSec : 0;
      ring.push(t, sum, Math.round(rate * 1000) / 1000);
    }
    // Forget series not seen for a whole window (deleted topics and channels).
    const horizon = t - this.#capacity * this.intervalMs;
    for (const [key, ring] of this.#series) if (ring.lastT() < horizon) this.#series.delete(key);
  }

  /** The series' points, oldest first (empty when unknown). */
  points(key: string): Point[] {
    return this.#series.get(key)?.points() ?? [];
  }
}

/** The parts of nsqd /stats the sampler reads. */
export interface SampledTopic {
  topic_name: string;
  depth?: number;
  message_count?: number;
  channels?: Array<{
    channel_name: string;
    depth?: number;
    in_flight_count?: number;
    deferred_count?: number;
    requeue_count?: number;
    timeout_count?: number;
    message_count?: number;
  }> | null;
}

const num = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * One node's samples: a topic row (topic depth and message count, its channels' summed depth,
 * in-flight, deferred, requeued and timed-out) and one row per channel. The all-topics series sums topic rows.
 */
export function nodeSamples(node: string, topics: readonly SampledTopic[]): NodeSample[] {
  const out: NodeSample[] = [];
  const all: NodeSample = { node, key: '', ...zero() };
  for (const t of topics) {
    const row: NodeSample = { node, key: seriesKey(t.topic_name), ...zero(), depth: num(t.depth), message_count: num(t.message_count) };
    for (const c of t.channels ?? []) {
      const ch: NodeSample = {
        node,
        key: seriesKey(t.topic_name, c.channel_name),
        depth: num(c.depth),
        channel_depth: 0,
        in_flight: num(c.in_flight_count),
        deferred: num(c.deferred_count),
        requeued: num(c.requeue_count),
        timed_out: num(c.timeout_count),
        message_count: num(c.message_count),
      };
      out.push(ch);
      row.channel_depth += ch.depth;
      row.in_flight += ch.in_flight;
      row.deferred += ch.deferred;
      row.requeued += ch.requeued;
      row.timed_out += ch.timed_out;
    }
    out.push(row);
    for (const f of FIELDS) all[f] += row[f];
  }
  out.push(all);
  return out;
}
