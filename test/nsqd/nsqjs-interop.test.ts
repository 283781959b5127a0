import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { nsqjs, type NsqjsMessage, type NsqjsReader, type NsqjsWriter } from '../helpers/nsqjs.js';
import { assertV1Empty, channelOf, post, statsJson, topicOf } from './http-helpers.js';
import { eventually, sleep } from '../helpers/wait.js';

// Wire compatibility with the real nsqjs client (npm, CommonJS): its Writer (PUB/MPUB/DPUB) and
// Reader (IDENTIFY, SUB, RDY from maxInFlight, FIN/REQ, msg_timeout) against our nsqd.

const TOTAL = 20_000;

describe('nsqjs interop (real nsqd, real nsqjs)', () => {
  let d: Daemon;
  let writer: NsqjsWriter;
  const readers: NsqjsReader[] = [];
  const errors: unknown[] = [];
  const perChannel = new Map<string, number>();

  /** A connected Reader; resolves once its SUB went through (nsqd_connected fires after IDENTIFY/SUB). */
  async function reader(topic: string, channel: string, opts: Record<string, unknown>, onMessage: (m: NsqjsMessage) => void): Promise<NsqjsReader> {
    const r = new nsqjs.Reader(topic, channel, { nsqdTCPAddresses: [`127.0.0.1:${d.tcpPort}`], ...opts });
    readers.push(r);
    r.on('message', onMessage);
    r.on('error', (e) => errors.push(e));
    r.on('discard', (e) => errors.push(e));
    r.connect();
    const key = `${topic}/${channel}`;
    const want = (perChannel.get(key) ?? 0) + 1;
    perChannel.set(key, want);
    await eventually(async () => (channelOf(await statsJson(d.httpPort, `&topic=${topic}`), topic, channel)?.client_count ?? 0) >= want, 10000, `reader ${want} on ${key}`);
    return r;
  }

  function publish(topic: string, msgs: string | string[]): Promise<void> {
    return new Promise((resolve, reject) => writer.publish(topic, msgs, (err) => (err ? reject(err) : resolve())));
  }

  before(async () => {
    d = await startNsqd();
    writer = new nsqjs.Writer('127.0.0.1', d.tcpPort);
    await new Promise<void>((resolve, reject) => {
      writer.on('ready', resolve);
      writer.on('error', reject);
      writer.connect();
    });
    writer.on('error', (e) => errors.push(e));
  });
  after(async () => {
    for (const r of readers) r.close();
    writer.close();
    await sleep(50);
    await d.stop();
  });

  it(`${TOTAL} messages via PUB and MPUB reach every message to two channels of several Readers; maxInFlight holds`, async () => {
    const topic = 'bulk';
    assertV1Empty(await post(d.httpPort, `/topic/create?topic=${topic}`));
    assertV1Empty(await post(d.httpPort, `/channel/create?topic=${topic}&channel=a`));
    assertV1Empty(await post(d.httpPort, `/channel/create?topic=${topic}&channel=b`));

    const seen = { a: new Set<string>(), b: new Set<string>() };
    const deliveries = { a: 0, b: 0 };
    const onMsg = (ch: 'a' | 'b') => (m: NsqjsMessage) => {
      deliveries[ch]++;
      seen[ch].add(m.body.toString());
      m.finish();
    };
    // a: three fast readers with different maxInFlight; b: two fast ones and a slow one whose
    // handler holds each message for 50 ms, so its in-flight count sits at maxInFlight.
    const SLOW_MAX = 4;
    for (const max of [1, 25, 200]) await reader(topic, 'a', { maxInFlight: max }, onMsg('a'));
    for (const max of [10, 100]) await reader(topic, 'b', { maxInFlight: max }, onMsg('b'));
    await reader(topic, 'b', { maxInFlight: SLOW_MAX, clientId: 'slowpoke' }, (m) => {
      deliveries.b++;
      seen.b.add(m.body.toString());
      setTimeout(() => m.finish(), 50);
    });

    // maxInFlight per connection, sampled from /stats while the traffic runs
    let sampling = true;
    let slowPeak = 0;
    const violations: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const s = await statsJson(d.httpPort, `&topic=${topic}&include_mem=false`);
        for (const ch of topicOf(s, topic)?.channels ?? []) {
          for (const c of ch.clients ?? []) {
            const inflt = c.in_flight_count as number;
            const rdy = c.ready_count as number;
            if (inflt > rdy && rdy > 0) violations.push(`${ch.channel_name} ${String(c.client_id)}: in flight ${inflt} > RDY ${rdy}`);
            if (c.client_id === 'slowpoke') {
              slowPeak = Math.max(slowPeak, inflt);
              if (inflt > SLOW_MAX) violations.push(`slowpoke: in flight ${inflt} > maxInFlight ${SLOW_MAX}`);
            }
          }
        }
        await sleep(20);
      }
    })();

    // publish: 5,000 single PUBs and 150 MPUBs of 100, interleaved, in pipelined windows
    let n = 0;
    const next = () => `msg-${String(n++).padStart(5, '0')}`;
    while (n < TOTAL) {
      const window: Promise<void>[] = [];
      for (let k = 0; k < 10 && n < TOTAL; k++) {
        if (k % 2 === 0) {
          for (let j = 0; j < 50 && n < TOTAL; j++) window.push(publish(topic, next()));
        } else {
          const batch: string[] = [];
          for (let j = 0; j < 100 && n < TOTAL; j++) batch.push(next());
          window.push(publish(topic, batch));
        }
      }
      await Promise.all(window);
    }
    assert.equal(n, TOTAL);

    await eventually(() => seen.a.size === TOTAL && seen.b.size === TOTAL, 40_000, 'every message on both channels');
    sampling = false;
    await sampler;
    assert.deepEqual(violations, []);
    assert.equal(slowPeak, SLOW_MAX, 'the slow reader was saturated at exactly its maxInFlight');

    const s = await statsJson(d.httpPort, `&topic=${topic}`);
    const t = topicOf(s, topic)!;
    assert.equal(t.message_count, TOTAL);
    for (const name of ['a', 'b'] as const) {
      const ch = channelOf(s, topic, name)!;
      assert.equal(ch.message_count, TOTAL);
      assert.equal(ch.client_count, 3);
      // at-least-once: any extra delivery must be visible as a timeout or requeue
      assert.equal(deliveries[name] - TOTAL, (ch.timeout_count as number) + (ch.requeue_count as number));
      const fins = (ch.clients ?? []).reduce((acc, c) => acc + (c.finish_count as number), 0);
      assert.ok(fins >= TOTAL - 4, `${name}: ${fins} FINs`);
      for (const c of ch.clients ?? []) assert.match(String(c.user_agent), /^nsqjs\/\d+\.\d+\.\d+$/);
    }
    // the Writer is the one producer, with nsqjs's IDENTIFY values
    const p = s.producers?.find((x) => (x.pub_counts as Array<{ count: number }> | undefined)?.[0]?.count === TOTAL);
    assert.ok(p, 'writer listed as a producer with all its messages');
    assert.match(String(p.user_agent), /^nsqjs\//);
    assert.deepEqual(errors, []);
  });

  it('a message not finished within msg_timeout is redelivered with attempts + 1', async () => {
    const topic = 'timeouts';
    assertV1Empty(await post(d.httpPort, `/topic/create?topic=${topic}`));
    const got: NsqjsMessage[] = [];
    await reader(topic, 'ch', { maxInFlight: 5, messageTimeout: 1000 }, (m) => {
      got.push(m);
      if (m.attempts >= 2) m.finish(); // first delivery is left to time out
    });
    // nsqd accepted the Reader's msg_timeout (it is per connection, IDENTIFY)
    const sentAt = Date.now();
    await publish(topic, 'slow-one');
    await eventually(() => got.length >= 2, 10_000, 'redelivery after timeout');
    assert.equal(got[0]!.body.toString(), 'slow-one');
    assert.equal(got[0]!.attempts, 1);
    assert.equal(got[1]!.id, got[0]!.id);
    assert.equal(got[1]!.body.toString(), 'slow-one');
    assert.equal(got[1]!.attempts, 2);
    assert.ok(Date.now() - sentAt >= 900, 'redelivered before msg_timeout elapsed');
    const ch = await eventually(async () => {
      const c = channelOf(await statsJson(d.httpPort, `&topic=${topic}`), topic, 'ch');
      return c && c.in_flight_count === 0 ? c : false;
    }, 10000, 'finished');
    assert.equal(ch.timeout_count, 1);
    assert.equal(ch.requeue_count, 0);
    assert.deepEqual(errors, []);
  });

  it('explicit requeue redelivers with attempts + 1 (immediate and delayed)', async () => {
    const topic = 'requeues';
    assertV1Empty(await post(d.httpPort, `/topic/create?topic=${topic}`));
    const got: NsqjsMessage[] = [];
    let requeuedAt = 0;
    await reader(topic, 'ch', { maxInFlight: 5 }, (m) => {
      got.push(m);
      if (m.body.toString() === 'req-now' && m.attempts < 3) m.requeue(0, false);
      else if (m.body.toString() === 'req-later' && m.attempts === 1) {
        requeuedAt = Date.now();
        m.requeue(700, false);
      } else m.finish();
    });
    await publish(topic, 'req-now');
    await eventually(() => got.filter((m) => m.body.toString() === 'req-now').length === 3, 10000, 'two immediate requeues');
    assert.deepEqual(
      got.filter((m) => m.body.toString() === 'req-now').map((m) => m.attempts),
      [1, 2, 3],
    );
    await publish(topic, 'req-later');
    await eventually(async () => (channelOf(await statsJson(d.httpPort, `&topic=${topic}`), topic, 'ch')?.deferred_count ?? 0) === 1 || got.filter((m) => m.body.toString() === 'req-later').length === 2, 10000, 'deferred requeue');
    await eventually(() => got.filter((m) => m.body.toString() === 'req-later').length === 2, 10000, 'delayed requeue redelivered');
    const later = got.filter((m) => m.body.toString() === 'req-later');
    assert.deepEqual(later.map((m) => m.attempts), [1, 2]);
    assert.ok(Date.now() - requeuedAt >= 650, 'delayed requeue came back early');
    const ch = await eventually(async () => {
      const c = channelOf(await statsJson(d.httpPort, `&topic=${topic}`), topic, 'ch');
      return c && c.in_flight_count === 0 ? c : false;
    }, 10000, 'all finished');
    assert.equal(ch.requeue_count, 3);
    assert.equal(ch.timeout_count, 0);
    assert.deepEqual(errors, []);
  });

  it('Writer.deferPublish (DPUB) holds the message for the given time', async () => {
    const topic = 'deferred';
    assertV1Empty(await post(d.httpPort, `/topic/create?topic=${topic}`));
    const got: Array<{ body: string; at: number }> = [];
    await reader(topic, 'ch', { maxInFlight: 5 }, (m) => {
      got.push({ body: m.body.toString(), at: Date.now() });
      m.finish();
    });
    const sentAt = Date.now();
    await new Promise<void>((resolve, reject) => writer.deferPublish(topic, ['dpub-me'], 1200, (err) => (err ? reject(err) : resolve())));
    await publish(topic, 'plain');
    const ch = channelOf(await statsJson(d.httpPort, `&topic=${topic}`), topic, 'ch');
    if (got.length < 2) assert.equal(ch?.deferred_count, 1);
    await eventually(() => got.length === 2, 10_000, 'deferred message delivered');
    assert.deepEqual(got.map((g) => g.body), ['plain', 'dpub-me']);
    assert.ok(got[1]!.at - sentAt >= 1100, 'DPUB delivered early');
    // a defer beyond --max-req-timeout is refused by nsqd; nsqjs reports it through the callback
    const err = await new Promise<Error | null | undefined>((resolve) => writer.deferPublish(topic, ['too-late'], 3_600_001, (e) => resolve(e)));
    assert.ok(err, 'DPUB over max-req-timeout must fail');
    assert.match(String((err as Error).message ?? err), /E_INVALID DPUB timeout 3600001 out of range 0-3600000/);
    errors.length = 0; // nsqjs also emits the E_INVALID error event
  });
});
