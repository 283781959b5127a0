import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT_REGISTRATION,
  Producer,
  RegistrationDB,
  channelRegistration,
  filterByActive,
  registrationMatches,
  topicRegistration,
  type PeerInfo,
  type Registration,
} from '../../src/nsqlookupd/registration-db.js';

function peer(id: string, lastUpdate = 0, extra: Partial<PeerInfo> = {}): PeerInfo {
  return {
    id,
    remoteAddress: id,
    hostname: 'host',
    broadcastAddress: 'b-' + id,
    tcpPort: 4150,
    httpPort: 4151,
    version: '1.3.0',
    topologyZone: '',
    topologyRegion: '',
    lastUpdate,
    ...extra,
  };
}

const ids = (ps: Producer[]) => ps.map((p) => p.peerInfo.id).sort();
const regs = (rs: Registration[]) => rs.map((r) => `${r.category}:${r.key}:${r.subkey}`).sort();

describe('RegistrationDB', () => {
  it('adds keys without producers and keeps existing producers when re-added', () => {
    const db = new RegistrationDB();
    db.addRegistration(topicRegistration('t'));
    assert.deepEqual(regs(db.findRegistrations('topic', '*', '')), ['topic:t:']);
    assert.deepEqual(db.findProducers('topic', 't', ''), []);
    const a = peer('a');
    assert.equal(db.addProducer(topicRegistration('t'), new Producer(a)), true);
    db.addRegistration(topicRegistration('t'));
    assert.deepEqual(ids(db.findProducers('topic', 't', '')), ['a']);
  });

  it('adding an already-present producer is a no-op that keeps its tombstone', () => {
    const db = new RegistrationDB();
    const a = peer('a');
    const first = new Producer(a);
    db.addProducer(topicRegistration('t'), first);
    first.tombstone(100);
    assert.equal(db.addProducer(topicRegistration('t'), new Producer(a)), false);
    const [p] = db.findProducers('topic', 't', '');
    assert.equal(p, first);
    assert.equal(p!.tombstoned, true);
    assert.equal(p!.tombstonedAt, 100);
  });

  it('removeProducer reports removed/left and leaves the key in place', () => {
    const db = new RegistrationDB();
    const r = channelRegistration('t', 'c');
    db.addProducer(r, new Producer(peer('a')));
    db.addProducer(r, new Producer(peer('b')));
    assert.deepEqual(db.removeProducer(r, 'a'), { removed: true, left: 1 });
    assert.deepEqual(db.removeProducer(r, 'a'), { removed: false, left: 1 });
    assert.deepEqual(db.removeProducer(r, 'b'), { removed: true, left: 0 });
    assert.deepEqual(regs(db.findRegistrations('channel', 't', '*')), ['channel:t:c']);
    assert.deepEqual(db.removeProducer(channelRegistration('t', 'nope'), 'a'), { removed: false, left: 0 });
    assert.deepEqual(db.removeProducer(topicRegistration('nope'), 'a'), { removed: false, left: 0 });
  });

  it('removeRegistration drops the key and its producers only', () => {
    const db = new RegistrationDB();
    db.addProducer(channelRegistration('t', 'c1'), new Producer(peer('a')));
    db.addProducer(channelRegistration('t', 'c2'), new Producer(peer('a')));
    db.addProducer(topicRegistration('t'), new Producer(peer('a')));
    db.removeRegistration(channelRegistration('t', 'c1'));
    assert.deepEqual(regs(db.findRegistrations('channel', '*', '*')), ['channel:t:c2']);
    db.removeRegistration(channelRegistration('t', 'c2'));
    db.removeRegistration(channelRegistration('t', 'c2')); // absent: no-op
    db.removeRegistration(channelRegistration('x', 'c2'));
    assert.deepEqual(db.findRegistrations('channel', '*', '*'), []);
    assert.deepEqual(regs(db.findRegistrations('topic', '*', '')), ['topic:t:']);
  });

  it('findRegistrations supports * for key and subkey and exact matches', () => {
    const db = new RegistrationDB();
    db.addRegistration(topicRegistration('t1'));
    db.addRegistration(topicRegistration('t2'));
    db.addRegistration(channelRegistration('t1', 'a'));
    db.addRegistration(channelRegistration('t1', 'b'));
    db.addRegistration(channelRegistration('t2', 'a'));
    db.addRegistration(CLIENT_REGISTRATION);
    assert.deepEqual(regs(db.findRegistrations('topic', '*', '')), ['topic:t1:', 'topic:t2:']);
    assert.deepEqual(regs(db.findRegistrations('topic', '*', '*')), ['topic:t1:', 'topic:t2:']);
    assert.deepEqual(regs(db.findRegistrations('topic', 't1', '')), ['topic:t1:']);
    assert.deepEqual(db.findRegistrations('topic', 't3', ''), []);
    assert.deepEqual(db.findRegistrations('topic', 't1', 'x'), []);
    assert.deepEqual(regs(db.findRegistrations('channel', 't1', '*')), ['channel:t1:a', 'channel:t1:b']);
    assert.deepEqual(regs(db.findRegistrations('channel', '*', 'a')), ['channel:t1:a', 'channel:t2:a']);
    assert.deepEqual(regs(db.findRegistrations('channel', 't2', 'a')), ['channel:t2:a']);
    assert.deepEqual(regs(db.findRegistrations('client', '', '')), ['client::']);
    assert.deepEqual(db.findRegistrations('client', 'x', ''), []);
  });

  it('findProducers dedupes by peer id across wildcard matches', () => {
    const db = new RegistrationDB();
    const a = peer('a');
    const b = peer('b');
    db.addProducer(channelRegistration('t', 'c1'), new Producer(a));
    db.addProducer(channelRegistration('t', 'c2'), new Producer(a));
    db.addProducer(channelRegistration('t', 'c2'), new Producer(b));
    db.addProducer(channelRegistration('u', 'c1'), new Producer(b));
    assert.deepEqual(ids(db.findProducers('channel', 't', '*')), ['a', 'b']);
    assert.deepEqual(ids(db.findProducers('channel', '*', 'c1')), ['a', 'b']);
    assert.deepEqual(ids(db.findProducers('channel', '*', '*')), ['a', 'b']);
    assert.deepEqual(ids(db.findProducers('channel', 't', 'c1')), ['a']);
    assert.deepEqual(db.findProducers('channel', 'zz', '*'), []);
    assert.deepEqual(db.findProducers('topic', '*', ''), []);
  });

  it('lookupRegistrations lists every registration of a peer', () => {
    const db = new RegistrationDB();
    const a = peer('a');
    db.addProducer(CLIENT_REGISTRATION, new Producer(a));
    db.addProducer(topicRegistration('t'), new Producer(a));
    db.addProducer(channelRegistration('t', 'c'), new Producer(a));
    db.addProducer(topicRegistration('u'), new Producer(peer('b')));
    assert.deepEqual(regs(db.lookupRegistrations('a')), ['channel:t:c', 'client::', 'topic:t:']);
    assert.deepEqual(regs(db.lookupRegistrations('b')), ['topic:u:']);
    assert.deepEqual(db.lookupRegistrations('zz'), []);
    const topics = db.lookupRegistrations('a').filter((r) => registrationMatches(r, 'topic', '*', ''));
    assert.deepEqual(regs(topics), ['topic:t:']);
  });

  it('entries yields every key, including empty ones', () => {
    const db = new RegistrationDB();
    db.addRegistration(topicRegistration('empty'));
    db.addProducer(topicRegistration('t'), new Producer(peer('a')));
    const seen = [...db.entries()].map(([r, ps]) => `${r.category}:${r.key}:${r.subkey}=${ps.size}`).sort();
    assert.deepEqual(seen, ['topic:empty:=0', 'topic:t:=1']);
  });

  it('keys with arbitrary characters do not collide', () => {
    const db = new RegistrationDB();
    db.addRegistration(channelRegistration('a:b', 'c'));
    db.addRegistration(channelRegistration('a', 'b:c'));
    assert.equal(db.findRegistrations('channel', 'a', '*').length, 1);
    assert.equal(db.findRegistrations('channel', 'a:b', '*').length, 1);
  });
});

describe('registrationMatches', () => {
  it('matches category exactly and * as any key/subkey', () => {
    const r = channelRegistration('t', 'c');
    assert.equal(registrationMatches(r, 'channel', 't', 'c'), true);
    assert.equal(registrationMatches(r, 'channel', '*', '*'), true);
    assert.equal(registrationMatches(r, 'channel', 't', '*'), true);
    assert.equal(registrationMatches(r, 'topic', 't', '*'), false);
    assert.equal(registrationMatches(r, 'channel', 'u', '*'), false);
    assert.equal(registrationMatches(r, 'channel', 't', 'd'), false);
  });
});

describe('Producer tombstones', () => {
  it('are active for less than the lifetime and never cleared', () => {
    const p = new Producer(peer('a'));
    assert.equal(p.tombstoned, false);
    assert.equal(p.tombstonedAt, null);
    assert.equal(p.isTombstoned(45_000, 0), false);
    p.tombstone(1000);
    assert.equal(p.isTombstoned(45_000, 1000), true);
    assert.equal(p.isTombstoned(45_000, 45_999), true);
    assert.equal(p.isTombstoned(45_000, 46_000), false); // strictly less than the lifetime
    assert.equal(p.tombstoned, true);
    assert.equal(p.isTombstoned(0, 1000), false);
  });
});

describe('filterByActive', () => {
  it('drops producers inactive for longer than the timeout (boundary inclusive) and tombstoned ones', () => {
    const fresh = new Producer(peer('fresh', 1000));
    const edge = new Producer(peer('edge', 700)); // exactly timeout old: still active
    const stale = new Producer(peer('stale', 699));
    const tomb = new Producer(peer('tomb', 1000));
    tomb.tombstone(950);
    const oldTomb = new Producer(peer('oldtomb', 1000));
    oldTomb.tombstone(0);
    const all = [fresh, edge, stale, tomb, oldTomb];
    assert.deepEqual(ids(filterByActive(all, 1000, 300, 100)), ['edge', 'fresh', 'oldtomb']);
    // lifetime 0 (as /nodes uses it) ignores tombstones
    assert.deepEqual(ids(filterByActive(all, 1000, 300, 0)), ['edge', 'fresh', 'oldtomb', 'tomb']);
    assert.deepEqual(filterByActive([], 0, 1, 1), []);
  });

  it('uses the shared peer info, so a PING refreshes every registration', () => {
    const info = peer('a', 0);
    const t = new Producer(info);
    const c = new Producer(info);
    assert.equal(filterByActive([t, c], 1000, 500, 0).length, 0);
    info.lastUpdate = 900;
    assert.equal(filterByActive([t, c], 1000, 500, 0).length, 2);
  });
});
