/**
 * File names and the metadata text format of a go-diskqueue v1.1.0 queue (docs/disk-format.md).
 * Pure functions: no I/O, so the on-disk naming and the meta codec can be tested in isolation.
 */

import { join } from 'node:path';

/** The five numbers persisted in `<name>.diskqueue.meta.dat`. */
export interface DiskQueueMeta {
  /** Records not yet consumed. */
  depth: number;
  /** Segment number of the next record not yet handed to a consumer. */
  readFileNum: number;
  /** Byte offset of that record inside its segment. */
  readPos: number;
  /** Segment number the next record is appended to. */
  writeFileNum: number;
  /** Byte offset in that segment where the next record is appended. */
  writePos: number;
}

/** Go's `%06d`: zero-padded to at least six digits, wider numbers print in full. */
export function formatFileNum(fileNum: number): string {
  if (fileNum < 0) return '-' + String(-fileNum).padStart(5, '0');
  return String(fileNum).padStart(6, '0');
}

/** `<dataPath>/<name>.diskqueue.<NNNNNN>.dat`; an empty dataPath gives a relative name. */
export function segmentFileName(dataPath: string, name: string, fileNum: number): string {
  return join(dataPath, `${name}.diskqueue.${formatFileNum(fileNum)}.dat`);
}

/** `<dataPath>/<name>.diskqueue.meta.dat`. */
export function metaFileName(dataPath: string, name: string): string {
  return join(dataPath, `${name}.diskqueue.meta.dat`);
}

/** `<meta file>.<random non-negative int>.tmp`, written then renamed over the meta file. */
export function tempMetaFileName(metaPath: string, random: number): string {
  return `${metaPath}.${random}.tmp`;
}

/** The exact text the original writes: `depth\nreadFileNum,readPos\nwriteFileNum,writePos\n`. */
export function formatMeta(m: DiskQueueMeta): string {
  return `${m.depth}\n${m.readFileNum},${m.readPos}\n${m.writeFileNum},${m.writePos}\n`;
}

// Mirrors Go's fmt.Fscanf("%d\n%d,%d\n%d,%d\n"): blanks may precede a number, a sign is allowed,
// newlines must be where the format has them, the last newline may be replaced by end of input,
// and anything after the last number's line is never read.
const META_RE = /^[ \t]*([+-]?\d+)[ \t]*\n[ \t]*([+-]?\d+),[ \t]*([+-]?\d+)[ \t]*\n[ \t]*([+-]?\d+),[ \t]*([+-]?\d+)[ \t]*(?:\n|$)/;

/** Parses meta file text; throws an Error describing the problem when it does not match. */
export function parseMeta(text: string): DiskQueueMeta {
  const m = META_RE.exec(text);
  if (m === null) throw new Error('malformed diskqueue metadata ' + JSON.stringify(text.slice(0, 80)));
  const nums = m.slice(1, 6).map(Number);
  for (const n of nums) {
    if (!Number.isSafeInteger(n)) throw new Error('diskqueue metadata number out of range');
  }
  return { depth: nums[0]!, readFileNum: nums[1]!, readPos: nums[2]!, writeFileNum: nums[3]!, writePos: nums[4]! };
}
