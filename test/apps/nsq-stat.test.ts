import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { request } from '../helpers/http.js';
import { eventually } from '../helpers/wait.js';
import { httpPublish, runTool } from './helpers.js';

let nsqd: Daemon;
let lookupd: Daemon;

before(async () => {
  lookupd = await startNsqlookupd();
  nsqd = await startNsqd([`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`]);
});
after(async () => {
  await nsqd?.stop();
  await lookupd?.stop();
});

const HEADER1 = '------rate------+----------------depth----------------+--------------metadata---------------';
const HEADER2 = 'ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients';

test('prints the header and --count rows with the channel counters (nsqd addresses)', async () => {
  await request(nsqd.httpPort, 'POST', '/topic/create?topic=st1');
  await request(nsqd.httpPort, 'POST', '/channel/create?topic=st1&channel=c');
  await httpPublish(nsqd.httpPort, 'st1', ['a', 'b', 'c']);
  const r = await runTool('nsq_stat', ['--topic=st1', '--channel=c', `--nsqd-http-address=127.0.0.1:${nsqd.httpPort}`, '--interval=100ms', '--count=2']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 2), [HEADER1, HEADER2]);
  assert.equal(lines.length, 4);
  for (const row of lines.slice(2)) {
    assert.equal(row, '      0       0 |       3       3       0     0     0 |       0       0            3       0');
  }
});

test('finds producers through nsqlookupd', async () => {
  await request(nsqd.httpPort, 'POST', '/topic/create?topic=st2');
  await request(nsqd.httpPort, 'POST', '/channel/create?topic=st2&channel=c');
  await httpPublish(nsqd.httpPort, 'st2', ['x']);
  // registration with lookupd is asynchronous
  const r = await eventually(async () => {
    const run = await runTool('nsq_stat', ['--topic=st2', '--channel=c', `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`, '--interval=50ms', '--count=1']);
    assert.equal(run.code, 0, run.stderr);
    return run;
  }, 20000, 'nsq_stat to find the producer');
  assert.equal(r.stdout.trimEnd().split('\n')[2], '      0       0 |       1       1       0     0     0 |       0       0            1       0');
});

test('original errors for bad input', async () => {
  const cases: Array<[string[], string]> = [
    [[], '--topic and --channel are required'],
    [['--topic=t', '--channel=c'], '--nsqd-http-address or --lookupd-http-address required'],
    [['--topic=t', '--channel=c', '--nsqd-http-address=a:1', '--lookupd-http-address=b:2'], 'use --nsqd-http-address or --lookupd-http-address not both'],
    [['--topic=t', '--channel=c', '--nsqd-http-address=http://a:1'], '--nsqd-http-address error - address should not contain scheme'],
    [['--topic=t', '--channel=c', '--nsqd-http-address=a:1', '--count=0'], '--count should be positive'],
    [['--topic=t', '--channel=c', '--nsqd-http-address=a:1', '--interval=0s'], '--interval should be positive'],
    [['--topic=nope', '--channel=c', `--nsqd-http-address=127.0.0.1:${nsqd.httpPort}`], 'ERROR: failed to find channel(c) in stats metadata for topic(nope)'],
  ];
  for (const [args, msg] of cases) {
    const r = await runTool('nsq_stat', args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d ${msg.replace(/[()]/g, '\\$&')}\\n$`));
  }
  const v = await runTool('nsq_stat', ['--version']);
  assert.equal(v.stdout, 'nsq_stat v1.3.0\n');
  const bad = await runTool('nsq_stat', ['--bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^flag provided but not defined: -bogus\nUsage of nsq_stat:/);
});
