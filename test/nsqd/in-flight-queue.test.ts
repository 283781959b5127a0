import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightQueue } from '../../src/nsqd/in-flight-queue.js';
import { Message } from '../../src/protocol/message.js';

const msg = (priority: number, deliveryTs = 0) => {
  const m = new Message('0123456789abcdef', Buffer.from('x'), 0, 0);
  m.priority = priority;
  m.deliveryTs = deliveryTs;
  return m;
};

function popAll(q: InFlightQueue, max: number): number[] {
  const out: number[] = [];
  for (let m = q.popDue(max); m !== undefined; m = q.popDue(max)) out.push(m.priority);
  return out;
}

describe('InFlightQueue', () => {
  it('pops due messages earliest first across timeouts, out-of-order pushes included', () => {
    const q = new InFlightQueue();
    for (const [p, t] of [[100, 60], [105, 60], [30, 10], [103, 60], [40, 10], [101, 60]] as const) q.push(msg(p), t);
    assert.equal(q.size, 6);
    assert.deepEqual(popAll(q, 101), [30, 40, 100, 101]);
    assert.deepEqual(popAll(q, 1000), [103, 105]);
    assert.equal(q.size, 0);
  });

  it('removes in O(1) and re-sorts a touched message', () => {
    const q = new InFlightQueue();
    const ms = [10, 20, 30, 40].map((p) => msg(p));
    for (const m of ms) q.push(m, 5);
    q.remove(ms[1]!);
    q.remove(ms[1]!);
    assert.equal(q.size, 3);
    ms[0]!.priority = 35;
    q.update(ms[0]!);
    assert.deepEqual(popAll(q, 100), [30, 35, 40]);
  });

  it('drains everything by delivery time', () => {
    const q = new InFlightQueue();
    q.push(msg(50, 3), 1);
    q.push(msg(10, 2), 2);
    q.push(msg(20, 1), 3);
    assert.deepEqual(q.drain().map((m) => m.deliveryTs), [1, 2, 3]);
    assert.equal(q.size, 0);
    assert.equal(q.popDue(1e9), undefined);
  });
});
