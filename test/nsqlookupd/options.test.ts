import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseNsqlookupdArgs, defaultNsqlookupdOptions, nsqlookupdUsage, NSQLOOKUPD_VERSION } from '../../src/nsqlookupd/options.js';
import { FlagError } from '../../src/lib/flags.js';
import { tempDir } from '../helpers/daemons.js';

test('defaults', () => {
  assert.equal(NSQLOOKUPD_VERSION, '1.3.0');
  assert.deepEqual(defaultNsqlookupdOptions(), {
    logLevel: 'info',
    logPrefix: '[nsqlookupd] ',
    tcpAddress: '0.0.0.0:4160',
    httpAddress: '0.0.0.0:4161',
    broadcastAddress: hostname(),
    inactiveProducerTimeout: 300000,
    tombstoneLifetime: 45000,
  });
  assert.deepEqual(parseNsqlookupdArgs([]), { options: defaultNsqlookupdOptions(), help: false, version: false });
});

test('flags, help, version, errors', () => {
  const { options: o } = parseNsqlookupdArgs([
    '--tcp-address=127.0.0.1:0',
    '-http-address', '127.0.0.1:0',
    '--broadcast-address', 'lookup1',
    '--inactive-producer-timeout=300ms',
    '--tombstone-lifetime', '1s',
    '--log-level=debug',
    '--verbose',
  ]);
  assert.equal(o.tcpAddress, '127.0.0.1:0');
  assert.equal(o.httpAddress, '127.0.0.1:0');
  assert.equal(o.broadcastAddress, 'lookup1');
  assert.equal(o.inactiveProducerTimeout, 300);
  assert.equal(o.tombstoneLifetime, 1000);
  assert.equal(o.logLevel, 'debug');
  assert.equal(parseNsqlookupdArgs(['--help']).help, true);
  assert.equal(parseNsqlookupdArgs(['--version']).version, true);
  assert.throws(() => parseNsqlookupdArgs(['--tombstone-lifetime=45']), { message: 'invalid value "45" for flag -tombstone-lifetime: parse error' });
  assert.throws(() => parseNsqlookupdArgs(['--mem-queue-size=1']), { message: 'flag provided but not defined: -mem-queue-size' });
  assert.ok(nsqlookupdUsage().includes('  -tombstone-lifetime duration\n    \tduration of time a producer will remain tombstoned if registration remains (default 45s)\n'));
  assert.ok(nsqlookupdUsage().includes('(default 5m0s)'));
});

test('config file priority', (t) => {
  const dir = tempDir('nsqlookupd-options-', t);
  const file = join(dir, 'nsqlookupd.cfg');
  writeFileSync(file, 'tcp_address = "127.0.0.1:4260"\nhttp_address = "127.0.0.1:4261"\ntombstone_lifetime = "10s"\ninactive_producer_timeout = 60000\nlog_level = "WARN"\n');
  const { options: o } = parseNsqlookupdArgs(['--config', file, '--http-address=127.0.0.1:9999']);
  assert.equal(o.tcpAddress, '127.0.0.1:4260');
  assert.equal(o.httpAddress, '127.0.0.1:9999');
  assert.equal(o.tombstoneLifetime, 10000);
  assert.equal(o.inactiveProducerTimeout, 60000);
  assert.equal(o.logLevel, 'warn');
  writeFileSync(file, 'tombstone_lifetime = true\n');
  assert.throws(() => parseNsqlookupdArgs(['--config', file]), (e: unknown) => e instanceof FlagError && /tombstone_lifetime/.test(e.message));
});
