/**
 * Every nsqadmin /api route and action against a real cluster: one nsqlookupd, two nsqd
 * registered with it and an nsqadmin process reading through the lookupd. Effects of actions
 * are checked on nsqd /stats and nsqlookupd, not on nsqadmin's own answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { nsqjs, type NsqjsReader } from '../helpers/nsqjs.js';
import { call, eventually, getJson, nodeOf, nsqdTopic, postOk, startCluster, type AdminCluster } from './helpers.js';

let c: AdminCluster;
let port: number;

const admin = (method: string, path: string, body?: unknown) => call(port, method, path, body === undefined ? undefined : JSON.stringify(body));

async function lookupdTopics(): Promise<string[]> {
  return (await getJson(c.lookupd.httpPort, '/topics')).topics;
}

/** Publishes `n` messages to `topic` on nsqd `i` and waits until lookupd lists that nsqd for it. */
async function seed(i: number, topic: string, n: number): Promise<void> {
  for (let k = 0; k < n; k++) await postOk(c.nsqd(i).httpPort, `/pub?topic=${topic}`, `m${k}`);
  await eventually(async () => {
    const r = await call(c.lookupd.httpPort, 'GET', `/lookup?topic=${topic}`);
    assert.equal(r.status, 200);
    assert.ok(r.json().producers.some((p: { http_port: number }) => p.http_port === c.nsqd(i).httpPort));
  });
}

/** Creates topic and channel on one nsqd (its /channel/create needs the topic first). */
async function mkChannel(d: AdminCluster['nsqds'][number], topic: string, channel: string): Promise<void> {
  await postOk(d.httpPort, `/topic/create?topic=${topic}`);
  await postOk(d.httpPort, `/channel/create?topic=${topic}&channel=${channel}`);
}

before(async () => {
  c = await startCluster(2);
  port = c.admin.httpPort;
});
after(async () => {
  await c?.stop();
});

describe('reads', () => {
  it('/ping answers OK as plain text', async () => {
    const r = await call(port, 'GET', '/ping');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK');
  });

  it('/api/topics lists the union of lookupd topics, sorted', async () => {
    await seed(0, 'reads_b', 1);
    await seed(1, 'reads_a', 1);
    const r = await getJson(port, '/api/topics');
    assert.equal(r.message, '');
    assert.ok(r.topics.includes('reads_a') && r.topics.includes('reads_b'));
    assert.deepEqual(r.topics, [...r.topics].sort());
  });

  it('/api/topics/:topic aggregates both nodes and their channels', async () => {
    await mkChannel(c.nsqd(0), 'agg', 'ch');
    await mkChannel(c.nsqd(1), 'agg', 'ch');
    await seed(0, 'agg', 3);
    await seed(1, 'agg', 2);
    const r = await getJson(port, '/api/topics/agg');
    assert.equal(r.message, '');
    assert.equal(r.node, '*');
    assert.equal(r.topic_name, 'agg');
    assert.equal(r.message_count, 5);
    assert.deepEqual(r.nodes.map((n: { node: string }) => n.node).sort(), [nodeOf(c.nsqd(0)), nodeOf(c.nsqd(1))].sort());
    assert.equal(r.nodes[0].hostname, os.hostname());
    assert.equal(r.channels.length, 1);
    assert.equal(r.channels[0].channel_name, 'ch');
    assert.equal(r.channels[0].depth, 5);
    assert.equal(r.channels[0].message_count, 5);
    assert.equal(r.channels[0].nodes.length, 2);
    assert.deepEqual(Object.keys(r), ['node', 'hostname', 'topic_name', 'depth', 'memory_depth', 'backend_depth', 'message_count', 'delivery_msg_count', 'nodes', 'channels', 'paused', 'e2e_processing_latency', 'message']);
    assert.equal(r.e2e_processing_latency.host, '*');
    // The whole server answers gzip when asked, like the original's gzip handler.
    const gz = await call(port, 'GET', '/api/topics/agg', undefined, { 'Accept-Encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['x-nsq-content-type'], 'nsq; version=1.0');
    assert.equal(gz.json().message_count, 5);
    const plain = await call(port, 'GET', '/api/topics/agg', undefined, { 'Accept-Encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(Number(plain.headers['content-length']), Buffer.byteLength(plain.body));
  });

  it('/api/topics/:topic/:channel lists the clients of every node', async () => {
    await seed(0, 'clients', 1);
    const reader: NsqjsReader = new nsqjs.Reader('clients', 'ch', { nsqdTCPAddresses: [`127.0.0.1:${c.nsqd(0).tcpPort}`], maxInFlight: 1 });
    reader.on('message', (m) => m.finish());
    reader.on('error', () => {});
    reader.connect();
    try {
      await eventually(async () => {
        const j = await getJson(port, '/api/topics/clients/ch');
        assert.equal(j.clients.length, 1);
        assert.equal(j.message_count, 1);
      });
      const j = await getJson(port, '/api/topics/clients/ch');
      const cl = j.clients[0];
      assert.equal(cl.node, nodeOf(c.nsqd(0)));
      assert.equal(cl.user_agent.startsWith('nsqjs/'), true);
      assert.equal(typeof cl.connected, 'number');
      assert.equal(j.client_count, 1);
      assert.deepEqual(Object.keys(cl).slice(0, 8), ['node', 'remote_address', 'version', 'client_id', 'hostname', 'user_agent', 'connect_ts', 'connected']);
      const node = await getJson(port, `/api/nodes/${nodeOf(c.nsqd(0))}`);
      assert.equal(node.node, nodeOf(c.nsqd(0)));
      assert.ok(node.total_clients >= 1);
      assert.ok(node.total_messages >= 1);
      assert.ok(node.topics.some((t: { topic_name: string }) => t.topic_name === 'clients'));
    } finally {
      reader.close();
    }
  });

  it('an unknown channel is 404 CHANNEL_NOT_FOUND; an unknown topic is 502 from lookupd', async () => {
    await seed(0, 'nochan', 1);
    const r = await call(port, 'GET', '/api/topics/nochan/missing');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json(), { message: 'CHANNEL_NOT_FOUND' });
    const u = await call(port, 'GET', '/api/topics/never_seen');
    assert.equal(u.status, 502);
    assert.match(u.json().message, /^UPSTREAM_ERROR: failed to query any nsqlookupd: got response 404/);
  });

  it('/api/nodes lists both nsqd with lookupd connections and topics; unknown node is 404', async () => {
    const r = await getJson(port, '/api/nodes');
    assert.equal(r.message, '');
    assert.equal(r.nodes.length, 2);
    for (const d of c.nsqds) {
      const n = r.nodes.find((x: { http_port: number }) => x.http_port === d.httpPort);
      assert.equal(n.tcp_port, d.tcpPort);
      assert.equal(n.broadcast_address, '127.0.0.1');
      assert.equal(n.version, '1.3.0');
      assert.equal(n.out_of_date, false);
      assert.equal(n.remote_addresses.length, 1);
      assert.ok(n.remote_addresses[0].startsWith(`127.0.0.1:${c.lookupd.httpPort}/127.0.0.1:`));
    }
    const r404 = await call(port, 'GET', '/api/nodes/127.0.0.1:1');
    assert.equal(r404.status, 404);
    assert.deepEqual(r404.json(), { message: 'NODE_NOT_FOUND' });
  });

  it('/api/counter keys every channel per node', async () => {
    await mkChannel(c.nsqd(1), 'count', 'cc');
    await seed(1, 'count', 4);
    const r = await getJson(port, '/api/counter');
    assert.deepEqual(r.stats[`count:cc:${nodeOf(c.nsqd(1))}`], { node: nodeOf(c.nsqd(1)), topic_name: 'count', channel_name: 'cc', message_count: 4 });
  });
});

describe('actions', () => {
  it('create topic + channel: lookupd gets both, producers of the topic get the channel', async () => {
    await seed(0, 'made', 1);
    const r = await admin('POST', '/api/topics', { topic: 'made', channel: 'newch' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json(), { message: '' });
    assert.ok((await lookupdTopics()).includes('made'));
    assert.deepEqual((await getJson(c.lookupd.httpPort, '/channels?topic=made')).channels, ['newch']);
    const t = await nsqdTopic(c.nsqd(0), 'made');
    assert.deepEqual(t.channels.map((x: { channel_name: string }) => x.channel_name), ['newch']);
    assert.equal(await nsqdTopic(c.nsqd(1), 'made'), undefined, 'the topic is not created on nsqd without a producer');
  });

  it('a topic known only to lookupd is listed as inactive with its channels', async () => {
    const r = await admin('POST', '/api/topics', { topic: 'ghost', channel: 'gc' });
    assert.equal(r.status, 200);
    const inactive = await getJson(port, '/api/topics?inactive=true');
    assert.deepEqual(inactive.topics.ghost, ['gc']);
    assert.equal(inactive.topics.made, undefined);
  });

  it('pause / unpause / empty a topic on every producer', async () => {
    await seed(0, 'pt', 2);
    await seed(1, 'pt', 2);
    assert.equal((await admin('POST', '/api/topics/pt', { action: 'pause' })).status, 200);
    for (const d of c.nsqds) assert.equal((await nsqdTopic(d, 'pt')).paused, true);
    assert.equal((await getJson(port, '/api/topics/pt')).paused, true);
    assert.equal((await admin('POST', '/api/topics/pt', { action: 'unpause' })).status, 200);
    for (const d of c.nsqds) assert.equal((await nsqdTopic(d, 'pt')).paused, false);
    // Topic depth only stays while it has no channel; empty drops it on both nodes.
    assert.equal((await admin('POST', '/api/topics/pt', { action: 'pause' })).status, 200);
    assert.equal((await admin('POST', '/api/topics/pt', { action: 'empty' })).status, 200);
    for (const d of c.nsqds) assert.equal((await nsqdTopic(d, 'pt')).depth, 0);
  });

  it('pause / unpause / empty a channel on every producer', async () => {
    for (const d of c.nsqds) await mkChannel(d, 'pc', 'c1');
    await seed(0, 'pc', 3);
    await seed(1, 'pc', 1);
    const ch = async (i: number) => (await nsqdTopic(c.nsqd(i), 'pc')).channels.find((x: { channel_name: string }) => x.channel_name === 'c1');
    assert.equal((await admin('POST', '/api/topics/pc/c1', { action: 'pause' })).status, 200);
    assert.equal((await ch(0)).paused, true);
    assert.equal((await ch(1)).paused, true);
    assert.equal((await getJson(port, '/api/topics/pc/c1')).paused, true);
    assert.equal((await admin('POST', '/api/topics/pc/c1', { action: 'unpause' })).status, 200);
    assert.equal((await ch(1)).paused, false);
    assert.equal((await ch(0)).depth, 3);
    assert.equal((await admin('POST', '/api/topics/pc/c1', { action: 'empty' })).status, 200);
    assert.equal((await ch(0)).depth, 0);
    assert.equal((await ch(1)).depth, 0);
  });

  it('delete a channel, then the topic, on lookupd and every nsqd', async () => {
    for (const d of c.nsqds) await mkChannel(d, 'gone', 'gc');
    await seed(0, 'gone', 1);
    await seed(1, 'gone', 1);
    assert.equal((await admin('DELETE', '/api/topics/gone/gc')).status, 200);
    for (const d of c.nsqds) assert.deepEqual((await nsqdTopic(d, 'gone')).channels, []);
    assert.deepEqual((await getJson(c.lookupd.httpPort, '/channels?topic=gone')).channels, []);
    assert.equal((await admin('DELETE', '/api/topics/gone')).status, 200);
    for (const d of c.nsqds) assert.equal(await nsqdTopic(d, 'gone'), undefined);
    await eventually(async () => assert.ok(!(await lookupdTopics()).includes('gone')));
  });

  it('tombstone a topic on one node: lookupd marks it, that nsqd drops the topic, the other keeps it', async () => {
    await seed(0, 'tomb', 1);
    await seed(1, 'tomb', 1);
    const node = nodeOf(c.nsqd(0));
    const r = await admin('DELETE', `/api/nodes/${node}`, { topic: 'tomb' });
    assert.equal(r.status, 200, r.body);
    assert.equal(await nsqdTopic(c.nsqd(0), 'tomb'), undefined);
    assert.ok(await nsqdTopic(c.nsqd(1), 'tomb'));
    const nodes = await getJson(port, '/api/nodes');
    const other = nodes.nodes.find((n: { http_port: number }) => n.http_port === c.nsqd(1).httpPort);
    assert.deepEqual(other.topics.find((t: { topic: string }) => t.topic === 'tomb'), { topic: 'tomb', tombstoned: false });
    const lk = await getJson(c.lookupd.httpPort, '/lookup?topic=tomb');
    assert.deepEqual(lk.producers.map((p: { http_port: number }) => p.http_port), [c.nsqd(1).httpPort]);
  });

  it('bad bodies, names and actions get the original errors', async () => {
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['POST', '/api/topics', 'nope', 400, "invalid character 'o' in literal null (expecting 'u')"],
      ['POST', '/api/topics', '{"topic":"bad!"}', 400, 'INVALID_TOPIC'],
      ['POST', '/api/topics', '{"topic":"ok","channel":"bad!"}', 400, 'INVALID_CHANNEL'],
      ['POST', '/api/topics/pt', '{"action":"explode"}', 400, 'INVALID_ACTION'],
      ['POST', '/api/topics/pt/c', '{}', 400, 'INVALID_ACTION'],
      ['DELETE', '/api/nodes/127.0.0.1:1', 'nope', 400, 'INVALID_BODY'],
      ['DELETE', '/api/nodes/127.0.0.1:1', '{"topic":"bad!"}', 400, 'INVALID_TOPIC'],
    ];
    for (const [m, p, body, status, message] of cases) {
      const r = await call(port, m, p, body);
      assert.equal(r.status, status, `${m} ${p} ${body}`);
      assert.deepEqual(r.json(), { message }, `${m} ${p} ${body}`);
      assert.equal(r.headers['x-nsq-content-type'], 'nsq; version=1.0');
    }
  });
});

describe('/config/:opt', () => {
  it('reads options and changes log_level and nsqlookupd_http_addresses', async () => {
    assert.equal((await call(port, 'GET', '/config/log_level')).body, '2');
    assert.equal((await call(port, 'GET', '/config/http_client_connect_timeout')).body, '2000000000');
    assert.equal((await call(port, 'GET', '/config/acl_http_header')).body, 'X-Forwarded-User');
    assert.deepEqual((await call(port, 'GET', '/config/nsqlookupd_http_addresses')).json(), [`127.0.0.1:${c.lookupd.httpPort}`]);
    assert.equal((await call(port, 'PUT', '/config/log_level', 'warn')).body, '3');
    assert.equal((await call(port, 'PUT', '/config/log_level', 'info')).body, '2');
    const bad = await call(port, 'PUT', '/config/log_level', 'loud');
    assert.deepEqual([bad.status, bad.json()], [400, { message: 'INVALID_VALUE' }]);
    const badList = await call(port, 'PUT', '/config/nsqlookupd_http_addresses', '{"a":1}');
    assert.deepEqual([badList.status, badList.json()], [400, { message: 'INVALID_VALUE' }]);
    const other = await call(port, 'PUT', '/config/graphite_url', 'x');
    assert.deepEqual([other.status, other.json()], [400, { message: 'INVALID_OPTION' }]);
    const unknown = await call(port, 'GET', '/config/nope');
    assert.deepEqual([unknown.status, unknown.json()], [400, { message: 'INVALID_OPTION' }]);
    const empty = await call(port, 'PUT', '/config/log_level', '');
    assert.deepEqual([empty.status, empty.json()], [413, { message: 'INVALID_VALUE' }]);
    const list = JSON.stringify([`127.0.0.1:${c.lookupd.httpPort}`]);
    assert.deepEqual((await call(port, 'PUT', '/config/nsqlookupd_http_addresses', list)).json(), [`127.0.0.1:${c.lookupd.httpPort}`]);
  });
});
