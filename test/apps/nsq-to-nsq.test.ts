import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { request } from '../helpers/http.js';
import { Consumer, type Message } from '../../src/client/index.js';
import { eventually } from '../helpers/wait.js';
import { channelNow, httpPublish, killTools, runTool, spawnTool } from './helpers.js';

let src: Daemon;
let dst1: Daemon;
let dst2: Daemon;

before(async () => {
  [src, dst1, dst2] = await Promise.all([startNsqd(), startNsqd(), startNsqd()]);
});
afterEach(killTools);
after(async () => {
  await Promise.all([src?.stop(), dst1?.stop(), dst2?.stop()]);
});

/** Reads `n` message bodies from topic/channel `c` on `d` with the client library. */
async function receive(d: Daemon, topic: string, n: number): Promise<string[]> {
  const got: string[] = [];
  const c = new Consumer(topic, 'check', { nsqdTcpAddresses: [`127.0.0.1:${d.tcpPort}`], maxInFlight: 100 });
  c.handle((m: Message) => {
    got.push(m.body.toString());
  });
  await c.connect();
  try {
    await eventually(() => got.length >= n, 20000, `${n} messages on ${topic}`);
  } finally {
    await c.close();
  }
  return got.sort();
}

async function topicCount(d: Daemon, topic: string): Promise<number> {
  const res = await request(d.httpPort, 'GET', `/stats?format=json&topic=${topic}`);
  const t = ((JSON.parse(res.text) as { topics: Array<{ topic_name: string; message_count: number }> | null }).topics ?? []).find((x) => x.topic_name === topic);
  return t?.message_count ?? 0;
}

async function sourceDrained(topic: string, n: number): Promise<void> {
  await eventually(async () => {
    const c = await channelNow(src.httpPort, topic, 'nsq_to_nsq');
    return c !== undefined && c.message_count === n && c.depth === 0 && c.in_flight_count === 0;
  }, 20000, `${topic} drained on the source`);
}

test('copies a topic to another nsqd (optionally renamed) and FINishes the source messages', async () => {
  const bodies = Array.from({ length: 20 }, (_, i) => `copy-${String(i).padStart(2, '0')}`);
  await httpPublish(src.httpPort, 'tn_copy', bodies);
  const tool = spawnTool('nsq_to_nsq', ['--topic=tn_copy', `--nsqd-tcp-address=127.0.0.1:${src.tcpPort}`, `--destination-nsqd-tcp-address=127.0.0.1:${dst1.tcpPort}`, '--destination-topic=tn_copied']);
  await sourceDrained('tn_copy', 20);
  assert.deepEqual(await receive(dst1, 'tn_copied', 20), bodies);
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
});

test('round-robin over two destinations splits the stream', async () => {
  const bodies = Array.from({ length: 10 }, (_, i) => `rr-${i}`);
  await httpPublish(src.httpPort, 'tn_rr', bodies);
  const tool = spawnTool('nsq_to_nsq', [
    '--topic=tn_rr', `--nsqd-tcp-address=127.0.0.1:${src.tcpPort}`,
    `--destination-nsqd-tcp-address=127.0.0.1:${dst1.tcpPort}`, `--destination-nsqd-tcp-address=127.0.0.1:${dst2.tcpPort}`, '--mode=round-robin',
  ]);
  await sourceDrained('tn_rr', 10);
  assert.equal(await topicCount(dst1, 'tn_rr'), 5);
  assert.equal(await topicCount(dst2, 'tn_rr'), 5);
  const all = [...(await receive(dst1, 'tn_rr', 5)), ...(await receive(dst2, 'tn_rr', 5))].sort();
  assert.deepEqual(all, bodies.sort());
  await tool.stop();
});

test('JSON filters: required field/value and whitelist; the rest is dropped (FINished) at the source', async () => {
  const msgs = [
    '{"kind":"a","keep":1.0,"drop":"x"}',
    '{"kind":"b","keep":2}',
    '{"other":1}',
    'not json',
    '{"kind":"a","keep":"<3>"}',
  ];
  await httpPublish(src.httpPort, 'tn_json', msgs);
  const tool = spawnTool('nsq_to_nsq', [
    '--topic=tn_json', `--nsqd-tcp-address=127.0.0.1:${src.tcpPort}`, `--destination-nsqd-tcp-address=127.0.0.1:${dst1.tcpPort}`,
    '--require-json-field=kind', '--whitelist-json-field=keep', '--whitelist-json-field=kind',
  ]);
  await sourceDrained('tn_json', 5);
  assert.deepEqual(await receive(dst1, 'tn_json', 3), ['{"keep":"\\u003c3\\u003e","kind":"a"}', '{"keep":1,"kind":"a"}', '{"keep":2,"kind":"b"}']);
  assert.match(tool.stderr(), /ERROR: Unable to decode json: not json/);
  await tool.stop();
});

test('a destination that refuses the publish gets the source message requeued, not lost', async () => {
  // A destination nsqd that is gone: every publish fails, so every source message is requeued.
  const dead = await startNsqd();
  await dead.stop();
  await httpPublish(src.httpPort, 'tn_fail', ['f1', 'f2']);
  const tool = spawnTool('nsq_to_nsq', [
    '--topic=tn_fail', `--nsqd-tcp-address=127.0.0.1:${src.tcpPort}`, `--destination-nsqd-tcp-address=127.0.0.1:${dead.tcpPort}`,
    '--consumer-opt=default_requeue_delay,50ms', '--consumer-opt=max_backoff_duration,0',
  ]);
  await eventually(async () => ((await channelNow(src.httpPort, 'tn_fail', 'nsq_to_nsq'))?.requeue_count ?? 0) >= 2, 20000, 'requeues');
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  await eventually(async () => {
    const c = await channelNow(src.httpPort, 'tn_fail', 'nsq_to_nsq');
    return c !== undefined && c.in_flight_count === 0 && c.depth + c.deferred_count === 2;
  }, 20000, 'both messages back in the source channel');
});

test('hostpool mode with status lines per destination and in aggregate', async () => {
  const bodies = Array.from({ length: 8 }, (_, i) => `hp-${i}`);
  await httpPublish(src.httpPort, 'tn_hp', bodies);
  const d1 = `127.0.0.1:${dst1.tcpPort}`;
  const d2 = `127.0.0.1:${dst2.tcpPort}`;
  const tool = spawnTool('nsq_to_nsq', [
    '--topic=tn_hp', `--nsqd-tcp-address=127.0.0.1:${src.tcpPort}`, `--destination-nsqd-tcp-address=${d1}`, `--destination-nsqd-tcp-address=${d2}`,
    '--status-every=4',
  ]);
  await sourceDrained('tn_hp', 8);
  // healthy hosts: the pool takes them in turn
  assert.equal((await topicCount(dst1, 'tn_hp')) + (await topicCount(dst2, 'tn_hp')), 8);
  assert.equal(await topicCount(dst1, 'tn_hp'), 4);
  const line = (prefix: string) => new RegExp(`${prefix.replace(/[[\]]/g, '\\$&')} finished 4 - 99th: [\\d.]+ms - 95th: [\\d.]+ms - avg: [\\d.]+ms`, 'g');
  await eventually(() => (tool.stderr().match(line('[aggregate]:')) ?? []).length === 2, 20000, 'two aggregate status lines');
  assert.equal((tool.stderr().match(line(`[${d1}]:`)) ?? []).length, 1);
  assert.equal((tool.stderr().match(line(`[${d2}]:`)) ?? []).length, 1);
  await tool.stop();
});

test('original startup errors', async () => {
  const cases: Array<[string[], string]> = [
    [[], '--topic and --channel are required'],
    [['--topic=bad topic'], '--topic is invalid'],
    [['--topic=t', '--destination-topic=a/b'], '--destination-topic is invalid'],
    [['--topic=t', '--channel=c!'], '--channel is invalid'],
    [['--topic=t'], '--nsqd-tcp-address or --lookupd-http-address required'],
    [['--topic=t', '--nsqd-tcp-address=a:1'], '--destination-nsqd-tcp-address required'],
  ];
  for (const [args, msg] of cases) {
    const r = await runTool('nsq_to_nsq', args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d ${msg}\\n$`));
  }
  assert.equal((await runTool('nsq_to_nsq', ['--version'])).stdout, 'nsq_to_nsq v1.3.0\n');
});
