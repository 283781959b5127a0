import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathUnescape, percentUnescape, queryUnescape } from '../../src/http/url-unescape.js';

test('query rules turn + into a space, path rules keep it', () => {
  assert.equal(queryUnescape('a+b%2B'), 'a b+');
  assert.equal(pathUnescape('a+b%2B'), 'a+b+');
  assert.equal(percentUnescape('x+y', true), 'x y');
  assert.equal(percentUnescape('x+y', false), 'x+y');
});

test('escaped UTF-8 bytes decode to one character; text without escapes is returned as is', () => {
  assert.equal(pathUnescape('%E2%9C%93/%c3%a9'), '✓/é');
  assert.equal(queryUnescape('t%23ephemeral'), 't#ephemeral');
  const plain = 'no-escapes-here';
  assert.equal(pathUnescape(plain), plain);
  assert.equal(queryUnescape('✓'), '✓');
});

test('bad escapes are undefined under both rules', () => {
  for (const bad of ['%', '%4', 'a%zz', '%g0', 'ok%2']) {
    assert.equal(queryUnescape(bad), undefined, bad);
    assert.equal(pathUnescape(bad), undefined, bad);
  }
});
