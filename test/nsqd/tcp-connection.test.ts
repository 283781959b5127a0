import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { command, int32, mpubBody, nsqdStats, FRAME_TYPE_RESPONSE } from '../helpers/raw-client.js';
import { sharedNsqd } from '../helpers/shared-nsqd.js';
import { sleep } from '../helpers/wait.js';

/**
 * Connection-level behaviour of protocol V2 against a real nsqd (docs/protocol.md):
 * heartbeats and the read deadline, streams cut short (the "failed to read" errors), garbage,
 * over-long lines, oversized bodies, and one client's failure leaving the others unaffected.
 */
const { daemon, connect, uniq } = sharedNsqd();

describe('heartbeats and deadlines', () => {
  it('sends heartbeats at the IDENTIFY interval and closes after two are ignored', async () => {
    const c = await connect();
    c.skipHeartbeats = false;
    c.identify({ heartbeat_interval: 1000 });
    await c.expectResponse('OK');
    const start = Date.now();
    await c.expectResponse('_heartbeat_', 2500);
    await c.waitClosed(4000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 1500, `closed after ${elapsed} ms, before two intervals`);
    // Nothing but heartbeats was sent; no error frame before the close.
    for (let f = c.pending(); f > 0; f--) {
      const [type, data] = await c.readText(10);
      assert.deepEqual([type, data], [FRAME_TYPE_RESPONSE, '_heartbeat_']);
    }
  });

  it('stays open while the client answers heartbeats with NOP (before SUB, as a producer)', async () => {
    const c = await connect();
    c.skipHeartbeats = false;
    c.identify({ heartbeat_interval: 1000 });
    await c.expectResponse('OK');
    for (let i = 0; i < 3; i++) {
      await c.expectResponse('_heartbeat_', 2500);
      c.send('NOP');
    }
    assert.equal(c.closed, false);
    await c.expectOpen();
  });

  it('any command refreshes the read deadline', async () => {
    const c = await connect();
    c.identify({ heartbeat_interval: 1000 });
    await c.expectResponse('OK');
    const topic = uniq('keepalive');
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      c.send(`PUB ${topic}`, 'x');
      await c.expectResponse('OK');
    }
    assert.ok(c.heartbeats >= 1);
  });

  it('stops heartbeats and deadlines when IDENTIFY disables them', async () => {
    const c = await connect();
    c.identify({ heartbeat_interval: 1000 });
    await c.expectResponse('OK');
    c.identify({ heartbeat_interval: -1 });
    await c.expectResponse('OK');
    await c.expectSilence(2500);
    assert.equal(c.closed, false);
    assert.equal(c.heartbeats, 0);
    await c.expectOpen();
  });

  it('answers a body still missing at the deadline with its "failed to read" error', async () => {
    const c = await connect();
    c.identify({ heartbeat_interval: 1000 });
    await c.expectResponse('OK');
    c.write(Buffer.concat([Buffer.from('PUB t\n'), Buffer.from([0, 0])]));
    await c.expectError('E_BAD_MESSAGE PUB failed to read message body size', 4000);
    await c.waitClosed();
  });
});

describe('streams cut short (half-close)', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['IDENTIFY size', Buffer.from('IDENTIFY\n\0\0'), 'E_BAD_BODY IDENTIFY failed to read body size'],
    ['IDENTIFY body', Buffer.concat([Buffer.from('IDENTIFY\n'), int32(10), Buffer.from('{}')]), 'E_BAD_BODY IDENTIFY failed to read body'],
    ['AUTH size', Buffer.from('AUTH\n'), 'E_BAD_BODY AUTH failed to read body size'],
    ['AUTH body', Buffer.concat([Buffer.from('AUTH\n'), int32(10), Buffer.from('se')]), 'E_BAD_BODY AUTH failed to read body'],
    ['PUB size', Buffer.from('PUB t\n\0'), 'E_BAD_MESSAGE PUB failed to read message body size'],
    ['PUB body', Buffer.concat([Buffer.from('PUB t\n'), int32(10), Buffer.from('abc')]), 'E_BAD_MESSAGE PUB failed to read message body'],
    ['DPUB size', Buffer.from('DPUB t 10\n'), 'E_BAD_MESSAGE DPUB failed to read message body size'],
    ['DPUB body', Buffer.concat([Buffer.from('DPUB t 10\n'), int32(10), Buffer.from('abc')]), 'E_BAD_MESSAGE DPUB failed to read message body'],
    ['MPUB size', Buffer.from('MPUB t\n\0\0\0'), 'E_BAD_BODY MPUB failed to read body size'],
    ['MPUB count', Buffer.concat([Buffer.from('MPUB t\n'), int32(100), Buffer.from([0])]), 'E_BAD_BODY MPUB failed to read message count'],
    ['MPUB message size', Buffer.concat([Buffer.from('MPUB t\n'), int32(100), int32(2), int32(1), Buffer.from('a')]), 'E_BAD_MESSAGE MPUB failed to read message(1) body size'],
    ['MPUB message body', Buffer.concat([Buffer.from('MPUB t\n'), int32(100), int32(2), int32(5), Buffer.from('a')]), 'E_BAD_MESSAGE MPUB failed to read message body'],
  ];
  for (const [name, bytes, text] of cases) {
    it(`${name}: ${text}`, async () => {
      const c = await connect();
      c.write(bytes);
      c.end();
      await c.expectFatal(text);
    });
  }

  it('a complete command before the half-close is still answered', async () => {
    const c = await connect();
    c.write(command(`PUB ${uniq('half')}`, 'x'));
    c.end();
    await c.expectResponse('OK');
    await c.waitClosed();
  });

  it('a partial line (or nothing) before the half-close closes silently', async () => {
    for (const bytes of [Buffer.from('PUB t'), Buffer.alloc(0), Buffer.from('NOP\nSU')]) {
      const c = await connect();
      c.write(bytes);
      c.end();
      await c.waitClosed();
      assert.equal(c.pending(), 0);
    }
  });

  it('without the magic, closes silently', async () => {
    const c = await connect(false);
    c.write('  V');
    c.end();
    await c.waitClosed();
    assert.equal(c.pending(), 0);
  });
});

describe('bad input', () => {
  it('closes without an error frame on a line of 16 KiB or more', async () => {
    let c = await connect();
    c.write(Buffer.alloc(16384, 0x41));
    await c.waitClosed();
    assert.equal(c.pending(), 0);
    c = await connect();
    c.write(Buffer.concat([Buffer.alloc(20000, 0x41), Buffer.from('\n')]));
    await c.waitClosed();
    assert.equal(c.pending(), 0);
  });

  it('accepts a line of 16383 bytes (answered as an unknown command)', async () => {
    const c = await connect();
    c.write(Buffer.concat([Buffer.alloc(16383, 0x41), Buffer.from('\n')]));
    const [type, text] = await c.readText();
    assert.equal(type, 1);
    assert.equal(text, `E_INVALID invalid command ${'A'.repeat(16383)}`);
  });

  it('answers an oversized body at once, without waiting for (or reading) the body', async () => {
    const c = await connect();
    c.write(Buffer.concat([Buffer.from('PUB t\n'), int32(50 * 1024 * 1024)]));
    await c.expectFatal('E_BAD_MESSAGE PUB message too big 52428800 > 1048576');
    const m = await connect();
    m.write(Buffer.concat([Buffer.from('MPUB t\n'), int32(6 * 1024 * 1024), Buffer.alloc(64 * 1024)]));
    await m.expectFatal('E_BAD_BODY MPUB body too big 6291456 > 5242880');
  });

  it('survives random garbage: every connection ends with an error frame or a silent close', async () => {
    let x = 12345;
    const rnd = () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x;
    };
    for (let i = 0; i < 20; i++) {
      const c = await connect(i % 4 !== 0);
      const junk = Buffer.alloc(64 + (rnd() % 2000));
      for (let j = 0; j < junk.length; j++) junk[j] = rnd() & 0xff;
      c.write(junk);
      c.end();
      await c.waitClosed(5000);
      while (c.pending() > 0) {
        const [type] = await c.readText(10);
        assert.ok(type === 0 || type === 1, `frame type ${type}`);
      }
    }
    const ok = await connect();
    await ok.expectOpen();
  });
});

describe('isolation', () => {
  it('a client dying mid-frame does not disturb another one', async () => {
    const topic = uniq('iso');
    const consumer = await connect();
    consumer.send(`SUB ${topic} ch`);
    await consumer.expectResponse('OK');
    consumer.send('RDY 10');
    const dying = await connect();
    dying.write(Buffer.concat([Buffer.from(`PUB ${topic}\n`), int32(100), Buffer.from('partial')]));
    const dyingMpub = await connect();
    dyingMpub.write(Buffer.concat([Buffer.from(`MPUB ${topic}\n`), mpubBody(['a', 'b']).subarray(0, 7)]));
    await sleep(50);
    dying.destroy();
    dyingMpub.destroy();
    const good = await connect();
    good.send(`PUB ${topic}`, 'fine');
    await good.expectResponse('OK');
    const m = await consumer.readMessage();
    assert.equal(m.body.toString(), 'fine');
    await consumer.expectSilence(150);
    const s = await nsqdStats(daemon().httpPort, topic);
    assert.equal(s.topics![0]!.message_count, 1);
  });

  it('a fatal error on one connection leaves the others subscribed', async () => {
    const topic = uniq('iso2');
    const a = await connect();
    a.send(`SUB ${topic} ch`);
    await a.expectResponse('OK');
    const b = await connect();
    b.send(`SUB ${topic} ch`);
    await b.expectResponse('OK');
    b.send('RDY 99999');
    await b.expectFatal('E_INVALID RDY count 99999 out of range 0-2500');
    a.send('RDY 1');
    const p = await connect();
    p.send(`PUB ${topic}`, 'still here');
    await p.expectResponse('OK');
    assert.equal((await a.readMessage()).body.toString(), 'still here');
    const s = await nsqdStats(daemon().httpPort, topic);
    assert.equal(s.topics![0]!.channels[0]!.client_count, 1);
  });
});
