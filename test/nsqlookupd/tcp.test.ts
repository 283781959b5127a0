import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { RawClient, get, nsqdInfo, startLookupd, type TestLookupd } from '../helpers/lookupd.js';
import { eventually } from '../helpers/wait.js';

describe('nsqlookupd TCP protocol (real server)', () => {
  let l: TestLookupd;
  before(async () => {
    l = await startLookupd();
  });
  after(async () => {
    await l.close();
  });

  async function expectFatal(c: RawClient, expected: string): Promise<void> {
    assert.equal(await c.read(), expected);
    await c.closed;
    c.destroy();
  }

  it('PING works before IDENTIFY', async () => {
    const c = await RawClient.connect(l.tcpPort);
    assert.equal(await c.command('PING'), 'OK');
    assert.equal(await c.command('PING'), 'OK');
    c.destroy();
  });

  it('IDENTIFY answers the lookupd info with sorted keys and real ports', async () => {
    const c = await RawClient.connect(l.tcpPort);
    const resp = await c.identify();
    assert.equal(
      resp,
      `{"broadcast_address":"127.0.0.1","hostname":${JSON.stringify(os.hostname())},` +
        `"http_port":${l.httpPort},"tcp_port":${l.tcpPort},"version":"1.3.0"}`,
    );
    assert.equal(await c.command('PING'), 'OK');
    c.destroy();
  });

  it('wrong magic → E_BAD_PROTOCOL and close', async () => {
    const c = await RawClient.connect(l.tcpPort, Buffer.from('XXXX'));
    await expectFatal(c, 'E_BAD_PROTOCOL');
    const v2 = await RawClient.connect(l.tcpPort, Buffer.from('  V2'));
    await expectFatal(v2, 'E_BAD_PROTOCOL');
    assert.ok(l.lines.some((s) => s.includes("bad protocol magic 'XXXX'")));
  });

  it('REGISTER/UNREGISTER before IDENTIFY → E_INVALID client must IDENTIFY', async () => {
    const c = await RawClient.connect(l.tcpPort);
    c.write('REGISTER foo\n');
    await expectFatal(c, 'E_INVALID client must IDENTIFY');
    const u = await RawClient.connect(l.tcpPort);
    u.write('UNREGISTER foo\n');
    await expectFatal(u, 'E_INVALID client must IDENTIFY');
  });

  it('unknown commands and empty lines are fatal', async () => {
    const c = await RawClient.connect(l.tcpPort);
    c.write('FOO bar\n');
    await expectFatal(c, 'E_INVALID invalid command FOO');
    const e = await RawClient.connect(l.tcpPort);
    e.write('\r\n');
    await expectFatal(e, 'E_INVALID invalid command ');
    const lower = await RawClient.connect(l.tcpPort);
    lower.write('ping\n');
    await expectFatal(lower, 'E_INVALID invalid command ping');
  });

  it('IDENTIFY with missing fields / bad JSON / wrong types', async () => {
    const cases: [object | Buffer, string][] = [
      [{ broadcast_address: 'x' }, 'E_BAD_BODY IDENTIFY missing fields'],
      [nsqdInfo({ tcp_port: 0 }), 'E_BAD_BODY IDENTIFY missing fields'],
      [nsqdInfo({ version: '' }), 'E_BAD_BODY IDENTIFY missing fields'],
      [nsqdInfo({ http_port: null }), 'E_BAD_BODY IDENTIFY missing fields'],
      [Buffer.from('null'), 'E_BAD_BODY IDENTIFY missing fields'],
      [Buffer.from('{nope'), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
      [Buffer.from(''), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
      [Buffer.from('[1]'), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
      [nsqdInfo({ tcp_port: '4150' }), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
      [nsqdInfo({ tcp_port: 1.5 }), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
      [nsqdInfo({ hostname: 5 }), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
      [nsqdInfo({ remote_address: 5 }), 'E_BAD_BODY IDENTIFY failed to decode JSON body'],
    ];
    for (const [body, expected] of cases) {
      const c = await RawClient.connect(l.tcpPort);
      c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), lengthPrefixed(body)]));
      await expectFatal(c, expected);
    }
  });

  it('IDENTIFY accepts case-insensitive keys and ignores unknown ones', async () => {
    const c = await RawClient.connect(l.tcpPort);
    const resp = await c.identify({ BROADCAST_ADDRESS: 'h', Tcp_Port: 1, http_port: 2, version: 'v', extra: [1, 2] });
    assert.match(resp!, /^\{"broadcast_address"/);
    c.destroy();
  });

  it('IDENTIFY twice → E_INVALID cannot IDENTIFY again, answered before any body', async () => {
    const c = await RawClient.connect(l.tcpPort);
    assert.match((await c.identify())!, /"version":"1\.3\.0"/);
    c.write('IDENTIFY\n'); // no body follows
    await expectFatal(c, 'E_INVALID cannot IDENTIFY again');
  });

  it('oversized and negative IDENTIFY bodies are refused without reading them', async () => {
    const c = await RawClient.connect(l.tcpPort);
    c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0x7f, 0xff, 0xff, 0xff])]));
    await expectFatal(c, 'E_BAD_BODY IDENTIFY body too big 2147483647 > 1048576');
    const n = await RawClient.connect(l.tcpPort);
    n.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
    await expectFatal(n, 'E_BAD_BODY IDENTIFY invalid body size -1');
  });

  it('EOF inside an IDENTIFY body is answered like the original', async () => {
    const c = await RawClient.connect(l.tcpPort);
    c.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0, 0])]));
    c.socket.end();
    await expectFatal(c, 'E_BAD_BODY IDENTIFY failed to read body size');
    const d = await RawClient.connect(l.tcpPort);
    d.write(Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0, 0, 0, 10]), Buffer.from('{"a"')]));
    d.socket.end();
    await expectFatal(d, 'E_BAD_BODY IDENTIFY failed to read body');
  });

  it('REGISTER parameter errors (single-quoted names)', async () => {
    const cases: [string, string][] = [
      ['REGISTER\n', 'E_INVALID REGISTER insufficient number of params'],
      ['UNREGISTER\n', 'E_INVALID UNREGISTER insufficient number of params'],
      ['REGISTER bad*\n', "E_BAD_TOPIC REGISTER topic name 'bad*' is not valid"],
      ['REGISTER  t\n', "E_BAD_TOPIC REGISTER topic name '' is not valid"],
      ['REGISTER t bad!\n', "E_BAD_CHANNEL REGISTER channel name 'bad!' is not valid"],
      ['UNREGISTER t bad!\n', "E_BAD_CHANNEL UNREGISTER channel name 'bad!' is not valid"],
      [`REGISTER ${'x'.repeat(65)}\n`, `E_BAD_TOPIC REGISTER topic name '${'x'.repeat(65)}' is not valid`],
    ];
    for (const [line, expected] of cases) {
      const c = await RawClient.connect(l.tcpPort);
      assert.match((await c.identify())!, /^\{/);
      c.write(line);
      await expectFatal(c, expected);
    }
  });

  it('echoes non-UTF-8 names byte for byte', async () => {
    const c = await RawClient.connect(l.tcpPort);
    await c.identify();
    c.write(Buffer.concat([Buffer.from('REGISTER '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
    const r = await c.read();
    assert.deepEqual(Buffer.from(r!, 'latin1'), Buffer.concat([
      Buffer.from("E_BAD_TOPIC REGISTER topic name '"),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("' is not valid"),
    ]));
    c.destroy();
  });

  it('commands split into single bytes work', async () => {
    const c = await RawClient.connect(l.tcpPort, null);
    const stream = Buffer.concat([
      Buffer.from('  V1PING\nIDENTIFY\n'),
      lengthPrefixed(nsqdInfo()),
      Buffer.from('REGISTER bytewise ch\n'),
    ]);
    for (const b of stream) {
      c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await c.read(), 'OK');
    assert.match((await c.read())!, /^\{"broadcast_address"/);
    assert.equal(await c.read(), 'OK');
    const r = await get(l.httpPort, '/lookup?topic=bytewise');
    assert.deepEqual(r.json().channels, ['ch']);
    c.destroy();
  });

  it('pipelined commands in one write get one response each', async () => {
    const c = await RawClient.connect(l.tcpPort, null);
    c.write(Buffer.concat([
      Buffer.from('  V1IDENTIFY\n'),
      lengthPrefixed(nsqdInfo()),
      Buffer.from('PING\nREGISTER pipe\nREGISTER pipe c\nUNREGISTER pipe c\nPING\n'),
    ]));
    assert.match((await c.read())!, /^\{/);
    for (let i = 0; i < 5; i++) assert.equal(await c.read(), 'OK');
    c.destroy();
  });

  it('random garbage never crashes the server; other nodes stay registered', async () => {
    const good = await RawClient.connect(l.tcpPort);
    await good.identify(nsqdInfo({ broadcast_address: 'survivor' }));
    assert.equal(await good.command('REGISTER', ['survive', 'ch']), 'OK');
    for (let round = 0; round < 30; round++) {
      const g = await RawClient.connect(l.tcpPort, round % 2 === 0 ? undefined : null);
      const junk = Buffer.alloc(1 + Math.floor(Math.random() * 2000));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.random() < 0.05 ? 0x0a : Math.floor(Math.random() * 256);
      g.write(junk);
      g.socket.end();
      await g.closed;
    }
    const r = await get(l.httpPort, '/lookup?topic=survive');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json().channels, ['ch']);
    assert.equal(r.json().producers.length, 1);
    assert.equal(r.json().producers[0].broadcast_address, 'survivor');
    assert.equal(await good.command('PING'), 'OK');
    good.destroy();
  });

  it('registration semantics and cleanup on disconnect', async () => {
    const a = await RawClient.connect(l.tcpPort);
    const b = await RawClient.connect(l.tcpPort);
    await a.identify(nsqdInfo({ broadcast_address: 'node-a', tcp_port: 1, http_port: 2 }));
    await b.identify(nsqdInfo({ broadcast_address: 'node-b', tcp_port: 3, http_port: 4 }));
    assert.equal(await a.command('REGISTER', ['sem', 'c1']), 'OK');
    assert.equal(await a.command('REGISTER', ['sem', 'c1']), 'OK'); // duplicate: no-op
    assert.equal(await a.command('REGISTER', ['sem', 'eph#ephemeral']), 'OK');
    assert.equal(await b.command('REGISTER', ['sem', 'eph#ephemeral', 'extra-ignored']), 'OK');
    assert.equal(await b.command('REGISTER', ['sem']), 'OK');
    assert.equal(await a.command('REGISTER', ['tmp#ephemeral']), 'OK');

    let r = (await get(l.httpPort, '/lookup?topic=sem')).json();
    assert.deepEqual(r.channels.sort(), ['c1', 'eph#ephemeral']);
    assert.deepEqual(r.producers.map((p: any) => p.broadcast_address).sort(), ['node-a', 'node-b']);
    const pa = r.producers.find((p: any) => p.broadcast_address === 'node-a');
    assert.deepEqual(pa, {
      remote_address: a.localAddress,
      hostname: 'nsqd-hostname',
      broadcast_address: 'node-a',
      tcp_port: 1,
      http_port: 2,
      version: '1.3.0',
      topology_zone: '',
      topology_region: '',
    });
    assert.deepEqual(Object.keys(pa), [
      'remote_address', 'hostname', 'broadcast_address', 'tcp_port', 'http_port', 'version', 'topology_zone', 'topology_region',
    ]);

    // ephemeral channel: key removed only with its last producer
    assert.equal(await a.command('UNREGISTER', ['sem', 'eph#ephemeral']), 'OK');
    assert.deepEqual((await get(l.httpPort, '/channels?topic=sem')).json().channels.sort(), ['c1', 'eph#ephemeral']);
    assert.equal(await b.command('UNREGISTER', ['sem', 'eph#ephemeral']), 'OK');
    assert.deepEqual((await get(l.httpPort, '/channels?topic=sem')).json().channels, ['c1']);

    // ephemeral topic key removed with its last producer
    assert.equal(await a.command('UNREGISTER', ['tmp#ephemeral']), 'OK');
    assert.equal((await get(l.httpPort, '/lookup?topic=tmp%23ephemeral')).status, 404);

    // UNREGISTER <topic> also drops the peer from the topic's channels (warning logged)
    assert.equal(await a.command('UNREGISTER', ['sem']), 'OK');
    assert.ok(l.lines.some((s) => s.includes('WARNING: client(') && s.includes('unexpected UNREGISTER category:channel key:sem subkey:c1')));
    r = (await get(l.httpPort, '/lookup?topic=sem')).json();
    assert.deepEqual(r.producers.map((p: any) => p.broadcast_address), ['node-b']);
    assert.deepEqual(r.channels, ['c1']); // non-ephemeral channel key stays, now empty

    // disconnect: b leaves every registration, keys stay
    b.destroy();
    await eventually(async () => {
      const n = (await get(l.httpPort, '/nodes')).json().producers.map((p: any) => p.broadcast_address);
      assert.ok(!n.includes('node-b'));
    });
    r = (await get(l.httpPort, '/lookup?topic=sem')).json();
    assert.deepEqual(r, { channels: ['c1'], producers: [] });
    assert.equal(await a.command('PING'), 'OK');
    a.destroy();
  });

  it('a client fatal error does not disturb other nodes', async () => {
    const a = await RawClient.connect(l.tcpPort);
    await a.identify(nsqdInfo({ broadcast_address: 'stay' }));
    assert.equal(await a.command('REGISTER', ['undisturbed', 'x']), 'OK');
    const bad = await RawClient.connect(l.tcpPort);
    await bad.identify(nsqdInfo({ broadcast_address: 'leave' }));
    assert.equal(await bad.command('REGISTER', ['undisturbed', 'x']), 'OK');
    bad.write('REGISTER bad*\n');
    await expectFatal(bad, "E_BAD_TOPIC REGISTER topic name 'bad*' is not valid");
    await eventually(async () => {
      const r = (await get(l.httpPort, '/lookup?topic=undisturbed')).json();
      assert.deepEqual(r.producers.map((p: any) => p.broadcast_address), ['stay']);
    });
    a.destroy();
  });
});

function lengthPrefixed(body: object | Buffer): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const out = Buffer.alloc(4 + b.length);
  out.writeInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}
