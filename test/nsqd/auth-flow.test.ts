import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { testCerts, tlsFlags } from '../helpers/certs.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';
import { getJson } from './http-helpers.js';
import { eventually, sleep } from '../helpers/wait.js';

// AUTH against a real auth HTTP server (docs/protocol.md, AUTH): the query nsqd sends, the
// JSON reply, grants per command, TTL re-checks and failures, /stats identity fields.

const certs = testCerts();
const ca = fs.readFileSync(certs.caCert);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Grant {
  topic: string;
  channels: string[];
  permissions: string[];
}

/** Replies by secret; `next` replies queue up per secret for the re-query after a TTL. */
class AuthServer {
  readonly seen: Seen[] = [];
  readonly replies = new Map<string, Array<{ status: number; body: string }>>();
  #server: http.Server;
  port = 0;

  constructor(secure = false) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        let secret: string;
        if (req.method === 'POST') secret = (JSON.parse(body) as { secret: string[] }).secret[0]!;
        else secret = new URL(req.url ?? '', 'http://x').searchParams.get('secret') ?? '';
        const queue = this.replies.get(secret);
        const r = queue && queue.length > 1 ? queue.shift()! : queue?.[0];
        res.writeHead(r?.status ?? 404, { 'Content-Type': 'application/json' });
        res.end(r?.body ?? '{}');
      });
    };
    this.#server = secure ? https.createServer({ cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey) }, handler) : http.createServer(handler);
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  grant(secret: string, ttl: number, grants: Grant[], identity = 'alice', identityUrl = 'https://id.example/alice'): void {
    this.reply(secret, 200, JSON.stringify({ ttl, identity, identity_url: identityUrl, authorizations: grants }));
  }

  reply(secret: string, status: number, body: string): void {
    const q = this.replies.get(secret) ?? [];
    q.push({ status, body });
    this.replies.set(secret, q);
  }

  queries(secret: string): Seen[] {
    return this.seen.filter((s) => s.url.includes(`secret=${secret}&`) || s.body.includes(`"secret":["${secret}"]`));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

const PUBSUB: Grant = { topic: '^allowed$', channels: ['.*'], permissions: ['subscribe', 'publish'] };
const SUBONLY: Grant = { topic: 'subonly', channels: ['^ch$'], permissions: ['subscribe'] };

async function authed(port: number, secret: string): Promise<{ c: WireClient; reply: string }> {
  const c = await WireClient.connect(port);
  c.command('AUTH', secret);
  return { c, reply: await c.next() };
}

describe('AUTH with --auth-http-address', () => {
  let auth: AuthServer;
  let d: Daemon;
  before(async () => {
    auth = await new AuthServer().start();
    auth.grant('good', 3600, [PUBSUB, SUBONLY]);
    auth.grant('none', 3600, []);
    auth.reply('fail', 500, '{"message":"INTERNAL_ERROR"}');
    auth.reply('badjson', 200, 'not json');
    auth.grant('badperm', 3600, [{ topic: '.*', channels: ['.*'], permissions: ['admin'] }]);
    auth.grant('zerottl', 0, [PUBSUB]);
    d = await startNsqd([`--auth-http-address=127.0.0.1:${auth.port}`]);
  });
  after(async () => {
    await d.stop();
    await auth.close();
  });

  test('IDENTIFY reports auth_required', async () => {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true });
    const reply = JSON.parse((await c.nextFrame()).data.toString()) as Record<string, unknown>;
    assert.equal(reply.auth_required, true);
    c.close();
  });

  test('PUB, MPUB, DPUB and SUB need AUTH first', async () => {
    const cases: Array<[string, (c: WireClient) => void]> = [
      ['PUB', (c) => c.pub('allowed', 'x')],
      ['MPUB', (c) => c.mpub('allowed', ['x'])],
      ['DPUB', (c) => c.command('DPUB allowed 10', 'x')],
      ['SUB', (c) => c.command('SUB allowed ch')],
    ];
    for (const [cmd, send] of cases) {
      const c = await WireClient.connect(d.tcpPort);
      send(c);
      assert.equal(await c.next(), `1 E_AUTH_FIRST AUTH required before ${cmd}`);
      await c.waitClosed();
    }
  });

  test('AUTH replies with identity, identity_url and permission_count; the query is a GET', async () => {
    const { c, reply } = await authed(d.tcpPort, 'good');
    assert.equal(reply, '0 {"identity":"alice","identity_url":"https://id.example/alice","permission_count":2}');
    const q = auth.queries('good').at(-1)!;
    assert.equal(q.method, 'GET');
    assert.equal(q.url, '/auth?common_name=&remote_ip=127.0.0.1&secret=good&tls=false');
    assert.equal(q.headers.accept, 'application/vnd.nsq; version=1.0');
    c.command('AUTH', 'good');
    assert.equal(await c.next(), '1 E_INVALID AUTH already set');
    await c.waitClosed();
  });

  test('grants decide PUB/MPUB/DPUB/SUB; denials are fatal with the exact text', async () => {
    const ok = async (send: (c: WireClient) => void) => {
      const { c } = await authed(d.tcpPort, 'good');
      send(c);
      const r = await c.next();
      c.close();
      return r;
    };
    assert.equal(await ok((c) => c.pub('allowed', 'x')), '0 OK');
    assert.equal(await ok((c) => c.mpub('allowed', ['x', 'y'])), '0 OK');
    assert.equal(await ok((c) => c.command('DPUB allowed 10', 'x')), '0 OK');
    assert.equal(await ok((c) => c.command('SUB subonly ch')), '0 OK');
    assert.equal(await ok((c) => c.pub('other', 'x')), '1 E_UNAUTHORIZED AUTH failed for PUB on "other" ""');
    assert.equal(await ok((c) => c.mpub('other', ['x'])), '1 E_UNAUTHORIZED AUTH failed for MPUB on "other" ""');
    assert.equal(await ok((c) => c.command('DPUB other 10', 'x')), '1 E_UNAUTHORIZED AUTH failed for DPUB on "other" ""');
    assert.equal(await ok((c) => c.pub('subonly', 'x')), '1 E_UNAUTHORIZED AUTH failed for PUB on "subonly" ""');
    assert.equal(await ok((c) => c.command('SUB subonly other')), '1 E_UNAUTHORIZED AUTH failed for SUB on "subonly" "other"');
    // Unanchored patterns search: "subonly" matches "xsubonlyx".
    assert.equal(await ok((c) => c.command('SUB xsubonlyx ch')), '0 OK');

    const { c } = await authed(d.tcpPort, 'good');
    c.pub('other', 'x');
    assert.match(await c.next(), /^1 E_UNAUTHORIZED/);
    await c.waitClosed();
  });

  test('an authorized consumer receives, FINs and is listed with its identity in /stats', async () => {
    const { c: sub } = await authed(d.tcpPort, 'good');
    sub.command('SUB allowed stats_ch');
    assert.equal(await sub.next(), '0 OK');
    sub.command('RDY 1');
    const { c: pub } = await authed(d.tcpPort, 'good');
    pub.pub('allowed', 'hello');
    assert.equal(await pub.next(), '0 OK');
    const m = await sub.nextFrame();
    assert.equal(m.type, FRAME_MESSAGE);
    sub.command(`FIN ${parseMessage(m.data).id}`);
    const stats = await getJson(d.httpPort, '/stats?format=json&topic=allowed&channel=stats_ch');
    const consumer = (stats.topics as Array<{ channels: Array<{ clients: Array<Record<string, unknown>> }> }>)[0]!.channels[0]!.clients[0]!;
    assert.equal(consumer.authed, true);
    assert.equal(consumer.auth_identity, 'alice');
    assert.equal(consumer.auth_identity_url, 'https://id.example/alice');
    const keys = Object.keys(consumer);
    assert.deepEqual(keys.slice(keys.indexOf('user_agent'), keys.indexOf('user_agent') + 4), ['user_agent', 'authed', 'auth_identity', 'auth_identity_url']);
    const producer = (stats.producers as Array<Record<string, unknown>>).find((p) => p.auth_identity === 'alice');
    assert.ok(producer);
    sub.close();
    pub.close();
  });

  test('auth server failures and empty grants', async () => {
    assert.equal((await authed(d.tcpPort, 'none')).reply, '1 E_UNAUTHORIZED AUTH no authorizations found');
    for (const secret of ['fail', 'badjson', 'badperm', 'zerottl', 'unknown']) {
      const { c, reply } = await authed(d.tcpPort, secret);
      assert.equal(reply, '1 E_AUTH_FAILED AUTH failed', secret);
      await c.waitClosed();
    }
    // Details are logged, never sent to the client.
    await eventually(() => /got response 500/.test(d.logs()), 5000, 'the auth failure log line');
    assert.match(d.logs(), /got response 500/);
  });

  test('AUTH rules: parameters, state, no IDENTIFY needed', async () => {
    let c = await WireClient.connect(d.tcpPort);
    c.command('AUTH x', 'good');
    assert.equal(await c.next(), '1 E_INVALID AUTH invalid number of parameters');
    c = (await authed(d.tcpPort, 'good')).c;
    c.command('SUB allowed ch');
    assert.equal(await c.next(), '0 OK');
    c.command('AUTH', 'good');
    assert.equal(await c.next(), '1 E_INVALID cannot AUTH in current state');
    c = await WireClient.connect(d.tcpPort);
    c.command('AUTH', '');
    assert.equal(await c.next(), '1 E_BAD_BODY AUTH invalid body size 0');
  });
});

test('TTL: an expired grant is re-queried with the same secret; denial or failure then closes', async () => {
  const auth = await new AuthServer().start();
  auth.grant('short', 1, [PUBSUB]);
  auth.grant('short', 1, [{ ...PUBSUB, topic: '^elsewhere$' }]);
  auth.grant('flaky', 1, [PUBSUB]);
  auth.reply('flaky', 500, '{}');
  const d = await startNsqd([`--auth-http-address=127.0.0.1:${auth.port}`]);
  try {
    const { c: a, reply } = await authed(d.tcpPort, 'short');
    assert.match(reply, /^0 \{"identity"/);
    const { c: b } = await authed(d.tcpPort, 'flaky');
    for (const c of [a, b]) {
      c.pub('allowed', 'x');
      assert.equal(await c.next(), '0 OK');
    }
    assert.equal(auth.queries('short').length, 1, 'cached within the TTL');
    await sleep(1100);
    a.pub('allowed', 'x');
    assert.equal(await a.next(), '1 E_UNAUTHORIZED AUTH failed for PUB on "allowed" ""');
    assert.equal(auth.queries('short').length, 2, 're-queried after expiry');
    b.pub('allowed', 'x');
    assert.equal(await b.next(), '1 E_AUTH_FAILED AUTH failed');
    await a.waitClosed();
    await b.waitClosed();
  } finally {
    await d.stop();
    await auth.close();
  }
});

test('without --auth-http-address: AUTH is disabled and nothing needs it', async () => {
  const d = await startNsqd();
  try {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true });
    assert.equal((JSON.parse((await c.nextFrame()).data.toString()) as { auth_required: boolean }).auth_required, false);
    c.pub('t', 'x');
    assert.equal(await c.next(), '0 OK');
    c.command('AUTH', 'secret');
    assert.equal(await c.next(), '1 E_AUTH_DISABLED AUTH disabled');
    await c.waitClosed();
  } finally {
    await d.stop();
  }
});

test('an unreachable auth server fails AUTH', async () => {
  const gone = await new AuthServer().start();
  const port = gone.port;
  await gone.close();
  const d = await startNsqd([`--auth-http-address=127.0.0.1:${port}`]);
  try {
    const { c, reply } = await authed(d.tcpPort, 'good');
    assert.equal(reply, '1 E_AUTH_FAILED AUTH failed');
    await c.waitClosed();
  } finally {
    await d.stop();
  }
});

test('--auth-http-request-method=post sends the JSON form', async () => {
  const auth = await new AuthServer().start();
  auth.grant('good', 3600, [PUBSUB]);
  const d = await startNsqd([`--auth-http-address=127.0.0.1:${auth.port}`, '--auth-http-request-method=post']);
  try {
    const { reply } = await authed(d.tcpPort, 'good');
    assert.match(reply, /^0 /);
    const q = auth.seen.at(-1)!;
    assert.equal(q.method, 'POST');
    assert.equal(q.url, '/auth');
    assert.equal(q.headers['content-type'], 'application/json');
    assert.equal(q.body, '{"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["good"],"tls":["false"]}');
  } finally {
    await d.stop();
    await auth.close();
  }
});

test('over TLS with a client certificate: tls=true, common_name, HTTPS auth server trusted via --tls-root-ca-file', async () => {
  const auth = await new AuthServer(true).start();
  auth.grant('good', 3600, [PUBSUB]);
  // A client certificate is only asked for under a client auth policy (none: common_name "").
  const d = await startNsqd([...tlsFlags(), '--tls-client-auth-policy=require-verify', `--auth-http-address=https://localhost:${auth.port}/auth`]);
  try {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true, tls_v1: true });
    assert.equal((JSON.parse((await c.nextFrame()).data.toString()) as { auth_required: boolean }).auth_required, true);
    await c.startTls({ ca, servername: 'localhost', cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) });
    assert.equal(await c.next(), '0 OK');
    c.command('AUTH', 'good');
    assert.match(await c.next(), /^0 \{"identity":"alice"/);
    assert.equal(auth.seen.at(-1)!.url, `/auth?common_name=${certs.clientCommonName}&remote_ip=127.0.0.1&secret=good&tls=true`);
    c.pub('allowed', 'x');
    assert.equal(await c.next(), '0 OK');
    c.close();
  } finally {
    await d.stop();
    await auth.close();
  }
});
