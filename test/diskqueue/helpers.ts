/** Shared helpers for the disk queue tests: temp dirs, a capturing logger, record builders. */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DiskQueue, DiskQueueOptions } from '../../src/diskqueue/disk-queue.js';
import { tempDir as kitTempDir } from '../helpers/daemons.js';

/** Collects log lines as `LEVEL: text` so tests can assert on them. */
export class CaptureLogger {
  readonly lines: string[] = [];
  debug(m: string): void {
    this.lines.push('DEBUG: ' + m);
  }
  info(m: string): void {
    this.lines.push('INFO: ' + m);
  }
  warn(m: string): void {
    this.lines.push('WARNING: ' + m);
  }
  error(m: string): void {
    this.lines.push('ERROR: ' + m);
  }
  has(fragment: string): boolean {
    return this.lines.some((l) => l.includes(fragment));
  }
}

/** A temp dir for one test, removed after it. */
export function tempDir(t: { after(fn: () => void): void }): string {
  return kitTempDir('tsnsq-dq-', t);
}

export const NSQD_MIN = 26;
export const NSQD_MAX = 1024 * 1024 + 26;

/** Options with nsqd's message bounds, a long sync timeout and a capturing logger. */
export function queueOptions(dir: string, overrides: Partial<DiskQueueOptions> = {}): DiskQueueOptions {
  return {
    name: 'dq',
    dataPath: dir,
    maxBytesPerFile: 1024 * 1024,
    minMsgSize: NSQD_MIN,
    maxMsgSize: NSQD_MAX,
    syncEvery: 2500,
    syncTimeoutMs: 60_000,
    logger: new CaptureLogger(),
    ...overrides,
  };
}

/** A record of exactly `size` bytes (>= 26) whose first bytes spell `rec-<i>-`, the rest filler. */
export function record(i: number, size = 40): Buffer {
  const b = Buffer.alloc(size, 0x2e);
  b.write(`rec-${i}-`, 0, 'latin1');
  return b;
}

/** The index encoded by record(). */
export function recordIndex(b: Uint8Array): number {
  const s = Buffer.from(b).toString('latin1');
  const m = /^rec-(\d+)-/.exec(s);
  if (m === null) throw new Error('not a test record: ' + JSON.stringify(s.slice(0, 20)));
  return Number(m[1]);
}

/** Consumes every record available now. */
export function drain(q: DiskQueue): Buffer[] {
  const out: Buffer[] = [];
  for (let b = q.peek(); b !== null; b = q.peek()) {
    out.push(b);
    q.advance();
  }
  return out;
}

/** Names in `dir` that belong to queue `name`, sorted. */
export function queueFiles(dir: string, name = 'dq'): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(name + '.diskqueue.'))
    .sort();
}

export function readMeta(dir: string, name = 'dq'): string {
  return fs.readFileSync(path.join(dir, `${name}.diskqueue.meta.dat`), 'latin1');
}
