/**
 * `--mode` of nsq_to_http and nsq_to_nsq: which destination(s) get a message. `round-robin`,
 * `hostpool` (`epsilon-greedy` is served by the same pool), or — nsq_to_http only — any other value
 * sends to every destination in turn.
 */
import { HostPool, RoundRobin } from './host-pool.js';

/** The chosen strategy. */
export type DestinationMode = 'round-robin' | 'hostpool' | 'all';

/** nsq_to_http's mode mapping: unknown values mean "all" (the original's zero-value ModeAll). */
export function httpMode(flag: string): DestinationMode {
  if (flag === 'round-robin') return 'round-robin';
  if (flag === 'hostpool' || flag === 'epsilon-greedy') return 'hostpool';
  return 'all';
}

/** nsq_to_nsq's mode mapping: unknown values mean round-robin (its zero value). */
export function nsqMode(flag: string): DestinationMode {
  return flag === 'hostpool' || flag === 'epsilon-greedy' ? 'hostpool' : 'round-robin';
}

/** Picks destinations per message and learns from outcomes (host pool). */
export class DestinationPicker {
  readonly mode: DestinationMode;
  readonly #all: readonly string[];
  readonly #rr: RoundRobin;
  readonly #pool: HostPool;

  constructor(mode: DestinationMode, addresses: readonly string[]) {
    this.mode = mode;
    this.#all = addresses;
    this.#rr = new RoundRobin(addresses, true);
    this.#pool = new HostPool(addresses);
  }

  /** The destinations for the next message, in order. */
  pick(): readonly string[] {
    switch (this.mode) {
      case 'all':
        return this.#all;
      case 'round-robin':
        return [this.#rr.next()];
      case 'hostpool':
        return [this.#pool.get()];
    }
  }

  /** The one destination for the next message; only for the single-destination modes (nsq_to_nsq). */
  pickOne(): string {
    switch (this.mode) {
      case 'round-robin':
        return this.#rr.next();
      case 'hostpool':
        return this.#pool.get();
      case 'all':
        throw new RangeError('mode "all" picks every destination, not one');
    }
  }

  /** Reports a delivery outcome (only the host pool cares). */
  mark(addr: string, ok: boolean): void {
    if (this.mode === 'hostpool') this.#pool.mark(addr, ok);
  }
}
