import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { test } from 'node:test';
import { startNsqd } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually } from '../helpers/wait.js';

/**
 * Running out of file descriptors: accept failures are logged once per interval (not once per
 * refused connection), the daemon stays up, and new clients get in once descriptors are free.
 * The nsqd child's limit is lowered with prlimit(1) after start-up.
 */
function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Connects and waits until the server either keeps the connection (true) or drops it (false). */
function probeConnection(port: number): Promise<{ sock: net.Socket; kept: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let done = false;
    const finish = (kept: boolean) => {
      if (done) return;
      done = true;
      resolve({ sock, kept });
    };
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    // A kept connection answers the magic + NOP-free IDENTIFY-less PUB with OK.
    sock.on('connect', () => sock.write('  V2PUB fdlimit\n\x00\x00\x00\x01x'));
    sock.on('data', () => finish(true));
    setTimeout(() => finish(false), 3000);
  });
}

test('accept failures at the descriptor limit are logged once per interval and the daemon recovers', async (t) => {
  const d = await startNsqd();
  t.after(() => d.kill());
  const pid = d.proc.pid!;
  const limit = openFds(pid) + 20;
  execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${limit}:${limit}`]);

  const held: net.Socket[] = [];
  let refused = 0;
  const started = Date.now();
  // Fill the table, then keep knocking for a few seconds so the failures span several intervals.
  while (Date.now() - started < 4000 || refused === 0) {
    if (Date.now() - started > 20_000) break;
    const { sock, kept } = await probeConnection(d.tcpPort);
    if (kept) held.push(sock);
    else {
      refused++;
      sock.destroy();
    }
    assert.ok(held.length < 100, 'the limit did not take effect');
  }
  assert.ok(refused > 0, 'no connection was refused');
  assert.equal(d.proc.exitCode, null, 'nsqd exited');

  for (const s of held) s.destroy();
  // Descriptors are freed as the server sees the closes; then a new client is served normally.
  const c = await eventually(async () => {
    const { sock, kept } = await probeConnection(d.tcpPort);
    sock.destroy();
    return kept;
  }, 10_000, 'a new client to be served');
  assert.equal(c, true);
  const client = await RawClient.connect(d.tcpPort);
  client.send('PUB fdlimit', 'after');
  await client.expectResponse('OK');
  client.destroy();

  const lines = d.logs().split('\n').filter((l) => l.includes('Accept() failure'));
  assert.ok(lines.length >= 1, 'the failure was not logged');
  const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
  assert.ok(lines.length <= seconds, `${lines.length} log lines in ~${seconds} s`);
  assert.match(lines[0]!, /WARNING: TCP: temporary Accept\(\) failure - .*(EMFILE|too many open files)/i);
});
