import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Query, queryUnescape } from '../../src/http/query.js';
import { HttpApiError } from '../../src/http/api-error.js';

test('first value wins; getAll keeps order; has', () => {
  const q = Query.parse('topic=a&topic=b&channel=&flag&x=1%202+3');
  assert.equal(q.get('topic'), 'a');
  assert.deepEqual(q.getAll('topic'), ['a', 'b']);
  assert.equal(q.get('channel'), '');
  assert.equal(q.has('flag'), true);
  assert.equal(q.get('flag'), '');
  assert.equal(q.get('x'), '1 2 3');
  assert.equal(q.get('missing'), undefined);
  assert.equal(q.has('missing'), false);
  assert.deepEqual(q.getAll('missing'), []);
  assert.equal(Query.parse('').has('a'), false);
  assert.equal(Query.parse('&&a=1&').get('a'), '1');
  assert.equal(Query.parse('t=%E2%9C%93').get('t'), '✓');
});

test('malformed queries are INVALID_REQUEST', () => {
  for (const bad of ['a=%', 'a=%z1', '%zz=1', 'a=1;b=2', 'a=1&b=%4']) {
    assert.throws(() => Query.parse(bad), (e: unknown) => e instanceof HttpApiError && e.status === 400 && e.text === 'INVALID_REQUEST', bad);
  }
});

test('queryUnescape', () => {
  assert.equal(queryUnescape('a+b%2B'), 'a b+');
  assert.equal(queryUnescape('%4'), undefined);
});
