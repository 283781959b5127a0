import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/protocol/errors.js';
import { applyIdentify, decodeIdentify, identifyResponse, negotiate, type IdentifySettings } from '../../src/nsqd/identify.js';
import { defaultNsqdOptions, type NsqdOptions } from '../../src/nsqd/options.js';

/** IDENTIFY (docs/protocol.md; upstream `nsqd/protocol_v2.go` IDENTIFY): Go-compatible JSON decoding, validation order and texts, the reply. */
const decode = (s: string) => decodeIdentify(Buffer.from(s));
const DECODE_ERROR = 'E_BAD_BODY IDENTIFY failed to decode JSON body';

function wire(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, String(err));
    assert.equal(err.fatal, true);
    return err.wireBody();
  }
  return 'no error';
}

function opts(over: Partial<NsqdOptions> = {}): NsqdOptions {
  return { ...defaultNsqdOptions(), ...over };
}

function defaults(o = opts()): IdentifySettings {
  return { heartbeatIntervalMs: o.clientTimeout / 2, outputBufferSize: 16384, outputBufferTimeoutMs: o.outputBufferTimeout, sampleRate: 0, msgTimeoutMs: o.msgTimeout };
}

describe('IDENTIFY decoding (Go encoding/json rules)', () => {
  it('reads every field', () => {
    const d = decode(
      JSON.stringify({
        client_id: 'c', hostname: 'h', user_agent: 'ua', feature_negotiation: true, heartbeat_interval: 1000,
        output_buffer_size: 64, output_buffer_timeout: 25, tls_v1: false, snappy: true, deflate: false,
        deflate_level: 3, sample_rate: 10, msg_timeout: 2000, topology_region: 'r', topology_zone: 'z',
      }),
    );
    assert.deepEqual(d, {
      client_id: 'c', hostname: 'h', user_agent: 'ua', feature_negotiation: true, heartbeat_interval: 1000,
      output_buffer_size: 64, output_buffer_timeout: 25, tls_v1: false, snappy: true, deflate: false,
      deflate_level: 3, sample_rate: 10, msg_timeout: 2000, topology_region: 'r', topology_zone: 'z',
    });
  });

  it('ignores unknown keys, including prototype names', () => {
    assert.deepEqual(decode('{"short_id":"a","long_id":"b","x":{"y":[1,{"z":"}"}]},"w":[]}'), {});
    assert.deepEqual(decode('{"constructor":"x","__proto__":{"a":1},"toString":"s","hasOwnProperty":5}'), {});
  });

  it('matches keys case-insensitively (with Unicode simple folding)', () => {
    assert.deepEqual(decode('{"Heartbeat_Interval":1500,"CLIENT_ID":"x","Feature_Negotiation":true}'), {
      heartbeat_interval: 1500, client_id: 'x', feature_negotiation: true,
    });
    // U+017F (long s) folds to s, U+212A (Kelvin sign) to k, as in Go.
    assert.deepEqual(decode('{"\u017fample_rate":5,"\u212aeep":1}'), { sample_rate: 5 });
    assert.deepEqual(decode('{"hostname":"a","HOSTNAME":"b"}'), { hostname: 'b' });
  });

  it('applies duplicate keys in order: the last wins, but a wrong type anywhere fails', () => {
    assert.deepEqual(decode('{"heartbeat_interval":1000,"HEARTBEAT_INTERVAL":2000}'), { heartbeat_interval: 2000 });
    assert.deepEqual(decode('{"heartbeat_interval":2000,"heartbeat_interval":null}'), { heartbeat_interval: 2000 });
    assert.equal(wire(() => decode('{"heartbeat_interval":"x","heartbeat_interval":1000}')), DECODE_ERROR);
  });

  it('treats null as absent, at top level and per field', () => {
    assert.deepEqual(decode('null'), {});
    assert.deepEqual(decode(' null '), {});
    assert.deepEqual(decode('{"client_id":null,"heartbeat_interval":null,"snappy":null}'), {});
    assert.deepEqual(decode(' { } '), {});
  });

  it('fails on bad JSON and on a non-object', () => {
    for (const s of ['', '{', '{"a":1,}', "{'a':1}", '{} x', '[]', '"s"', '1', 'true', '{"a":01}', '\ufeff{}']) {
      assert.equal(wire(() => decode(s)), DECODE_ERROR, JSON.stringify(s));
    }
  });

  it('fails on a wrong JSON type for a field', () => {
    for (const s of [
      '{"heartbeat_interval":"1000"}',
      '{"heartbeat_interval":true}',
      '{"heartbeat_interval":[1000]}',
      '{"heartbeat_interval":{}}',
      '{"feature_negotiation":1}',
      '{"feature_negotiation":"true"}',
      '{"client_id":5}',
      '{"client_id":false}',
      '{"hostname":["h"]}',
      '{"tls_v1":0}',
    ]) {
      assert.equal(wire(() => decode(s)), DECODE_ERROR, s);
    }
  });

  it('accepts only integer literals for int fields, within range', () => {
    for (const s of ['1000.5', '1000.0', '1e3', '1E3', '-1.0', '9223372036854775808', '-9223372036854775809']) {
      assert.equal(wire(() => decode(`{"msg_timeout":${s}}`)), DECODE_ERROR, s);
    }
    assert.deepEqual(decode('{"msg_timeout":-0}'), { msg_timeout: 0 });
    assert.deepEqual(decode('{"msg_timeout":9223372036854775807}'), { msg_timeout: 2 ** 63 }); // int64 max as a double
    // sample_rate is an int32
    assert.equal(wire(() => decode('{"sample_rate":2147483648}')), DECODE_ERROR);
    assert.deepEqual(decode('{"sample_rate":-2147483648}'), { sample_rate: -2147483648 });
  });

  it('decodes string escapes and invalid UTF-8 like Go (U+FFFD)', () => {
    assert.deepEqual(decode('{"user_agent":"a\\"b\\u00e9\\n"}'), { user_agent: 'a"bé\n' });
    assert.deepEqual(decodeIdentify(Buffer.concat([Buffer.from('{"client_id":"'), Buffer.from([0xff]), Buffer.from('"}')])), { client_id: '\ufffd' });
  });
});

describe('IDENTIFY validation', () => {
  const o = opts();
  const apply = (json: string) => applyIdentify(decode(json), defaults(o), o);

  it('keeps the defaults for absent or 0 values', () => {
    assert.deepEqual(apply('{}'), defaults(o));
    assert.deepEqual(apply('{"heartbeat_interval":0,"output_buffer_size":0,"output_buffer_timeout":0,"msg_timeout":0,"sample_rate":0}'), defaults(o));
    assert.deepEqual(defaults(o), { heartbeatIntervalMs: 30000, outputBufferSize: 16384, outputBufferTimeoutMs: 250, sampleRate: 0, msgTimeoutMs: 60000 });
  });

  it('heartbeat_interval: -1 disables, 1000 … max', () => {
    assert.equal(apply('{"heartbeat_interval":-1}').heartbeatIntervalMs, 0);
    assert.equal(apply('{"heartbeat_interval":1000}').heartbeatIntervalMs, 1000);
    assert.equal(apply('{"heartbeat_interval":60000}').heartbeatIntervalMs, 60000);
    for (const v of [999, 60001, -2, 1]) {
      assert.equal(wire(() => apply(`{"heartbeat_interval":${v}}`)), `E_BAD_BODY IDENTIFY heartbeat interval (${v}) is invalid`);
    }
  });

  it('output_buffer_timeout: -1 disables, --min … --max', () => {
    assert.equal(apply('{"output_buffer_timeout":-1}').outputBufferTimeoutMs, 0);
    assert.equal(apply('{"output_buffer_timeout":25}').outputBufferTimeoutMs, 25);
    assert.equal(apply('{"output_buffer_timeout":30000}').outputBufferTimeoutMs, 30000);
    for (const v of [24, 1, 30001, -2]) {
      assert.equal(wire(() => apply(`{"output_buffer_timeout":${v}}`)), `E_BAD_BODY IDENTIFY output buffer timeout (${v}) is invalid`);
    }
  });

  it('output_buffer_size: -1 means 1 byte and no timer, 64 … max', () => {
    assert.deepEqual(
      [apply('{"output_buffer_size":-1}').outputBufferSize, apply('{"output_buffer_size":-1}').outputBufferTimeoutMs],
      [1, 0],
    );
    assert.equal(apply('{"output_buffer_size":-1,"output_buffer_timeout":100}').outputBufferTimeoutMs, 0);
    assert.equal(apply('{"output_buffer_size":64}').outputBufferSize, 64);
    assert.equal(apply('{"output_buffer_size":65536}').outputBufferSize, 65536);
    for (const v of [63, 1, 65537, -2]) {
      assert.equal(wire(() => apply(`{"output_buffer_size":${v}}`)), `E_BAD_BODY IDENTIFY output buffer size (${v}) is invalid`);
    }
  });

  it('sample_rate: 0 … 99', () => {
    assert.equal(apply('{"sample_rate":99}').sampleRate, 99);
    for (const v of [100, -1]) assert.equal(wire(() => apply(`{"sample_rate":${v}}`)), `E_BAD_BODY IDENTIFY sample rate (${v}) is invalid`);
  });

  it('msg_timeout: 1000 … --max-msg-timeout', () => {
    assert.equal(apply('{"msg_timeout":1000}').msgTimeoutMs, 1000);
    assert.equal(apply('{"msg_timeout":900000}').msgTimeoutMs, 900000);
    for (const v of [999, 900001, -1]) assert.equal(wire(() => apply(`{"msg_timeout":${v}}`)), `E_BAD_BODY IDENTIFY msg timeout (${v}) is invalid`);
  });

  it('validates in the original order: heartbeat, buffer timeout, buffer size, sample rate, msg timeout', () => {
    const all = { heartbeat_interval: 1, output_buffer_timeout: 1, output_buffer_size: 1, sample_rate: 100, msg_timeout: 1 };
    const order = ['heartbeat interval (1)', 'output buffer timeout (1)', 'output buffer size (1)', 'sample rate (100)', 'msg timeout (1)'];
    const keys = Object.keys(all) as Array<keyof typeof all>;
    for (let i = 0; i < keys.length; i++) {
      const d: Record<string, number> = {};
      for (const k of keys.slice(i)) d[k] = all[k];
      assert.equal(wire(() => apply(JSON.stringify(d))), `E_BAD_BODY IDENTIFY ${order[i]} is invalid`);
    }
  });

  it('follows the server limits', () => {
    const o2 = opts({ maxHeartbeatInterval: 5000, maxOutputBufferSize: 1000, minOutputBufferTimeout: 100, maxOutputBufferTimeout: 200, maxMsgTimeout: 3000 });
    const a = (json: string) => applyIdentify(decode(json), defaults(o2), o2);
    assert.equal(wire(() => a('{"heartbeat_interval":5001}')), 'E_BAD_BODY IDENTIFY heartbeat interval (5001) is invalid');
    assert.equal(wire(() => a('{"output_buffer_size":1001}')), 'E_BAD_BODY IDENTIFY output buffer size (1001) is invalid');
    assert.equal(wire(() => a('{"output_buffer_timeout":99}')), 'E_BAD_BODY IDENTIFY output buffer timeout (99) is invalid');
    assert.equal(wire(() => a('{"msg_timeout":3001}')), 'E_BAD_BODY IDENTIFY msg timeout (3001) is invalid');
  });
});

describe('IDENTIFY feature negotiation', () => {
  it('replies with the original reply for the defaults, byte for byte', () => {
    const o = opts();
    const n = negotiate({ feature_negotiation: true }, o, false);
    assert.equal(
      identifyResponse(o, '1.3.0', defaults(o), n, false),
      '{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,"output_buffer_size":16384,"output_buffer_timeout":250,"topology_region":"","topology_zone":""}',
    );
  });

  it('reports effective values and escapes like Go', () => {
    const o = opts({ topologyRegion: 'a<b>&c', topologyZone: 'z\u2028' });
    const s = applyIdentify(decode('{"output_buffer_size":-1,"msg_timeout":2000,"sample_rate":7}'), defaults(o), o);
    const json = identifyResponse(o, '1.3.0', s, negotiate({}, o, false), true);
    assert.match(json, /"msg_timeout":2000,/);
    assert.match(json, /"sample_rate":7,"auth_required":true,"output_buffer_size":1,"output_buffer_timeout":0,/);
    assert.match(json, /"topology_region":"a\\u003cb\\u003e\\u0026c","topology_zone":"z\\u2028"}$/);
  });

  it('grants features only when enabled on the server and asked for', () => {
    const off = opts({ deflate: false, snappy: false });
    assert.deepEqual(negotiate({ tls_v1: true, snappy: true, deflate: true, deflate_level: 9 }, off, false), {
      tls: false, snappy: false, deflate: false, deflateLevel: 6,
    });
    const on = opts({ deflate: true, snappy: true, maxDeflateLevel: 6 });
    assert.deepEqual(negotiate({ tls_v1: true }, on, true), { tls: true, snappy: false, deflate: false, deflateLevel: 6 });
    assert.deepEqual(negotiate({ snappy: true }, on, true), { tls: false, snappy: true, deflate: false, deflateLevel: 6 });
    // level: client's value when deflate is granted and > 0, then capped by --max-deflate-level
    assert.equal(negotiate({ deflate: true, deflate_level: 3 }, on, false).deflateLevel, 3);
    assert.equal(negotiate({ deflate: true, deflate_level: 9 }, on, false).deflateLevel, 6);
    assert.equal(negotiate({ deflate: true, deflate_level: -4 }, on, false).deflateLevel, 6);
    assert.equal(negotiate({ deflate: true, deflate_level: 9 }, opts({ deflate: true, maxDeflateLevel: 9 }), false).deflateLevel, 9);
    assert.equal(negotiate({ deflate: true, deflate_level: 9 }, opts({ deflate: true, maxDeflateLevel: 2 }), false).deflateLevel, 2);
    assert.equal(negotiate({ deflate_level: 3 }, opts({ maxDeflateLevel: 2 }), false).deflateLevel, 2);
    assert.equal(negotiate({ deflate: true, deflate_level: 3 }, opts({ deflate: false }), false).deflateLevel, 6);
    assert.equal(
      wire(() => negotiate({ deflate: true, snappy: true }, on, false)),
      'E_IDENTIFY_FAILED cannot enable both deflate and snappy compression',
    );
    // both asked but only one enabled: no conflict
    assert.equal(negotiate({ deflate: true, snappy: true }, opts({ deflate: false, snappy: true }), false).snappy, true);
  });
});
