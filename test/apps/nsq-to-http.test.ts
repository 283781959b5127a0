import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChannelStatsJson } from '../../src/nsqd/stats.js';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { eventually } from '../helpers/wait.js';
import { channelNow, httpPublish, killTools, runTool, spawnTool } from './helpers.js';
import { formatGetUrl, parseHeaders, queryEscape } from '../../src/apps/lib/http-publisher.js';
import { httpMode } from '../../src/apps/lib/destination-picker.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP endpoint recording what it receives; `status(req)` decides the answer, after `delayMs`. */
async function endpoint(status: (s: Seen, n: number) => number = () => 200, delayMs = 0) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const code = status(s, seen.length);
      setTimeout(() => {
        res.writeHead(code);
        res.end('ok');
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  servers.push(server);
  return { seen, url: `http://127.0.0.1:${port}` };
}

let nsqd: Daemon;
const servers: http.Server[] = [];
before(async () => {
  nsqd = await startNsqd();
});
afterEach(async () => {
  await killTools();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
after(async () => {
  await nsqd?.stop();
});

const FAST_RETRY = ['--consumer-opt=default_requeue_delay,50ms', '--consumer-opt=max_backoff_duration,0'];

async function drained(topic: string, n: number): Promise<ChannelStatsJson> {
  let c: ChannelStatsJson | undefined;
  await eventually(async () => {
    c = await channelNow(nsqd.httpPort, topic, 'nsq_to_http');
    return c !== undefined && c.message_count >= n && c.depth === 0 && c.in_flight_count === 0 && c.deferred_count === 0;
  }, 20000, `${topic} drained`);
  return c!;
}

test('pure parts: query escaping, GET url, headers, modes', () => {
  assert.equal(queryEscape(Buffer.from('a b&c=d/é~')), 'a+b%26c%3Dd%2F%C3%A9~');
  assert.equal(formatGetUrl('http://h/x?m=%s&p=100%%', Buffer.from('a b')), 'http://h/x?m=a+b&p=100%');
  assert.deepEqual(parseHeaders(['X-A: 1', 'X-B:two:three']), { 'X-A': '1', 'X-B': 'two:three' });
  assert.equal(parseHeaders(['novalue']), undefined);
  assert.equal(parseHeaders(['X: ']), undefined);
  assert.deepEqual(['round-robin', 'hostpool', 'epsilon-greedy', 'fan-out', ''].map(httpMode), ['round-robin', 'hostpool', 'hostpool', 'all', 'all']);
});

test('POST round-robin: alternates endpoints, with content type, user agent and custom headers', async () => {
  const a = await endpoint();
  const b = await endpoint();
  const bodies = Array.from({ length: 10 }, (_, i) => `post-${i}`);
  await httpPublish(nsqd.httpPort, 'th_rr', bodies);
  const tool = spawnTool('nsq_to_http', [
    '--topic=th_rr', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--post=${a.url}/in`, `--post=${b.url}/in`,
    '--mode=round-robin', '--content-type=text/plain', '--header=X-Test: yes', '--n=1',
  ]);
  await drained('th_rr', 10);
  assert.equal(a.seen.length, 5);
  assert.equal(b.seen.length, 5);
  const all = [...a.seen, ...b.seen];
  assert.deepEqual(all.map((s) => s.body).sort(), bodies.sort());
  for (const s of all) {
    assert.equal(s.method, 'POST');
    assert.equal(s.url, '/in');
    assert.equal(s.headers['content-type'], 'text/plain');
    assert.equal(s.headers['user-agent'], 'nsq_to_http v1.3.0');
    assert.equal(s.headers['x-test'], 'yes');
  }
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
});

test('GET with the body query-escaped into %s', async () => {
  const a = await endpoint();
  await httpPublish(nsqd.httpPort, 'th_get', ['hello world&more']);
  const tool = spawnTool('nsq_to_http', ['--topic=th_get', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--get=${a.url}/get?msg=%s`]);
  await drained('th_get', 1);
  const [req] = a.seen;
  assert.ok(a.seen.length === 1 && req !== undefined);
  assert.equal(req.method, 'GET');
  assert.equal(req.url, '/get?msg=hello+world%26more');
  assert.equal(new URL(req.url, a.url).searchParams.get('msg'), 'hello world&more');
  await tool.stop();
});

test('fan-out (any other --mode): every endpoint receives every message', async () => {
  const a = await endpoint();
  const b = await endpoint();
  const bodies = ['f1', 'f2', 'f3'];
  await httpPublish(nsqd.httpPort, 'th_fan', bodies);
  const tool = spawnTool('nsq_to_http', ['--topic=th_fan', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--post=${a.url}/`, `--post=${b.url}/`, '--mode=fan-out']);
  await drained('th_fan', 3);
  assert.deepEqual(a.seen.map((s) => s.body).sort(), bodies);
  assert.deepEqual(b.seen.map((s) => s.body).sort(), bodies);
  await tool.stop();
});

test('non-2xx answers requeue the message; it is delivered again until accepted', async () => {
  const failedOnce = new Set<string>();
  const a = await endpoint((s) => {
    if (failedOnce.has(s.body)) return 201;
    failedOnce.add(s.body);
    return 503;
  });
  const bodies = ['r1', 'r2', 'r3', 'r4'];
  await httpPublish(nsqd.httpPort, 'th_retry', bodies);
  const tool = spawnTool('nsq_to_http', ['--topic=th_retry', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--post=${a.url}/`, ...FAST_RETRY]);
  const c = await drained('th_retry', 4);
  assert.equal(c.requeue_count, 4);
  assert.equal(a.seen.length, 8);
  for (const b of bodies) assert.equal(a.seen.filter((s) => s.body === b).length, 2);
  await tool.stop();
});

test('status lines every --status-every requests', async () => {
  const a = await endpoint();
  await httpPublish(nsqd.httpPort, 'th_status', ['s1', 's2', 's3', 's4']);
  const tool = spawnTool('nsq_to_http', ['--topic=th_status', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--post=${a.url}/`, '--status-every=2']);
  await drained('th_status', 4);
  await eventually(() => (tool.stderr().match(/\[aggregate\]: finished 2 - 99th: [\d.]+ms - 95th: [\d.]+ms - avg: [\d.]+ms/g) ?? []).length === 2, 20000, 'two status lines');
  await tool.stop();
});

test('SIGTERM mid-delivery: nothing lost, nothing sent twice (delivered ones FINished, the rest back in nsqd)', async () => {
  const a = await endpoint(() => 200, 300);
  await httpPublish(nsqd.httpPort, 'th_term', ['t1', 't2', 't3', 't4', 't5']);
  const tool = spawnTool('nsq_to_http', ['--topic=th_term', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--post=${a.url}/`, '--n=1']);
  await eventually(() => a.seen.length >= 1, 20000, 'the first delivery');
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  const delivered = a.seen.length;
  await eventually(async () => (await channelNow(nsqd.httpPort, 'th_term', 'nsq_to_http'))?.in_flight_count === 0, 20000, 'nothing in flight');
  const c = await channelNow(nsqd.httpPort, 'th_term', 'nsq_to_http');
  assert.equal(new Set(a.seen.map((s) => s.body)).size, delivered, 'no body delivered twice');
  assert.equal(c!.depth + c!.deferred_count, 5 - delivered, 'undelivered messages are back in the channel');
});

test('original startup errors', async () => {
  const cases: Array<[string[], string]> = [
    [['--topic='], '--topic and --channel are required'],
    [['--topic=t', '--content-type=x/y', '--get=http://h/%s'], '--content-type only used with --post'],
    [['--topic=t', '--post=http://h/'], '--nsqd-tcp-address or --lookupd-http-address required'],
    [['--topic=t', '--nsqd-tcp-address=a:1'], '--get or --post required'],
    [['--topic=t', '--nsqd-tcp-address=a:1', '--get=http://h/%s', '--post=http://h/'], 'use --get or --post not both'],
    [['--topic=t', '--nsqd-tcp-address=a:1', '--get=http://h/'], 'invalid GET address - must be a printf string'],
    [['--topic=t', '--nsqd-tcp-address=a:1', '--post=http://h/', '--sample=2'], 'ERROR: --sample must be between 0.0 and 1.0'],
  ];
  for (const [args, msg] of cases) {
    const r = await runTool('nsq_to_http', args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d ${msg.replace(/[.]/g, '\\.')}\\n$`));
  }
});
