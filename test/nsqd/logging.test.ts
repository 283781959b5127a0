import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNsqd, tempDir, type Daemon, startApp } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, post } from './http-helpers.js';
import { connectUnix, unixPingOk, unixRequest } from '../helpers/unix-socket.js';
import { eventually } from '../helpers/wait.js';
import { inOrder, logTexts } from '../helpers/log-lines.js';

/**
 * nsqd's log lines as the original prints them (upstream `internal/lg`, `nsqd/nsqd.go` Exit): format
 * `<prefix><date> <time.micro> <LEVEL>: <text>`, connection lifecycle lines, HTTP request lines
 * (not for /pub and /mpub), topic/channel lifecycle, the shutdown sequence, and the
 * `--log-prefix` / `--log-level` flags.
 */
describe('nsqd log lines', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd();
  });
  after(async () => {
    await d?.stop();
  });

  const lines = () => logTexts(d.logs());
  const waitFor = (re: RegExp) =>
    eventually(async () => lines().some((l) => re.test(l)), 3000, `log line ${re}`);

  it('use the NSQ format with the default [nsqd] prefix', () => {
    const all = d.logs().split('\n').filter((l) => l !== '');
    for (const l of all) assert.match(l, /^\[nsqd\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} (DEBUG|INFO|WARNING|ERROR|FATAL): /);
  });

  it('follow a V2 connection: new client, magic, exiting ioloop and messagePump', async () => {
    const c = await RawClient.connect(d.tcpPort);
    const addr = `127.0.0.1:${c.sock.localPort}`;
    c.send('SUB log_t log_c');
    await c.expectResponse('OK');
    c.destroy();
    await waitFor(/exiting messagePump/);
    const err = inOrder(lines(), [
      `INFO: TCP: new client(${addr})`,
      `INFO: CLIENT(${addr}): desired protocol magic '  V2'`,
      'INFO: TOPIC(log_t): created',
      'INFO: TOPIC(log_t): new channel(log_c)',
      `INFO: PROTOCOL(V2): [${addr}] exiting ioloop`,
      `INFO: PROTOCOL(V2): [${addr}] exiting messagePump`,
    ]);
    assert.equal(err, null, err ?? '');
  });

  it('log a fatal error twice (command, then connection exit), a bad magic once', async () => {
    const c = await RawClient.connect(d.tcpPort);
    const addr = `127.0.0.1:${c.sock.localPort}`;
    c.send('BOGUS');
    await c.expectFatal('E_INVALID invalid command BOGUS');
    await waitFor(new RegExp(`client\\(${addr}\\) - `));
    const err = inOrder(lines(), [
      `ERROR: [${addr}] - E_INVALID invalid command BOGUS`,
      `INFO: PROTOCOL(V2): [${addr}] exiting ioloop`,
      `ERROR: client(${addr}) - E_INVALID invalid command BOGUS`,
    ]);
    assert.equal(err, null, err ?? '');

    const bad = await RawClient.connect(d.tcpPort, 'XXXX');
    const badAddr = `127.0.0.1:${bad.sock.localPort}`;
    await bad.expectFatal('E_BAD_PROTOCOL');
    await waitFor(/bad protocol magic/);
    const mine = lines().filter((l) => l.includes(badAddr));
    assert.deepEqual(mine, [
      `INFO: TCP: new client(${badAddr})`,
      `INFO: CLIENT(${badAddr}): desired protocol magic 'XXXX'`,
      `ERROR: client(${badAddr}) bad protocol magic 'XXXX'`,
    ]);
  });

  it('log HTTP requests as `<status> <METHOD> <uri> (<remote>) <elapsed>`, except /pub and /mpub', async () => {
    await get(d.httpPort, '/info?probe=1');
    await get(d.httpPort, '/no/such/path');
    await post(d.httpPort, '/pub?topic=log_pub', 'x');
    await post(d.httpPort, '/mpub?topic=log_pub', 'x\ny');
    await post(d.httpPort, '/topic/create?topic=log_http');
    await waitFor(/POST \/topic\/create\?topic=log_http/);
    const http = lines().filter((l) => / (GET|POST) \//.test(l));
    const dur = String.raw`\d+(\.\d+)?(ns|µs|ms|s)`;
    assert.ok(http.some((l) => new RegExp(`^INFO: 200 GET /info\\?probe=1 \\(127\\.0\\.0\\.1:\\d+\\) ${dur}$`).test(l)), http.join('\n'));
    assert.ok(http.some((l) => new RegExp(`^INFO: 404 GET /no/such/path \\(127\\.0\\.0\\.1:\\d+\\) ${dur}$`).test(l)), http.join('\n'));
    assert.ok(http.some((l) => l.startsWith('INFO: 200 POST /topic/create?topic=log_http (127.0.0.1:')), http.join('\n'));
    assert.equal(http.some((l) => / POST \/m?pub/.test(l)), false, 'no /pub or /mpub lines');
  });

  it('log channel and topic deletion', async () => {
    await post(d.httpPort, '/topic/create?topic=log_del');
    await post(d.httpPort, '/channel/create?topic=log_del&channel=gone');
    await post(d.httpPort, '/channel/delete?topic=log_del&channel=gone');
    await post(d.httpPort, '/topic/delete?topic=log_del');
    await waitFor(/TOPIC\(log_del\): deleting$/);
    const err = inOrder(lines(), [
      'INFO: TOPIC(log_del): new channel(gone)',
      'INFO: TOPIC(log_del): deleting channel gone',
      'INFO: CHANNEL(gone): deleting',
      'INFO: TOPIC(log_del): deleting',
    ]);
    assert.equal(err, null, err ?? '');
  });

  it('log the shutdown sequence in the original\'s order, flushing what is queued', async () => {
    const dataPath = tempDir('tsnsq-audit-logs-');
    const s = await startNsqd([], dataPath);
    try {
      await post(s.httpPort, '/topic/create?topic=bye_t');
      await post(s.httpPort, '/channel/create?topic=bye_t&channel=bye_c');
      await post(s.httpPort, '/pub?topic=bye_t', 'kept');
      assert.equal(await s.stop(), 0);
      const err = inOrder(logTexts(s.logs()), [
        `INFO: TCP: closing 127.0.0.1:${s.tcpPort}`,
        `INFO: HTTP: closing 127.0.0.1:${s.httpPort}`,
        `INFO: NSQ: persisting topic/channel metadata to ${path.join(dataPath, 'nsqd.dat')}`,
        'INFO: NSQ: closing topics',
        'INFO: TOPIC(bye_t): closing',
        'INFO: CHANNEL(bye_c): closing',
        'INFO: CHANNEL(bye_c): flushing 1 memory 0 in-flight 0 deferred messages to backend',
        'INFO: NSQ: stopping subsystems',
        'INFO: QUEUESCAN: closing',
        'INFO: LOOKUP: closing',
        'INFO: NSQ: bye',
      ]);
      assert.equal(err, null, `${err}\n${s.logs()}`);
    } finally {
      await s.stop();
      fs.rmSync(dataPath, { recursive: true, force: true });
    }
  });
});

describe('--log-prefix and --log-level', () => {
  it('prefix every line; WARN (any case) hides INFO; a fatal client error still shows', async () => {
    const dir = tempDir('tsnsq-audit-loglevel-');
    const tcpSock = path.join(dir, 'tcp.sock');
    const httpSock = path.join(dir, 'http.sock');
    // Nothing at INFO means no "listening on" line: wait on the (Unix) HTTP socket instead.
    const n = await startApp(
      'nsqd',
      [`--tcp-address=${tcpSock}`, `--http-address=${httpSock}`, `--data-path=${dir}`, '--log-prefix=[audit] ', '--log-level=WARN'],
      { ready: () => unixPingOk(httpSock) });
    try {
      const c = await connectUnix(tcpSock);
      c.send('BOGUS');
      await c.expectFatal('E_INVALID invalid command BOGUS');
      await eventually(async () => n.logs().includes('E_INVALID invalid command BOGUS'), 3000);
      assert.equal((await unixRequest(httpSock, 'GET', '/config/log_level')).body, '3');
      assert.equal(await n.stop(), 0);
      const all = n.logs().split('\n').filter((l) => l !== '');
      assert.ok(all.length > 0);
      for (const l of all) assert.match(l, /^\[audit\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} (WARNING|ERROR|FATAL): /);
      assert.ok(logTexts(n.logs(), '[audit] ').includes('ERROR: [@] - E_INVALID invalid command BOGUS'), n.logs());
    } finally {
      await n.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
