import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNsqd, tempDir, type Daemon } from '../helpers/daemons.js';
import { RawClient, int32, mpubBody } from '../helpers/raw-client.js';
import {
  assertV1Error,
  assertV1Json,
  assertV1Text,
  channelOf,
  get,
  post,
  statsJson,
  TEXT_TYPE,
  topicOf,
} from './http-helpers.js';

// /ping, /info, /pub, /mpub (upstream `nsqd/http.go`) against a real nsqd, every check in the
// original's order, each success proven by what a TCP consumer receives.

const MAX_MSG = 100;
const MAX_BODY = 1000;
const MAX_REQ_MS = 10000;

async function subscribe(port: number, topic: string, channel: string, rdy = 100): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send(`SUB ${topic} ${channel}`);
  await c.expectResponse('OK');
  c.send(`RDY ${rdy}`);
  return c;
}

/** Reads `n` messages and returns their bodies (latin1, so `\r` and any byte stay visible). */
async function bodies(c: RawClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await c.readMessage()).body.toString('latin1'));
  return out;
}

describe('nsqd HTTP publish API (real nsqd)', () => {
  let d: Daemon;
  let port: number;
  const clients: RawClient[] = [];
  const sub = async (topic: string, channel = 'c') => {
    const c = await subscribe(d.tcpPort, topic, channel);
    clients.push(c);
    return c;
  };

  before(async () => {
    d = await startNsqd([`--max-msg-size=${MAX_MSG}`, `--max-body-size=${MAX_BODY}`, `--max-req-timeout=${MAX_REQ_MS}ms`]);
    port = d.httpPort;
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await d.stop();
  });

  it('GET /ping → 200 OK as PlainText (no NSQ header)', async () => {
    const r = await get(port, '/ping');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'OK');
    assert.equal(r.headers['content-type'], TEXT_TYPE);
    assert.equal(r.headers['x-nsq-content-type'], undefined);
  });

  it('GET /info: keys in the original order, durations in ns, real ports', async () => {
    const r = await get(port, '/info');
    assert.equal(r.status, 200);
    const info = JSON.parse(r.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(info), [
      'version',
      'broadcast_address',
      'hostname',
      'http_port',
      'tcp_port',
      'start_time',
      'max_heartbeat_interval',
      'max_output_buffer_size',
      'max_output_buffer_timeout',
      'max_deflate_level',
      'topology_zone',
      'topology_region',
    ]);
    assertV1Json(r, r.text);
    assert.equal(info.version, '1.3.0');
    assert.equal(info.broadcast_address, '127.0.0.1');
    assert.equal(info.hostname, os.hostname());
    assert.equal(info.http_port, d.httpPort);
    assert.equal(info.tcp_port, d.tcpPort);
    assert.ok(Math.abs((info.start_time as number) - Date.now() / 1000) < 600);
    assert.equal(info.max_heartbeat_interval, 60_000_000_000);
    assert.equal(info.max_output_buffer_size, 65536);
    assert.equal(info.max_output_buffer_timeout, 30_000_000_000);
    assert.equal(info.max_deflate_level, 6);
    assert.equal(info.topology_zone, '');
    assert.equal(info.topology_region, '');
  });

  it('POST /pub delivers the exact body to a TCP consumer; repeated topic key → first wins', async () => {
    const c = await sub('pub_ok');
    const payload = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x41]);
    assertV1Text(await post(port, '/pub?topic=pub_ok', payload), 'OK');
    const m = await c.readMessage();
    assert.deepEqual(m.body, payload);
    assert.equal(m.attempts, 1);
    assertV1Text(await post(port, '/pub?topic=pub_ok&topic=pub_other', 'first-wins'), 'OK');
    assert.equal((await c.readMessage()).body.toString(), 'first-wins');
    assert.equal(topicOf(await statsJson(port), 'pub_other'), undefined);
    // exactly max-msg-size is allowed
    assertV1Text(await post(port, '/pub?topic=pub_ok', 'x'.repeat(MAX_MSG)), 'OK');
    assert.equal((await c.readMessage()).body.length, MAX_MSG);
    // the HTTP publisher is not a /stats producer
    assert.equal((await statsJson(port)).producers, null);
  });

  it('POST /pub check order: size, empty body, query, topic, then defer', async () => {
    // 1. Content-Length above max-msg-size: refused before the body or the query is looked at
    assertV1Error(await post(port, '/pub?topic=%zz', 'x', { headers: { 'Content-Length': MAX_MSG + 1 } }), 413, 'MSG_TOO_BIG');
    assertV1Error(await post(port, '/pub', 'y'.repeat(MAX_MSG + 1)), 413, 'MSG_TOO_BIG');
    // 3. chunked upload longer than max-msg-size
    assertV1Error(await post(port, '/pub?topic=%zz', 'z'.repeat(MAX_MSG + 1), { chunkSize: 7 }), 413, 'MSG_TOO_BIG');
    assertV1Error(await post(port, '/pub?topic=chunk_big', 'z'.repeat(MAX_MSG * 5), { chunkSize: 64 }), 413, 'MSG_TOO_BIG');
    // 4. empty body beats a malformed query and a missing topic
    assertV1Error(await post(port, '/pub?topic=%zz'), 400, 'MSG_EMPTY');
    assertV1Error(await post(port, '/pub', ''), 400, 'MSG_EMPTY');
    // 5. malformed query (bad escape, `;` separator)
    assertV1Error(await post(port, '/pub?topic=%zz', 'x'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/pub?topic=a;b', 'x'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/pub?defer=abc&topic=%', 'x'), 400, 'INVALID_REQUEST');
    // 6. no topic key (even when defer is also bad)
    assertV1Error(await post(port, '/pub', 'x'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/pub?defer=abc', 'x'), 400, 'MISSING_ARG_TOPIC');
    // 7. invalid topic names, including the empty value and a `+` (decoded to a space)
    for (const q of ['topic=', 'topic=bad!name', 'topic=a+b', `topic=${'x'.repeat(65)}`, 'topic=%23ephemeral']) {
      assertV1Error(await post(port, `/pub?${q}&defer=abc`, 'x'), 400, 'INVALID_TOPIC');
    }
    // nothing was created by the refused requests above
    const s = await statsJson(port);
    assert.equal(topicOf(s, 'chunk_big'), undefined);
  });

  it('POST /pub defer: INVALID_DEFER after the topic was created; valid defer is held back', async () => {
    for (const bad of ['abc', '-1', '1.5', '', '+1', '1e3', String(MAX_REQ_MS + 1), '99999999999999999999']) {
      assertV1Error(await post(port, `/pub?topic=defer_created&defer=${bad}`, 'x'), 400, 'INVALID_DEFER');
    }
    // the topic exists although every publish failed, and it holds nothing
    const t = topicOf(await statsJson(port), 'defer_created');
    assert.ok(t, 'topic created before the defer check');
    assert.equal(t.message_count, 0);

    const c = await sub('defer_ok');
    assertV1Text(await post(port, '/pub?topic=defer_ok&defer=0', 'now'), 'OK');
    assert.equal((await c.readMessage()).body.toString(), 'now');
    const sent = Date.now();
    assertV1Text(await post(port, `/pub?topic=defer_ok&defer=${MAX_REQ_MS}`, 'max-ok'), 'OK');
    // `%2B` is a literal plus sign (Go's ParseInt accepts "+1500"); a raw `+` would decode to a space
    assertV1Text(await post(port, '/pub?topic=defer_ok&defer=%2B1500', 'later'), 'OK');
    const ch = channelOf(await statsJson(port), 'defer_ok', 'c');
    assert.equal(ch?.deferred_count, 2);
    assert.equal(ch?.depth, 0);
    const m = await c.readMessage(10000);
    assert.equal(m.body.toString(), 'later');
    assert.ok(Date.now() - sent >= 1400, 'deferred message arrived early');
    assert.equal(channelOf(await statsJson(port), 'defer_ok', 'c')?.deferred_count, 1);
  });

  it('POST /mpub text: one message per line, empty lines skipped, \\r kept', async () => {
    const c = await sub('mpub_text');
    assertV1Text(await post(port, '/mpub?topic=mpub_text', 'a\n\nb\r\n\n\nlast'), 'OK');
    assert.deepEqual(await bodies(c, 3), ['a', 'b\r', 'last']);
    // binary=false / binary=0 are text mode too; a trailing newline adds nothing
    assertV1Text(await post(port, '/mpub?topic=mpub_text&binary=false', 'x\ny\n'), 'OK');
    assertV1Text(await post(port, '/mpub?topic=mpub_text&binary=0', 'z\n'), 'OK');
    assert.deepEqual(await bodies(c, 3), ['x', 'y', 'z']);
    // a line of exactly max-msg-size is fine
    assertV1Text(await post(port, '/mpub?topic=mpub_text', `${'m'.repeat(MAX_MSG)}\nn`), 'OK');
    assert.deepEqual((await bodies(c, 2)).map((b) => b.length), [MAX_MSG, 1]);
    // /mpub has no defer in this code: the parameter is ignored, even when invalid
    assertV1Text(await post(port, '/mpub?topic=mpub_text&defer=60000', 'd1\nd2'), 'OK');
    assertV1Text(await post(port, '/mpub?topic=mpub_text&defer=abc', 'd3'), 'OK');
    assert.deepEqual(await bodies(c, 3), ['d1', 'd2', 'd3']);
    assert.equal(channelOf(await statsJson(port), 'mpub_text', 'c')?.deferred_count, 0);
    // an empty or blank body queues nothing and still answers OK
    assertV1Text(await post(port, '/mpub?topic=mpub_blank', ''), 'OK');
    assertV1Text(await post(port, '/mpub?topic=mpub_blank', '\n\n\n'), 'OK');
    const t = topicOf(await statsJson(port), 'mpub_blank');
    assert.equal(t?.message_count, 0);
    assert.equal(await c.pending(), 0);
  });

  it('POST /mpub text errors: BODY_TOO_BIG (header, chunked), MSG_TOO_BIG, topic checks', async () => {
    // Content-Length above max-body-size is checked before the query
    assertV1Error(await post(port, '/mpub?topic=%zz', 'x', { headers: { 'Content-Length': MAX_BODY + 1 } }), 413, 'BODY_TOO_BIG');
    assertV1Error(await post(port, '/mpub', 'l\n'.repeat(MAX_BODY)), 413, 'BODY_TOO_BIG');
    // then the topic (created here, before the body is read)
    assertV1Error(await post(port, '/mpub?topic=%zz', 'x'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/mpub', 'x'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/mpub?topic=bad!', 'x'), 400, 'INVALID_TOPIC');
    // chunked text body over max-body-size
    assertV1Error(await post(port, '/mpub?topic=mpub_err', 'l\n'.repeat(MAX_BODY), { chunkSize: 100 }), 413, 'BODY_TOO_BIG');
    // a line over max-msg-size, even after good lines: nothing is queued
    assertV1Error(await post(port, '/mpub?topic=mpub_err', `ok\n${'m'.repeat(MAX_MSG + 1)}\nok`), 413, 'MSG_TOO_BIG');
    // streaming order: an oversized line met before the byte limit is MSG_TOO_BIG
    assertV1Error(await post(port, '/mpub?topic=mpub_err', `${'m'.repeat(MAX_MSG + 1)}\n${'l\n'.repeat(MAX_BODY)}`, { chunkSize: 50 }), 413, 'MSG_TOO_BIG');
    const t = topicOf(await statsJson(port), 'mpub_err');
    assert.ok(t, 'topic created before the body was refused');
    assert.equal(t.message_count, 0);
  });

  it('POST /mpub binary: [count]([size][bytes])… like TCP MPUB without the length', async () => {
    const c = await sub('mpub_bin');
    const msgs = ['one', Buffer.from([0x0a, 0x00, 0x0d]), 'x'.repeat(MAX_MSG)];
    assertV1Text(await post(port, '/mpub?topic=mpub_bin&binary=true', mpubBody(msgs)), 'OK');
    const got: Buffer[] = [];
    for (let i = 0; i < msgs.length; i++) got.push((await c.readMessage()).body);
    assert.deepEqual(got, msgs.map((m) => (typeof m === 'string' ? Buffer.from(m) : m)));
    // 1 and any unrecognised value mean binary too
    assertV1Text(await post(port, '/mpub?topic=mpub_bin&binary=1', mpubBody(['b1'])), 'OK');
    assertV1Text(await post(port, '/mpub?topic=mpub_bin&binary=yes', mpubBody(['b2'])), 'OK');
    assert.deepEqual(await bodies(c, 2), ['b1', 'b2']);
    // binary body too big by Content-Length
    assertV1Error(await post(port, '/mpub?topic=mpub_bin&binary=true', mpubBody(['x'.repeat(MAX_MSG)]), { headers: { 'Content-Length': MAX_BODY + 1 } }), 413, 'BODY_TOO_BIG');
  });

  it('POST /mpub binary errors are 413 BAD_BODY / BAD_MESSAGE and queue nothing', async () => {
    const maxCount = Math.floor((MAX_BODY - 4) / 5);
    const cases: Array<[Buffer, string]> = [
      [Buffer.alloc(0), 'BAD_BODY'],
      [Buffer.from([0, 0]), 'BAD_BODY'],
      [int32(0), 'BAD_BODY'],
      [int32(-1), 'BAD_BODY'],
      [int32(maxCount + 1), 'BAD_BODY'],
      [int32(1), 'BAD_MESSAGE'], // size missing
      [Buffer.concat([int32(1), int32(0)]), 'BAD_MESSAGE'],
      [Buffer.concat([int32(1), int32(-5)]), 'BAD_MESSAGE'],
      [Buffer.concat([int32(1), int32(MAX_MSG + 1), Buffer.alloc(MAX_MSG + 1)]), 'BAD_MESSAGE'],
      [Buffer.concat([int32(1), int32(10), Buffer.from('short')]), 'BAD_MESSAGE'],
      [Buffer.concat([int32(2), int32(2), Buffer.from('ok')]), 'BAD_MESSAGE'],
    ];
    for (const [body, code] of cases) {
      assertV1Error(await post(port, '/mpub?topic=mpub_bad&binary=true', body), 413, code);
    }
    assert.equal(topicOf(await statsJson(port), 'mpub_bad')?.message_count, 0);
  });

  it('keeps the connection usable after refusing an oversized chunked body', async () => {
    // Several refusals in a row on fresh connections must not wedge the server.
    for (let i = 0; i < 3; i++) {
      assertV1Error(await post(port, '/pub?topic=drain', 'q'.repeat(20_000), { chunkSize: 1000 }), 413, 'MSG_TOO_BIG');
    }
    assertV1Text(await post(port, '/pub?topic=drain', 'fine'), 'OK');
  });
});

describe('nsqd /ping health', () => {
  it('answers 500 "NOK - <err>" while disk writes fail, OK again after the next good write', async () => {
    const dataPath = tempDir('tsnsq-http-ping-');
    // mem-queue-size=0 sends every message to disk; directories squatting on the segment file
    // names make the write fail even for root (the queue skips one bad file, not two).
    const d = await startNsqd(['--mem-queue-size=0'], dataPath);
    try {
      for (const n of ['000000', '000001', '000002']) fs.mkdirSync(path.join(dataPath, `sick.diskqueue.${n}.dat`));
      const r = await post(d.httpPort, '/pub?topic=sick', 'x');
      assertV1Error(r, 503, 'EXITING');
      const p = await get(d.httpPort, '/ping');
      assert.equal(p.status, 500);
      assert.match(p.text, /^NOK - .+/);
      assert.equal(p.headers['x-nsq-content-type'], undefined);
      assert.equal((await statsJson(d.httpPort)).health, p.text);
      // a successful disk write (another topic) restores health
      assertV1Text(await post(d.httpPort, '/pub?topic=healthy', 'y'), 'OK');
      const ok = await get(d.httpPort, '/ping');
      assert.equal(ok.status, 200);
      assert.equal(ok.text, 'OK');
    } finally {
      await d.stop();
      fs.rmSync(dataPath, { recursive: true, force: true });
    }
  });
});
