import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import { testCerts } from '../helpers/certs.js';
import { AuthQueryError, isAllowed, isExpired, parseAuthReply, queryAuth, type AuthQueryOptions, type AuthState } from '../../src/auth/auth.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: Seen, res: http.ServerResponse) => void;

const servers: Array<http.Server | https.Server> = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function serve(server: http.Server | https.Server, handler: Handler, seen: Seen[]): Promise<number> {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      handler(s, res);
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

// One auth server answering per secret, like a small pynsqauthd.
const GRANTS: Record<string, unknown> = {
  good: {
    ttl: 3600,
    identity: 'alice',
    identity_url: 'https://example.com/alice',
    authorizations: [
      { topic: '^orders$', channels: ['^archive$', 'audit'], permissions: ['subscribe'] },
      { topic: 'events', channels: ['.*'], permissions: ['publish'] },
    ],
  },
  none: { ttl: 60, identity: 'bob', identity_url: '', authorizations: [] },
  zero_ttl: { ttl: 0, authorizations: [] },
  neg_ttl: { ttl: -5, authorizations: [] },
  bad_perm: { ttl: 60, authorizations: [{ topic: '.*', channels: ['.*'], permissions: ['admin'] }] },
  bad_regex: { ttl: 60, authorizations: [{ topic: '(', channels: ['.*'], permissions: ['publish'] }] },
  js_only_regex: { ttl: 60, authorizations: [{ topic: 'a(?=b)', channels: ['.*'], permissions: ['publish'] }] },
  float_ttl: { ttl: 1.5, authorizations: [] },
};

const seen: Seen[] = [];
let port = 0;

function opts(over: Partial<AuthQueryOptions> = {}): AuthQueryOptions {
  return {
    addresses: [`127.0.0.1:${port}`],
    method: 'get',
    remoteIp: '127.0.0.1',
    tls: false,
    secret: 'good',
    commonName: '',
    connectTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    ...over,
  };
}

test('setup auth server', async () => {
  port = await serve(
    http.createServer(),
    (req, res) => {
      if (req.url.startsWith('/status500')) return json(res, 500, 'boom');
      if (req.url.startsWith('/badjson')) return json(res, 200, '{"ttl": 3600, "authorizations": [');
      if (req.url.startsWith('/hang')) return; // never answers
      let secret = '';
      if (req.method === 'POST') secret = (JSON.parse(req.body) as { secret: string[] }).secret[0]!;
      else secret = new URL(req.url, 'http://x').searchParams.get('secret') ?? '';
      const grant = GRANTS[secret];
      if (grant === undefined) return json(res, 403, { message: 'forbidden' });
      json(res, 200, grant);
    },
    seen,
  );
});

test('GET: query shape (sorted, Go-escaped), Accept header, validated state', async () => {
  seen.length = 0;
  const before = Date.now();
  const state = await queryAuth(opts({ remoteIp: '10.0.0.1', tls: true, commonName: "cn with space&'*" }));
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.method, 'GET');
  assert.equal(seen[0]!.url, "/auth?common_name=cn+with+space%26%27%2A&remote_ip=10.0.0.1&secret=good&tls=true");
  assert.equal(seen[0]!.headers.accept, 'application/vnd.nsq; version=1.0');
  assert.equal(state.identity, 'alice');
  assert.equal(state.identityUrl, 'https://example.com/alice');
  assert.equal(state.ttlSec, 3600);
  assert.ok(state.expires >= before + 3600_000 && state.expires <= Date.now() + 3600_000);
  assert.equal(state.authorizations.length, 2);
});

test('POST: JSON body of one-element string arrays, content type', async () => {
  seen.length = 0;
  const state = await queryAuth(opts({ method: 'post' }));
  assert.equal(seen[0]!.method, 'POST');
  assert.equal(seen[0]!.url, '/auth');
  assert.equal(seen[0]!.headers['content-type'], 'application/json');
  assert.equal(seen[0]!.headers.accept, 'application/vnd.nsq; version=1.0');
  assert.equal(seen[0]!.body, '{"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["good"],"tls":["false"]}');
  assert.equal(state.identity, 'alice');
});

test('full URL addresses are used as the endpoint', async () => {
  seen.length = 0;
  await queryAuth(opts({ addresses: [`http://127.0.0.1:${port}/custom/path`] }));
  assert.ok(seen[0]!.url.startsWith('/custom/path?common_name='));
});

test('allowed and denied operations', async () => {
  const state = await queryAuth(opts());
  assert.ok(isAllowed(state, 'orders', 'archive'));
  assert.ok(isAllowed(state, 'orders', 'my-audit-log')); // unanchored channel pattern
  assert.ok(!isAllowed(state, 'orders', 'other'));
  assert.ok(!isAllowed(state, 'orders2', 'archive')); // anchored topic
  assert.ok(!isAllowed(state, 'orders', '')); // publish needs the publish permission
  assert.ok(isAllowed(state, 'events', '')); // publish: channel "" matches .*
  assert.ok(isAllowed(state, 'xeventsx', ''));
  assert.ok(!isAllowed(state, 'events', 'c')); // subscribe not granted on events
  const none = await queryAuth(opts({ secret: 'none' }));
  assert.equal(none.authorizations.length, 0);
  assert.ok(!isAllowed(none, 'events', ''));
});

test('a publish grant needs a channel pattern matching the empty string', () => {
  const state: AuthState = {
    identity: '',
    identityUrl: '',
    ttlSec: 1,
    expires: 0,
    authorizations: [{ topic: '.*', channels: ['.+'], permissions: ['publish', 'subscribe'] }],
  };
  assert.ok(!isAllowed(state, 't', ''));
  assert.ok(isAllowed(state, 't', 'c'));
});

test('isExpired compares against expiry', () => {
  const state: AuthState = { identity: '', identityUrl: '', ttlSec: 1, expires: 1000, authorizations: [] };
  assert.ok(!isExpired(state, 999));
  assert.ok(!isExpired(state, 1000));
  assert.ok(isExpired(state, 1001));
});

async function rejects(o: AuthQueryOptions, re: RegExp): Promise<void> {
  await assert.rejects(queryAuth(o), (err: unknown) => err instanceof AuthQueryError && re.test(err.message));
}

test('failures: ttl <= 0, bad permission, bad regex, JS-only regex, non-int ttl', async () => {
  await rejects(opts({ secret: 'zero_ttl' }), /invalid TTL 0/);
  await rejects(opts({ secret: 'neg_ttl' }), /invalid TTL -5/);
  await rejects(opts({ secret: 'bad_perm' }), /unknown permission admin/);
  await rejects(opts({ secret: 'bad_regex' }), /unable to compile topic/);
  await rejects(opts({ secret: 'js_only_regex' }), /unable to compile topic/);
  await rejects(opts({ secret: 'float_ttl' }), /ttl/);
});

test('failures: non-200, bad JSON, unreachable server, all servers named in the error', async () => {
  await rejects(opts({ addresses: [`http://127.0.0.1:${port}/status500`] }), /got response 500/);
  await rejects(opts({ addresses: [`http://127.0.0.1:${port}/badjson`] }), /failed to auth against/);
  await rejects(opts({ secret: 'unknown' }), /failed to auth against/); // retried on https port 0
  const dead = await closedPort();
  await rejects(opts({ addresses: [`127.0.0.1:${dead}`, `http://127.0.0.1:${port}/status500`] }), new RegExp(`127\\.0\\.0\\.1:${dead}.*; |; .*127\\.0\\.0\\.1:${dead}`));
});

test('request timeout', async () => {
  await rejects(opts({ addresses: [`http://127.0.0.1:${port}/hang`], requestTimeoutMs: 200 }), /timed out/);
});

test('tries every server until one succeeds', async () => {
  const dead = await closedPort();
  for (let i = 0; i < 5; i++) {
    const state = await queryAuth(opts({ addresses: [`127.0.0.1:${dead}`, `127.0.0.1:${port}`] }));
    assert.equal(state.identity, 'alice');
  }
});

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** The kit's test PKI (server certificate and its CA), or null without the openssl CLI. */
function tlsFiles(): { key: Buffer; cert: Buffer; ca: Buffer } | null {
  try {
    const c = testCerts();
    return { key: fs.readFileSync(c.serverKey), cert: fs.readFileSync(c.serverCert), ca: fs.readFileSync(c.caCert) };
  } catch {
    return null;
  }
}

const tlsMaterial = tlsFiles();

test('https with root CA, and 403 + https_port retry from http', { skip: tlsMaterial === null ? 'openssl not available' : false }, async () => {
  const { key, cert, ca } = tlsMaterial!;
  const tlsSeen: Seen[] = [];
  const httpsPort = await serve(https.createServer({ key, cert }), (_req, res) => json(res, 200, GRANTS.good), tlsSeen);
  const redirectPort = await serve(http.createServer(), (_req, res) => json(res, 403, { https_port: httpsPort }), []);

  const direct = await queryAuth(opts({ addresses: [`https://127.0.0.1:${httpsPort}/auth`], ca }));
  assert.equal(direct.identity, 'alice');

  tlsSeen.length = 0;
  const retried = await queryAuth(opts({ addresses: [`127.0.0.1:${redirectPort}`], ca, secret: 'x y' }));
  assert.equal(retried.identity, 'alice');
  assert.equal(tlsSeen[0]!.url, '/auth?common_name=&remote_ip=127.0.0.1&secret=x+y&tls=false');

  // Without the CA the server's certificate is not trusted.
  await rejects(opts({ addresses: [`https://127.0.0.1:${httpsPort}/auth`] }), /certificate/);
});

test('parseAuthReply mirrors Go decoding (nulls, case-insensitive keys, wrong types)', () => {
  const s = parseAuthReply('{"TTL": 10, "Identity": "x", "authorizations": [null, {"topic": "t", "channels": null, "permissions": ["publish"]}]}', 0);
  assert.equal(s.ttlSec, 10);
  assert.equal(s.expires, 10_000);
  assert.equal(s.identity, 'x');
  assert.equal(s.identityUrl, '');
  assert.deepEqual(s.authorizations, [
    { topic: '', channels: [], permissions: [] },
    { topic: 't', channels: [], permissions: ['publish'] },
  ]);
  assert.throws(() => parseAuthReply('{"ttl": "10"}', 0));
  assert.throws(() => parseAuthReply('[]', 0));
  assert.throws(() => parseAuthReply('null', 0), /invalid TTL 0/);
  assert.throws(() => parseAuthReply('{"ttl": 10, "authorizations": [{"topic": 5}]}', 0));
});
