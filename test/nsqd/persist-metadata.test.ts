/**
 * nsqd.dat (docs/disk-format.md): name, JSON shape, atomic replacement, kept in step with topic/channel
 * creation, deletion and pausing, read back on restart; an unparsable file stops the start-up.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { decodeMetadata, encodeMetadata } from '../../src/nsqd/metadata.js';
import { cleanup, createChannel, findFixture, httpOk, NsqConn, scratchDir, topicStats } from './persist-client.js';
import { eventually } from '../helpers/wait.js';

const daemons: Daemon[] = [];
after(() => cleanup(daemons));

interface Md {
  topics: { name: string; paused: boolean; channels: { name: string; paused: boolean }[] | null }[];
  version: string;
}

function readMd(dataPath: string): Md {
  return JSON.parse(fs.readFileSync(path.join(dataPath, 'nsqd.dat'), 'utf8')) as Md;
}

/** Topics sorted by name, channels by name: the file's order is map order (unspecified). */
function normalized(md: Md): Md['topics'] {
  return md.topics
    .map((t) => ({ ...t, channels: t.channels === null ? null : [...t.channels].sort((a, b) => a.name.localeCompare(b.name)) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

test('nsqd.dat follows creation, deletion and pausing, and survives a restart', async () => {
  const d = await startNsqd();
  daemons.push(d);
  const file = path.join(d.dataPath, 'nsqd.dat');
  // Written at start-up already (right after the ports are logged, so wait for it).
  await eventually(() => fs.existsSync(file), 3000, 'nsqd.dat');
  // Go's json.Marshal writes the empty topic list (a nil slice) as null.
  assert.equal(fs.readFileSync(file, 'utf8'), '{"topics":null,"version":"1.3.0"}');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);

  await createChannel(d.httpPort, 'alpha', 'a1');
  await createChannel(d.httpPort, 'alpha', 'a2');
  await createChannel(d.httpPort, 'alpha', 'gone');
  await createChannel(d.httpPort, 'alpha', 'e#ephemeral');
  await httpOk(d.httpPort, '/topic/create?topic=bare');
  await createChannel(d.httpPort, 'doomed', 'x');
  await httpOk(d.httpPort, '/topic/create?topic=tmp#ephemeral'.replace('#', '%23'));
  // A topic created by PUB, and a channel created by SUB, are recorded too.
  const conn = await NsqConn.connect(d.tcpPort);
  await conn.pub('published', 'x');
  await conn.sub('subbed', 'ch');

  // Pausing persists before answering, and replaces the file instead of rewriting it in place:
  // a descriptor opened on the old file still reads the old content.
  await eventually(() => readMd(d.dataPath).topics.some((t) => t.name === 'subbed' && t.channels !== null));
  const oldFd = fs.openSync(file, 'r');
  try {
    const before = fs.readFileSync(oldFd, 'utf8');
    await httpOk(d.httpPort, '/topic/pause?topic=bare');
    assert.equal(readMd(d.dataPath).topics.find((t) => t.name === 'bare')!.paused, true);
    assert.equal(fs.readSync(oldFd, Buffer.alloc(1), 0, 1, 0), 1);
    const viaOldFd = Buffer.alloc(before.length + 64);
    const n = fs.readSync(oldFd, viaOldFd, 0, viaOldFd.length, 0);
    assert.equal(viaOldFd.toString('utf8', 0, n), before);
  } finally {
    fs.closeSync(oldFd);
  }
  await httpOk(d.httpPort, '/channel/pause?topic=alpha&channel=a2');
  await httpOk(d.httpPort, '/channel/delete?topic=alpha&channel=gone');
  await httpOk(d.httpPort, '/topic/delete?topic=doomed');

  const expected: Md['topics'] = [
    { name: 'alpha', paused: false, channels: [{ name: 'a1', paused: false }, { name: 'a2', paused: true }] },
    { name: 'bare', paused: true, channels: null },
    { name: 'published', paused: false, channels: null },
    { name: 'subbed', paused: false, channels: [{ name: 'ch', paused: false }] },
  ];
  await eventually(() => JSON.stringify(normalized(readMd(d.dataPath))) === JSON.stringify(expected), 3000, 'nsqd.dat update');
  const md = readMd(d.dataPath);
  assert.deepEqual(Object.keys(md), ['topics', 'version']);
  assert.equal(md.version, '1.3.0');
  for (const t of md.topics) {
    assert.deepEqual(Object.keys(t), ['name', 'paused', 'channels']);
    for (const c of t.channels ?? []) assert.deepEqual(Object.keys(c), ['name', 'paused']);
  }
  // Compact JSON like Go's encoding/json, no temp files left behind.
  assert.equal(fs.readFileSync(file, 'utf8').includes(' '), false);
  assert.deepEqual(fs.readdirSync(d.dataPath).filter((f) => f.startsWith('nsqd.dat')), ['nsqd.dat']);

  await conn.close();
  assert.equal(await d.stop(), 0);
  assert.deepEqual(normalized(readMd(d.dataPath)), expected);

  // Restart: same topology and pause flags; ephemeral ones are gone.
  const d2 = await d.restart();
  daemons.push(d2);
  const s = await topicStats(d2.httpPort);
  assert.deepEqual([...s.keys()].sort(), ['alpha', 'bare', 'published', 'subbed']);
  assert.equal(s.get('bare')!.paused, true);
  assert.equal(s.get('alpha')!.paused, false);
  assert.deepEqual(
    s.get('alpha')!.channels.map((c) => [c.channel_name, c.paused]).sort(),
    [['a1', false], ['a2', true]],
  );
  // The restored paused channel really holds messages back.
  const sub = await NsqConn.connect(d2.tcpPort);
  await sub.sub('alpha', 'a2');
  sub.rdy(10);
  const pub = await NsqConn.connect(d2.tcpPort);
  await pub.pub('alpha', 'held');
  await eventually(async () => (await topicStats(d2.httpPort)).get('alpha')!.channels.find((c) => c.channel_name === 'a2')!.depth === 1);
  assert.equal(sub.received.length, 0);
  await httpOk(d2.httpPort, '/channel/unpause?topic=alpha&channel=a2');
  await sub.waitForMessages(1);
  assert.equal(sub.received[0]!.body.toString(), 'held');
  await sub.close();
  await pub.close();
  assert.equal(await d2.stop(), 0);
  assert.equal(readMd(d.dataPath).topics.find((t) => t.name === 'alpha')!.channels!.find((c) => c.name === 'a2')!.paused, false);
});

test('an unparsable nsqd.dat is fatal at start-up', async () => {
  const dataPath = scratchDir('tsnsq-persist-md-');
  fs.writeFileSync(path.join(dataPath, 'nsqd.dat'), '{"topics":[{"name":');
  // The listeners are bound before the metadata is read (as in the original), so the daemon may
  // get as far as logging its ports before it exits.
  let logs: string;
  try {
    const d = await startNsqd([], dataPath);
    daemons.push(d);
    const code = await new Promise<number | null>((resolve) =>
      d.proc.exitCode !== null ? resolve(d.proc.exitCode) : d.proc.once('exit', (c) => resolve(c)),
    );
    assert.equal(code, 1);
    logs = d.logs();
  } catch (err) {
    assert.match((err as Error).message, /exited early \(1\)/);
    logs = (err as Error).message;
  }
  const file = path.join(dataPath, 'nsqd.dat');
  assert.ok(logs.includes(`FATAL: failed to load metadata - failed to parse metadata in ${file} - `), logs);
  // The broken file is left alone for the operator.
  assert.equal(fs.readFileSync(path.join(dataPath, 'nsqd.dat'), 'utf8'), '{"topics":[{"name":');
});

test('a missing nsqd.dat is a fresh start; invalid names in it are skipped', async () => {
  const dataPath = scratchDir('tsnsq-persist-md-');
  fs.writeFileSync(
    path.join(dataPath, 'nsqd.dat'),
    JSON.stringify({ topics: [{ name: 'bad topic!', paused: false, channels: null }, { name: 'ok', paused: false, channels: [{ name: 'bad ch!', paused: false }, { name: 'c', paused: true }] }], version: '0.3.8' }),
  );
  const d = await startNsqd([], dataPath);
  daemons.push(d);
  const s = await topicStats(d.httpPort);
  assert.deepEqual([...s.keys()], ['ok']);
  assert.deepEqual(s.get('ok')!.channels.map((c) => [c.channel_name, c.paused]), [['c', true]]);
  assert.match(d.logs(), /skipping creation of invalid topic bad topic!/);
  // Rewritten right after loading, without the invalid entries and with our version.
  assert.deepEqual(readMd(dataPath), { topics: [{ name: 'ok', paused: false, channels: [{ name: 'c', paused: true }] }], version: '1.3.0' });
  assert.equal(await d.stop(), 0);
});

test('encode/decode: byte-identical round trip of the original\'s nsqd.dat, Go-like strictness', () => {
  const fixture = findFixture();
  {
    const text = fs.readFileSync(path.join(fixture, 'data', 'nsqd.dat'), 'utf8');
    assert.equal(encodeMetadata(decodeMetadata(text)), text);
  }
  assert.equal(encodeMetadata({ topics: [], version: '1.3.0' }), '{"topics":null,"version":"1.3.0"}');
  assert.equal(
    encodeMetadata({ topics: [{ name: 't', paused: true, channels: [] }], version: '1.3.0' }),
    '{"topics":[{"name":"t","paused":true,"channels":null}],"version":"1.3.0"}',
  );
  // null means the zero value; unknown keys are ignored.
  assert.deepEqual(decodeMetadata('null'), { topics: [], version: '' });
  assert.deepEqual(decodeMetadata('{"topics":null,"extra":1}'), { topics: [], version: '' });
  assert.deepEqual(decodeMetadata('{"topics":[{"name":"a","channels":[{"name":"c","paused":null}]}]}'), {
    topics: [{ name: 'a', paused: false, channels: [{ name: 'c', paused: false }] }],
    version: '',
  });
  // A wrong JSON type is an error, not a silently dropped entry.
  assert.throws(() => decodeMetadata('[]'), /json: cannot unmarshal array into Go value of type nsqd.Metadata/);
  assert.throws(() => decodeMetadata('{"topics":{}}'), /cannot unmarshal object into Go struct field Metadata.topics/);
  assert.throws(() => decodeMetadata('{"topics":[{"name":5}]}'), /cannot unmarshal number into Go struct field TopicMetadata.topics.name of type string/);
  assert.throws(() => decodeMetadata('{"topics":[{"name":"a","paused":"yes"}]}'), /TopicMetadata.topics.paused of type bool/);
  assert.throws(() => decodeMetadata('{"topics":[{"name":"a","channels":[{"name":1}]}]}'), /ChannelMetadata.topics.channels.name/);
  assert.throws(() => decodeMetadata('{"topics":[]'), SyntaxError);
});
