/**
 * The pure arithmetic of consumer flow control, as go-nsq `consumer.go` does it: the per-connection
 * share of `maxInFlight`, the cap that keeps the sum of RDY counts within the budget, and the
 * backoff state machine driven by message outcomes.
 */

/** go-nsq `perConnMaxInFlight`: an even share, at least 1, never above the budget. */
export function perConnectionRdy(maxInFlight: number, connections: number): number {
  if (connections <= 0) return maxInFlight;
  return Math.min(Math.max(1, Math.floor(maxInFlight / connections)), maxInFlight);
}

/**
 * go-nsq `updateRDY`'s cap: the count to send to a connection currently at `connRdy` when it
 * should get `wanted`, given the budget and the sum of all RDY counts. `null` means no budget is
 * left (the caller retries later).
 */
export function cappedRdy(wanted: number, connRdy: number, totalRdy: number, maxInFlight: number, maxRdyCount: number): number | null {
  let count = Math.min(wanted, maxRdyCount);
  const maxPossible = maxInFlight - totalRdy + connRdy;
  if (maxPossible > 0 && maxPossible < count) count = maxPossible;
  if (maxPossible <= 0 && count > 0) return null;
  return count;
}

/** How backoff durations grow (go-nsq `backoff_strategy`). */
export type BackoffStrategy = 'exponential' | 'full_jitter';

/** go-nsq ExponentialStrategy / FullJitterStrategy: `multiplier × 2^attempt`, or uniform below it. */
export function backoffDuration(strategy: BackoffStrategy, multiplier: number, attempt: number, random: () => number = Math.random): number {
  const d = multiplier * 2 ** attempt;
  return strategy === 'full_jitter' ? Math.floor(random() * d) : d;
}

/** What a handled message says about the consumer's pace. */
export type BackoffSignal = 'resume' | 'backoff' | 'continue';

/** The result of one backoff step. */
export interface BackoffStep {
  counter: number;
  /** 'exit': restore every connection's RDY; 'wait': RDY 0 everywhere for `duration` ms; 'none': nothing. */
  action: 'exit' | 'wait' | 'none';
  duration: number;
}

/**
 * go-nsq `startStopContinueBackoff` (minus the "already in a backoff timeout" guard, which the
 * caller checks): a success lowers the counter, a failure raises it while the next duration stays
 * within `maxDuration`; any counter above zero means a (new) backoff timeout.
 */
export function backoffStep(counter: number, signal: BackoffSignal, strategy: BackoffStrategy, multiplier: number, maxDuration: number): BackoffStep {
  let updated = false;
  if (signal === 'resume' && counter > 0) {
    counter--;
    updated = true;
  } else if (signal === 'backoff' && backoffDuration('exponential', multiplier, counter + 1) <= maxDuration) {
    counter++;
    updated = true;
  }
  if (counter === 0 && updated) return { counter, action: 'exit', duration: 0 };
  if (counter > 0) return { counter, action: 'wait', duration: Math.min(backoffDuration(strategy, multiplier, counter), maxDuration) };
  return { counter, action: 'none', duration: 0 };
}
