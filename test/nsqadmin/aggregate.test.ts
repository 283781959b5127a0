/** Cross-node aggregation (clusterinfo TopicStats/ChannelStats/e2e/producers), without I/O. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addE2e, emptyE2e, nodeE2e } from '../../src/nsqadmin/e2e-aggregate.js';
import { addTopic, emptyTopicAggregate, sortClientsByTopology, topicFromNsqd, type ClientStats, type NsqdTopic } from '../../src/nsqadmin/cluster-stats.js';
import { mergeLookupdNodes, mergeTopicProducers, compareSemver, parseSemver } from '../../src/nsqadmin/producers.js';
import { parseCidr } from '../../src/nsqadmin/cidr.js';
import { decodeJson } from '../../src/nsqadmin/json-body.js';
import type { HttpApiError } from '../../src/http/api-error.js';

const NOW = 1_700_000_010_500;

function nsqdTopic(depth: number, backend: number, msgs: number, channels: NsqdTopic['channels'], paused = false): NsqdTopic {
  return { topic_name: 't', depth, backend_depth: backend, message_count: msgs, paused, channels, e2e_processing_latency: { count: 0, percentiles: null } };
}

describe('e2e aggregate', () => {
  it('node entries repeat the value; aggregates sum counts, keep max/min and a count-weighted average', () => {
    const a = nodeE2e({ count: 1, percentiles: [{ quantile: 0.5, value: 100 }] });
    assert.deepEqual(a, { count: 1, percentiles: [{ average: 100, count: 1, max: 100, min: 100, quantile: 0.5, value: 100 }], topic: '', channel: '', host: '' });
    const b = nodeE2e({ count: 3, percentiles: [{ quantile: 0.5, value: 200 }, { quantile: 0.99, value: 900 }] });
    const agg = emptyE2e('t', 'c');
    addE2e(agg, a);
    addE2e(agg, b);
    assert.deepEqual(agg, {
      count: 4,
      percentiles: [
        { average: 175, count: 4, max: 200, min: 100, quantile: 0.5 },
        { average: 900, count: 3, max: 900, min: 900, quantile: 0.99 },
      ],
      topic: 't',
      channel: 'c',
      host: '*',
    });
    assert.equal(JSON.stringify(Object.keys(agg.percentiles![0]!)), '["average","count","max","min","quantile"]');
  });

  it('no percentiles anywhere stays null', () => {
    const agg = emptyE2e('t');
    addE2e(agg, nodeE2e({ count: 0, percentiles: null }));
    assert.equal(agg.percentiles, null);
  });
});

describe('topic aggregation', () => {
  it('sums nodes, derives memory depth, merges channels by name into fresh aggregates', () => {
    const n1 = topicFromNsqd(
      nsqdTopic(10, 4, 100, [{ channel_name: 'c', depth: 5, backend_depth: 1, in_flight_count: 1, message_count: 100, client_count: 1, global_msg_count: 2, clients: null }]),
      { node: 'h2:4151', hostname: 'h2', topologyRegion: '', topologyZone: '' },
      NOW,
    );
    const n2 = topicFromNsqd(
      nsqdTopic(1, 0, 7, [{ channel_name: 'c', depth: 2, message_count: 7, paused: true, clients: null }, { channel_name: 'd', depth: 3 }], true),
      { node: 'h1:4151', hostname: 'h1', topologyRegion: '', topologyZone: '' },
      NOW,
    );
    const agg = emptyTopicAggregate('t');
    addTopic(agg, n1);
    addTopic(agg, n2);
    assert.equal(agg.node, '*');
    assert.equal(agg.depth, 11);
    assert.equal(agg.memory_depth, 7);
    assert.equal(agg.message_count, 107);
    assert.equal(agg.paused, true);
    assert.deepEqual(agg.nodes!.map((x) => x.node), ['h1:4151', 'h2:4151']); // sorted by hostname
    const c = agg.channels.find((x) => x.channel_name === 'c')!;
    assert.equal(c.node, '*');
    assert.equal(c.depth, 7);
    assert.equal(c.memory_depth, 6);
    assert.equal(c.delivery_msg_count, 2);
    assert.equal(c.global_msg_count, 2);
    assert.equal(c.paused, true);
    assert.equal(c.client_count, 1);
    assert.deepEqual(c.nodes!.map((x) => x.node), ['h1:4151', 'h2:4151']);
    // Per-node rows are untouched by the sums (upstream mutates the first node's row).
    assert.equal(n1.channels[0]!.depth, 5);
    assert.equal(n1.channels[0]!.node, 'h2:4151');
    assert.deepEqual(Object.keys(n1.channels[0]!), [
      'node', 'hostname', 'topic_name', 'channel_name', 'depth', 'memory_depth', 'backend_depth', 'in_flight_count', 'deferred_count',
      'requeue_count', 'timeout_count', 'message_count', 'delivery_msg_count', 'global_msg_count', 'client_count', 'nodes', 'clients', 'paused', 'e2e_processing_latency',
    ]);
    assert.equal(agg.channels.find((x) => x.channel_name === 'd')!.depth, 3);
    // Sums that make optional counters appear keep the original key order.
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(c))), [
      'node', 'hostname', 'topic_name', 'channel_name', 'depth', 'memory_depth', 'backend_depth', 'in_flight_count', 'deferred_count',
      'requeue_count', 'timeout_count', 'message_count', 'delivery_msg_count', 'global_msg_count', 'client_count', 'nodes', 'clients', 'paused', 'e2e_processing_latency',
    ]);
  });

  it('clients get node, topology and a whole-second connected duration; channel order is by node then locality', () => {
    const src = { node: 'n1:1', hostname: 'n1', topologyRegion: 'r1', topologyZone: 'z1' };
    const t = topicFromNsqd(
      nsqdTopic(0, 0, 0, [
        {
          channel_name: 'c',
          clients: [
            { hostname: 'far', topology_region: 'r2', topology_zone: 'z9', connect_ts: 1_700_000_000 },
            { hostname: 'zone', topology_region: 'r1', topology_zone: 'z1', connect_ts: 1_700_000_000 },
            { hostname: 'region', topology_region: 'r1', topology_zone: 'z2', connect_ts: 1_700_000_000 },
          ],
        },
      ]),
      src,
      NOW,
    );
    const clients = t.channels[0]!.clients as ClientStats[];
    assert.equal(clients[0]!.connected, 10 * 1e9);
    assert.equal(clients[0]!.node_topology_region, 'r1');
    sortClientsByTopology(clients);
    assert.deepEqual(clients.map((c) => c.hostname), ['zone', 'region', 'far']);
  });
});

describe('producers', () => {
  it('merges lookupd /nodes by TCP address, accumulating remote_addresses; flags older versions', () => {
    const peer = (host: string, tcp: number, version: string, topics: string[] = [], tombstones: boolean[] = []) => ({
      remote_address: `127.0.0.1:${tcp + 1000}`, hostname: host, broadcast_address: '127.0.0.1', tcp_port: tcp, http_port: tcp + 1, version, topology_zone: '', topology_region: '', topics, tombstones,
    });
    const list = mergeLookupdNodes([
      { lookupd: 'L1:4161', peers: [peer('b', 4150, '1.3.0', ['z', 'a'], [false, true]), peer('a', 5150, '1.2.1')] },
      { lookupd: 'L2:4161', peers: [peer('b', 4150, '1.3.0', ['z', 'a'], [false, true])] },
    ]);
    assert.deepEqual(list.map((p) => p.hostname), ['a', 'b']);
    assert.deepEqual(list[1]!.remote_addresses, ['L1:4161/127.0.0.1:5150', 'L2:4161/127.0.0.1:5150']);
    assert.deepEqual(list[1]!.topics, [{ topic: 'a', tombstoned: true }, { topic: 'z', tombstoned: false }]);
    assert.equal(list[0]!.out_of_date, true);
    assert.equal(list[1]!.out_of_date, false);
    assert.deepEqual(Object.keys(list[1]!), ['remote_addresses', 'remote_address', 'hostname', 'broadcast_address', 'tcp_port', 'http_port', 'version', 'topics', 'out_of_date']);
  });

  it('dedupes topic producers by HTTP address', () => {
    const p = { broadcast_address: 'h', http_port: 1, tcp_port: 2, hostname: 'h', version: '1.3.0' };
    assert.equal(mergeTopicProducers([[p], [p, { ...p, http_port: 3 }]]).length, 2);
  });

  it('semver order', () => {
    assert.ok(compareSemver(parseSemver('1.2.10'), parseSemver('1.3.0')) < 0);
    assert.ok(compareSemver(parseSemver('1.3.0-alpha'), parseSemver('1.3.0')) < 0);
    assert.equal(compareSemver(parseSemver('junk'), parseSemver('0.0.0')), 0);
  });
});

describe('cidr and bodies', () => {
  it('allow-config-from-cidr matching, IPv4-mapped peers included', () => {
    const c = parseCidr('127.0.0.1/8')!;
    assert.ok(c.contains('127.1.2.3'));
    assert.ok(c.contains('::ffff:127.0.0.1'));
    assert.ok(!c.contains('10.0.0.1'));
    assert.ok(!c.contains('::1'));
    assert.ok(parseCidr('::1/128')!.contains('::1'));
    assert.equal(parseCidr('nope'), undefined);
    assert.equal(parseCidr('1.2.3.4/33'), undefined);
  });

  it('JSON bodies fail with Go decoder wording', () => {
    const msg = (text: string) => {
      try {
        decodeJson(text, { topic: 'string' });
        return 'ok';
      } catch (e) {
        return (e as HttpApiError).text;
      }
    };
    assert.equal(msg('nope'), "invalid character 'o' in literal null (expecting 'u')");
    assert.equal(msg(''), 'EOF');
    assert.equal(msg('x'), "invalid character 'x' looking for beginning of value");
    assert.equal(msg('{"topic":1}'), 'json: cannot unmarshal number into Go struct field .topic of type string');
    assert.equal(msg('null'), 'ok');
    assert.equal(msg('{"other":1}'), 'ok');
  });
});
