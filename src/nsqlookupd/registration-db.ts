/**
 * nsqlookupd's in-memory directory (upstream `nsqlookupd/registration_db.go`): which identified nsqd produces which
 * topic/channel. A pure data structure: no I/O, no timers, the caller passes "now" (ms).
 */

/** The kinds of registration: identified peers (`client`), topics, and channels of a topic. */
export type Category = 'client' | 'topic' | 'channel';

/** One directory key. `*` as key or subkey in a query matches anything. */
export interface Registration {
  readonly category: Category;
  readonly key: string;
  readonly subkey: string;
}

/** The client registration every identified peer is listed under (`/nodes`). */
export const CLIENT_REGISTRATION: Registration = Object.freeze({ category: 'client', key: '', subkey: '' });

export const topicRegistration = (topic: string): Registration => ({ category: 'topic', key: topic, subkey: '' });

export const channelRegistration = (topic: string, channel: string): Registration => ({
  category: 'channel',
  key: topic,
  subkey: channel,
});

/**
 * What an identified nsqd told lookupd about itself. One object per TCP connection, shared by
 * every registration of that peer, so a PING refreshes all of them at once.
 */
export interface PeerInfo {
  /** The TCP connection's remote address (`ip:port`): unique per connection. */
  readonly id: string;
  readonly remoteAddress: string;
  readonly hostname: string;
  readonly broadcastAddress: string;
  readonly tcpPort: number;
  readonly httpPort: number;
  readonly version: string;
  readonly topologyZone: string;
  readonly topologyRegion: string;
  /** Last IDENTIFY/PING, wall-clock ms (may carry a fraction). */
  lastUpdate: number;
}

/**
 * A peer's membership in one registration. Tombstone state lives here, not on the peer: a peer is
 * tombstoned for one topic only, and a fresh REGISTER after an UNREGISTER starts clean.
 */
export class Producer {
  readonly peerInfo: PeerInfo;
  #tombstoned = false;
  #tombstonedAt = 0;

  constructor(peerInfo: PeerInfo) {
    this.peerInfo = peerInfo;
  }

  get tombstoned(): boolean {
    return this.#tombstoned;
  }

  /** When it was tombstoned (ms), or null if never. */
  get tombstonedAt(): number | null {
    return this.#tombstoned ? this.#tombstonedAt : null;
  }

  tombstone(now: number): void {
    this.#tombstoned = true;
    this.#tombstonedAt = now;
  }

  /** Tombstones are never cleared, they just expire after `lifetimeMs`. */
  isTombstoned(lifetimeMs: number, now: number): boolean {
    return this.#tombstoned && now - this.#tombstonedAt < lifetimeMs;
  }
}

type ProducerMap = Map<string, Producer>;

/**
 * Registration → producers (by peer id). Keys may exist with no producers: they are created by
 * the HTTP API and left behind when producers go away, and still show up in listings.
 * Iteration order is insertion order (the original's is random; clients must not rely on it).
 */
export class RegistrationDB {
  // category → key → subkey → producers; nested so that "channels of topic t" is a lookup.
  readonly #byCategory = new Map<Category, Map<string, Map<string, ProducerMap>>>();

  /** Adds the key if absent (keeps existing producers). */
  addRegistration(r: Registration): void {
    this.#producerMap(r, true);
  }

  /** Adds `p` unless a producer with the same peer id is already there. Returns whether it was added. */
  addProducer(r: Registration, p: Producer): boolean {
    const producers = this.#producerMap(r, true)!;
    // Keep the existing entry, including its tombstone state.
    if (producers.has(p.peerInfo.id)) return false;
    producers.set(p.peerInfo.id, p);
    return true;
  }

  /** Removes peer `id` from `r`; the key stays even when it becomes empty. */
  removeProducer(r: Registration, id: string): { removed: boolean; left: number } {
    const producers = this.#producerMap(r, false);
    if (producers === undefined) return { removed: false, left: 0 };
    const removed = producers.delete(id);
    return { removed, left: producers.size };
  }

  /** Removes the key and all its producers. */
  removeRegistration(r: Registration): void {
    const keys = this.#byCategory.get(r.category);
    const subkeys = keys?.get(r.key);
    if (subkeys === undefined) return;
    subkeys.delete(r.subkey);
    if (subkeys.size === 0) keys!.delete(r.key);
  }

  /** Registrations matching the pattern (`*` = any key / subkey). */
  findRegistrations(category: Category, key: string, subkey: string): Registration[] {
    const results: Registration[] = [];
    for (const [r] of this.#matching(category, key, subkey)) results.push(r);
    return results;
  }

  /** Distinct producers (by peer id) of all registrations matching the pattern; first one wins. */
  findProducers(category: Category, key: string, subkey: string): Producer[] {
    if (key !== '*' && subkey !== '*') {
      const producers = this.#producerMap({ category, key, subkey }, false);
      return producers === undefined ? [] : [...producers.values()];
    }
    const seen = new Map<string, Producer>();
    for (const [, producers] of this.#matching(category, key, subkey)) {
      for (const [id, p] of producers) if (!seen.has(id)) seen.set(id, p);
    }
    return [...seen.values()];
  }

  /** Every registration peer `id` is a producer of. */
  lookupRegistrations(id: string): Registration[] {
    const results: Registration[] = [];
    for (const [r, producers] of this.entries()) if (producers.has(id)) results.push(r);
    return results;
  }

  /** Every registration with its producers (for `/debug`). The maps must not be modified. */
  *entries(): IterableIterator<[Registration, ReadonlyMap<string, Producer>]> {
    for (const [category, keys] of this.#byCategory) {
      for (const [key, subkeys] of keys) {
        for (const [subkey, producers] of subkeys) yield [{ category, key, subkey }, producers];
      }
    }
  }

  *#matching(category: Category, key: string, subkey: string): IterableIterator<[Registration, ProducerMap]> {
    const keys = this.#byCategory.get(category);
    if (keys === undefined) return;
    if (key !== '*') {
      const subkeys = keys.get(key);
      if (subkeys !== undefined) yield* matchSubkeys(category, key, subkeys, subkey);
      return;
    }
    for (const [k, subkeys] of keys) yield* matchSubkeys(category, k, subkeys, subkey);
  }

  #producerMap(r: Registration, create: boolean): ProducerMap | undefined {
    let keys = this.#byCategory.get(r.category);
    if (keys === undefined) {
      if (!create) return undefined;
      keys = new Map();
      this.#byCategory.set(r.category, keys);
    }
    let subkeys = keys.get(r.key);
    if (subkeys === undefined) {
      if (!create) return undefined;
      subkeys = new Map();
      keys.set(r.key, subkeys);
    }
    let producers = subkeys.get(r.subkey);
    if (producers === undefined && create) {
      producers = new Map();
      subkeys.set(r.subkey, producers);
    }
    return producers;
  }
}

function* matchSubkeys(
  category: Category,
  key: string,
  subkeys: Map<string, ProducerMap>,
  subkey: string,
): IterableIterator<[Registration, ProducerMap]> {
  if (subkey !== '*') {
    const producers = subkeys.get(subkey);
    if (producers !== undefined) yield [{ category, key, subkey }, producers];
    return;
  }
  for (const [s, producers] of subkeys) yield [{ category, key, subkey: s }, producers];
}

/** Whether `r` matches the pattern (`*` = any key / subkey). */
export function registrationMatches(r: Registration, category: Category, key: string, subkey: string): boolean {
  return r.category === category && (key === '*' || r.key === key) && (subkey === '*' || r.subkey === subkey);
}

/**
 * Producers that are active (heard from within `inactiveTimeoutMs`) and not tombstoned
 * (tombstoned less than `tombstoneLifetimeMs` ago). A lifetime of 0 ignores tombstones.
 */
export function filterByActive(
  producers: readonly Producer[],
  now: number,
  inactiveTimeoutMs: number,
  tombstoneLifetimeMs: number,
): Producer[] {
  const results: Producer[] = [];
  for (const p of producers) {
    if (now - p.peerInfo.lastUpdate > inactiveTimeoutMs || p.isTombstoned(tombstoneLifetimeMs, now)) continue;
    results.push(p);
  }
  return results;
}
