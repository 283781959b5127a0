import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageIdMap } from '../../src/nsqd/message-id-map.js';
import { Message } from '../../src/protocol/message.js';
import { idRefFromText } from '../../src/protocol/message-id.js';

const msg = (id: string) => new Message(id, Buffer.from('x'), 0, 0);
const find = (map: MessageIdMap, id: string) => {
  const r = idRefFromText(id);
  return map.get(r.idHi, r.idLo, r.idRaw);
};

describe('MessageIdMap', () => {
  it('finds, deletes and counts messages by ID through growth and shrinking', () => {
    const map = new MessageIdMap();
    const all = Array.from({ length: 5000 }, (_, i) => msg(i.toString(16).padStart(16, '0')));
    for (const m of all) map.add(m);
    assert.equal(map.size, 5000);
    for (const m of all) assert.equal(find(map, m.id), m);
    for (const m of all.slice(0, 4990)) assert.equal(map.delete(m), true);
    assert.equal(map.delete(all[0]!), false);
    assert.equal(map.size, 10);
    assert.equal(find(map, all[0]!.id), undefined);
    for (const m of all.slice(4990)) assert.equal(find(map, m.id), m);
  });

  it('keeps non-hex and uppercase IDs apart from the hex ID of the same digits', () => {
    const map = new MessageIdMap();
    const lower = msg('00000000000000ab');
    const upper = msg('00000000000000AB');
    const odd = msg('not a hex id !!!');
    for (const m of [lower, upper, odd]) map.add(m);
    assert.equal(find(map, '00000000000000ab'), lower);
    assert.equal(find(map, '00000000000000AB'), upper);
    assert.equal(find(map, 'not a hex id !!!'), odd);
    assert.equal(find(map, 'not a hex id !!?'), undefined);
    assert.equal(map.hasId(msg('00000000000000AB')), true);
  });

  it('holds two messages with one ID, removing each by identity', () => {
    const map = new MessageIdMap();
    const a = msg('0123456789abcdef');
    const b = msg('0123456789abcdef');
    map.add(a);
    map.add(b);
    assert.equal(find(map, a.id), b);
    map.delete(b);
    assert.equal(find(map, a.id), a);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(find(map, a.id), undefined);
  });
});
