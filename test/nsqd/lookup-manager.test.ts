import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LookupManager, type LookupIdentity } from '../../src/nsqd/lookup-manager.js';
import { LookupPeer } from '../../src/nsqd/lookup-peer.js';
import {
  LookupCommandParser,
  encodeLookupCommand,
  encodeLookupResponse,
} from '../../src/protocol/lookup-codec.js';
import { get, memoryLogger, post, startLookupd } from '../helpers/lookupd.js';
import { eventually } from '../helpers/wait.js';

const identity = (): LookupIdentity => ({
  version: '1.3.0',
  tcp_port: 4150,
  http_port: 4151,
  hostname: 'nsqd-test-host',
  broadcast_address: 'nsqd.example',
  topology_zone: 'zone-a',
  topology_region: 'region-a',
});

type Snapshot = Array<{ topic: string; channels: string[] }>;

function manager(addresses: string[], snapshot: () => Snapshot, extra: { pingIntervalMs?: number } = {}) {
  const { logger, lines } = memoryLogger('[nsqd] ');
  const m = new LookupManager({ addresses, identity, snapshot, logger, ioTimeoutMs: 2000, ...extra });
  return { m, lines };
}

async function nodeTopics(httpPort: number): Promise<string[]> {
  const nodes = (await get(httpPort, '/nodes')).json().producers;
  assert.equal(nodes.length, 1);
  return [...nodes[0].topics].sort();
}

describe('LookupManager against a real nsqlookupd', () => {
  it('identifies and registers the snapshot on connect, then follows register/unregister', async () => {
    const l = await startLookupd();
    const snap: Snapshot = [
      { topic: 'a', channels: [] },
      { topic: 'b', channels: ['c1', 'c2#ephemeral'] },
    ];
    const { m } = manager([`127.0.0.1:${l.tcpPort}`], () => snap);
    try {
      m.start();
      await eventually(async () => assert.deepEqual(await nodeTopics(l.httpPort), ['a', 'b']));
      const node = (await get(l.httpPort, '/nodes')).json().producers[0];
      assert.equal(node.broadcast_address, 'nsqd.example');
      assert.equal(node.hostname, 'nsqd-test-host');
      assert.equal(node.tcp_port, 4150);
      assert.equal(node.http_port, 4151);
      assert.equal(node.topology_zone, 'zone-a');
      assert.equal(node.topology_region, 'region-a');
      assert.deepEqual((await get(l.httpPort, '/channels?topic=b')).json().channels.sort(), ['c1', 'c2#ephemeral']);
      assert.deepEqual(m.lookupdHttpAddresses(), [`127.0.0.1:${l.httpPort}`]);
      assert.deepEqual(m.addresses(), [`127.0.0.1:${l.tcpPort}`]);

      m.register('t2');
      m.register('t2', 'ch');
      m.register('t2', 'eph#ephemeral');
      await eventually(async () => {
        assert.deepEqual((await get(l.httpPort, '/channels?topic=t2')).json().channels.sort(), ['ch', 'eph#ephemeral']);
      });
      m.unregister('t2', 'eph#ephemeral');
      m.unregister('t2', 'ch');
      m.unregister('t2');
      await eventually(async () => {
        // non-ephemeral keys stay (empty); the ephemeral channel key goes away
        assert.deepEqual((await get(l.httpPort, '/lookup?topic=t2')).json(), { channels: ['ch'], producers: [] });
        assert.deepEqual(await nodeTopics(l.httpPort), ['a', 'b']);
      });

      // channelsForTopic: union without ephemeral channels
      assert.deepEqual(await m.channelsForTopic('b'), ['c1']);
      assert.deepEqual(await m.channelsForTopic('nope'), []);
    } finally {
      await m.close();
      await l.close();
    }
  });

  it('re-registers everything after the lookupd restarts on the same port', async () => {
    let l = await startLookupd();
    const tcpPort = l.tcpPort;
    const snap: Snapshot = [{ topic: 'persist', channels: ['ch'] }];
    const { m } = manager([`127.0.0.1:${tcpPort}`], () => snap, { pingIntervalMs: 100 });
    try {
      m.start();
      await eventually(async () => assert.deepEqual(await nodeTopics(l.httpPort), ['persist']));
      await l.close();
      snap.push({ topic: 'later', channels: [] });
      l = await startLookupd({ tcpAddress: `127.0.0.1:${tcpPort}` });
      // the next heartbeat fails on the dead connection, the one after reconnects
      await eventually(async () => assert.deepEqual(await nodeTopics(l.httpPort), ['later', 'persist']));
      assert.deepEqual((await get(l.httpPort, '/channels?topic=persist')).json().channels, ['ch']);
      assert.deepEqual(m.lookupdHttpAddresses(), [`127.0.0.1:${l.httpPort}`]);
    } finally {
      await m.close();
      await l.close();
    }
  });

  it('setAddresses moves to a lookupd on a new port and drops the old one', async () => {
    const l1 = await startLookupd();
    const l2 = await startLookupd();
    const { m, lines } = manager([`127.0.0.1:${l1.tcpPort}`], () => [{ topic: 'moving', channels: [] }]);
    try {
      m.start();
      await eventually(async () => assert.deepEqual(await nodeTopics(l1.httpPort), ['moving']));
      m.setAddresses([`127.0.0.1:${l2.tcpPort}`]);
      assert.deepEqual(m.addresses(), [`127.0.0.1:${l2.tcpPort}`]);
      await eventually(async () => assert.deepEqual(await nodeTopics(l2.httpPort), ['moving']));
      await eventually(async () => {
        assert.deepEqual((await get(l1.httpPort, '/nodes')).json().producers, []);
      });
      assert.ok(lines.some((s) => s.includes(`LOOKUP(127.0.0.1:${l1.tcpPort}): removing peer`)));
      assert.deepEqual(m.lookupdHttpAddresses(), [`127.0.0.1:${l2.httpPort}`]);

      // both at once: commands go to every peer, channel queries union both
      m.setAddresses([`127.0.0.1:${l2.tcpPort}`, `127.0.0.1:${l1.tcpPort}`]);
      await eventually(async () => assert.deepEqual(await nodeTopics(l1.httpPort), ['moving']));
      await post(l1.httpPort, '/channel/create?topic=moving&channel=from1');
      await post(l2.httpPort, '/channel/create?topic=moving&channel=from2');
      await post(l2.httpPort, '/channel/create?topic=moving&channel=from1');
      assert.deepEqual(await m.channelsForTopic('moving'), ['from1', 'from2']);
    } finally {
      await m.close();
      await l1.close();
      await l2.close();
    }
  });

  it('close() disconnects from every lookupd', async () => {
    const l = await startLookupd();
    const { m, lines } = manager([`127.0.0.1:${l.tcpPort}`], () => []);
    try {
      m.start();
      await eventually(async () => assert.equal((await get(l.httpPort, '/nodes')).json().producers.length, 1));
      await m.close();
      await eventually(async () => assert.equal((await get(l.httpPort, '/nodes')).json().producers.length, 0));
      assert.ok(lines.some((s) => s.endsWith('INFO: LOOKUP: closing')));
      m.register('after-close'); // ignored
      await m.close(); // idempotent
    } finally {
      await l.close();
    }
  });

  it('an unreachable lookupd only costs log lines; channel queries use the others', async () => {
    const l = await startLookupd();
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const { m, lines } = manager([`127.0.0.1:${deadPort}`, `127.0.0.1:${l.tcpPort}`], () => [{ topic: 'x', channels: ['c'] }], {
      pingIntervalMs: 50,
    });
    try {
      m.start();
      await eventually(async () => assert.deepEqual(await nodeTopics(l.httpPort), ['x']));
      await eventually(() => assert.ok(lines.some((s) => s.includes(`ERROR: LOOKUPD(127.0.0.1:${deadPort}): PING - `))));
      assert.deepEqual(await m.channelsForTopic('x'), ['c']);
    } finally {
      await m.close();
      await l.close();
    }
  });

  it('channelsForTopic logs and returns [] when every lookupd fails', async () => {
    const l = await startLookupd();
    const { m, lines } = manager([`127.0.0.1:${l.tcpPort}`], () => []);
    try {
      m.start();
      await eventually(() => assert.equal(m.lookupdHttpAddresses().length, 1));
      await l.close();
      assert.deepEqual(await m.channelsForTopic('gone'), []);
      assert.ok(lines.some((s) => s.includes('WARNING: failed to query nsqlookupd for channels to pre-create for topic gone - failed to query any nsqlookupd: ')));
    } finally {
      await m.close();
    }
  });
});

/**
 * A scripted lookupd built on the production parser: answers IDENTIFY with `identifyReply`,
 * answers other commands OK unless `silent` says otherwise, and records every command.
 */
async function scriptedLookupd(opts: { identifyReply: string; silent?: (name: string) => boolean }) {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const parser = new LookupCommandParser();
    s.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      for (let item = parser.next(); item !== null; item = parser.next()) {
        if (item.type === 'line' && item.hasBody) {
          parser.acceptBody();
          continue;
        }
        seen.push([item.name, ...item.params].join(' '));
        if (opts.silent?.(item.name)) continue;
        s.write(encodeLookupResponse(item.name === 'IDENTIFY' ? opts.identifyReply : 'OK'));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('LookupPeer', () => {
  it('runs commands in order, one round trip at a time', async () => {
    const srv = await scriptedLookupd({ identifyReply: '{"tcp_port":1,"http_port":2,"version":"v","broadcast_address":"b"}' });
    const { logger } = memoryLogger();
    const peer = new LookupPeer(`127.0.0.1:${srv.port}`, {
      logger,
      maxBodySize: 1024,
      onConnect: async (_p, send) => {
        await send(encodeLookupCommand('IDENTIFY', [], Buffer.from('{}')));
      },
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => peer.command(encodeLookupCommand('REGISTER', [`t${i}`]))),
      );
      assert.ok(results.every((r) => r?.toString() === 'OK'));
      assert.deepEqual(srv.seen, ['IDENTIFY', ...Array.from({ length: 20 }, (_, i) => `REGISTER t${i}`)]);
      assert.equal(srv.connections(), 1);
    } finally {
      peer.close();
      await srv.close();
    }
  });

  it('an unanswered command times out, and the next command reconnects and re-identifies', async () => {
    let silenceRegister = true;
    const srv = await scriptedLookupd({
      identifyReply: '{"tcp_port":1,"http_port":2,"version":"v","broadcast_address":"b"}',
      silent: (name) => name === 'REGISTER' && silenceRegister,
    });
    const { logger } = memoryLogger();
    let connects = 0;
    const peer = new LookupPeer(`127.0.0.1:${srv.port}`, {
      logger,
      maxBodySize: 1024,
      ioTimeoutMs: 150,
      onConnect: async (_p, send) => {
        connects++;
        await send(encodeLookupCommand('IDENTIFY', [], Buffer.from('{}')));
      },
    });
    try {
      await assert.rejects(peer.command(encodeLookupCommand('REGISTER', ['slow'])), /i\/o timeout/);
      assert.equal(peer.state, 'disconnected');
      silenceRegister = false;
      assert.equal((await peer.command(encodeLookupCommand('PING')))?.toString(), 'OK');
      assert.equal(connects, 2);
      assert.equal(srv.connections(), 2);
    } finally {
      peer.close();
      await srv.close();
    }
    await assert.rejects(peer.command(null), /closed/);
  });

  it('a connect callback that disconnects fails the command; E_INVALID IDENTIFY closes the peer', async () => {
    const srv = await scriptedLookupd({ identifyReply: 'E_INVALID' });
    const { logger, lines } = memoryLogger('[nsqd] ');
    const m = new LookupManager({
      addresses: [`127.0.0.1:${srv.port}`],
      identity,
      snapshot: () => [{ topic: 'never', channels: [] }],
      logger,
    });
    try {
      m.start();
      await eventually(() => assert.ok(lines.some((s) => s.includes(`LOOKUPD(127.0.0.1:${srv.port}): lookupd returned E_INVALID`))));
      assert.ok(!srv.seen.includes('REGISTER never'));
      assert.deepEqual(m.lookupdHttpAddresses(), []);
    } finally {
      await m.close();
      await srv.close();
    }
  });

  it('a non-JSON IDENTIFY response is logged and the peer dropped', async () => {
    const srv = await scriptedLookupd({ identifyReply: 'E_BAD_BODY IDENTIFY missing fields' });
    const { logger, lines } = memoryLogger('[nsqd] ');
    const m = new LookupManager({ addresses: [`127.0.0.1:${srv.port}`], identity, snapshot: () => [], logger });
    try {
      m.start();
      await eventually(() =>
        assert.ok(lines.some((s) => s.includes('ERROR: LOOKUPD(') && s.endsWith('parsing response - E_BAD_BODY IDENTIFY missing fields'))),
      );
      // the IDENTIFY body nsqd sends, keys sorted like Go's map marshalling
      assert.deepEqual(srv.seen, ['IDENTIFY']);
    } finally {
      await m.close();
      await srv.close();
    }
  });

  it('rejects a bad address without hanging', async () => {
    const { logger } = memoryLogger();
    const peer = new LookupPeer('no-port', { logger, maxBodySize: 10, onConnect: async () => undefined });
    await assert.rejects(peer.command(null), /missing port/);
    peer.close();
  });
});
