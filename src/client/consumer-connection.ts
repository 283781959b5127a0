/**
 * One subscribed connection of a Consumer: SUB, the connection's RDY and in-flight counts, the
 * responses of its messages, and the CLS → CLOSE_WAIT → close handshake (go-nsq `conn.go`).
 * Consumer-wide decisions (RDY budget, backoff, dispatch) are delegated to its owner.
 */
import { CMD_CLS, finCommand, rdyCommand, reqCommand, subCommand, touchCommand } from './commands.js';
import { Connection, type ConnectionHandler } from './connection.js';
import { type NsqError, clientError } from './errors.js';
import { Message, type MessageResponder } from './message.js';
import type { ResolvedConnectionOptions, ServerFeatures } from './options.js';
import type { RdyConnection } from './rdy-controller.js';

/** What a ConsumerConnection reports to its consumer. */
export interface ConsumerConnectionOwner {
  onMessage(m: Message, from: ConsumerConnection): void;
  onFinished(from: ConsumerConnection): void;
  onRequeued(from: ConsumerConnection, backoff: boolean): void;
  requeueDelay(m: Message): number;
  onErrorFrame(from: ConsumerConnection, err: NsqError): void;
  onClosed(from: ConsumerConnection, err: NsqError | null): void;
}

const OK = Buffer.from('OK');
const CLOSE_WAIT = Buffer.from('CLOSE_WAIT');

/** A consumer's connection to one nsqd. */
export class ConsumerConnection implements ConnectionHandler, MessageResponder, RdyConnection {
  readonly address: string;
  readonly #conn: Connection;
  readonly #owner: ConsumerConnectionOwner;
  /** Last RDY count sent (kept by the consumer's RdyController). */
  rdy = 0;
  /** Messages received and not yet responded. */
  inFlight = 0;
  /** Time (ms) of the last message, and of the last non-zero RDY (redistribution inputs). */
  lastMessageAt = 0;
  lastRdyAt = 0;
  /** Pending retry of an RDY refused for lack of budget. */
  rdyRetry: NodeJS.Timeout | null = null;
  #subWaiter: { resolve: () => void; reject: (e: NsqError) => void } | null = null;
  #clsSent = false;
  #closeWaitSeen = false;

  constructor(address: string, opts: ResolvedConnectionOptions, owner: ConsumerConnectionOwner) {
    this.address = address;
    this.#owner = owner;
    this.#conn = new Connection(address, opts, this);
  }

  get features(): ServerFeatures {
    return this.#conn.features;
  }

  /** True after CLS was sent (no more RDY). */
  get closing(): boolean {
    return this.#clsSent || this.#conn.state !== 'ready';
  }

  get closed(): boolean {
    return this.#conn.state === 'closed';
  }

  /** Connects, negotiates and subscribes; resolves once nsqd answered SUB with OK. */
  async open(topic: string, channel: string): Promise<void> {
    await this.#conn.connect();
    await new Promise<void>((resolve, reject) => {
      this.#subWaiter = { resolve, reject };
      this.#conn.write(subCommand(topic, channel));
    });
  }

  /** nsqd's max_rdy_count for this connection. */
  get maxRdyCount(): number {
    return this.#conn.features.maxRdyCount;
  }

  /** Writes `RDY n` (the count is recorded by the RdyController that decided it). */
  writeRdy(count: number): void {
    this.#conn.write(rdyCommand(count));
  }

  /** CLS: nsqd stops delivering and answers CLOSE_WAIT; the socket closes once nothing is in flight. */
  startClose(): void {
    if (this.#clsSent || this.#conn.state !== 'ready' || this.#subWaiter !== null) {
      if (this.#conn.state !== 'ready' || this.#subWaiter !== null) this.#conn.destroy(null);
      return;
    }
    this.#clsSent = true;
    this.#conn.write(CMD_CLS);
  }

  /** Closes the socket now. */
  destroy(err: NsqError | null = null): void {
    this.#conn.destroy(err);
  }

  // ---- ConnectionHandler

  onResponse(data: Buffer): void {
    if (this.#subWaiter !== null && data.equals(OK)) {
      const w = this.#subWaiter;
      this.#subWaiter = null;
      w.resolve();
    } else if (data.equals(CLOSE_WAIT)) {
      this.#closeWaitSeen = true;
      this.#maybeClose();
    }
  }

  onErrorFrame(err: NsqError): void {
    if (this.#subWaiter !== null) {
      const w = this.#subWaiter;
      this.#subWaiter = null;
      w.reject(err);
      return;
    }
    this.#owner.onErrorFrame(this, err);
  }

  onMessage(data: Buffer): void {
    let m: Message;
    try {
      m = new Message(data, this);
    } catch (err) {
      this.#conn.destroy(err as NsqError);
      return;
    }
    this.inFlight++;
    this.lastMessageAt = Date.now();
    this.#owner.onMessage(m, this);
  }

  onClose(err: NsqError | null): void {
    if (this.rdyRetry !== null) clearTimeout(this.rdyRetry);
    this.rdyRetry = null;
    if (this.#subWaiter !== null) {
      const w = this.#subWaiter;
      this.#subWaiter = null;
      w.reject(err ?? clientError('E_NOT_CONNECTED', `${this.address}: connection closed before SUB was answered`));
      return;
    }
    this.#owner.onClosed(this, err);
  }

  // ---- MessageResponder

  finish(m: Message): void {
    if (this.#conn.state === 'closed') return;
    this.#conn.write(finCommand(m.id));
    this.inFlight--;
    this.#owner.onFinished(this);
    this.#maybeClose();
  }

  requeue(m: Message, delayMs: number | undefined, backoff: boolean): void {
    if (this.#conn.state === 'closed') return;
    this.#conn.write(reqCommand(m.id, delayMs ?? this.#owner.requeueDelay(m)));
    this.inFlight--;
    this.#owner.onRequeued(this, backoff);
    this.#maybeClose();
  }

  touch(m: Message): void {
    if (this.#conn.state === 'closed') return;
    this.#conn.write(touchCommand(m.id));
  }

  #maybeClose(): void {
    if (this.#closeWaitSeen && this.inFlight <= 0) this.#conn.close();
  }
}
