/**
 * End-to-end processing latency across nodes (`internal/quantile/aggregate.go`,
 * E2eProcessingLatencyAggregate): a node's percentiles become `{average,count,max,min,quantile,value}`
 * with every figure = the node's value, and aggregates merge per quantile (count summed, max the
 * max, min the min, average weighted by count). Key order is Go's sorted map order.
 */

/** One percentile of a node or an aggregate; `value` only on node entries. */
export interface E2ePercentile {
  average: number;
  count: number;
  max: number;
  min: number;
  quantile: number;
  value?: number;
}

/** The `e2e_processing_latency` object nsqadmin replies with. */
export interface E2eAggregate {
  count: number;
  percentiles: E2ePercentile[] | null;
  topic: string;
  channel: string;
  host: string;
}

/** What nsqd's /stats carries (`quantile.Result`). */
export interface NsqdE2e {
  count?: number;
  percentiles?: Array<{ quantile: number; value: number }> | null;
}

/** A node's latency as nsqadmin shows it (UnmarshalJSON of the aggregate type). */
export function nodeE2e(r: NsqdE2e | null | undefined): E2eAggregate {
  const count = r?.count ?? 0;
  const ps = r?.percentiles;
  return {
    count,
    percentiles: ps ? ps.map((p) => ({ average: p.value, count, max: p.value, min: p.value, quantile: p.quantile, value: p.value })) : null,
    topic: '',
    channel: '',
    host: '',
  };
}

/** An empty aggregate for `host:"*"`. */
export function emptyE2e(topic: string, channel = ''): E2eAggregate {
  return { count: 0, percentiles: null, topic, channel, host: '*' };
}

/**
 * Merges `add` into `into` (E2eProcessingLatencyAggregate.Add). Upstream derives `min` from the
 * maxima (a bug); this keeps the real minimum of the node values.
 */
export function addE2e(into: E2eAggregate, add: E2eAggregate): void {
  into.host = '*';
  into.count += add.count;
  for (const v of add.percentiles ?? []) {
    const list = (into.percentiles ??= []);
    let p = list.find((x) => x.quantile === v.quantile);
    if (!p) {
      p = { average: 0, count: 0, max: v.max, min: v.min, quantile: v.quantile };
      list.push(p);
    }
    p.max = Math.max(v.max, p.max);
    p.min = Math.min(v.min, p.min);
    p.count += v.count;
    if (p.count === 0) {
      p.average = 0;
      continue;
    }
    p.average += ((v.average - p.average) * v.count) / p.count;
  }
}
