import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startNsqd, tempDir, type Daemon } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';
import { defaultNsqdOptions, nsqdConfigKeys, nsqdConfigValue, parseNsqdArgs } from '../../src/nsqd/options.js';
import { get } from './http-helpers.js';

/**
 * Every config-file key of upstream `nsqd/options.go` (including the renamed `id`, `nsqlookupd_tcp_addresses`,
 * `auth_http_addresses`, `e2e_processing_latency_percentiles`, `enable_experiment`) is read from a
 * TOML file, and a real nsqd started from such a file uses and reports the values.
 */

/** One non-default TOML value per key of the original's flag table, in its order. */
const SPEC_KEYS: ReadonlyArray<[key: string, toml: string]> = [
  ['log_level', '"debug"'],
  ['log_prefix', '"[cfg] "'],
  ['id', '5'],
  ['tcp_address', '"127.0.0.1:1"'],
  ['http_address', '"127.0.0.1:2"'],
  ['https_address', '"127.0.0.1:3"'],
  ['broadcast_address', '"b.example"'],
  ['broadcast_tcp_port', '1'],
  ['broadcast_http_port', '2'],
  ['nsqlookupd_tcp_addresses', '["l1:4160", "l2:4160"]'],
  ['auth_http_addresses', '["a1:4181"]'],
  ['auth_http_request_method', '"post"'],
  ['http_client_connect_timeout', '"3s"'],
  ['http_client_request_timeout', '"6s"'],
  ['topology_region', '"r"'],
  ['topology_zone', '"z"'],
  ['data_path', '"/nonexistent"'],
  ['mem_queue_size', '7'],
  ['max_bytes_per_file', '1000'],
  ['sync_every', '3'],
  ['sync_timeout', '"1s"'],
  ['queue_scan_worker_pool_max', '2'],
  ['queue_scan_selection_count', '3'],
  ['msg_timeout', '"2m"'],
  ['max_msg_timeout', '"20m"'],
  ['max_msg_size', '2000'],
  ['max_body_size', '4000'],
  ['max_req_timeout', '"2h"'],
  ['max_heartbeat_interval', '"2m"'],
  ['max_rdy_count', '10'],
  ['max_output_buffer_size', '1000'],
  ['max_output_buffer_timeout', '"10s"'],
  ['min_output_buffer_timeout', '"50ms"'],
  ['output_buffer_timeout', '"100ms"'],
  ['max_channel_consumers', '3'],
  ['statsd_address', '"s:8125"'],
  ['statsd_prefix', '"p.%s"'],
  ['statsd_interval', '"10s"'],
  ['statsd_mem_stats', 'false'],
  ['statsd_udp_packet_size', '100'],
  ['statsd_exclude_ephemeral', 'true'],
  ['e2e_processing_latency_percentiles', '[0.5, 0.99]'],
  ['e2e_processing_latency_window_time', '60000'],
  ['tls_cert', '"/c.pem"'],
  ['tls_key', '"/k.pem"'],
  ['tls_client_auth_policy', '"require"'],
  ['tls_root_ca_file', '"/ca.pem"'],
  ['tls_required', '"tcp-https"'],
  ['tls_min_version', '"tls1.2"'],
  ['deflate', 'false'],
  ['max_deflate_level', '3'],
  ['snappy', 'false'],
  ['enable_experiment', '["topology-aware-consumption"]'],
];

const dirs: string[] = [];
const daemons: Daemon[] = [];
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function configFile(text: string): string {
  const dir = tempDir('tsnsq-audit-cfg-');
  dirs.push(dir);
  const file = path.join(dir, 'nsqd.cfg');
  fs.writeFileSync(file, text);
  return file;
}

describe('nsqd config file', () => {
  it('knows every key of the original table plus the extensions (docs/extensions.md)', () => {
    const spec = SPEC_KEYS.map(([k]) => k);
    const extensions = ['max_defer_timeout', 'max_attempts', 'dead_letter_topic_suffix', 'msg_ttl', 'max_depth', 'max_depth_policy', 'disk_checksums', 'durable_inflight'];
    assert.deepEqual([...nsqdConfigKeys()].sort(), [...spec, ...extensions].sort());
  });

  it('reads a non-default value for every key', () => {
    const file = configFile(SPEC_KEYS.map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
    const { options } = parseNsqdArgs([`--config=${file}`]);
    const defaults = defaultNsqdOptions();
    for (const [key] of SPEC_KEYS) {
      assert.notDeepEqual(nsqdConfigValue(options, key), nsqdConfigValue(defaults, key), key);
    }
    assert.equal(options.nodeId, 5);
    assert.deepEqual(options.lookupdTcpAddresses, ['l1:4160', 'l2:4160']);
    assert.deepEqual(options.authHttpAddresses, ['a1:4181']);
    assert.deepEqual(options.e2eProcessingLatencyPercentiles, [0.99, 0.5]);
    assert.deepEqual(options.enableExperiment, ['topology-aware-consumption']);
    assert.equal(options.e2eProcessingLatencyWindowTime, 60000); // an integer duration is ms
  });

  it('drives a real nsqd: /config shows the values, message ids carry the configured id', async () => {
    const file = configFile(
      [
        'id = 42',
        'nsqlookupd_tcp_addresses = ["127.0.0.1:1"]',
        'e2e_processing_latency_percentiles = "0.9,0.99"',
        'enable_experiment = ["topology-aware-consumption"]',
        'topology_zone = "cfg-zone"',
        'msg_timeout = "30s"',
        'max_rdy_count = 77',
      ].join('\n') + '\n',
    );
    const d = await startNsqd([`--config=${file}`]);
    daemons.push(d);
    const cfg = async (key: string) => (await get(d.httpPort, `/config/${key}`)).text;
    assert.equal(await cfg('id'), '42');
    assert.equal(await cfg('nsqlookupd_tcp_addresses'), '["127.0.0.1:1"]');
    assert.equal(await cfg('e2e_processing_latency_percentiles'), '[0.99,0.9]');
    assert.equal(await cfg('enable_experiment'), '["topology-aware-consumption"]');
    assert.equal(await cfg('topology_zone'), 'cfg-zone');
    assert.equal(await cfg('msg_timeout'), '30000000000');

    const c = await RawClient.connect(d.tcpPort);
    try {
      c.identify({ feature_negotiation: true });
      const reply = JSON.parse((await c.readText())[1]) as Record<string, unknown>;
      assert.deepEqual([reply.msg_timeout, reply.max_rdy_count, reply.topology_zone], [30000, 77, 'cfg-zone']);
      c.send('SUB cfg_t ch');
      await c.expectResponse('OK');
      c.send('PUB cfg_t', 'x');
      await c.expectResponse('OK');
      c.send('RDY 1');
      const m = await c.readMessage();
      assert.equal((BigInt(`0x${m.id}`) >> 12n) & 0x3ffn, 42n, `node id bits of ${m.id}`);
    } finally {
      c.destroy();
    }
  });

  it('a broken or missing file, or a rejected value, is a FATAL log line and exit 1', () => {
    const bin = fileURLToPath(new URL('../../src/apps/nsqd.js', import.meta.url));
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    const fatal = (text: string) => new RegExp(`^\\[nsqd\\] \\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} FATAL: ${text}\\n$`);
    const missing = path.join(tempDir('tsnsq-audit-cfg-'), 'missing.cfg');
    dirs.push(path.dirname(missing));
    let r = run(`--config=${missing}`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, fatal(`failed to load config file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} - open .*: no such file or directory`));
    r = run(`--config=${configFile('mem_queue_size = "lots"\n')}`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, fatal('failed parsing mem_queue_size "lots" in config file - parse error'));
    r = run(`--config=${configFile('id = 2000\n')}`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, fatal('failed to instantiate nsqd - --node-id must be \\[0,1024\\)'));
  });
});
