import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';
import { postOk } from './http-helpers.js';
import { eventually } from '../helpers/wait.js';

// nsqd pushing to a real UDP statsd listener (upstream `nsqd/statsd.go`): names, prefix, counters as deltas,
// gauges, e2e percentiles and mem stats, datagram size.

class UdpSink {
  readonly datagrams: Array<{ at: number; data: string }> = [];
  readonly #sock = dgram.createSocket('udp4');
  port = 0;

  async start(): Promise<this> {
    this.#sock.on('message', (m) => this.datagrams.push({ at: Date.now(), data: m.toString() }));
    await new Promise<void>((r) => this.#sock.bind(0, '127.0.0.1', r));
    this.port = (this.#sock.address() as AddressInfo).port;
    return this;
  }

  /** Lines grouped per push: datagrams closer than 500 ms belong to one push (1 s interval). */
  pushes(): string[][] {
    const out: string[][] = [];
    let last = -Infinity;
    for (const d of this.datagrams) {
      if (d.at - last > 500) out.push([]);
      last = d.at;
      out[out.length - 1]!.push(...d.data.split('\n').filter((l) => l !== ''));
    }
    return out;
  }

  close(): void {
    this.#sock.close();
  }
}

/** Publishes 3 messages to st (6 bytes), delivers 2 to st/sc and FINs them, plus an ephemeral topic. */
async function activity(d: Daemon): Promise<WireClient> {
  const c = await WireClient.connect(d.tcpPort);
  c.command('SUB st sc');
  assert.equal(await c.next(), '0 OK');
  for (const b of ['a', 'bb', 'ccc']) await postOk(d.httpPort, '/pub?topic=st', b);
  await postOk(d.httpPort, '/pub?topic=eph%23ephemeral', 'e');
  c.command('RDY 2');
  for (let i = 0; i < 2; i++) {
    const f = await c.nextFrame();
    assert.equal(f.type, FRAME_MESSAGE);
    c.command(`FIN ${parseMessage(f.data).id}`);
  }
  return c;
}

test('statsd push: metric names, prefix, counters as deltas, gauges, e2e and mem stats', async () => {
  const [sinkA, sinkB] = await Promise.all([new UdpSink().start(), new UdpSink().start()]);
  const common = ['--statsd-interval=1s', '--e2e-processing-latency-percentile=0.99,0.5'];
  const [a, b] = await Promise.all([
    startNsqd([...common, `--statsd-address=127.0.0.1:${sinkA.port}`]),
    startNsqd([...common, `--statsd-address=127.0.0.1:${sinkB.port}`, '--statsd-prefix=stats.%s.nsqd', '--broadcast-http-port=34151', '--statsd-mem-stats=false', '--statsd-exclude-ephemeral', '--statsd-udp-packet-size=200']),
  ]);
  try {
    const [ca, cb] = await Promise.all([activity(a), activity(b)]);
    // Wait until a whole push happened after the activity (1 s interval, spread over 0 s).
    const [na, nb] = [sinkA.pushes().length, sinkB.pushes().length];
    await eventually(() => sinkA.pushes().length >= na + 2 && sinkB.pushes().length >= nb + 2, 4000, 'two more pushes to each sink');
    const pushes = sinkA.pushes();
    ca.close();
    cb.close();

    // ---- default prefix nsq.%s with the real HTTP port, mem stats on
    const p = `nsq.127_0_0_1_${a.httpPort}.`;
    const value = (lines: string[], name: string) => {
      const l = lines.find((x) => x.startsWith(`${p}${name}:`));
      assert.ok(l, `${name} in ${JSON.stringify(lines)}`);
      return Number(/:(-?\d+)\|/.exec(l)![1]);
    };
    const total = (name: string) => pushes.reduce((n, lines) => n + (lines.some((l) => l.startsWith(`${p}${name}:`)) ? value(lines, name) : 0), 0);
    // Counters are deltas: summed over every push they give the totals.
    assert.equal(total('topic.st.message_count'), 3);
    assert.equal(total('topic.st.message_bytes'), 6);
    assert.equal(total('topic.st.channel.sc.message_count'), 3);
    const last = pushes[na + 1]!; // the second push entirely after the activity
    const st = last.filter((l) => l.startsWith(`${p}topic.st.`)).map((l) => l.slice(p.length));
    assert.deepEqual(
      st.map((l) => l.replace(/:-?\d+\|/, ':N|')),
      [
        'topic.st.message_count:N|c',
        'topic.st.message_bytes:N|c',
        'topic.st.depth:N|g',
        'topic.st.backend_depth:N|g',
        'topic.st.e2e_processing_latency_99:N|g',
        'topic.st.e2e_processing_latency_50:N|g',
        'topic.st.channel.sc.message_count:N|c',
        'topic.st.channel.sc.depth:N|g',
        'topic.st.channel.sc.backend_depth:N|g',
        'topic.st.channel.sc.in_flight_count:N|g',
        'topic.st.channel.sc.deferred_count:N|g',
        'topic.st.channel.sc.requeue_count:N|c',
        'topic.st.channel.sc.timeout_count:N|c',
        'topic.st.channel.sc.clients:N|g',
        'topic.st.channel.sc.e2e_processing_latency_99:N|g',
        'topic.st.channel.sc.e2e_processing_latency_50:N|g',
      ],
    );
    assert.equal(value(last, 'topic.st.message_count'), 0, 'no new messages: delta 0');
    assert.equal(value(last, 'topic.st.depth'), 0);
    assert.equal(value(last, 'topic.st.channel.sc.depth'), 0);
    assert.equal(value(last, 'topic.st.channel.sc.in_flight_count'), 1, 'RDY 2 took the third after the FINs');
    assert.equal(value(last, 'topic.st.channel.sc.clients'), 1);
    assert.ok(value(last, 'topic.st.channel.sc.e2e_processing_latency_99') > 0, 'e2e from the FINs, in ns');
    assert.ok(value(last, 'topic.st.e2e_processing_latency_50') > 0);
    // Ephemeral topics are included by default, verbatim.
    assert.ok(last.some((l) => l.startsWith(`${p}topic.eph#ephemeral.message_count:`)));
    // mem.* last, gc_runs a counter.
    const mem = last.filter((l) => l.startsWith(`${p}mem.`)).map((l) => l.slice(p.length).replace(/:\d+\|/, ':N|'));
    assert.deepEqual(mem, [
      'mem.heap_objects:N|g',
      'mem.heap_idle_bytes:N|g',
      'mem.heap_in_use_bytes:N|g',
      'mem.heap_released_bytes:N|g',
      'mem.gc_pause_usec_100:N|g',
      'mem.gc_pause_usec_99:N|g',
      'mem.gc_pause_usec_95:N|g',
      'mem.next_gc_bytes:N|g',
      'mem.gc_runs:N|c',
    ]);
    assert.ok(last.at(-1)!.startsWith(`${p}mem.gc_runs:`));
    assert.ok(value(last, 'mem.heap_in_use_bytes') > 0);
    for (const d of sinkA.datagrams) assert.ok(Buffer.byteLength(d.data) <= 508, 'datagram within --statsd-udp-packet-size');

    // ---- custom prefix with %s inside, broadcast HTTP port, no mem, no ephemeral, small packets
    const pb = 'stats.127_0_0_1_34151.nsqd.';
    const linesB = sinkB.pushes().flat();
    assert.ok(linesB.length > 0);
    for (const l of linesB) assert.ok(l.startsWith(pb), l);
    assert.ok(linesB.some((l) => l.startsWith(`${pb}topic.st.message_count:`)));
    assert.ok(!linesB.some((l) => l.includes('#ephemeral')));
    assert.ok(!linesB.some((l) => l.includes('.mem.')));
    for (const d of sinkB.datagrams) {
      assert.ok(Buffer.byteLength(d.data) <= 200, 'datagram within 200 bytes');
      assert.ok(d.data.endsWith('\n'), 'whole lines only');
    }
    assert.ok(sinkB.datagrams.length > sinkB.pushes().length, 'a push spans several datagrams');
  } finally {
    const codes = await Promise.all([a.stop(), b.stop()]);
    assert.deepEqual(codes, [0, 0], 'clean exit with statsd running');
    sinkA.close();
    sinkB.close();
  }
});
