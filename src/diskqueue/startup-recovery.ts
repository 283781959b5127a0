/**
 * Loading a disk queue's positions at start-up (go-diskqueue `diskqueue.go` retrieveMetaData),
 * and checking the segment being written against them: metadata not synced before a crash, a
 * checksummed segment's corrupt tail, a change of record format.
 */

import * as fs from 'node:fs';
import { errorCode, errorText } from './file-io.js';
import { parseMeta } from './files.js';
import type { QueueState } from './queue-state.js';
import type { SegmentFormat, SegmentLayout } from './record-format.js';
import { SegmentFile } from './segment-file.js';
import { walkSegment } from './segment-scan.js';

/**
 * go-diskqueue retrieveMetaData, first half: loads the meta file into `s` (checkWriteSegment does
 * the rest). Never throws: problems are logged, and the state keeps its zeroed positions.
 */
export function retrieveMetaData(s: QueueState): void {
  let text: string | null = null;
  try {
    text = fs.readFileSync(s.metaPath, 'latin1');
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') {
      s.log.error(`${s.prefix} failed to retrieveMetaData - ${errorText(err)}`);
    }
  }
  if (text !== null) {
    try {
      const m = parseMeta(text);
      s.depth = m.depth;
      s.readFileNum = m.readFileNum;
      s.readPos = m.readPos;
      s.writeFileNum = m.writeFileNum;
      s.writePos = m.writePos;
    } catch (err) {
      s.log.error(`${s.prefix} failed to retrieveMetaData - ${errorText(err)}`);
    }
  }
  s.nextReadFileNum = s.readFileNum;
  s.nextReadPos = s.readPos;
}

// Bytes read at a time by the start-up walk of a checksummed write segment.
const WALK_READ_AHEAD = 1024 * 1024;

/**
 * Checks the segment being written against the meta file before the first write (go-diskqueue
 * retrieveMetaData's stale-metadata check, extended for checksummed segments):
 * - a checksummed segment whose size is not the recorded write position (a crash) is walked, and
 *   a corrupt tail (damaged bytes with no good record after them) is truncated to the end of the
 *   last good record; the write position comes back to it when it pointed further;
 * - a segment longer than the write position holds records written after the last sync: writes
 *   move on to a new segment and the reader reads this one to its real end;
 * - a segment in another format than the one being written (`--disk-checksums` was turned on or
 *   off) is finished too, so every segment holds one format;
 * - segments after the recorded write segment (written after the meta file, before a crash) are
 *   read too, and writes go after the last of them (skipToLastSegment).
 * Never throws: problems are logged.
 */
export function checkWriteSegment(s: QueueState): void {
  skipToLastSegment(s);
  const fn = s.fileName(s.writeFileNum);
  let size: number;
  let format: SegmentFormat | null;
  let file: SegmentFile;
  try {
    file = SegmentFile.open(fn, WALK_READ_AHEAD);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') s.log.error(`${s.prefix} failed to retrieveMetaData - ${errorText(err)}`);
    return;
  }
  try {
    size = file.size();
    let layout: SegmentLayout | null = null;
    try {
      layout = file.layout(size);
    } catch (err) {
      // Left for the reader, which sets it aside; nothing is appended to it.
      s.log.error(`${s.prefix} ${fn} - ${errorText(err)}`);
    }
    format = layout?.format ?? null;
    if (layout !== null && layout.format === 'checksummed' && size !== s.writePos) size = truncateCorruptTail(s, file, fn, layout, size);
  } catch (err) {
    s.log.error(`${s.prefix} failed to check ${fn} - ${errorText(err)}`);
    return;
  } finally {
    file.close();
  }

  // Meta not synced before a crash: the segment holds more than writePos says. Appending at
  // writePos would overwrite those records, so writes move on and the reader salvages the file
  // up to its real end. (The original skips this check when there is no meta file at all; doing
  // it then too keeps records written before the very first sync.)
  if (s.writePos < size) {
    s.log.warn(`${s.prefix} ${fn} metadata writePos ${s.writePos} < file size of ${size}, skipping to new file`);
    s.writeFileNum++;
    s.writePos = 0;
  } else if (s.writePos > 0 && format !== s.writeFormat) {
    s.log.info(`${s.prefix} ${fn} holds ${format ?? 'unreadable'} records, writing ${s.writeFormat} records: skipping to new file`);
    s.writeFileNum++;
    s.writePos = 0;
  }
}

/**
 * Segments numbered after the meta file's write segment were written after the meta file was
 * last replaced and before a crash (with a group commit, a publish is acknowledged once its
 * segment is fsynced; the meta file follows a moment later). They hold acknowledged records:
 * the last one becomes the write segment, at position 0, so that checkWriteSegment moves writes
 * past whatever it holds and the reader reads every segment before it to its real end. Without
 * this, writes would start over in the next segment and overwrite them.
 */
function skipToLastSegment(s: QueueState): void {
  // The writer numbers segments one after another, so later ones follow without a gap: one
  // stat per segment and one for the first missing number (usually the only one).
  let last = s.writeFileNum;
  while (isFile(s.fileName(last + 1))) last++;
  if (last === s.writeFileNum) return;
  s.log.warn(
    `${s.prefix} found ${s.fileName(last)} after the write segment ${s.fileName(s.writeFileNum)} (metadata not synced before a crash): reading up to it`,
  );
  s.writeFileNum = last;
  s.writePos = 0;
}

function isFile(path: string): boolean {
  try {
    return fs.statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/**
 * Walks a checksummed write segment and truncates damaged bytes at its end; returns the
 * segment's size afterwards. Damage followed by good records is left for the reader to skip
 * (and count) when it gets there.
 */
function truncateCorruptTail(s: QueueState, file: SegmentFile, fn: string, layout: SegmentLayout, size: number): number {
  const walk = walkSegment(file, layout, size, s);
  const goodEnd = walk.goodEnd;
  if (goodEnd >= size) return size;
  const cut = size - goodEnd;
  s.log.warn(`${s.prefix} ${fn} corrupt tail: truncating ${cut} bytes after the last good record (at ${goodEnd})`);
  fs.truncateSync(fn, goodEnd);
  s.countSkipped(cut);
  if (s.writePos > goodEnd) {
    // Records the meta file counted are gone: depth is corrected once the reader catches up
    // (checkTailCorruption). A read position past the end was in the damaged bytes.
    s.writePos = goodEnd;
    if (s.readFileNum === s.writeFileNum && s.readPos > goodEnd) {
      s.readPos = goodEnd;
      s.nextReadPos = goodEnd;
    }
  }
  return goodEnd;
}
