/**
 * Graphite integration against a real HTTP server standing in for graphite: the server-side
 * rate helper `/api/graphite` and the `--proxy-graphite` reverse proxy on `/render`.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Daemon } from '../helpers/daemons.js';
import { call, startAdmin } from './helpers.js';

const seen: Array<{ url: string; auth: string | undefined }> = [];
let graphite: http.Server;
let admin: Daemon;

before(async () => {
  graphite = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.searchParams.get('format') === 'json') {
      const value = u.searchParams.get('target') === 'negative' ? -1 : 120;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify([{ target: u.searchParams.get('target'), datapoints: [[value, 1700000000]] }]));
      return;
    }
    res.setHeader('Content-Type', 'image/png');
    res.end('PNGDATA');
  });
  await new Promise<void>((r) => graphite.listen(0, '127.0.0.1', r));
  const port = (graphite.address() as AddressInfo).port;
  admin = await startAdmin(['--nsqd-http-address=127.0.0.1:1', `--graphite-url=http://gu:gp@127.0.0.1:${port}`, '--proxy-graphite', '--statsd-interval=30s', '--chart-sample-interval=0']);
});
after(async () => {
  await admin?.stop();
  graphite?.closeAllConnections();
  await new Promise<void>((r) => (graphite ? graphite.close(() => r()) : r()));
});

it('/api/graphite turns the last datapoint into a per-second rate', async () => {
  seen.length = 0;
  const r = await call(admin.httpPort, 'GET', '/api/graphite?metric=rate&target=sumSeries(nsq.*.topic.t.message_count)');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { rate: '4.00' }); // 120 per 30 s interval
  const q = new URL(seen[0]!.url, 'http://x').searchParams;
  assert.equal(q.get('from'), '-60sec');
  assert.equal(q.get('until'), '-30sec');
  assert.equal(q.get('target'), 'sumSeries(nsq.*.topic.t.message_count)');
  assert.deepEqual((await call(admin.httpPort, 'GET', '/api/graphite?metric=rate&target=negative')).json(), { rate: 'N/A' });
  const badMetric = await call(admin.httpPort, 'GET', '/api/graphite?metric=depth&target=x');
  assert.deepEqual([badMetric.status, badMetric.json()], [400, { message: 'INVALID_ARG_METRIC' }]);
  const noTarget = await call(admin.httpPort, 'GET', '/api/graphite?metric=rate');
  assert.deepEqual([noTarget.status, noTarget.json()], [400, { message: 'INVALID_ARG_TARGET' }]);
});

it('--proxy-graphite forwards /render with the URL credentials; the page points graphs at nsqadmin', async () => {
  seen.length = 0;
  const r = await call(admin.httpPort, 'GET', '/render?target=a&from=-2h');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'PNGDATA');
  assert.equal(r.headers['content-type'], 'image/png');
  assert.equal(seen[0]!.url, '/render?target=a&from=-2h');
  assert.equal(seen[0]!.auth, 'Basic ' + Buffer.from('gu:gp').toString('base64'));
  const page = await call(admin.httpPort, 'GET', '/');
  assert.equal(page.status, 200);
});
