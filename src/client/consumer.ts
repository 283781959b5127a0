/**
 * Consumes one topic/channel from any number of nsqd nodes, given directly and/or discovered
 * through nsqlookupd (go-nsq `consumer.go`). This class is the public face and owns the
 * connections; the decisions live in three parts it wires together: RdyController (the shared
 * `maxInFlight` budget, RDY redistribution and backoff), MessageDispatcher (handler, listener and
 * iterator delivery) and NsqdDiscovery (lookupd polling and reconnects).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import { ConsumerConnection, type ConsumerConnectionOwner } from './consumer-connection.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './consumer-options.js';
import { type NsqError, clientError } from './errors.js';
import { MessageDispatcher, type MessageHandler } from './message-dispatcher.js';
import type { Message } from './message.js';
import { NsqdDiscovery } from './nsqd-discovery.js';
import { defaultLogger, resolveConnectionOptions, type ResolvedConnectionOptions } from './options.js';
import { RDY_RETRY_DELAY, RdyController, connectionStarved } from './rdy-controller.js';

/** Counters of a consumer. */
export interface ConsumerStats {
  messagesReceived: number;
  messagesFinished: number;
  messagesRequeued: number;
  connections: number;
}

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
  readonly #prefix: string;
  readonly #o: ResolvedConsumerOptions;
  #state: ConsumerState = 'init';

  readonly #conns = new Map<string, ConsumerConnection>();
  readonly #dialing = new Set<string>();
  readonly #rdy: RdyController<ConsumerConnection>;
  #redistributeTimer: NodeJS.Timeout | null = null;
  #backoffTimer: NodeJS.Timeout | null = null;
  readonly #dispatch: MessageDispatcher;
  readonly #discovery: NsqdDiscovery;

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
    this.#prefix = `[${topic}/${channel}]`;
    const o = resolveConsumerOptions(opts);
    this.#o = o;
    if (!(o.maxInFlight >= 0)) throw clientError('E_INVALID_ARGUMENT', `maxInFlight must be >= 0`);
    this.#rdy = new RdyController<ConsumerConnection>(o, {
      writeRdy: (c, count) => c.writeRdy(count),
      scheduleRetry: (c, wanted) => {
        c.rdyRetry = setTimeout(() => {
          c.rdyRetry = null;
          this.#rdy.retry(c, wanted);
        }, RDY_RETRY_DELAY);
        c.rdyRetry.unref();
      },
      cancelRetry: (c) => {
        if (c.rdyRetry !== null) clearTimeout(c.rdyRetry);
        c.rdyRetry = null;
      },
      startBackoffTimeout: (ms, level) => {
        this.#log.warn(`${this.#prefix} backing off for ${(ms / 1000).toFixed(3)}s (backoff level ${level})`);
        this.#backoffTimer = setTimeout(() => {
          this.#backoffTimer = null;
          if (this.#state === 'running') this.#rdy.resume();
          else this.#rdy.endBackoffTimeout();
        }, ms);
      },
      backoffLevelChanged: (level, exited) => {
        this.emit('backoff', level);
        if (exited) this.#log.warn(`${this.#prefix} backoff complete, resuming normal operation`);
      },
    });
    const host = { events: this, log: this.#log, logPrefix: this.#prefix };
    this.#dispatch = new MessageDispatcher(o, { ...host, msgTimeoutOf: (m) => this.#conns.get(m.nsqdAddress)?.features.msgTimeout ?? 0 });
    this.#discovery = new NsqdDiscovery(
      { ...o, topic, authSecret: this.#conn.authSecret },
      { ...host, isRunning: () => this.#state === 'running', connect: (address, direct) => this.#connectTo(address, direct, false) },
    );
  }

  /** The current RDY budget. */
  get maxInFlight(): number {
    return this.#rdy.maxInFlight;
  }

  /** Connected nsqd addresses. */
  get connectedAddresses(): string[] {
    return [...this.#conns.keys()];
  }

  /** Sum of the RDY counts last sent. */
  get totalRdy(): number {
    return this.#rdy.totalRdy;
  }

  /**
   * go-nsq `IsStarved`: true when some connection has used at least 85% of its RDY, i.e. nsqd
   * will send no more until messages are answered. Batching consumers flush early on it.
   */
  isStarved(): boolean {
    for (const c of this.#conns.values()) if (connectionStarved(c.inFlight, c.rdy, c.closing)) return true;
    return false;
  }

  /** Backoff level (0 = not backing off). */
  get backoffLevel(): number {
    return this.#rdy.backoffLevel;
  }

  stats(): ConsumerStats {
    return { messagesReceived: this.#received, messagesFinished: this.#finished, messagesRequeued: this.#requeued, connections: this.#conns.size };
  }

  /** Sets the message handler (one per consumer). */
  handle(fn: MessageHandler): this {
    this.#dispatch.setHandler(fn);
    return this;
  }

  /**
   * Connects to the direct nsqd addresses and runs the first lookupd query; resolves when those
   * attempts are done (failed nsqds are retried in the background). Discovery then continues.
   */
  async connect(): Promise<void> {
    if (this.#state !== 'init') throw clientError('E_INVALID_ARGUMENT', `connect() called twice`);
    this.#start();
    await this.#discovery.start();
  }

  /**
   * go-nsq `ConnectToNSQD`: connects to one more nsqd now and rejects if that fails (no retry);
   * once connected, a dropped connection is retried like the `nsqdTcpAddresses` ones.
   */
  async connectToNsqd(address: string): Promise<void> {
    if (this.#state === 'init') this.#start();
    if (this.#state !== 'running') throw clientError('E_CLOSED', 'consumer is closed');
    this.#discovery.addDirect(address);
    await this.#connectTo(address, true, true);
  }

  #start(): void {
    this.#state = 'running';
    this.#redistributeTimer = setInterval(() => {
      if (this.#state === 'running') this.#rdy.redistribute();
    }, this.#o.rdyRedistributeInterval);
    this.#redistributeTimer.unref();
  }

  /** Changes the RDY budget and re-applies each connection's share (go-nsq `ChangeMaxInFlight`). */
  changeMaxInFlight(n: number): void {
    this.#rdy.setMaxInFlight(n);
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
      this.#log.error(`${this.#prefix} (${address}) error connecting to nsqd - ${(err as Error).message}`);
      this.#checkAllClosed();
      if (rejectOnFailure) throw err;
      this.#emitError(err as Error);
      if (direct) this.#discovery.dialFailed(address);
      return;
    }
    this.#dialing.delete(address);
    if (this.#state !== 'running') {
      c.destroy();
      this.#checkAllClosed();
      return;
    }
    this.#discovery.connected(address);
    this.#conns.set(address, c);
    this.#log.info(`${this.#prefix} (${address}) connected`);
    this.#rdy.add(c);
    this.emit('nsqdConnected', address);
  }

  onClosed(c: ConsumerConnection, err: NsqError | null): void {
    if (this.#conns.get(c.address) !== c) return;
    this.#conns.delete(c.address);
    this.#rdy.remove(c);
    this.#log.info(`${this.#prefix} (${c.address}) connection closed${err ? ` - ${err.message}` : ''}`);
    this.emit('nsqdClosed', c.address, err);
    if (this.#state === 'running') {
      this.#rdy.rebalance();
      this.#discovery.dropped(c.address);
    } else this.#checkAllClosed();
  }

  #checkAllClosed(): void {
    if (this.#state === 'stopping' && this.#conns.size === 0 && this.#dialing.size === 0) this.#allClosed?.();
  }

  onErrorFrame(c: ConsumerConnection, err: NsqError): void {
    this.#log.error(`${this.#prefix} (${c.address}) protocol error - ${err.message}`);
    this.#emitError(err);
  }

  #emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  // ---- messages (ConsumerConnectionOwner)

  requeueDelay(m: Message): number {
    return Math.min(this.#o.defaultRequeueDelay * m.attempts, this.#o.maxRequeueDelay);
  }

  onFinished(): void {
    this.#finished++;
    if (this.#state === 'running') this.#rdy.signal('resume');
  }

  onRequeued(_c: ConsumerConnection, backoff: boolean): void {
    this.#requeued++;
    if (this.#state === 'running') this.#rdy.signal(backoff ? 'backoff' : 'continue');
  }

  onMessage(m: Message): void {
    this.#received++;
    this.#dispatch.deliver(m);
  }

  /** Iterator style: yields each message; the caller must finish() or requeue() it. Ends on close(). */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this.#dispatch.iterator();
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
    const discoveryStopped = this.#discovery.stop();
    if (this.#backoffTimer !== null) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = null;
    this.#rdy.endBackoffTimeout();
    if (this.#redistributeTimer !== null) clearInterval(this.#redistributeTimer);
    // RDY 0 before the queued messages go back: nsqd runs a connection's commands in order, so it
    // stops delivering here before it sees the REQs. A REQ with delay 0 on a connection that still
    // holds RDY would be handed straight back to this closing consumer. (CLS zeroes RDY too,
    // nsqd/protocol_v2.go CLS → StartClose, but only once it arrives after the REQs.)
    this.#rdy.pauseAll();
    this.#dispatch.close();
    if (this.#conns.size > 0 || this.#dialing.size > 0) {
      const allClosed = new Promise<void>((r) => (this.#allClosed = r));
      for (const c of this.#conns.values()) c.startClose();
      const timer = setTimeout(() => {
        for (const c of this.#conns.values()) c.destroy();
      }, this.#o.closeTimeout);
      await allClosed;
      clearTimeout(timer);
    }
    await discoveryStopped;
    this.#state = 'stopped';
    this.emit('closed');
  }
}
