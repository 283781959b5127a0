/**
 * Cluster membership over time with real processes: a lookupd restart, producers that stop
 * pinging, a hung node (SIGSTOP), a killed node (SIGKILL) and a gracefully stopped one (SIGTERM).
 *
 * nsqd pings every 15 s and has no flag to change that, so one test waits for that ping once;
 * the others run while it is pending.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { RawClient as LookupClient, nsqdInfo } from '../helpers/lookupd.js';
import { getJson, lookupPorts, ports, postOk, publish } from './helpers.js';
import { eventually } from '../helpers/wait.js';

const INACTIVE_TIMEOUT_MS = 2000;
/** nsqd's heartbeat interval (upstream `nsqd/lookup.go`) plus slack for a loaded machine. */
const PING_WAIT_MS = 15000 + 8000;

/** Producer tcp ports of `topic` in lookupd's /debug: registered, whether visible or not. */
async function registeredPorts(lookupd: Daemon, topic: string): Promise<number[]> {
  const debug = await getJson(lookupd.httpPort, '/debug');
  return ((debug[`topic:${topic}:`] ?? []) as Array<{ tcp_port: number }>).map((p) => p.tcp_port).sort((a, b) => a - b);
}

async function nodePorts(lookupd: Daemon): Promise<number[]> {
  const nodes = (await getJson(lookupd.httpPort, '/nodes')).producers as Array<{ tcp_port: number }>;
  return nodes.map((n) => n.tcp_port).sort((a, b) => a - b);
}

describe('cluster membership', () => {
  /** Default timeouts; restarted in the first test. */
  let lA: Daemon;
  /** --inactive-producer-timeout=2s: nsqds are hidden between their 15 s pings. */
  let lS: Daemon;
  let m1: Daemon;
  let m2: Daemon;
  let m3: Daemon;
  let fake: LookupClient | null = null;
  let fakePinger: NodeJS.Timeout | null = null;
  let startedAt = 0;

  before(async () => {
    [lA, lS] = await Promise.all([startNsqlookupd(), startNsqlookupd([`--inactive-producer-timeout=${INACTIVE_TIMEOUT_MS}ms`])]);
    const args = [`--lookupd-tcp-address=127.0.0.1:${lA.tcpPort}`, `--lookupd-tcp-address=127.0.0.1:${lS.tcpPort}`];
    [m1, m2, m3] = await Promise.all([startNsqd(args), startNsqd(args), startNsqd(args)]);
    startedAt = Date.now();
    for (const m of [m1, m2, m3]) await publish(m, 't_m', ['x']);
    await postOk(m1.httpPort, '/channel/create?topic=t_m&channel=ch1');
    await postOk(m2.httpPort, '/channel/create?topic=t_m&channel=ch2');
    await eventually(async () => assert.deepEqual(await lookupPorts(lA.httpPort, 't_m'), ports(m1, m2, m3)));
    await eventually(async () => assert.deepEqual(await registeredPorts(lS, 't_m'), ports(m1, m2, m3)));
  });

  after(async () => {
    if (fakePinger !== null) clearInterval(fakePinger);
    fake?.destroy();
    if (process.env.CLUSTER_TEST_LOG) for (const d of [lA, lS, m1, m2, m3]) process.stderr.write(d.logs());
    m1.proc.kill('SIGCONT');
    await Promise.all([m1.stop(), m2.stop(), m3.stop()]);
    await Promise.all([lA.stop(), lS.stop()]);
  });

  it('a restarted lookupd (same ports) learns everything again when a node next talks to it', async () => {
    assert.equal(await lA.stop(), 0);
    lA = await startNsqlookupd([`--tcp-address=127.0.0.1:${lA.tcpPort}`, `--http-address=127.0.0.1:${lA.httpPort}`]);
    assert.deepEqual(await getJson(lA.httpPort, '/topics'), { topics: [] });

    // Any command reconnects the peer, which IDENTIFYs and re-registers every topic and channel.
    await postOk(m1.httpPort, '/topic/create?topic=t_after_restart');
    await eventually(async () => assert.deepEqual(await lookupPorts(lA.httpPort, 't_after_restart'), [m1.tcpPort]));
    await eventually(async () => assert.deepEqual(await lookupPorts(lA.httpPort, 't_m'), [m1.tcpPort]));
    assert.deepEqual(await getJson(lA.httpPort, '/channels?topic=t_m'), { channels: ['ch1'] });
    assert.deepEqual(await nodePorts(lA), [m1.tcpPort]);
    // m2 and m3 come back at their next PING (checked in the next test).
    assert.doesNotMatch(m1.logs(), /ERROR: LOOKUPD/);
  });

  it('producers are hidden once silent for --inactive-producer-timeout; a PING brings them back', async () => {
    // A well-behaved peer that pings often stays visible throughout.
    fake = await LookupClient.connect(lS.tcpPort);
    assert.match((await fake.identify(nsqdInfo({ broadcast_address: '127.0.0.1', tcp_port: 1, http_port: 2 })))!, /^\{/);
    assert.equal(await fake.command('REGISTER', ['t_m']), 'OK');
    const f = fake;
    fakePinger = setInterval(() => f.write('PING\n'), 250);

    // The nsqds pinged last on connecting; they drop out of /lookup and /nodes…
    await eventually(async () => assert.deepEqual(await lookupPorts(lS.httpPort, 't_m'), [1]), 10000);
    assert.deepEqual(await nodePorts(lS), [1]);
    // …but stay registered: the connections are open.
    assert.deepEqual(await registeredPorts(lS, 't_m'), [1, ...ports(m1, m2, m3)]);

    // A hung node does not ping.
    assert.ok(m1.proc.kill('SIGSTOP'));
    assert.ok(Date.now() - startedAt < 14000, 'the first nsqd ping must still be ahead');

    // nsqd's 15 s heartbeat refreshes m2 and m3 (and reconnects them to the restarted lA).
    await eventually(async () => assert.deepEqual(await lookupPorts(lS.httpPort, 't_m'), [1, ...ports(m2, m3)].sort((a, b) => a - b)), PING_WAIT_MS);
    assert.deepEqual(await registeredPorts(lS, 't_m'), [1, ...ports(m1, m2, m3)]);
    await eventually(async () => assert.deepEqual(await lookupPorts(lA.httpPort, 't_m'), ports(m1, m2, m3)));
    assert.deepEqual((await getJson(lA.httpPort, '/channels?topic=t_m')).channels.sort(), ['ch1', 'ch2']);
    assert.deepEqual(await nodePorts(lA), ports(m1, m2, m3));

    // Resumed, the hung node sends its overdue PING and shows up again.
    assert.ok(m1.proc.kill('SIGCONT'));
    await eventually(async () => assert.ok((await lookupPorts(lS.httpPort, 't_m')).includes(m1.tcpPort)), 10000);
  });

  it('a killed nsqd (SIGKILL) leaves at once: the kernel closes its lookupd connections', async () => {
    await m3.kill();
    for (const l of [lA, lS]) {
      await eventually(async () => assert.ok(!(await registeredPorts(l, 't_m')).includes(m3.tcpPort)));
      assert.ok(!(await nodePorts(l)).includes(m3.tcpPort));
    }
    assert.deepEqual(await lookupPorts(lA.httpPort, 't_m'), ports(m1, m2));
  });

  it('a gracefully stopped nsqd (SIGTERM) disconnects and is gone from every lookupd', async () => {
    assert.equal(await m2.stop(), 0);
    for (const l of [lA, lS]) {
      await eventually(async () => assert.deepEqual(await registeredPorts(l, 't_m'), l === lS ? [1, m1.tcpPort].sort((a, b) => a - b) : [m1.tcpPort]));
      assert.ok(!(await nodePorts(l)).includes(m2.tcpPort));
    }
    assert.deepEqual(await lookupPorts(lA.httpPort, 't_m'), [m1.tcpPort]);
    // Channel keys stay (with no producers) after their producers leave.
    assert.deepEqual((await getJson(lA.httpPort, '/channels?topic=t_m')).channels.sort(), ['ch1', 'ch2']);
  });
});
