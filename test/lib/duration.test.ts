import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration, parseDurationNs, msToNs } from '../../src/lib/duration.js';

test('formatDuration matches Go Duration.String()', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1e-6, '1ns'],
    [1.1e-3, '1.1µs'],
    [2.2, '2.2ms'],
    [250, '250ms'],
    [25, '25ms'],
    [1000, '1s'],
    [3300, '3.3s'],
    [60000, '1m0s'],
    [65348.292186, '1m5.348292186s'],
    [3600000, '1h0m0s'],
    [4 * 60000 + 5001, '4m5.001s'],
    [5 * 3600000 + 6 * 60000 + 7001, '5h6m7.001s'],
    [900000, '15m0s'],
    [-1500, '-1.5s'],
    [-1e-6, '-1ns'],
  ];
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, `ms=${ms}`);
});

test('parseDuration accepts Go syntax', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['5s', 5000],
    ['30s', 30000],
    ['1478s', 1478000],
    ['-5s', -5000],
    ['+5s', 5000],
    ['5.6s', 5600],
    ['5.s', 5000],
    ['.5s', 500],
    ['1.0s', 1000],
    ['1.004s', 1004],
    ['100.00100s', 100001],
    ['10ns', 1e-5],
    ['11us', 0.011],
    ['12µs', 0.012],
    ['12μs', 0.012],
    ['13ms', 13],
    ['14s', 14000],
    ['15m', 900000],
    ['16h', 57600000],
    ['3h30m', 12600000],
    ['10.5s4m', 250500],
    ['-2m3.4s', -123400],
    ['1h2m3s4ms5us6ns', 3723004.005006],
    ['39h9m14.425907423s', 140954425.907423],
    ['0.3333333333333333333h', 1200000],
    ['1m0s', 60000],
    ['250ms', 250],
  ];
  for (const [s, want] of cases) {
    assert.ok(Math.abs(parseDuration(s) - want) < 1e-9, `${s}: got ${parseDuration(s)} want ${want}`);
  }
  assert.equal(parseDurationNs('9223372036854775807ns'), 9223372036854775807n);
  assert.equal(parseDurationNs('-9223372036854775808ns'), -9223372036854775808n);
});

test('parseDuration rejects what Go rejects, with Go messages', () => {
  const cases: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['1.5x', 'time: unknown unit "x" in duration "1.5x"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['1 s', 'time: unknown unit " s" in duration "1 s"'],
  ];
  for (const [s, msg] of cases) assert.throws(() => parseDuration(s), { message: msg }, s);
});

test('round trips and ns conversion', () => {
  for (const s of ['1m0s', '250ms', '1h0m0s', '1m5.348292186s', '2s', '25ms', '1.5µs', '10ns']) {
    assert.equal(formatDuration(parseDuration(s)), s);
  }
  assert.equal(msToNs(60000), 60000000000);
  assert.equal(msToNs(0.5), 500000);
});
