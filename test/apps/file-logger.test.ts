import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { tempDir } from '../helpers/daemons.js';
import { Logger } from '../../src/lib/logger.js';
import { FileLogger, type FileLoggerOptions } from '../../src/apps/lib/file-logger.js';
import { computeFilenameFormat } from '../../src/apps/lib/filename-format.js';

const quiet = new Logger('[nsq_to_file] ', 'fatal', () => {});

function msg(body: string) {
  const m = { body: Buffer.from(body), finished: false, finish: () => (m.finished = true) };
  return m;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function setup(over: Partial<FileLoggerOptions>, clock: { t: number }) {
  const dir = tempDir('tsnsq-ftf-');
  dirs.push(dir);
  const o: FileLoggerOptions = {
    outputDir: dir, workDir: dir, datetimeFormat: '%Y-%m-%d_%H', gzip: false, gzipLevel: 6, skipEmptyFiles: false,
    rotateSize: 0, rotateInterval: 0, maxInFlight: 3, channel: 'nsq_to_file', ...over,
  };
  if (over.workDir === 'sub') {
    o.workDir = path.join(dir, 'work');
    o.outputDir = path.join(dir, 'out');
  }
  const template = computeFilenameFormat({ ...o, filenameFormat: '<TOPIC>.<HOST><REV>.<DATETIME>.log', hostIdentifier: 'h' }, 't', 'host', 1);
  const fl = new FileLogger(o, 't', template, quiet, () => new Date(clock.t));
  return { fl, o, dir };
}

const T0 = new Date(2026, 0, 1, 10, 0, 0).getTime();

test('messages are finished only after a sync (batch full or tick)', () => {
  const clock = { t: T0 };
  const { fl, o, dir } = setup({}, clock);
  const a = msg('a');
  fl.onMessage(a); // opening the file forces a sync, as in the original router
  assert.equal(a.finished, true);
  const ms = [msg('b'), msg('c')];
  for (const m of ms) fl.onMessage(m);
  assert.deepEqual(ms.map((m) => m.finished), [false, false]);
  assert.equal(fl.pending, 2);
  const d = msg('d');
  fl.onMessage(d); // the third fills max-in-flight
  assert.ok([...ms, d].every((m) => m.finished));
  const e = msg('e');
  fl.onMessage(e);
  assert.equal(e.finished, false);
  fl.onTick();
  assert.equal(e.finished, true);
  fl.close();
  assert.deepEqual(fs.readdirSync(o.outputDir), ['t.h.2026-01-01_10.log']);
  assert.equal(fs.readFileSync(path.join(dir, 't.h.2026-01-01_10.log'), 'utf8'), 'a\nb\nc\nd\ne\n');
});

test('rotation by size, interval and hour; revisions count up per name', () => {
  const clock = { t: T0 };
  const { fl, o } = setup({ rotateSize: 5, rotateInterval: 60_000, maxInFlight: 100 }, clock);
  fl.onMessage(msg('12345'));
  fl.onMessage(msg('6')); // size 6 > 5 → rotate before writing
  clock.t += 61_000;
  fl.onMessage(msg('7')); // interval passed → rotate
  clock.t = T0 + 3600_000;
  fl.onMessage(msg('8')); // new hour → new name, rev 0
  fl.close();
  const files = fs.readdirSync(o.outputDir).sort();
  assert.deepEqual(files, ['t.h-000000.2026-01-01_10.log', 't.h-000000.2026-01-01_11.log', 't.h-000001.2026-01-01_10.log', 't.h-000002.2026-01-01_10.log']);
  const read = (f: string) => fs.readFileSync(path.join(o.outputDir, f), 'utf8');
  assert.equal(read('t.h-000000.2026-01-01_10.log'), '12345\n');
  assert.equal(read('t.h-000001.2026-01-01_10.log'), '6\n');
  assert.equal(read('t.h-000002.2026-01-01_10.log'), '7\n');
  assert.equal(read('t.h-000000.2026-01-01_11.log'), '8\n');
  assert.equal(fl.stats.rotations, 4);
});

test('gzip: one gzip member per sync, readable as one stream; never appends to an existing file', () => {
  const clock = { t: T0 };
  const { fl, o } = setup({ gzip: true, maxInFlight: 2 }, clock);
  fs.writeFileSync(path.join(o.outputDir, 't.h-000000.2026-01-01_10.log.gz'), 'taken');
  for (const b of ['a', 'b', 'c']) fl.onMessage(msg(b));
  fl.close();
  const name = path.join(o.outputDir, 't.h-000001.2026-01-01_10.log.gz');
  const raw = fs.readFileSync(name);
  assert.equal(zlib.gunzipSync(raw).toString(), 'a\nb\nc\n');
  // members: [a b] at the batch sync, [c] at close
  let members = 0;
  for (let i = 0; i + 1 < raw.length; i++) if (raw[i] === 0x1f && raw[i + 1] === 0x8b && raw[i + 2] === 8) members++;
  assert.ok(members >= 2, `members=${members}`);
  assert.equal(fs.readFileSync(path.join(o.outputDir, 't.h-000000.2026-01-01_10.log.gz'), 'utf8'), 'taken');
});

test('work dir: files move to the output dir on close, skipping names already there', () => {
  const clock = { t: T0 };
  const { fl, o } = setup({ workDir: 'sub', maxInFlight: 1 }, clock);
  fs.mkdirSync(o.outputDir, { recursive: true });
  fs.writeFileSync(path.join(o.outputDir, 't.h-000000.2026-01-01_10.log'), 'old');
  fl.onMessage(msg('x'));
  assert.deepEqual(fs.readdirSync(o.workDir), ['t.h-000001.2026-01-01_10.log']);
  fl.onHup(); // close → move
  assert.deepEqual(fs.readdirSync(o.workDir), []);
  fl.onMessage(msg('y')); // next message opens a new file
  fl.close();
  assert.deepEqual(fs.readdirSync(o.outputDir).sort(), ['t.h-000000.2026-01-01_10.log', 't.h-000001.2026-01-01_10.log', 't.h-000002.2026-01-01_10.log']);
  assert.equal(fs.readFileSync(path.join(o.outputDir, 't.h-000001.2026-01-01_10.log'), 'utf8'), 'x\n');
  assert.equal(fs.readFileSync(path.join(o.outputDir, 't.h-000002.2026-01-01_10.log'), 'utf8'), 'y\n');
});

test('--skip-empty-files: ticks never open a file; an elapsed interval closes instead of rotating', () => {
  const clock = { t: T0 };
  const { fl, o } = setup({ skipEmptyFiles: true, rotateInterval: 60_000 }, clock);
  fl.onTick();
  assert.deepEqual(fs.readdirSync(o.outputDir), []);
  const a = msg('a');
  fl.onMessage(a);
  assert.equal(a.finished, true);
  clock.t += 61_000;
  fl.onTick(); // interval passed: the file is closed, no new empty one
  clock.t += 61_000;
  fl.onTick();
  assert.deepEqual(fs.readdirSync(o.outputDir), ['t.h-000000.2026-01-01_10.log']);
  fl.onMessage(msg('b'));
  fl.close();
  assert.deepEqual(fs.readdirSync(o.outputDir).sort(), ['t.h-000000.2026-01-01_10.log', 't.h-000001.2026-01-01_10.log']);
});

test('without --skip-empty-files a tick opens the file before any message, like the original', () => {
  const clock = { t: T0 };
  const { fl, o } = setup({}, clock);
  fl.onTick();
  assert.deepEqual(fs.readdirSync(o.outputDir), ['t.h.2026-01-01_10.log']);
  fl.close();
});
