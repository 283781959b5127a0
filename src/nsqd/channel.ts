import type { BackendQueue } from '../diskqueue/backend-queue.js';
import { Deque } from '../lib/deque.js';
import type { E2eLatency } from '../lib/quantile.js';
import { decodeMessage, Message, MESSAGE_HEADER_SIZE } from '../protocol/message.js';
import type { MessageIdRef } from '../protocol/message-id.js';
import { isEphemeral } from '../protocol/names.js';
import { writeMessagesToBackend } from './backend-writes.js';
import type { Consumer, NsqdContext } from './context.js';
import { KIND_DEFERRED, KIND_IN_FLIGHT } from './inflight-journal-format.js';
import type { InflightJournal, LiveMessages } from './inflight-journal.js';
import { MessageHeap } from './message-heap.js';
import { InFlightQueue } from './in-flight-queue.js';
import { MessageIdMap } from './message-id-map.js';
import { EXPERIMENT_TOPOLOGY_AWARE_CONSUMPTION } from './options.js';
import { isExpired, NO_LIMITS, type QueueLimits, trimOldest } from './queue-config.js';

const isZoneLocal = (c: Consumer): boolean => c.zoneLocal;
const readsRegionQueue = (c: Consumer): boolean => c.zoneLocal || c.regionLocal;

/** Result of FIN/REQ/TOUCH on a message id. */
export type InFlightResult = 'ok' | 'not-in-flight' | 'not-owner' | 'exiting' | 'already-deferred';

/**
 * A channel: its own copy of every message of its topic, shared by its consumers
 * (upstream nsqd/channel.go). Holds the memory queue, the disk backend, the in-flight and deferred sets,
 * and delivers to ready consumers round-robin.
 *
 * About 550 lines because delivery, the in-flight/deferred bookkeeping, the journal hooks and the
 * close paths share one set of private state that must change together; the self-contained parts
 * already live apart (InFlightQueue, MessageHeap, queue-config, backend-writes, inflight-journal).
 */
export class Channel {
  readonly topicName: string;
  readonly name: string;
  readonly ephemeral: boolean;
  paused = false;
  #exiting = false;

  messageCount = 0;
  requeueCount = 0;
  timeoutCount = 0;
  /** Deliveries by consumer locality (upstream nsqd/channel.go); only memory-queue and hand-off deliveries count. */
  zoneLocalMsgCount = 0;
  regionLocalMsgCount = 0;
  globalMsgCount = 0;
  readonly e2e: E2eLatency | null;
  // Opt-in extensions (docs/extensions.md): NO_LIMITS unless configured.
  limits: QueueLimits;
  deadLetteredCount = 0;
  expiredCount = 0;
  droppedCount = 0;

  readonly #ctx: NsqdContext;
  readonly #memCap: number;
  readonly #mem: Deque<Message>;
  #backend: BackendQueue;
  /** --durable-inflight (docs/extensions.md): records deliveries and deferrals; null when off. */
  readonly #journal: InflightJournal | null;
  readonly #inFlight = new MessageIdMap();
  readonly #inFlightQueue = new InFlightQueue();
  readonly #deferred = new MessageIdMap();
  readonly #deferredHeap = new MessageHeap();
  #consumers: Consumer[] = [];
  readonly #byId = new Map<number, Consumer>();
  #rr = 0;
  #pumping = false;
  #pumpScheduled = false;
  #diskTurn = false;
  // Topology-aware consumption: the original's unbuffered zone / region hand-off queues exist
  // only when the experiment is on and the node has that zone / region.
  readonly #zoneHandOff: boolean;
  readonly #regionHandOff: boolean;
  /** Called once when an ephemeral channel loses its last consumer. */
  onEmpty: ((ch: Channel) => void) | null = null;

  constructor(topicName: string, name: string, ctx: NsqdContext) {
    this.topicName = topicName;
    this.name = name;
    this.ephemeral = isEphemeral(name);
    this.#ctx = ctx;
    const size = ctx.options.memQueueSize;
    // mem-queue-size=0 on a durable channel: no memory queue at all, every message goes to disk.
    this.#memCap = size === 0 && !this.ephemeral ? 0 : size;
    this.#mem = new Deque(Math.min(this.#memCap, 1024));
    this.#backend = ctx.makeBackend(`${topicName}:${name}`, this.ephemeral);
    this.#journal = this.ephemeral ? null : (ctx.inflightJournals?.open(this, this.#backend) ?? null);
    this.e2e = ctx.makeE2eLatency();
    this.limits = ctx.extensions?.channelLimits(topicName, name) ?? NO_LIMITS;
    const o = ctx.options;
    const topologyAware = o.enableExperiment.includes(EXPERIMENT_TOPOLOGY_AWARE_CONSUMPTION);
    this.#zoneHandOff = topologyAware && o.topologyZone !== '';
    this.#regionHandOff = topologyAware && o.topologyRegion !== '';
  }

  get exiting(): boolean {
    return this.#exiting;
  }

  depth(): number {
    return this.#mem.length + this.#backend.depth();
  }

  backendDepth(): number {
    return this.#backend.depth();
  }

  inFlightCount(): number {
    return this.#inFlight.size;
  }

  deferredCount(): number {
    return this.#deferred.size;
  }

  consumers(): readonly Consumer[] {
    return this.#consumers;
  }

  clientCount(): number {
    return this.#consumers.length;
  }

  // ---- producers side -------------------------------------------------------------------

  /** Queue a message (memory if room, else disk) and deliver what can be delivered. */
  putMessage(m: Message, pump = true): void {
    if (this.#exiting) return;
    if (this.#memCap === 0 && this.ephemeral) {
      // Go's unbuffered channel: an ephemeral channel without a memory queue hands the message
      // to a consumer that is ready right now, or drops it.
      this.messageCount++;
      this.#mem.push(m);
      this.pump();
      if (this.#mem.length !== 0) this.#mem.shift();
      return;
    }
    this.#put(m);
    this.messageCount++;
    if (this.limits.dropOldest) this.droppedCount += trimOldest(this.#mem, this.#backend, this.limits.maxDepth);
    if (pump && this.#consumers.length !== 0) this.pump();
  }

  /**
   * A message as the topic's disk queue holds it (the record: header and body), taken when it
   * would only be written to this channel's disk queue anyway: the memory queue is full and no
   * option needs the decoded message on the way (ephemeral, topology hand-off, drop-oldest
   * bounds). The bytes go to disk as they are, with no Message made and encoded again (a record
   * is the message's own encoding, docs/disk-format.md). False when the message must be decoded
   * and put as a Message.
   */
  putRecordIfSpilling(rec: Buffer): boolean {
    if (
      this.#exiting ||
      this.ephemeral ||
      this.#mem.length < this.#memCap ||
      this.#zoneHandOff ||
      this.#regionHandOff ||
      this.limits.dropOldest ||
      rec.length < MESSAGE_HEADER_SIZE
    ) {
      return false;
    }
    this.#putToBackend(rec);
    this.messageCount++;
    return true;
  }

  /** Hold a message back for `delayMs` before it becomes deliverable (DPUB, REQ with delay). */
  putMessageDeferred(m: Message, delayMs: number): void {
    if (this.#exiting) return;
    this.messageCount++;
    this.#startDeferred(m, delayMs);
  }

  #put(m: Message): void {
    if ((this.#zoneHandOff || this.#regionHandOff) && this.#handOff(m)) return;
    if (this.#mem.length < this.#memCap) {
      this.#mem.push(m);
      return;
    }
    this.#putToBackend(m);
  }

  /** Writes to the disk queue; a failure is logged and marks nsqd unhealthy (upstream channel.put). */
  #putToBackend(m: Message | Buffer): void {
    try {
      if (m instanceof Message) this.#backend.putFrom(m);
      else this.#backend.put(m);
      if (!this.ephemeral) this.#ctx.setHealth(null);
    } catch (err) {
      this.#ctx.setHealth(err as Error);
      this.#ctx.logger.error(`CHANNEL(${this.name}): failed to write message to backend - ${(err as Error).message}`);
    }
  }

  #startDeferred(m: Message, delayMs: number): boolean {
    if (this.#deferred.hasId(m)) return false;
    m.clientId = 0;
    m.priority = this.#ctx.now() + delayMs;
    this.#deferred.add(m);
    this.#deferredHeap.push(m);
    this.#journal?.deferred(m);
    return true;
  }

  /** A deferred message replayed from the in-flight journal, due at `deadline` (epoch ms). */
  restoreDeferred(m: Message, deadline: number): void {
    // Called while the constructor opens the journal, before #journal is set: nothing is journaled.
    this.#startDeferred(m, deadline - this.#ctx.now());
  }

  /** The in-flight journal's live state: every in-flight and deferred message. */
  readonly journalLive: LiveMessages = (visit) => {
    this.#inFlightQueue.forEach((m) => {
      visit(KIND_IN_FLIGHT, m);
    });
    this.#deferredHeap.forEach((m) => {
      visit(KIND_DEFERRED, m);
    });
  };

  /**
   * The original's non-blocking sends on the unbuffered zone / region queues (upstream nsqd/channel.go, topology-aware consumption): the
   * message goes straight to a topology-local consumer that is ready right now — first a
   * zone-local one, then one that reads the region queue (zone- or region-local) — else false.
   */
  #handOff(m: Message): boolean {
    const consumers = this.#consumers;
    const n = consumers.length;
    if (n === 0 || this.paused || this.#exiting || this.#pumping) return false;
    let viaZone = false;
    let target: Consumer | undefined;
    if (this.#zoneHandOff) {
      target = this.#findReady(isZoneLocal);
      viaZone = target !== undefined;
    }
    if (target === undefined && this.#regionHandOff) target = this.#findReady(readsRegionQueue);
    if (target === undefined) return false;
    // A zone-local consumer counts as zone-local whichever queue it read (as upstream's pump).
    if (viaZone || target.zoneLocal) this.zoneLocalMsgCount++;
    else this.regionLocalMsgCount++;
    const rate = target.sampleRate;
    if (rate > 0 && Math.floor(Math.random() * 100) > rate) return true;
    this.#deliver(target, m, this.#ctx.now());
    return true;
  }

  /** The first ready consumer matching `match`, starting at the round-robin position. */
  #findReady(match: (c: Consumer) => boolean): Consumer | undefined {
    const consumers = this.#consumers;
    const n = consumers.length;
    for (let i = 0; i < n; i++) {
      const c = consumers[(this.#rr + i) % n]!;
      if (match(c) && c.isReady()) {
        this.#rr = (this.#rr + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  /** Make `m` in flight on `c` and write it to the connection. */
  #deliver(c: Consumer, m: Message, now: number): void {
    m.attempts++;
    m.clientId = c.id;
    m.deliveryTs = now;
    m.priority = now + c.msgTimeoutMs;
    // Only queued messages are delivered, and none of them is in flight (FIN, REQ and timeouts
    // take a message out first), so no lookup is needed.
    this.#inFlight.add(m);
    this.#inFlightQueue.push(m, c.msgTimeoutMs);
    this.#journal?.inFlight(m);
    c.deliver(m);
  }

  // ---- consumers ------------------------------------------------------------------------

  /** Subscribe a consumer; returns an error reason or null. */
  addConsumer(c: Consumer): string | null {
    if (this.#exiting) return 'exiting';
    if (this.#byId.has(c.id)) return null;
    const max = this.#ctx.options.maxChannelConsumers;
    if (max !== 0 && this.#consumers.length >= max) {
      return `consumers for ${this.topicName}:${this.name} exceeds limit of ${max}`;
    }
    this.#byId.set(c.id, c);
    this.#consumers.push(c);
    return null;
  }

  removeConsumer(c: Consumer): void {
    if (!this.#byId.delete(c.id)) return;
    this.#consumers = this.#consumers.filter((x) => x !== c);
    if (this.#rr >= this.#consumers.length) this.#rr = 0;
    if (this.#consumers.length === 0 && this.ephemeral && this.onEmpty) {
      const cb = this.onEmpty;
      this.onEmpty = null;
      cb(this);
    }
  }

  /**
   * Deliver queued messages to ready consumers, round-robin, until either runs out.
   * Re-entrant calls (a delivery triggering another pump) are ignored: the outer loop continues.
   */
  pump(): void {
    if (this.#pumping || this.paused || this.#exiting) return;
    const consumers = this.#consumers;
    const n = consumers.length;
    if (n === 0) return;
    this.#pumping = true;
    try {
      let now = 0; // read the clock only once something is delivered
      let idle = 0;
      while (idle < n) {
        if (this.#rr >= n) this.#rr = 0;
        const c = consumers[this.#rr++]!;
        if (!c.isReady()) {
          idle++;
          continue;
        }
        const m = this.#take(c);
        if (m === undefined) {
          // This consumer was ready but found nothing: it is first in line for the next message,
          // otherwise single publishes would all go to the same consumer while it has RDY left.
          this.#rr--;
          break;
        }
        idle = 0;
        if (this.limits.msgTtlMs !== 0 && isExpired(m.tsHi, m.tsLo, this.limits.msgTtlMs, (now ||= this.#ctx.now()))) {
          this.expiredCount++;
          continue;
        }
        const rate = c.sampleRate;
        // Sampling drops the message for this channel (docs/protocol.md, Delivery).
        if (rate > 0 && Math.floor(Math.random() * 100) > rate) continue;
        if (now === 0) now = this.#ctx.now();
        this.#deliver(c, m, now);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * A pump at the end of this event-loop turn: the slots freed by all the FINs read in one turn
   * are refilled together, into one write per connection, rather than one delivery per FIN.
   */
  pumpSoon(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(this.#scheduledPump);
  }

  readonly #scheduledPump = (): void => {
    this.#pumpScheduled = false;
    this.pump();
  };

  /** Counts a memory-queue delivery to `c` by its locality (global unless the experiment made it local). */
  #countMemoryDelivery(c: Consumer): void {
    if (c.zoneLocal) this.zoneLocalMsgCount++;
    else if (c.regionLocal) this.regionLocalMsgCount++;
    else this.globalMsgCount++;
  }

  /** Next deliverable message for `c` from memory or disk, alternating when both have some. */
  #take(c: Consumer): Message | undefined {
    const memEmpty = this.#mem.length === 0;
    // peek(), not depth(): records salvaged after a crash are readable but not counted in depth.
    if (!memEmpty && !(this.#diskTurn && this.#backend.peek() !== null)) {
      this.#diskTurn = true;
      this.#countMemoryDelivery(c);
      return this.#mem.shift();
    }
    this.#diskTurn = false;
    for (;;) {
      const rec = this.#backend.peek();
      if (rec === null) {
        if (memEmpty) return undefined;
        this.#countMemoryDelivery(c);
        return this.#mem.shift();
      }
      this.#backend.advance();
      try {
        return decodeMessage(rec);
      } catch (err) {
        this.#ctx.logger.error(`CHANNEL(${this.name}): failed to decode message - ${(err as Error).message}`);
      }
    }
  }

  // ---- in-flight ------------------------------------------------------------------------

  #ownedInFlight(clientId: number, id: MessageIdRef): Message | InFlightResult {
    const m = this.#inFlight.get(id.idHi, id.idLo, id.idRaw);
    if (m === undefined) return 'not-in-flight';
    if (m.clientId !== clientId) return 'not-owner';
    return m;
  }

  #removeInFlight(m: Message): void {
    this.#inFlight.delete(m);
    this.#inFlightQueue.remove(m);
    this.#journal?.inFlightDone(m);
  }

  finishMessage(clientId: number, id: MessageIdRef): InFlightResult {
    const m = this.#ownedInFlight(clientId, id);
    if (typeof m === 'string') return m;
    this.#removeInFlight(m);
    if (this.e2e !== null) {
      this.e2e.record((performance.timeOrigin + performance.now()) * 1e6 - m.timestampNs());
    }
    return 'ok';
  }

  requeueMessage(clientId: number, id: MessageIdRef, delayMs: number): InFlightResult {
    const m = this.#ownedInFlight(clientId, id);
    if (typeof m === 'string') return m;
    // Refusals are decided before the message leaves in flight: upstream pops it (and counts the
    // requeue) first, so a refused REQ loses it; here it stays in flight until FIN or timeout.
    if (delayMs === 0 && this.#exiting) return 'exiting';
    if (delayMs > 0 && this.#deferred.hasId(m)) return 'already-deferred';
    this.#removeInFlight(m);
    this.requeueCount++;
    if (this.#deadLetter(m)) return 'ok';
    if (delayMs === 0) {
      m.clientId = 0;
      this.#put(m);
      this.pump();
    } else {
      this.#startDeferred(m, delayMs);
    }
    return 'ok';
  }

  touchMessage(clientId: number, id: MessageIdRef, msgTimeoutMs: number): InFlightResult {
    const m = this.#ownedInFlight(clientId, id);
    if (typeof m === 'string') return m;
    const now = this.#ctx.now();
    const max = m.deliveryTs + this.#ctx.options.maxMsgTimeout;
    m.priority = Math.min(now + msgTimeoutMs, max);
    this.#inFlightQueue.update(m);
    return 'ok';
  }

  /** Time out due in-flight messages and release due deferred ones; true if anything moved. */
  processQueues(now: number): boolean {
    if (this.#exiting) return false;
    let dirty = false;
    for (let m = this.#inFlightQueue.popDue(now); m !== undefined; m = this.#inFlightQueue.popDue(now)) {
      dirty = true;
      this.#inFlight.delete(m);
      this.#journal?.inFlightDone(m);
      this.timeoutCount++;
      const owner = this.#byId.get(m.clientId);
      if (owner !== undefined) owner.inFlightReleased(1);
      m.clientId = 0;
      if (this.#deadLetter(m)) continue;
      this.#put(m);
    }
    for (let m = this.#deferredHeap.popDue(now); m !== undefined; m = this.#deferredHeap.popDue(now)) {
      dirty = true;
      this.#deferred.delete(m);
      this.#journal?.deferredDone(m);
      this.#put(m);
    }
    if (dirty) this.pump();
    return dirty;
  }

  /** Out of attempts (max_attempts, docs/extensions.md): hand the message to the dead-letter topic. */
  #deadLetter(m: Message): boolean {
    const max = this.limits.maxAttempts;
    if (max === 0 || m.attempts < max || this.#ctx.extensions?.deadLetter(this, m) !== true) return false;
    this.deadLetteredCount++;
    return true;
  }

  // ---- admin ----------------------------------------------------------------------------

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.pump();
  }

  /** Drop everything: in-flight, deferred, memory and disk (upstream nsqd/channel.go Empty). */
  empty(): void {
    this.#inFlight.clear();
    this.#inFlightQueue.drain();
    this.#deferred.clear();
    this.#deferredHeap.drain();
    this.#mem.clear();
    this.#backend.empty();
    this.#journal?.clear();
    // Released consumers pump at once, so the queues must already be empty.
    for (const c of this.#consumers) c.inFlightReleased(Number.MAX_SAFE_INTEGER);
  }

  /** Delete: close consumers, drop every message, remove the disk queue. */
  delete(): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.onEmpty = null;
    this.#ctx.logger.info(`CHANNEL(${this.name}): deleting`);
    for (const c of [...this.#consumers]) c.closeForChannel();
    this.empty();
    this.#journal?.delete();
    this.#backend.delete();
  }

  /**
   * Shutdown: close consumers, write memory, in-flight and deferred messages to disk; with the
   * in-flight journal, in-flight and deferred ones stay in the journal (with their deadlines)
   * instead of going to the disk queue, so none is stored twice.
   */
  close(): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.onEmpty = null;
    this.#ctx.logger.info(`CHANNEL(${this.name}): closing`);
    for (const c of [...this.#consumers]) c.closeForChannel();
    if (this.#journal !== null) {
      this.#closeJournaled(this.#journal);
    } else {
      if (this.#mem.length > 0 || this.#inFlight.size > 0 || this.#deferred.size > 0) {
        this.#ctx.logger.info(
          `CHANNEL(${this.name}): flushing ${this.#mem.length} memory ${this.#inFlight.size} in-flight ${this.#deferred.size} deferred messages to backend`,
        );
      }
      if (!this.ephemeral) {
        const pending = [...this.#mem.drain(), ...this.#inFlightQueue.drain(), ...this.#deferredHeap.drain()];
        writeMessagesToBackend(this.#backend, pending, this.#ctx.logger, `CHANNEL(${this.name})`);
      }
    }
    this.#inFlight.clear();
    this.#deferred.clear();
    this.#backend.close();
  }

  /** Shutdown with the in-flight journal: the memory queue goes to disk, the rest stays journaled. */
  #closeJournaled(journal: InflightJournal): void {
    const [mem, inFlight, deferred] = [this.#mem.length, this.#inFlight.size, this.#deferred.size];
    if (mem > 0) this.#ctx.logger.info(`CHANNEL(${this.name}): flushing ${mem} memory messages to backend`);
    if (inFlight > 0 || deferred > 0) {
      this.#ctx.logger.info(`CHANNEL(${this.name}): keeping ${inFlight} in-flight ${deferred} deferred messages in the in-flight journal`);
    }
    writeMessagesToBackend(this.#backend, this.#mem.drain(), this.#ctx.logger, `CHANNEL(${this.name})`);
    journal.close(this.journalLive);
  }
}
