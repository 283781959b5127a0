import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { assertV1Empty, assertV1Error, assertV1Json, assertV1Text, get, post, put, request, TEXT_TYPE, V1 } from './http-helpers.js';
import { eventually, sleep } from '../helpers/wait.js';

// /config/:opt, routing and the debug endpoints (upstream `nsqd/http.go`, docs/protocol.md HTTP conventions).

const MAX_MSG = 64;

describe('nsqd /config/:opt (real nsqd)', () => {
  let d: Daemon;
  let port: number;
  let lookupd: Daemon | undefined;

  before(async () => {
    d = await startNsqd([`--max-msg-size=${MAX_MSG}`, '--msg-timeout=1m30s', '--statsd-prefix=nsq.%s']);
    port = d.httpPort;
  });
  after(async () => {
    await d.stop();
    await lookupd?.stop();
  });

  it('GET: durations as integer ns, numbers/bools/arrays as JSON, log_level as a number', async () => {
    assertV1Json(await get(port, '/config/msg_timeout'), '90000000000');
    assertV1Json(await get(port, '/config/max_req_timeout'), '3600000000000');
    assertV1Json(await get(port, '/config/output_buffer_timeout'), '250000000');
    assertV1Json(await get(port, '/config/mem_queue_size'), '10000');
    assertV1Json(await get(port, '/config/max_msg_size'), String(MAX_MSG));
    assertV1Json(await get(port, '/config/deflate'), 'true');
    assertV1Json(await get(port, '/config/log_level'), '2');
    assertV1Json(await get(port, '/config/tls_required'), '0');
    assertV1Json(await get(port, '/config/tls_min_version'), '769');
    assertV1Json(await get(port, '/config/nsqlookupd_tcp_addresses'), '[]');
  });

  it('GET: strings are returned raw as text; statsd_prefix shows its resolved value', async () => {
    assertV1Text(await get(port, '/config/broadcast_address'), '127.0.0.1');
    assertV1Text(await get(port, '/config/tcp_address'), '127.0.0.1:0');
    assertV1Text(await get(port, '/config/statsd_prefix'), `nsq.127_0_0_1_${d.httpPort}.`);
    // "[nsqd] " survives byte for byte (not JSON-quoted)
    assertV1Text(await get(port, '/config/log_prefix'), '[nsqd] ');
  });

  it('GET/PUT unknown option → 400 INVALID_OPTION; flag names (dashes) are not keys', async () => {
    assertV1Error(await get(port, '/config/bogus'), 400, 'INVALID_OPTION');
    assertV1Error(await get(port, '/config/msg-timeout'), 400, 'INVALID_OPTION');
    assertV1Error(await get(port, '/config/lookupd_tcp_address'), 400, 'INVALID_OPTION');
    assertV1Error(await put(port, '/config/bogus', 'x'), 400, 'INVALID_OPTION');
    // a known but read-only option cannot be PUT
    assertV1Error(await put(port, '/config/msg_timeout', '1s'), 400, 'INVALID_OPTION');
  });

  it('PUT body checks come first: empty or longer than max-msg-size → 413 INVALID_VALUE', async () => {
    assertV1Error(await put(port, '/config/log_level'), 413, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/log_level', ''), 413, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/bogus'), 413, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/log_level', 'd'.repeat(MAX_MSG + 1)), 413, 'INVALID_VALUE');
    // exactly max-msg-size passes the size check (and then fails the level parse)
    assertV1Error(await put(port, '/config/log_level', 'd'.repeat(MAX_MSG)), 400, 'INVALID_VALUE');
  });

  it('PUT log_level: plain level name, answer is the new number, logging follows it', async () => {
    assertV1Error(await put(port, '/config/log_level', 'verbose'), 400, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/log_level', '"info"'), 400, 'INVALID_VALUE');
    assertV1Json(await put(port, '/config/log_level', 'warn'), '3');
    assertV1Json(await get(port, '/config/log_level'), '3');
    // INFO request logging is off now …
    await get(port, '/info?marker=quiet_marker');
    await sleep(200);
    assert.ok(!d.logs().includes('quiet_marker'), 'INFO line logged at level warn');
    // … and back on at info/debug (case-insensitive)
    assertV1Json(await put(port, '/config/log_level', 'DEBUG'), '1');
    await get(port, '/info?marker=loud_marker');
    await eventually(() => d.logs().includes('loud_marker'), 10000, 'INFO request line after PUT log_level=debug');
    assertV1Json(await put(port, '/config/log_level', 'error'), '4');
    assertV1Json(await put(port, '/config/log_level', 'fatal'), '5');
    assertV1Json(await put(port, '/config/log_level', 'info'), '2');
  });

  it('PUT nsqlookupd_tcp_addresses: JSON string array, echoed back, and nsqd registers there', async () => {
    assertV1Error(await put(port, '/config/nsqlookupd_tcp_addresses', 'not json'), 400, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/nsqlookupd_tcp_addresses', '[1,2]'), 400, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/nsqlookupd_tcp_addresses', '"127.0.0.1:4160"'), 400, 'INVALID_VALUE');
    assertV1Error(await put(port, '/config/nsqlookupd_tcp_addresses', '{"a":1}'), 400, 'INVALID_VALUE');
    assertV1Json(await put(port, '/config/nsqlookupd_tcp_addresses', '["127.0.0.1:4160","127.0.0.2:4160"]'), '["127.0.0.1:4160","127.0.0.2:4160"]');
    assertV1Json(await get(port, '/config/nsqlookupd_tcp_addresses'), '["127.0.0.1:4160","127.0.0.2:4160"]');

    lookupd = await startNsqlookupd();
    const addr = `127.0.0.1:${lookupd.tcpPort}`;
    assertV1Empty(await post(port, '/topic/create?topic=cfg_lookup'));
    assertV1Json(await put(port, '/config/nsqlookupd_tcp_addresses', JSON.stringify([addr])), JSON.stringify([addr]));
    const lp = lookupd.httpPort;
    await eventually(async () => {
      const r = await get(lp, '/lookup?topic=cfg_lookup');
      if (r.status !== 200) return false;
      const body = JSON.parse(r.text) as { producers: Array<{ tcp_port: number }> };
      return body.producers.some((p) => p.tcp_port === d.tcpPort);
    }, 10000, 'nsqd registered at the lookupd set by PUT');
    // back to none: nsqd drops the peer, lookupd forgets the producer
    assertV1Json(await put(port, '/config/nsqlookupd_tcp_addresses', '[]'), '[]');
    await eventually(async () => {
      const r = await get(lp, '/lookup?topic=cfg_lookup');
      if (r.status !== 200) return true;
      return (JSON.parse(r.text) as { producers: unknown[] }).producers.length === 0;
    }, 10000, 'producer gone from lookupd after PUT []');
  });
});

describe('nsqd HTTP routing (real nsqd)', () => {
  let d: Daemon;
  let port: number;
  before(async () => {
    d = await startNsqd();
    port = d.httpPort;
  });
  after(async () => {
    await d.stop();
  });

  it('unknown path → 404 NOT_FOUND with V1 headers; legacy pre-1.0 endpoints are gone', async () => {
    assertV1Error(await get(port, '/nope'), 404, 'NOT_FOUND');
    assertV1Error(await get(port, '/'), 404, 'NOT_FOUND');
    for (const p of ['/put?topic=t', '/mput?topic=t', '/create_topic?topic=t', '/delete_topic?topic=t', '/empty_channel?topic=t&channel=c', '/dpub?topic=t']) {
      assertV1Error(await post(port, p, 'x'), 404, 'NOT_FOUND');
    }
  });

  it('wrong method → 405 METHOD_NOT_ALLOWED with a sorted Allow incl. OPTIONS', async () => {
    const cases: Array<[string, string, string]> = [
      ['GET', '/pub', 'OPTIONS, POST'],
      ['PUT', '/mpub', 'OPTIONS, POST'],
      ['POST', '/stats', 'GET, OPTIONS'],
      ['DELETE', '/topic/create', 'OPTIONS, POST'],
      ['POST', '/config/msg_timeout', 'GET, OPTIONS, PUT'],
      ['POST', '/ping', 'GET, OPTIONS'],
    ];
    for (const [method, p, allow] of cases) {
      const r = await request(port, method, p);
      assertV1Error(r, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(r.headers.allow, allow, `${method} ${p}`);
    }
  });

  it('OPTIONS on a known path → 200, empty body, Allow', async () => {
    for (const [p, allow] of [
      ['/pub', 'OPTIONS, POST'],
      ['/stats', 'GET, OPTIONS'],
      ['/config/log_level', 'GET, OPTIONS, PUT'],
    ] as const) {
      const r = await request(port, 'OPTIONS', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.text, '');
      assert.equal(r.headers.allow, allow);
    }
    assertV1Error(await request(port, 'OPTIONS', '/nope'), 404, 'NOT_FOUND');
  });

  it('trailing-slash and case variants redirect: 301 for GET, 307 otherwise, query kept', async () => {
    let r = await get(port, '/stats/');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/stats');
    r = await get(port, '/STATS?format=json');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/stats?format=json');
    r = await get(port, '/Config/Log_Level');
    assert.equal(r.status, 301);
    r = await post(port, '/pub/?topic=t', 'x');
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, '/pub?topic=t');
    r = await post(port, '/Topic/Create?topic=t');
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, '/topic/create?topic=t');
    // no POST route looks like /stats, so POST /stats/ is a plain 404
    assertV1Error(await post(port, '/stats/'), 404, 'NOT_FOUND');
  });

  it('the Accept header does not change the (unwrapped) body', async () => {
    const r = await get(port, '/info', { headers: { Accept: 'application/vnd.nsq; version=1.0' } });
    assert.equal(r.headers['x-nsq-content-type'], V1);
    assert.ok(!('data' in (JSON.parse(r.text) as object)));
    const old = await get(port, '/info', { headers: { Accept: 'text/html' } });
    assert.equal(old.text, r.text);
  });

  it('debug endpoints: setblockrate and freememory are PlainText', async () => {
    let r = await request(port, 'PUT', '/debug/setblockrate?rate=x');
    assert.equal(r.status, 400);
    assert.equal(r.text, 'invalid block rate : strconv.Atoi: parsing "x": invalid syntax');
    assert.equal(r.headers['x-nsq-content-type'], undefined);
    assert.equal(r.headers['content-type'], TEXT_TYPE);
    r = await request(port, 'PUT', '/debug/setblockrate?rate=5');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.equal(r.headers['x-nsq-content-type'], undefined);
    r = await post(port, '/debug/freememory');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
  });

  it('HTTP keep-alive: many requests on one connection', async () => {
    // fetch pools connections; 50 sequential requests must all succeed on the same socket
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/pub?topic=keepalive`, { method: 'POST', body: `m${i}` });
      assert.equal(await r.text(), 'OK');
    }
  });
});
