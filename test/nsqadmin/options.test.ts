/** nsqadmin's flags, config file and /config read-out (src/nsqadmin/options.ts). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/daemons.js';
import { FlagError } from '../../src/lib/flags.js';
import { defaultNsqadminOptions, normalizeBasePath, nsqadminConfigValue, nsqadminUsage, OptionsValidationError, parseNsqadminArgs } from '../../src/nsqadmin/options.js';

const L = ['--lookupd-http-address=127.0.0.1:4161'];

it('defaults match the original', () => {
  const o = defaultNsqadminOptions();
  assert.equal(o.httpAddress, '0.0.0.0:4171');
  assert.equal(o.basePath, '/');
  assert.equal(o.logPrefix, '[nsqadmin] ');
  assert.equal(o.statsdPrefix, 'nsq.%s');
  assert.equal(o.statsdCounterFormat, 'stats.counters.%s.count');
  assert.equal(o.statsdGaugeFormat, 'stats.gauges.%s');
  assert.equal(o.statsdInterval, 60000);
  assert.equal(o.allowConfigFromCidr, '127.0.0.1/8');
  assert.equal(o.aclHttpHeader, 'X-Forwarded-User');
  assert.equal(o.httpClientConnectTimeout, 2000);
  assert.equal(o.httpClientRequestTimeout, 5000);
  assert.equal(o.chartSampleInterval, 2000);
});

it('repeatable flags accumulate; base path is cleaned', () => {
  const { options } = parseNsqadminArgs([...L, '--lookupd-http-address=h:2', '--admin-user=a', '--admin-user=b', '--base-path=x//y/../z/']);
  assert.deepEqual(options.nsqlookupdHttpAddresses, ['127.0.0.1:4161', 'h:2']);
  assert.deepEqual(options.adminUsers, ['a', 'b']);
  assert.equal(options.basePath, '/x/z');
  assert.equal(normalizeBasePath(''), '/');
  assert.equal(normalizeBasePath('/'), '/');
});

it('a TOML config file uses the original keys; flags win over it', () => {
  const dir = tempDir('tsnsq-admin-cfg-');
  try {
    const file = path.join(dir, 'nsqadmin.cfg');
    fs.writeFileSync(file, 'nsqlookupd_http_addresses = ["a:1", "b:2"]\nadmin_users = ["root"]\nhttp_address = "127.0.0.1:9999"\nstatsd_interval = "30s"\nnotification_http_endpoint = "http://n/x"\n');
    const { options } = parseNsqadminArgs([`--config=${file}`, '--http-address=127.0.0.1:1']);
    assert.deepEqual(options.nsqlookupdHttpAddresses, ['a:1', 'b:2']);
    assert.deepEqual(options.adminUsers, ['root']);
    assert.equal(options.httpAddress, '127.0.0.1:1');
    assert.equal(options.statsdInterval, 30000);
    assert.equal(options.notificationHttpEndpoint, 'http://n/x');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses what the original refuses', () => {
  assert.throws(() => parseNsqadminArgs([]), OptionsValidationError);
  assert.throws(() => parseNsqadminArgs([...L, '--nsqd-http-address=a:1']), /not both/);
  assert.throws(() => parseNsqadminArgs([...L, '--http-client-tls-key=k']), /--http-client-tls-cert must be specified/);
  assert.throws(() => parseNsqadminArgs([...L, '--proxy-graphite', '--graphite-url=::nope']), /failed to parse --graphite-url/);
  assert.throws(() => parseNsqadminArgs([...L, '--statsd-interval=soon']), FlagError);
  assert.throws(() => parseNsqadminArgs([...L, '--bogus']), /flag provided but not defined: -bogus/);
  assert.equal(parseNsqadminArgs(['--version']).version, true, '--version needs no addresses');
  assert.match(nsqadminUsage(), /-lookupd-http-address value\n/);
});

it('/config values: durations in ns, log level as a number, strings raw, lists as JSON', () => {
  const { options } = parseNsqadminArgs([...L]);
  assert.deepEqual(nsqadminConfigValue(options, 'http_client_request_timeout'), { kind: 'json', value: 5e9 });
  assert.deepEqual(nsqadminConfigValue(options, 'log_level'), { kind: 'json', value: 2 });
  assert.deepEqual(nsqadminConfigValue(options, 'base_path'), { kind: 'text', value: '/' });
  assert.deepEqual(nsqadminConfigValue(options, 'nsqlookupd_http_addresses'), { kind: 'json', value: ['127.0.0.1:4161'] });
  assert.deepEqual(nsqadminConfigValue(options, 'proxy_graphite'), { kind: 'json', value: false });
  assert.equal(nsqadminConfigValue(options, 'config'), undefined);
});
