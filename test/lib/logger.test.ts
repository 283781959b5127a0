import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, parseLogLevel, logLevelNumber, logLevelFromNumber, formatLogTime } from '../../src/lib/logger.js';

test('parseLogLevel is case-insensitive and accepts warning', () => {
  assert.equal(parseLogLevel('DEBUG'), 'debug');
  assert.equal(parseLogLevel('Info'), 'info');
  assert.equal(parseLogLevel('warn'), 'warn');
  assert.equal(parseLogLevel('WARNING'), 'warn');
  assert.equal(parseLogLevel('error'), 'error');
  assert.equal(parseLogLevel('fatal'), 'fatal');
  assert.equal(parseLogLevel('verbose'), undefined);
  assert.equal(parseLogLevel(''), undefined);
});

test('logLevelNumber 1..5 and inverse', () => {
  assert.deepEqual(
    (['debug', 'info', 'warn', 'error', 'fatal'] as const).map(logLevelNumber),
    [1, 2, 3, 4, 5],
  );
  assert.equal(logLevelFromNumber(3), 'warn');
  assert.equal(logLevelFromNumber(9), undefined);
});

test('formatLogTime uses local time with microseconds', () => {
  const d = new Date(2026, 10, 24, 4, 2, 18, 39);
  assert.equal(formatLogTime(d.getTime(), 766), '2026/11/24 04:02:18.039766');
  assert.equal(formatLogTime(new Date(2026, 0, 2, 3, 4, 5, 0).getTime()), '2026/01/02 03:04:05.000000');
});

test('Logger writes NSQ-format lines and filters by level', () => {
  const lines: string[] = [];
  const log = new Logger('[nsqd] ', 'info', (l) => lines.push(l));
  log.debug('hidden');
  log.info('ID: 5');
  log.warn('w');
  log.error('e');
  log.fatal('f\n');
  assert.equal(lines.length, 4);
  const re = /^\[nsqd\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{6} (INFO|WARNING|ERROR|FATAL): (.*)$/;
  assert.deepEqual(
    lines.map((l) => re.exec(l)?.slice(1, 3)),
    [['INFO', 'ID: 5'], ['WARNING', 'w'], ['ERROR', 'e'], ['FATAL', 'f']],
  );
  assert.equal(log.enabled('debug'), false);
  log.level = 'debug';
  assert.equal(log.enabled('debug'), true);
  log.debug('now shown');
  assert.match(lines[4] ?? '', / DEBUG: now shown$/);
  log.level = 'fatal';
  log.error('dropped');
  assert.equal(lines.length, 5);
});
