import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GuidFactory } from '../../src/nsqd/guid.js';

/** Message IDs (upstream `nsqd/guid.go`): ((ts − epoch) << 22) | (node << 12) | seq, ts = unix ns >> 20, 16 hex chars. */
const TWEPOCH = 1288834974288n;

function parts(id: string): { ts: bigint; node: number; seq: number } {
  const v = BigInt('0x' + id);
  return { ts: (v >> 22n) + TWEPOCH, node: Number((v >> 12n) & 0x3ffn), seq: Number(v & 0xfffn) };
}

describe('guid', () => {
  it('is 16 lowercase hex chars with the node id in bits 12-21', () => {
    for (const node of [0, 1, 5, 513, 1023]) {
      const id = new GuidFactory(node).next();
      assert.match(id, /^[0-9a-f]{16}$/);
      assert.equal(parts(id).node, node);
    }
  });

  it('encodes the time as unix ns >> 20 and starts each tick at sequence 0', () => {
    const ns = 1_700_000_000_123_456_800; // exactly representable as a double
    const id = new GuidFactory(5).next(ns);
    const p = parts(id);
    assert.equal(p.ts, BigInt(Math.floor(ns / 1048576)));
    assert.equal(p.seq, 0);
    // The original's id shape for node 5: ...05000 at sequence 0.
    assert.match(id, /05000$/);
  });

  it('counts the sequence within one tick and resets it on the next', () => {
    const f = new GuidFactory(1);
    const t = 1_700_000_000_000_000_000;
    assert.equal(parts(f.next(t)).seq, 0);
    assert.equal(parts(f.next(t)).seq, 1);
    assert.equal(parts(f.next(t + 1)).seq, 2); // same tick (ns >> 20)
    const next = f.next(t + 2 * 1048576);
    assert.equal(parts(next).seq, 0);
  });

  it('stays increasing when 4096 ids are taken in one tick or the clock goes backwards', () => {
    const f = new GuidFactory(7);
    const t = 1_700_000_000_000_000_000;
    let last = 0n;
    for (let i = 0; i < 10_000; i++) {
      const now = i === 5000 ? t - 10 * 1048576 : t;
      const v = BigInt('0x' + f.next(now));
      assert.ok(v > last, `id ${i} not increasing`);
      last = v;
      assert.equal(parts(v.toString(16).padStart(16, '0')).node, 7);
    }
  });

  it('is monotonic with no duplicates over 100k ids from the real clock', () => {
    const f = new GuidFactory(42);
    const seen = new Set<string>();
    let last = '';
    for (let i = 0; i < 100_000; i++) {
      const id = f.next();
      assert.ok(id > last, `${id} <= ${last}`);
      last = id;
      seen.add(id);
    }
    assert.equal(seen.size, 100_000);
  });
});
