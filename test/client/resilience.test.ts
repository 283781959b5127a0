/**
 * Failures and discovery with real processes: an nsqd restarted on the same port and data dir
 * (consumer and producer reconnect, the in-flight message comes back), a producer whose nsqd is
 * down, and nsqd nodes found through nsqlookupd — joining later, in the old response shape too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { restartNsqd, startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';
import { eventually } from '../helpers/wait.js';
import { Consumer, type NsqError, Producer, type Message } from '../../src/client/index.js';
import { quietLogger } from './helpers.js';

describe('reconnecting after an nsqd restart', { timeout: 90000 }, () => {
  let nsqd: Daemon;

  before(async () => {
    nsqd = await startNsqd();
  });
  after(async () => {
    await nsqd.stop();
  });

  it('consumer and producer come back; the message in flight during the restart is redelivered', async (t) => {
    const addr = `127.0.0.1:${nsqd.tcpPort}`;
    const producer = new Producer(addr, { reconnectDelay: 50, logger: quietLogger() });
    const consumer = new Consumer('restart', 'ch', { nsqdTcpAddresses: [addr], maxInFlight: 5, reconnectDelay: 100, logger: quietLogger() });
    // Also on failure: open sockets would keep the test process alive.
    t.after(() => Promise.all([consumer.close(), producer.close()]));
    const events: string[] = [];
    consumer.on('nsqdConnected', () => events.push('connected'));
    consumer.on('nsqdClosed', () => events.push('closed'));
    const got: Array<{ body: string; attempts: number }> = [];
    let held: Message | null = null;
    consumer.handle(async (m) => {
      if (m.body.toString() === 'hold' && m.attempts === 1) {
        held = m;
        return new Promise<void>(() => {}); // never answered on this connection
      }
      got.push({ body: m.body.toString(), attempts: m.attempts });
    });
    await consumer.connect();
    await producer.publish('restart', 'before');
    await producer.publish('restart', 'hold');
    await eventually(async () => got.length === 1 && held !== null, 10000, 'first delivery');
    // FIN is fire-and-forget: nsqd must have read the FIN of "before" before it shuts down, or
    // it keeps that message as in flight and hands it out again after the restart.
    await eventually(async () => {
      const ch = channelStats(await nsqdStats(nsqd.httpPort, 'restart'), 'restart', 'ch');
      return ch?.in_flight_count === 1 && ch.depth === 0;
    }, 10000, '"before" finished, only "hold" in flight');

    nsqd = await restartNsqd(nsqd);
    await eventually(async () => events.join(',') === 'connected,closed,connected', 20000, `reconnect (events ${events})`);
    // The old connection is gone: answering its message is a no-op, not an error.
    held!.finish();
    await producer.publish('restart', 'after');
    await eventually(async () => got.length === 3, 20000, 'redelivery and new message');
    assert.deepEqual(
      got.map((g) => `${g.body}/${g.attempts}`).sort(),
      ['after/1', 'before/1', 'hold/2'],
    );
  });

  it('producer rejects while nsqd is down and publishes again once it is back', async (t) => {
    const addr = `127.0.0.1:${nsqd.tcpPort}`;
    const producer = new Producer(addr, { reconnectDelay: 50, maxReconnectDelay: 200, logger: quietLogger() });
    t.after(() => producer.close());
    await producer.publish('down', 'one');
    await nsqd.stop();
    await assert.rejects(producer.publish('down', 'two'), (e: NsqError) => e.code === 'E_NOT_CONNECTED');
    await assert.rejects(producer.publish('down', 'three'), (e: NsqError) => e.code === 'E_NOT_CONNECTED');
    nsqd = await restartNsqd(nsqd);
    await eventually(async () => producer.publish('down', 'four').then(() => true, () => false), 10000, 'publish after restart');
    await producer.close();
    await assert.rejects(producer.publish('down', 'closed'), (e: NsqError) => e.code === 'E_CLOSED');
  });
});

describe('discovery through nsqlookupd', { timeout: 90000 }, () => {
  let lookupd: Daemon;
  let n1: Daemon;
  let n2: Daemon;
  const reg = () => [`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`];

  before(async () => {
    lookupd = await startNsqlookupd();
    [n1, n2] = await Promise.all([startNsqd(reg()), startNsqd(reg())]);
  });
  after(async () => {
    await Promise.all([n1.stop(), n2.stop()]);
    await lookupd.stop();
  });

  async function lookupCount(topic: string): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${lookupd.httpPort}/lookup?topic=${topic}`);
    if (res.status !== 200) return 0;
    return ((await res.json()) as { producers: unknown[] }).producers.length;
  }

  it('connects to the nsqd nodes lookupd lists, including one that starts producing later', async (t) => {
    const p1 = new Producer(`127.0.0.1:${n1.tcpPort}`, { logger: quietLogger() });
    const p2 = new Producer(`127.0.0.1:${n2.tcpPort}`, { logger: quietLogger() });
    t.after(() => Promise.all([p1.close(), p2.close()]));
    await p1.publish('disc', 'from n1');
    await eventually(async () => (await lookupCount('disc')) === 1, 10000, 'n1 registered');
    const consumer = new Consumer('disc', 'ch', {
      lookupdHttpAddresses: [`127.0.0.1:${lookupd.httpPort}`],
      lookupdPollInterval: 200,
      maxInFlight: 10,
      logger: quietLogger(),
    });
    t.after(() => consumer.close());
    const got = new Set<string>();
    consumer.handle((m) => void got.add(`${m.nsqdAddress} ${m.body}`));
    await consumer.connect();
    assert.deepEqual(consumer.connectedAddresses, [`127.0.0.1:${n1.tcpPort}`]);
    await p2.publish('disc', 'from n2');
    await eventually(async () => got.size === 2, 15000, 'messages from both nodes');
    assert.deepEqual([...got].sort(), [`127.0.0.1:${n1.tcpPort} from n1`, `127.0.0.1:${n2.tcpPort} from n2`].sort());
    assert.equal(consumer.stats().connections, 2);

    // A lookupd-discovered node that restarts comes back through polling.
    n2 = await restartNsqd(n2);
    await eventually(async () => consumer.stats().connections === 2 && consumer.connectedAddresses.includes(`127.0.0.1:${n2.tcpPort}`), 20000, 'rediscovered');
    await p2.publish('disc', 'n2 again');
    await eventually(async () => got.size === 3, 15000, 'message after rediscovery');
  });

  it('reads the pre-1.0 lookupd envelope and a lookupd URL with a path', async () => {
    const seen: string[] = [];
    const legacy = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status_code: 200, status_txt: 'OK', data: { channels: [], producers: [{ broadcast_address: '127.0.0.1', tcp_port: n1.tcpPort, http_port: n1.httpPort }] } }));
    });
    await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
    const port = (legacy.address() as AddressInfo).port;
    const consumer = new Consumer('legacy', 'ch', { lookupdHttpAddresses: [`http://127.0.0.1:${port}/custom/lookup`], logger: quietLogger() });
    await consumer.connect();
    assert.deepEqual(consumer.connectedAddresses, [`127.0.0.1:${n1.tcpPort}`]);
    assert.deepEqual(seen, ['/custom/lookup?topic=legacy']);
    await consumer.close();
    legacy.closeAllConnections();
    await new Promise((r) => legacy.close(r));
  });
});
