import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir, startApp, type Daemon } from '../helpers/daemons.js';
import type { RawClient } from '../helpers/raw-client.js';
import { connectUnix, unixPingOk, unixRequest } from '../helpers/unix-socket.js';

/**
 * nsqd on Unix sockets (upstream `internal/util` TypeOfAddr): `--tcp-address` / `--http-address` values that are not
 * `host:port` are socket paths; /info then reports the ports as -1, the broadcast ports stay 0
 * (so the statsd host key ends in `_0`), and the auth server gets an empty `remote_ip`.
 */
describe('nsqd listening on Unix sockets', () => {
  const dir = tempDir('tsnsq-audit-unix-');
  const tcpSock = path.join(dir, 'tcp.sock');
  const httpSock = path.join(dir, 'http.sock');
  const authQueries: URLSearchParams[] = [];
  const clients: RawClient[] = [];
  let auth: http.Server;
  let nsqd: Daemon;

  before(async () => {
    auth = http.createServer((req, res) => {
      authQueries.push(new URL(req.url ?? '/', 'http://x').searchParams);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ttl: 3600, identity: 'unix-user', identity_url: '', authorizations: [{ topic: '.*', channels: ['.*'], permissions: ['publish', 'subscribe'] }] }));
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    const authAddr = `127.0.0.1:${(auth.address() as AddressInfo).port}`;
    nsqd = await startApp(
      'nsqd',
      [`--tcp-address=${tcpSock}`, `--http-address=${httpSock}`, `--data-path=${dir}`, '--broadcast-address=127.0.0.1', `--auth-http-address=${authAddr}`],
      { ready: () => unixPingOk(httpSock) });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    assert.equal(await nsqd?.stop(), 0);
    await new Promise((r) => auth?.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs the socket paths and reports tcp_port/http_port -1 in /info', async () => {
    assert.match(nsqd.logs(), new RegExp(`INFO: TCP: listening on ${tcpSock}\\n`));
    assert.match(nsqd.logs(), new RegExp(`INFO: HTTP: listening on ${httpSock}\\n`));
    const info = JSON.parse((await unixRequest(httpSock, 'GET', '/info')).body) as Record<string, unknown>;
    assert.equal(info.tcp_port, -1);
    assert.equal(info.http_port, -1);
  });

  it('keeps the broadcast HTTP port 0: the statsd host key ends in _0', async () => {
    const r = await unixRequest(httpSock, 'GET', '/config/statsd_prefix');
    assert.equal(r.body, 'nsq.127_0_0_1_0.');
    assert.equal((await unixRequest(httpSock, 'GET', '/config/broadcast_http_port')).body, '0');
  });

  it('serves protocol V2 over the socket; AUTH sends an empty remote_ip', async () => {
    const c = await connectUnix(tcpSock);
    clients.push(c);
    c.identify({ feature_negotiation: true });
    const [, reply] = await c.readText();
    assert.match(reply, /"auth_required":true/);
    c.send('AUTH', 'sesame');
    const [, authReply] = await c.readText();
    assert.equal(authReply, '{"identity":"unix-user","identity_url":"","permission_count":1}');
    const q = authQueries.at(-1)!;
    assert.deepEqual([q.get('remote_ip'), q.get('tls'), q.get('secret'), q.get('common_name')], ['', 'false', 'sesame', '']);

    c.send('PUB unix_t', 'over a unix socket');
    await c.expectResponse('OK');
    c.send('SUB unix_t ch');
    await c.expectResponse('OK');
    c.send('RDY 1');
    // The message was published before the channel existed: it waits in the topic, then flows.
    assert.equal((await c.readMessage()).body.toString(), 'over a unix socket');

    // No IP to default client_id/hostname to (upstream splits the peer address, which fails).
    const stats = JSON.parse((await unixRequest(httpSock, 'GET', '/stats?format=json&topic=unix_t')).body) as {
      producers: Array<{ client_id: string; hostname: string }>;
    };
    assert.deepEqual([stats.producers[0]!.client_id, stats.producers[0]!.hostname], ['', '']);
  });
});
