import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { startNsqd, tempDir } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * Durable publishing (--mem-queue-size=0 --sync-every=1, group commit): under concurrent load,
 * nsqd is killed with SIGKILL; after a restart every message that was answered OK is delivered.
 * Also: a channel whose disk queue cannot be written does not fail the publishes its topic
 * accepted (the original only logs it), so a retrying publisher creates no duplicates.
 */
const DURABLE = ['--mem-queue-size=0', '--sync-every=1'];

async function httpPost(port: number, pathAndQuery: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${pathAndQuery}`, { method: 'POST' });
  await res.arrayBuffer();
  return res.status;
}

test('every acknowledged message survives kill -9 with --sync-every=1', async (t) => {
  const dataPath = tempDir('tsnsq-durable-', t);
  const d = await startNsqd(DURABLE, dataPath);
  t.after(() => d.kill());
  assert.equal(await httpPost(d.httpPort, '/topic/create?topic=durable'), 200);
  assert.equal(await httpPost(d.httpPort, '/channel/create?topic=durable&channel=c'), 200);

  const acked = new Set<string>();
  let stop = false;
  const publishers = Array.from({ length: 16 }, async (_, p) => {
    const c = await RawClient.connect(d.tcpPort);
    try {
      for (let n = 0; !stop; n++) {
        const body = `p${p}-${n}`;
        c.send('PUB durable', body);
        await c.expectResponse('OK', 10_000);
        acked.add(body);
      }
    } catch {
      // The kill cuts the connection: that message was never acknowledged.
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  await d.kill();
  stop = true;
  await Promise.all(publishers);
  assert.ok(acked.size > 50, `only ${acked.size} acknowledged publishes`);

  const d2 = await startNsqd(DURABLE, dataPath);
  t.after(() => d2.kill());
  const sub = await RawClient.connect(d2.tcpPort);
  sub.send('SUB durable c');
  await sub.expectResponse('OK');
  sub.send('RDY 2500');
  const seen = new Set<string>();
  let missing = acked.size;
  while (missing > 0) {
    const m = await sub.readMessage(10_000);
    const body = m.body.toString();
    sub.send(`FIN ${m.id}`);
    if (acked.has(body) && !seen.has(body)) missing--;
    seen.add(body);
  }
  sub.destroy();
  assert.equal(missing, 0);
});

test("a channel's disk-write failure is logged and does not fail the PUB", async (t) => {
  const dataPath = tempDir('tsnsq-chfail-', t);
  for (const args of [['--mem-queue-size=0'], DURABLE]) {
    const d = await startNsqd(args, dataPath);
    try {
      const topic = `chfail${args.length}`;
      assert.equal(await httpPost(d.httpPort, `/topic/create?topic=${topic}`), 200);
      assert.equal(await httpPost(d.httpPort, `/channel/create?topic=${topic}&channel=ok`), 200);
      assert.equal(await httpPost(d.httpPort, `/channel/create?topic=${topic}&channel=broken`), 200);
      // The broken channel's first segment is a directory: opening it for writing fails (EISDIR)
      // even as root, where permissions would not stop the write.
      fs.mkdirSync(path.join(dataPath, `${topic}:broken.diskqueue.000000.dat`));
      const c = await RawClient.connect(d.tcpPort);
      for (let i = 0; i < 3; i++) {
        c.send(`PUB ${topic}`, `m${i}`);
        await c.expectResponse('OK');
      }
      c.destroy();
      const sub = await RawClient.connect(d.tcpPort);
      sub.send(`SUB ${topic} ok`);
      await sub.expectResponse('OK');
      sub.send('RDY 10');
      for (let i = 0; i < 3; i++) assert.equal((await sub.readMessage()).body.toString(), `m${i}`);
      sub.destroy();
      assert.match(d.logs(), /ERROR: CHANNEL\(broken\): failed to write message to backend - .*EISDIR/);
    } finally {
      await d.kill();
    }
  }
});
