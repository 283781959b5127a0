/**
 * Drain (nsq#1302, docs/extensions.md): after POST /drain nsqd refuses publishes, leaves
 * nsqlookupd so producers and consumers move to other nodes, keeps delivering everything it holds
 * (memory, disk, in flight, deferred) to its connected consumers, and shuts down once nothing is
 * left. Progress is logged and shown in /stats.
 */
import type { Logger } from '../lib/logger.js';
import type { Topic } from './topic.js';

/** What is still held while draining. */
export interface DrainProgress {
  /** Messages queued in topics and channels (memory and disk). */
  depth: number;
  inFlight: number;
  deferred: number;
  /** Topics (or `topic:channel`) still holding messages, for the log. */
  holders: string[];
}

/** The daemon as a drain sees it. */
export interface DrainHost {
  readonly logger: Logger;
  topics(): Topic[];
  /** Unregister every topic and channel from nsqlookupd now (and keep them unregistered). */
  leaveLookupd(): void;
  /** Everything is delivered: shut down (the nsqd app exits 0). */
  drained(): void;
}

/** How often the drain checks for emptiness, and how often it logs while waiting. */
const CHECK_MS = 100;
const LOG_EVERY_MS = 5000;

/** Sums what `topics` still hold. */
export function drainProgress(topics: readonly Topic[]): DrainProgress {
  const p: DrainProgress = { depth: 0, inFlight: 0, deferred: 0, holders: [] };
  for (const t of topics) {
    const td = t.depth();
    p.depth += td;
    if (td > 0) p.holders.push(t.name);
    for (const ch of t.channels()) {
      const d = ch.depth();
      const f = ch.inFlightCount();
      const r = ch.deferredCount();
      p.depth += d;
      p.inFlight += f;
      p.deferred += r;
      if (d + f + r > 0) p.holders.push(`${t.name}:${ch.name}`);
    }
  }
  return p;
}

export const remaining = (p: DrainProgress): number => p.depth + p.inFlight + p.deferred;

/** One drain of one nsqd: started once, finishes by calling `host.drained()` once. */
export class Drain {
  readonly #host: DrainHost;
  #timer: NodeJS.Timeout | null = null;
  #lastLog = 0;
  #done = false;

  constructor(host: DrainHost) {
    this.#host = host;
  }

  get active(): boolean {
    return this.#timer !== null || this.#done;
  }

  /** Starts draining; false when already draining. */
  start(): boolean {
    if (this.active) return false;
    const p = drainProgress(this.#host.topics());
    this.#host.logger.info(`DRAIN: started - refusing publishes, leaving nsqlookupd, ${describe(p)}`);
    this.#host.leaveLookupd();
    this.#lastLog = Date.now();
    this.#timer = setInterval(() => this.#check(), CHECK_MS);
    return true;
  }

  progress(): DrainProgress {
    return drainProgress(this.#host.topics());
  }

  /** Stops the checks (the daemon is closing for another reason). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    const p = this.progress();
    if (remaining(p) === 0) {
      this.stop();
      this.#done = true;
      this.#host.logger.info('DRAIN: complete - every topic and channel is empty, exiting');
      this.#host.drained();
      return;
    }
    const now = Date.now();
    if (now - this.#lastLog >= LOG_EVERY_MS) {
      this.#lastLog = now;
      this.#host.logger.info(`DRAIN: waiting - ${describe(p)}`);
    }
  }
}

function describe(p: DrainProgress): string {
  const where = p.holders.length === 0 ? '' : ` in ${p.holders.slice(0, 10).join(', ')}${p.holders.length > 10 ? ', ...' : ''}`;
  return `${p.depth} queued, ${p.inFlight} in flight, ${p.deferred} deferred${where}`;
}
