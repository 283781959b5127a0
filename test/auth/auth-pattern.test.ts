import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authPattern } from '../../src/auth/state.js';

/** Auth grants are Go RE2 patterns searched anywhere in the name (`regexp.MatchString`). */
const matches = (pattern: string, s: string): boolean => authPattern(pattern).test(s);

test('unanchored search semantics', () => {
  assert.ok(matches('foo', 'xfoox'));
  assert.ok(!matches('^foo$', 'xfoox'));
  assert.ok(matches('^foo$', 'foo'));
  assert.ok(matches('.*', ''));
  assert.ok(!matches('.+', ''));
  assert.ok(matches('', 'anything'));
});

test('RE2 syntax means what it means in Go', () => {
  assert.ok(matches('(?i)^FOO$', 'foo'));
  assert.ok(matches('(?s)^a.b$', 'a\nb'));
  assert.ok(!matches('^a.b$', 'a\nb'));
  assert.ok(matches('^a.b$', 'a\rb')); // RE2 `.` excludes only \n
  assert.ok(matches('\\Afoo\\z', 'foo'));
  assert.ok(!matches('\\Afoo\\z', 'foox'));
  assert.ok(matches('^\\Qa.b*\\E$', 'a.b*'));
  assert.ok(!matches('^\\Qa.b*\\E$', 'axbb'));
  assert.ok(matches('^[[:alpha:]_]+$', 'ab_C'));
  assert.ok(!matches('^[[:digit:]]+$', '12a'));
  assert.ok(matches('^[[:^alpha:]]+$', '12'));
  assert.ok(matches('^(?P<name>ab)+$', 'abab'));
  assert.ok(matches('^[]a]+$', ']a]'));
  assert.ok(matches('^[^]a]$', 'b'));
  assert.ok(!matches('^[^]a]$', ']'));
  assert.ok(matches('^\\x{41}\\x42$', 'AB'));
  assert.ok(matches('^\\101$', 'A'));
  assert.ok(matches('^a{2,3}$', 'aaa'));
  assert.ok(matches('^a{$', 'a{'));
  assert.ok(matches('^\\s$', ' '));
  assert.ok(!matches('^\\s$', '\v')); // RE2 \s has no \v
  assert.ok(matches('^[\\s]$', '\t'));
  assert.ok(matches('^\\a$', '\x07'));
  assert.ok(matches('^a(?i)B$', 'ab'));
  assert.ok(matches('^\\pL+$', 'héllo'));
  assert.ok(matches('^t\\.#ephemeral$', 't.#ephemeral'));
});

test('invalid RE2 is rejected with Go regexp.Compile texts', () => {
  for (const bad of [
    '(', 'a)', '[a', '*', 'a**', 'a{1001}', 'a{3,2}', '\\', // invalid in RE2
    '(?=a)', '(?!a)', '(?<=a)', '(?<!a)', '(a)\\1', '\\k<x>', '(?P=n)', // JS-only syntax
    '\\Z', '\\C', '[[:foo:]]', '\\8',
  ]) {
    assert.throws(() => authPattern(bad), /^RE2JSSyntaxException: error parsing regexp: |error parsing regexp: /, bad);
  }
  assert.throws(() => authPattern('('), { message: 'error parsing regexp: missing closing ): `(`' });
});

test('a pathological pattern runs in linear time (no backtracking blow-up)', () => {
  // (a+)+$ against "aaaa…!" takes exponential time in a backtracking engine.
  assert.ok(!matches('^(a+)+$', 'a'.repeat(5000) + '!'));
});
