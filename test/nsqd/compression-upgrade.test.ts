import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import { uncompressSync } from 'snappy';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { testCerts, tlsFlags } from '../helpers/certs.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';
import { getJson } from './http-helpers.js';
import { sleep } from '../helpers/wait.js';

// snappy and deflate upgrades (docs/protocol.md, Upgrades) against a
// real nsqd, alone and after TLS.

const ca = fs.readFileSync(testCerts().caCert);
const OK_FRAME = Buffer.from('000000060000000' + '04f4b', 'hex');
const STREAM_ID = Buffer.from('ff060000734e61507059', 'hex');

async function identify(port: number, body: Record<string, unknown>): Promise<{ c: WireClient; reply: Record<string, unknown> }> {
  const c = await WireClient.connect(port);
  c.identify({ feature_negotiation: true, ...body });
  const f = await c.nextFrame();
  assert.equal(f.type, 0, f.data.toString());
  return { c, reply: JSON.parse(f.data.toString()) as Record<string, unknown> };
}

/** Where the plaintext IDENTIFY response ends in the received bytes (the upgrade's output may share its chunk). */
async function plainFrameEnd(c: WireClient): Promise<number> {
  const all = Buffer.concat(c.wireBytes);
  return 4 + all.readInt32BE(0);
}

/** IDENTIFY + every upgrade granted, each OK read in the encoding it must arrive in. */
async function upgraded(port: number, want: { tls?: boolean; snappy?: boolean; deflate?: boolean; level?: number }, extra: Record<string, unknown> = {}) {
  const { c, reply } = await identify(port, { tls_v1: want.tls ?? false, snappy: want.snappy ?? false, deflate: want.deflate ?? false, deflate_level: want.level ?? 0, ...extra });
  if (reply.tls_v1) {
    await c.startTls({ ca, servername: 'localhost', rejectUnauthorized: true });
    assert.equal(await c.next(), '0 OK');
  }
  if (reply.snappy) {
    c.startSnappy();
    assert.equal(await c.next(), '0 OK');
  }
  if (reply.deflate) {
    c.startDeflate(reply.deflate_level as number);
    assert.equal(await c.next(), '0 OK');
  }
  return { c, reply, compressedBytes: () => Buffer.concat(c.wireBytes).subarray(c.compressedFrom) };
}

async function roundTrip(d: Daemon, topic: string, want: Parameters<typeof upgraded>[1]): Promise<void> {
  const { c: pub, compressedBytes } = await upgraded(d.tcpPort, want);
  const { c: sub } = await upgraded(d.tcpPort, want);
  sub.command(`SUB ${topic} ch`);
  assert.equal(await sub.next(), '0 OK');
  sub.command('RDY 100');
  const bodies = [Buffer.from('small'), Buffer.alloc(100_000, 'compressible '), randomBytes(70_000)];
  for (const b of bodies) pub.pub(topic, b);
  pub.mpub(topic, bodies);
  for (let i = 0; i < 4; i++) assert.equal(await pub.next(), '0 OK');
  for (let i = 0; i < 6; i++) {
    const f = await sub.nextFrame();
    assert.equal(f.type, FRAME_MESSAGE);
    const m = parseMessage(f.data);
    assert.ok(m.body.equals(bodies[i % 3]!), `message ${i} intact`);
    sub.command(`FIN ${m.id}`);
  }
  if (want.snappy || want.deflate) {
    // 340 KB of bodies, of which the 200 KB of repeated text must shrink to almost nothing.
    const wire = Buffer.concat(sub.wireBytes).length;
    assert.ok(wire < 250_000, `consumer side compressed (${wire} bytes on the wire)`);
    // The publisher's replies were encoded too (snappy stores tiny frames uncompressed, framed).
    if (want.snappy) assert.deepEqual(compressedBytes().subarray(0, 10), STREAM_ID);
    else assert.ok(!compressedBytes().includes(OK_FRAME), 'publisher OK frames were deflated');
  }
  const stats = await getJson(d.httpPort, `/stats?format=json&topic=${topic}`);
  const client = ((stats.topics as Array<{ channels: Array<{ clients: Array<Record<string, unknown>> }> }>)[0]!.channels[0]!.clients[0])!;
  assert.equal(client.snappy, want.snappy ?? false);
  assert.equal(client.deflate, want.deflate ?? false);
  assert.equal(client.tls, want.tls ?? false);
  pub.close();
  sub.close();
}

describe('compression upgrades', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd(tlsFlags());
  });
  after(() => d.stop());

  test('snappy alone: JSON in plaintext, then a snappy-framed OK, then PUB/SUB', async () => {
    const { c, reply } = await identify(d.tcpPort, { snappy: true });
    assert.equal(reply.snappy, true);
    assert.equal(reply.deflate, false);
    const plain = await plainFrameEnd(c);
    // The OK is the stream identifier then one uncompressed chunk; compare the exact bytes.
    for (let i = 0; i < 400 && Buffer.concat(c.wireBytes).length < plain + 10 + 8 + 10; i++) await sleep(5);
    const after = Buffer.concat(c.wireBytes).subarray(plain);
    const crc = maskedCrc(OK_FRAME);
    const chunk = Buffer.concat([Buffer.from([0x01, 14, 0, 0]), u32le(crc), OK_FRAME]);
    assert.deepEqual(after, Buffer.concat([STREAM_ID, chunk]));
    c.close();
    await roundTrip(d, 'snappy_only', { snappy: true });
  });

  test('deflate alone: a raw-DEFLATE OK ending in a sync flush, then PUB/SUB', async () => {
    const { c, reply } = await identify(d.tcpPort, { deflate: true, deflate_level: 1 });
    assert.equal(reply.deflate, true);
    assert.equal(reply.deflate_level, 1);
    const plain = await plainFrameEnd(c);
    let after = Buffer.alloc(0);
    for (let i = 0; i < 400; i++) {
      after = Buffer.concat(c.wireBytes).subarray(plain);
      if (after.length >= 4 && after.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))) break;
      await sleep(5);
    }
    assert.deepEqual(after.subarray(-4), Buffer.from([0, 0, 0xff, 0xff]), 'sync flush marker');
    assert.deepEqual(zlib.inflateRawSync(after, { finishFlush: zlib.constants.Z_SYNC_FLUSH }), OK_FRAME);
    c.close();
    await roundTrip(d, 'deflate_only', { deflate: true, level: 9 });
  });

  test('TLS then snappy: OK over TLS, then OK snappy-framed inside TLS', async () => {
    const { c } = await upgraded(d.tcpPort, { tls: true, snappy: true });
    // After the handshake the decrypted stream is: plain OK, then the snappy stream.
    const decrypted = Buffer.concat(c.wireBytes);
    assert.ok(decrypted.includes(Buffer.concat([OK_FRAME, STREAM_ID])));
    c.close();
    await roundTrip(d, 'tls_snappy', { tls: true, snappy: true });
  });

  test('TLS then deflate', async () => {
    await roundTrip(d, 'tls_deflate', { tls: true, deflate: true, level: 6 });
  });

  test('asking for both compressions fails the IDENTIFY', async () => {
    const c = await WireClient.connect(d.tcpPort);
    c.identify({ feature_negotiation: true, snappy: true, deflate: true });
    assert.equal(await c.next(), '1 E_IDENTIFY_FAILED cannot enable both deflate and snappy compression');
    await c.waitClosed();
  });

  test('deflate_level negotiation with the default --max-deflate-level (6)', async () => {
    const level = async (body: Record<string, unknown>) => {
      const { c, reply } = await identify(d.tcpPort, body);
      c.close();
      return [reply.deflate, reply.deflate_level, reply.max_deflate_level];
    };
    assert.deepEqual(await level({ deflate: true, deflate_level: 9 }), [true, 6, 6]);
    assert.deepEqual(await level({ deflate: true, deflate_level: 2 }), [true, 2, 6]);
    assert.deepEqual(await level({ deflate: true, deflate_level: -3 }), [true, 6, 6]);
    assert.deepEqual(await level({ deflate: false, deflate_level: 2 }), [false, 6, 6]);
  });

  test('a fatal error after deflate arrives compressed before the close', async () => {
    const { c } = await upgraded(d.tcpPort, { deflate: true });
    c.command('ASDF');
    assert.equal(await c.next(), '1 E_INVALID invalid command ASDF');
    await c.waitClosed();
    const s = await upgraded(d.tcpPort, { snappy: true });
    s.c.command('PUB bad*topic', 'x');
    assert.equal(await s.c.next(), '1 E_BAD_TOPIC PUB topic name "bad*topic" is not valid');
    await s.c.waitClosed();
  });

  test('a publisher may half-close right after its last deflated command', async () => {
    const { c } = await upgraded(d.tcpPort, { deflate: true });
    c.pub('halfclose', 'last words');
    await c.endAfterWrites();
    assert.equal(await c.next(), '0 OK');
    await c.waitClosed();
    const stats = await getJson(d.httpPort, '/stats?format=json&topic=halfclose');
    assert.equal((stats.topics as Array<{ message_count: number }>)[0]!.message_count, 1);
  });

  test('deflate consumer: back-pressure while it does not read, then every message in order', async () => {
    const topic = 'deflate_bp';
    const { c: sub } = await upgraded(d.tcpPort, { deflate: true, level: 1 });
    sub.command(`SUB ${topic} ch`);
    assert.equal(await sub.next(), '0 OK');
    // Stop reading: the kernel buffers fill, then nsqd must stop handing out messages.
    sub.socket.pause();
    const { c: pub } = await upgraded(d.tcpPort, { deflate: true, level: 1 });
    const count = 400;
    const size = 64 * 1024;
    const batch = 20;
    for (let i = 0; i < count; i += batch) {
      const bodies = [];
      for (let j = i; j < i + batch; j++) {
        const b = randomBytes(size);
        b.writeUInt32BE(j, 0);
        bodies.push(b);
      }
      pub.mpub(topic, bodies);
      assert.equal(await pub.next(), '0 OK');
    }
    // All 400 are queued; one RDY lets a single pump try to hand them all to the compressor.
    sub.command('RDY 2500');
    await sleep(300);
    const stats = await getJson(d.httpPort, `/stats?format=json&topic=${topic}`);
    const ch = (stats.topics as Array<{ channels: Array<{ in_flight_count: number; depth: number }> }>)[0]!.channels[0]!;
    assert.ok(ch.in_flight_count < count, `in flight ${ch.in_flight_count} stays below ${count} while the consumer is stalled`);
    assert.equal(ch.in_flight_count + ch.depth, count);
    sub.socket.resume();
    for (let i = 0; i < count; i++) {
      const f = await sub.nextFrame(10_000);
      assert.equal(f.type, FRAME_MESSAGE);
      const m = parseMessage(f.data);
      assert.equal(m.body.length, size);
      assert.equal(m.body.readUInt32BE(0), i, 'delivered in publish order');
      sub.command(`FIN ${m.id}`);
    }
    pub.close();
    sub.close();
  });

  test('snappy bytes pipelined behind IDENTIFY are decoded, not lost', async () => {
    const c = await WireClient.connect(d.tcpPort);
    const body = Buffer.from(JSON.stringify({ feature_negotiation: true, snappy: true }));
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    const pub = Buffer.concat([Buffer.from('PUB piped\n'), u32be(3), Buffer.from('abc')]);
    const encoded = Buffer.concat([STREAM_ID, Buffer.from([0x01, pub.length + 4, 0, 0]), u32le(maskedCrc(pub)), pub]);
    c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), size, body, encoded]));
    assert.equal((await c.nextFrame()).type, 0);
    c.startSnappy();
    assert.equal(await c.next(), '0 OK');
    assert.equal(await c.next(), '0 OK');
    c.close();
  });
});

describe('--snappy=false --deflate=false --max-deflate-level=4', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd(['--snappy=false', '--deflate=false', '--max-deflate-level=4']);
  });
  after(() => d.stop());

  test('neither compression is granted, and asking for both is then no error', async () => {
    const { c, reply } = await identify(d.tcpPort, { snappy: true, deflate: true, deflate_level: 9 });
    assert.equal(reply.snappy, false);
    assert.equal(reply.deflate, false);
    assert.equal(reply.deflate_level, 4);
    assert.equal(reply.max_deflate_level, 4);
    // Still plaintext.
    c.pub('t', 'x');
    assert.equal(await c.next(), '0 OK');
    c.close();
  });
});

test('--max-deflate-level bounds the negotiated level', async () => {
  const d = await startNsqd(['--max-deflate-level=4']);
  try {
    for (const [asked, got] of [[9, 4], [3, 3], [0, 4]] as const) {
      const { c, reply } = await upgraded(d.tcpPort, { deflate: true, level: asked });
      assert.equal(reply.deflate_level, got);
      c.pub('lvl', 'x');
      assert.equal(await c.next(), '0 OK');
      c.close();
    }
  } finally {
    await d.stop();
  }
});

// ---- a client that speaks snappy framing by hand -----------------------------------------------

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The framing format's checksum: CRC-32C, rotated right by 15, plus 0xa282ead8. */
function maskedCrc(data: Buffer): number {
  const c = crc32c(data) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Splits a snappy framed stream into chunks, checking every checksum; returns the payload. */
function decodeSnappyStream(stream: Buffer): { data: Buffer; types: number[] } {
  const out: Buffer[] = [];
  const types: number[] = [];
  let off = 0;
  while (off < stream.length) {
    assert.ok(stream.length - off >= 4, 'whole chunk header');
    const type = stream[off]!;
    const len = stream.readUIntLE(off + 1, 3);
    const body = stream.subarray(off + 4, off + 4 + len);
    assert.equal(body.length, len, 'whole chunk');
    off += 4 + len;
    types.push(type);
    if (type === 0xff) {
      assert.deepEqual(body, STREAM_ID.subarray(4));
      continue;
    }
    assert.ok(type === 0x00 || type === 0x01, `data chunk type ${type}`);
    const data = type === 0x00 ? (uncompressSync(body.subarray(4), { asBuffer: true }) as Buffer) : body.subarray(4);
    assert.ok(data.length <= 65536, 'at most 64 KiB per chunk');
    assert.equal(body.readUInt32LE(0), maskedCrc(data), 'chunk checksum');
    out.push(data);
  }
  return { data: Buffer.concat(out), types };
}

test('raw socket: snappy frames decoded by hand, checksums verified', async () => {
  const d = await startNsqd();
  const sock = net.connect(d.tcpPort, '127.0.0.1');
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let received = Buffer.alloc(0);
    sock.on('data', (b: Buffer) => (received = Buffer.concat([received, b])));
    const waitFor = async (n: number) => {
      for (let i = 0; i < 500 && received.length < n; i++) await sleep(5);
      assert.ok(received.length >= n, `received ${received.length} of ${n} bytes`);
    };
    const body = Buffer.from(JSON.stringify({ feature_negotiation: true, snappy: true }));
    sock.write(Buffer.concat([Buffer.from('  V2IDENTIFY\n'), u32be(body.length), body]));
    await waitFor(4);
    const jsonLen = 4 + received.readInt32BE(0);
    await waitFor(jsonLen + 28);
    assert.ok(received.subarray(8, jsonLen).toString().includes('"snappy":true'));
    received = received.subarray(jsonLen);

    // Our side of the stream: the identifier, then uncompressed chunks made by hand.
    let wroteId = false;
    const send = (data: Buffer) => {
      const chunk = Buffer.concat([Buffer.from([0x01]), Buffer.from([(data.length + 4) & 0xff, ((data.length + 4) >> 8) & 0xff, (data.length + 4) >> 16]), u32le(maskedCrc(data)), data]);
      sock.write(wroteId ? chunk : Buffer.concat([STREAM_ID, chunk]));
      wroteId = true;
    };
    const msg = Buffer.alloc(50_000, 'snappy snappy ');
    send(Buffer.concat([Buffer.from('PUB rawsnappy\n'), u32be(msg.length), msg]));
    send(Buffer.from('SUB rawsnappy ch\nRDY 1\n'));
    // OK (identify), OK (PUB), OK (SUB), then the message frame.
    const expected = 10 + 10 + 10 + 8 + 26 + msg.length;
    for (let i = 0; i < 500; i++) {
      try {
        if (decodeSnappyStream(received).data.length >= expected) break;
      } catch {
        /* partial chunk: wait */
      }
      await sleep(5);
    }
    const { data, types } = decodeSnappyStream(received);
    assert.equal(types[0], 0xff, 'stream starts with its identifier');
    assert.equal(types.filter((t) => t === 0xff).length, 1, 'identifier sent once');
    assert.ok(types.includes(0x00), 'the large message travelled in a compressed chunk');
    assert.deepEqual(data.subarray(0, 30), Buffer.concat([OK_FRAME, OK_FRAME, OK_FRAME]));
    const frame = data.subarray(30);
    assert.equal(frame.readInt32BE(0), 4 + 26 + msg.length);
    assert.equal(frame.readInt32BE(4), FRAME_MESSAGE);
    assert.deepEqual(parseMessage(frame.subarray(8)).body, msg);
  } finally {
    sock.destroy();
    await d.stop();
  }
});
