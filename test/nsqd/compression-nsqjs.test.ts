import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { testCerts, tlsFlags } from '../helpers/certs.js';
import { nsqjs, type NsqjsWriter } from '../helpers/nsqjs.js';
import type { ClientStatsJson, StatsJson } from '../../src/nsqd/stats.js';
import { getJson } from './http-helpers.js';

// Interop with a third-party client: nsqjs publishes and consumes through nsqd with snappy,
// deflate and TLS (its own snappystream/zlib/tls stacks, independent of ours).

const ca = fs.readFileSync(testCerts().caCert);
const COUNT = 2000;

/** Every connection /stats lists for `topic`: its consumers, then all producers. */
async function clientStats(port: number, topic: string): Promise<ClientStatsJson[]> {
  const s = await getJson<StatsJson>(port, `/stats?format=json&topic=${topic}`);
  return [...(s.topics ?? []).flatMap((t) => t.channels.flatMap((c) => c.clients ?? [])), ...(s.producers ?? [])];
}

/** Message i: a mix of tiny, large compressible and incompressible bodies, each tagged with i. */
function body(i: number): Buffer {
  const tag = Buffer.from(`${String(i).padStart(6, '0')}:`);
  if (i % 10 === 0) return Buffer.concat([tag, Buffer.alloc(20_000, 'nsqjs interop ')]);
  if (i % 10 === 1) return Buffer.concat([tag, randomBytes(3000)]);
  return Buffer.concat([tag, Buffer.from('m')]);
}

async function publishAll(w: NsqjsWriter, topic: string, bodies: Buffer[]): Promise<void> {
  const pub = (msgs: Buffer | Buffer[]) =>
    new Promise<void>((resolve, reject) => w.publish(topic, msgs, (err) => (err ? reject(err) : resolve())));
  // First half one PUB each (pipelined), second half in MPUB batches.
  const half = bodies.length / 2;
  const singles: Array<Promise<void>> = [];
  for (let i = 0; i < half; i++) singles.push(pub(bodies[i]!));
  await Promise.all(singles);
  for (let i = half; i < bodies.length; i += 50) await pub(bodies.slice(i, i + 50));
}

async function interop(d: Daemon, topic: string, opts: Record<string, unknown>): Promise<void> {
  const bodies = Array.from({ length: COUNT }, (_, i) => body(i));
  const w = new nsqjs.Writer('127.0.0.1', d.tcpPort, opts);
  const writerErrors: Error[] = [];
  w.on('error', (e) => writerErrors.push(e));
  const ready = new Promise<void>((resolve) => w.on('ready', resolve));
  w.connect();
  await ready;

  const r = new nsqjs.Reader(topic, 'ch', { nsqdTCPAddresses: [`127.0.0.1:${d.tcpPort}`], maxInFlight: 200, ...opts });
  const readerErrors: unknown[] = [];
  r.on('error', (e) => readerErrors.push(e));
  const seen = new Map<number, Buffer>();
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${COUNT} consumed`)), 20_000);
    r.on('message', (m) => {
      const i = Number(m.body.subarray(0, 6).toString());
      seen.set(i, Buffer.from(m.body));
      m.finish();
      if (seen.size === COUNT) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const connected = new Promise<void>((resolve) => r.on('nsqd_connected', () => resolve()));
  r.connect();
  await connected;

  try {
    await publishAll(w, topic, bodies);
    await done;
    for (let i = 0; i < COUNT; i++) assert.ok(seen.get(i)?.equals(bodies[i]!), `message ${i} intact`);
    const clients = await clientStats(d.httpPort, topic);
    assert.ok(clients.length >= 2);
    for (const c of clients) {
      assert.equal(c.snappy, opts.snappy === true, 'snappy in /stats');
      assert.equal(c.deflate, opts.deflate === true, 'deflate in /stats');
      assert.equal(c.tls, opts.tls === true, 'tls in /stats');
    }
    assert.deepEqual(writerErrors, []);
    assert.deepEqual(readerErrors, []);
  } finally {
    const closed = new Promise<void>((resolve) => w.on('closed', resolve));
    w.close();
    r.close();
    await closed;
  }
}

describe('nsqjs interop', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd(tlsFlags());
  });
  after(() => d.stop());

  test('snappy', () => interop(d, 'js_snappy', { snappy: true }));
  test('deflate', () => interop(d, 'js_deflate', { deflate: true, deflateLevel: 6 }));
  test('TLS verified against the CA, then snappy', () => interop(d, 'js_tls_snappy', { tls: true, ca, snappy: true }));
  test('TLS without verification, then deflate', () => interop(d, 'js_tls_deflate', { tls: true, tlsVerification: false, deflate: true, deflateLevel: 1 }));
});
