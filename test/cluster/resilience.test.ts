/**
 * Discovery when lookupd is missing, late, hung or wrongly configured, and when an nsqd restarts
 * on its data dir: nsqd keeps serving and converges once lookupd is reachable again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';
import { getJson, lookupPorts, postOk, publish } from './helpers.js';
import { eventually } from '../helpers/wait.js';

/** A port nothing listens on (right now). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('discovery when lookupd misbehaves', () => {
  const daemons: Daemon[] = [];
  const track = (d: Daemon): Daemon => {
    daemons.push(d);
    return d;
  };

  after(async () => {
    if (process.env.CLUSTER_TEST_LOG) for (const d of daemons) process.stderr.write(d.logs());
    for (const d of daemons) d.proc.kill('SIGCONT');
    await Promise.all(daemons.map((d) => d.stop()));
  });

  it('an nsqd started before its lookupd registers everything once the lookupd is up', async () => {
    const tcpPort = await freePort();
    const httpPort = await freePort();
    const n = track(await startNsqd([`--lookupd-tcp-address=127.0.0.1:${tcpPort}`]));
    // Without a lookupd nsqd works on its own (and learns no channels).
    await postOk(n.httpPort, '/topic/create?topic=t_early');
    await postOk(n.httpPort, '/channel/create?topic=t_early&channel=c');
    await publish(n, 't_early', ['m']);
    assert.equal(channelStats(await nsqdStats(n.httpPort, 't_early'), 't_early', 'c')?.depth, 1);
    assert.match(n.logs(), /ERROR: no available nsqlookupd to query for channels to pre-create for topic t_early\n/);

    const l = track(await startNsqlookupd([`--tcp-address=127.0.0.1:${tcpPort}`, `--http-address=127.0.0.1:${httpPort}`]));
    // The next command (here a new topic) connects, identifies and registers all of it.
    await publish(n, 't_late', ['m']);
    await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_early'), [n.tcpPort]));
    assert.deepEqual(await getJson(l.httpPort, '/channels?topic=t_early'), { channels: ['c'] });
    assert.deepEqual(await lookupPorts(l.httpPort, 't_late'), [n.tcpPort]);
    await n.stop();
    await l.stop();
  });

  it('a hung lookupd delays only a new topic, by at most --http-client-request-timeout; nsqd converges after', async () => {
    const l = track(await startNsqlookupd());
    const n = track(
      await startNsqd([
        `--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`,
        '--http-client-connect-timeout=300ms',
        '--http-client-request-timeout=300ms',
      ]),
    );
    await postOk(n.httpPort, '/topic/create?topic=t_before');
    await postOk(n.httpPort, '/channel/create?topic=t_before&channel=c');
    await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_before'), [n.tcpPort]));

    assert.ok(l.proc.kill('SIGSTOP'));
    try {
      await publish(n, 't_before', ['existing topic: no lookupd involved']);
      const started = Date.now();
      await publish(n, 't_during', ['new topic: waits for the /channels query to time out']);
      // With the 5 s default request timeout this would take ≥ 5 s.
      assert.ok(Date.now() - started < 4500, `new-topic publish took ${Date.now() - started} ms`);
      assert.equal((await nsqdStats(n.httpPort, 't_during')).topics![0]!.message_count, 1);
      await eventually(() => assert.match(n.logs(), /failed to query nsqlookupd for channels to pre-create for topic t_during/));
    } finally {
      l.proc.kill('SIGCONT');
    }
    // The REGISTER that timed out dropped the connection; the next command re-registers everything.
    await publish(n, 't_after', ['m']);
    await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_during'), [n.tcpPort]));
    for (const t of ['t_before', 't_after']) assert.deepEqual(await lookupPorts(l.httpPort, t), [n.tcpPort]);
    assert.deepEqual((await getJson(l.httpPort, '/nodes')).producers.length, 1);
    await n.stop();
    await l.stop();
  });

  it('a lookupd whose broadcast address is unreachable: channel learning fails, logged, publishing goes on', async () => {
    // Lookupd listens on 127.0.0.1 but tells nsqd to query it on 127.0.0.2.
    const l = track(await startNsqlookupd(['--broadcast-address=127.0.0.2']));
    const n = track(await startNsqd([`--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`]));
    await postOk(l.httpPort, '/channel/create?topic=t_unreach&channel=c');
    await eventually(async () => assert.equal((await getJson(l.httpPort, '/nodes')).producers.length, 1));
    await publish(n, 't_unreach', ['m']);
    assert.equal(channelStats(await nsqdStats(n.httpPort, 't_unreach'), 't_unreach', 'c'), undefined);
    assert.match(n.logs(), /WARNING: failed to query nsqlookupd for channels to pre-create for topic t_unreach - failed to query any nsqlookupd: /);
    await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_unreach'), [n.tcpPort]));
    await n.stop();
    await l.stop();
  });

  describe('an nsqd restarted on its data dir', () => {
    let l: Daemon;
    before(async () => {
      l = track(await startNsqlookupd());
    });

    it('registers its persisted topics and channels (metadata load sends nothing until connected)', async () => {
      const args = [`--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`];
      const first = track(await startNsqd(args));
      await postOk(first.httpPort, '/topic/create?topic=t_persist');
      await postOk(first.httpPort, '/channel/create?topic=t_persist&channel=c1');
      await postOk(first.httpPort, '/topic/create?topic=t_bare');
      await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_bare'), [first.tcpPort]));
      assert.equal(await first.stop(), 0);
      await eventually(async () => assert.deepEqual(await getJson(l.httpPort, '/nodes'), { producers: [] }));

      const second = track(await startNsqd(args, first.dataPath));
      await eventually(async () => assert.deepEqual(await lookupPorts(l.httpPort, 't_persist'), [second.tcpPort]));
      assert.deepEqual(await lookupPorts(l.httpPort, 't_bare'), [second.tcpPort]);
      const debug = await getJson(l.httpPort, '/debug');
      assert.deepEqual((debug['channel:t_persist:c1'] as Array<{ tcp_port: number }>).map((p) => p.tcp_port), [second.tcpPort]);
      assert.doesNotMatch(second.logs(), /CI: querying/, 'loaded topics do not query lookupd');
      assert.equal(await second.stop(), 0);
    });
  });
});
