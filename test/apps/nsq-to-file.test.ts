import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { startNsqd, startNsqlookupd, tempDir, type Daemon } from '../helpers/daemons.js';
import { strftime } from '../../src/apps/lib/strftime.js';
import { eventually } from '../helpers/wait.js';
import { channelNow, httpPublish, killTools, runTool, spawnTool } from './helpers.js';

let nsqd: Daemon;
let lookupd: Daemon;
const dirs: string[] = [];

before(async () => {
  lookupd = await startNsqlookupd();
  nsqd = await startNsqd([`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`]);
});
afterEach(killTools);
after(async () => {
  await nsqd?.stop();
  await lookupd?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir('tsnsq-to-file-');
  dirs.push(d);
  return d;
}

function bodies(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
}

/** Every line of every file in `d` (gunzipping .gz files), sorted. */
function linesIn(d: string): string[] {
  const out: string[] = [];
  for (const f of fs.readdirSync(d)) {
    const raw = fs.readFileSync(path.join(d, f));
    const text = f.endsWith('.gz') ? zlib.gunzipSync(raw).toString() : raw.toString();
    out.push(...text.split('\n').filter((l) => l !== ''));
  }
  return out.sort();
}

/** The one file in `d`; fails unless there is exactly one. */
function onlyFile(d: string): string {
  const files = fs.readdirSync(d);
  const [file] = files;
  assert.ok(files.length === 1 && file !== undefined, `expected one file, found: ${files.join(', ')}`);
  return file;
}

async function drained(topic: string, channel: string, n: number): Promise<void> {
  await eventually(async () => {
    const c = await channelNow(nsqd.httpPort, topic, channel);
    return c !== undefined && c.message_count === n && c.depth === 0 && c.in_flight_count === 0;
  }, 20000, `${n} messages finished on ${topic}/${channel}`);
}

test('writes one line per message to <TOPIC>.<HOST>.<DATETIME>.log and FINishes after syncing', async () => {
  const out = dir();
  const msgs = bodies('plain', 25);
  await httpPublish(nsqd.httpPort, 'tf_plain', msgs);
  const tool = spawnTool('nsq_to_file', ['--topic=tf_plain', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--output-dir=${out}`, '--host-identifier=testhost', '--sync-interval=200ms']);
  await drained('tf_plain', 'nsq_to_file', 25);
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  const file = onlyFile(out);
  // the hour may roll over during the test; accept either side
  assert.match(file, /^tf_plain\.testhost\.\d{4}-\d\d-\d\d_\d\d\.log$/);
  const hour = strftime('%Y-%m-%d_%H', new Date());
  assert.ok(file <= `tf_plain.testhost.${hour}.log`);
  assert.deepEqual(linesIn(out), msgs);
});

test('gzip + size rotation + work dir: rotated gzip files land in the output dir and gunzip to every message', async () => {
  const out = dir();
  const work = dir();
  const msgs = bodies('gz', 40);
  const tool = spawnTool('nsq_to_file', [
    '--topic=tf_gz', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--output-dir=${out}`, `--work-dir=${work}`,
    '--host-identifier=h', '--gzip', '--gzip-level=9', '--rotate-size=50', '--max-in-flight=5', '--sync-interval=100ms',
  ]);
  await eventually(async () => (await channelNow(nsqd.httpPort, 'tf_gz', 'nsq_to_file')) !== undefined, 20000, 'subscription');
  await httpPublish(nsqd.httpPort, 'tf_gz', msgs);
  await drained('tf_gz', 'nsq_to_file', 40);
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  const files = fs.readdirSync(out).sort();
  assert.ok(files.length >= 3, `rotated into ${files.join(', ')}`);
  for (const f of files) assert.match(f, /^tf_gz\.h-\d{6}\.\d{4}-\d\d-\d\d_\d\d\.log\.gz$/);
  assert.deepEqual(linesIn(out), msgs);
  assert.deepEqual(fs.readdirSync(work), [], 'work dir emptied on close');
});

test('rotation by interval opens a new revision', async () => {
  const out = dir();
  const tool = spawnTool('nsq_to_file', [
    '--topic=tf_iv', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--output-dir=${out}`, '--host-identifier=h', '--rotate-interval=300ms', '--sync-interval=100ms',
  ]);
  await eventually(async () => (await channelNow(nsqd.httpPort, 'tf_iv', 'nsq_to_file')) !== undefined, 20000, 'subscription');
  await httpPublish(nsqd.httpPort, 'tf_iv', ['first']);
  await drained('tf_iv', 'nsq_to_file', 1);
  await eventually(() => fs.readdirSync(out).length >= 2, 20000, 'a rotation by interval');
  await httpPublish(nsqd.httpPort, 'tf_iv', ['second']);
  await drained('tf_iv', 'nsq_to_file', 2);
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  const files = fs.readdirSync(out).sort();
  assert.ok(files.length >= 2);
  assert.match(files[0]!, /^tf_iv\.h-000000\./);
  assert.deepEqual(linesIn(out), ['first', 'second']);
});

test('--topic-pattern discovers matching topics through nsqlookupd', async () => {
  const out = dir();
  await httpPublish(nsqd.httpPort, 'disc_yes', ['y1']);
  await httpPublish(nsqd.httpPort, 'other_no', ['n1']);
  const tool = spawnTool('nsq_to_file', [
    '--topic-pattern=^disc_', `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`, `--output-dir=${out}`, '--host-identifier=h',
    '--topic-refresh=200ms', '--sync-interval=100ms', '--consumer-opt=lookupd_poll_interval,200ms',
  ]);
  await drained('disc_yes', 'nsq_to_file', 1);
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  assert.match(onlyFile(out), /^disc_yes\.h\./);
  assert.equal(await channelNow(nsqd.httpPort, 'other_no', 'nsq_to_file'), undefined);
});

test('SIGTERM while consuming loses nothing: every message is in the file or back in nsqd', async () => {
  const out = dir();
  const msgs = bodies('stop', 300);
  await httpPublish(nsqd.httpPort, 'tf_stop', msgs);
  const tool = spawnTool('nsq_to_file', ['--topic=tf_stop', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--output-dir=${out}`, '--host-identifier=h', '--max-in-flight=50']);
  await eventually(() => fs.readdirSync(out).length > 0, 20000, 'the output file');
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  const written = linesIn(out);
  await eventually(async () => (await channelNow(nsqd.httpPort, 'tf_stop', 'nsq_to_file'))?.in_flight_count === 0, 20000, 'no messages in flight');
  const c = await channelNow(nsqd.httpPort, 'tf_stop', 'nsq_to_file');
  assert.equal(written.length + c!.depth + c!.deferred_count, 300, `written ${written.length}, depth ${c!.depth}`);
  assert.equal(new Set(written).size, written.length, 'no duplicates');
});

test('original startup errors', async () => {
  const cases: Array<[string[], string]> = [
    [['--channel='], '--channel is required'],
    [['--topic=t'], '--nsqd-tcp-address or --lookupd-http-address required'],
    [['--topic=t', '--nsqd-tcp-address=a:1', '--lookupd-http-address=b:2'], 'use --nsqd-tcp-address or --lookupd-http-address not both'],
    [['--topic=t', '--nsqd-tcp-address=a:1', '--gzip-level=0'], 'invalid --gzip-level value (0), should be 1-9'],
    [['--nsqd-tcp-address=a:1'], '--topic or --topic-pattern required'],
    [['--topic-pattern=x', '--nsqd-tcp-address=a:1'], '--lookupd-http-address must be specified when no --topic specified'],
    [['--topic=t', '--nsqd-tcp-address=127.0.0.1:1', '--gzip', '--filename-format=<TOPIC>.log'], 'missing <REV> in --filename-format when gzip, rotation, or work dir enabled'],
  ];
  for (const [args, msg] of cases) {
    const r = await runTool('nsq_to_file', args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith('[nsq_to_file] ') && r.stderr.includes(`FATAL: ${msg}`), r.stderr);
  }
  assert.equal((await runTool('nsq_to_file', ['--version'])).stdout, 'nsq_to_file v1.3.0\n');
});

test('SIGHUP closes the current file (moved out of the work dir); the next message opens the next revision', async () => {
  const out = dir();
  const work = dir();
  const tool = spawnTool('nsq_to_file', ['--topic=tf_hup', `--nsqd-tcp-address=127.0.0.1:${nsqd.tcpPort}`, `--output-dir=${out}`, `--work-dir=${work}`, '--host-identifier=h', '--sync-interval=100ms']);
  await eventually(async () => (await channelNow(nsqd.httpPort, 'tf_hup', 'nsq_to_file')) !== undefined, 20000, 'subscription');
  await httpPublish(nsqd.httpPort, 'tf_hup', ['before']);
  await drained('tf_hup', 'nsq_to_file', 1);
  tool.proc.kill('SIGHUP');
  await eventually(() => fs.readdirSync(out).length === 1, 20000, 'the file moved to the output dir');
  await httpPublish(nsqd.httpPort, 'tf_hup', ['after']);
  await drained('tf_hup', 'nsq_to_file', 2);
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  const files = fs.readdirSync(out).sort();
  const [first, second] = files;
  assert.ok(files.length === 2 && first !== undefined && second !== undefined, files.join(', '));
  assert.match(first, /^tf_hup\.h-000000\./);
  assert.match(second, /^tf_hup\.h-000001\./);
  assert.equal(fs.readFileSync(path.join(out, first), 'utf8'), 'before\n');
  assert.equal(fs.readFileSync(path.join(out, second), 'utf8'), 'after\n');
});
