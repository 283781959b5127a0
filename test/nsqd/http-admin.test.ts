import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { RawClient } from '../helpers/raw-client.js';
import { assertV1Empty, assertV1Error, assertV1Text, channelOf, post, statsJson, topicOf } from './http-helpers.js';
import { eventually } from '../helpers/wait.js';

// Topic and channel admin endpoints (upstream `nsqd/http.go`), checks in the original's order, effects
// observed through /stats, nsqd.dat and real TCP consumers.

interface MetaFile {
  topics: Array<{ name: string; paused: boolean; channels: Array<{ name: string; paused: boolean }> | null }>;
}

function readMeta(dataPath: string): MetaFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataPath, 'nsqd.dat'), 'utf8')) as MetaFile;
  } catch {
    return undefined;
  }
}

describe('nsqd HTTP topic/channel admin (real nsqd)', () => {
  let d: Daemon;
  let port: number;
  const clients: RawClient[] = [];

  async function subscribe(topic: string, channel: string, rdy = 10): Promise<RawClient> {
    const c = await RawClient.connect(d.tcpPort);
    clients.push(c);
    c.send(`SUB ${topic} ${channel}`);
    await c.expectResponse('OK');
    c.send(`RDY ${rdy}`);
    return c;
  }

  before(async () => {
    d = await startNsqd();
    port = d.httpPort;
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await d.stop();
  });

  it('/topic/create: 200 empty body (no Content-Type); errors in order; idempotent', async () => {
    assertV1Error(await post(port, '/topic/create?topic=%zz'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/topic/create'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/topic/create?topicx=a'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/topic/create?topic='), 400, 'INVALID_TOPIC');
    assertV1Error(await post(port, '/topic/create?topic=no%20spaces'), 400, 'INVALID_TOPIC');
    // form bodies are ignored: only the raw query counts
    assertV1Error(await post(port, '/topic/create', 'topic=frombody', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 400, 'MISSING_ARG_TOPIC');
    assertV1Empty(await post(port, '/topic/create?topic=created'));
    assertV1Empty(await post(port, '/topic/create?topic=created'));
    assertV1Empty(await post(port, '/topic/create?topic=eph%23ephemeral'));
    const s = await statsJson(port);
    const t = topicOf(s, 'created');
    assert.ok(t);
    assert.deepEqual(t.channels, []);
    assert.ok(topicOf(s, 'eph#ephemeral'));
    assert.equal(topicOf(s, 'frombody'), undefined);
    await eventually(() => readMeta(d.dataPath)?.topics.some((x) => x.name === 'created') === true, 10000, 'created topic in nsqd.dat');
  });

  it('/topic/delete: TOPIC_NOT_FOUND without name validation; deletes channels and closes consumers', async () => {
    assertV1Error(await post(port, '/topic/delete?topic=%zz'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/topic/delete'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/topic/delete?topic=bad!name'), 404, 'TOPIC_NOT_FOUND');
    assertV1Error(await post(port, '/topic/delete?topic='), 404, 'TOPIC_NOT_FOUND');
    assertV1Error(await post(port, '/topic/delete?topic=never_made'), 404, 'TOPIC_NOT_FOUND');
    const c = await subscribe('to_delete', 'ch');
    assertV1Text(await post(port, '/pub?topic=to_delete', 'm'), 'OK');
    await c.readMessage();
    assertV1Empty(await post(port, '/topic/delete?topic=to_delete'));
    await c.waitClosed();
    assert.equal(topicOf(await statsJson(port), 'to_delete'), undefined);
    await eventually(() => readMeta(d.dataPath)?.topics.every((x) => x.name !== 'to_delete') === true, 10000, 'deleted topic gone from nsqd.dat');
    assertV1Error(await post(port, '/topic/delete?topic=to_delete'), 404, 'TOPIC_NOT_FOUND');
  });

  it('/topic/empty: validates the name, empties the topic queue only', async () => {
    assertV1Error(await post(port, '/topic/empty?topic=%zz'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/topic/empty'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/topic/empty?topic=bad!name'), 400, 'INVALID_TOPIC');
    assertV1Error(await post(port, '/topic/empty?topic=never_made'), 404, 'TOPIC_NOT_FOUND');
    // a topic without channels keeps its messages at the topic
    for (let i = 0; i < 3; i++) assertV1Text(await post(port, '/pub?topic=to_empty', `m${i}`), 'OK');
    assert.equal(topicOf(await statsJson(port), 'to_empty')?.depth, 3);
    assertV1Empty(await post(port, '/topic/empty?topic=to_empty'));
    const t = topicOf(await statsJson(port), 'to_empty');
    assert.equal(t?.depth, 0);
    assert.equal(t?.message_count, 3);
    // the emptied messages never reach a channel created afterwards
    const c = await subscribe('to_empty', 'late');
    assertV1Text(await post(port, '/pub?topic=to_empty', 'after'), 'OK');
    assert.equal((await c.readMessage()).body.toString(), 'after');
  });

  it('/topic/pause stops delivery, /topic/unpause resumes; state in /stats and nsqd.dat', async () => {
    assertV1Error(await post(port, '/topic/pause?topic=%zz'), 400, 'INVALID_REQUEST');
    assertV1Error(await post(port, '/topic/pause'), 400, 'MISSING_ARG_TOPIC');
    assertV1Error(await post(port, '/topic/pause?topic=bad!name'), 404, 'TOPIC_NOT_FOUND');
    assertV1Error(await post(port, '/topic/unpause?topic=never_made'), 404, 'TOPIC_NOT_FOUND');
    const c = await subscribe('tp', 'ch');
    assertV1Empty(await post(port, '/topic/pause?topic=tp'));
    // pause is persisted at once
    const meta = readMeta(d.dataPath);
    assert.equal(meta?.topics.find((t) => t.name === 'tp')?.paused, true);
    assertV1Text(await post(port, '/pub?topic=tp', 'held'), 'OK');
    await c.expectSilence(300);
    let s = await statsJson(port);
    assert.equal(topicOf(s, 'tp')?.paused, true);
    assert.equal(topicOf(s, 'tp')?.depth, 1, 'message waits at the paused topic');
    assert.equal(channelOf(s, 'tp', 'ch')?.message_count, 0);
    assertV1Empty(await post(port, '/topic/unpause?topic=tp'));
    assert.equal((await c.readMessage()).body.toString(), 'held');
    s = await statsJson(port);
    assert.equal(topicOf(s, 'tp')?.paused, false);
    assert.equal(readMeta(d.dataPath)?.topics.find((t) => t.name === 'tp')?.paused, false);
  });

  it('/channel/* common checks, in order', async () => {
    assertV1Empty(await post(port, '/topic/create?topic=cc'));
    for (const ep of ['create', 'delete', 'empty', 'pause', 'unpause']) {
      const u = `/channel/${ep}`;
      assertV1Error(await post(port, `${u}?topic=%zz&channel=c`), 400, 'INVALID_REQUEST');
      assertV1Error(await post(port, `${u}?channel=c`), 400, 'MISSING_ARG_TOPIC');
      assertV1Error(await post(port, `${u}?topic=bad!&channel=c`), 400, 'INVALID_ARG_TOPIC');
      assertV1Error(await post(port, `${u}?topic=`), 400, 'INVALID_ARG_TOPIC');
      assertV1Error(await post(port, `${u}?topic=cc`), 400, 'MISSING_ARG_CHANNEL');
      assertV1Error(await post(port, `${u}?topic=cc&channel=bad!`), 400, 'INVALID_ARG_CHANNEL');
      assertV1Error(await post(port, `${u}?topic=missing&channel=bad!`), 400, 'INVALID_ARG_CHANNEL');
      assertV1Error(await post(port, `${u}?topic=missing&channel=c`), 404, 'TOPIC_NOT_FOUND');
      if (ep !== 'create') assertV1Error(await post(port, `${u}?topic=cc&channel=nochan`), 404, 'CHANNEL_NOT_FOUND');
    }
    // the refused creates made nothing
    assert.equal(topicOf(await statsJson(port), 'missing'), undefined);
  });

  it('/channel/create makes a channel that receives messages; /channel/delete closes its consumers', async () => {
    assertV1Empty(await post(port, '/topic/create?topic=chl'));
    assertV1Empty(await post(port, '/channel/create?topic=chl&channel=made'));
    assertV1Empty(await post(port, '/channel/create?topic=chl&channel=made'));
    await eventually(
      () => readMeta(d.dataPath)?.topics.find((t) => t.name === 'chl')?.channels?.some((c) => c.name === 'made') === true,
      10000, 'channel in nsqd.dat');
    assertV1Text(await post(port, '/pub?topic=chl', 'kept'), 'OK');
    assert.equal(channelOf(await statsJson(port), 'chl', 'made')?.depth, 1, 'channel buffers before any consumer');
    const c = await subscribe('chl', 'made');
    assert.equal((await c.readMessage()).body.toString(), 'kept');
    const other = await subscribe('chl', 'other');
    assertV1Empty(await post(port, '/channel/delete?topic=chl&channel=made'));
    await c.waitClosed();
    const s = await statsJson(port);
    assert.equal(channelOf(s, 'chl', 'made'), undefined);
    assert.ok(channelOf(s, 'chl', 'other'));
    assert.equal(other.closed, false);
    assertV1Error(await post(port, '/channel/delete?topic=chl&channel=made'), 404, 'CHANNEL_NOT_FOUND');
  });

  it('/channel/empty drops queued, in-flight and deferred messages', async () => {
    const c = await subscribe('che', 'ch', 1);
    for (let i = 0; i < 3; i++) assertV1Text(await post(port, '/pub?topic=che', `m${i}`), 'OK');
    assertV1Text(await post(port, '/pub?topic=che&defer=60000', 'deferred'), 'OK');
    const first = await c.readMessage();
    let ch = channelOf(await statsJson(port), 'che', 'ch');
    assert.equal(ch?.in_flight_count, 1);
    assert.equal(ch?.depth, 2);
    assert.equal(ch?.deferred_count, 1);
    assertV1Empty(await post(port, '/channel/empty?topic=che&channel=ch'));
    ch = channelOf(await statsJson(port), 'che', 'ch');
    assert.equal(ch?.in_flight_count, 0);
    assert.equal(ch?.depth, 0);
    assert.equal(ch?.deferred_count, 0);
    assert.equal(ch?.clients?.[0]?.in_flight_count, 0);
    // the connection is ready again (its in-flight count was reset) and gets new messages only
    // the emptied message is no longer in flight: its FIN fails (non-fatally)
    c.send(`FIN ${first.id}`);
    await c.expectError(`E_FIN_FAILED FIN ${first.id} failed ID not in flight`);
    assertV1Text(await post(port, '/pub?topic=che', 'fresh'), 'OK');
    for (;;) {
      const m = await c.readMessage();
      if (m.body.toString() === 'fresh') break;
      assert.fail(`emptied message redelivered: ${m.body.toString()}`);
    }
  });

  it('/channel/pause stops delivery, /channel/unpause resumes; state in /stats and nsqd.dat', async () => {
    const c = await subscribe('chp', 'ch');
    const other = await subscribe('chp', 'other');
    assertV1Empty(await post(port, '/channel/pause?topic=chp&channel=ch'));
    assert.equal(readMeta(d.dataPath)?.topics.find((t) => t.name === 'chp')?.channels?.find((x) => x.name === 'ch')?.paused, true);
    assertV1Text(await post(port, '/pub?topic=chp', 'p1'), 'OK');
    // the other channel is unaffected
    assert.equal((await other.readMessage()).body.toString(), 'p1');
    await c.expectSilence(300);
    let ch = channelOf(await statsJson(port), 'chp', 'ch');
    assert.equal(ch?.paused, true);
    assert.equal(ch?.depth, 1);
    assertV1Empty(await post(port, '/channel/unpause?topic=chp&channel=ch'));
    assert.equal((await c.readMessage()).body.toString(), 'p1');
    ch = channelOf(await statsJson(port), 'chp', 'ch');
    assert.equal(ch?.paused, false);
    assert.equal(readMeta(d.dataPath)?.topics.find((t) => t.name === 'chp')?.channels?.find((x) => x.name === 'ch')?.paused, false);
  });

  it('paused state survives a restart', async () => {
    const dir = d.dataPath;
    assertV1Empty(await post(port, '/topic/create?topic=survive'));
    assertV1Empty(await post(port, '/channel/create?topic=survive&channel=c'));
    assertV1Empty(await post(port, '/topic/pause?topic=survive'));
    assertV1Empty(await post(port, '/channel/pause?topic=survive&channel=c'));
    for (const c of clients.splice(0)) c.destroy();
    assert.equal(await d.stop(), 0);
    d = await startNsqd([], dir);
    port = d.httpPort;
    const s = await statsJson(port);
    assert.equal(topicOf(s, 'survive')?.paused, true);
    assert.equal(channelOf(s, 'survive', 'c')?.paused, true);
    assert.equal(topicOf(s, 'tp')?.paused, false);
  });
});
