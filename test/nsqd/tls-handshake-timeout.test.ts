import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startNsqd } from '../helpers/daemons.js';
import { tlsFlags } from '../helpers/certs.js';
import { WireClient } from '../helpers/secure-wire.js';
import { eventually } from '../helpers/wait.js';

// A client that is granted tls_v1 but never starts the handshake is dropped after upstream's
// 5 s deadline (upstream `nsqd/protocol_v2.go` IDENTIFY), instead of holding the connection open forever.

function clientCount(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/stats?format=json', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const s = JSON.parse(Buffer.concat(chunks).toString()) as { producers: unknown[] | null };
          resolve(s.producers?.length ?? 0);
        });
      })
      .on('error', reject);
  });
}

test('no TLS handshake after IDENTIFY: the connection is closed after 5 s', async () => {
  const d = await startNsqd(tlsFlags());
  try {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true, tls_v1: true, heartbeat_interval: -1 });
    const reply = JSON.parse((await c.nextFrame()).data.toString()) as { tls_v1: boolean };
    assert.equal(reply.tls_v1, true);
    const start = Date.now();
    await c.waitClosed(9000);
    assert.ok(Date.now() - start >= 4000, 'not before the deadline');
    // The log line travels through a pipe: give it a moment.
    await eventually(() => /TLS handshake timeout/.test(d.logs()), 5000, 'the handshake timeout log line');
    assert.match(d.logs(), /TLS handshake timeout/);
    assert.equal(await clientCount(d.httpPort), 0);
  } finally {
    await d.stop();
  }
});
