/**
 * Pure shaping of nsqadmin's chart and counter replies into what the pages draw.
 * `/api/x/timeseries` is this project's extension: sums over all nodes, one point per sample.
 */

/** One sample of `/api/x/timeseries` (sums over all nodes). */
export interface TimeseriesPoint {
  t: number;
  /** The topic's or channel's own queue. */
  depth: number;
  /** For a topic or the whole cluster, its channels' summed depth (absent from older nsqadmins). */
  channel_depth?: number;
  in_flight: number;
  deferred: number;
  requeued: number;
  timed_out: number;
  message_count: number;
  rate: number;
}

/** The reply of `GET /api/x/timeseries`. */
export interface Timeseries {
  interval_ms: number;
  points: TimeseriesPoint[];
}

/**
 * Column arrays for a chart: x in Unix seconds (uPlot's convention), then rate and depth. Depth is
 * the whole backlog: a topic's own queue plus its channels' (a topic with channels hands its
 * messages on at once, so its own depth alone would read 0 while consumers fall behind).
 */
export interface ChartColumns {
  t: number[];
  rate: number[];
  depth: number[];
}

/** Turns timeseries points into chart columns, dropping malformed samples. */
export function toChartColumns(points: readonly TimeseriesPoint[]): ChartColumns {
  const out: ChartColumns = { t: [], rate: [], depth: [] };
  for (const p of points) {
    if (!Number.isFinite(p.t)) continue;
    out.t.push(p.t / 1000);
    out.rate.push(Number.isFinite(p.rate) ? p.rate : 0);
    const depth = (Number.isFinite(p.depth) ? p.depth : 0) + (Number.isFinite(p.channel_depth) ? p.channel_depth! : 0);
    out.depth.push(depth);
  }
  return out;
}

/** The newest sample, or undefined before nsqadmin's first sample. */
export function latestPoint(points: readonly TimeseriesPoint[]): TimeseriesPoint | undefined {
  return points.length ? points[points.length - 1] : undefined;
}

/** One entry of `GET /api/counter` (a channel on a node). */
export interface CounterEntry {
  node: string;
  topic_name: string;
  channel_name: string;
  message_count: number;
}

/** Messages processed cluster-wide: the sum over every channel on every node (counter page). */
export function counterTotal(stats: Record<string, CounterEntry> | null | undefined): number {
  let total = 0;
  for (const key of Object.keys(stats ?? {})) {
    const n = stats![key]!.message_count;
    if (Number.isFinite(n)) total += n;
  }
  return total;
}

/**
 * The counter page's polling schedule (upstream nsqadmin/static/js/views/counter.js): start
 * fast, slow down by a fixed step, never slower than the cap.
 */
export function nextCounterDelay(previousMs: number, capMs: number): number {
  return Math.min(capMs, previousMs + 1000);
}
