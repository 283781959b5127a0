/**
 * nsq_stat's text table (upstream `apps/nsq_stat/nsq_stat.go` statLoop): a two-line header every
 * 25 iterations and one row of rates and counters per interval, with Go's `%7d`-style padding.
 */

/** The channel counters one row is computed from (summed over every nsqd). */
export interface ChannelCounters {
  depth: number;
  memoryDepth: number;
  backendDepth: number;
  inFlightCount: number;
  deferredCount: number;
  requeueCount: number;
  timeoutCount: number;
  messageCount: number;
  clientCount: number;
}

function r(v: number | string, width: number): string {
  return String(v).padStart(width, ' ');
}

/** The header printed before iteration 0 and every 25th iteration after it. */
export function statHeader(): string {
  return (
    '------rate------+----------------depth----------------+--------------metadata---------------\n' +
    `${r('ingress', 7)} ${r('egress', 7)} | ${r('total', 7)} ${r('mem', 7)} ${r('disk', 7)} ${r('inflt', 5)} ${r('def', 5)} | ` +
    `${r('req', 7)} ${r('t-o', 7)} ${r('msgs', 12)} ${r('clients', 7)}\n`
  );
}

/** Whether iteration `i` (0-based, counting the priming one) starts with a header. */
export function headerDue(i: number): boolean {
  return i % 25 === 0;
}

/** Go's `int64(float64(x) / seconds)`: truncation toward zero. */
function rate(delta: number, intervalMs: number): number {
  return Math.trunc(delta / (intervalMs / 1000));
}

/** One data row from the previous and current counters over `intervalMs`. */
export function statRow(prev: ChannelCounters, cur: ChannelCounters, intervalMs: number): string {
  const ingress = rate(cur.messageCount - prev.messageCount, intervalMs);
  const egress = rate(cur.messageCount - prev.messageCount - (cur.depth - prev.depth), intervalMs);
  return (
    `${r(ingress, 7)} ${r(egress, 7)} | ${r(cur.depth, 7)} ${r(cur.memoryDepth, 7)} ${r(cur.backendDepth, 7)} ` +
    `${r(cur.inFlightCount, 5)} ${r(cur.deferredCount, 5)} | ${r(cur.requeueCount, 7)} ${r(cur.timeoutCount, 7)} ` +
    `${r(cur.messageCount, 12)} ${r(cur.clientCount, 7)}\n`
  );
}
