/**
 * nsqadmin when parts of the cluster are down (reported in `message`, never fatal), in nsqd mode
 * (--nsqd-http-address), the live-chart timeseries while messages flow, and startup refusals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import https from 'node:https';
import * as net from 'node:net';
import { testCerts, tlsFlags } from '../helpers/certs.js';
import { startApp, startNsqd, startNsqlookupd } from '../helpers/daemons.js';
import { call, eventually, getJson, nodeOf, postOk, sleep, startAdmin, startCluster } from './helpers.js';

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('partial failures', () => {
  it('a registered nsqd that stopped answering is reported in message; the live one still answers', async () => {
    const c = await startCluster(2, ['--http-client-request-timeout=1s', '--chart-sample-interval=0']);
    const hung = c.nsqd(1);
    try {
      for (const d of c.nsqds) await postOk(d.httpPort, '/pub?topic=half', 'x');
      await eventually(async () => assert.equal((await getJson(c.lookupd.httpPort, '/lookup?topic=half')).producers.length, 2));
      // A frozen process keeps its lookupd registration and accepts connections, but never answers.
      hung.proc.kill('SIGSTOP');
      const r = await getJson(c.admin.httpPort, '/api/topics/half');
      assert.match(r.message, /^WARNING: Get "http:\/\/127\.0\.0\.1:\d+\/stats\?format=json&topic=half&include_clients=false": context deadline exceeded/);
      assert.ok(r.message.includes(nodeOf(hung)));
      assert.deepEqual(r.nodes.map((n: { node: string }) => n.node), [nodeOf(c.nsqd(0))]);
      assert.equal(r.message_count, 1);
      const counter = await getJson(c.admin.httpPort, '/api/counter');
      assert.match(counter.message, /^WARNING: .*deadline exceeded/);
      const nodes = await getJson(c.admin.httpPort, '/api/nodes');
      assert.equal(nodes.message, '');
      assert.equal(nodes.nodes.length, 2, 'lookupd still lists the hung node');
      const detail = await call(c.admin.httpPort, 'GET', `/api/nodes/${nodeOf(hung)}`);
      assert.equal(detail.status, 502);
      assert.match(detail.json().message, /^UPSTREAM_ERROR: failed to query any nsqd: .*deadline exceeded/);
      // Actions on the topic reach the live node and report the other.
      const pause = await call(c.admin.httpPort, 'POST', '/api/topics/half', '{"action":"pause"}');
      assert.equal(pause.status, 200);
      assert.match(pause.json().message, /^WARNING: Post ".*\/topic\/pause\?topic=half": context deadline exceeded/);
      assert.equal((await getJson(c.nsqd(0).httpPort, '/stats?format=json&topic=half')).topics[0].paused, true);
    } finally {
      hung.proc.kill('SIGCONT');
      await c.stop();
    }
  });

  it('a lookupd that is down is a warning while another answers, and 502 when none does', async () => {
    const lookupd = await startNsqlookupd();
    const nsqd = await startNsqd([`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`]);
    const dead = await deadPort();
    const admin = await startAdmin([`--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`, `--lookupd-http-address=127.0.0.1:${dead}`, '--chart-sample-interval=0']);
    try {
      await postOk(nsqd.httpPort, '/pub?topic=lk', 'x');
      await eventually(async () => assert.deepEqual((await getJson(admin.httpPort, '/api/topics')).topics, ['lk']));
      const r = await getJson(admin.httpPort, '/api/topics');
      assert.equal(r.message, `WARNING: Get "http://127.0.0.1:${dead}/topics": dial tcp 127.0.0.1:${dead}: connect: connection refused`);
      const nodes = await getJson(admin.httpPort, '/api/nodes');
      assert.equal(nodes.nodes.length, 1);
      assert.match(nodes.message, /^WARNING: /);
      await lookupd.stop();
      const none = await call(admin.httpPort, 'GET', '/api/topics');
      assert.equal(none.status, 502);
      assert.match(none.json().message, /^UPSTREAM_ERROR: failed to query any nsqlookupd: .*connection refused\n.*connection refused$/s);
    } finally {
      await admin.stop();
      await nsqd.stop();
      await lookupd.stop();
      fs.rmSync(nsqd.dataPath, { recursive: true, force: true });
    }
  });
});

describe('nsqd mode', () => {
  it('reads topics, nodes and stats straight from the listed nsqd; a dead one is a warning', async () => {
    const a = await startNsqd();
    const b = await startNsqd();
    const dead = await deadPort();
    const admin = await startAdmin([`--nsqd-http-address=127.0.0.1:${a.httpPort}`, `--nsqd-http-address=127.0.0.1:${b.httpPort}`, `--nsqd-http-address=127.0.0.1:${dead}`, '--chart-sample-interval=0']);
    try {
      await postOk(a.httpPort, '/pub?topic=direct', 'x');
      await postOk(b.httpPort, '/pub?topic=direct', 'y');
      await postOk(b.httpPort, '/pub?topic=only_b', 'z');
      const topics = await getJson(admin.httpPort, '/api/topics');
      assert.deepEqual(topics.topics, ['direct', 'only_b']);
      assert.match(topics.message, /^WARNING: .*connection refused/);
      const nodes = await getJson(admin.httpPort, '/api/nodes');
      assert.deepEqual(nodes.nodes.map((n: { http_port: number }) => n.http_port).sort(), [a.httpPort, b.httpPort].sort());
      assert.equal(nodes.nodes[0].remote_addresses, null);
      const t = await getJson(admin.httpPort, '/api/topics/direct');
      assert.equal(t.message_count, 2);
      assert.equal(t.nodes.length, 2);
      const onlyB = await getJson(admin.httpPort, '/api/topics/only_b');
      assert.deepEqual(onlyB.nodes.map((n: { node: string }) => n.node), [nodeOf(b)]);
      assert.deepEqual((await getJson(admin.httpPort, '/api/topics?inactive=true')).topics, {});
      const pause = await call(admin.httpPort, 'POST', '/api/topics/direct', '{"action":"pause"}');
      assert.equal(pause.status, 200);
      assert.equal((await getJson(a.httpPort, '/stats?format=json&topic=direct')).topics[0].paused, true);
      assert.equal((await getJson(b.httpPort, '/stats?format=json&topic=direct')).topics[0].paused, true);
    } finally {
      await admin.stop();
      await a.stop();
      await b.stop();
      fs.rmSync(a.dataPath, { recursive: true, force: true });
      fs.rmSync(b.dataPath, { recursive: true, force: true });
    }
  });
});

describe('TLS upstreams', () => {
  /** One HTTPS request trusting the test CA; resolves to status and body. */
  function httpsCall(port: number, method: string, path: string, ca: string, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method, path, ca: fs.readFileSync(ca), agent: false }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('an nsqd that requires TLS is read and acted on over the HTTPS port its 403 names', async () => {
    const certs = testCerts();
    const nsqd = await startNsqd([...tlsFlags(certs), '--tls-required=true']);
    const admin = await startAdmin([`--nsqd-http-address=127.0.0.1:${nsqd.httpPort}`, `--http-client-tls-root-ca-file=${certs.caCert}`, '--chart-sample-interval=0']);
    try {
      assert.equal((await call(nsqd.httpPort, 'GET', '/stats?format=json')).status, 403, 'plain HTTP is refused');
      assert.equal((await httpsCall(nsqd.httpsPort, 'POST', '/pub?topic=secure', certs.caCert, 'x')).status, 200);
      const t = await getJson(admin.httpPort, '/api/topics/secure');
      assert.equal(t.message, '');
      assert.equal(t.message_count, 1);
      const pause = await call(admin.httpPort, 'POST', '/api/topics/secure', '{"action":"pause"}');
      assert.deepEqual([pause.status, pause.json()], [200, { message: '' }]);
      const stats = JSON.parse((await httpsCall(nsqd.httpsPort, 'GET', '/stats?format=json&topic=secure', certs.caCert)).body);
      assert.equal(stats.topics[0].paused, true);
    } finally {
      await admin.stop();
      await nsqd.stop();
      fs.rmSync(nsqd.dataPath, { recursive: true, force: true });
    }
  });
});

describe('live charts', () => {
  it('/api/x/timeseries gains points and a positive rate while messages are published', async () => {
    const c = await startCluster(2, ['--chart-sample-interval=200ms']);
    try {
      const ts = async (q: string) => getJson(c.admin.httpPort, `/api/x/timeseries${q}`);
      const first = await ts('?topic=live');
      assert.equal(first.interval_ms, 200);
      for (const d of c.nsqds) {
        await postOk(d.httpPort, '/topic/create?topic=live');
        await postOk(d.httpPort, '/channel/create?topic=live&channel=lc');
      }
      await eventually(async () => assert.equal((await getJson(c.lookupd.httpPort, '/lookup?topic=live')).producers.length, 2));
      let sent = 0;
      let sawRate = false;
      const deadline = Date.now() + 30000;
      while (!sawRate && Date.now() < deadline) {
        for (const d of c.nsqds) await postOk(d.httpPort, '/pub?topic=live', `m${sent++}`);
        await sleep(50);
        const pts = (await ts('?topic=live')).points;
        sawRate = pts.some((p: { rate: number }) => p.rate > 0);
      }
      assert.ok(sawRate, 'rate became positive');
      const topic = (await ts('?topic=live')).points;
      assert.ok(topic.length >= 2);
      const last = topic[topic.length - 1];
      assert.deepEqual(Object.keys(last), ['t', 'depth', 'channel_depth', 'in_flight', 'deferred', 'requeued', 'timed_out', 'message_count', 'rate']);
      assert.ok(last.message_count > 0 && last.message_count <= sent);
      assert.ok(topic.every((p: { t: number }, i: number) => i === 0 || p.t > topic[i - 1].t));
      const channel = (await ts('?topic=live&channel=lc')).points;
      assert.ok(channel.length >= 1);
      assert.ok(channel[channel.length - 1].depth > 0, 'unconsumed messages queue in the channel');
      // The topic hands every message to its channel, so its backlog shows in channel_depth.
      const lastTopic = (await ts('?topic=live')).points.at(-1);
      assert.ok(lastTopic.channel_depth > 0, 'the topic series carries its channels\' backlog');
      const all = (await ts('')).points;
      assert.ok(all[all.length - 1].message_count >= last.message_count);
      assert.deepEqual((await ts('?topic=nothing_here')).points, []);
    } finally {
      await c.stop();
    }
  });
});

describe('startup', () => {
  const refuses = async (args: string[], text: RegExp) => {
    const run = startApp('nsqadmin', args, { wait: ['HTTP'], timeoutMs: 5000 });
    await assert.rejects(run, (e: Error) => {
      assert.match(e.message, /exited early \(1\)/);
      assert.match(e.message, text);
      return true;
    });
  };
  it('needs exactly one of --nsqd-http-address / --lookupd-http-address', async () => {
    await refuses(['--http-address=127.0.0.1:0'], /\[nsqadmin\] .* FATAL: --nsqd-http-address or --lookupd-http-address required/);
    await refuses(['--http-address=127.0.0.1:0', '--nsqd-http-address=127.0.0.1:1', '--lookupd-http-address=127.0.0.1:2'], /FATAL: use --nsqd-http-address or --lookupd-http-address not both/);
    await refuses(['--http-address=127.0.0.1:0', '--lookupd-http-address=127.0.0.1:2', '--http-client-tls-cert=x'], /FATAL: --http-client-tls-key must be specified with --http-client-tls-cert/);
    await refuses(['--http-address=127.0.0.1:0', '--lookupd-http-address=127.0.0.1:2', '--allow-config-from-cidr=nope'], /FATAL: failed to parse --allow-config-from-cidr/);
    await refuses(['--http-address=127.0.0.1:0', '--lookupd-http-address=no.such.host.invalid:4161'], /FATAL: failed to resolve --lookupd-http-address \(no\.such\.host\.invalid:4161\)/);
  });
});
