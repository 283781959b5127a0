/**
 * Consumes one topic/channel from any number of nsqd nodes, given directly and/or discovered
 * through nsqlookupd (go-nsq `consumer.go`). `maxInFlight` is one budget shared by all
 * connections: each gets an even share of RDY, the sum never exceeds the budget, and when there
 * are more connections than budget the RDY is rotated among them. Requeues with backoff pause
 * every connection (RDY 0) for an exponentially growing time, then one message tests the waters.
 */
import { EventEmitter } from 'node:events';
import { Deque } from '../lib/deque.js';
import type { Logger } from '../lib/logger.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import { ConsumerConnection, type ConsumerConnectionOwner } from './consumer-connection.js';
import { type NsqError, clientError } from './errors.js';
import { backoffStep, cappedRdy, perConnectionRdy, type BackoffSignal, type BackoffStrategy } from './flow-control.js';
import { lookupUrl, queryLookupd } from './lookupd.js';
import type { Message } from './message.js';
import { defaultLogger, resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from './options.js';

/** Consumer settings (durations in ms). Defaults follow go-nsq `config.go`. */
export interface ConsumerOptions extends ConnectionOptions {
  /** nsqd TCP addresses (`host:port`) to connect to directly. */
  nsqdTcpAddresses?: string[];
  /** nsqlookupd HTTP addresses (`host:port` or URLs) to discover nsqd nodes from. */
  lookupdHttpAddresses?: string[];
  /** Lookupd poll period (default 60000). */
  lookupdPollInterval?: number;
  /** Fraction of the interval used as a random delay before the first periodic poll (default 0.3). */
  lookupdPollJitter?: number;
  /** HTTP timeout of a lookupd query (default 60000). */
  lookupdPollTimeout?: number;
  /** Messages in flight across all connections (default 1). */
  maxInFlight?: number;
  /** Messages delivered more often than this are discarded ('discard' event, then FIN); 0 = no limit (default 5). */
  maxAttempts?: number;
  /** Backoff unit (default 1000). */
  backoffMultiplier?: number;
  /** Longest backoff; 0 disables backoff (default 120000). */
  maxBackoffDuration?: number;
  /** `exponential` (default) or `full_jitter`. */
  backoffStrategy?: BackoffStrategy;
  /** Requeue delay per attempt when none is given (default 90000). */
  defaultRequeueDelay?: number;
  /** Cap of the computed requeue delay (default 900000). */
  maxRequeueDelay?: number;
  /** TOUCH messages while a handler runs, every half msg_timeout (default false). */
  autoTouch?: boolean;
  /** Handler invocations running at once (default: unlimited, i.e. bounded by maxInFlight). */
  concurrency?: number;
  /** RDY redistribution period (default 5000), idle and age thresholds (10000, 30000). */
  rdyRedistributeInterval?: number;
  lowRdyIdleTimeout?: number;
  lowRdyTimeout?: number;
  /** First reconnect delay for a dropped direct nsqd, doubled per failure up to lookupdPollInterval (default 1000). */
  reconnectDelay?: number;
  /** Longest close() waits for in-flight messages before closing sockets (default 30000). */
  closeTimeout?: number;
}

/** Counters of a consumer. */
export interface ConsumerStats {
  messagesReceived: number;
  messagesFinished: number;
  messagesRequeued: number;
  connections: number;
}

/** A message handler: resolved/returned → FIN, thrown/rejected → REQ with backoff (unless it responded). */
export type MessageHandler = (m: Message) => void | Promise<void>;

type ConsumerState = 'init' | 'running' | 'stopping' | 'stopped';

/**
 * A topic/channel consumer. Events: `message` (Message), `discard` (Message), `error` (Error, only
 * emitted when listened to), `nsqdConnected` (address), `nsqdClosed` (address, err), `backoff`
 * (counter), `closed`.
 */
export class Consumer extends EventEmitter implements ConsumerConnectionOwner {
  readonly topic: string;
  readonly channel: string;
  readonly #conn: ResolvedConnectionOptions;
  readonly #log: Logger;
  readonly #o: Required<Omit<ConsumerOptions, keyof ConnectionOptions>>;
  #state: ConsumerState = 'init';
  #maxInFlight: number;

  readonly #conns = new Map<string, ConsumerConnection>();
  readonly #dialing = new Set<string>();
  readonly #reconnects = new Map<string, { timer: NodeJS.Timeout | null; failures: number }>();
  #totalRdy = 0;
  #needRedistribute = false;
  #redistributeTimer: NodeJS.Timeout | null = null;

  #backoffCounter = 0;
  #backoffTimer: NodeJS.Timeout | null = null;

  #lookupdUrls: string[] = [];
  readonly #directAddresses: string[];
  #lookupTimer: NodeJS.Timeout | null = null;
  #lookupRunning: Promise<void> | null = null;

  #handler: MessageHandler | null = null;
  #running = 0;
  readonly #queue = new Deque<Message>();
  #iterators = 0;
  readonly #iterWaiters: Array<(r: IteratorResult<Message>) => void> = [];

  #received = 0;
  #finished = 0;
  #requeued = 0;
  #closed: Promise<void> | null = null;
  #allClosed: (() => void) | null = null;

  constructor(topic: string, channel: string, opts: ConsumerOptions = {}) {
    super();
    if (!isValidTopicName(topic)) throw clientError('E_INVALID_ARGUMENT', `topic name ${JSON.stringify(topic)} is not valid`);
    if (!isValidChannelName(channel)) throw clientError('E_INVALID_ARGUMENT', `channel name ${JSON.stringify(channel)} is not valid`);
    this.topic = topic;
    this.channel = channel;
    this.#conn = resolveConnectionOptions(opts);
    this.#log = opts.logger ?? defaultLogger();
    const pollInterval = opts.lookupdPollInterval ?? 60000;
    this.#o = {
      nsqdTcpAddresses: opts.nsqdTcpAddresses ?? [],
      lookupdHttpAddresses: opts.lookupdHttpAddresses ?? [],
      lookupdPollInterval: pollInterval,
      lookupdPollJitter: opts.lookupdPollJitter ?? 0.3,
      lookupdPollTimeout: opts.lookupdPollTimeout ?? 60000,
      maxInFlight: opts.maxInFlight ?? 1,
      maxAttempts: opts.maxAttempts ?? 5,
      backoffMultiplier: opts.backoffMultiplier ?? 1000,
      maxBackoffDuration: opts.maxBackoffDuration ?? 120000,
      backoffStrategy: opts.backoffStrategy ?? 'exponential',
      defaultRequeueDelay: opts.defaultRequeueDelay ?? 90000,
      maxRequeueDelay: opts.maxRequeueDelay ?? 900000,
      autoTouch: opts.autoTouch ?? false,
      concurrency: opts.concurrency ?? Infinity,
      rdyRedistributeInterval: opts.rdyRedistributeInterval ?? 5000,
      lowRdyIdleTimeout: opts.lowRdyIdleTimeout ?? 10000,
      lowRdyTimeout: opts.lowRdyTimeout ?? 30000,
      reconnectDelay: opts.reconnectDelay ?? 1000,
      closeTimeout: opts.closeTimeout ?? 30000,
    };
    this.#maxInFlight = this.#o.maxInFlight;
    if (!(this.#maxInFlight >= 0)) throw clientError('E_INVALID_ARGUMENT', `maxInFlight must be >= 0`);
    this.#lookupdUrls = this.#o.lookupdHttpAddresses.map((a) => lookupUrl(a, topic));
    this.#directAddresses = [...this.#o.nsqdTcpAddresses];
  }

  /** The current RDY budget. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Connected nsqd addresses. */
  get connectedAddresses(): string[] {
    return [...this.#conns.keys()];
  }

  /** Sum of the RDY counts last sent. */
  get totalRdy(): number {
    return this.#totalRdy;
  }

  /**
   * go-nsq `IsStarved`: true when some connection has used at least 85% of its RDY, i.e. nsqd
   * will send no more until messages are answered. Batching consumers flush early on it.
   */
  isStarved(): boolean {
    for (const c of this.#conns.values()) {
      if (!c.closing && c.inFlight > 0 && c.inFlight >= 0.85 * c.rdy) return true;
    }
    return false;
  }

  /** Backoff level (0 = not backing off). */
  get backoffLevel(): number {
    return this.#backoffCounter;
  }

  stats(): ConsumerStats {
    return { messagesReceived: this.#received, messagesFinished: this.#finished, messagesRequeued: this.#requeued, connections: this.#conns.size };
  }

  /** Sets the message handler (one per consumer). */
  handle(fn: MessageHandler): this {
    this.#handler = fn;
    this.#drain();
    return this;
  }

  /**
   * Connects to the direct nsqd addresses and runs the first lookupd query; resolves when those
   * attempts are done (failed nsqds are retried in the background). Discovery then continues.
   */
  async connect(): Promise<void> {
    if (this.#state !== 'init') throw clientError('E_INVALID_ARGUMENT', `connect() called twice`);
    this.#start();
    const work: Promise<void>[] = this.#o.nsqdTcpAddresses.map((a) => this.#connectTo(a, true, false));
    if (this.#lookupdUrls.length > 0) {
      work.push(this.#queryLookupds());
      const jitter = Math.random() * this.#o.lookupdPollJitter * this.#o.lookupdPollInterval;
      this.#lookupTimer = setTimeout(() => this.#pollLoop(), jitter);
    }
    await Promise.all(work);
  }

  /**
   * go-nsq `ConnectToNSQD`: connects to one more nsqd now and rejects if that fails (no retry);
   * once connected, a dropped connection is retried like the `nsqdTcpAddresses` ones.
   */
  async connectToNsqd(address: string): Promise<void> {
    if (this.#state === 'init') this.#start();
    if (this.#state !== 'running') throw clientError('E_CLOSED', 'consumer is closed');
    if (!this.#directAddresses.includes(address)) this.#directAddresses.push(address);
    await this.#connectTo(address, true, true);
  }

  #start(): void {
    this.#state = 'running';
    this.#redistributeTimer = setInterval(() => this.#redistributeRdy(), this.#o.rdyRedistributeInterval);
    this.#redistributeTimer.unref();
  }

  /** Changes the RDY budget and re-applies each connection's share (go-nsq `ChangeMaxInFlight`). */
  changeMaxInFlight(n: number): void {
    this.#maxInFlight = n;
    for (const c of this.#conns.values()) this.#maybeUpdateRdy(c);
  }

  // ---- connections

  async #connectTo(address: string, direct: boolean, rejectOnFailure: boolean): Promise<void> {
    if (this.#state !== 'running' || this.#conns.has(address) || this.#dialing.has(address)) return;
    this.#dialing.add(address);
    const c = new ConsumerConnection(address, this.#conn, this);
    try {
      await c.open(this.topic, this.channel);
    } catch (err) {
      this.#dialing.delete(address);
      c.destroy();
      this.#log.error(`[${this.topic}/${this.channel}] (${address}) error connecting to nsqd - ${(err as Error).message}`);
      this.#checkAllClosed();
      if (rejectOnFailure) throw err;
      this.#emitError(err as Error);
      if (direct) this.#scheduleReconnect(address);
      return;
    }
    this.#dialing.delete(address);
    if (this.#state !== 'running') {
      c.destroy();
      this.#checkAllClosed();
      return;
    }
    this.#reconnects.delete(address);
    this.#conns.set(address, c);
    this.#log.info(`[${this.topic}/${this.channel}] (${address}) connected`);
    // go-nsq: lower the existing connections' shares first, then give the new one its share.
    for (const other of this.#conns.values()) if (other !== c) this.#maybeUpdateRdy(other);
    this.#maybeUpdateRdy(c);
    this.emit('nsqdConnected', address);
  }

  #scheduleReconnect(address: string): void {
    if (this.#state !== 'running') return;
    const r = this.#reconnects.get(address) ?? { timer: null, failures: 0 };
    if (r.timer !== null) return;
    const delay = Math.min(this.#o.reconnectDelay * 2 ** r.failures, this.#o.lookupdPollInterval);
    r.failures++;
    r.timer = setTimeout(() => {
      r.timer = null;
      void this.#connectTo(address, true, false);
    }, delay);
    this.#reconnects.set(address, r);
  }

  onClosed(c: ConsumerConnection, err: NsqError | null): void {
    if (this.#conns.get(c.address) !== c) return;
    this.#conns.delete(c.address);
    const hadRdy = c.rdy > 0 || c.rdyRetry !== null;
    this.#totalRdy -= c.rdy;
    c.rdy = 0;
    this.#log.info(`[${this.topic}/${this.channel}] (${c.address}) connection closed${err ? ` - ${err.message}` : ''}`);
    this.emit('nsqdClosed', c.address, err);
    if (this.#state === 'running') {
      const left = this.#conns.size;
      if (hadRdy && (left === this.#maxInFlight || this.#backoffCounter > 0)) this.#needRedistribute = true;
      for (const other of this.#conns.values()) this.#maybeUpdateRdy(other);
      if (this.#directAddresses.includes(c.address)) this.#scheduleReconnect(c.address);
      else if (this.#lookupdUrls.length > 0) void this.#queryLookupds();
    } else this.#checkAllClosed();
  }

  #checkAllClosed(): void {
    if (this.#state === 'stopping' && this.#conns.size === 0 && this.#dialing.size === 0) this.#allClosed?.();
  }

  onErrorFrame(c: ConsumerConnection, err: NsqError): void {
    this.#log.error(`[${this.topic}/${this.channel}] (${c.address}) protocol error - ${err.message}`);
    this.#emitError(err);
  }

  #emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  // ---- discovery

  #pollLoop(): void {
    if (this.#state !== 'running') return;
    void this.#queryLookupds().finally(() => {
      if (this.#state === 'running') this.#lookupTimer = setTimeout(() => this.#pollLoop(), this.#o.lookupdPollInterval);
    });
  }

  // Queries every lookupd and connects to each nsqd any of them lists (the union over lookupds,
  // as the nsq.io client guide describes; go-nsq rotates one per tick, which converges to it).
  #queryLookupds(): Promise<void> {
    if (this.#lookupRunning !== null) return this.#lookupRunning;
    this.#lookupRunning = (async () => {
      const found = new Set<string>();
      await Promise.all(
        this.#lookupdUrls.map(async (url) => {
          try {
            for (const a of await queryLookupd(url, this.#o.lookupdPollTimeout, this.#conn.authSecret)) found.add(a);
          } catch (err) {
            this.#log.warn(`[${this.topic}/${this.channel}] ${(err as Error).message}`);
          }
        }),
      );
      await Promise.all([...found].map((a) => this.#connectTo(a, false, false)));
    })().finally(() => (this.#lookupRunning = null));
    return this.#lookupRunning;
  }

  // ---- RDY (go-nsq maybeUpdateRDY / updateRDY / sendRDY / redistributeRDY)

  #maybeUpdateRdy(c: ConsumerConnection): void {
    if (this.#backoffCounter > 0 || this.#backoffTimer !== null) return;
    this.#updateRdy(c, perConnectionRdy(this.#maxInFlight, this.#conns.size));
  }

  #updateRdy(c: ConsumerConnection, wanted: number): void {
    if (c.closing) return;
    if (c.rdyRetry !== null) {
      clearTimeout(c.rdyRetry);
      c.rdyRetry = null;
    }
    const count = cappedRdy(wanted, c.rdy, this.#totalRdy, this.#maxInFlight, c.features.maxRdyCount);
    if (count === null) {
      // No budget left: try again later unless the connection already holds some RDY.
      if (c.rdy === 0) {
        c.rdyRetry = setTimeout(() => {
          c.rdyRetry = null;
          if (this.#conns.get(c.address) === c) this.#updateRdy(c, wanted);
        }, 5000);
        c.rdyRetry.unref();
      }
      return;
    }
    if (count === c.rdy) return;
    this.#totalRdy += count - c.rdy;
    c.sendRdy(count);
  }

  #redistributeRdy(): void {
    if (this.#state !== 'running' || this.#backoffTimer !== null) return;
    const conns = [...this.#conns.values()];
    if (conns.length > this.#maxInFlight) this.#needRedistribute = true;
    if (this.#backoffCounter > 0 && conns.length > 1) this.#needRedistribute = true;
    if (!this.#needRedistribute) return;
    this.#needRedistribute = false;
    const now = Date.now();
    for (const c of conns) {
      if (c.rdy > 0 && (now - c.lastMessageAt > this.#o.lowRdyIdleTimeout || now - c.lastRdyAt > this.#o.lowRdyTimeout)) {
        this.#updateRdy(c, 0);
      }
    }
    let available = (this.#backoffCounter > 0 ? 1 : this.#maxInFlight) - this.#totalRdy;
    const possible = conns.slice();
    while (possible.length > 0 && available > 0) {
      available--;
      const i = Math.floor(Math.random() * possible.length);
      const c = possible[i]!;
      possible.splice(i, 1);
      this.#updateRdy(c, 1);
    }
  }

  // ---- backoff (go-nsq startStopContinueBackoff / backoff / resume)

  #backoffSignal(signal: BackoffSignal): void {
    if (this.#backoffTimer !== null || this.#o.maxBackoffDuration <= 0 || this.#state !== 'running') return;
    const step = backoffStep(this.#backoffCounter, signal, this.#o.backoffStrategy, this.#o.backoffMultiplier, this.#o.maxBackoffDuration);
    const changed = step.counter !== this.#backoffCounter;
    this.#backoffCounter = step.counter;
    if (changed) this.emit('backoff', step.counter);
    if (step.action === 'exit') {
      this.#log.warn(`[${this.topic}/${this.channel}] backoff complete, resuming normal operation`);
      const count = perConnectionRdy(this.#maxInFlight, this.#conns.size);
      for (const c of this.#conns.values()) this.#updateRdy(c, count);
    } else if (step.action === 'wait') {
      this.#startBackoffTimeout(step.duration);
    }
  }

  #startBackoffTimeout(ms: number): void {
    this.#log.warn(`[${this.topic}/${this.channel}] backing off for ${(ms / 1000).toFixed(3)}s (backoff level ${this.#backoffCounter})`);
    for (const c of this.#conns.values()) this.#updateRdy(c, 0);
    this.#backoffTimer = setTimeout(() => this.#resume(), ms);
  }

  // After a backoff timeout one random connection gets RDY 1; its message decides what comes next.
  #resume(): void {
    this.#backoffTimer = null;
    if (this.#state !== 'running') return;
    const conns = [...this.#conns.values()].filter((c) => !c.closing);
    if (conns.length === 0) {
      this.#startBackoffTimeout(1000);
      return;
    }
    const c = conns[Math.floor(Math.random() * conns.length)]!;
    this.#updateRdy(c, 1);
  }

  // ---- messages

  requeueDelay(m: Message): number {
    return Math.min(this.#o.defaultRequeueDelay * m.attempts, this.#o.maxRequeueDelay);
  }

  onFinished(): void {
    this.#finished++;
    this.#backoffSignal('resume');
  }

  onRequeued(_c: ConsumerConnection, backoff: boolean): void {
    this.#requeued++;
    this.#backoffSignal(backoff ? 'backoff' : 'continue');
  }

  onMessage(m: Message): void {
    this.#received++;
    const max = this.#o.maxAttempts;
    if (max > 0 && m.attempts > max) {
      this.#log.warn(`[${this.topic}/${this.channel}] msg ${m.id} attempted ${m.attempts} times, giving up`);
      try {
        this.emit('discard', m);
      } finally {
        m.finish();
      }
      return;
    }
    this.#queue.push(m);
    this.#drain();
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const waiter = this.#iterWaiters.shift();
      if (waiter !== undefined) {
        waiter({ value: this.#queue.shift()!, done: false });
        continue;
      }
      if (this.#iterators > 0 && this.#state === 'running') return;
      if (this.#handler !== null) {
        if (this.#running >= this.#o.concurrency) break;
        this.#run(this.#handler, this.#queue.shift()!);
        continue;
      }
      if (this.listenerCount('message') > 0) {
        const m = this.#queue.shift()!;
        for (const l of this.listeners('message')) this.#run(l as MessageHandler, m, true);
        continue;
      }
      break;
    }
    // While closing, nothing waits for messages nobody is handling: they go back at once.
    if (this.#state !== 'running') for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) m.requeue(0, false);
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
          this.#log.warn(`[${this.topic}/${this.channel}] handler failed for msg ${m.id} - ${(err as Error)?.message ?? String(err)}`);
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
      (r as Promise<void>).then(() => done(undefined), (err: unknown) => done(err ?? new Error('handler rejected')));
    } else if (!manual) done(undefined);
    else if (touch !== null) clearInterval(touch);
  }

  #startAutoTouch(m: Message): NodeJS.Timeout | null {
    const c = this.#conns.get(m.nsqdAddress);
    const timeout = c?.features.msgTimeout ?? 0;
    if (timeout <= 0) return null;
    const t = setInterval(() => (m.hasResponded ? clearInterval(t) : m.touch()), Math.max(500, timeout / 2));
    t.unref();
    return t;
  }

  /** Iterator style: yields each message; the caller must finish() or requeue() it. Ends on close(). */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
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
        if (this.#state === 'stopping' || this.#state === 'stopped') return Promise.resolve(end());
        return new Promise<IteratorResult<Message>>((resolve) => this.#iterWaiters.push(resolve));
      },
      return: () => Promise.resolve(end()),
    };
  }

  // ---- shutdown

  /**
   * Stops discovery and reconnects, sends RDY 0, requeues messages nobody picked up yet, sends CLS on every
   * connection, waits until in-flight messages are answered (each socket closes after its
   * CLOSE_WAIT once nothing is in flight) or `closeTimeout` passes, then closes what is left.
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closed = this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#state = 'stopping';
    for (const t of [this.#lookupTimer, this.#backoffTimer]) if (t !== null) clearTimeout(t);
    if (this.#redistributeTimer !== null) clearInterval(this.#redistributeTimer);
    for (const r of this.#reconnects.values()) if (r.timer !== null) clearTimeout(r.timer);
    this.#reconnects.clear();
    this.#backoffTimer = null;
    for (const w of this.#iterWaiters.splice(0)) w({ value: undefined, done: true });
    // RDY 0 before the queued messages go back: nsqd runs a connection's commands in order, so it
    // stops delivering here before it sees the REQs. A REQ with delay 0 on a connection that still
    // holds RDY would be handed straight back to this closing consumer. (CLS zeroes RDY too,
    // nsqd/protocol_v2.go CLS → StartClose, but only once it arrives after the REQs.)
    for (const c of this.#conns.values()) this.#updateRdy(c, 0);
    for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) m.requeue(0, false);
    if (this.#conns.size > 0 || this.#dialing.size > 0) {
      const allClosed = new Promise<void>((r) => (this.#allClosed = r));
      for (const c of this.#conns.values()) c.startClose();
      const timer = setTimeout(() => {
        for (const c of this.#conns.values()) c.destroy();
      }, this.#o.closeTimeout);
      await allClosed;
      clearTimeout(timer);
    }
    if (this.#lookupRunning !== null) await this.#lookupRunning;
    this.#state = 'stopped';
    this.emit('closed');
  }
}
