/**
 * A real cluster: 2 nsqlookupd and 3 nsqd processes (the third joins later), all on 127.0.0.1.
 * One cluster is shared by the tests of this file, which run in order and use distinct topics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { RawClient as V2Client, channelStats, nsqdStats } from '../helpers/raw-client.js';
import { RawClient as LookupClient, nsqdInfo } from '../helpers/lookupd.js';
import { CollectingReader, call, get, getJson, lookupPorts, normalizeProducers, ports, post, postOk, producerOf, publish } from './helpers.js';
import { eventually, sleep } from '../helpers/wait.js';

const TOMBSTONE_LIFETIME_MS = 2000;

describe('a cluster of 2 nsqlookupd and 3 nsqd', () => {
  let l1: Daemon;
  let l2: Daemon;
  let n1: Daemon;
  let n2: Daemon;
  let n3: Daemon | null = null;
  let reader: CollectingReader | null = null;
  const lookupds = () => [l1, l2];
  const lookupdArgs = () => [`--lookupd-tcp-address=127.0.0.1:${l1.tcpPort}`, `--lookupd-tcp-address=127.0.0.1:${l2.tcpPort}`];

  before(async () => {
    [l1, l2] = await Promise.all([
      startNsqlookupd([`--tombstone-lifetime=${TOMBSTONE_LIFETIME_MS}ms`]),
      startNsqlookupd([`--tombstone-lifetime=${TOMBSTONE_LIFETIME_MS}ms`]),
    ]);
    [n1, n2] = await Promise.all([startNsqd(lookupdArgs()), startNsqd(lookupdArgs())]);
    // Both nodes identified with both lookupds.
    for (const l of lookupds()) {
      await eventually(async () => {
        const nodes = (await getJson(l.httpPort, '/nodes')).producers as Array<{ tcp_port: number }>;
        assert.deepEqual(nodes.map((n) => n.tcp_port).sort((a, b) => a - b), ports(n1, n2));
      });
    }
  });

  after(async () => {
    reader?.close();
    if (process.env.CLUSTER_TEST_LOG) for (const d of [l1, l2, n1, n2, n3]) process.stderr.write(d?.logs() ?? '');
    const nodes = [n1, n2, n3].filter((d): d is Daemon => d !== null);
    const codes = await Promise.all(nodes.map((d) => d.stop()));
    await Promise.all([l1.stop(), l2.stop()]);
    assert.deepEqual(codes, nodes.map(() => 0));
  });

  it('a topic published on two nodes is in /lookup on both lookupds, with both producers', async () => {
    await publish(n1, 't_multi', ['a']);
    await publish(n2, 't_multi', ['b']);
    for (const l of lookupds()) {
      await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_multi'), ports(n1, n2)));
      const r = await get(l.httpPort, '/lookup?topic=t_multi');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.headers['x-nsq-content-type'], 'nsq; version=1.0');
      const body = r.json();
      assert.deepEqual(Object.keys(body), ['channels', 'producers']);
      assert.deepEqual(body.channels, []);
      const producers = normalizeProducers(body.producers);
      assert.deepEqual(producers, [producerOf(n1), producerOf(n2)].sort((a, b) => (a.tcp_port as number) - (b.tcp_port as number)));
      // deepEqual ignores key order; the wire order is the original's.
      for (const p of producers) assert.deepEqual(Object.keys(p), Object.keys(producerOf(n1)));
      // remote_address is the nsqd's outgoing connection, not its listener.
      for (const p of body.producers) assert.ok(![n1.tcpPort, n2.tcpPort].includes(Number(p.remote_address.split(':')[1])));
    }
  });

  it('/topics, /channels and /nodes reflect the registrations; a channel created on nsqd shows up', async () => {
    await postOk(n1.httpPort, '/channel/create?topic=t_multi&channel=ch1');
    for (const l of lookupds()) {
      await eventually(async () => assert.deepEqual(await getJson(l.httpPort, '/channels?topic=t_multi'), { channels: ['ch1'] }));
      assert.deepEqual((await getJson(l.httpPort, '/lookup?topic=t_multi')).channels, ['ch1']);
      assert.ok((await getJson(l.httpPort, '/topics')).topics.includes('t_multi'));
      assert.deepEqual(await getJson(l.httpPort, '/channels?topic=nonexistent'), { channels: [] });

      const nodes = (await getJson(l.httpPort, '/nodes')).producers as Array<Record<string, any>>;
      assert.equal(nodes.length, 2);
      for (const n of nodes) {
        assert.deepEqual(Object.keys(n), [...Object.keys(producerOf(n1)), 'tombstones', 'topics']);
        assert.equal(n.hostname, os.hostname());
        assert.ok(n.topics.includes('t_multi'), JSON.stringify(n));
        assert.equal(n.tombstones.length, n.topics.length);
        assert.ok(n.tombstones.every((t: boolean) => t === false));
      }
      const { tombstones: _t, topics: _topics, ...first } = nodes.find((n) => n.tcp_port === n1.tcpPort)!;
      assert.deepEqual(normalizeProducers([first]), [producerOf(n1)]);
    }
  });

  it('an nsqjs Reader given only the lookupd HTTP addresses consumes everything published on both nodes', async () => {
    const sent: string[] = [];
    const batch = (node: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${node}-${from + i}`);
    // Published before any consumer exists: the topics hold the messages.
    for (const [node, name] of [[n1, 'n1'], [n2, 'n2']] as const) {
      const bodies = batch(name, 0, 10);
      await publish(node, 't_read', bodies);
      sent.push(...bodies);
    }
    for (const l of lookupds()) await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_read'), ports(n1, n2)));

    reader = new CollectingReader('t_read', 'consumer', {
      lookupdHTTPAddresses: lookupds().map((l) => `127.0.0.1:${l.httpPort}`),
      lookupdPollInterval: 1,
      maxInFlight: 10,
    });
    await eventually(() => assert.equal(reader!.bodies.length, 20), 15000);
    assert.equal(reader.connected.size, 2);

    // And while connected.
    for (const [node, name] of [[n1, 'n1'], [n2, 'n2']] as const) {
      const bodies = batch(name, 10, 5);
      await publish(node, 't_read', bodies);
      sent.push(...bodies);
    }
    await eventually(() => assert.equal(reader!.bodies.length, 30), 15000);
    assert.deepEqual([...reader.bodies].sort(), [...sent].sort());
    assert.deepEqual(reader.errors, []);
  });

  it('an nsqd that joins later is picked up by /lookup and by the polling Reader', async () => {
    assert.ok(reader !== null, 'needs the Reader of the previous test');
    n3 = await startNsqd([...lookupdArgs(), '--topology-zone=zone-a', '--topology-region=region-1']);
    // Channels are learned only from lookupds that already answered IDENTIFY (as upstream):
    // wait until both list the new node before its first publish.
    for (const l of lookupds()) {
      await eventually(async () => {
        const nodes = (await getJson(l.httpPort, '/nodes')).producers as Array<{ tcp_port: number }>;
        assert.ok(nodes.some((p) => p.tcp_port === n3!.tcpPort));
      });
    }
    await sleep(200); // n3 handles the IDENTIFY replies right after lookupd lists it
    const before = reader.bodies.length;
    const bodies = Array.from({ length: 5 }, (_, i) => `n3-${i}`);
    await publish(n3, 't_read', bodies);
    // The new topic learned channel `consumer` from the lookupds before the messages landed.
    const ch = channelStats(await nsqdStats(n3.httpPort, 't_read'), 't_read', 'consumer');
    assert.ok(ch !== undefined, 'channel learned from the cluster');
    for (const l of lookupds()) {
      await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_read'), ports(n1, n2, n3!)));
      const producers = normalizeProducers((await getJson(l.httpPort, '/lookup?topic=t_read')).producers);
      const p3 = producers.find((p) => p.tcp_port === n3!.tcpPort);
      assert.deepEqual(p3, { ...producerOf(n3), topology_zone: 'zone-a', topology_region: 'region-1' });
    }
    await eventually(() => assert.equal(reader!.bodies.length, before + 5), 15000);
    assert.deepEqual(reader.bodies.slice(before).sort(), bodies);
    assert.ok(reader.connected.has(`127.0.0.1:${n3.tcpPort}`));
    assert.equal(reader.connected.size, 3);
    for (const l of lookupds()) assert.equal((await getJson(l.httpPort, '/nodes')).producers.length, 3);
  });

  it('a topic new on a node first creates the channels the cluster has for it (upstream `nsqd/nsqd.go` GetTopic)', async () => {
    await postOk(n1.httpPort, '/topic/create?topic=t_learn');
    await postOk(n1.httpPort, '/channel/create?topic=t_learn&channel=c');
    await postOk(n1.httpPort, '/channel/create?topic=t_learn&channel=c2');
    // Ephemeral channels are registered but never copied.
    await postOk(n1.httpPort, '/channel/create?topic=t_learn&channel=e%23ephemeral');
    for (const l of lookupds()) {
      await eventually(async () =>
        assert.deepEqual((await getJson(l.httpPort, '/channels?topic=t_learn')).channels.sort(), ['c', 'c2', 'e#ephemeral']),
      );
    }

    // HTTP publish on a node that does not have the topic.
    await postOk(n2.httpPort, '/pub?topic=t_learn', 'over-http');
    let stats = await nsqdStats(n2.httpPort, 't_learn');
    assert.deepEqual(stats.topics![0]!.channels.map((c) => c.channel_name).sort(), ['c', 'c2']);
    for (const name of ['c', 'c2']) {
      const c = channelStats(stats, 't_learn', name)!;
      assert.equal(c.depth, 1, `${name} got the message`);
      assert.equal(c.message_count, 1);
    }

    // TCP PUB on the third node.
    const pub = await V2Client.connect(n3!.tcpPort);
    try {
      pub.send('PUB t_learn', 'over-tcp');
      await pub.expectResponse('OK');
    } finally {
      pub.destroy();
    }
    stats = await nsqdStats(n3!.httpPort, 't_learn');
    assert.deepEqual(stats.topics![0]!.channels.map((c) => [c.channel_name, c.depth]).sort(), [['c', 1], ['c2', 1]]);

    // And they register what they learned.
    for (const l of lookupds()) {
      await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_learn'), ports(n1, n2, n3!)));
    }
  });

  it('/topic/tombstone hides one node for one topic on that lookupd until the lifetime ends', async () => {
    await publish(n1, 't_tomb', ['x']);
    await publish(n2, 't_tomb', ['y']);
    for (const l of lookupds()) await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_tomb'), ports(n1, n2)));

    assert.equal((await post(l1.httpPort, `/topic/tombstone?topic=t_tomb&node=127.0.0.1:${n1.httpPort}`)).status, 200);
    const tombstonedAt = Date.now();
    assert.deepEqual(await lookupPorts(l1.httpPort, 't_tomb'), [n2.tcpPort]);
    assert.deepEqual(await lookupPorts(l2.httpPort, 't_tomb'), ports(n1, n2), 'tombstones are per lookupd');
    const node = ((await getJson(l1.httpPort, '/nodes')).producers as any[]).find((n) => n.tcp_port === n1.tcpPort);
    assert.equal(node.tombstones[node.topics.indexOf('t_tomb')], true);
    assert.equal(node.tombstones.filter(Boolean).length, 1);

    // Meanwhile the node registers other topics normally, and re-registering the topic is a no-op.
    await publish(n1, 't_tomb_other', ['z']);
    await eventually(async () => assert.deepEqual(await lookupPorts(l1.httpPort, 't_tomb_other'), [n1.tcpPort]));
    await postOk(n1.httpPort, '/channel/create?topic=t_tomb&channel=late');
    await eventually(async () => assert.ok((await getJson(l1.httpPort, '/channels?topic=t_tomb')).channels.includes('late')));
    if (Date.now() - tombstonedAt < TOMBSTONE_LIFETIME_MS - 200) {
      assert.deepEqual(await lookupPorts(l1.httpPort, 't_tomb'), [n2.tcpPort], 'still tombstoned');
    }

    await sleep(Math.max(0, tombstonedAt + TOMBSTONE_LIFETIME_MS + 100 - Date.now()));
    assert.deepEqual(await lookupPorts(l1.httpPort, 't_tomb'), ports(n1, n2), 'the tombstone expired');

    // The nsqadmin flow: tombstone, then delete the topic on that node (UNREGISTER drops the
    // producer and its tombstone); a later re-creation registers a fresh, visible producer.
    await postOk(l1.httpPort, `/topic/tombstone?topic=t_tomb&node=127.0.0.1:${n1.httpPort}`);
    assert.deepEqual(await lookupPorts(l1.httpPort, 't_tomb'), [n2.tcpPort]);
    await postOk(n1.httpPort, '/topic/delete?topic=t_tomb');
    await eventually(async () => {
      const debug = await getJson(l1.httpPort, '/debug');
      assert.equal((debug['topic:t_tomb:'] as any[]).length, 1);
      assert.equal(debug['topic:t_tomb:'][0].tcp_port, n2.tcpPort);
    });
    await publish(n1, 't_tomb', ['again']);
    await eventually(async () => assert.deepEqual(await lookupPorts(l1.httpPort, 't_tomb'), ports(n1, n2)));
  });

  it('nsqd deleting a topic or channel unregisters it; lookupd keeps the empty keys', async () => {
    await postOk(n1.httpPort, '/topic/create?topic=t_del');
    await postOk(n1.httpPort, '/channel/create?topic=t_del&channel=cc');
    await postOk(n1.httpPort, '/channel/create?topic=t_del&channel=gone');
    for (const l of lookupds()) await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_del'), [n1.tcpPort]));

    await postOk(n1.httpPort, '/channel/delete?topic=t_del&channel=gone');
    for (const l of lookupds()) {
      await eventually(async () => assert.equal((await getJson(l.httpPort, '/debug'))['channel:t_del:gone'], undefined));
      assert.deepEqual((await getJson(l.httpPort, '/channels?topic=t_del')).channels.sort(), ['cc', 'gone']);
    }

    await postOk(n1.httpPort, '/topic/delete?topic=t_del');
    for (const l of lookupds()) {
      await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_del'), []));
      const body = await getJson(l.httpPort, '/lookup?topic=t_del');
      assert.deepEqual(body, { channels: body.channels, producers: [] });
      assert.deepEqual(body.channels.sort(), ['cc', 'gone']);
      const debug = await getJson(l.httpPort, '/debug');
      assert.equal(debug['channel:t_del:cc'], undefined, 'no producer left on the channel');
      const node = ((await getJson(l.httpPort, '/nodes')).producers as any[]).find((n) => n.tcp_port === n1.tcpPort);
      assert.ok(!node.topics.includes('t_del'));
    }
  });

  it('an ephemeral channel is registered while its consumer is connected and disappears with it', async () => {
    const sub = await V2Client.connect(n2.tcpPort);
    try {
      sub.send('SUB t_multi eph#ephemeral');
      await sub.expectResponse('OK');
      for (const l of lookupds()) {
        await eventually(async () => assert.ok((await getJson(l.httpPort, '/channels?topic=t_multi')).channels.includes('eph#ephemeral')));
      }
    } finally {
      sub.destroy();
    }
    for (const l of lookupds()) {
      await eventually(async () => assert.ok(!(await getJson(l.httpPort, '/channels?topic=t_multi')).channels.includes('eph#ephemeral')));
      assert.equal((await getJson(l.httpPort, '/debug'))['channel:t_multi:eph#ephemeral'], undefined);
    }

    // An ephemeral topic goes away (on nsqd and, with its last producer, on lookupd) with its last channel.
    const sub2 = await V2Client.connect(n1.tcpPort);
    try {
      sub2.send('SUB t_eph#ephemeral c#ephemeral');
      await sub2.expectResponse('OK');
      for (const l of lookupds()) {
        await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_eph#ephemeral'), [n1.tcpPort]));
        assert.deepEqual(await getJson(l.httpPort, '/channels?topic=t_eph%23ephemeral'), { channels: ['c#ephemeral'] });
      }
    } finally {
      sub2.destroy();
    }
    for (const l of lookupds()) {
      await eventually(async () => assert.equal((await get(l.httpPort, '/lookup?topic=t_eph%23ephemeral')).status, 404));
      assert.ok(!(await getJson(l.httpPort, '/topics')).topics.includes('t_eph#ephemeral'));
      assert.deepEqual(await getJson(l.httpPort, '/channels?topic=t_eph%23ephemeral'), { channels: [] });
    }
  });

  it('/channel/delete and /topic/delete on lookupd edit only its own directory', async () => {
    assert.equal((await post(l1.httpPort, '/channel/delete?topic=t_multi&channel=nope')).status, 404);
    await postOk(l1.httpPort, '/channel/delete?topic=t_multi&channel=ch1');
    assert.deepEqual((await getJson(l1.httpPort, '/channels?topic=t_multi')).channels, []);
    assert.deepEqual((await getJson(l2.httpPort, '/channels?topic=t_multi')).channels, ['ch1']);

    await postOk(l1.httpPort, '/topic/delete?topic=t_multi');
    assert.equal((await get(l1.httpPort, '/lookup?topic=t_multi')).status, 404);
    assert.ok(!(await getJson(l1.httpPort, '/topics')).topics.includes('t_multi'));
    assert.deepEqual(await lookupPorts(l2.httpPort, 't_multi'), ports(n1, n2));
    // The nsqds still have it; the next event for it registers it again (only from that node).
    await postOk(n1.httpPort, '/channel/create?topic=t_multi&channel=ch2');
    await eventually(async () => assert.deepEqual(await lookupPorts(l1.httpPort, 't_multi'), [n1.tcpPort]));
    assert.deepEqual((await getJson(l1.httpPort, '/channels?topic=t_multi')).channels, ['ch2']);
  });

  it('bad input on the lookupd TCP port is answered with the original errors and leaves real nodes alone', async () => {
    const before = await getJson(l1.httpPort, '/debug');

    const exchange = async (setup: (c: LookupClient) => Promise<void> | void, magic: Buffer | null = Buffer.from('  V1')) => {
      const c = await LookupClient.connect(l1.tcpPort, magic);
      try {
        await setup(c);
        const r = await c.read();
        await c.closed;
        return r;
      } finally {
        c.destroy();
      }
    };

    assert.equal(await exchange((c) => c.write('GET / HTTP/1.1\r\n\r\n'), null), 'E_BAD_PROTOCOL');
    assert.equal(await exchange((c) => c.write('  V2'), null), 'E_BAD_PROTOCOL');
    assert.equal(await exchange((c) => c.write('HELLO world\n')), 'E_INVALID invalid command HELLO');
    assert.equal(await exchange((c) => c.write('REGISTER t_multi\n')), 'E_INVALID client must IDENTIFY');
    assert.equal(await exchange((c) => c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0x7f, 0xff, 0xff, 0xff])]))),
      'E_BAD_BODY IDENTIFY body too big 2147483647 > 1048576');
    assert.equal(await exchange((c) => c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0xff, 0xff, 0xff, 0xff])]))),
      'E_BAD_BODY IDENTIFY invalid body size -1');
    assert.equal(await exchange((c) => c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0, 0, 0, 5]), Buffer.from('{oops')]))),
      'E_BAD_BODY IDENTIFY failed to decode JSON body');
    assert.equal(await exchange((c) => c.write(Buffer.alloc(40000, 0x41))), 'E_INVALID line too long');
    assert.equal(await exchange(async (c) => {
      assert.match((await c.identify(nsqdInfo({ broadcast_address: '127.0.0.1' })))!, /^\{"broadcast_address":"127\.0\.0\.1",/);
      c.write('REGISTER bad*topic\n');
    }), "E_BAD_TOPIC REGISTER topic name 'bad*topic' is not valid");
    // A fake node that registers a topic and vanishes leaves nothing behind.
    assert.equal(await exchange(async (c) => {
      await c.identify(nsqdInfo({ broadcast_address: '127.0.0.1' }));
      assert.equal(await c.command('REGISTER', ['t_multi', 'fake_ch']), 'OK');
      c.write('IDENTIFY\n');
    }), 'E_INVALID cannot IDENTIFY again');

    // The real nodes' registrations are exactly as before (only the empty fake_ch key is new).
    await eventually(async () => {
      const now = await getJson(l1.httpPort, '/debug');
      const strip = (d: Record<string, any[]>) =>
        Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.map((p) => `${p.id} ${p.tcp_port}`).sort()]));
      assert.deepEqual(strip(now), strip(before));
    });
    assert.ok((await getJson(l1.httpPort, '/channels?topic=t_multi')).channels.includes('fake_ch'));
    assert.equal((await getJson(l1.httpPort, '/nodes')).producers.length, 3);
    // …and their connections still work: the next registration goes through.
    await postOk(n2.httpPort, '/channel/create?topic=t_multi&channel=after_garbage');
    await eventually(async () => assert.deepEqual(await lookupPorts(l1.httpPort, 't_multi'), ports(n1, n2)));
    for (const n of [n1, n2, n3!]) assert.doesNotMatch(n.logs(), /ERROR: LOOKUPD/);
  });

  it('PUT /config/nsqlookupd_tcp_addresses drops and re-adds a lookupd', async () => {
    const only1 = JSON.stringify([`127.0.0.1:${l1.tcpPort}`]);
    const r = await call(n3!.httpPort, 'PUT', '/config/nsqlookupd_tcp_addresses', only1);
    assert.equal(r.status, 200, r.body);
    await eventually(async () => {
      const nodes = (await getJson(l2.httpPort, '/nodes')).producers as Array<{ tcp_port: number }>;
      assert.ok(!nodes.some((n) => n.tcp_port === n3!.tcpPort));
    });
    assert.deepEqual(await lookupPorts(l2.httpPort, 't_read'), ports(n1, n2));
    assert.deepEqual(await lookupPorts(l1.httpPort, 't_read'), ports(n1, n2, n3!));

    const both = JSON.stringify([`127.0.0.1:${l1.tcpPort}`, `127.0.0.1:${l2.tcpPort}`]);
    assert.equal((await call(n3!.httpPort, 'PUT', '/config/nsqlookupd_tcp_addresses', both)).status, 200);
    // The new peer connects, identifies and registers everything the node has.
    await eventually(async () => assert.deepEqual(await lookupPorts(l2.httpPort, 't_read'), ports(n1, n2, n3!)));
    await eventually(async () => assert.deepEqual(await lookupPorts(l2.httpPort, 't_learn'), ports(n1, n2, n3!)));
    assert.deepEqual(JSON.parse((await get(n3!.httpPort, '/config/nsqlookupd_tcp_addresses')).body), JSON.parse(both));
  });
});
