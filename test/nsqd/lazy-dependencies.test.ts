// The snappy and CRC-32C native addons and re2js are loaded on first use (src/lib/lazy-module.ts):
// an nsqd whose clients never ask for snappy keeps ~16 MiB less resident. Seen from outside
// through the shared objects mapped into the process (Linux /proc/<pid>/maps).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { WireClient } from '../helpers/secure-wire.js';

const hasMaps = fs.existsSync('/proc/self/maps');

/** Native addons (`*.node`) mapped into process `pid`, by file name. */
function addons(pid: number): string[] {
  const names = new Set<string>();
  for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n')) {
    const m = /\/([^/]+\.node)$/.exec(line);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

describe('dependencies loaded when first needed', { skip: !hasMaps && 'needs /proc/<pid>/maps' }, () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd();
  });
  after(async () => {
    await d.stop();
  });

  test('a plain nsqd maps no native addon; a snappy client loads snappy and crc32', async () => {
    const pid = d.proc.pid!;
    const plain = await WireClient.connect(d.tcpPort);
    plain.identify({ feature_negotiation: true });
    assert.equal((await plain.nextFrame()).type, 0);
    plain.command('PUB lazy_deps', 'plain');
    assert.equal(await plain.next(), '0 OK');
    assert.deepEqual(addons(pid), [], 'nothing loaded at start nor for a plain client');
    plain.close();

    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true, snappy: true });
    const reply = JSON.parse((await c.nextFrame()).data.toString()) as { snappy: boolean };
    assert.equal(reply.snappy, true);
    c.startSnappy();
    assert.equal(await c.next(), '0 OK');
    c.command('PUB lazy_deps', Buffer.alloc(4096, 'compressible '));
    assert.equal(await c.next(), '0 OK');
    const loaded = addons(pid);
    assert.ok(loaded.some((n) => n.startsWith('snappy.')), `snappy mapped: ${loaded.join(', ')}`);
    assert.ok(loaded.some((n) => n.startsWith('crc32.')), `crc32 mapped: ${loaded.join(', ')}`);
    c.close();
  });
});
