/** The connection's traffic clocks the deadlines are measured against. */
export interface TrafficClock {
  /** Epoch ms of the last bytes received. */
  readonly lastReadAt: number;
  /** Epoch ms since which a write has waited for the peer, 0 when none. */
  readonly stalledSince: number;
}

/** What the heartbeat timers act on. */
export interface HeartbeatTarget {
  sendHeartbeat(): void;
  /** A write waited more than one interval: the peer stopped reading. */
  writeDeadlineExceeded(): void;
  /** Nothing was received for two intervals. */
  readDeadlineExceeded(): void;
}

/**
 * Heartbeats and deadlines of one V2 connection (docs/protocol.md, Heartbeats and buffering): a `_heartbeat_` every
 * interval, the read deadline at 2 × interval since the last bytes received, and the write
 * deadline (a write stuck for more than an interval). One interval timer and one timeout, re-armed
 * lazily: reads never touch a timer.
 */
export class ClientHeartbeat {
  readonly #clock: TrafficClock;
  readonly #target: HeartbeatTarget;
  #intervalMs = 0;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;

  constructor(clock: TrafficClock, target: HeartbeatTarget) {
    this.#clock = clock;
    this.#target = target;
  }

  /** (Re)starts the timers for `intervalMs`; 0 or less disables them. */
  start(intervalMs: number): void {
    this.stop();
    this.#intervalMs = intervalMs;
    if (intervalMs <= 0) return;
    this.#heartbeatTimer = setInterval(this.#beat, intervalMs);
    this.#armDeadline(2 * intervalMs);
  }

  stop(): void {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer);
    this.#heartbeatTimer = null;
    this.#deadlineTimer = null;
  }

  #beat = (): void => {
    const t = this.#target;
    const stalled = this.#clock.stalledSince;
    if (stalled !== 0 && Date.now() - stalled > this.#intervalMs) {
      t.writeDeadlineExceeded();
      return;
    }
    t.sendHeartbeat();
  };

  #armDeadline(ms: number): void {
    this.#deadlineTimer = setTimeout(() => {
      const hb = this.#intervalMs;
      if (hb <= 0) return;
      const left = this.#clock.lastReadAt + 2 * hb - Date.now();
      if (left > 0) {
        this.#armDeadline(left);
        return;
      }
      this.#target.readDeadlineExceeded();
    }, ms);
  }
}
