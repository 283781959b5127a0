/**
 * Offline inspection of a data directory's disk queues for `nsq_diskqueue` (fsck and dump): find
 * the queues and their segments, walk each segment in its own format (the original's or the
 * checksummed one, record-format.ts) and report what verifies and what is damaged, and repair a
 * damaged tail by truncating it, as nsqd does at start-up. Only for a data directory no nsqd is
 * running on.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorText } from './file-io.js';
import { formatMeta, metaFileName, parseMeta, type DiskQueueMeta } from './files.js';
import { RECORD_BAD_CRC, RECORD_BAD_LENGTH, type RecordBounds, type RecordFault, type SegmentFormat } from './record-format.js';
import { SegmentFile } from './segment-file.js';
import { walkSegment, type SegmentVisitor } from './segment-scan.js';
import { replaceFileAtomically } from '../lib/atomic-file.js';

const SEGMENT_RE = /^(.+)\.diskqueue\.(-?\d+)\.dat$/;
const META_RE = /^(.+)\.diskqueue\.meta\.dat$/;
const READ_AHEAD = 1024 * 1024;

/** One segment file of a queue. */
export interface SegmentRef {
  readonly fileNum: number;
  readonly path: string;
}

/** The queue names of a data directory (`<topic>` and `<topic>:<channel>`), sorted. */
export function listQueues(dataPath: string): string[] {
  const names = new Set<string>();
  for (const f of fs.readdirSync(dataPath)) {
    const m = SEGMENT_RE.exec(f) ?? META_RE.exec(f);
    if (m !== null) names.add(m[1]!);
  }
  return [...names].sort();
}

/** The segments of queue `name`, in file-number order (`.bad` files left out). */
export function queueSegments(dataPath: string, name: string): SegmentRef[] {
  const out: SegmentRef[] = [];
  for (const f of fs.readdirSync(dataPath)) {
    const m = SEGMENT_RE.exec(f);
    if (m !== null && m[1] === name) out.push({ fileNum: Number(m[2]), path: path.join(dataPath, f) });
  }
  return out.sort((a, b) => a.fileNum - b.fileNum);
}

/** The `.bad` files nsqd set aside for queue `name`. */
export function badSegments(dataPath: string, name: string): string[] {
  const prefix = `${name}.diskqueue.`;
  return fs
    .readdirSync(dataPath)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.dat.bad'))
    .sort()
    .map((f) => path.join(dataPath, f));
}

/** The meta file of queue `name`, or null when it has none (or it does not parse). */
export function readQueueMeta(dataPath: string, name: string): DiskQueueMeta | null {
  try {
    return parseMeta(fs.readFileSync(metaFileName(dataPath, name), 'latin1'));
  } catch {
    return null;
  }
}

/** What checking one segment found. */
export interface SegmentReport {
  readonly path: string;
  readonly fileNum: number;
  /** null when the file could not be read at all (see `error`). */
  readonly format: SegmentFormat | null;
  readonly size: number;
  readonly records: number;
  /** Damaged regions (each one or more records). */
  readonly badRecords: number;
  readonly bytesSkipped: number;
  /** End of the last record that verifies; less than `size` when the tail is damaged. */
  readonly goodEnd: number;
  /** Why the file could not be read (open failure, unsupported header version). */
  readonly error?: string;
}

/** Walks one segment; `visitor` sees every record and damaged region. Never throws. */
export function checkSegment(ref: SegmentRef, bounds: RecordBounds, visitor?: SegmentVisitor): SegmentReport {
  let file: SegmentFile;
  try {
    file = SegmentFile.open(ref.path, READ_AHEAD);
  } catch (err) {
    return { ...ref, format: null, size: 0, records: 0, badRecords: 1, bytesSkipped: 0, goodEnd: 0, error: errorText(err) };
  }
  let size = 0;
  try {
    size = file.size();
    const layout = file.layout(size);
    const w = walkSegment(file, layout, size, bounds, visitor);
    return { ...ref, format: layout.format, size, records: w.records, badRecords: w.badRegions, bytesSkipped: w.bytesSkipped, goodEnd: w.goodEnd };
  } catch (err) {
    return { ...ref, format: null, size, records: 0, badRecords: 1, bytesSkipped: size, goodEnd: 0, error: errorText(err) };
  } finally {
    file.close();
  }
}

/**
 * Truncates a segment's damaged tail to its last good record (what nsqd does at start-up for
 * the segment being written) and pulls the queue's meta positions back when they pointed into
 * the cut bytes. Returns the bytes cut (0 when the tail was fine).
 */
export function truncateDamagedTail(dataPath: string, name: string, report: SegmentReport): number {
  if (report.format === null || report.goodEnd >= report.size) return 0;
  fs.truncateSync(report.path, report.goodEnd);
  const meta = readQueueMeta(dataPath, name);
  if (meta !== null) {
    const m = { ...meta };
    if (m.writeFileNum === report.fileNum && m.writePos > report.goodEnd) m.writePos = report.goodEnd;
    if (m.readFileNum === report.fileNum && m.readPos > report.goodEnd) m.readPos = report.goodEnd;
    if (m.writePos !== meta.writePos || m.readPos !== meta.readPos) {
      replaceFileAtomically(metaFileName(dataPath, name), formatMeta(m), { tmpFile: `${metaFileName(dataPath, name)}.fsck.tmp` });
    }
  }
  return report.size - report.goodEnd;
}

/** A damaged region's cause as a short word for tool output. */
export function faultWord(fault: RecordFault): string {
  if (fault === RECORD_BAD_CRC) return 'bad-crc';
  if (fault === RECORD_BAD_LENGTH) return 'bad-length';
  return 'truncated';
}

/** nsqd's message layout inside a record: 8-byte timestamp (ns), 2-byte attempts, 16-byte id, body. */
export interface NsqdRecord {
  readonly timestampNs: bigint;
  readonly attempts: number;
  readonly id: string;
  readonly body: Buffer;
}

/** nsqd's message fields of a record (docs/protocol.md, message layout), or null when too short. */
export function decodeNsqdRecord(rec: Buffer): NsqdRecord | null {
  if (rec.length < 26) return null;
  return { timestampNs: rec.readBigInt64BE(0), attempts: rec.readUInt16BE(8), id: rec.toString('latin1', 10, 26), body: rec.subarray(26) };
}

/** Bytes as text: printable ASCII as is, `\\` `\n` `\r` `\t` and anything else escaped (`\xNN`). */
export function escapeBytes(b: Uint8Array): string {
  let out = '';
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out;
}
