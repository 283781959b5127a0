/**
 * The connection upgrade stack with real nsqd processes: TLS (with a client certificate when
 * nsqd requires one), Snappy and DEFLATE alone and over TLS, AUTH against a real auth HTTP
 * server, and what nsqd reports about each client in /stats.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { testCerts, tlsFlags } from '../helpers/certs.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';
import { Consumer, type NsqError, Producer, type ConnectionOptions, type Message } from '../../src/client/index.js';
import { quietLogger } from './helpers.js';

const certs = testCerts();
const ca = fs.readFileSync(certs.caCert);

/** Publishes `bodies` and consumes them back with the same connection options. */
async function roundTrip(address: string, topic: string, opts: ConnectionOptions, bodies: Buffer[]): Promise<{ got: Buffer[]; consumer: Consumer }> {
  const producer = new Producer(address, { ...opts, logger: quietLogger() });
  if (bodies.length > 1) await producer.mpublish(topic, bodies.slice(0, bodies.length >> 1));
  await Promise.all(bodies.slice(bodies.length >> 1).map((b) => producer.publish(topic, b)));
  await producer.close();
  const consumer = new Consumer(topic, 'ch', { ...opts, nsqdTcpAddresses: [address], maxInFlight: 50, logger: quietLogger() });
  const got: Buffer[] = [];
  const all = new Promise<void>((resolve) =>
    consumer.handle((m: Message) => {
      got.push(Buffer.from(m.body));
      if (got.length === bodies.length) resolve();
    }),
  );
  await consumer.connect();
  await all;
  return { got, consumer };
}

function sorted(bufs: Buffer[]): string[] {
  return bufs.map((b) => b.toString('base64')).sort();
}

describe('TLS, Snappy and DEFLATE', () => {
  let nsqd: Daemon;
  let mtls: Daemon;
  const bodies = [
    ...Array.from({ length: 100 }, (_, i) => Buffer.from(`small message ${i} `.repeat(i % 7 + 1))),
    // Bigger than one 64 KiB snappy block, compressible and not.
    Buffer.alloc(200 * 1024, 'abc'),
    Buffer.from(Array.from({ length: 150 * 1024 }, (_, i) => (i * 7919) % 251)),
  ];

  before(async () => {
    [nsqd, mtls] = await Promise.all([
      startNsqd([...tlsFlags(certs), '--snappy=true', '--deflate=true', '--max-deflate-level=9']),
      startNsqd([...tlsFlags(certs), '--tls-client-auth-policy=require-verify', '--tls-required=true']),
    ]);
  });
  after(async () => {
    await Promise.all([nsqd.stop(), mtls.stop()]);
  });

  const combos: Array<[string, ConnectionOptions, { tls: boolean; snappy: boolean; deflate: boolean }]> = [
    ['plain', {}, { tls: false, snappy: false, deflate: false }],
    ['snappy', { snappy: true }, { tls: false, snappy: true, deflate: false }],
    ['deflate', { deflate: true, deflateLevel: 9 }, { tls: false, snappy: false, deflate: true }],
    ['tls', { tls: { ca } }, { tls: true, snappy: false, deflate: false }],
    ['tls+snappy', { tls: { ca }, snappy: true }, { tls: true, snappy: true, deflate: false }],
    ['tls+deflate', { tls: { ca }, deflate: true }, { tls: true, snappy: false, deflate: true }],
  ];
  for (const [name, opts, expect] of combos) {
    it(`round-trips small and large bodies over ${name}`, async () => {
      const topic = `t_${name.replace('+', '_')}`;
      const { got, consumer } = await roundTrip(`127.0.0.1:${nsqd.tcpPort}`, topic, opts, bodies);
      try {
        assert.deepEqual(sorted(got), sorted(bodies));
        const client = channelStats(await nsqdStats(nsqd.httpPort, topic), topic, 'ch')!.clients![0]!;
        assert.equal(client.tls, expect.tls);
        assert.equal(client.snappy, expect.snappy);
        assert.equal(client.deflate, expect.deflate);
      } finally {
        await consumer.close();
      }
    });
  }

  it('presents a client certificate when nsqd requires a verified one', async () => {
    const tls = { ca, cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) };
    const { got, consumer } = await roundTrip(`127.0.0.1:${mtls.tcpPort}`, 'mtls', { tls, snappy: true }, bodies.slice(0, 10));
    await consumer.close();
    assert.equal(got.length, 10);
  });

  it('fails a publish without TLS on a TLS-required nsqd with the server code', async () => {
    const p = new Producer(`127.0.0.1:${mtls.tcpPort}`, { logger: quietLogger() });
    await assert.rejects(p.publish('t', 'x'), (e: NsqError) => e.code === 'E_INVALID' && /TLS/.test(e.message));
    await p.close();
  });

  it('rejects a server certificate it cannot verify', async () => {
    const p = new Producer(`127.0.0.1:${nsqd.tcpPort}`, { tls: true, logger: quietLogger() });
    await assert.rejects(p.publish('t', 'x'), (e: NsqError) => e.code === 'E_NOT_CONNECTED' && /TLS handshake failed/.test(e.message));
    await p.close();
  });
});

describe('AUTH', () => {
  let nsqd: Daemon;
  let server: http.Server;
  const queries: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const secret = new URL(req.url ?? '', 'http://x').searchParams.get('secret') ?? '';
      queries.push(secret);
      if (secret !== 'open-sesame') {
        res.writeHead(403).end('{}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ttl: 3600, identity: 'alice', identity_url: 'https://id.example/alice', authorizations: [{ topic: 'authed', channels: ['.*'], permissions: ['subscribe', 'publish'] }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    nsqd = await startNsqd([`--auth-http-address=127.0.0.1:${(server.address() as AddressInfo).port}`]);
  });
  after(async () => {
    await nsqd.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('authenticates producer and consumer with the secret; nsqd shows the identity', async () => {
    const opts = { authSecret: 'open-sesame' };
    const { got, consumer } = await roundTrip(`127.0.0.1:${nsqd.tcpPort}`, 'authed', opts, [Buffer.from('secret stuff')]);
    try {
      assert.equal(got[0]!.toString(), 'secret stuff');
      const client = channelStats(await nsqdStats(nsqd.httpPort, 'authed'), 'authed', 'ch')!.clients![0]!;
      assert.equal(client.authed, true);
      assert.equal(client.auth_identity, 'alice');
    } finally {
      await consumer.close();
    }
  });

  it('reports a missing secret, a refused secret and a topic outside the grant', async () => {
    const none = new Producer(`127.0.0.1:${nsqd.tcpPort}`, { logger: quietLogger() });
    await assert.rejects(none.publish('authed', 'x'), (e: NsqError) => e.code === 'E_AUTH_REQUIRED');
    await none.close();
    const wrong = new Producer(`127.0.0.1:${nsqd.tcpPort}`, { authSecret: 'guess', logger: quietLogger() });
    await assert.rejects(wrong.publish('authed', 'x'), (e: NsqError) => e.code === 'E_AUTH_FAILED');
    await wrong.close();
    const other = new Producer(`127.0.0.1:${nsqd.tcpPort}`, { authSecret: 'open-sesame', logger: quietLogger() });
    await assert.rejects(other.publish('elsewhere', 'x'), (e: NsqError) => e.code === 'E_UNAUTHORIZED');
    await other.close();
  });
});
