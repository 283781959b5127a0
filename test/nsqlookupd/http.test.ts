import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, get, nsqdInfo, post, request, startLookupd, type HttpResult, type TestLookupd } from '../helpers/lookupd.js';
import { eventually } from '../helpers/wait.js';

const V1 = 'nsq; version=1.0';
const JSON_TYPE = 'application/json; charset=utf-8';

function assertV1Json(r: HttpResult, status: number, body: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['x-nsq-content-type'], V1);
  assert.equal(r.headers['content-type'], JSON_TYPE);
  assert.equal(r.body, body);
}

function assertV1Empty(r: HttpResult): void {
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['x-nsq-content-type'], V1);
  assert.equal(r.headers['content-type'], undefined);
  assert.equal(r.body, '');
}

describe('nsqlookupd HTTP API (real server)', () => {
  let l: TestLookupd;
  let port: number;
  before(async () => {
    l = await startLookupd();
    port = l.httpPort;
  });
  after(async () => {
    await l.close();
  });

  it('/ping is plain text without the NSQ header', async () => {
    const r = await get(port, '/ping');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK');
    assert.equal(r.headers['x-nsq-content-type'], undefined);
    assert.match(r.headers['content-type']!, /^text\/plain/);
  });

  it('/info', async () => {
    assertV1Json(await get(port, '/info'), 200, '{"version":"1.3.0"}');
  });

  it('routing: 404, 405 with Allow, redirect', async () => {
    assertV1Json(await get(port, '/nope'), 404, '{"message":"NOT_FOUND"}');
    const r = await get(port, '/topic/create');
    assertV1Json(r, 405, '{"message":"METHOD_NOT_ALLOWED"}');
    assert.equal(r.headers.allow, 'OPTIONS, POST');
    const m = await post(port, '/lookup');
    assert.equal(m.status, 405);
    assert.equal(m.headers.allow, 'GET, OPTIONS');
    const red = await get(port, '/topics/');
    assert.equal(red.status, 301);
    assert.equal(red.headers.location, '/topics');
    // legacy endpoints are gone (removed upstream; docs/compatibility.md)
    assert.equal((await post(port, '/delete_topic?topic=x')).status, 404);
    assert.equal((await get(port, '/tombstone_topic_producer?topic=x&node=y')).status, 404);
  });

  it('empty directory: arrays are [] not null', async () => {
    const fresh = await startLookupd();
    try {
      assertV1Json(await get(fresh.httpPort, '/topics'), 200, '{"topics":[]}');
      assertV1Json(await get(fresh.httpPort, '/channels?topic=x'), 200, '{"channels":[]}');
      assertV1Json(await get(fresh.httpPort, '/nodes'), 200, '{"producers":[]}');
      assertV1Json(await get(fresh.httpPort, '/debug'), 200, '{}');
    } finally {
      await fresh.close();
    }
  });

  it('argument errors', async () => {
    assertV1Json(await get(port, '/lookup'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await get(port, '/lookup?topic=nope'), 404, '{"message":"TOPIC_NOT_FOUND"}');
    assertV1Json(await get(port, '/lookup?topic='), 404, '{"message":"TOPIC_NOT_FOUND"}');
    assertV1Json(await get(port, '/lookup?topic=%zz'), 400, '{"message":"INVALID_REQUEST"}');
    assertV1Json(await get(port, '/channels'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await post(port, '/topic/create'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await post(port, '/topic/create?topic=bad*'), 400, '{"message":"INVALID_ARG_TOPIC"}');
    assertV1Json(await post(port, '/topic/create?topic='), 400, '{"message":"INVALID_ARG_TOPIC"}');
    assertV1Json(await post(port, '/topic/delete'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await post(port, '/channel/create'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await post(port, '/channel/create?topic=b@d'), 400, '{"message":"INVALID_ARG_TOPIC"}');
    assertV1Json(await post(port, '/channel/create?topic=t'), 400, '{"message":"MISSING_ARG_CHANNEL"}');
    assertV1Json(await post(port, '/channel/create?topic=t&channel=b@d'), 400, '{"message":"INVALID_ARG_CHANNEL"}');
    assertV1Json(await post(port, '/channel/delete?channel=c'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await post(port, '/channel/delete?topic=t'), 400, '{"message":"MISSING_ARG_CHANNEL"}');
    assertV1Json(await post(port, '/channel/delete?topic=t&channel=%'), 400, '{"message":"INVALID_REQUEST"}');
    assertV1Json(await post(port, '/channel/delete?topic=admin_t&channel=zz'), 404, '{"message":"CHANNEL_NOT_FOUND"}');
    assertV1Json(await post(port, '/topic/tombstone'), 400, '{"message":"MISSING_ARG_TOPIC"}');
    assertV1Json(await post(port, '/topic/tombstone?topic=t'), 400, '{"message":"MISSING_ARG_NODE"}');
    assertV1Empty(await post(port, '/topic/delete?topic=nonexist'));
    assertV1Empty(await post(port, '/topic/tombstone?topic=nonexist&node=x:1'));
    assertV1Empty(await post(port, '/topic/tombstone?topic=bad*name&node=x:1')); // not validated
  });

  it('topic and channel create/delete without producers', async () => {
    assertV1Empty(await post(port, '/topic/create?topic=ht1'));
    assertV1Empty(await post(port, '/topic/create?topic=ht1')); // idempotent
    assertV1Json(await get(port, '/lookup?topic=ht1'), 200, '{"channels":[],"producers":[]}');
    assertV1Empty(await post(port, '/channel/create?topic=ht2&channel=c1'));
    assertV1Empty(await post(port, '/channel/create?topic=ht2&channel=c2&channel=ignored'));
    assertV1Json(await get(port, '/channels?topic=ht2'), 200, '{"channels":["c1","c2"]}');
    assertV1Json(await get(port, '/channels?topic=ht2&topic=ht1'), 200, '{"channels":["c1","c2"]}'); // first wins
    assertV1Json(await get(port, '/lookup?topic=ht2'), 200, '{"channels":["c1","c2"],"producers":[]}');
    const t = (await get(port, '/topics')).json().topics;
    assert.ok(t.includes('ht1') && t.includes('ht2'));
    assertV1Empty(await post(port, '/channel/delete?topic=ht2&channel=c1'));
    assertV1Json(await get(port, '/channels?topic=ht2'), 200, '{"channels":["c2"]}');
    assertV1Empty(await post(port, '/topic/delete?topic=ht2'));
    assertV1Json(await get(port, '/lookup?topic=ht2'), 404, '{"message":"TOPIC_NOT_FOUND"}');
    assertV1Json(await get(port, '/channels?topic=ht2'), 200, '{"channels":[]}');
    assertV1Json(await post(port, '/channel/delete?topic=ht2&channel=c2'), 404, '{"message":"CHANNEL_NOT_FOUND"}');
    // accepts a request body (read and ignored)
    const withBody = await request(port, 'POST', '/topic/create?topic=ht3');
    assertV1Empty(withBody);
  });

  it('/nodes, /lookup, /topic/tombstone and /debug with producers', async () => {
    const fresh = await startLookupd();
    const p = fresh.httpPort;
    const a = await RawClient.connect(fresh.tcpPort);
    const b = await RawClient.connect(fresh.tcpPort);
    try {
      await a.identify(nsqdInfo({ broadcast_address: 'a.example', tcp_port: 4150, http_port: 4151, topology_zone: 'z1', topology_region: 'r1' }));
      await b.identify(nsqdInfo({ broadcast_address: 'b.example', tcp_port: 5150, http_port: 5151, hostname: 'b<&>' }));
      assert.equal(await a.command('REGISTER', ['nt', 'c']), 'OK');
      assert.equal(await a.command('REGISTER', ['other']), 'OK');
      assert.equal(await b.command('REGISTER', ['nt']), 'OK');

      const nodes = (await get(p, '/nodes')).json().producers;
      assert.equal(nodes.length, 2);
      const na = nodes.find((n: any) => n.broadcast_address === 'a.example');
      assert.deepEqual(Object.keys(na), [
        'remote_address', 'hostname', 'broadcast_address', 'tcp_port', 'http_port', 'version',
        'topology_zone', 'topology_region', 'tombstones', 'topics',
      ]);
      assert.equal(na.remote_address, a.localAddress);
      assert.equal(na.topology_zone, 'z1');
      assert.equal(na.topology_region, 'r1');
      assert.deepEqual(na.topics.sort(), ['nt', 'other']);
      assert.deepEqual(na.tombstones, [false, false]);

      // Go escapes HTML characters in JSON strings
      assert.ok((await get(p, '/nodes')).body.includes('"hostname":"b\\u003c\\u0026\\u003e"'));

      // tombstone a's producer of nt: hidden from /lookup (not from /nodes), other topics unaffected
      assertV1Empty(await post(p, '/topic/tombstone?topic=nt&node=a.example:4151'));
      const look = (await get(p, '/lookup?topic=nt')).json();
      assert.deepEqual(look.producers.map((x: any) => x.broadcast_address), ['b.example']);
      assert.deepEqual(look.channels, ['c']);
      assert.equal((await get(p, '/lookup?topic=other')).json().producers.length, 1);
      const after = (await get(p, '/nodes')).json().producers;
      const na2 = after.find((n: any) => n.broadcast_address === 'a.example');
      assert.equal(na2.tombstones[na2.topics.indexOf('nt')], true);
      assert.equal(na2.tombstones[na2.topics.indexOf('other')], false);
      // node matching is plain concatenation: the tcp port does not match
      assertV1Empty(await post(p, '/topic/tombstone?topic=nt&node=b.example:5150'));
      assert.equal((await get(p, '/lookup?topic=nt')).json().producers.length, 1);

      // re-registering keeps the tombstone; UNREGISTER + REGISTER clears it
      assert.equal(await a.command('REGISTER', ['nt']), 'OK');
      assert.equal((await get(p, '/lookup?topic=nt')).json().producers.length, 1);
      assert.equal(await a.command('UNREGISTER', ['nt', 'c']), 'OK');
      assert.equal(await a.command('UNREGISTER', ['nt']), 'OK');
      assert.equal(await a.command('REGISTER', ['nt', 'c']), 'OK');
      assert.equal((await get(p, '/lookup?topic=nt')).json().producers.length, 2);

      // /debug: sorted keys, exact producer shape, Go's zero time for never-tombstoned producers
      await post(p, '/topic/create?topic=empty-key');
      assert.equal(await b.command('UNREGISTER', ['nt']), 'OK');
      assert.equal(await b.command('REGISTER', ['nt']), 'OK');
      await post(p, `/topic/tombstone?topic=nt&node=b.example:5151`);
      const dbg = await get(p, '/debug');
      assert.equal(dbg.headers['content-type'], JSON_TYPE);
      assert.equal(dbg.headers['x-nsq-content-type'], V1);
      const keys = [...dbg.body.matchAll(/"((?:channel|client|topic):[^"]*)":\[/g)].map((m) => m[1]);
      assert.deepEqual(keys, ['channel:nt:c', 'client::', 'topic:nt:', 'topic:other:']);
      const producerA =
        /\{"broadcast_address":"a\.example","hostname":"nsqd-hostname","http_port":4151,"id":"([^"]+)","last_update":(\d+),"tcp_port":4150,"tombstoned":false,"tombstoned_at":-6795364578871345152,"topology_region":"r1","topology_zone":"z1","version":"1\.3\.0"\}/;
      const m = producerA.exec(dbg.body);
      assert.ok(m, dbg.body);
      assert.equal(m[1], a.localAddress);
      const lastUpdateMs = Number(BigInt(m[2]!) / 1_000_000n);
      assert.ok(Math.abs(lastUpdateMs - Date.now()) < 60_000);
      assert.match(dbg.body, /"broadcast_address":"b\.example"[^}]*"tombstoned":true,"tombstoned_at":\d{19},/);
    } finally {
      a.destroy();
      b.destroy();
      await fresh.close();
    }
  });

  it('inactive producers disappear from /lookup and /nodes; PING brings them back', async () => {
    const fresh = await startLookupd({ inactiveProducerTimeout: 200 });
    const c = await RawClient.connect(fresh.tcpPort);
    try {
      await c.identify();
      assert.equal(await c.command('REGISTER', ['idle', 'ch']), 'OK');
      await eventually(async () => {
        assert.deepEqual((await get(fresh.httpPort, '/lookup?topic=idle')).json(), { channels: ['ch'], producers: [] });
        assert.deepEqual((await get(fresh.httpPort, '/nodes')).json(), { producers: [] });
      });
      // the key and the registration are still there
      assert.match((await get(fresh.httpPort, '/debug')).body, /"topic:idle:":\[\{/);
      await eventually(async () => {
        assert.equal(await c.command('PING'), 'OK');
        assert.equal((await get(fresh.httpPort, '/lookup?topic=idle')).json().producers.length, 1);
        assert.equal((await get(fresh.httpPort, '/nodes')).json().producers.length, 1);
      });
    } finally {
      c.destroy();
      await fresh.close();
    }
  });

  it('tombstones expire after the tombstone lifetime', async () => {
    const fresh = await startLookupd({ tombstoneLifetime: 1500 });
    const c = await RawClient.connect(fresh.tcpPort);
    try {
      await c.identify(nsqdInfo({ broadcast_address: 'tomb', http_port: 7 }));
      assert.equal(await c.command('REGISTER', ['tt']), 'OK');
      assertV1Empty(await post(fresh.httpPort, '/topic/tombstone?topic=tt&node=tomb:7'));
      assert.equal((await get(fresh.httpPort, '/lookup?topic=tt')).json().producers.length, 0);
      await eventually(async () => {
        assert.equal((await get(fresh.httpPort, '/lookup?topic=tt')).json().producers.length, 1);
        assert.deepEqual((await get(fresh.httpPort, '/nodes')).json().producers[0].tombstones, [false]);
      });
    } finally {
      c.destroy();
      await fresh.close();
    }
  });
});
