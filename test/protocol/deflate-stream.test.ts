import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DeflateStreamWriter, InflateStreamReader } from '../../src/protocol/deflate-stream.js';

const SYNC_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function flushWriter(w: DeflateStreamWriter): Promise<void> {
  return new Promise((resolve) => w.flush(resolve));
}

test('each flush ends with a sync-flush marker and is decodable on its own prefix', async () => {
  const out: Buffer[] = [];
  const w = new DeflateStreamWriter(6, (c) => out.push(c), (err) => assert.fail(err));
  w.write(Buffer.from('hello '));
  w.write(Buffer.from('world'));
  await flushWriter(w);
  const first = Buffer.concat(out);
  assert.deepEqual(first.subarray(-4), SYNC_MARKER);
  // zlib's one-shot inflater accepts a sync-flushed prefix when told not to expect the end.
  assert.equal(inflateRawSync(first, { finishFlush: constants.Z_SYNC_FLUSH }).toString(), 'hello world');

  w.write(Buffer.from(' again'));
  await flushWriter(w);
  const all = Buffer.concat(out);
  assert.deepEqual(all.subarray(-4), SYNC_MARKER);
  assert.equal(inflateRawSync(all, { finishFlush: constants.Z_SYNC_FLUSH }).toString(), 'hello world again');
  w.destroy();
});

test('inflate reader decodes zlib raw deflate fed in small pieces', async () => {
  const payload = Buffer.concat([Buffer.from('abc'.repeat(1000)), randomBytes(2000)]);
  const compressed = deflateRawSync(payload, { level: 9 });
  const got: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const r = new InflateStreamReader(
      (c) => {
        got.push(c);
        if (Buffer.concat(got).length === payload.length) {
          r.destroy();
          resolve();
        }
      },
      reject,
    );
    for (let i = 0; i < compressed.length; i += 13) r.push(compressed.subarray(i, i + 13));
  });
  await done;
  assert.deepEqual(Buffer.concat(got), payload);
});

test('writer → reader round trip across several flushes (output arrives per flush)', async () => {
  const received: Buffer[] = [];
  let waiter: (() => void) | null = null;
  let expected = 0;
  const r = new InflateStreamReader(
    (c) => {
      received.push(c);
      if (Buffer.concat(received).length >= expected) waiter?.();
    },
    (err) => assert.fail(err),
  );
  const w = new DeflateStreamWriter(1, (c) => r.push(c), (err) => assert.fail(err));
  const parts = [Buffer.from('OK'), randomBytes(70000), Buffer.from('x'.repeat(10000))];
  for (const part of parts) {
    expected += part.length;
    const arrived = new Promise<void>((resolve) => (waiter = resolve));
    w.write(part);
    w.flush();
    // Without the sync flush the reader could not produce this part yet.
    await arrived;
  }
  assert.deepEqual(Buffer.concat(received), Buffer.concat(parts));
  w.destroy();
  r.destroy();
});

test('corrupt input is reported once through onError', async () => {
  const err = await new Promise<Error>((resolve) => {
    const r = new InflateStreamReader(() => {}, resolve);
    r.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]));
    r.push(Buffer.from([0x00])); // ignored after the error
  });
  assert.ok(err instanceof Error);
});
