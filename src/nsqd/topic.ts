import type { BackendQueue } from '../diskqueue/backend-queue.js';
import type { WriteFailure } from '../diskqueue/write-batch.js';
import { Deque } from '../lib/deque.js';
import { decodeMessage, Message } from '../protocol/message.js';
import { isEphemeral } from '../protocol/names.js';
import { writeMessagesToBackend } from './backend-writes.js';
import { Channel } from './channel.js';
import type { NsqdContext } from './context.js';
import { GuidFactory } from './guid.js';
import { NO_LIMITS, type QueueLimits, trimOldest } from './queue-config.js';

/** Thrown when a publish cannot be accepted (topic exiting, disk write failed). */
export class PutError extends Error {}

/** Messages moved from the topic queue to channels per event-loop turn while draining a backlog. */
const DRAIN_BATCH = 512;

/**
 * A topic: accepts published messages and gives every channel its own copy (upstream nsqd/topic.go).
 *
 * Unlike the original's per-topic goroutine, fan-out happens synchronously in the publish call
 * whenever the topic has channels, is not paused and holds no backlog; otherwise messages wait
 * in the topic's memory queue (then disk) and a drain task moves them in batches once a
 * channel exists or the topic is unpaused.
 */
export class Topic {
  readonly name: string;
  readonly ephemeral: boolean;
  paused = false;
  #exiting = false;
  messageCount = 0;
  messageBytes = 0;
  // Opt-in extensions (docs/extensions.md): NO_LIMITS unless configured.
  limits: QueueLimits;
  rejectedCount = 0;
  droppedCount = 0;

  readonly #ctx: NsqdContext;
  readonly #memCap: number;
  readonly #mem: Deque<Message>;
  #backend: BackendQueue;
  readonly #channels = new Map<string, Channel>();
  #channelList: Channel[] = [];
  readonly #guid: GuidFactory;
  #drainScheduled = false;
  #diskTurn = false;
  /** Called once when an ephemeral topic loses its last channel. */
  onEmpty: ((t: Topic) => void) | null = null;

  constructor(name: string, ctx: NsqdContext) {
    this.name = name;
    this.ephemeral = isEphemeral(name);
    this.#ctx = ctx;
    this.#memCap = ctx.options.memQueueSize;
    this.#mem = new Deque(Math.min(this.#memCap, 1024));
    this.#backend = ctx.makeBackend(name, this.ephemeral);
    this.#guid = new GuidFactory(ctx.options.nodeId);
    this.limits = ctx.extensions?.topicLimits(name) ?? NO_LIMITS;
  }

  get exiting(): boolean {
    return this.#exiting;
  }

  newMessage(body: Buffer, tsHi: number, tsLo: number): Message {
    const g = this.#guid;
    g.advance();
    return new Message(g.hi, body, tsHi, tsLo, 0, g.lo);
  }

  depth(): number {
    return this.#mem.length + this.#backend.depth();
  }

  backendDepth(): number {
    return this.#backend.depth();
  }

  channels(): readonly Channel[] {
    return this.#channelList;
  }

  // ---- publishing -----------------------------------------------------------------------

  /** Accept one message; throws PutError when it cannot be stored. `internal` (dead-lettering) skips admission. */
  putMessage(m: Message, internal = false): void {
    if (this.#exiting) throw new PutError('exiting');
    if (!internal) this.#ctx.extensions?.admit(this, 1);
    this.#put(m, true);
    this.messageCount++;
    this.messageBytes += m.body.length;
    this.#flushWrites();
  }

  /** Accept a batch in order (validation already done by the caller). */
  putMessages(ms: Message[]): void {
    if (this.#exiting) throw new PutError('exiting');
    this.#ctx.extensions?.admit(this, ms.length);
    for (const m of ms) {
      this.#put(m, false);
      this.messageCount++;
      this.messageBytes += m.body.length;
    }
    // One delivery pass per channel for the whole batch, so disk-backed channels write and read
    // the batch with one system call each.
    for (const ch of this.#channelList) ch.pump();
    this.#flushWrites();
  }

  /** Disk writes are batched (WriteBatch): a publish is acknowledged only once they are done. */
  #flushWrites(): void {
    const failures = this.#ctx.writeBatch.flush();
    if (failures !== null) this.#checkWrites(failures);
  }

  /**
   * Throws PutError when the topic's own queue failed to store the publish. A channel's failure
   * is only logged, as the original's channel.put does: the topic has accepted the message and
   * fanned it out, so failing the publish would make a retrying publisher duplicate it.
   */
  #checkWrites(failures: readonly WriteFailure[], logChannels = true): void {
    let own: Error | null = null;
    const prefix = `${this.name}:`;
    for (const f of failures) {
      this.#ctx.setHealth(f.error);
      if (f.name === this.name) own = f.error;
      else if (logChannels && f.name.startsWith(prefix)) {
        const channel = f.name.slice(prefix.length);
        this.#ctx.logger.error(`CHANNEL(${channel}): failed to write message to backend - ${f.error.message}`);
      }
    }
    if (own !== null) throw new PutError(own.message);
  }

  /**
   * What a publisher waits for before its OK: null when the publish is done (default settings:
   * written to the kernel); with --sync-every=1 the group commit that makes it durable (fsync),
   * rejected with PutError when the topic's own queue failed.
   */
  acknowledged(): Promise<void> | null {
    if (this.ephemeral || this.#ctx.options.syncEvery !== 1) return null;
    return this.#ctx.groupCommit.durable().then((failures) => {
      // Channel failures were logged by their queues; every waiter repeating them adds nothing.
      if (failures.length !== 0) this.#checkWrites(failures, false);
    });
  }

  #put(m: Message, pump: boolean): void {
    if (this.#channelList.length !== 0 && !this.paused && this.#mem.length === 0 && !this.#diskHasData()) {
      this.#fanOut(m, pump);
      return;
    }
    if ((this.#memCap > 0 || this.ephemeral || m.deferMs > 0) && this.#mem.length < this.#memCap) {
      this.#mem.push(m);
    } else {
      try {
        this.#backend.putFrom(m);
        if (!this.ephemeral) this.#ctx.setHealth(null);
      } catch (err) {
        this.#ctx.setHealth(err as Error);
        throw new PutError((err as Error).message);
      }
    }
    if (this.limits.dropOldest) this.droppedCount += trimOldest(this.#mem, this.#backend, this.limits.maxDepth);
    this.#scheduleDrain();
  }

  #fanOut(m: Message, pump: boolean): void {
    const list = this.#channelList;
    const last = list.length - 1;
    for (let i = 0; i <= last; i++) {
      const copy = i === last ? m : m.copy();
      if (m.deferMs > 0) list[i]!.putMessageDeferred(copy, m.deferMs);
      else list[i]!.putMessage(copy, pump);
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#channelList.length === 0 || this.paused || this.#exiting) return;
    this.#drainScheduled = true;
    setImmediate(() => this.#drain());
  }

  /** Moves a batch of the topic's backlog to its channels; reschedules itself while any is left. */
  #drain(): void {
    this.#drainScheduled = false;
    let more = true;
    for (let i = 0; i < DRAIN_BATCH; i++) {
      if (this.#channelList.length === 0 || this.paused || this.#exiting) {
        more = false;
        break;
      }
      const m = this.#take();
      if (m === null) continue; // a record went straight to the channel's disk queue
      if (m === undefined) {
        more = false;
        break;
      }
      this.#fanOut(m, false);
    }
    for (const ch of this.#channelList) ch.pump();
    if (more) this.#scheduleDrain();
  }

  /**
   * Whether the disk queue has a record to read. Not just depth() > 0: records salvaged after a
   * crash (meta not synced, docs/disk-format.md) are readable although the persisted depth does not
   * count them, and the original reads whatever lies between the read and write positions.
   */
  #diskHasData(): boolean {
    return this.#backend.peek() !== null;
  }

  /**
   * The next backlog message, from memory or disk alternately; null when a disk record was
   * handed to the only channel as it is (Channel.putRecordIfSpilling: a backlog moving from
   * the topic's disk queue to the channel's is copied, not decoded and encoded again).
   */
  #take(): Message | null | undefined {
    const useDisk = (this.#diskTurn || this.#mem.length === 0) && this.#diskHasData();
    this.#diskTurn = !this.#diskTurn;
    if (!useDisk) return this.#mem.shift();
    const only = this.#channelList.length === 1 ? this.#channelList[0]! : null;
    for (;;) {
      const rec = this.#backend.peek();
      if (rec === null) return this.#mem.shift();
      this.#backend.advance();
      if (only?.putRecordIfSpilling(rec)) return null;
      try {
        return decodeMessage(rec);
      } catch (err) {
        this.#ctx.logger.error(`TOPIC(${this.name}): failed to decode message - ${(err as Error).message}`);
      }
    }
  }

  // ---- channels -------------------------------------------------------------------------

  getChannel(name: string): Channel {
    let ch = this.#channels.get(name);
    if (ch !== undefined) return ch;
    ch = new Channel(this.name, name, this.#ctx);
    if (ch.ephemeral) ch.onEmpty = (c) => this.deleteExistingChannel(c.name);
    this.#channels.set(name, ch);
    this.#channelList = [...this.#channels.values()];
    this.#ctx.logger.info(`TOPIC(${this.name}): new channel(${name})`);
    this.#ctx.notify('create', this.name, name);
    this.#scheduleDrain();
    return ch;
  }

  getExistingChannel(name: string): Channel | undefined {
    return this.#channels.get(name);
  }

  deleteExistingChannel(name: string): boolean {
    const ch = this.#channels.get(name);
    if (ch === undefined) return false;
    this.#ctx.logger.info(`TOPIC(${this.name}): deleting channel ${name}`);
    this.#channels.delete(name);
    this.#channelList = [...this.#channels.values()];
    ch.delete();
    this.#ctx.notify('delete', this.name, name);
    if (this.#channels.size === 0 && this.ephemeral && this.onEmpty) {
      const cb = this.onEmpty;
      this.onEmpty = null;
      cb(this);
    }
    return true;
  }

  // ---- admin ----------------------------------------------------------------------------

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.#scheduleDrain();
  }

  /** Drop the topic's own backlog (memory and disk); channels are untouched (upstream nsqd/topic.go Empty). */
  empty(): void {
    this.#mem.clear();
    this.#backend.empty();
  }

  /** Delete: channels deleted, data removed (upstream nsqd/topic.go Delete). */
  delete(): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.onEmpty = null;
    this.#ctx.logger.info(`TOPIC(${this.name}): deleting`);
    this.#ctx.logger.info(`TOPIC(${this.name}): closing ... messagePump`);
    for (const ch of this.#channelList) {
      ch.delete();
      this.#ctx.notify('delete', this.name, ch.name);
    }
    this.#channels.clear();
    this.#channelList = [];
    this.empty();
    this.#backend.delete();
  }

  /** Shutdown: channels closed (flushed to disk), then the topic's memory queue written to disk. */
  close(): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.onEmpty = null;
    this.#ctx.logger.info(`TOPIC(${this.name}): closing`);
    this.#ctx.logger.info(`TOPIC(${this.name}): closing ... messagePump`);
    for (const ch of this.#channelList) ch.close();
    if (this.#mem.length > 0) {
      this.#ctx.logger.info(`TOPIC(${this.name}): flushing ${this.#mem.length} memory messages to backend`);
    }
    if (!this.ephemeral) {
      writeMessagesToBackend(this.#backend, this.#mem.drain(), this.#ctx.logger, `TOPIC(${this.name})`);
    }
    this.#backend.close();
  }
}
