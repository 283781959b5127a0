/**
 * The consumer's RDY state machine, as go-nsq `consumer.go` runs it (maybeUpdateRDY, updateRDY,
 * sendRDY, redistributeRDY, startStopContinueBackoff, resume, onConnClose): which RDY count goes
 * to which connection, given the connections, the shared `maxInFlight` budget and the backoff
 * signals of answered messages. No sockets and no timers: RDY writes, retry timers and backoff
 * timers are asked of a sink, and the clock and random source are injected, so every decision
 * can be replayed in a unit test.
 */
import { backoffStep, cappedRdy, perConnectionRdy, type BackoffSignal, type BackoffStrategy } from './flow-control.js';

/** A connection as the RDY controller sees it. */
export interface RdyConnection {
  /** Last RDY count sent; written by the controller only. */
  rdy: number;
  /** Time (ms) of the last non-zero RDY sent; written by the controller only. */
  lastRdyAt: number;
  /** Time (ms) of the last message received on the connection. */
  readonly lastMessageAt: number;
  /** True once CLS was sent or the socket is not ready: no RDY goes there any more. */
  readonly closing: boolean;
  /** nsqd's `max_rdy_count` for this connection. */
  readonly maxRdyCount: number;
}

/** What the controller asks of the I/O around it. */
export interface RdySink<C extends RdyConnection> {
  /** Write `RDY count` on the connection (the controller has already recorded it). */
  writeRdy(c: C, count: number): void;
  /** Call `retry(c, wanted)` in 5 s (go-nsq's fixed retry of an RDY refused for lack of budget). */
  scheduleRetry(c: C, wanted: number): void;
  /** Drop a retry scheduled for the connection, if any. */
  cancelRetry(c: C): void;
  /** Every connection now has RDY 0; call `resume()` after `ms`. */
  startBackoffTimeout(ms: number, level: number): void;
  /** The backoff level changed (0 = backoff is over). */
  backoffLevelChanged(level: number, exited: boolean): void;
}

/** Settings of the controller (durations in ms), named as in go-nsq `config.go`. */
export interface RdyControllerOptions {
  maxInFlight: number;
  backoffStrategy: BackoffStrategy;
  backoffMultiplier: number;
  /** 0 disables backoff. */
  maxBackoffDuration: number;
  lowRdyIdleTimeout: number;
  lowRdyTimeout: number;
}

/** Delay of the retry of a refused RDY and of a resume that found no connection (go-nsq). */
export const RDY_RETRY_DELAY = 5000;
export const EMPTY_RESUME_DELAY = 1000;

/**
 * go-nsq `IsStarved` for one connection: it has used at least 85% of its RDY (threshold
 * truncated to an integer as go-nsq does), so nsqd sends no more until messages are answered.
 */
export function connectionStarved(inFlight: number, rdy: number, closing: boolean): boolean {
  return !closing && inFlight > 0 && inFlight >= Math.trunc(rdy * 0.85);
}

/** Owns the RDY budget of one consumer: per-connection counts, their sum, redistribution and backoff. */
export class RdyController<C extends RdyConnection> {
  readonly #o: RdyControllerOptions;
  readonly #sink: RdySink<C>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #conns = new Set<C>();
  readonly #retrying = new Set<C>();
  #maxInFlight: number;
  #totalRdy = 0;
  #needRedistribute = false;
  #backoffCounter = 0;
  #inBackoffTimeout = false;

  constructor(opts: RdyControllerOptions, sink: RdySink<C>, now: () => number = Date.now, random: () => number = Math.random) {
    this.#o = opts;
    this.#sink = sink;
    this.#now = now;
    this.#random = random;
    this.#maxInFlight = opts.maxInFlight;
  }

  /** The current budget. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Sum of the RDY counts last sent. */
  get totalRdy(): number {
    return this.#totalRdy;
  }

  /** Backoff level (0 = not backing off). */
  get backoffLevel(): number {
    return this.#backoffCounter;
  }

  /** True between a backoff's RDY 0 and its `resume()`. */
  get inBackoffTimeout(): boolean {
    return this.#inBackoffTimeout;
  }

  /** go-nsq `ConnectToNSQD` after SUB: lower the existing connections' shares first, then give the new one its share. */
  add(c: C): void {
    this.#conns.add(c);
    for (const other of this.#conns) if (other !== c) this.#maybeUpdate(other);
    this.#maybeUpdate(c);
  }

  /**
   * go-nsq `onConnClose`: the connection's RDY leaves the budget; if it held RDY (or waited for
   * some) while the consumer leaves the normal redistribution cases, redistribution is due.
   */
  remove(c: C): void {
    if (!this.#conns.delete(c)) return;
    const hadRdy = c.rdy > 0 || this.#retrying.has(c);
    this.#cancelRetry(c);
    this.#totalRdy -= c.rdy;
    c.rdy = 0;
    if (hadRdy && (this.#conns.size === this.#maxInFlight || this.#backoffCounter > 0)) this.#needRedistribute = true;
  }

  /** Re-applies every connection's share (after a close, the others' shares grow). */
  rebalance(): void {
    for (const c of this.#conns) this.#maybeUpdate(c);
  }

  /** go-nsq `ChangeMaxInFlight`: a new budget, each connection's share re-applied. */
  setMaxInFlight(n: number): void {
    this.#maxInFlight = n;
    this.rebalance();
  }

  /** RDY 0 everywhere (shutdown: nsqd stops delivering before it sees the requeues that follow). */
  pauseAll(): void {
    for (const c of this.#conns) this.#update(c, 0);
  }

  /** The retry scheduled through the sink is due. */
  retry(c: C, wanted: number): void {
    this.#retrying.delete(c);
    if (this.#conns.has(c)) this.#update(c, wanted);
  }

  /** go-nsq `maybeUpdateRDY`: the connection's share, unless backing off. */
  #maybeUpdate(c: C): void {
    if (this.#backoffCounter > 0 || this.#inBackoffTimeout) return;
    this.#update(c, perConnectionRdy(this.#maxInFlight, this.#conns.size));
  }

  /** go-nsq `updateRDY` + `sendRDY`. Returns false when nothing could be granted. */
  #update(c: C, wanted: number): boolean {
    if (c.closing) return false;
    this.#cancelRetry(c);
    const count = cappedRdy(wanted, c.rdy, this.#totalRdy, this.#maxInFlight, c.maxRdyCount);
    if (count === null) {
      // No budget left: try again later unless the connection already holds some RDY.
      if (c.rdy === 0) {
        this.#retrying.add(c);
        this.#sink.scheduleRetry(c, wanted);
      }
      return false;
    }
    if (count === c.rdy) return true;
    this.#totalRdy += count - c.rdy;
    c.rdy = count;
    if (count > 0) c.lastRdyAt = this.#now();
    this.#sink.writeRdy(c, count);
    return true;
  }

  #cancelRetry(c: C): void {
    if (this.#retrying.delete(c)) this.#sink.cancelRetry(c);
  }

  /**
   * go-nsq `redistributeRDY` (every `rdyRedistributeInterval`): with more connections than budget,
   * or in backoff with several connections, or when flagged by a close, idle or long-held RDY is
   * taken back and the free budget (1 in backoff) goes out as RDY 1 to random connections.
   */
  redistribute(): void {
    // Without connections the flag is kept until there is somewhere to redistribute to.
    if (this.#inBackoffTimeout || this.#conns.size === 0) return;
    const conns = [...this.#conns];
    if (conns.length > this.#maxInFlight) this.#needRedistribute = true;
    if (this.#backoffCounter > 0 && conns.length > 1) this.#needRedistribute = true;
    if (!this.#needRedistribute) return;
    this.#needRedistribute = false;
    const now = this.#now();
    for (const c of conns) {
      if (c.rdy > 0 && (now - c.lastMessageAt > this.#o.lowRdyIdleTimeout || now - c.lastRdyAt > this.#o.lowRdyTimeout)) {
        this.#update(c, 0);
      }
    }
    let available = (this.#backoffCounter > 0 ? 1 : this.#maxInFlight) - this.#totalRdy;
    while (conns.length > 0 && available > 0) {
      available--;
      const i = Math.floor(this.#random() * conns.length);
      const c = conns[i]!;
      conns.splice(i, 1);
      this.#update(c, 1);
    }
  }

  /**
   * go-nsq `startStopContinueBackoff`: an answered message moves the backoff level (ignored during
   * a backoff timeout, so a burst of outcomes moves it one step). Leaving backoff restores every
   * share; any level above 0 starts a (new) backoff timeout.
   */
  signal(signal: BackoffSignal): void {
    if (this.#inBackoffTimeout || this.#o.maxBackoffDuration <= 0) return;
    const o = this.#o;
    const step = backoffStep(this.#backoffCounter, signal, o.backoffStrategy, o.backoffMultiplier, o.maxBackoffDuration);
    const changed = step.counter !== this.#backoffCounter;
    this.#backoffCounter = step.counter;
    if (changed) this.#sink.backoffLevelChanged(step.counter, step.action === 'exit');
    if (step.action === 'exit') {
      const count = perConnectionRdy(this.#maxInFlight, this.#conns.size);
      for (const c of this.#conns) this.#update(c, count);
    } else if (step.action === 'wait') {
      this.#startBackoffTimeout(step.duration);
    }
  }

  #startBackoffTimeout(ms: number): void {
    for (const c of this.#conns) this.#update(c, 0);
    this.#inBackoffTimeout = true;
    this.#sink.startBackoffTimeout(ms, this.#backoffCounter);
  }

  /** go-nsq `resume`: the backoff timeout is over; one random connection gets RDY 1 to test the waters. */
  resume(): void {
    this.#inBackoffTimeout = false;
    const conns = [...this.#conns].filter((c) => !c.closing);
    if (conns.length === 0) {
      this.#startBackoffTimeout(EMPTY_RESUME_DELAY);
      return;
    }
    this.#update(conns[Math.floor(this.#random() * conns.length)]!, 1);
  }

  /** The shutdown cancelled the backoff timer: no timeout is running any more. */
  endBackoffTimeout(): void {
    this.#inBackoffTimeout = false;
  }
}
