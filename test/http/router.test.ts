import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Router, RAW, cleanPath } from '../../src/http/router.js';
import { HttpApiError } from '../../src/http/api-error.js';
import { Logger } from '../../src/lib/logger.js';

const logLines: string[] = [];
let tlsRequired = false;
const router = new Router({
  logger: new Logger('[test] ', 'info', (l) => logLines.push(l)),
  before: (_req, res) => {
    if (!tlsRequired) return true;
    res.writeHead(403, { 'X-NSQ-Content-Type': 'nsq; version=1.0', 'Content-Type': 'application/json; charset=utf-8' });
    res.end('{"message": "TLS_REQUIRED", "https_port": 4152}');
    return false;
  },
});
router.get('/ping', () => 'OK', { encoder: 'plain' });
router.get('/nok', () => {
  throw new HttpApiError(500, 'NOK - disk full');
}, { encoder: 'plain' });
router.get('/stats', (ctx) => ({ q: ctx.query().get('topic') ?? null, all: ctx.query().getAll('topic'), html: '<&>' }));
router.post('/pub', async (ctx) => {
  const topic = ctx.query().get('topic');
  if (!topic) throw new HttpApiError(400, 'MISSING_ARG_TOPIC');
  const { body, tooBig } = await ctx.readBody(10);
  if (tooBig) throw new HttpApiError(413, 'MSG_TOO_BIG');
  return `OK ${body.toString()}`;
}, { log: false });
router.get('/config/:opt', (ctx) => ctx.params.opt);
router.put('/config/:opt', () => null);
router.get('/empty', () => undefined);
router.get('/num', () => 42);
router.get('/buf', () => Buffer.from('raw'));
router.get('/raw', (ctx) => {
  ctx.res.writeHead(202, { 'X-Custom': '1' });
  ctx.res.end('custom');
  return RAW;
});
router.get('/boom', () => {
  throw new Error('kaboom');
});
router.get('/boom-async', async () => {
  await Promise.resolve();
  throw new TypeError('async kaboom');
});
router.get('/Static/*file', (ctx) => ctx.params.file);

let server: http.Server;
let port = 0;

before(async () => {
  server = http.createServer((req, res) => router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(method: string, path: string, body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const V1 = 'nsq; version=1.0';
const JSON_CT = 'application/json; charset=utf-8';
const TEXT_CT = 'text/plain; charset=utf-8';

test('V1 string, object, number, buffer, null results', async () => {
  let r = await request('GET', '/config/mem_queue_size');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'mem_queue_size');
  assert.equal(r.headers['content-type'], TEXT_CT);
  assert.equal(r.headers['x-nsq-content-type'], V1);

  r = await request('GET', '/stats?topic=a&topic=b');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.equal(r.headers['x-nsq-content-type'], V1);
  assert.equal(r.body, '{"q":"a","all":["a","b"],"html":"\\u003c\\u0026\\u003e"}');

  r = await request('GET', '/num');
  assert.equal(r.body, '42');
  assert.equal(r.headers['content-type'], JSON_CT);

  r = await request('GET', '/buf');
  assert.equal(r.body, 'raw');
  assert.equal(r.headers['content-type'], TEXT_CT);

  r = await request('GET', '/empty');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['content-type'], undefined);
  assert.equal(r.headers['content-length'], '0');
  assert.equal(r.headers['x-nsq-content-type'], V1);

  r = await request('PUT', '/config/log_level', 'debug');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
});

test('PlainText encoder: no NSQ header, raw error text', async () => {
  let r = await request('GET', '/ping');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'OK');
  assert.equal(r.headers['content-type'], TEXT_CT);
  assert.equal(r.headers['x-nsq-content-type'], undefined);
  r = await request('GET', '/nok');
  assert.equal(r.status, 500);
  assert.equal(r.body, 'NOK - disk full');
  assert.equal(r.headers['x-nsq-content-type'], undefined);
});

test('HttpApiError, query errors and body limits', async () => {
  let r = await request('POST', '/pub', 'x');
  assert.equal(r.status, 400);
  assert.equal(r.body, '{"message":"MISSING_ARG_TOPIC"}');
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.equal(r.headers['x-nsq-content-type'], V1);

  r = await request('POST', '/pub?topic=%zz', 'x');
  assert.equal(r.status, 400);
  assert.equal(r.body, '{"message":"INVALID_REQUEST"}');
  r = await request('POST', '/pub?topic=a;b', 'x');
  assert.equal(r.body, '{"message":"INVALID_REQUEST"}');

  r = await request('POST', '/pub?topic=t', '0123456789');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'OK 0123456789');
  r = await request('POST', '/pub?topic=t', '01234567890');
  assert.equal(r.status, 413);
  assert.equal(r.body, '{"message":"MSG_TOO_BIG"}');
  r = await request('POST', '/pub?topic=t', Buffer.alloc(1 << 20, 0x61));
  assert.equal(r.status, 413);
  r = await request('POST', '/pub?topic=t');
  assert.equal(r.body, 'OK ');
});

test('unknown path 404, wrong method 405 with Allow, OPTIONS', async () => {
  let r = await request('GET', '/nope');
  assert.equal(r.status, 404);
  assert.equal(r.body, '{"message":"NOT_FOUND"}');
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.equal(r.headers['x-nsq-content-type'], V1);

  r = await request('POST', '/stats');
  assert.equal(r.status, 405);
  assert.equal(r.body, '{"message":"METHOD_NOT_ALLOWED"}');
  assert.equal(r.headers.allow, 'GET, OPTIONS');
  assert.equal(r.headers['x-nsq-content-type'], V1);

  r = await request('DELETE', '/config/x');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, OPTIONS, PUT');

  r = await request('GET', '/pub');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'OPTIONS, POST');

  r = await request('OPTIONS', '/config/x');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers.allow, 'GET, OPTIONS, PUT');

  r = await request('OPTIONS', '/nope');
  assert.equal(r.status, 404);

  r = await request('HEAD', '/ping');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, OPTIONS');
});

test('trailing slash and case fixes redirect (301 GET / 307 others) keeping the query', async () => {
  let r = await request('GET', '/stats/');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/stats');
  assert.equal(r.body, '<a href="/stats">Moved Permanently</a>.\n\n');

  r = await request('GET', '/stats/?format=json&topic=a');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/stats?format=json&topic=a');

  r = await request('GET', '/STATS?x=1');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/stats?x=1');

  r = await request('GET', '//stats');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/stats');

  r = await request('GET', '/Config/Mem_Queue_Size/');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/config/Mem_Queue_Size');

  r = await request('POST', '/pub/?topic=t', 'x');
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, '/pub?topic=t');
  assert.equal(r.body, '');

  r = await request('POST', '/PUB?topic=t', 'x');
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, '/pub?topic=t');

  // Redirects are decided per method tree: no POST route is near /stats/, and GET has no match either.
  r = await request('POST', '/stats/');
  assert.equal(r.status, 404);

  r = await request('GET', '/static/a/b.js');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/Static/a/b.js');
  r = await request('GET', '/Static/a/b.js');
  assert.equal(r.body, '/a/b.js');
});

test('handler throws become 500 INTERNAL_ERROR and are logged; server survives', async () => {
  logLines.length = 0;
  let r = await request('GET', '/boom');
  assert.equal(r.status, 500);
  assert.equal(r.body, '{"message":"INTERNAL_ERROR"}');
  assert.equal(r.headers['x-nsq-content-type'], V1);
  r = await request('GET', '/boom-async');
  assert.equal(r.status, 500);
  assert.ok(logLines.some((l) => / ERROR: panic in HTTP handler - Error: kaboom/.test(l)));
  assert.ok(logLines.some((l) => / ERROR: panic in HTTP handler - TypeError: async kaboom/.test(l)));
  r = await request('GET', '/ping');
  assert.equal(r.status, 200);
});

test('RAW results are left alone', async () => {
  const r = await request('GET', '/raw');
  assert.equal(r.status, 202);
  assert.equal(r.body, 'custom');
  assert.equal(r.headers['x-custom'], '1');
});

test('request log lines: status, method, uri, remote, Go duration; log:false routes silent', async () => {
  logLines.length = 0;
  await request('GET', '/stats?topic=a');
  await request('GET', '/nope');
  await request('POST', '/stats');
  await request('POST', '/pub?topic=t', 'x');
  assert.equal(logLines.length, 3, logLines.join('\n'));
  const re = /^\[test\] \S+ \S+ INFO: (\d+) (\w+) (\S+) \((127\.0\.0\.1:\d+)\) (\d+(\.\d+)?(ns|µs|ms|s))$/;
  const parsed = logLines.map((l) => re.exec(l)?.slice(1, 4));
  assert.deepEqual(parsed, [
    ['200', 'GET', '/stats?topic=a'],
    ['404', 'GET', '/nope'],
    ['405', 'POST', '/stats'],
  ]);
});

test('keep-alive survives an oversized body that was not fully read', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const send = (body: Buffer) =>
      new Promise<Reply>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/pub?topic=t', agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end(body);
      });
    assert.equal((await send(Buffer.alloc(200_000, 1))).status, 413);
    const r = await send(Buffer.from('ok'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK ok');
  } finally {
    agent.destroy();
  }
});

test('bad percent-escape in the path is a 400', async () => {
  const r = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end('GET /config/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let data = '';
    sock.on('data', (c) => (data += c.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.match(r, /^HTTP\/1\.1 400 /);
});

test('before hook can answer first (TLS_REQUIRED)', async () => {
  tlsRequired = true;
  try {
    const r = await request('GET', '/ping');
    assert.equal(r.status, 403);
    assert.equal(r.body, '{"message": "TLS_REQUIRED", "https_port": 4152}');
  } finally {
    tlsRequired = false;
  }
});

test('cleanPath', () => {
  assert.equal(cleanPath(''), '/');
  assert.equal(cleanPath('//a//b/'), '/a/b/');
  assert.equal(cleanPath('/a/./b/../c'), '/a/c');
  assert.equal(cleanPath('/..'), '/');
});

test('a body with Content-Length arriving in pieces is read whole; chunked bodies too; the limit holds', async () => {
  const send = (pieces: string[], headers: Record<string, string>) =>
    new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/pub?topic=t', agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      let i = 0;
      const next = (): void => {
        if (i === pieces.length) {
          req.end();
          return;
        }
        req.write(pieces[i++]!);
        setTimeout(next, 5);
      };
      next();
    });
  assert.equal((await send(['abc', 'de', 'fgh'], { 'Content-Length': '8' })).body, 'OK abcdefgh');
  assert.equal((await send(['abc', 'de', 'fgh'], { 'Transfer-Encoding': 'chunked' })).body, 'OK abcdefgh');
  assert.equal((await send(['abcdef', 'ghijkl'], { 'Transfer-Encoding': 'chunked' })).status, 413);
  assert.equal((await send(['abcdef', 'ghijkl'], { 'Content-Length': '12' })).status, 413);
});
