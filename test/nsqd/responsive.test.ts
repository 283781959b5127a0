import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { mpubBody, RawClient } from '../helpers/raw-client.js';

/**
 * nsqd stays responsive while one client sends the largest inputs the defaults allow (5 MiB MPUB
 * of a million one-byte messages, a 5 MiB /mpub text body, 5 MiB IDENTIFY bodies): another
 * client's PUB round trips keep being answered throughout. The bound is generous (the machine is
 * shared); the precise figures are in the README's bench section.
 */
const MAX_BODY = 5 * 1024 * 1024;
const GAP_BOUND_MS = 1000;

/** PUB round trips on their own connection, back to back, recording the longest wait for an OK. */
class Prober {
  maxGapMs = 0;
  answers = 0;
  #stop = false;
  #done: Promise<void>;

  constructor(c: RawClient, topic: string) {
    this.#done = (async () => {
      while (!this.#stop) {
        const t0 = performance.now();
        c.send(`PUB ${topic}`, 'probe');
        await c.expectResponse('OK', 10_000);
        this.maxGapMs = Math.max(this.maxGapMs, performance.now() - t0);
        this.answers++;
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
  }
}

/** A JSON text of about `bytes` bytes nested `depth` deep (arrays), inside an IDENTIFY object. */
function nestedIdentify(depth: number): string {
  return `{"client_id":"deep","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

describe('responsiveness under 5 MiB inputs', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd();
  });
  after(async () => {
    await d.stop();
  });

  it('keeps answering another client while one sends 5 MiB MPUB, /mpub and IDENTIFY bodies back to back', async (t) => {
    // Every input is built before the probe starts: this process's own work must not count.
    const mpub = mpubBody(new Array<Buffer>(1_000_000).fill(Buffer.from('x')));
    assert.ok(mpub.length <= MAX_BODY);
    const text = Buffer.alloc(Math.floor(MAX_BODY / 2) * 2, 'a\n');
    const half = Math.floor(MAX_BODY / 2) - 2;
    const deepBody = Buffer.from('['.repeat(half) + ']'.repeat(half));
    const keys: string[] = [];
    for (let i = 0; i < 400_000; i++) keys.push(`"k${i}":1`);
    const wideBody = Buffer.from(`{${keys.join(',')},"client_id":"wide"}`);
    assert.ok(wideBody.length <= MAX_BODY);

    const probeConn = await RawClient.connect(d.tcpPort);
    const prober = new Prober(probeConn, 'probe_topic');
    try {
      const heavy = await RawClient.connect(d.tcpPort);
      // MPUB: a million one-byte messages, twice, then a PUB on the same connection that must be
      // answered after them (the connection's next command waits for its MPUB).
      for (let i = 0; i < 2; i++) heavy.send('MPUB heavy', mpub);
      heavy.send('PUB heavy', 'after');
      for (let i = 0; i < 3; i++) await heavy.expectResponse('OK', 60_000);

      // /mpub: 2.6M one-byte lines.
      const res = await fetch(`http://127.0.0.1:${d.httpPort}/mpub?topic=heavy_http`, { method: 'POST', body: text });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');

      // IDENTIFY: nested 2.6M deep (refused like the original), then 400k keys (accepted).
      const deep = await RawClient.connect(d.tcpPort);
      deep.send('IDENTIFY', deepBody);
      await deep.expectFatal('E_BAD_BODY IDENTIFY failed to decode JSON body');
      const wide = await RawClient.connect(d.tcpPort);
      wide.send('IDENTIFY', wideBody);
      await wide.expectResponse('OK', 30_000);
      wide.destroy();
      heavy.destroy();
    } finally {
      await prober.stop();
      probeConn.destroy();
    }
    t.diagnostic(`probe: ${prober.answers} answers, longest wait ${prober.maxGapMs.toFixed(1)} ms`);
    assert.ok(prober.answers > 10, `only ${prober.answers} probe answers`);
    assert.ok(prober.maxGapMs < GAP_BOUND_MS, `a probe waited ${prober.maxGapMs.toFixed(0)} ms`);

    const stats = (await (await fetch(`http://127.0.0.1:${d.httpPort}/stats?format=json&topic=heavy`)).json()) as {
      topics: Array<{ topic_name: string; message_count: number }>;
    };
    assert.equal(stats.topics[0]!.message_count, 2_000_001);
  });

  it('accepts IDENTIFY JSON nested 10,000 deep and refuses 10,001, as Go encoding/json', async () => {
    const ok = await RawClient.connect(d.tcpPort);
    ok.send('IDENTIFY', nestedIdentify(9_999)); // the object itself is level 1
    await ok.expectResponse('OK');
    ok.destroy();
    const bad = await RawClient.connect(d.tcpPort);
    bad.send('IDENTIFY', nestedIdentify(10_000));
    await bad.expectFatal('E_BAD_BODY IDENTIFY failed to decode JSON body');
  });
});
