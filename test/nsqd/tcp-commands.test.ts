import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelStats, command, int32, mpubBody, nsqdStats, type RawClient } from '../helpers/raw-client.js';
import { sharedNsqd } from '../helpers/shared-nsqd.js';
import { eventually } from '../helpers/wait.js';

/**
 * Every protocol V2 command against a real nsqd over raw sockets (docs/protocol.md, Commands):
 * the success answer (or its absence) and each error of the original with its exact text,
 * fatal errors closing the connection and the three non-fatal ones leaving it open.
 */
const { daemon, connect, uniq } = sharedNsqd();

/** A connection subscribed to a fresh topic/channel (state 3). */
async function subscribed(topic = uniq('t'), channel = 'c'): Promise<RawClient> {
  const c = await connect();
  c.send(`SUB ${topic} ${channel}`);
  await c.expectResponse('OK');
  return c;
}

describe('magic and unknown commands', () => {
  it('answers a wrong magic with E_BAD_PROTOCOL (no description) and closes', async () => {
    for (const magic of ['  V1', 'V2  ', 'GET ']) {
      const c = await connect(magic);
      await c.expectFatal('E_BAD_PROTOCOL');
    }
  });

  it('closes silently when the magic is cut short', async () => {
    const c = await connect(' V');
    c.end();
    await c.waitClosed();
    assert.equal(c.pending(), 0);
  });

  it('rejects unknown commands, case-sensitively, including an empty line and prototype names', async () => {
    const cases: Array<[string, string]> = [
      ['ASDF', 'E_INVALID invalid command ASDF'],
      ['nop', 'E_INVALID invalid command nop'],
      ['', 'E_INVALID invalid command '],
      ['constructor', 'E_INVALID invalid command constructor'],
      ['__proto__ x', 'E_INVALID invalid command __proto__'],
      ['toString', 'E_INVALID invalid command toString'],
    ];
    for (const [line, text] of cases) {
      const c = await connect();
      c.send(line);
      await c.expectFatal(text);
    }
  });

  it('echoes the command bytes exactly, even when they are not UTF-8', async () => {
    const c = await connect();
    c.write(Buffer.concat([Buffer.from('AB'), Buffer.from([0xff, 0xc3]), Buffer.from('\n')]));
    const f = await c.readFrame();
    assert.equal(f.type, 1);
    assert.deepEqual(f.data, Buffer.concat([Buffer.from('E_INVALID invalid command AB'), Buffer.from([0xff, 0xc3])]));
    await c.waitClosed();
  });
});

describe('IDENTIFY', () => {
  it('answers OK without feature negotiation, and may be repeated in init', async () => {
    const c = await connect();
    c.identify({});
    await c.expectResponse('OK');
    c.identify({ client_id: 'x', feature_negotiation: false });
    await c.expectResponse('OK');
    await c.expectOpen();
  });

  it('answers the negotiation JSON (spec example for defaults), keys in order', async () => {
    const c = await connect();
    c.identify({ feature_negotiation: true });
    await c.expectResponse(
      '{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,"output_buffer_size":16384,"output_buffer_timeout":250,"topology_region":"","topology_zone":""}',
    );
    c.identify({ feature_negotiation: true, msg_timeout: 1000, sample_rate: 50, output_buffer_size: -1 });
    const [, json] = await c.readText();
    const r = JSON.parse(json) as Record<string, unknown>;
    assert.equal(r.msg_timeout, 1000);
    assert.equal(r.sample_rate, 50);
    assert.equal(r.output_buffer_size, 1);
    assert.equal(r.output_buffer_timeout, 0);
  });

  it('does not grant tls_v1 on a server without TLS: the connection stays plaintext', async () => {
    const c = await connect();
    c.identify({ feature_negotiation: true, tls_v1: true });
    const r = JSON.parse((await c.readText())[1]) as Record<string, unknown>;
    assert.equal(r.tls_v1, false);
    await c.expectOpen();
  });

  it('stores client_id, hostname and user_agent (seen in /stats), keys case-insensitive', async () => {
    const topic = uniq('ident');
    const c = await connect();
    c.identify({ Client_ID: 'my-client', HOSTNAME: 'my-host', user_agent: 'raw/1.0' });
    await c.expectResponse('OK');
    c.send(`SUB ${topic} ch`);
    await c.expectResponse('OK');
    const s = await nsqdStats(daemon().httpPort, topic);
    const client = channelStats(s, topic, 'ch')!.clients![0]!;
    assert.equal(client.client_id, 'my-client');
    assert.equal(client.hostname, 'my-host');
    assert.equal(client.user_agent, 'raw/1.0');
    assert.equal(client.state, 3);
  });

  it('keeps an explicitly empty client_id and hostname; absent ones default to the remote IP', async () => {
    const topic = uniq('ident_empty');
    const empty = await connect();
    empty.identify({ client_id: '', hostname: '' });
    await empty.expectResponse('OK');
    empty.send(`SUB ${topic} empty`);
    await empty.expectResponse('OK');
    const absent = await connect();
    absent.identify({ user_agent: 'x' });
    await absent.expectResponse('OK');
    absent.send(`SUB ${topic} absent`);
    await absent.expectResponse('OK');
    const s = await nsqdStats(daemon().httpPort, topic);
    const e = channelStats(s, topic, 'empty')!.clients![0]!;
    assert.deepEqual([e.client_id, e.hostname], ['', '']);
    const a = channelStats(s, topic, 'absent')!.clients![0]!;
    assert.deepEqual([a.client_id, a.hostname], ['127.0.0.1', '127.0.0.1']);
  });

  it('is refused after SUB', async () => {
    const c = await subscribed();
    c.identify({});
    await c.expectFatal('E_INVALID cannot IDENTIFY in current state');
  });

  it('reports body size errors', async () => {
    let c = await connect();
    c.send('IDENTIFY', '');
    await c.expectFatal('E_BAD_BODY IDENTIFY invalid body size 0');
    c = await connect();
    c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), int32(-1)]));
    await c.expectFatal('E_BAD_BODY IDENTIFY invalid body size -1');
    c = await connect();
    c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), int32(5242881)]));
    await c.expectFatal('E_BAD_BODY IDENTIFY body too big 5242881 > 5242880');
  });

  it('reports JSON errors', async () => {
    for (const body of ['{', 'not json', '[]', '{"heartbeat_interval":"1000"}', '{"heartbeat_interval":1000.0}', '{"feature_negotiation":1}']) {
      const c = await connect();
      c.identify(body);
      await c.expectFatal('E_BAD_BODY IDENTIFY failed to decode JSON body');
    }
  });

  it('reports validation errors with the value', async () => {
    const cases: Array<[object, string]> = [
      [{ heartbeat_interval: 999 }, 'heartbeat interval (999) is invalid'],
      [{ HEARTBEAT_INTERVAL: 60001 }, 'heartbeat interval (60001) is invalid'],
      [{ output_buffer_timeout: 24 }, 'output buffer timeout (24) is invalid'],
      [{ output_buffer_size: 63 }, 'output buffer size (63) is invalid'],
      [{ sample_rate: 100 }, 'sample rate (100) is invalid'],
      [{ msg_timeout: 900001 }, 'msg timeout (900001) is invalid'],
    ];
    for (const [body, text] of cases) {
      const c = await connect();
      c.identify(body);
      await c.expectFatal(`E_BAD_BODY IDENTIFY ${text}`);
    }
  });

  it('refuses snappy and deflate together', async () => {
    const c = await connect();
    c.identify({ feature_negotiation: true, snappy: true, deflate: true });
    await c.expectFatal('E_IDENTIFY_FAILED cannot enable both deflate and snappy compression');
  });
});

describe('AUTH (auth disabled on this nsqd)', () => {
  it('answers E_AUTH_DISABLED after reading the body', async () => {
    const c = await connect();
    c.send('AUTH', 'secret');
    await c.expectFatal('E_AUTH_DISABLED AUTH disabled');
  });

  it('checks state, parameters and body size first', async () => {
    let c = await subscribed();
    c.send('AUTH', 'secret');
    await c.expectFatal('E_INVALID cannot AUTH in current state');
    c = await connect();
    c.send('AUTH extra');
    await c.expectFatal('E_INVALID AUTH invalid number of parameters');
    c = await connect();
    c.send('AUTH', '');
    await c.expectFatal('E_BAD_BODY AUTH invalid body size 0');
    c = await connect();
    c.write(Buffer.concat([Buffer.from('AUTH\n'), int32(5242881)]));
    await c.expectFatal('E_BAD_BODY AUTH body too big 5242881 > 5242880');
  });
});

describe('SUB', () => {
  it('answers OK, enters state 3 with RDY 0, creates topic and channel', async () => {
    const topic = uniq('sub');
    const c = await subscribed(topic, 'ch');
    const s = await nsqdStats(daemon().httpPort, topic);
    const ch = channelStats(s, topic, 'ch')!;
    assert.equal(ch.client_count, 1);
    assert.equal(ch.clients![0]!.state, 3);
    assert.equal(ch.clients![0]!.ready_count, 0);
    await c.expectOpen();
  });

  it('ignores extra parameters', async () => {
    const c = await connect();
    c.send(`SUB ${uniq('t')} c extra more`);
    await c.expectResponse('OK');
  });

  it('is refused a second time', async () => {
    const c = await subscribed();
    c.send(`SUB ${uniq('t')} c`);
    await c.expectFatal('E_INVALID cannot SUB in current state');
  });

  it('is refused with heartbeats disabled, before the parameters are looked at', async () => {
    const c = await connect();
    c.identify({ heartbeat_interval: -1 });
    await c.expectResponse('OK');
    c.send('SUB');
    await c.expectFatal('E_INVALID cannot SUB with heartbeats disabled');
  });

  it('checks parameters, topic, then channel', async () => {
    const cases: Array<[string, string]> = [
      ['SUB', 'E_INVALID SUB insufficient number of parameters'],
      ['SUB t', 'E_INVALID SUB insufficient number of parameters'],
      ['SUB bad*topic bad*channel', 'E_BAD_TOPIC SUB topic name "bad*topic" is not valid'],
      ['SUB good bad*channel', 'E_BAD_CHANNEL SUB channel name "bad*channel" is not valid'],
      ['SUB  t c', 'E_BAD_TOPIC SUB topic name "" is not valid'],
      ['SUB t ', 'E_BAD_CHANNEL SUB channel name "" is not valid'],
      [`SUB ${'a'.repeat(65)} c`, `E_BAD_TOPIC SUB topic name "${'a'.repeat(65)}" is not valid`],
      ['SUB t#ephemeral#ephemeral c', 'E_BAD_TOPIC SUB topic name "t#ephemeral#ephemeral" is not valid'],
      ['SUB t c"\\', 'E_BAD_CHANNEL SUB channel name "c\\"\\\\" is not valid'],
    ];
    for (const [line, text] of cases) {
      const c = await connect();
      c.send(line);
      await c.expectFatal(text);
    }
  });

  it('quotes non-UTF-8 bytes in a bad name as Go does', async () => {
    const c = await connect();
    c.write(Buffer.concat([Buffer.from('SUB t'), Buffer.from([0xff, 0xc3, 0xa9]), Buffer.from(' c\n')]));
    const f = await c.readFrame();
    assert.equal(f.type, 1);
    assert.deepEqual(f.data, Buffer.concat([Buffer.from('E_BAD_TOPIC SUB topic name "t\\xff'), Buffer.from([0xc3, 0xa9]), Buffer.from('" is not valid')]));
    await c.waitClosed();
  });
});

describe('RDY', () => {
  it('is refused before SUB', async () => {
    const c = await connect();
    c.send('RDY 1');
    await c.expectFatal('E_INVALID cannot RDY in current state');
  });

  it('sets the ready count, with no response; no count means 1, an empty one 0', async () => {
    const topic = uniq('rdy');
    const c = await subscribed(topic, 'ch');
    const rdy = async () => (channelStats(await nsqdStats(daemon().httpPort, topic), topic, 'ch')!.clients![0]!.ready_count as number);
    c.send('RDY 2500');
    await c.expectSilence(100);
    assert.equal(await rdy(), 2500);
    c.send('RDY');
    await c.expectSilence(50);
    assert.equal(await rdy(), 1);
    c.send('RDY ');
    await c.expectSilence(50);
    assert.equal(await rdy(), 0);
    c.send('RDY 0');
    await c.expectOpen();
    // uint64 parsing wraps: 2^64 + 7 is 7
    c.send('RDY 18446744073709551623');
    await c.expectOpen();
    assert.equal(await rdy(), 7);
  });

  it('refuses counts out of range or not made of digits', async () => {
    const cases: Array<[string, string]> = [
      ['RDY 2501', 'E_INVALID RDY count 2501 out of range 0-2500'],
      ['RDY -1', 'E_INVALID RDY could not parse count -1'],
      ['RDY +1', 'E_INVALID RDY could not parse count +1'],
      ['RDY 1.5', 'E_INVALID RDY could not parse count 1.5'],
      ['RDY 0x10', 'E_INVALID RDY could not parse count 0x10'],
      ['RDY 9223372036854775808', 'E_INVALID RDY count -9223372036854775808 out of range 0-2500'],
      ['RDY 99999999999999999999', 'E_INVALID RDY count 7766279631452241919 out of range 0-2500'],
    ];
    for (const [line, text] of cases) {
      const c = await subscribed();
      c.send(line);
      await c.expectFatal(text);
    }
  });
});

describe('FIN, REQ and TOUCH errors', () => {
  const ID = '0123456789abcdef';

  it('are refused before SUB', async () => {
    for (const [line, cmd] of [[`FIN ${ID}`, 'FIN'], [`REQ ${ID} 0`, 'REQ'], [`TOUCH ${ID}`, 'TOUCH']]) {
      const c = await connect();
      c.send(line!);
      await c.expectFatal(`E_INVALID cannot ${cmd} in current state`);
    }
  });

  it('check the parameter count', async () => {
    const cases: Array<[string, string]> = [
      ['FIN', 'E_INVALID FIN insufficient number of params'],
      ['REQ', 'E_INVALID REQ insufficient number of params'],
      [`REQ ${ID}`, 'E_INVALID REQ insufficient number of params'],
      ['TOUCH', 'E_INVALID TOUCH insufficient number of params'],
    ];
    for (const [line, text] of cases) {
      const c = await subscribed();
      c.send(line);
      await c.expectFatal(text);
    }
  });

  it('refuse an id that is not 16 bytes (fatal)', async () => {
    for (const line of ['FIN 0123', `FIN ${ID}0`, 'REQ 0123 0', 'TOUCH 0123', 'FIN ']) {
      const c = await subscribed();
      c.send(line);
      await c.expectFatal('E_INVALID invalid message ID');
    }
  });

  it('REQ refuses a timeout that is not digits, after the id check', async () => {
    let c = await subscribed();
    c.send(`REQ ${ID} -1`);
    await c.expectFatal('E_INVALID REQ could not parse timeout -1');
    c = await subscribed();
    c.send(`REQ ${ID} 1s`);
    await c.expectFatal('E_INVALID REQ could not parse timeout 1s');
    c = await subscribed();
    c.send('REQ 0123 x');
    await c.expectFatal('E_INVALID invalid message ID');
  });

  it('answer an id that is not in flight with a non-fatal error', async () => {
    const c = await subscribed();
    c.send(`FIN ${ID}`);
    await c.expectNonFatal(`E_FIN_FAILED FIN ${ID} failed ID not in flight`);
    c.send(`REQ ${ID} 10`);
    await c.expectNonFatal(`E_REQ_FAILED REQ ${ID} failed ID not in flight`);
    c.send(`REQ ${ID} 99999999`); // clamped to --max-req-timeout, not refused
    await c.expectNonFatal(`E_REQ_FAILED REQ ${ID} failed ID not in flight`);
    c.send(`TOUCH ${ID}`);
    await c.expectNonFatal(`E_TOUCH_FAILED TOUCH ${ID} failed ID not in flight`);
    // still subscribed and able to take messages afterwards
    c.send('RDY 1');
    await c.expectOpen();
  });

  it('echo a non-ASCII id byte for byte', async () => {
    const c = await subscribed();
    const id = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('23456789abcdef')]);
    c.write(Buffer.concat([Buffer.from('FIN '), id, Buffer.from('\n')]));
    const f = await c.readFrame();
    assert.equal(f.type, 1);
    assert.deepEqual(f.data, Buffer.concat([Buffer.from('E_FIN_FAILED FIN '), id, Buffer.from(' failed ID not in flight')]));
    await c.expectOpen();
  });
});

describe('CLS and NOP', () => {
  it('CLS is refused before SUB', async () => {
    const c = await connect();
    c.send('CLS');
    await c.expectFatal('E_INVALID cannot CLS in current state');
  });

  it('CLS answers CLOSE_WAIT, keeps the socket open, then RDY is ignored and a second CLS refused', async () => {
    const topic = uniq('cls');
    const c = await subscribed(topic, 'ch');
    c.send('RDY 5');
    c.send('CLS');
    await c.expectResponse('CLOSE_WAIT');
    const st = channelStats(await nsqdStats(daemon().httpPort, topic), topic, 'ch')!.clients![0]!;
    assert.equal(st.state, 4);
    assert.equal(st.ready_count, 0);
    c.send('RDY 10');
    await c.expectOpen();
    c.send('CLS');
    await c.expectFatal('E_INVALID cannot CLS in current state');
  });

  it('NOP has no response in any state', async () => {
    const c = await connect();
    c.send('NOP');
    c.send('NOP extra params');
    await c.expectSilence(100);
    await c.expectOpen();
    const s = await subscribed();
    s.send('NOP');
    await s.expectSilence(50);
  });
});

describe('PUB', () => {
  it('answers OK, creates the topic and counts the publisher', async () => {
    const topic = uniq('pub');
    const c = await connect();
    c.send(`PUB ${topic}`, 'hello');
    await c.expectResponse('OK');
    c.send(`PUB ${topic}`, Buffer.from([0, 1, 2]));
    await c.expectResponse('OK');
    const s = await nsqdStats(daemon().httpPort);
    const t = s.topics!.find((x) => x.topic_name === topic)!;
    assert.equal(t.message_count, 2);
    const producer = s.producers!.find((p) => (p.pub_counts as Array<{ topic: string }> | undefined)?.[0]?.topic === topic);
    assert.deepEqual(producer?.pub_counts, [{ topic, count: 2 }]);
  });

  it('is allowed while subscribed and while closing', async () => {
    const c = await subscribed();
    c.send(`PUB ${uniq('p')}`, 'x');
    await c.expectResponse('OK');
    c.send('CLS');
    await c.expectResponse('CLOSE_WAIT');
    c.send(`PUB ${uniq('p')}`, 'x');
    await c.expectResponse('OK');
  });

  it('checks parameters and topic before the body', async () => {
    let c = await connect();
    c.send('PUB');
    await c.expectFatal('E_INVALID PUB insufficient number of parameters');
    c = await connect();
    c.send('PUB bad*topic'); // no body follows: the name is checked first
    await c.expectFatal('E_BAD_TOPIC PUB topic name "bad*topic" is not valid');
  });

  it('checks the body size', async () => {
    let c = await connect();
    c.send('PUB t', '');
    await c.expectFatal('E_BAD_MESSAGE PUB invalid message body size 0');
    c = await connect();
    c.write(Buffer.concat([Buffer.from('PUB t\n'), int32(-1)]));
    await c.expectFatal('E_BAD_MESSAGE PUB invalid message body size -1');
    c = await connect();
    c.write(Buffer.concat([Buffer.from('PUB t\n'), int32(1048577)]));
    await c.expectFatal('E_BAD_MESSAGE PUB message too big 1048577 > 1048576');
  });

  it('accepts a body of exactly --max-msg-size', async () => {
    const c = await connect();
    c.send(`PUB ${uniq('big')}`, Buffer.alloc(1048576, 0x61));
    await c.expectResponse('OK');
  });
});

describe('MPUB', () => {
  it('answers OK and queues every message', async () => {
    const topic = uniq('mpub');
    const c = await connect();
    c.send(`MPUB ${topic}`, mpubBody(['a', 'bb', 'ccc']));
    await c.expectResponse('OK');
    const s = await nsqdStats(daemon().httpPort, topic);
    assert.equal(s.topics![0]!.message_count, 3);
    assert.equal(s.topics![0]!.depth, 3);
  });

  it('checks parameters, then the topic (its code repeated in the text)', async () => {
    let c = await connect();
    c.send('MPUB');
    await c.expectFatal('E_INVALID MPUB insufficient number of parameters');
    c = await connect();
    c.send('MPUB bad*');
    await c.expectFatal('E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad*" is not valid');
  });

  it('reports body, count and message errors', async () => {
    const frame = (...parts: Buffer[]) => Buffer.concat([Buffer.from('MPUB t\n'), ...parts]);
    const cases: Array<[Buffer, string]> = [
      [frame(int32(0)), 'E_BAD_BODY MPUB invalid body size 0'],
      [frame(int32(5242881)), 'E_BAD_BODY MPUB body too big 5242881 > 5242880'],
      [frame(int32(8), int32(0)), 'E_BAD_BODY MPUB invalid message count 0'],
      [frame(int32(8), int32(1048576)), 'E_BAD_BODY MPUB invalid message count 1048576'],
      [frame(int32(8), int32(2), int32(1), Buffer.from('a'), int32(0)), 'E_BAD_MESSAGE MPUB invalid message(1) body size 0'],
      [frame(int32(8), int32(2), int32(1048577)), 'E_BAD_MESSAGE MPUB message too big 1048577 > 1048576'],
    ];
    for (const [bytes, text] of cases) {
      const c = await connect();
      c.write(bytes);
      await c.expectFatal(text);
    }
  });

  it('creates the topic before reading the body, and queues nothing from a bad batch', async () => {
    const topic = uniq('mpubbad');
    const c = await connect();
    c.write(Buffer.concat([Buffer.from(`MPUB ${topic}\n`), int32(20), int32(2), int32(1), Buffer.from('a'), int32(-4)]));
    await c.expectFatal('E_BAD_MESSAGE MPUB invalid message(1) body size -4');
    const s = await nsqdStats(daemon().httpPort, topic);
    assert.equal(s.topics!.length, 1);
    assert.equal(s.topics![0]!.message_count, 0);
  });

  it('parses the batch without trusting the declared body length', async () => {
    const topic = uniq('mpublen');
    const c = await connect();
    const batch = mpubBody(['x', 'y']);
    c.write(Buffer.concat([Buffer.from(`MPUB ${topic}\n`), int32(4096), batch, command(`PUB ${topic}`, 'z')]));
    await c.expectResponse('OK');
    await c.expectResponse('OK');
    const s = await nsqdStats(daemon().httpPort, topic);
    assert.equal(s.topics![0]!.message_count, 3);
  });
});

describe('DPUB', () => {
  it('answers OK and holds the message deferred in the channel', async () => {
    const topic = uniq('dpub');
    const c = await subscribed(topic, 'ch');
    const p = await connect();
    p.send(`DPUB ${topic} 60000`, 'later');
    await p.expectResponse('OK');
    const ch = channelStats(await nsqdStats(daemon().httpPort, topic), topic, 'ch')!;
    assert.equal(ch.deferred_count, 1);
    assert.equal(ch.depth, 0);
    await c.expectOpen();
  });

  it('DPUB 0 behaves like PUB; the maximum is --max-req-timeout inclusive', async () => {
    const topic = uniq('dpub0');
    const c = await connect();
    c.send(`DPUB ${topic} 0`, 'now');
    await c.expectResponse('OK');
    c.send(`DPUB ${topic} 3600000`, 'max');
    await c.expectResponse('OK');
    // uint64 wrap: 2^64 is 0
    c.send(`DPUB ${topic} 18446744073709551616`, 'wrapped');
    await c.expectResponse('OK');
    const s = await nsqdStats(daemon().httpPort, topic);
    assert.equal(s.topics![0]!.message_count, 3);
  });

  it('checks parameters, topic, timeout syntax, then range (fatal, not clamped)', async () => {
    const cases: Array<[string, string]> = [
      ['DPUB', 'E_INVALID DPUB insufficient number of parameters'],
      ['DPUB t', 'E_INVALID DPUB insufficient number of parameters'],
      ['DPUB bad* x', 'E_BAD_TOPIC DPUB topic name "bad*" is not valid'],
      ['DPUB t -1', 'E_INVALID DPUB could not parse timeout -1'],
      ['DPUB t 1.5', 'E_INVALID DPUB could not parse timeout 1.5'],
      ['DPUB t 3600001', 'E_INVALID DPUB timeout 3600001 out of range 0-3600000'],
      // int64 nanoseconds overflow to a negative duration
      ['DPUB t 9223372036855', 'E_INVALID DPUB timeout 9223372036855 out of range 0-3600000'],
    ];
    for (const [line, text] of cases) {
      const c = await connect();
      c.send(line);
      await c.expectFatal(text);
    }
  });

  it('checks the body like PUB', async () => {
    let c = await connect();
    c.send('DPUB t 10', '');
    await c.expectFatal('E_BAD_MESSAGE DPUB invalid message body size 0');
    c = await connect();
    c.write(Buffer.concat([Buffer.from('DPUB t 10\n'), int32(1048577)]));
    await c.expectFatal('E_BAD_MESSAGE DPUB message too big 1048577 > 1048576');
  });
});

describe('pipelining', () => {
  it('answers pipelined commands in order', async () => {
    const topic = uniq('pipe');
    const c = await connect();
    c.write(Buffer.concat([
      command('IDENTIFY', '{}'),
      command(`PUB ${topic}`, '1'),
      command('NOP'),
      command(`MPUB ${topic}`, mpubBody(['2', '3'])),
      command(`DPUB ${topic} 1`, '4'),
      command(`SUB ${topic} ch`),
      command('RDY 0'),
      command('CLS'),
    ]));
    for (const want of ['OK', 'OK', 'OK', 'OK', 'OK', 'CLOSE_WAIT']) await c.expectResponse(want);
    await eventually(async () => (await nsqdStats(daemon().httpPort, topic)).topics?.[0]?.message_count === 4);
  });
});
