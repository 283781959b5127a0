/**
 * The client's pure pieces: command bytes, IDENTIFY body/answer, lookupd URL and response
 * shapes, RDY arithmetic, the backoff state machine and go-nsq option parsing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  applyClientOptions,
  backoffDuration,
  backoffStep,
  cappedRdy,
  commands,
  ConfigOptionError,
  identifyBody,
  lookupUrl,
  NsqError,
  parseIdentifyResponse,
  parseLookupResponse,
  perConnectionRdy,
  resolveConnectionOptions,
  splitHostPort,
  type ClientOptions,
} from '../../src/client/index.js';
import { copyAll } from '../../src/protocol/body-batch.js';
import { CommandParser } from '../../src/protocol/command-parser.js';
import { testCerts } from '../helpers/certs.js';

describe('command encoding', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['SUB', commands.subCommand('t', 'c'), 'SUB t c\n'],
    ['RDY', commands.rdyCommand(25), 'RDY 25\n'],
    ['FIN', commands.finCommand('0123456789abcdef'), 'FIN 0123456789abcdef\n'],
    ['REQ truncates to ms', commands.reqCommand('0123456789abcdef', 1500.9), 'REQ 0123456789abcdef 1500\n'],
    ['TOUCH', commands.touchCommand('0123456789abcdef'), 'TOUCH 0123456789abcdef\n'],
    ['NOP', commands.CMD_NOP, 'NOP\n'],
    ['CLS', commands.CMD_CLS, 'CLS\n'],
    ['PUB', commands.pubCommand('t', 'hi'), 'PUB t\n\x00\x00\x00\x02hi'],
    ['DPUB', commands.dpubCommand('t', 250, 'x'), 'DPUB t 250\n\x00\x00\x00\x01x'],
    ['MPUB', commands.mpubCommand('t', ['a', Buffer.from('bc')]), 'MPUB t\n\x00\x00\x00\x0f\x00\x00\x00\x02\x00\x00\x00\x01a\x00\x00\x00\x02bc'],
    ['AUTH', commands.authCommand('s3'), 'AUTH\n\x00\x00\x00\x02s3'],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`${name} has the exact wire bytes`, () => assert.equal(bytes.toString('latin1'), expected));
  }

  it('is read back by the server-side command parser, byte by byte', () => {
    const p = new CommandParser({ maxBodySize: 1 << 20, maxMsgSize: 1 << 20 });
    const wire = Buffer.concat([commands.MAGIC_V2, commands.pubCommand('topic', 'body'), commands.mpubCommand('t2', ['x', 'yz']), commands.rdyCommand(3)]);
    const items: Array<{ name: string; params: string[]; body?: string; messages?: string[] }> = [];
    for (let i = 0; i < wire.length; i++) {
      p.push(wire.subarray(i, i + 1));
      for (let it = p.next(); it !== null; it = p.next()) {
        if (it.type === 'line' && it.hasBody) p.acceptBody();
        else if (it.type === 'line') items.push({ name: it.name, params: it.params });
        else if (it.type === 'body') items.push({ name: it.name, params: it.params, body: it.body.toString() });
        else items.push({ name: it.name, params: it.params, messages: copyAll(it.messages).map(String) });
      }
    }
    assert.deepEqual(items, [
      { name: 'PUB', params: ['topic'], body: 'body' },
      { name: 'MPUB', params: ['t2'], messages: ['x', 'yz'] },
      { name: 'RDY', params: ['3'] },
    ]);
  });
});

describe('IDENTIFY', () => {
  it('sends the go-nsq keys with feature negotiation on', () => {
    const body = identifyBody(resolveConnectionOptions({ clientId: 'c', hostname: 'h.example', tls: true, snappy: true, heartbeatInterval: 5000 }));
    assert.equal(body['client_id'], 'c');
    assert.equal(body['short_id'], 'c');
    assert.equal(body['long_id'], 'h.example');
    assert.equal(body['feature_negotiation'], true);
    assert.equal(body['tls_v1'], true);
    assert.equal(body['snappy'], true);
    assert.equal(body['deflate'], false);
    assert.equal(body['heartbeat_interval'], 5000);
    assert.equal(resolveConnectionOptions({ hostname: 'box.example.com' }).clientId, 'box');
  });

  it('reads the negotiated features, and a plain OK as no negotiation', () => {
    const f = parseIdentifyResponse(
      Buffer.from('{"max_rdy_count":100,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":true,"deflate_level":3,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":true,"output_buffer_size":16384,"output_buffer_timeout":250}'),
    );
    assert.deepEqual(f, { maxRdyCount: 100, version: '1.3.0', maxMsgTimeout: 900000, msgTimeout: 60000, tls: false, deflate: true, deflateLevel: 3, snappy: false, authRequired: true });
    assert.equal(parseIdentifyResponse(Buffer.from('OK')).maxRdyCount, 2500);
  });

  it('splits host:port including IPv6', () => {
    assert.deepEqual(splitHostPort('127.0.0.1:4150'), { host: '127.0.0.1', port: 4150 });
    assert.deepEqual(splitHostPort('[::1]:4150'), { host: '::1', port: 4150 });
    assert.throws(() => splitHostPort('nohost'));
  });

  it('maps error frames to NsqError with the server code and fatality', () => {
    const e = NsqError.fromFrame(Buffer.from('E_BAD_TOPIC PUB topic name "a b" is not valid'));
    assert.equal(e.code, 'E_BAD_TOPIC');
    assert.equal(e.fatal, true);
    assert.equal(NsqError.fromFrame('E_FIN_FAILED FIN 1 failed ID not in flight').fatal, false);
    assert.equal(NsqError.fromFrame('E_BAD_PROTOCOL').code, 'E_BAD_PROTOCOL');
  });
});

describe('lookupd discovery', () => {
  it('normalises addresses like go-nsq', () => {
    assert.equal(lookupUrl('127.0.0.1:4161', 't'), 'http://127.0.0.1:4161/lookup?topic=t');
    assert.equal(lookupUrl('http://h:4161/', 't'), 'http://h:4161/lookup?topic=t');
    assert.equal(lookupUrl('https://h:4161/custom?x=1', 'a#ephemeral'), 'https://h:4161/custom?x=1&topic=a%23ephemeral');
    assert.throws(() => lookupUrl('h', 't'), /no port/);
  });

  it('reads both the current and the pre-1.0 response shapes', () => {
    const producers = [
      { broadcast_address: '10.0.0.1', tcp_port: 4150, http_port: 4151 },
      { broadcast_address: '::1', tcp_port: 4250 },
      { broadcast_address: '10.0.0.1', tcp_port: 4150 },
    ];
    const want = ['10.0.0.1:4150', '[::1]:4250'];
    assert.deepEqual(parseLookupResponse({ channels: [], producers }), want);
    assert.deepEqual(parseLookupResponse({ status_code: 200, status_txt: 'OK', data: { channels: [], producers } }), want);
    assert.throws(() => parseLookupResponse({ message: 'x' }), /no producers/);
    assert.throws(() => parseLookupResponse('x'));
  });
});

describe('RDY arithmetic (go-nsq perConnMaxInFlight / updateRDY)', () => {
  it('shares the budget evenly, at least 1, never above the budget', () => {
    assert.equal(perConnectionRdy(10, 3), 3);
    assert.equal(perConnectionRdy(2, 5), 1);
    assert.equal(perConnectionRdy(0, 2), 0);
    assert.equal(perConnectionRdy(200, 1), 200);
  });

  it('caps a request by the remaining budget and max_rdy_count', () => {
    assert.equal(cappedRdy(5, 0, 8, 10, 2500), 2);
    assert.equal(cappedRdy(5, 3, 10, 10, 2500), 3);
    assert.equal(cappedRdy(5, 0, 10, 10, 2500), null);
    assert.equal(cappedRdy(0, 0, 10, 10, 2500), 0);
    assert.equal(cappedRdy(5000, 0, 0, 10000, 2500), 2500);
  });
});

describe('backoff (go-nsq startStopContinueBackoff)', () => {
  it('grows exponentially within the maximum and recovers one step per success', () => {
    let s = backoffStep(0, 'backoff', 'exponential', 1000, 60000);
    assert.deepEqual(s, { counter: 1, action: 'wait', duration: 2000 });
    s = backoffStep(s.counter, 'backoff', 'exponential', 1000, 60000);
    assert.deepEqual(s, { counter: 2, action: 'wait', duration: 4000 });
    s = backoffStep(s.counter, 'continue', 'exponential', 1000, 60000);
    assert.deepEqual(s, { counter: 2, action: 'wait', duration: 4000 });
    s = backoffStep(s.counter, 'resume', 'exponential', 1000, 60000);
    assert.deepEqual(s, { counter: 1, action: 'wait', duration: 2000 });
    s = backoffStep(s.counter, 'resume', 'exponential', 1000, 60000);
    assert.deepEqual(s, { counter: 0, action: 'exit', duration: 0 });
    assert.deepEqual(backoffStep(0, 'resume', 'exponential', 1000, 60000), { counter: 0, action: 'none', duration: 0 });
  });

  it('stops growing at the maximum duration', () => {
    // 2^6 s = 64 s > 60 s: the counter stays at 5 and waits are capped.
    const s = backoffStep(5, 'backoff', 'exponential', 1000, 60000);
    assert.deepEqual(s, { counter: 5, action: 'wait', duration: 32000 });
  });

  it('full jitter stays below the exponential value', () => {
    assert.equal(backoffDuration('full_jitter', 1000, 3, () => 0.5), 4000);
    assert.equal(backoffDuration('exponential', 1000, 3), 8000);
  });
});

describe('go-nsq options (--consumer-opt / --producer-opt)', () => {
  it('maps names, durations, booleans and TLS files', () => {
    const c = testCerts();
    const o: ClientOptions = applyClientOptions({}, [
      'max_in_flight,50',
      'lookupd-poll-interval,15s',
      'heartbeat_interval,5000',
      'snappy',
      'deflate,false',
      'backoff_strategy,full_jitter',
      'tls_v1,true',
      `tls_root_ca_file,${c.caCert}`,
      'tls_insecure_skip_verify,true',
      'tls_min_version,tls1.2',
    ]);
    assert.equal(o.maxInFlight, 50);
    assert.equal(o.lookupdPollInterval, 15000);
    assert.equal(o.heartbeatInterval, 5000);
    assert.equal(o.snappy, true);
    assert.equal(o.deflate, false);
    assert.equal(o.backoffStrategy, 'full_jitter');
    assert.ok(typeof o.tls === 'object');
    assert.deepEqual((o.tls as { ca: Buffer }).ca, fs.readFileSync(c.caCert));
    assert.equal((o.tls as { rejectUnauthorized: boolean }).rejectUnauthorized, false);
    assert.equal((o.tls as { minVersion: string }).minVersion, 'TLSv1.2');
  });

  it('rejects unknown names, bad values and out-of-range values', () => {
    assert.throws(() => applyClientOptions({}, ['nope,1']), (e: Error) => e instanceof ConfigOptionError && e.message === 'invalid option nope');
    assert.throws(() => applyClientOptions({}, ['max_in_flight,x']), /failed to coerce option max_in_flight/);
    assert.throws(() => applyClientOptions({}, ['read_timeout,5ms']), /invalid read_timeout/);
    assert.throws(() => applyClientOptions({}, ['snappy,maybe']), /ParseBool/);
    assert.throws(() => applyClientOptions({}, ['backoff_strategy,linear']), /unknown backoff strategy/);
    assert.throws(() => applyClientOptions({}, ['tls_root_ca_file,/nonexistent/ca.pem']), /failed to set option tls_root_ca_file/);
  });
});
