/**
 * Destination choice for nsq_to_http and nsq_to_nsq: round-robin over the list, or bitly
 * go-hostpool's standard pool (round-robin that skips hosts marked failed until their retry time;
 * the delay starts at 30 s and doubles per failure up to 900 s; when every host is down, all are
 * revived).
 */

const INITIAL_RETRY_MS = 30_000;
const MAX_RETRY_MS = 900_000;

/** Both choosers index their list modulo its length, so it must not be empty. */
function requireHosts(hosts: readonly string[]): void {
  if (hosts.length === 0) throw new RangeError('no destination hosts');
}

/** Round-robin with the counter the caller's original uses (nsq_to_http pre-increments). */
export class RoundRobin {
  readonly #hosts: readonly string[];
  #counter: number;

  constructor(hosts: readonly string[], preIncrement: boolean) {
    requireHosts(hosts);
    this.#hosts = hosts;
    this.#counter = preIncrement ? 1 : 0;
  }

  next(): string {
    const h = this.#hosts[this.#counter % this.#hosts.length]!;
    this.#counter++;
    return h;
  }
}

interface HostEntry {
  host: string;
  dead: boolean;
  retryAt: number;
  retryDelay: number;
}

/** go-hostpool `standardHostPool`; `now` is injectable for tests. */
export class HostPool {
  readonly #entries: HostEntry[];
  #next = 0;
  readonly #now: () => number;

  constructor(hosts: readonly string[], now: () => number = Date.now) {
    requireHosts(hosts);
    this.#entries = hosts.map((host) => ({ host, dead: false, retryAt: 0, retryDelay: 0 }));
    this.#now = now;
  }

  /** The next live host (or one due for a retry). */
  get(): string {
    const n = this.#entries.length;
    const now = this.#now();
    for (let i = 0; i < n; i++) {
      const e = this.#entries[(this.#next + i) % n]!;
      if (!e.dead || now >= e.retryAt) {
        this.#next = (this.#next + i + 1) % n;
        return e.host;
      }
    }
    // Every host is down: revive them all rather than stall (go-hostpool doResetHosts).
    for (const e of this.#entries) e.dead = false;
    const e = this.#entries[this.#next]!;
    this.#next = (this.#next + 1) % n;
    return e.host;
  }

  /** Reports the outcome of a request to `host`. */
  mark(host: string, ok: boolean): void {
    const e = this.#entries.find((x) => x.host === host);
    if (!e) return;
    if (ok) {
      e.dead = false;
      e.retryDelay = 0;
      return;
    }
    if (!e.dead) {
      e.dead = true;
      e.retryDelay = INITIAL_RETRY_MS;
    } else {
      e.retryDelay = Math.min(e.retryDelay * 2, MAX_RETRY_MS);
    }
    e.retryAt = this.#now() + e.retryDelay;
  }
}
