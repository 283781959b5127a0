import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiPath, normalizeBasePath, parseRoute, routePath, type Route } from '../../src/nsqadmin/ui/src/lib/route.js';

test('base paths normalize like nsqadmin --base-path', () => {
  assert.equal(normalizeBasePath(undefined), '');
  assert.equal(normalizeBasePath('/'), '');
  assert.equal(normalizeBasePath('admin/'), '/admin');
  assert.equal(normalizeBasePath('/a/b//'), '/a/b');
});

test('every page round-trips through its path, with and without a base path', () => {
  const routes: Route[] = [
    { page: 'topics' },
    { page: 'topic', topic: 'orders' },
    { page: 'channel', topic: 'orders', channel: 'archive#ephemeral' },
    { page: 'nodes' },
    { page: 'node', node: '127.0.0.1:4151' },
    { page: 'node', node: '[::1]:4151' },
    { page: 'counter' },
    { page: 'lookup' },
  ];
  for (const base of ['', '/admin']) {
    for (const r of routes) assert.deepEqual(parseRoute(routePath(r, base), base), r, `${base} ${JSON.stringify(r)}`);
  }
});

test('node names keep their colon and brackets in URLs; other characters are escaped', () => {
  assert.equal(routePath({ page: 'node', node: '[::1]:4151' }, ''), '/nodes/[::1]:4151');
  assert.equal(routePath({ page: 'channel', topic: 't', channel: 'c#ephemeral' }, '/x'), '/x/topics/t/c%23ephemeral');
});

test('the original paths parse: /topics alias, trailing slash, unknown pages', () => {
  assert.deepEqual(parseRoute('/topics', ''), { page: 'topics' });
  assert.deepEqual(parseRoute('/admin/', '/admin'), { page: 'topics' });
  assert.deepEqual(parseRoute('/admin', '/admin'), { page: 'topics' });
  assert.deepEqual(parseRoute('/nodes/', ''), { page: 'nodes' });
  assert.deepEqual(parseRoute('/nope', ''), { page: 'not-found', path: '/nope' });
  assert.deepEqual(parseRoute('/topics/a/b/c', ''), { page: 'not-found', path: '/topics/a/b/c' });
  assert.deepEqual(parseRoute('/topics/%E0%A4%A', ''), { page: 'not-found', path: '/topics/%E0%A4%A' });
});

test('API paths sit under the base path', () => {
  assert.equal(apiPath('/api/topics', '/'), '/api/topics');
  assert.equal(apiPath('/api/topics', '/admin'), '/admin/api/topics');
});
