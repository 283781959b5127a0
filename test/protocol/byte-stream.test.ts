import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendChunk, fillFrom } from '../../src/protocol/byte-stream.js';

test('appendChunk: a consumed buffer is dropped without copying, an unread tail is carried over', () => {
  const chunk = Buffer.from('next');
  assert.equal(appendChunk(Buffer.from('done'), 4, chunk), chunk);
  assert.equal(appendChunk(Buffer.alloc(0), 0, chunk), chunk);
  assert.equal(appendChunk(Buffer.from('abcdef'), 4, chunk).toString(), 'efnext');
});

test('fillFrom: copies at most what the target lacks and what the source holds', () => {
  const target = Buffer.alloc(5);
  const src = Buffer.from('xxabc');
  assert.equal(fillFrom(src, 2, target, 0), 3);
  assert.equal(fillFrom(Buffer.from('defgh'), 0, target, 3), 2);
  assert.equal(target.toString(), 'abcde');
  assert.equal(fillFrom(Buffer.from('zz'), 2, target, 3), 0);
  // The body is a copy: changing the source later leaves it alone.
  src.fill(0);
  assert.equal(target.toString(), 'abcde');
});
