import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  parseNsqdArgs,
  defaultNsqdOptions,
  defaultNodeId,
  nsqdConfigValue,
  nsqdConfigKeys,
  nsqdUsage,
  validateNsqdOptions,
  tlsVersionNumber,
  OptionsValidationError,
  NSQD_VERSION,
} from '../../src/nsqd/options.js';
import { FlagError } from '../../src/lib/flags.js';
import { tempDir } from '../helpers/daemons.js';

test('defaults match nsqd 1.3.0', () => {
  const o = defaultNsqdOptions();
  assert.equal(NSQD_VERSION, '1.3.0');
  assert.equal(o.logLevel, 'info');
  assert.equal(o.logPrefix, '[nsqd] ');
  assert.equal(o.tcpAddress, '0.0.0.0:4150');
  assert.equal(o.httpAddress, '0.0.0.0:4151');
  assert.equal(o.httpsAddress, '0.0.0.0:4152');
  assert.equal(o.broadcastAddress, hostname());
  assert.equal(o.broadcastTcpPort, 0);
  assert.equal(o.broadcastHttpPort, 0);
  assert.deepEqual(o.lookupdTcpAddresses, []);
  assert.deepEqual(o.authHttpAddresses, []);
  assert.equal(o.authHttpRequestMethod, 'get');
  assert.equal(o.httpClientConnectTimeout, 2000);
  assert.equal(o.httpClientRequestTimeout, 5000);
  assert.equal(o.dataPath, '');
  assert.equal(o.memQueueSize, 10000);
  assert.equal(o.maxBytesPerFile, 104857600);
  assert.equal(o.syncEvery, 2500);
  assert.equal(o.syncTimeout, 2000);
  assert.equal(o.queueScanWorkerPoolMax, 4);
  assert.equal(o.queueScanSelectionCount, 20);
  assert.equal(o.msgTimeout, 60000);
  assert.equal(o.maxMsgTimeout, 900000);
  assert.equal(o.maxMsgSize, 1048576);
  assert.equal(o.maxBodySize, 5242880);
  assert.equal(o.maxReqTimeout, 3600000);
  assert.equal(o.maxDeferTimeout, 3600000);
  assert.equal(o.maxHeartbeatInterval, 60000);
  assert.equal(o.maxRdyCount, 2500);
  assert.equal(o.maxOutputBufferSize, 65536);
  assert.equal(o.maxOutputBufferTimeout, 30000);
  assert.equal(o.minOutputBufferTimeout, 25);
  assert.equal(o.outputBufferTimeout, 250);
  assert.equal(o.maxChannelConsumers, 0);
  assert.equal(o.statsdAddress, '');
  assert.equal(o.statsdPrefix, 'nsq.%s');
  assert.equal(o.statsdInterval, 60000);
  assert.equal(o.statsdMemStats, true);
  assert.equal(o.statsdUdpPacketSize, 508);
  assert.equal(o.statsdExcludeEphemeral, false);
  assert.deepEqual(o.e2eProcessingLatencyPercentiles, []);
  assert.equal(o.e2eProcessingLatencyWindowTime, 600000);
  assert.equal(o.tlsRequired, 0);
  assert.equal(o.tlsMinVersion, 'tls1.0');
  assert.equal(o.deflate, true);
  assert.equal(o.maxDeflateLevel, 6);
  assert.equal(o.snappy, true);
  assert.deepEqual(o.enableExperiment, []);
  assert.equal(o.clientTimeout, 60000);
  assert.equal(o.queueScanInterval, 100);
  assert.equal(o.queueScanRefreshInterval, 5000);
  assert.equal(o.queueScanDirtyPercent, 0.25);
  assert.equal(o.nodeId, defaultNodeId());
  assert.ok(!('version' in o) && !('config' in o) && !('verbose' in o) && !('workerId' in o));
  assert.deepEqual(parseNsqdArgs([]).options, o);
});

test('node id: default hash in range, validation', () => {
  for (const h of ['', 'localhost', 'vm', 'a-much-longer-host-name.example.com']) {
    const id = defaultNodeId(h);
    assert.ok(Number.isInteger(id) && id >= 0 && id < 1024, `${h} -> ${id}`);
    assert.equal(defaultNodeId(h), id);
  }
  assert.equal(parseNsqdArgs(['--node-id=0']).options.nodeId, 0);
  assert.equal(parseNsqdArgs(['--node-id', '1023']).options.nodeId, 1023);
  assert.throws(() => parseNsqdArgs(['--node-id=1024']), { name: 'FlagError', message: '--node-id must be [0,1024)' });
  assert.throws(() => parseNsqdArgs(['-node-id', '-1']), (e: unknown) => e instanceof OptionsValidationError && e.message === '--node-id must be [0,1024)');
});

test('three flag styles, bools, durations, arrays', () => {
  const { options: o } = parseNsqdArgs([
    '-mem-queue-size', '5',
    '--max-rdy-count=10',
    '--msg-timeout', '30s',
    '-max-req-timeout=1h2m3.5s',
    '--deflate=false',
    '--snappy=0',
    '--statsd-mem-stats=F',
    '--statsd-exclude-ephemeral',
    '--lookupd-tcp-address=127.0.0.1:4160',
    '--lookupd-tcp-address', '127.0.0.2:4160,127.0.0.3:4160',
    '--e2e-processing-latency-percentile=0.5',
    '--e2e-processing-latency-percentile', '0.99,1.0,0.95',
    '--enable-experiment=topology-aware-consumption',
    '--log-level=WARNING',
    '--output-buffer-timeout=1us',
    '--auth-http-request-method=post',
  ]);
  assert.equal(o.memQueueSize, 5);
  assert.equal(o.maxRdyCount, 10);
  assert.equal(o.msgTimeout, 30000);
  assert.equal(o.maxReqTimeout, 3723500);
  assert.equal(o.maxDeferTimeout, 3723500);
  assert.equal(o.deflate, false);
  assert.equal(o.snappy, false);
  assert.equal(o.statsdMemStats, false);
  assert.equal(o.statsdExcludeEphemeral, true);
  assert.deepEqual(o.lookupdTcpAddresses, ['127.0.0.1:4160', '127.0.0.2:4160', '127.0.0.3:4160']);
  assert.deepEqual(o.e2eProcessingLatencyPercentiles, [1, 0.99, 0.95, 0.5]);
  assert.deepEqual(o.enableExperiment, ['topology-aware-consumption']);
  assert.equal(o.logLevel, 'warn');
  assert.equal(o.outputBufferTimeout, 0.001);
  assert.equal(o.authHttpRequestMethod, 'post');
  assert.equal(parseNsqdArgs(['--max-defer-timeout=10s']).options.maxDeferTimeout, 10000);
});

test('tls-required forms and tls-min-version', () => {
  const tls = ['--tls-cert=/c.pem', '--tls-key=/k.pem'];
  assert.equal(parseNsqdArgs([...tls, '--tls-required']).options.tlsRequired, 2);
  assert.equal(parseNsqdArgs([...tls, '--tls-required=true']).options.tlsRequired, 2);
  assert.equal(parseNsqdArgs([...tls, '--tls-required=tcp-https']).options.tlsRequired, 1);
  assert.equal(parseNsqdArgs([...tls, '--tls-required=TCP-HTTPS']).options.tlsRequired, 1);
  assert.equal(parseNsqdArgs([...tls, '--tls-required=false']).options.tlsRequired, 0);
  assert.equal(parseNsqdArgs([...tls, '--tls-client-auth-policy=require']).options.tlsRequired, 2);
  assert.equal(parseNsqdArgs([...tls, '--tls-client-auth-policy=require', '--tls-required=tcp-https']).options.tlsRequired, 1);
  assert.throws(() => parseNsqdArgs(['--tls-required']), { message: 'cannot require TLS client connections without TLS key and cert' });
  assert.throws(() => parseNsqdArgs(['--tls-client-auth-policy=require']), { message: 'cannot require TLS client connections without TLS key and cert' });
  assert.throws(() => parseNsqdArgs(['--tls-required=maybe']), { message: 'invalid boolean value "maybe" for -tls-required: parse error' });
  assert.equal(parseNsqdArgs(['--tls-min-version=TLS1.2']).options.tlsMinVersion, 'tls1.2');
  assert.equal(parseNsqdArgs(['--tls-min-version=tls1.3']).options.tlsMinVersion, 'tls1.3');
  assert.equal(parseNsqdArgs(['--tls-min-version=']).options.tlsMinVersion, 'tls1.0');
  assert.throws(() => parseNsqdArgs(['--tls-min-version=ssl3.0']), {
    message: 'invalid value "ssl3.0" for flag -tls-min-version: unknown tlsVersionOption "ssl3.0"',
  });
  assert.deepEqual(['tls1.0', 'tls1.1', 'tls1.2', 'tls1.3'].map(tlsVersionNumber), [769, 770, 771, 772]);
});

test('bad values are FlagErrors with Go wording; validations are fatal messages', () => {
  const cases: Array<[string[], string]> = [
    [['--foo'], 'flag provided but not defined: -foo'],
    [['--mem-queue-size=x'], 'invalid value "x" for flag -mem-queue-size: parse error'],
    [['--msg-timeout=60'], 'invalid value "60" for flag -msg-timeout: parse error'],
    [['--deflate=maybe'], 'invalid boolean value "maybe" for -deflate: parse error'],
    [['--log-level=loud'], `invalid value "loud" for flag -log-level: invalid log level 'loud' (debug, info, warn, error, fatal)`],
    [['--e2e-processing-latency-percentile=abc'], 'invalid value "abc" for flag -e2e-processing-latency-percentile: parse error'],
    [['--e2e-processing-latency-percentile=1.5'], 'invalid E2E processing latency percentile: 1.5'],
    [['--e2e-processing-latency-percentile=0'], 'invalid E2E processing latency percentile: 0'],
    [['--max-deflate-level=0'], '--max-deflate-level must be [1,9]'],
    [['--max-deflate-level=10'], '--max-deflate-level must be [1,9]'],
    [['--auth-http-request-method=put'], '--auth-http-request-method must be post or get'],
    [['--tcp-address'], 'flag needs an argument: -tcp-address'],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseNsqdArgs(argv), (e: unknown) => e instanceof FlagError && e.message === message, argv.join(' '));
  }
  const o = defaultNsqdOptions();
  o.maxDeflateLevel = 9;
  validateNsqdOptions(o);
});

test('help and version', () => {
  assert.equal(parseNsqdArgs(['--help']).help, true);
  assert.equal(parseNsqdArgs(['-h', '--node-id=5000']).help, true);
  const v = parseNsqdArgs(['--version', '--node-id=5000']);
  assert.equal(v.version, true);
  assert.equal(parseNsqdArgs([]).version, false);
  assert.equal(parseNsqdArgs(['--verbose', '--worker-id']).version, false);
  const u = nsqdUsage();
  assert.ok(u.startsWith('Usage of nsqd:\n'));
  assert.ok(u.includes('  -mem-queue-size int\n    \tnumber of messages to keep in memory (per topic/channel) (default 10000)\n'));
  assert.ok(u.includes('  -msg-timeout duration\n'));
  assert.ok(u.includes('(default 1m0s)'));
  assert.ok(u.includes('  -lookupd-tcp-address value\n'));
});

test('config file priority: flag > config > default', (t) => {
  const dir = tempDir('nsqd-options-', t);
  const file = join(dir, 'nsqd.cfg');
  writeFileSync(
    file,
    `
id = 77
log_level = "debug"
log_prefix = "[custom] "
mem_queue_size = 123
msg_timeout = 30000
sync_timeout = "5s"
max_req_timeout = "10m"
nsqlookupd_tcp_addresses = ["127.0.0.1:4160", "127.0.0.2:4160"]
auth_http_addresses = "a:1,b:2"
e2e_processing_latency_percentiles = [0.5, 0.99]
enable_experiment = ["topology-aware-consumption"]
tls_cert = "/c.pem"
tls_key = "/k.pem"
tls_required = "tcp-https"
tls_min_version = "tls1.2"
deflate = false
statsd_prefix = "nsq.custom."
max_deflate_level = 9
unknown_key = "ignored"
`,
  );
  const { options: o } = parseNsqdArgs(['--config', file, '--mem-queue-size=5', '--lookupd-tcp-address=10.0.0.1:4160']);
  assert.equal(o.nodeId, 77);
  assert.equal(o.logLevel, 'debug');
  assert.equal(o.logPrefix, '[custom] ');
  assert.equal(o.memQueueSize, 5);
  assert.equal(o.msgTimeout, 30000);
  assert.equal(o.syncTimeout, 5000);
  assert.equal(o.maxReqTimeout, 600000);
  assert.equal(o.maxDeferTimeout, 600000);
  assert.deepEqual(o.lookupdTcpAddresses, ['10.0.0.1:4160']);
  assert.deepEqual(o.authHttpAddresses, ['a:1', 'b:2']);
  assert.deepEqual(o.e2eProcessingLatencyPercentiles, [0.99, 0.5]);
  assert.deepEqual(o.enableExperiment, ['topology-aware-consumption']);
  assert.equal(o.tlsRequired, 1);
  assert.equal(o.tlsMinVersion, 'tls1.2');
  assert.equal(o.deflate, false);
  assert.equal(o.statsdPrefix, 'nsq.custom.');
  assert.equal(o.maxDeflateLevel, 9);
  assert.equal(o.maxRdyCount, 2500); // default

  writeFileSync(file, 'tls_required = true\ntls_cert = "/c"\ntls_key = "/k"\n');
  assert.equal(parseNsqdArgs(['--config=' + file]).options.tlsRequired, 2);
  assert.equal(parseNsqdArgs(['--config=' + file, '--tls-required=false']).options.tlsRequired, 0);

  const bad: Array<[string, RegExp]> = [
    ['mem_queue_size = "lots"', /mem_queue_size "lots"/],
    ['msg_timeout = "60"', /^(?!)/], // digits-only string is ms: accepted (checked below)
    ['msg_timeout = "1x"', /msg_timeout "1x"/],
    ['log_level = "loud"', /log_level "loud"/],
    ['tls_required = "sometimes"', /tls_required "sometimes"/],
    ['tls_min_version = "ssl3.0"', /tls_min_version "ssl3.0"/],
    ['nsqlookupd_tcp_addresses = [1, 2]', /nsqlookupd_tcp_addresses/],
    ['id = 2000', /^--node-id must be \[0,1024\)$/],
    ['e2e_processing_latency_percentiles = [2.0]', /^invalid E2E processing latency percentile: 2$/],
    ['mem_queue_size = ', /^failed to load config file /],
  ];
  for (const [text, re] of bad) {
    writeFileSync(file, text + '\n');
    if (text === 'msg_timeout = "60"') {
      assert.equal(parseNsqdArgs(['--config', file]).options.msgTimeout, 60);
      continue;
    }
    assert.throws(() => parseNsqdArgs(['--config', file]), (e: unknown) => e instanceof FlagError && re.test(e.message), text);
  }
  const missing = join(dir, 'missing.cfg');
  assert.throws(() => parseNsqdArgs(['--config', missing]), {
    message: `failed to load config file ${missing} - open ${missing}: no such file or directory`,
  });
});

test('/config/:opt rendering', () => {
  const o = defaultNsqdOptions();
  o.lookupdTcpAddresses = ['127.0.0.1:4160'];
  o.statsdPrefix = 'nsq.127_0_0_1_14151.';
  o.tlsMinVersion = 'tls1.2';
  o.e2eProcessingLatencyPercentiles = [0.99, 0.5];
  assert.deepEqual(nsqdConfigValue(o, 'msg_timeout'), { kind: 'json', value: 60000000000 });
  assert.deepEqual(nsqdConfigValue(o, 'output_buffer_timeout'), { kind: 'json', value: 250000000 });
  assert.deepEqual(nsqdConfigValue(o, 'log_level'), { kind: 'json', value: 2 });
  assert.deepEqual(nsqdConfigValue(o, 'tls_required'), { kind: 'json', value: 0 });
  assert.deepEqual(nsqdConfigValue(o, 'tls_min_version'), { kind: 'json', value: 771 });
  assert.deepEqual(nsqdConfigValue(o, 'statsd_prefix'), { kind: 'text', value: 'nsq.127_0_0_1_14151.' });
  assert.deepEqual(nsqdConfigValue(o, 'mem_queue_size'), { kind: 'json', value: 10000 });
  assert.deepEqual(nsqdConfigValue(o, 'deflate'), { kind: 'json', value: true });
  assert.deepEqual(nsqdConfigValue(o, 'id'), { kind: 'json', value: o.nodeId });
  assert.deepEqual(nsqdConfigValue(o, 'nsqlookupd_tcp_addresses'), { kind: 'json', value: ['127.0.0.1:4160'] });
  assert.deepEqual(nsqdConfigValue(o, 'e2e_processing_latency_percentiles'), { kind: 'json', value: [0.99, 0.5] });
  assert.deepEqual(nsqdConfigValue(o, 'enable_experiment'), { kind: 'json', value: [] });
  assert.deepEqual(nsqdConfigValue(o, 'data_path'), { kind: 'text', value: '' });
  for (const k of ['node_id', 'version', 'config', 'verbose', 'worker_id', 'lookupd_tcp_address', 'client_timeout', 'nope']) {
    assert.equal(nsqdConfigValue(o, k), undefined, k);
  }
  const keys = nsqdConfigKeys();
  assert.ok(keys.includes('id') && keys.includes('nsqlookupd_tcp_addresses') && keys.includes('e2e_processing_latency_percentiles'));
  assert.equal(keys.length, 61); // the original's 53, max_defer_timeout, the 5 queue extensions, disk_checksums, durable_inflight
});

test('--durable-inflight: off by default, a Go-style bool flag, config key durable_inflight, listed by -h', (t) => {
  assert.equal(defaultNsqdOptions().durableInflight, false);
  assert.equal(parseNsqdArgs(['--durable-inflight']).options.durableInflight, true);
  assert.equal(parseNsqdArgs(['-durable-inflight=false']).options.durableInflight, false);
  const cfg = join(tempDir('tsnsq-opts-', t), 'nsqd.cfg');
  writeFileSync(cfg, 'durable_inflight = true\n');
  assert.equal(parseNsqdArgs([`--config=${cfg}`]).options.durableInflight, true);
  assert.deepEqual(nsqdConfigValue(parseNsqdArgs([`--config=${cfg}`]).options, 'durable_inflight'), { kind: 'json', value: true });
  assert.match(nsqdUsage(), /\n {2}-durable-inflight\n {4}\textension: journal in-flight and deferred messages/);
});
