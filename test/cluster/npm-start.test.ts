/**
 * `npm start` (src/apps/cluster.ts): nsqd, nsqlookupd and nsqadmin in one process on the fixed
 * ports 4150/4151/4160/4161/4171. Skipped when any of them is taken.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/daemons.js';
import { getJson, lookupPorts, postOk } from './helpers.js';
import { eventually } from '../helpers/wait.js';

const CLUSTER_APP = fileURLToPath(new URL('../../src/apps/cluster.js', import.meta.url));
const FIXED_PORTS = [4150, 4151, 4160, 4161, 4171];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

it('npm start runs a local cluster on the default ports and stops cleanly on SIGINT', async (t) => {
  const free = await Promise.all(FIXED_PORTS.map(portFree));
  if (!free.every(Boolean)) {
    t.skip(`ports ${FIXED_PORTS.filter((_, i) => !free[i]).join(', ')} are in use`);
    return;
  }
  const cwd = tempDir('tsnsq-npm-start-');
  const env = { ...process.env };
  delete env.NSQ_DATA;
  delete env.NSQ_HOST;
  const child = spawn(process.execPath, [CLUSTER_APP], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await eventually(() => {
      assert.equal(child.exitCode, null, `exited early: ${stderr}`);
      assert.match(stdout, /\n.*\n.*\n/);
    }, 10000);
    const [nsqdLine, lookupdLine, adminLine] = stdout.split('\n');
    const dataDir = path.join(fs.realpathSync(cwd), 'nsqdata', 'nsqd');
    assert.equal(nsqdLine, `nsqd        tcp://127.0.0.1:4150  http://127.0.0.1:4151  (data: ${dataDir})`);
    assert.equal(lookupdLine, 'nsqlookupd  tcp://127.0.0.1:4160  http://127.0.0.1:4161');
    assert.equal(adminLine, 'nsqadmin    http://127.0.0.1:4171/');

    await postOk(4151, '/pub?topic=npm_start', 'hello');
    await eventually(async () => assert.deepEqual(await lookupPorts(4161, 'npm_start'), [4150]));
    const nodes = (await getJson(4161, '/nodes')).producers as Array<{ tcp_port: number; http_port: number }>;
    assert.deepEqual(nodes.map((n) => [n.tcp_port, n.http_port]), [[4150, 4151]]);
    // nsqadmin sees the same cluster through the lookupd.
    const admin = await getJson(4171, '/api/topics');
    assert.deepEqual(admin, { topics: ['npm_start'], message: '' });
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, stderr);
  assert.equal(stderr, '', 'quiet unless something goes wrong');
  const dataDir = path.join(cwd, 'nsqdata', 'nsqd');
  const md = JSON.parse(fs.readFileSync(path.join(dataDir, 'nsqd.dat'), 'utf8'));
  assert.deepEqual(md.topics.map((x: { name: string }) => x.name), ['npm_start']);
  // The unconsumed message was flushed to the topic's disk queue on exit.
  assert.ok(fs.readdirSync(dataDir).some((f) => f.startsWith('npm_start.diskqueue.')));
  fs.rmSync(cwd, { recursive: true, force: true });
});
