import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol/errors.js';
import { parseIdentifyBody } from '../../src/nsqlookupd/handlers/identify.js';
import { LookupSession, type LookupContext } from '../../src/nsqlookupd/lookup-session.js';
import { RegistrationDB } from '../../src/nsqlookupd/registration-db.js';
import { memoryLogger } from '../helpers/lookupd.js';

function context(now = 1000): LookupContext & { clock: { now: number } } {
  const clock = { now };
  return {
    db: new RegistrationDB(),
    logger: memoryLogger().logger,
    now: () => clock.now,
    identifyResponse: () => '{"lookupd":true}',
    clock,
  };
}

const body = (o: object) => Buffer.from(JSON.stringify(o));
const info = { broadcast_address: 'h', tcp_port: 1, http_port: 2, version: 'v' };

function fatal(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && e.fatal && e.message === message);
}

describe('LookupSession (socket-free)', () => {
  it('dispatches through the command table with preconditions', () => {
    const ctx = context();
    const s = new LookupSession(ctx, '10.0.0.1:5000');
    assert.equal(s.exec({ type: 'line', name: 'PING', params: [], hasBody: false }), 'OK');
    fatal(() => s.exec({ type: 'line', name: 'REGISTER', params: ['t'], hasBody: false }), 'E_INVALID client must IDENTIFY');
    fatal(() => s.exec({ type: 'line', name: 'NOPE', params: [], hasBody: false }), 'E_INVALID invalid command NOPE');
    // IDENTIFY line: the body must be read first
    assert.equal(s.exec({ type: 'line', name: 'IDENTIFY', params: [], hasBody: true }), null);
    assert.equal(s.exec({ type: 'body', name: 'IDENTIFY', params: [], body: body(info) }), '{"lookupd":true}');
    assert.equal(s.peerInfo?.id, '10.0.0.1:5000');
    fatal(() => s.exec({ type: 'line', name: 'IDENTIFY', params: [], hasBody: true }), 'E_INVALID cannot IDENTIFY again');
    assert.equal(s.exec({ type: 'line', name: 'REGISTER', params: ['t', 'c'], hasBody: false }), 'OK');
    assert.deepEqual(
      ctx.db.lookupRegistrations('10.0.0.1:5000').map((r) => `${r.category}:${r.key}:${r.subkey}`).sort(),
      ['channel:t:c', 'client::', 'topic:t:'],
    );
    ctx.clock.now = 5000;
    assert.equal(s.exec({ type: 'line', name: 'PING', params: [], hasBody: false }), 'OK');
    assert.equal(s.peerInfo?.lastUpdate, 5000);
    s.close();
    assert.deepEqual(ctx.db.lookupRegistrations('10.0.0.1:5000'), []);
    assert.equal(ctx.db.findRegistrations('channel', 't', 'c').length, 1); // keys stay
  });
});

describe('parseIdentifyBody', () => {
  it('fills the peer info, id and remote address from the connection', () => {
    const p = parseIdentifyBody(
      body({ ...info, hostname: 'hn', topology_zone: 'z', topology_region: 'r', remote_address: 'spoofed', id: 'x' }),
      '1.2.3.4:5',
      42,
    );
    assert.deepEqual(p, {
      remoteAddress: '1.2.3.4:5',
      hostname: 'hn',
      broadcastAddress: 'h',
      tcpPort: 1,
      httpPort: 2,
      version: 'v',
      topologyZone: 'z',
      topologyRegion: 'r',
      id: '1.2.3.4:5',
      lastUpdate: 42,
    });
  });

  it('applies the original rules for required fields and types', () => {
    const ok = (o: unknown) => parseIdentifyBody(Buffer.from(JSON.stringify(o)), 'a:1', 0);
    fatal(() => ok({ ...info, broadcast_address: '' }), 'E_BAD_BODY IDENTIFY missing fields');
    fatal(() => ok({ ...info, http_port: 0 }), 'E_BAD_BODY IDENTIFY missing fields');
    fatal(() => ok({ ...info, version: null }), 'E_BAD_BODY IDENTIFY missing fields');
    fatal(() => ok({ ...info, tcp_port: true }), 'E_BAD_BODY IDENTIFY failed to decode JSON body');
    fatal(() => ok({ ...info, tcp_port: 1e300 }), 'E_BAD_BODY IDENTIFY failed to decode JSON body');
    fatal(() => ok('str'), 'E_BAD_BODY IDENTIFY failed to decode JSON body');
    fatal(() => ok(7), 'E_BAD_BODY IDENTIFY failed to decode JSON body');
    fatal(() => parseIdentifyBody(Buffer.from('{} x'), 'a:1', 0), 'E_BAD_BODY IDENTIFY failed to decode JSON body');
    assert.equal(ok({ ...info, tcp_port: -1 }).tcpPort, -1); // only zero is "missing"
    // keys match case-insensitively and the last one in the document wins, as in encoding/json
    const doc = (s: string) => parseIdentifyBody(Buffer.from(s), 'a:1', 0);
    assert.equal(doc('{"broadcast_address":"h","tcp_port":1,"version":"v","Http_Port":9,"http_port":3}').httpPort, 3);
    assert.equal(doc('{"broadcast_address":"h","tcp_port":1,"version":"v","http_port":3,"HTTP_PORT":9}').httpPort, 9);
  });
});
