import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSocketAddress, isTcpAddress, joinHostPort, splitHostPort, splitHostPortText } from '../../src/lib/host-port.js';

/** host:port parsing with Go's net.SplitHostPort rules and error texts. */
test('splits host and port, brackets removed', () => {
  assert.deepEqual(splitHostPort('127.0.0.1:4150'), { host: '127.0.0.1', port: 4150 });
  assert.deepEqual(splitHostPort('[::1]:4160'), { host: '::1', port: 4160 });
  assert.deepEqual(splitHostPort(':4151'), { host: '', port: 4151 });
  assert.deepEqual(splitHostPortText('host:http'), { host: 'host', port: 'http' });
});

test('rejects what Go rejects, with its texts', () => {
  const cases: Array<[string, string]> = [
    ['localhost', 'address localhost: missing port in address'],
    ['::1:4150', 'address ::1:4150: too many colons in address'],
    ['[::1]', 'address [::1]: missing port in address'],
    ['[::1:4150', "address [::1:4150: missing ']' in address"],
    ['[::1]x:1', 'address [::1]x:1: missing port in address'],
    ['[a]:b]:1', 'address [a]:b]:1: too many colons in address'],
    ['a[b:1', "address a[b:1: unexpected '[' in address"],
    ['a]b:1', "address a]b:1: unexpected ']' in address"],
  ];
  for (const [addr, message] of cases) assert.throws(() => splitHostPort(addr), { message }, addr);
  assert.throws(() => splitHostPort('h:99999'), { message: 'address h:99999: invalid port' });
  assert.throws(() => splitHostPort('h:http'), { message: 'address h:http: invalid port' });
});

test('TCP addresses versus Unix socket paths', () => {
  assert.ok(isTcpAddress('0.0.0.0:4150'));
  assert.ok(isTcpAddress('[::]:4150'));
  assert.ok(!isTcpAddress('/tmp/nsqd.sock'));
});

test('joins and formats like Go', () => {
  assert.equal(joinHostPort('::1', 4150), '[::1]:4150');
  assert.equal(joinHostPort('10.0.0.1', 4150), '10.0.0.1:4150');
  assert.equal(formatSocketAddress('::ffff:127.0.0.1', 5), '127.0.0.1:5');
  assert.equal(formatSocketAddress(undefined, undefined), ':0');
});
