import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNsqd, startNsqlookupd, tempDir, type Daemon, startApp } from '../helpers/daemons.js';
import { unixPingOk, unixRequest } from '../helpers/unix-socket.js';
import { get, post } from './helpers.js';
import { eventually } from '../helpers/wait.js';

/**
 * What a real nsqd registers with a real nsqlookupd (upstream `nsqd/lookup.go`,
 * `nsqlookupd/lookup_protocol_v1.go`, `nsqlookupd/http.go`): the broadcast ports (`--broadcast-tcp-port` / `--broadcast-http-port`, else
 * the bound ports), the node topology, and the IDENTIFY a Unix-socket nsqd sends with port 0,
 * which lookupd refuses until broadcast ports are given.
 */
interface Node {
  remote_address: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  topology_zone: string;
  topology_region: string;
  topics: string[];
}

describe('nsqd registration with nsqlookupd', () => {
  let lookupd: Daemon;
  const daemons: Array<Daemon | Daemon> = [];
  const dirs: string[] = [];
  before(async () => {
    lookupd = await startNsqlookupd();
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await lookupd.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const lookupArg = () => `--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`;
  const nodes = async () => (await get(lookupd.httpPort, '/nodes')).json().producers as Node[];
  const nodeWithPort = async (tcpPort: number) => {
    let found: Node | undefined;
    await eventually(async () => {
      found = (await nodes()).find((n) => n.tcp_port === tcpPort);
      assert.ok(found, `no node with tcp_port ${tcpPort}`);
    });
    return found!;
  };

  async function unixNsqd(extra: string[]): Promise<{ d: Daemon; httpSock: string }> {
    const dir = tempDir('tsnsq-audit-reg-');
    dirs.push(dir);
    const httpSock = path.join(dir, 'http.sock');
    const d = await startApp(
      'nsqd',
      [`--tcp-address=${path.join(dir, 'tcp.sock')}`, `--http-address=${httpSock}`, `--data-path=${dir}`, '--broadcast-address=127.0.0.1', lookupArg(), ...extra],
      { ready: () => unixPingOk(httpSock) });
    daemons.push(d);
    return { d, httpSock };
  }

  it('registers --broadcast-tcp-port/--broadcast-http-port and the topology; statsd uses the HTTP one', async () => {
    const d = await startNsqd([lookupArg(), '--broadcast-tcp-port=14999', '--broadcast-http-port=15999', '--topology-zone=z1', '--topology-region=r1']);
    daemons.push(d);
    await post(d.httpPort, '/topic/create?topic=reg_t');
    const node = await nodeWithPort(14999);
    assert.equal(node.http_port, 15999);
    assert.equal(node.broadcast_address, '127.0.0.1');
    assert.deepEqual([node.topology_zone, node.topology_region], ['z1', 'r1']);
    await eventually(async () => assert.ok((await nodeWithPort(14999)).topics.includes('reg_t')));

    const lookup = (await get(lookupd.httpPort, '/lookup?topic=reg_t')).json() as { producers: Node[] };
    const p = lookup.producers.find((x) => x.tcp_port === 14999)!;
    assert.deepEqual([p.http_port, p.topology_zone, p.topology_region], [15999, 'z1', 'r1']);

    const debug = (await get(lookupd.httpPort, '/debug')).json() as Record<string, Array<Record<string, unknown>>>;
    const entry = debug['client::']!.find((x) => x.tcp_port === 14999)!;
    assert.deepEqual([entry.topology_zone, entry.topology_region, entry.id], ['z1', 'r1', node.remote_address]);

    assert.equal((await get(d.httpPort, '/config/statsd_prefix')).body, 'nsq.127_0_0_1_15999.');
    assert.equal((await get(d.httpPort, '/config/broadcast_tcp_port')).body, '14999');
  });

  it('registers the bound ports when no broadcast ports are given (also in /config)', async () => {
    const d = await startNsqd([lookupArg()]);
    daemons.push(d);
    const node = await nodeWithPort(d.tcpPort);
    assert.equal(node.http_port, d.httpPort);
    assert.equal((await get(d.httpPort, '/config/broadcast_tcp_port')).body, String(d.tcpPort));
    assert.equal((await get(d.httpPort, '/config/broadcast_http_port')).body, String(d.httpPort));
  });

  it('a Unix-socket nsqd identifies with port 0, which lookupd refuses; broadcast ports fix that', async () => {
    const refused = await unixNsqd([]);
    await eventually(() => assert.match(refused.d.logs(), /LOOKUPD\(127\.0\.0\.1:\d+\): parsing response - E_BAD_BODY IDENTIFY missing fields/));
    assert.equal((await nodes()).some((n) => n.tcp_port === 0 || n.http_port === 0), false);

    const ok = await unixNsqd(['--broadcast-tcp-port=16001', '--broadcast-http-port=16002']);
    const node = await nodeWithPort(16001);
    assert.equal(node.http_port, 16002);
    assert.equal((await unixRequest(ok.httpSock, 'GET', '/config/statsd_prefix')).body, 'nsq.127_0_0_1_16002.');
  });
});
