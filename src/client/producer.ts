/**
 * Publishes to one nsqd over one TCP connection (go-nsq `producer.go`). The connection opens on
 * first use; commands are pipelined and every PUB/MPUB/DPUB is answered by exactly one `OK` or
 * error frame, matched strictly in order. When the connection drops, the publishes waiting for an
 * answer are rejected and the next publish reconnects, after a delay that doubles with each
 * consecutive failure.
 */
import { EventEmitter } from 'node:events';
import { Deque } from '../lib/deque.js';
import type { Logger } from '../lib/logger.js';
import { isValidTopicName } from '../protocol/names.js';
import { CMD_NOP, dpubCommand, mpubCommand, pubCommand } from './commands.js';
import { Connection, type ConnectionHandler } from './connection.js';
import { NsqError, clientError } from './errors.js';
import { defaultLogger, resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from './options.js';

/** Producer settings: connection options plus the reconnect delay. */
export interface ProducerOptions extends ConnectionOptions {
  /** Delay before reconnecting after the first failure, doubled per consecutive failure (default 1000 ms). */
  reconnectDelay?: number;
  /** Cap of the reconnect delay (default 30000 ms). */
  maxReconnectDelay?: number;
}

/** Producer lifecycle. */
export type ProducerState = 'idle' | 'connecting' | 'connected' | 'closing' | 'closed';

interface Pending {
  resolve: () => void;
  reject: (err: NsqError) => void;
}

/** A publisher bound to one nsqd `host:port`. Events: `connected`, `disconnected` (err|null), `error`. */
export class Producer extends EventEmitter {
  readonly address: string;
  readonly #opts: ResolvedConnectionOptions;
  readonly #log: Logger;
  readonly #reconnectDelay: number;
  readonly #maxReconnectDelay: number;
  #state: ProducerState = 'idle';
  #conn: Connection | null = null;
  #connecting: Promise<Connection> | null = null;
  readonly #pending = new Deque<Pending>();
  #failures = 0;
  #lastFailure = 0;
  #lastTopic = '';
  #closeWaiters: Array<() => void> = [];

  constructor(address: string, opts: ProducerOptions = {}) {
    super();
    this.address = address;
    this.#opts = resolveConnectionOptions(opts);
    this.#log = opts.logger ?? defaultLogger();
    this.#reconnectDelay = opts.reconnectDelay ?? 1000;
    this.#maxReconnectDelay = opts.maxReconnectDelay ?? 30000;
  }

  get state(): ProducerState {
    return this.#state;
  }

  /** Publish commands sent but not answered yet. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Opens the connection now (publishing does it on demand). */
  async connect(): Promise<void> {
    await this.#connection();
  }

  /** PUB: resolves on `OK`; rejects with the server's NsqError (e.g. `E_BAD_MESSAGE`). */
  publish(topic: string, body: Buffer | string): Promise<void> {
    const bad = this.#checkTopic(topic);
    if (bad !== null) return Promise.reject(bad);
    return this.#send(pubCommand(topic, body));
  }

  /** MPUB: all bodies in one command, answered by one `OK`. */
  mpublish(topic: string, bodies: readonly (Buffer | string)[]): Promise<void> {
    const bad = this.#checkTopic(topic);
    if (bad !== null) return Promise.reject(bad);
    if (bodies.length === 0) return Promise.reject(clientError('E_INVALID_ARGUMENT', 'MPUB needs at least one message', false));
    return this.#send(mpubCommand(topic, bodies));
  }

  /** DPUB: the message becomes visible to consumers after `delayMs`. */
  dpublish(topic: string, body: Buffer | string, delayMs: number): Promise<void> {
    const bad = this.#checkTopic(topic);
    if (bad !== null) return Promise.reject(bad);
    if (!(delayMs >= 0)) return Promise.reject(clientError('E_INVALID_ARGUMENT', `invalid defer duration ${delayMs}`, false));
    return this.#send(dpubCommand(topic, delayMs, body));
  }

  /** Connects if needed and sends NOP (go-nsq `Ping`). */
  async ping(): Promise<void> {
    const conn = await this.#connection();
    conn.write(CMD_NOP);
  }

  /** Stops accepting publishes, waits for the pending ones to be answered, closes the connection. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state !== 'closing') {
      this.#state = 'closing';
      if (this.#connecting !== null) await this.#connecting.catch(() => undefined);
    }
    if (this.#pending.length > 0) await new Promise<void>((r) => this.#closeWaiters.push(r));
    const conn = this.#conn;
    this.#conn = null;
    this.#state = 'closed';
    if (conn !== null) {
      await new Promise<void>((resolve) => {
        if (conn.state === 'closed') return resolve();
        this.once('disconnected', () => resolve());
        conn.close();
      });
    }
  }

  // Topic names are checked locally so a typo does not cost the whole pipelined connection
  // (nsqd answers E_BAD_TOPIC fatally); same code and text as the server.
  #checkTopic(topic: string): NsqError | null {
    if (topic === this.#lastTopic || isValidTopicName(topic)) {
      this.#lastTopic = topic;
      return null;
    }
    return new NsqError('E_BAD_TOPIC', `E_BAD_TOPIC PUB topic name ${JSON.stringify(topic)} is not valid`, false);
  }

  #send(cmd: Buffer): Promise<void> {
    const conn = this.#conn;
    if (conn?.writable && this.#state === 'connected') {
      return new Promise<void>((resolve, reject) => {
        this.#pending.push({ resolve, reject });
        conn.write(cmd);
      });
    }
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(clientError('E_CLOSED', `producer for ${this.address} is closed`));
    }
    return this.#connection().then((c) => new Promise<void>((resolve, reject) => {
      if (!c.writable) return reject(clientError('E_NOT_CONNECTED', `${this.address}: not connected`));
      this.#pending.push({ resolve, reject });
      c.write(cmd);
    }));
  }

  // The open connection, dialling (after the reconnect delay, if the last attempt failed) when needed.
  #connection(): Promise<Connection> {
    if (this.#conn?.writable) return Promise.resolve(this.#conn);
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(clientError('E_CLOSED', `producer for ${this.address} is closed`));
    }
    if (this.#connecting !== null) return this.#connecting;
    this.#state = 'connecting';
    this.#connecting = this.#dial().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #dial(): Promise<Connection> {
    if (this.#failures > 0) {
      const delay = Math.min(this.#reconnectDelay * 2 ** (this.#failures - 1), this.#maxReconnectDelay);
      const wait = this.#lastFailure + delay - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const conn = new Connection(this.address, this.#opts, this.#handlerFor());
    try {
      await conn.connect();
    } catch (err) {
      this.#failures++;
      this.#lastFailure = Date.now();
      if (this.#state === 'connecting') this.#state = 'idle';
      this.#log.error(`(${this.address}) error connecting to nsqd - ${(err as Error).message}`);
      throw err;
    }
    this.#conn = conn;
    if (this.#state === 'connecting') this.#state = 'connected';
    this.emit('connected', this.address);
    return conn;
  }

  #handlerFor(): ConnectionHandler {
    return {
      onResponse: (data) => {
        const p = this.#pending.shift();
        if (p === undefined) {
          this.#log.error(`(${this.address}) unexpected response ${JSON.stringify(data.toString())}`);
          this.#conn?.destroy(clientError('E_PROTOCOL', `${this.address}: response without a pending command`));
          return;
        }
        this.#failures = 0;
        p.resolve();
        this.#maybeClosed();
      },
      onErrorFrame: (err) => {
        const p = this.#pending.shift();
        if (p === undefined) {
          this.#log.error(`(${this.address}) protocol error - ${err.message}`);
          return;
        }
        p.reject(err);
        this.#maybeClosed();
      },
      onMessage: () => {
        this.#conn?.destroy(clientError('E_PROTOCOL', `${this.address}: message frame on a producer connection`));
      },
      onClose: (err) => {
        if (this.#conn !== null && this.#conn.state === 'closed') this.#conn = null;
        const reason = err ?? clientError('E_NOT_CONNECTED', `${this.address}: connection closed`);
        if (err !== null) {
          this.#failures++;
          this.#lastFailure = Date.now();
          this.#log.warn(`(${this.address}) connection closed - ${err.message}`);
        }
        for (let p = this.#pending.shift(); p !== undefined; p = this.#pending.shift()) {
          p.reject(new NsqError('E_NOT_CONNECTED', `${this.address}: not connected (${reason.message})`));
        }
        if (this.#state === 'connected') this.#state = 'idle';
        this.emit('disconnected', err);
        if (err !== null && this.listenerCount('error') > 0) this.emit('error', err);
        this.#maybeClosed();
      },
    };
  }

  #maybeClosed(): void {
    if (this.#pending.length > 0 || this.#closeWaiters.length === 0) return;
    for (const w of this.#closeWaiters.splice(0)) w();
  }
}
