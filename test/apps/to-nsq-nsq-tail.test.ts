/**
 * to_nsq and nsq_tail as real processes against real nsqd/nsqlookupd: stdin lines become
 * messages on every nsqd, nsq_tail prints exactly -n bodies and exits 0, flag errors match the
 * original's fatal lines.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';
import { eventually } from '../helpers/wait.js';
import { runTool, spawnTool } from './helpers.js';
import { Producer } from '../../src/client/index.js';

function topicCount(s: Awaited<ReturnType<typeof nsqdStats>>, topic: string): number {
  return s.topics?.find((t) => t.topic_name === topic)?.message_count ?? 0;
}

describe('to_nsq and nsq_tail', () => {
  let lookupd: Daemon;
  let n1: Daemon;
  let n2: Daemon;

  before(async () => {
    lookupd = await startNsqlookupd();
    const reg = [`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`];
    [n1, n2] = await Promise.all([startNsqd(reg), startNsqd(reg)]);
  });
  after(async () => {
    await Promise.all([n1.stop(), n2.stop()]);
    await lookupd.stop();
  });

  it('to_nsq publishes every non-empty line to every nsqd', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line-${i}`);
    const input = lines.join('\n') + '\n\n\nlast-without-newline';
    const r = await runTool('to_nsq', ['--topic=tonsq', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`, `--nsqd-tcp-address=127.0.0.1:${n2.tcpPort}`], { stdin: input });
    assert.equal(r.code, 0, r.stderr);
    for (const n of [n1, n2]) assert.equal(topicCount(await nsqdStats(n.httpPort, 'tonsq'), 'tonsq'), 1001);
  });

  it('to_nsq splits on a custom delimiter and honours --rate', async () => {
    const r = await runTool('to_nsq', ['--topic=tonsq_delim', '--delimiter=,', '--rate=50', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`], { stdin: 'a,b,,c,' });
    assert.equal(r.code, 0, r.stderr);
    const got: string[] = [];
    const tail = await runTool('nsq_tail', ['--topic=tonsq_delim', '-n', '3', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`]);
    got.push(...tail.stdout.split('\n').filter((l) => l !== ''));
    assert.deepEqual(got.sort(), ['a', 'b', 'c']);
  });

  it('to_nsq stops cleanly on SIGTERM with stdin still open, after publishing what it read', async () => {
    const tool = spawnTool('to_nsq', ['--topic=tonsq_sig', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`], { stdin: true });
    tool.proc.stdin!.write('one\ntwo\n');
    await eventually(async () => topicCount(await nsqdStats(n1.httpPort, 'tonsq_sig'), 'tonsq_sig') === 2, 10000, 'two lines published');
    const r = await tool.stop('SIGTERM');
    assert.equal(r.code, 0, r.stderr);
  });

  it('to_nsq rejects bad flags like the original', async () => {
    const noTopic = await runTool('to_nsq', [`--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`], { stdin: '' });
    assert.equal(noTopic.code, 1);
    assert.match(noTopic.stderr, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d --topic required\n$/);
    const delim = await runTool('to_nsq', ['--topic=t', '--delimiter=ab', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`], { stdin: '' });
    assert.match(delim.stderr, /--delimiter must be a single byte/);
    const noAddr = await runTool('to_nsq', ['--topic=t'], { stdin: '' });
    assert.match(noAddr.stderr, /--nsqd-tcp-address required/);
    const badOpt = await runTool('to_nsq', ['--topic=t', '--producer-opt=bogus,1', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`], { stdin: '' });
    assert.equal(badOpt.code, 1);
    assert.match(badOpt.stderr, /invalid option bogus/);
  });

  it('nsq_tail -n prints exactly n bodies, then exits 0 leaving the rest queued', async () => {
    const p = new Producer(`127.0.0.1:${n1.tcpPort}`);
    await p.mpublish('tail_n', Array.from({ length: 100 }, (_, i) => `body ${i}`));
    await p.close();
    const r = await runTool('nsq_tail', ['--topic=tail_n', '--channel=tailch', '-n', '25', '--max-in-flight=10', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 25);
    assert.equal(new Set(lines).size, 25);
    for (const l of lines) assert.match(l, /^body \d+$/);
    const ch = channelStats(await nsqdStats(n1.httpPort, 'tail_n'), 'tail_n', 'tailch')!;
    assert.equal(ch.depth + ch.deferred_count, 75);
    assert.equal(ch.in_flight_count, 0);
  });

  it('nsq_tail --print-topic over lookupd with several topics, stopped by SIGTERM', async () => {
    const p1 = new Producer(`127.0.0.1:${n1.tcpPort}`);
    const p2 = new Producer(`127.0.0.1:${n2.tcpPort}`);
    await p1.publish('tail_a', 'from a');
    await p2.publish('tail_b', 'from b');
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${lookupd.httpPort}/lookup?topic=tail_b`);
      return res.status === 200;
    }, 10000, 'topic registered');
    const tail = spawnTool('nsq_tail', ['--topic=tail_a', '--topic=tail_b', '--print-topic', `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`]);
    await eventually(async () => tail.stdout().split('\n').length >= 3, 15000, 'both messages printed');
    const r = await tail.stop('SIGTERM');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l).sort(), ['tail_a | from a', 'tail_b | from b']);
    await p1.close();
    await p2.close();
  });

  it('nsq_tail validates its flags', async () => {
    const noTopic = await runTool('nsq_tail', [`--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`]);
    assert.equal(noTopic.code, 1);
    assert.match(noTopic.stderr, /--topic required/);
    const both = await runTool('nsq_tail', ['--topic=t', `--nsqd-tcp-address=127.0.0.1:${n1.tcpPort}`, `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`]);
    assert.match(both.stderr, /use --nsqd-tcp-address or --lookupd-http-address not both/);
    const version = await runTool('nsq_tail', ['--version']);
    assert.equal(version.stdout, 'nsq_tail v1.3.0\n');
  });
});
