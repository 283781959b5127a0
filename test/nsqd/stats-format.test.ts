import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';
import { originalManifest } from '../helpers/fixtures.js';
import { assertV1Empty, assertV1Text, channelOf, get, post, statsJson, topicOf, type StatsReply, JSON_TYPE, TEXT_TYPE, V1 } from './http-helpers.js';
import { eventually } from '../helpers/wait.js';

// /stats JSON key order (checked against the real 1.3.0 reply kept in the
// fixture manifest), filters, and the text layout.

/** The original's /stats reply kept in the fixture manifest. */
function loadReference(): StatsReply {
  return originalManifest<{ stats_before_shutdown: StatsReply }>().stats_before_shutdown;
}

type Obj = Record<string, unknown>;

/** Keys that upstream omits when zero/empty (`omitempty`), so a capture may or may not show them. */
const OPTIONAL = new Set([
  'zone_local_msg_count',
  'region_local_msg_count',
  'global_msg_count',
  'authed',
  'auth_identity',
  'auth_identity_url',
  'pub_counts',
]);
/** Keys added after 1.3.0 (the fixture's capture predates them); upstream's `nsqd/stats.go` has them. */
const POST_130 = new Set(['topology_zone', 'topology_region']);

const keysOf = (o: unknown) => Object.keys(o as Obj);
const coreKeys = (o: unknown) => keysOf(o).filter((k) => !OPTIONAL.has(k) && !POST_130.has(k));

const SPEC_CLIENT_KEYS = [
  'client_id',
  'hostname',
  'version',
  'remote_address',
  'state',
  'ready_count',
  'in_flight_count',
  'message_count',
  'finish_count',
  'requeue_count',
  'connect_ts',
  'sample_rate',
  'deflate',
  'snappy',
  'user_agent',
  'topology_zone',
  'topology_region',
  'tls',
  'tls_cipher_suite',
  'tls_version',
  'tls_negotiated_protocol',
  'tls_negotiated_protocol_is_mutual',
];
const SPEC_PRODUCER_KEYS = [...SPEC_CLIENT_KEYS.slice(0, SPEC_CLIENT_KEYS.indexOf('tls')), 'pub_counts', ...SPEC_CLIENT_KEYS.slice(SPEC_CLIENT_KEYS.indexOf('tls'))];
const SPEC_CHANNEL_KEYS = [
  'channel_name',
  'depth',
  'backend_depth',
  'in_flight_count',
  'deferred_count',
  'message_count',
  'global_msg_count',
  'requeue_count',
  'timeout_count',
  'client_count',
  'clients',
  'paused',
  'e2e_processing_latency',
];

async function identified(port: number, id: object): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.identify(id);
  await c.expectResponse('OK');
  return c;
}

describe('/stats format (real nsqd)', () => {
  let d: Daemon;
  let port: number;
  let cons: RawClient;
  let prod: RawClient;
  const ref = loadReference();

  before(async () => {
    d = await startNsqd();
    port = d.httpPort;
    // A consumer holding 2 messages in flight on t/holdch (like the fixture's capture) …
    cons = await identified(d.tcpPort, { client_id: 'cons1', hostname: 'conshost.example.com', user_agent: 'probe-cons/1.0' });
    cons.send('SUB t holdch');
    await cons.expectResponse('OK');
    cons.send('RDY 3');
    // … a producer that published to two topics …
    prod = await identified(d.tcpPort, { client_id: 'prod1', hostname: 'prodhost', user_agent: 'probe-prod/1.0' });
    for (let i = 0; i < 3; i++) {
      prod.send('PUB t', `m${i}`);
      await prod.expectResponse('OK');
    }
    prod.send('PUB t2#ephemeral', 'e');
    await prod.expectResponse('OK');
    await cons.readMessage();
    await cons.readMessage();
    await cons.readMessage();
    // … a paused channel, a paused topic, an idle topic with a channel.
    assertV1Empty(await post(port, '/channel/create?topic=t&channel=audit'));
    assertV1Empty(await post(port, '/channel/pause?topic=t&channel=audit'));
    assertV1Empty(await post(port, '/topic/create?topic=paused_topic'));
    assertV1Empty(await post(port, '/topic/pause?topic=paused_topic'));
    assertV1Empty(await post(port, '/topic/create?topic=newt'));
    assertV1Empty(await post(port, '/channel/create?topic=newt&channel=c'));
  });
  after(async () => {
    cons.destroy();
    prod.destroy();
    await d.stop();
  });

  it('JSON: top-level, topic, channel, client and memory key order match nsqd 1.3.0', async () => {
    const r = await get(port, '/stats?format=json');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], JSON_TYPE);
    assert.equal(r.headers['x-nsq-content-type'], V1);
    const s = JSON.parse(r.text) as StatsReply;

    assert.deepEqual(keysOf(s), keysOf(ref));
    assert.deepEqual(keysOf(s), ['version', 'health', 'start_time', 'topics', 'memory', 'producers']);
    assert.equal(s.version, '1.3.0');
    assert.equal(s.health, 'OK');
    assert.equal(typeof s.start_time, 'number');

    const refTopic = ref.topics!.find((t) => t.channels.length > 0)!;
    for (const t of s.topics!) assert.deepEqual(keysOf(t), keysOf(refTopic), `topic ${t.topic_name}`);

    const refChannel = refTopic.channels[0]!;
    const refClient = ref.topics!.flatMap((t) => t.channels).flatMap((c) => c.clients ?? [])[0]!;
    for (const t of s.topics!) {
      for (const c of t.channels) {
        assert.deepEqual(coreKeys(c), coreKeys(refChannel), `channel ${c.channel_name}`);
        assert.deepEqual(keysOf(c), SPEC_CHANNEL_KEYS.filter((k) => k in c));
        for (const cl of c.clients ?? []) {
          assert.deepEqual(coreKeys(cl), coreKeys(refClient));
          assert.deepEqual(keysOf(cl), SPEC_CLIENT_KEYS);
        }
      }
    }
    assert.deepEqual(keysOf(s.memory), keysOf(ref.memory));
    for (const v of Object.values(s.memory!)) assert.ok(Number.isInteger(v) && (v as number) >= 0);

    // the producer: the original's key order, pub_counts with at most one entry
    assert.equal(s.producers?.length, 1);
    const p = s.producers![0]!;
    assert.deepEqual(keysOf(p), SPEC_PRODUCER_KEYS);
    assert.deepEqual(coreKeys(p), coreKeys(refClient));
    assert.equal(p.client_id, 'prod1');
    assert.equal(p.hostname, 'prodhost');
    assert.equal(p.user_agent, 'probe-prod/1.0');
    assert.equal(p.state, 0);
    assert.deepEqual(p.pub_counts, [{ topic: 't', count: 3 }]);
  });

  it('JSON: values of topics, channels and the consumer', async () => {
    const s = await statsJson(port);
    assert.deepEqual(
      s.topics!.map((t) => t.topic_name),
      ['newt', 'paused_topic', 't', 't2#ephemeral'],
      'topics sorted by name',
    );
    const t = topicOf(s, 't')!;
    assert.deepEqual(t.channels.map((c) => c.channel_name), ['audit', 'holdch'], 'channels sorted by name');
    assert.equal(t.message_count, 3);
    assert.equal(t.message_bytes, 6);
    assert.equal(t.paused, false);
    assert.deepEqual(t.e2e_processing_latency, { count: 0, percentiles: null });
    assert.equal(topicOf(s, 'paused_topic')!.paused, true);
    assert.deepEqual(topicOf(s, 'paused_topic')!.channels, []);
    assert.equal(topicOf(s, 't2#ephemeral')!.depth, 1);

    const hold = channelOf(s, 't', 'holdch')!;
    assert.equal(hold.in_flight_count, 3);
    assert.equal(hold.message_count, 3);
    assert.equal(hold.global_msg_count, 3);
    assert.equal(hold.client_count, 1);
    assert.equal(hold.paused, false);
    const audit = channelOf(s, 't', 'audit')!;
    assert.equal(audit.paused, true);
    assert.deepEqual(audit.clients, []);
    assert.ok(!('global_msg_count' in audit), 'zero delivery counters are omitted');

    const cl = hold.clients![0]!;
    assert.equal(cl.client_id, 'cons1');
    assert.equal(cl.hostname, 'conshost.example.com');
    assert.equal(cl.version, 'V2');
    assert.match(cl.remote_address as string, /^127\.0\.0\.1:\d+$/);
    assert.equal(cl.state, 3);
    assert.equal(cl.ready_count, 3);
    assert.equal(cl.in_flight_count, 3);
    assert.equal(cl.message_count, 3);
    assert.equal(cl.finish_count, 0);
    assert.equal(cl.user_agent, 'probe-cons/1.0');
    assert.equal(cl.tls, false);
    assert.equal(cl.tls_version, '');
    assert.ok(!('pub_counts' in cl));
  });

  it('filters: topic, channel, include_clients, include_mem', async () => {
    // unknown topic: topics null (and producers, collected after it, too)
    let s = await statsJson(port, '&topic=nope');
    assert.equal(s.topics, null);
    assert.equal(s.producers, null);
    assert.ok('memory' in s);

    s = await statsJson(port, '&topic=t');
    assert.deepEqual(s.topics!.map((t) => t.topic_name), ['t']);
    assert.equal(s.producers?.length, 1);
    assert.deepEqual(s.producers![0]!.pub_counts, [{ topic: 't', count: 3 }]);
    // with ?topic= the pub_counts entry is that topic's
    s = await statsJson(port, '&topic=t2%23ephemeral');
    assert.deepEqual(s.producers![0]!.pub_counts, [{ topic: 't2#ephemeral', count: 1 }]);
    // producers are not filtered by topic; one that never published to it shows no pub_counts
    s = await statsJson(port, '&topic=newt');
    assert.equal(s.producers?.length, 1);
    assert.ok(!('pub_counts' in s.producers![0]!));

    // channel filter, with or without topic: topics lacking it are omitted
    s = await statsJson(port, '&channel=c');
    assert.deepEqual(s.topics!.map((t) => [t.topic_name, t.channels.map((c) => c.channel_name)]), [['newt', ['c']]]);
    s = await statsJson(port, '&topic=t&channel=holdch');
    assert.deepEqual(s.topics!.map((t) => [t.topic_name, t.channels.map((c) => c.channel_name)]), [['t', ['holdch']]]);
    s = await statsJson(port, '&topic=t&channel=nope');
    assert.deepEqual(s.topics, []);
    s = await statsJson(port, '&channel=nope');
    assert.deepEqual(s.topics, []);

    // include_clients=false: clients and producers null, client_count kept
    for (const v of ['false', '0']) {
      s = await statsJson(port, `&include_clients=${v}`);
      const hold = channelOf(s, 't', 'holdch')!;
      assert.equal(hold.clients, null);
      assert.equal(hold.client_count, 1);
      assert.equal(s.producers, null);
    }
    // only true/1/false/0 are recognised; anything else means true
    for (const v of ['False', 'no', 'f', '']) {
      s = await statsJson(port, `&include_clients=${v}`);
      assert.equal(channelOf(s, 't', 'holdch')!.clients?.length, 1, `include_clients=${v}`);
      assert.equal(s.producers?.length, 1);
    }
    s = await statsJson(port, '&include_mem=false');
    assert.deepEqual(keysOf(s), ['version', 'health', 'start_time', 'topics', 'producers']);
    s = await statsJson(port, '&include_mem=0&include_clients=0&topic=nope');
    assert.equal(JSON.stringify({ ...s, start_time: 0 }), '{"version":"1.3.0","health":"OK","start_time":0,"topics":null,"producers":null}');
  });

  it('format: only "json" is JSON; bad query → INVALID_REQUEST', async () => {
    for (const q of ['', '?format=text', '?format=JSON', '?format=xml']) {
      const r = await get(port, `/stats${q}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], TEXT_TYPE);
      assert.match(r.text, /^nsqd v1\.3\.0 \(built w\//);
    }
    const bad = await get(port, '/stats?format=%zz');
    assert.equal(bad.status, 400);
    assert.equal(bad.text, '{"message":"INVALID_REQUEST"}');
  });

  it('text: upstream printStats layout', async () => {
    const r = await get(port, '/stats');
    assertV1Text(r, r.text);
    const lines = r.text.split('\n');
    assert.match(lines[0]!, /^nsqd v1\.3\.0 \(built w\/\S+\)$/);
    assert.match(lines[1]!, /^start_time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.match(lines[2]!, /^uptime (\d+h)?(\d+m)?[\d.]+(s|ms|µs|ns)$/);
    assert.equal(lines[3], '');
    assert.equal(lines[4], 'Health: OK');
    assert.equal(lines[5], '');
    assert.equal(lines[6], 'Memory:');
    const memKeys = keysOf(ref.memory);
    for (let i = 0; i < memKeys.length; i++) {
      assert.equal(lines[7 + i], `   ${memKeys[i]!.padEnd(25)}\t${(lines[7 + i] ?? '').split('\t')[1]}`);
      assert.match(lines[7 + i]!, /\t\d+$/);
    }
    let i = 7 + memKeys.length;
    assert.equal(lines[i++], '');
    // "Topics:" is followed directly by the first topic line; topics are separated by a blank line
    assert.equal(lines[i++], 'Topics:');
    const E2E = 'e2e%: $';
    const topicRe = (p: string, name: string, depth: number, msgs: number) =>
      new RegExp(`^${p.replace(/\*/g, '\\*')}\\[${esc(name.padEnd(15))}\\] depth: ${String(depth).padEnd(5)} be-depth: 0     msgs: ${String(msgs).padEnd(8)} ${E2E}`);
    const chanRe = (p: string, name: string, depth: number, inflt: number, msgs: number) =>
      new RegExp(
        `^${p.replace(/\*/g, '\\*')}\\[${esc(name.padEnd(25))}\\] depth: ${String(depth).padEnd(5)} be-depth: 0     inflt: ${String(inflt).padEnd(4)} def: 0    re-q: 0     timeout: 0     msgs: ${String(msgs).padEnd(8)} ${E2E}`,
      );
    assert.match(lines[i++]!, topicRe('   ', 'newt', 0, 0));
    assert.match(lines[i++]!, chanRe('      ', 'c', 0, 0, 0));
    assert.equal(lines[i++], '');
    assert.match(lines[i++]!, topicRe('*P ', 'paused_topic', 0, 0));
    assert.equal(lines[i++], '');
    assert.match(lines[i++]!, topicRe('   ', 't', 0, 3));
    assert.match(lines[i++]!, chanRe('   *P ', 'audit', 0, 0, 0));
    assert.match(lines[i++]!, chanRe('      ', 'holdch', 0, 3, 3));
    assert.match(
      lines[i++]!,
      /^ {8}\[V2 conshost\.example\.com:\d+ probe-cons\/1\.0\] state: 3 inflt: 3 {4}rdy: 3 {4}fin: 0 {8}re-q: 0 {8}msgs: 3 {8}connected: \d+s$/,
    );
    assert.equal(lines[i++], '');
    assert.match(lines[i++]!, topicRe('   ', 't2#ephemeral', 1, 1));
    assert.equal(lines[i++], '');
    assert.equal(lines[i++], 'Producers:');
    assert.match(lines[i++]!, /^ {3}\[V2 prodhost:\d+ probe-prod\/1\.0 *\] msgs: 3 {8}topics: t=3 connected: \d+s$/);
    assert.equal(lines[i++], '');
    assert.equal(lines.length, i, 'nothing after the producers');
  });

  it('text: filters and empty sections', async () => {
    let r = await get(port, '/stats?include_mem=false&include_clients=false&topic=nope');
    assert.match(r.text, /\n\nHealth: OK\n\nTopics: None\n\nProducers: None\n$/);
    assert.ok(!r.text.includes('Memory:'));
    r = await get(port, '/stats?channel=c&include_clients=0');
    assert.match(r.text, /\nTopics:\n {3}\[newt {11}\] [^\n]*\n {6}\[c {24}\] [^\n]*\n\nProducers: None\n$/);
    r = await get(port, '/stats?channel=nope');
    assert.match(r.text, /\nTopics: None\n\nProducers:\n/);
  });
});

describe('/stats e2e latency and client flags', () => {
  it('reports configured percentiles in JSON (quantile, value) and humanized in text', async () => {
    const d = await startNsqd(['--e2e-processing-latency-percentile=1,0.99', '--e2e-processing-latency-percentile=0.5']);
    const c = await RawClient.connect(d.tcpPort);
    try {
      c.send('SUB lat ch');
      await c.expectResponse('OK');
      c.send('RDY 10');
      for (let i = 0; i < 5; i++) assertV1Text(await post(d.httpPort, '/pub?topic=lat', `m${i}`), 'OK');
      for (let i = 0; i < 5; i++) c.send(`FIN ${(await c.readMessage()).id}`);
      const ch = await eventually(async () => {
        const x = channelOf(await statsJson(d.httpPort), 'lat', 'ch');
        return x && x.message_count === 5 && (x.e2e_processing_latency as { count: number }).count === 5 ? x : false;
      }, 10000, 'five FINs recorded');
      const e2e = ch.e2e_processing_latency as { count: number; percentiles: Array<Obj> };
      assert.deepEqual(e2e.percentiles.map((p) => keysOf(p)), [['quantile', 'value'], ['quantile', 'value'], ['quantile', 'value']]);
      assert.deepEqual(e2e.percentiles.map((p) => p.quantile), [1, 0.99, 0.5]);
      for (const p of e2e.percentiles) assert.ok((p.value as number) > 0);
      const t = topicOf(await statsJson(d.httpPort), 'lat')!;
      assert.equal((t.e2e_processing_latency as { count: number }).count, 5);
      // a topic without channels still reports null percentiles
      assertV1Empty(await post(d.httpPort, '/topic/create?topic=lonely'));
      assert.deepEqual(topicOf(await statsJson(d.httpPort), 'lonely')!.e2e_processing_latency, { count: 0, percentiles: null });
      const text = (await get(d.httpPort, '/stats')).text;
      const human = '\\d+\\.\\d(ns|us|ms|s)';
      assert.match(text, new RegExp(`\\n {3}\\[lat {12}\\] [^\\n]* e2e%: ${human}, ${human}, ${human}\\n`));
      assert.match(text, new RegExp(`\\n {6}\\[ch {23}\\] [^\\n]* e2e%: ${human}, ${human}, ${human}\\n`));
      assert.match(text, /\n {3}\[lonely {9}\] [^\n]* e2e%: \n/);
    } finally {
      c.destroy();
      await d.stop();
    }
  });

  it('a connection that publishes and subscribes is listed in both places', async () => {
    const d = await startNsqd();
    const c = await RawClient.connect(d.tcpPort);
    try {
      c.send('SUB both ch');
      await c.expectResponse('OK');
      c.send('PUB both', 'self');
      await c.expectResponse('OK');
      const s = await statsJson(d.httpPort);
      const cl = channelOf(s, 'both', 'ch')!.clients![0]!;
      assert.equal(s.producers?.length, 1);
      assert.equal(s.producers![0]!.remote_address, cl.remote_address);
      assert.deepEqual(cl.pub_counts, [{ topic: 'both', count: 1 }]);
      // upstream prints such a client with the producer layout inside the channel too
      const text = (await get(d.httpPort, '/stats')).text;
      assert.match(text, /\n {8}\[V2 127\.0\.0\.1:\d+ *\] msgs: 1 {8}topics: both=1 connected: \d+s\n/);
    } finally {
      c.destroy();
      await d.stop();
    }
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&');
}
