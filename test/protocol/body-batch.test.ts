import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyBatch, BodyBatchBuilder, copyAll } from '../../src/protocol/body-batch.js';

/** The MPUB body batches: offsets into one buffer, each body copied out on its own. */
describe('BodyBatch', () => {
  it('single offset arrays give each body as its own copy', () => {
    const data = Buffer.from('aabbbc');
    const batch = new BodyBatch(data, Int32Array.from([0, 2, 5]), Int32Array.from([2, 5, 6]));
    assert.equal(batch.length, 3);
    assert.deepEqual(copyAll(batch).map(String), ['aa', 'bbb', 'c']);
    const first = batch.copy(0);
    data[0] = 0x7a;
    assert.equal(first.toString(), 'aa', 'a copy, not a view of the batch');
  });

  it('a builder keeps every body across its fixed-size offset chunks', () => {
    const n = 3 * 4096 + 17; // several chunks and a partial last one
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`m${i}`);
    const text = Buffer.from(lines.join('\n'));
    const b = new BodyBatchBuilder(text);
    let start = 0;
    for (const line of lines) {
      b.add(start, start + line.length);
      start += line.length + 1;
    }
    const batch = b.build();
    assert.equal(batch.length, n);
    for (const i of [0, 4095, 4096, 8191, 8192, n - 1]) assert.equal(batch.copy(i).toString(), `m${i}`);
    assert.deepEqual(copyAll(batch).map(String), lines);
  });

  it('an empty builder builds an empty batch', () => {
    const batch = new BodyBatchBuilder(Buffer.alloc(0)).build();
    assert.equal(batch.length, 0);
    assert.deepEqual(copyAll(batch), []);
  });
});
