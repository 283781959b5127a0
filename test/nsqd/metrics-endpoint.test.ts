import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startNsqd } from '../helpers/daemons.js';
import { FRAME_MESSAGE, parseMessage, WireClient } from '../helpers/secure-wire.js';

// GET /metrics on a live nsqd: a strict Prometheus text-format parse, and every value checked
// against /stats taken at the same quiet moment.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface ParsedFamily {
  type?: string;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** A strict parser for the Prometheus text format 0.0.4, enough to reject anything malformed. */
function parseExposition(text: string): Map<string, ParsedFamily> {
  assert.ok(text.endsWith('\n'), 'exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const enter = (name: string): ParsedFamily => {
    if (current !== name) {
      assert.ok(!finished.has(name), `family ${name} is not contiguous`);
      if (current !== null) finished.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) {
        assert.ok(!/^# (HELP|TYPE)/.test(line), `malformed ${line}`);
        continue; // plain comment
      }
      const [, kind, name, rest] = m;
      assert.match(name!, METRIC_NAME);
      const f = enter(name!);
      if (kind === 'HELP') {
        assert.equal(f.help, undefined, `duplicate HELP for ${name}`);
        assert.ok(!/\\[^\\n]/.test(rest!.replace(/\\\\/g, '')), `bad escape in HELP ${line}`);
        f.help = rest;
      } else {
        assert.equal(f.type, undefined, `duplicate TYPE for ${name}`);
        assert.equal(f.samples.length, 0, `TYPE after samples for ${name}`);
        assert.ok(TYPES.has(rest!), `bad type ${rest}`);
        f.type = rest;
      }
      continue;
    }
    // name{labels} value [timestamp]
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    assert.match(name, METRIC_NAME);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        let j = i;
        while (line[j] !== '=') {
          assert.ok(j < line.length, `unterminated label in ${line}`);
          j++;
        }
        const lname = line.slice(i, j);
        assert.match(lname, LABEL_NAME);
        assert.ok(!(lname in labels), `duplicate label ${lname}`);
        assert.equal(line[j + 1], '"', `label value must be quoted in ${line}`);
        let k = j + 2;
        let value = '';
        for (;;) {
          const c = line[k];
          assert.ok(c !== undefined, `unterminated label value in ${line}`);
          if (c === '"') break;
          if (c === '\\') {
            const e = line[k + 1];
            if (e === '\\') value += '\\';
            else if (e === '"') value += '"';
            else if (e === 'n') value += '\n';
            else assert.fail(`bad escape \\${e} in ${line}`);
            k += 2;
            continue;
          }
          value += c;
          k++;
        }
        labels[lname] = value;
        i = k + 1;
        if (line[i] === ',') i++;
        else assert.equal(line[i], '}', `expected , or } in ${line}`);
      }
      i++;
    }
    assert.equal(line[i], ' ', `expected a space before the value in ${line}`);
    const parts = line.slice(i + 1).split(' ');
    assert.ok(parts.length === 1 || (parts.length === 2 && /^-?\d+$/.test(parts[1]!)), `bad value/timestamp in ${line}`);
    assert.match(parts[0]!, FLOAT);
    const f = enter(name);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!series.has(key), `duplicate series ${key}`);
    series.add(key);
    f.samples.push({ name, labels, value: Number(parts[0]!.replace('Inf', 'Infinity')) });
  }
  for (const [name, f] of families) assert.ok(f.type, `family ${name} has no TYPE`);
  return families;
}

function sample(fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number {
  const f = fams.get(name);
  assert.ok(f, `family ${name}`);
  const key = JSON.stringify(Object.entries(labels).sort());
  const s = f.samples.find((x) => JSON.stringify(Object.entries(x.labels).sort()) === key);
  assert.ok(s, `${name}${key}`);
  return s.value;
}

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}

function post(port: number, path: string, body = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface E2e {
  count: number;
  percentiles: Array<{ quantile: number; value: number }> | null;
}
interface ChannelJson {
  channel_name: string;
  depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  requeue_count: number;
  timeout_count: number;
  client_count: number;
  paused: boolean;
  e2e_processing_latency: E2e;
}
interface TopicJson {
  topic_name: string;
  depth: number;
  backend_depth: number;
  message_count: number;
  message_bytes: number;
  paused: boolean;
  channels: ChannelJson[];
  e2e_processing_latency: E2e;
}

test('/metrics parses strictly and agrees with /stats', async () => {
  const d = await startNsqd(['--mem-queue-size=2', '--e2e-processing-latency-percentile=0.99,0.5', '--msg-timeout=60s']);
  const c = await WireClient.connect(d.tcpPort);
  try {
    // mt: channel c1 with a consumer (1 FIN, 1 deferred REQ, 1 in flight), c2 paused and
    // overflowing to disk; mt2 without channels (backlog on disk); a paused ephemeral topic.
    await post(d.httpPort, '/topic/create?topic=mt');
    await post(d.httpPort, '/channel/create?topic=mt&channel=c1');
    await post(d.httpPort, '/channel/create?topic=mt&channel=c2');
    await post(d.httpPort, '/channel/pause?topic=mt&channel=c2');
    c.command('SUB mt c1');
    assert.equal(await c.next(), '0 OK');
    for (let i = 0; i < 10; i++) await post(d.httpPort, '/pub?topic=mt', `message ${i}`);
    for (let i = 0; i < 5; i++) await post(d.httpPort, '/pub?topic=mt2', 'x');
    await post(d.httpPort, '/pub?topic=eph%23ephemeral', 'e');
    await post(d.httpPort, '/topic/pause?topic=eph%23ephemeral');
    c.command('RDY 3');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = await c.nextFrame();
      assert.equal(f.type, FRAME_MESSAGE);
      ids.push(parseMessage(f.data).id);
    }
    c.command('RDY 0');
    c.command(`FIN ${ids[0]}`);
    c.command(`REQ ${ids[1]} 600000`);
    c.command('NOP');
    await new Promise((r) => setTimeout(r, 100));

    const m = await get(d.httpPort, '/metrics');
    assert.equal(m.status, 200);
    assert.equal(m.type, 'text/plain; version=0.0.4; charset=utf-8');
    const fams = parseExposition(m.body);
    const stats = JSON.parse((await get(d.httpPort, '/stats?format=json')).body) as { topics: TopicJson[] };
    assert.deepEqual(stats.topics.map((t) => t.topic_name), ['eph#ephemeral', 'mt', 'mt2']);

    // The scenario really produced the interesting values.
    const mt = stats.topics.find((t) => t.topic_name === 'mt')!;
    const c1 = mt.channels.find((x) => x.channel_name === 'c1')!;
    const c2 = mt.channels.find((x) => x.channel_name === 'c2')!;
    assert.deepEqual([c1.in_flight_count, c1.deferred_count, c1.requeue_count, c1.client_count], [1, 1, 1, 1]);
    assert.ok(c2.backend_depth > 0 && c2.paused);
    assert.equal(c1.e2e_processing_latency.count, 1);

    let topicSamples = 0;
    let channelSamples = 0;
    for (const t of stats.topics) {
      const tl = { topic: t.topic_name };
      assert.equal(sample(fams, 'nsq_topic_depth', tl), t.depth);
      assert.equal(sample(fams, 'nsq_topic_backend_depth', tl), t.backend_depth);
      assert.equal(sample(fams, 'nsq_topic_messages_total', tl), t.message_count);
      assert.equal(sample(fams, 'nsq_topic_message_bytes_total', tl), t.message_bytes);
      assert.equal(sample(fams, 'nsq_topic_paused', tl), t.paused ? 1 : 0);
      topicSamples++;
      for (const p of t.e2e_processing_latency.percentiles ?? []) {
        assert.equal(sample(fams, 'nsq_topic_e2e_processing_latency_seconds', { ...tl, quantile: String(p.quantile) }), p.value / 1e9);
      }
      if (t.e2e_processing_latency.percentiles) {
        assert.equal(sample(fams, 'nsq_topic_e2e_processing_latency_samples', tl), t.e2e_processing_latency.count);
      }
      for (const ch of t.channels) {
        const cl = { topic: t.topic_name, channel: ch.channel_name };
        assert.equal(sample(fams, 'nsq_channel_depth', cl), ch.depth);
        assert.equal(sample(fams, 'nsq_channel_backend_depth', cl), ch.backend_depth);
        assert.equal(sample(fams, 'nsq_channel_in_flight_messages', cl), ch.in_flight_count);
        assert.equal(sample(fams, 'nsq_channel_deferred_messages', cl), ch.deferred_count);
        assert.equal(sample(fams, 'nsq_channel_messages_total', cl), ch.message_count);
        assert.equal(sample(fams, 'nsq_channel_requeued_total', cl), ch.requeue_count);
        assert.equal(sample(fams, 'nsq_channel_timed_out_total', cl), ch.timeout_count);
        assert.equal(sample(fams, 'nsq_channel_clients', cl), ch.client_count);
        assert.equal(sample(fams, 'nsq_channel_paused', cl), ch.paused ? 1 : 0);
        for (const p of ch.e2e_processing_latency.percentiles ?? []) {
          assert.equal(sample(fams, 'nsq_channel_e2e_processing_latency_seconds', { ...cl, quantile: String(p.quantile) }), p.value / 1e9);
        }
        assert.equal(sample(fams, 'nsq_channel_e2e_processing_latency_samples', cl), ch.e2e_processing_latency.count);
        channelSamples++;
      }
    }
    // No series beyond what /stats lists.
    assert.equal(fams.get('nsq_topic_depth')!.samples.length, topicSamples);
    assert.equal(fams.get('nsq_channel_depth')!.samples.length, channelSamples);
    assert.equal(fams.get('nsq_topic_messages_total')!.type, 'counter');
    assert.equal(fams.get('nsq_channel_depth')!.type, 'gauge');
    for (const name of ['nsq_process_resident_memory_bytes', 'nsq_process_heap_used_bytes', 'nsq_process_cpu_seconds_total', 'nsq_process_start_time_seconds']) {
      assert.ok(sample(fams, name, {}) > 0, name);
    }
  } finally {
    c.close();
    await d.stop();
  }
});
