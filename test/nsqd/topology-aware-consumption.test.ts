import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats, RawClient } from '../helpers/raw-client.js';
import { getJson } from './http-helpers.js';
import { eventually } from '../helpers/wait.js';

/**
 * The topology-aware-consumption experiment (docs/compatibility.md; upstream
 * `nsqd/channel.go`, `nsqd/protocol_v2.go`, `nsqd/http.go`): topology in /info, the IDENTIFY reply and /stats clients; with the experiment on, a message
 * is handed to a ready zone-local consumer first, then a region-local one, else queued for anyone;
 * the channel counts deliveries by the receiving consumer's locality.
 */
const EXPERIMENT = '--enable-experiment=topology-aware-consumption';
const daemons: Daemon[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(daemons.map((d) => d.stop()));
});

async function start(args: string[]): Promise<Daemon> {
  const d = await startNsqd(args);
  daemons.push(d);
  return d;
}

async function consumer(d: Daemon, topic: string, channel: string, topology: { zone?: string; region?: string }, rdy: number): Promise<RawClient> {
  const c = await RawClient.connect(d.tcpPort);
  clients.push(c);
  c.identify({ topology_zone: topology.zone, topology_region: topology.region });
  await c.expectResponse('OK');
  c.send(`SUB ${topic} ${channel}`);
  await c.expectResponse('OK');
  if (rdy > 0) c.send(`RDY ${rdy}`);
  return c;
}

async function publish(d: Daemon, topic: string, n: number): Promise<void> {
  const p = await RawClient.connect(d.tcpPort);
  clients.push(p);
  for (let i = 0; i < n; i++) {
    p.send(`PUB ${topic}`, `m${i}`);
    await p.expectResponse('OK');
  }
}

async function counters(d: Daemon, topic: string, channel: string) {
  const ch = channelStats(await nsqdStats(d.httpPort, topic), topic, channel)!;
  const obj = ch as unknown as Record<string, unknown>;
  return { zone: obj.zone_local_msg_count, region: obj.region_local_msg_count, global: obj.global_msg_count, ch };
}

/** Reads `n` messages, then checks nothing more arrives for a moment. */
async function expectMessages(c: RawClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await c.readMessage();
  await c.expectSilence(100);
}

describe('experiment on, node in zone z1 / region r1', () => {
  let d: Daemon;
  before(async () => {
    d = await start([EXPERIMENT, '--topology-zone=z1', '--topology-region=r1']);
  });

  it('reports the node topology in /info and the IDENTIFY reply, the client topology in /stats', async () => {
    const info = await getJson(d.httpPort, '/info');
    assert.equal(info.topology_zone, 'z1');
    assert.equal(info.topology_region, 'r1');

    const c = await RawClient.connect(d.tcpPort);
    clients.push(c);
    c.identify({ feature_negotiation: true, topology_zone: 'z9', topology_region: 'r9' });
    const [, reply] = await c.readText();
    assert.match(reply, /,"topology_region":"r1","topology_zone":"z1"}$/);
    c.send('SUB topo_info ch');
    await c.expectResponse('OK');
    const client = channelStats(await nsqdStats(d.httpPort, 'topo_info'), 'topo_info', 'ch')!.clients![0]!;
    assert.equal(client.topology_zone, 'z9');
    assert.equal(client.topology_region, 'r9');
    // Never incremented per client upstream, so omitted (omitempty).
    for (const k of ['zone_local_msg_count', 'region_local_msg_count', 'global_msg_count']) assert.equal(k in client, false, k);
  });

  it('hands every message to a ready zone-local consumer before a foreign one', async () => {
    const local = await consumer(d, 'topo_zone', 'ch', { zone: 'z1', region: 'r1' }, 100);
    const foreign = await consumer(d, 'topo_zone', 'ch', { zone: 'zx', region: 'rx' }, 100);
    await publish(d, 'topo_zone', 10);
    await expectMessages(local, 10);
    await foreign.expectSilence(50);
    const n = await counters(d, 'topo_zone', 'ch');
    assert.deepEqual([n.zone, n.region, n.global], [10, undefined, undefined]);
  });

  it('hands messages to a region-local consumer when no zone-local one is ready', async () => {
    const region = await consumer(d, 'topo_region', 'ch', { zone: 'z2', region: 'r1' }, 100);
    const foreign = await consumer(d, 'topo_region', 'ch', { zone: 'zx', region: 'rx' }, 100);
    const idleLocal = await consumer(d, 'topo_region', 'ch', { zone: 'z1', region: 'r1' }, 0);
    await publish(d, 'topo_region', 4);
    await expectMessages(region, 4);
    await foreign.expectSilence(50);
    await idleLocal.expectSilence(10);
    const n = await counters(d, 'topo_region', 'ch');
    assert.deepEqual([n.zone, n.region, n.global], [undefined, 4, undefined]);
  });

  it('queues what no local consumer takes; memory deliveries count by the consumer\'s locality', async () => {
    const foreign = await consumer(d, 'topo_mem', 'ch', { zone: 'zx', region: 'rx' }, 3);
    await publish(d, 'topo_mem', 3);
    await expectMessages(foreign, 3);
    let n = await counters(d, 'topo_mem', 'ch');
    assert.deepEqual([n.zone, n.region, n.global], [undefined, undefined, 3]);

    // Nobody ready: the messages wait in the channel, then a zone-local consumer drains them.
    const local = await consumer(d, 'topo_mem', 'ch2', { zone: 'z1', region: 'r1' }, 0);
    await publish(d, 'topo_mem', 2);
    await eventually(async () => (await counters(d, 'topo_mem', 'ch2')).ch.depth === 2);
    local.send('RDY 5');
    await expectMessages(local, 2);
    n = await counters(d, 'topo_mem', 'ch2');
    assert.deepEqual([n.zone, n.region, n.global], [2, undefined, undefined]);
  });
});

describe('experiment off / node without topology', () => {
  it('without the experiment a zone match means nothing: round-robin, global counts only', async () => {
    const d = await start(['--topology-zone=z1', '--topology-region=r1']);
    const local = await consumer(d, 'noexp', 'ch', { zone: 'z1', region: 'r1' }, 100);
    const foreign = await consumer(d, 'noexp', 'ch', { zone: 'zx', region: 'rx' }, 100);
    await publish(d, 'noexp', 10);
    let got = 0;
    for (const c of [local, foreign]) {
      for (;;) {
        try {
          await c.readMessage(150);
          got++;
        } catch {
          break;
        }
      }
    }
    assert.equal(got, 10);
    const n = await counters(d, 'noexp', 'ch');
    assert.deepEqual([n.zone, n.region, n.global], [undefined, undefined, 10]);
    assert.ok(n.ch.clients!.every((c) => c.message_count > 0), 'both consumers got messages');
  });

  it('with the experiment but no node zone/region, a client without topology counts as zone-local', async () => {
    const d = await start([EXPERIMENT]);
    const c = await consumer(d, 'nozone', 'ch', {}, 5);
    await publish(d, 'nozone', 2);
    await expectMessages(c, 2);
    const n = await counters(d, 'nozone', 'ch');
    assert.deepEqual([n.zone, n.region, n.global], [2, undefined, undefined]);
  });
});
