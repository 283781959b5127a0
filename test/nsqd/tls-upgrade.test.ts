import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { testCerts, tlsFlags } from '../helpers/certs.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';

// TLS over the TCP protocol (docs/protocol.md: Upgrades, TLS policy) and the HTTPS API
// (the TLS flags, docs/protocol.md HTTP conventions), against real nsqd processes.

const certs = testCerts();
const ca = fs.readFileSync(certs.caCert);
const clientCreds = { cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) };
const rogueCreds = { cert: fs.readFileSync(certs.rogueCert), key: fs.readFileSync(certs.rogueKey) };

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(mod: typeof http | typeof https, port: number, method: string, path: string, opts: https.RequestOptions = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: '127.0.0.1', port, method, path, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const httpsReq = (port: number, method: string, path: string, opts: https.RequestOptions = {}, body?: string) =>
  request(https, port, method, path, { ca, servername: 'localhost', ...opts }, body);
const httpReq = (port: number, method: string, path: string, body?: string) => request(http, port, method, path, {}, body);

/** IDENTIFY with tls_v1, read the plaintext JSON, do the handshake, read `OK` over TLS. */
async function upgradeTls(port: number, tlsOpts: Parameters<WireClient['startTls']>[0] = {}, extra: Record<string, unknown> = {}) {
  const c = await WireClient.connect(port);
  c.identify({ feature_negotiation: true, tls_v1: true, client_id: 'tls-probe', ...extra });
  const f = await c.nextFrame();
  assert.equal(f.type, 0);
  const reply = JSON.parse(f.data.toString()) as Record<string, unknown>;
  const sock = await c.startTls({ ca, servername: 'localhost', rejectUnauthorized: true, ...tlsOpts });
  return { c, reply, sock };
}

async function statsClients(d: Daemon): Promise<Array<Record<string, unknown>>> {
  const r = await httpsReq(d.httpsPort, 'GET', '/stats?format=json', clientCreds);
  const s = JSON.parse(r.body) as { topics: Array<{ channels: Array<{ clients: Array<Record<string, unknown>> }> }>; producers: Array<Record<string, unknown>> | null };
  const out: Array<Record<string, unknown>> = [];
  for (const t of s.topics) for (const ch of t.channels) out.push(...ch.clients);
  out.push(...(s.producers ?? []));
  return out;
}

describe('TLS upgrade, policy none', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd(tlsFlags());
  });
  after(() => d.stop());

  test('JSON reply in plaintext, TLS handshake, OK over TLS, then PUB/SUB over TLS', async () => {
    const { c, reply, sock } = await upgradeTls(d.tcpPort);
    assert.equal(reply.tls_v1, true);
    // The JSON went out before the handshake: it is readable in the raw bytes.
    assert.ok(Buffer.concat(c.wireBytes).includes('"tls_v1":true'));
    assert.equal(await c.next(), '0 OK');
    assert.ok(sock.encrypted);
    assert.equal(sock.getProtocol(), 'TLSv1.3');

    c.pub('tls_topic', 'over tls');
    assert.equal(await c.next(), '0 OK');

    const { c: sub } = await upgradeTls(d.tcpPort);
    assert.equal(await sub.next(), '0 OK');
    sub.command('SUB tls_topic ch');
    assert.equal(await sub.next(), '0 OK');
    sub.command('RDY 10');
    const m = await sub.nextFrame();
    assert.equal(m.type, FRAME_MESSAGE);
    const msg = parseMessage(m.data);
    assert.equal(msg.body.toString(), 'over tls');
    sub.command(`FIN ${msg.id}`);

    const clients = await statsClients(d);
    const consumer = clients.find((x) => x.state === 3)!;
    assert.equal(consumer.tls, true);
    assert.equal(consumer.tls_version, 'TLS1.3');
    assert.match(consumer.tls_cipher_suite as string, /^TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$/);
    assert.equal(consumer.tls_negotiated_protocol, '');
    assert.equal(consumer.tls_negotiated_protocol_is_mutual, true);
    const producer = clients.find((x) => x.pub_counts !== undefined)!;
    assert.equal(producer.tls, true);
    c.close();
    sub.close();
  });

  test('TLS 1.2 is reported as TLS1.2 with its IANA cipher suite name', async () => {
    const { c } = await upgradeTls(d.tcpPort, { maxVersion: 'TLSv1.2' });
    assert.equal(await c.next(), '0 OK');
    c.pub('tls12', 'x');
    assert.equal(await c.next(), '0 OK');
    const p = (await statsClients(d)).find((x) => x.client_id === 'tls-probe' && x.tls_version === 'TLS1.2');
    assert.ok(p, 'a TLS1.2 producer in /stats');
    assert.match(p.tls_cipher_suite as string, /^TLS_ECDHE_ECDSA_WITH_/);
    c.close();
  });

  test('a client that does not ask for TLS stays in plaintext', async () => {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true });
    const reply = JSON.parse((await c.nextFrame()).data.toString()) as Record<string, unknown>;
    assert.equal(reply.tls_v1, false);
    c.pub('plain', 'x');
    assert.equal(await c.next(), '0 OK');
    const p = (await statsClients(d)).find((x) => x.tls === false && x.pub_counts !== undefined);
    assert.ok(p);
    assert.equal(p.tls_cipher_suite, '');
    assert.equal(p.tls_version, '');
    assert.equal(p.tls_negotiated_protocol_is_mutual, false);
    c.close();
  });

  test('HTTPS API: /ping, /pub, /stats on --https-address', async () => {
    assert.ok(d.httpsPort > 0);
    const ping = await httpsReq(d.httpsPort, 'GET', '/ping');
    assert.deepEqual([ping.status, ping.body], [200, 'OK']);
    const pub = await httpsReq(d.httpsPort, 'POST', '/pub?topic=https_topic', {}, 'hello');
    assert.deepEqual([pub.status, pub.body], [200, 'OK']);
    const stats = JSON.parse((await httpsReq(d.httpsPort, 'GET', '/stats?format=json&topic=https_topic')).body) as { topics: Array<{ message_count: number }> };
    assert.equal(stats.topics[0]!.message_count, 1);
    // Plain HTTP is open when TLS is not required.
    assert.equal((await httpReq(d.httpPort, 'GET', '/ping')).status, 200);
  });
});

describe('--tls-required=true', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd([...tlsFlags(), '--tls-required=true']);
  });
  after(() => d.stop());

  test('commands other than IDENTIFY before the upgrade are refused (fatal)', async () => {
    for (const cmd of ['PUB', 'SUB', 'NOP', 'ASDF']) {
      const c = await WireClient.connect(d.tcpPort);
      c.command(cmd === 'PUB' ? 'PUB t' : cmd === 'SUB' ? 'SUB t c' : cmd);
      assert.equal(await c.next(), `1 E_INVALID cannot ${cmd} in current state (TLS required)`);
      await c.waitClosed();
    }
    // IDENTIFY without tls_v1 is answered, but the next command is still refused.
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true });
    assert.equal((JSON.parse((await c.nextFrame()).data.toString()) as { tls_v1: boolean }).tls_v1, false);
    c.command('AUTH', 'x');
    assert.equal(await c.next(), '1 E_INVALID cannot AUTH in current state (TLS required)');
    await c.waitClosed();
  });

  test('after the upgrade everything works', async () => {
    const { c } = await upgradeTls(d.tcpPort);
    assert.equal(await c.next(), '0 OK');
    c.pub('t', 'm');
    assert.equal(await c.next(), '0 OK');
    c.close();
  });

  test('plain HTTP is refused with 403 TLS_REQUIRED, HTTPS works', async () => {
    for (const [method, path] of [['GET', '/ping'], ['POST', '/pub?topic=t'], ['GET', '/nope']] as const) {
      const r = await httpReq(d.httpPort, method, path, 'x');
      assert.equal(r.status, 403);
      assert.equal(r.body, `{"message": "TLS_REQUIRED", "https_port": ${d.httpsPort}}`);
      assert.equal(r.headers['x-nsq-content-type'], 'nsq; version=1.0');
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    }
    const r = await httpsReq(d.httpsPort, 'GET', '/ping');
    assert.deepEqual([r.status, r.body], [200, 'OK']);
  });
});

describe('--tls-required=tcp-https', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd([...tlsFlags(), '--tls-required=tcp-https']);
  });
  after(() => d.stop());

  test('TCP needs TLS, plain HTTP is allowed', async () => {
    const c = await WireClient.connect(d.tcpPort);
    c.pub('t', 'x');
    assert.equal(await c.next(), '1 E_INVALID cannot PUB in current state (TLS required)');
    await c.waitClosed();
    const r = await httpReq(d.httpPort, 'POST', '/pub?topic=t', 'x');
    assert.deepEqual([r.status, r.body], [200, 'OK']);
  });
});

describe('--tls-client-auth-policy', () => {
  let verify: Daemon;
  let any: Daemon;
  before(async () => {
    [verify, any] = await Promise.all([
      startNsqd([...tlsFlags(), '--tls-client-auth-policy=require-verify']),
      startNsqd([...tlsFlags(), '--tls-client-auth-policy=require']),
    ]);
  });
  after(() => Promise.all([verify.stop(), any.stop()]));

  async function attempt(d: Daemon, creds: { cert?: Buffer; key?: Buffer }): Promise<string> {
    try {
      const { c } = await upgradeTls(d.tcpPort, creds);
      try {
        const ok = await c.next();
        if (ok !== '0 OK') return ok;
        c.pub('t', 'x');
        return await c.next();
      } catch (err) {
        return `failed: ${(err as Error).message}`;
      } finally {
        c.close();
      }
    } catch (err) {
      return `failed: ${(err as Error).message}`;
    }
  }

  test('require-verify: a CA-signed client cert passes; none or an unknown one fails', async () => {
    assert.equal(await attempt(verify, clientCreds), '0 OK');
    assert.match(await attempt(verify, {}), /^failed|^1 E_IDENTIFY_FAILED/);
    assert.match(await attempt(verify, rogueCreds), /^failed|^1 E_IDENTIFY_FAILED/);
    const clients = await statsClients(verify);
    assert.equal(clients.filter((x) => x.tls === true).length, 0, 'failed clients are gone');
  });

  test('require: any client cert passes; none fails', async () => {
    assert.equal(await attempt(any, clientCreds), '0 OK');
    assert.equal(await attempt(any, rogueCreds), '0 OK');
    assert.match(await attempt(any, {}), /^failed|^1 E_IDENTIFY_FAILED/);
  });

  test('a client auth policy implies --tls-required=true (TCP and HTTP)', async () => {
    const c = await WireClient.connect(verify.tcpPort);
    c.command('NOP');
    assert.equal(await c.next(), '1 E_INVALID cannot NOP in current state (TLS required)');
    const r = await httpReq(verify.httpPort, 'GET', '/ping');
    assert.equal(r.status, 403);
  });

  test('HTTPS applies the same client certificate policy', async () => {
    const ok = await httpsReq(verify.httpsPort, 'GET', '/ping', clientCreds);
    assert.deepEqual([ok.status, ok.body], [200, 'OK']);
    await assert.rejects(httpsReq(verify.httpsPort, 'GET', '/ping'));
    await assert.rejects(httpsReq(verify.httpsPort, 'GET', '/ping', rogueCreds));
    assert.equal((await httpsReq(any.httpsPort, 'GET', '/ping', rogueCreds)).status, 200);
    await assert.rejects(httpsReq(any.httpsPort, 'GET', '/ping'));
  });
});

describe('--tls-min-version', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd([...tlsFlags(), '--tls-min-version=tls1.3']);
  });
  after(() => d.stop());

  test('a client limited to TLS 1.2 is refused; TLS 1.3 works', async () => {
    await assert.rejects(upgradeTls(d.tcpPort, { maxVersion: 'TLSv1.2' }));
    const { c } = await upgradeTls(d.tcpPort, { minVersion: 'TLSv1.3' });
    assert.equal(await c.next(), '0 OK');
    c.close();
    await assert.rejects(httpsReq(d.httpsPort, 'GET', '/ping', { maxVersion: 'TLSv1.2' }));
    assert.equal((await httpsReq(d.httpsPort, 'GET', '/ping')).status, 200);
  });
});

test('tls_v1 on a server without TLS is simply not granted', async () => {
  const d = await startNsqd();
  try {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true, tls_v1: true });
    const reply = JSON.parse((await c.nextFrame()).data.toString()) as Record<string, unknown>;
    assert.equal(reply.tls_v1, false);
    c.pub('t', 'x');
    assert.equal(await c.next(), '0 OK');
    c.close();
  } finally {
    await d.stop();
  }
});
