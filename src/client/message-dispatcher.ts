/**
 * Hands a consumer's messages to the application (go-nsq `consumer.go` handlerLoop and
 * shouldFailMessage): to a `handle()` handler with at most `concurrency` running, to plain
 * `message` listeners, or to `for await` iterators; answers a handler's message from its outcome,
 * TOUCHes while a handler runs (`autoTouch`), and discards messages past `maxAttempts`.
 */
import type { EventEmitter } from 'node:events';
import { Deque } from '../lib/deque.js';
import type { Logger } from '../lib/logger.js';
import type { Message } from './message.js';

/** A message handler: resolved/returned → FIN, thrown/rejected → REQ with backoff (unless it responded). */
export type MessageHandler = (m: Message) => void | Promise<void>;

/** Dispatch settings (see ConsumerOptions). */
export interface DispatchOptions {
  maxAttempts: number;
  concurrency: number;
  autoTouch: boolean;
}

/** What the dispatcher needs of its consumer. */
export interface DispatchHost {
  /** The emitter whose `message` listeners receive messages and which emits `discard`. */
  readonly events: EventEmitter;
  readonly log: Logger;
  /** `[topic/channel]`, the prefix of log lines. */
  readonly logPrefix: string;
  /** The msg_timeout (ms) of the connection a message came from; 0 when unknown. */
  msgTimeoutOf(m: Message): number;
}

/** Queues a consumer's messages and delivers them in one of the three styles. */
export class MessageDispatcher {
  readonly #o: DispatchOptions;
  readonly #host: DispatchHost;
  #handler: MessageHandler | null = null;
  #running = 0;
  readonly #queue = new Deque<Message>();
  #iterators = 0;
  readonly #iterWaiters: Array<(r: IteratorResult<Message>) => void> = [];
  #closed = false;

  constructor(opts: DispatchOptions, host: DispatchHost) {
    this.#o = opts;
    this.#host = host;
  }

  /** Sets the `handle()` handler and delivers what is waiting. */
  setHandler(fn: MessageHandler): void {
    this.#handler = fn;
    this.#drain();
  }

  /** A message arrived: discarded past maxAttempts (go-nsq shouldFailMessage: reported, then FIN), else delivered. */
  deliver(m: Message): void {
    const max = this.#o.maxAttempts;
    if (max > 0 && m.attempts > max) {
      this.#host.log.warn(`${this.#host.logPrefix} msg ${m.id} attempted ${m.attempts} times, giving up`);
      try {
        this.#host.events.emit('discard', m);
      } finally {
        m.finish();
      }
      return;
    }
    this.#queue.push(m);
    this.#drain();
  }

  /**
   * Shutdown: iterators end, and messages nobody picked up go back at once (the caller has sent
   * RDY 0 first, so nsqd does not hand them straight back).
   */
  close(): void {
    this.#closed = true;
    for (const w of this.#iterWaiters.splice(0)) w({ value: undefined, done: true });
    this.#requeueQueued();
  }

  #requeueQueued(): void {
    for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) m.requeue(0, false);
  }

  #drain(): void {
    const events = this.#host.events;
    while (this.#queue.length > 0) {
      const waiter = this.#iterWaiters.shift();
      if (waiter !== undefined) {
        waiter({ value: this.#queue.shift()!, done: false });
        continue;
      }
      if (this.#iterators > 0 && !this.#closed) return;
      if (this.#handler !== null) {
        if (this.#running >= this.#o.concurrency) break;
        this.#run(this.#handler, this.#queue.shift()!);
        continue;
      }
      if (events.listenerCount('message') > 0) {
        const m = this.#queue.shift()!;
        for (const l of events.listeners('message')) this.#run(l as MessageHandler, m, true);
        continue;
      }
      break;
    }
    // While closing, nothing waits for messages nobody is handling: they go back at once.
    if (this.#closed) this.#requeueQueued();
  }

  // Runs a handler: its outcome answers the message unless it answered itself. A plain 'message'
  // listener (`manual`) that returns nothing answers the message itself, as with nsqjs.
  #run(fn: MessageHandler, m: Message, manual = false): void {
    if (!manual) this.#running++;
    const touch = this.#o.autoTouch ? this.#startAutoTouch(m) : null;
    const done = (err: unknown) => {
      if (touch !== null) clearInterval(touch);
      if (!manual) this.#running--;
      if (!m.hasResponded && m.autoResponse) {
        if (err === undefined) m.finish();
        else {
          this.#host.log.warn(`${this.#host.logPrefix} handler failed for msg ${m.id} - ${(err as Error)?.message ?? String(err)}`);
          m.requeue(undefined, true);
        }
      }
      if (!manual) this.#drain();
    };
    let r: unknown;
    try {
      r = fn(m);
    } catch (err) {
      done(err ?? new Error('handler threw'));
      return;
    }
    if (r !== null && typeof r === 'object' && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(
        () => done(undefined),
        (err: unknown) => done(err ?? new Error('handler rejected')),
      );
    } else if (!manual) done(undefined);
    else if (touch !== null) clearInterval(touch);
  }

  // TOUCH every half msg_timeout (at least every 500 ms) until the message is answered.
  #startAutoTouch(m: Message): NodeJS.Timeout | null {
    const timeout = this.#host.msgTimeoutOf(m);
    if (timeout <= 0) return null;
    const t = setInterval(() => (m.hasResponded ? clearInterval(t) : m.touch()), Math.max(500, timeout / 2));
    t.unref();
    return t;
  }

  /** An iterator over delivered messages; the caller answers each. Ends on close(). */
  iterator(): AsyncIterator<Message> {
    this.#iterators++;
    let ended = false;
    const end = (): IteratorResult<Message> => {
      if (!ended) {
        ended = true;
        this.#iterators--;
        this.#drain();
      }
      return { value: undefined, done: true };
    };
    return {
      next: () => {
        if (ended) return Promise.resolve({ value: undefined, done: true });
        const m = this.#queue.shift();
        if (m !== undefined) return Promise.resolve({ value: m, done: false });
        if (this.#closed) return Promise.resolve(end());
        return new Promise<IteratorResult<Message>>((resolve) => this.#iterWaiters.push(resolve));
      },
      return: () => Promise.resolve(end()),
    };
  }
}
