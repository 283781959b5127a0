import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DiskQueue } from '../../src/diskqueue/disk-queue.js';
import { CaptureLogger, drain, recordIndex, tempDir } from './helpers.js';

const writer = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

/** Runs the writer until it acknowledged `puts` puts, then SIGKILLs it; returns the last acks it wrote. */
function runAndKill(dir: string, maxBytes: number, puts: number): Promise<{ lastPut: number; lastConsumed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(maxBytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastPut = -1;
    let lastConsumed = -1;
    let pending = '';
    let killed = false;
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      // Acks still in the pipe after the kill are parsed too: they were all written before death.
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, n] = line.split(' ');
        if (kind === 'p') lastPut = Number(n);
        else if (kind === 'c') lastConsumed = Number(n);
      }
      if (!killed && lastPut >= puts) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early: code ${code} signal ${signal}`));
      else resolve({ lastPut, lastConsumed });
    });
  });
}

for (const [puts, maxBytes] of [
  [150, 1000],
  [400, 3000],
  [777, 100000],
] as const) {
  test(`SIGKILL mid-stream (syncEvery=1, ${puts} puts, maxBytesPerFile=${maxBytes}): every acknowledged put survives`, async (t) => {
    const dir = tempDir(t);
    const { lastPut, lastConsumed } = await runAndKill(dir, maxBytes, puts);
    assert.ok(lastPut >= puts);
    const log = new CaptureLogger();
    const q = new DiskQueue({
      name: 'crash',
      dataPath: dir,
      maxBytesPerFile: maxBytes,
      minMsgSize: 26,
      maxMsgSize: 1024,
      syncEvery: 1,
      syncTimeoutMs: 2000,
      logger: log,
    });
    t.after(() => q.close());
    const got = drain(q).map(recordIndex);
    assert.ok(got.length > 0);
    const first = got[0]!;
    // Consecutive, no gaps or duplicates.
    for (const [i, v] of got.entries()) assert.equal(v, first + i, `position ${i}`);
    // Everything acknowledged as put and not acknowledged as consumed is there. At most one more
    // consume may have committed between its ack being written and the kill.
    assert.ok(first === lastConsumed + 1 || first === lastConsumed + 2, `first ${first}, last consumed ack ${lastConsumed}`);
    // At most one more put may have completed without its ack.
    const last = got[got.length - 1]!;
    assert.ok(last === lastPut || last === lastPut + 1, `last ${last}, last put ack ${lastPut}`);
    assert.equal(q.depth(), 0);
    // Still writable after recovery.
    const rec = Buffer.alloc(40, 0x2e);
    rec.write('rec-999999-', 0, 'latin1');
    q.put(rec);
    assert.deepEqual(drain(q).map(recordIndex), [999999]);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')).length <= 1,
      true,
      'at most the one temp meta file being written at the kill',
    );
  });
}
