// nsq_diskqueue fsck|dump (src/apps/nsq_diskqueue.ts) as an operator runs it: the compiled
// binary on a temp copy of a data directory, the original nsqd 1.3.0's included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import { parseMeta } from '../../src/diskqueue/files.js';
import { originalDataDir } from '../helpers/fixtures.js';
import { NSQD_MAX, drain, queueOptions, record, recordIndex, tempDir } from './helpers.js';

const tool = fileURLToPath(new URL('../../src/apps/nsq_diskqueue.js', import.meta.url));

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [tool, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function fixtureCopy(t: { after(fn: () => void): void }): string {
  const dir = tempDir(t);
  const src = path.join(originalDataDir(), 'data');
  for (const f of fs.readdirSync(src)) {
    fs.copyFileSync(path.join(src, f), path.join(dir, f));
    fs.chmodSync(path.join(dir, f), 0o600);
  }
  return dir;
}

test('fsck: the original nsqd 1.3.0 data directory is clean, per file and in total', (t) => {
  const dir = fixtureCopy(t);
  const r = run(['fsck', `--data-path=${dir}`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^queue orders:billing \(depth 905, read 0,8400, write 0,46400\)$/m);
  assert.ok(r.out.includes(`${path.join(dir, 'orders:billing.diskqueue.000000.dat')}: plain, 1105 records, 0 bad, 0 bytes skipped\n`), r.out);
  assert.match(r.out, /^OK: 6 queues, 17 segments, 3173 records, 0 bad, 0 bytes skipped$/m);
  const one = run(['fsck', `--data-path=${dir}`, '--topic=orders']);
  assert.match(one.out, /^OK: 3 queues, 3 segments, 2823 records, 0 bad, 0 bytes skipped$/m);
});

test('dump: the original format, as JSON lines and as text', (t) => {
  const dir = fixtureCopy(t);
  const r = run(['dump', `--data-path=${dir}`, '--queue=paused_topic', '--format=json']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { file: string; offset: number; length: number; crc: string; id: string; attempts: number; body: string });
  assert.equal(lines.length, 50);
  assert.equal(lines[0]!.offset, 0);
  assert.equal(lines[1]!.offset, 4 + lines[0]!.length);
  for (const l of lines) {
    assert.equal(l.crc, 'none');
    assert.match(l.id, /^[0-9a-f]{16}$/);
    assert.equal(Buffer.from(l.body, 'base64').length, l.length - 26);
  }
  const text = run(['dump', `--data-path=${dir}`, '--queue=paused_topic']);
  assert.equal(text.code, 0);
  assert.equal(text.out.trim().split('\n').length, 50);
  assert.match(text.out.split('\n')[0]!, /paused_topic\.diskqueue\.000000\.dat 0 length=\d+ crc=none id=[0-9a-f]{16} attempts=\d+ timestamp=\d+ body=/);
});

test('fsck and dump on checksummed segments: damage reported per file, --repair cuts a damaged tail', (t) => {
  const dir = tempDir(t);
  const opts = queueOptions(dir, { name: 'tp:ch', checksums: true, maxBytesPerFile: 8 + 3 * 84 });
  const q = new DiskQueue(opts);
  for (let i = 0; i < 6; i++) q.put(record(i, 76));
  q.close();
  const seg = (n: number) => path.join(dir, `tp:ch.diskqueue.00000${n}.dat`);
  // Segment 0: a damaged body in the middle. Segment 1 (being written): a torn record at the end.
  const fd = fs.openSync(seg(0), 'r+');
  fs.writeSync(fd, Buffer.from('!'), 0, 1, 8 + 84 + 40);
  fs.closeSync(fd);
  fs.appendFileSync(seg(1), Buffer.from('00000060deadbeef0102', 'hex'));

  const r = run(['fsck', `--data-path=${dir}`, '--queue=tp:ch']);
  assert.equal(r.code, 1);
  assert.ok(r.out.includes(`${seg(0)}: checksummed, 2 records, 1 bad, 84 bytes skipped\n`), r.out);
  assert.ok(r.out.includes(`${seg(1)}: checksummed, 3 records, 1 bad, 10 bytes skipped, damaged tail after ${8 + 3 * 84}\n`), r.out);
  assert.match(r.out, /^DAMAGED: 1 queues, 2 segments, 5 records, 2 bad, 94 bytes skipped$/m);

  const d = run(['dump', `--data-path=${dir}`, '--queue=tp:ch']);
  assert.equal(d.code, 1);
  const lines = d.out.trim().split('\n');
  assert.equal(lines.length, 7);
  assert.equal(lines[1], `${seg(0)} 92 DAMAGED 84 bytes (bad-crc)`);
  assert.match(lines[0]!, / 8 length=76 crc=ok id=\.{16} attempts=11822 /);

  const fixed = run(['fsck', `--data-path=${dir}`, '--queue=tp:ch', '--repair']);
  assert.ok(fixed.out.includes('repaired: truncated 10 bytes'), fixed.out);
  assert.equal(fs.statSync(seg(1)).size, 8 + 3 * 84);
  // Only the damage in the middle is left; nsqd skips it when it reads there.
  assert.match(run(['fsck', `--data-path=${dir}`]).out, /^DAMAGED: 1 queues, 2 segments, 5 records, 1 bad, 84 bytes skipped$/m);
  const meta = parseMeta(fs.readFileSync(path.join(dir, 'tp:ch.diskqueue.meta.dat'), 'latin1'));
  assert.equal(meta.writePos, 8 + 3 * 84);
  const q2 = new DiskQueue({ ...opts, maxMsgSize: NSQD_MAX });
  t.after(() => q2.close());
  assert.deepEqual(drain(q2).map(recordIndex), [0, 2, 3, 4, 5]);
});

test('usage errors exit 2', () => {
  assert.equal(run([]).code, 2);
  assert.equal(run(['check']).code, 2);
  assert.equal(run(['fsck']).code, 2);
  assert.equal(run(['dump', '--data-path=/nonexistent']).code, 2);
  assert.equal(run(['dump', '--data-path=/tmp', '--queue=x', '--format=xml']).code, 2);
});
