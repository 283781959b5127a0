/**
 * nsqadmin's access rules, base path, UI serving and notifications: --admin-user with the ACL
 * header, --base-path on every route, index.html rendering with the page config, and admin
 * actions POSTed to a real HTTP server given as --notification-http-endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tempDir } from '../helpers/daemons.js';
import { call, eventually, postOk, startAdmin, startCluster, type AdminCluster } from './helpers.js';

let c: AdminCluster;
let uiDir: string;
let hook: http.Server;
const notes: Array<{ headers: http.IncomingHttpHeaders; body: any }> = [];

before(async () => {
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      notes.push({ headers: req.headers, body: JSON.parse(body) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  uiDir = tempDir('tsnsq-admin-ui-');
  fs.mkdirSync(path.join(uiDir, 'assets'));
  fs.writeFileSync(path.join(uiDir, 'index.html'), '<html><head><!--NSQADMIN_CONFIG--><script type="module" src="/static/assets/app.js"></script></head></html>');
  fs.writeFileSync(path.join(uiDir, 'assets', 'app.js'), 'import("/static/assets/lazy.js")');
  fs.writeFileSync(path.join(uiDir, 'assets', 'big.css'), 'body { color: red }\n'.repeat(500));
  c = await startCluster(1, [
    '--base-path=admin/',
    '--admin-user=alice',
    '--admin-user=bob',
    '--acl-http-header=X-Auth-User',
    `--notification-http-endpoint=http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
    `--dev-static-dir=${uiDir}`,
  ]);
});
after(async () => {
  await c?.stop();
  hook?.closeAllConnections();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  fs.rmSync(uiDir, { recursive: true, force: true });
});

describe('base path', () => {
  it('every route lives under --base-path (normalised to /admin)', async () => {
    const p = c.admin.httpPort;
    assert.equal((await call(p, 'GET', '/admin/ping')).body, 'OK');
    assert.equal((await call(p, 'GET', '/ping')).status, 404);
    assert.equal((await call(p, 'GET', '/api/topics')).status, 404);
    const t = await call(p, 'GET', '/admin/api/topics');
    assert.equal(t.status, 200);
    assert.deepEqual(t.json().message, '');
    const asset = await call(p, 'GET', '/admin/static/assets/app.js');
    assert.equal(asset.status, 200);
    assert.equal(asset.body, 'import("/admin/static/assets/lazy.js")', 'chunk URLs follow the base path');
    assert.match(asset.headers['content-type'] ?? '', /javascript/);
    const big = await call(p, 'GET', '/admin/static/assets/big.css', undefined, { 'Accept-Encoding': 'gzip' });
    assert.equal(big.headers['content-encoding'], 'gzip');
    assert.equal(big.body, 'body { color: red }\n'.repeat(500));
    const plain = await call(p, 'GET', '/admin/static/assets/big.css', undefined, { 'Accept-Encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['content-length'], String(20 * 500));
    assert.equal((await call(p, 'GET', '/admin/static/../../etc/passwd')).status, 404);
    assert.equal((await call(p, 'GET', '/admin/static/missing.js')).status, 404);
  });

  it('SPA routes serve index.html with rebased assets and the page config, isAdmin per request', async () => {
    const p = c.admin.httpPort;
    for (const route of ['/admin', '/admin/topics', '/admin/topics/t', '/admin/topics/t/c', '/admin/nodes', '/admin/nodes/n:1', '/admin/counter', '/admin/lookup']) {
      const r = await call(p, 'GET', route);
      assert.equal(r.status, 200, route);
      assert.match(r.headers['content-type'] ?? '', /^text\/html/);
      assert.ok(r.body.includes('src="/admin/static/assets/app.js"'), r.body);
    }
    const config = (body: string) => JSON.parse(/window\.NSQADMIN_CONFIG = (\{.*?\})<\/script>/.exec(body)![1]!);
    const slash = await call(p, 'GET', '/admin/');
    assert.deepEqual([slash.status, slash.headers.location], [301, '/admin']);
    const anon = config((await call(p, 'GET', '/admin')).body);
    assert.deepEqual(anon, {
      basePath: '/admin',
      version: '1.3.0',
      isAdmin: false,
      graphiteUrl: '',
      statsdPrefix: 'nsq.%s',
      statsdCounterFormat: 'stats.counters.%s.count',
      statsdGaugeFormat: 'stats.gauges.%s',
      useStatsdPrefixes: true,
      statsdInterval: 60,
      nsqlookupd: [`127.0.0.1:${c.lookupd.httpPort}`],
      chartIntervalMs: 2000,
    });
    const alice = await call(p, 'GET', '/admin/topics', undefined, { 'X-Auth-User': 'alice' });
    assert.equal(config(alice.body).isAdmin, true);
  });
});

describe('admin users', () => {
  it('write actions need a listed user in the ACL header; reads do not', async () => {
    const p = c.admin.httpPort;
    const body = JSON.stringify({ topic: 'acl_t' });
    const refused: Array<Record<string, string>> = [{}, { 'X-Auth-User': 'mallory' }, { 'X-Forwarded-User': 'alice' }];
    for (const headers of refused) {
      const r = await call(p, 'POST', '/admin/api/topics', body, headers);
      assert.deepEqual([r.status, r.json()], [403, { message: 'FORBIDDEN' }], JSON.stringify(headers));
    }
    for (const [m, route] of [['POST', '/admin/api/topics/x'], ['POST', '/admin/api/topics/x/y'], ['DELETE', '/admin/api/topics/x'], ['DELETE', '/admin/api/topics/x/y'], ['DELETE', '/admin/api/nodes/n:1']] as const) {
      assert.equal((await call(p, m, route, '{"action":"pause","topic":"x"}')).status, 403, `${m} ${route}`);
    }
    const lookupdTopics = async () => ((await (await fetch(`http://127.0.0.1:${c.lookupd.httpPort}/topics`)).json()) as { topics: string[] }).topics;
    assert.ok(!(await lookupdTopics()).includes('acl_t'));
    const ok = await call(p, 'POST', '/admin/api/topics', body, { 'X-Auth-User': 'bob' });
    assert.equal(ok.status, 200, ok.body);
    assert.ok((await lookupdTopics()).includes('acl_t'));
    assert.equal((await call(p, 'GET', '/admin/api/nodes')).status, 200);
  });
});

describe('notifications', () => {
  it('create topic + channel posts create_topic then create_channel with who, where and via', async () => {
    notes.length = 0;
    const p = c.admin.httpPort;
    await postOk(c.nsqd(0).httpPort, '/pub?topic=note_t', 'x');
    const auth = 'Basic ' + Buffer.from('carol:secret').toString('base64');
    const r = await call(p, 'POST', '/admin/api/topics?src=test', JSON.stringify({ topic: 'note_t', channel: 'nc' }), { 'X-Auth-User': 'alice', Authorization: auth, 'User-Agent': 'test-agent' });
    assert.equal(r.status, 200, r.body);
    // Only this topic's: a notification of an earlier test may still arrive.
    const mine = () => notes.filter((n) => n.body.topic === 'note_t');
    await eventually(() => assert.equal(mine().length, 2));
    const [a, b] = mine().map((n) => n.body);
    assert.equal(mine()[0]!.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(a), ['action', 'topic', 'timestamp', 'user', 'remote_ip', 'user_agent', 'url', 'via']);
    assert.equal(a.action, 'create_topic');
    assert.equal(a.topic, 'note_t');
    assert.equal(a.user, 'carol');
    assert.equal(a.user_agent, 'test-agent');
    assert.match(a.remote_ip, /^127\.0\.0\.1:\d+$/);
    assert.equal(a.url, `http://127.0.0.1:${p}/admin/api/topics?src=test`);
    assert.equal(a.via, os.hostname());
    assert.ok(Math.abs(a.timestamp - Date.now() / 1000) < 600);
    assert.equal(b.action, 'create_channel');
    assert.equal(b.channel, 'nc');
  });

  it('each action sends its notification; tombstone carries the node; no Basic auth → no user', async () => {
    notes.length = 0;
    const p = c.admin.httpPort;
    const h = { 'X-Auth-User': 'alice' };
    const node = `127.0.0.1:${c.nsqd(0).httpPort}`;
    await postOk(c.nsqd(0).httpPort, '/pub?topic=note_u', 'x');
    await eventually(async () => assert.equal((await call(p, 'GET', '/admin/api/topics/note_u')).status, 200));
    const steps: Array<[string, string, unknown]> = [
      ['POST', '/admin/api/topics/note_u', { action: 'pause' }],
      ['POST', '/admin/api/topics/note_u', { action: 'unpause' }],
      ['POST', '/admin/api/topics/note_u', { action: 'empty' }],
      ['POST', '/admin/api/topics', { topic: 'note_u', channel: 'c' }],
      ['POST', '/admin/api/topics/note_u/c', { action: 'pause' }],
      ['POST', '/admin/api/topics/note_u/c', { action: 'unpause' }],
      ['POST', '/admin/api/topics/note_u/c', { action: 'empty' }],
      ['DELETE', '/admin/api/topics/note_u/c', undefined],
      ['DELETE', `/admin/api/nodes/${node}`, { topic: 'note_u' }],
      ['DELETE', '/admin/api/topics/note_u', undefined],
    ];
    for (const [m, route, body] of steps) {
      const r = await call(p, m, route, body === undefined ? undefined : JSON.stringify(body), h);
      assert.equal(r.status, 200, `${m} ${route} ${r.body}`);
    }
    const expected = ['pause_topic', 'unpause_topic', 'empty_topic', 'create_topic', 'create_channel', 'pause_channel', 'unpause_channel', 'empty_channel', 'delete_channel', 'tombstone_topic_producer', 'delete_topic'];
    const mine = () => notes.filter((n) => n.body.topic === 'note_u');
    await eventually(() => assert.equal(mine().length, expected.length));
    assert.deepEqual(mine().map((n) => n.body.action).sort(), [...expected].sort());
    const tomb = mine().find((n) => n.body.action === 'tombstone_topic_producer')!.body;
    assert.equal(tomb.node, node);
    assert.equal(tomb.user, undefined);
    assert.equal(mine().find((n) => n.body.action === 'pause_channel')!.body.channel, 'c');
  });
});

describe('config access', () => {
  it('/config is refused outside --allow-config-from-cidr', async () => {
    const a = await startAdmin([`--lookupd-http-address=127.0.0.1:${c.lookupd.httpPort}`, '--allow-config-from-cidr=10.0.0.0/8', '--chart-sample-interval=0']);
    try {
      const r = await call(a.httpPort, 'GET', '/config/log_level');
      assert.deepEqual([r.status, r.json()], [403, { message: 'FORBIDDEN' }]);
      // Without a built UI bundle the pages say how to build it.
      const page = await call(a.httpPort, 'GET', '/');
      assert.equal(page.status, 200);
    } finally {
      await a.stop();
    }
  });
});
