/**
 * The reading end of a disk queue (go-diskqueue `diskqueue.go` readOne, moveForward,
 * handleReadError). It keeps the original's "peek one record, commit on hand-off" rule:
 * readNext() computes where the next record starts, only advance() moves the persisted read
 * position, so the meta file never points past a record the consumer has not taken. Records come
 * out of a read-ahead chunk of the current segment; a segment that cannot be read is kept as
 * `<segment>.bad` and reading goes on with the next one. Each segment is read in its own format
 * (record-format.ts); in a checksummed one a damaged record is skipped, not the whole segment:
 * reading resyncs on the next record that verifies and the skipped bytes are counted.
 */

import * as fs from 'node:fs';
import { errorText, unlinkFile } from './file-io.js';
import type { QueueState } from './queue-state.js';
import {
  CHECKSUMMED_RECORD_OVERHEAD,
  PLAIN_LAYOUT,
  PLAIN_RECORD_OVERHEAD,
  recordFaultText,
  type RecordFault,
  type SegmentLayout,
} from './record-format.js';
import { SegmentFile } from './segment-file.js';
import { checkRecordAt, resyncAfter } from './segment-scan.js';
import type { SegmentWriter } from './segment-writer.js';

/** Peeks and consumes records in order, segment by segment (see file header). */
export class SegmentReader {
  readonly #s: QueueState;
  readonly #writer: SegmentWriter;
  readonly #readAhead: number;
  readonly #checkTailCorruption: () => void;
  readonly #freeInPool: boolean;

  // The current read segment and its format.
  #file: SegmentFile | null = null;
  #layout: SegmentLayout = PLAIN_LAYOUT;
  #peeked: Buffer | null = null;

  /**
   * `checkTailCorruption` runs go-diskqueue's checkTailCorruption after every consume and bad
   * file (see TailCheck); `readAheadBytes` bounds one read-ahead chunk; `freeInPool`: consumed
   * segments' blocks are freed in the thread pool (see unlinkFile).
   */
  constructor(state: QueueState, writer: SegmentWriter, readAheadBytes: number, checkTailCorruption: () => void, freeInPool: boolean) {
    this.#s = state;
    this.#writer = writer;
    this.#readAhead = readAheadBytes;
    this.#checkTailCorruption = checkTailCorruption;
    this.#freeInPool = freeInPool;
  }

  /** The record last returned by readNext() and not consumed yet, or null. */
  get peeked(): Buffer | null {
    return this.#peeked;
  }

  /** Forgets the peeked record (it stays unconsumed). */
  dropPeeked(): void {
    this.#peeked = null;
  }

  /**
   * Reads the record at readPos without consuming it (it becomes `peeked`); null when the
   * reader has caught up with the writer. Unreadable segments are set aside on the way.
   */
  readNext(): Buffer | null {
    const s = this.#s;
    if (this.#writer.hasPending) this.#writer.flushPending();
    let rec: Buffer | null = null;
    while (rec === null && (s.readFileNum < s.writeFileNum || s.readPos < s.writePos)) {
      try {
        rec = this.#readOne();
      } catch (err) {
        s.log.error(`${s.prefix} reading at ${s.readPos} of ${s.fileName(s.readFileNum)} - ${errorText(err)}`);
        this.#handleReadError();
      }
    }
    this.#peeked = rec;
    return rec;
  }

  /** Consumes the peeked record (go-diskqueue moveForward); the caller checks there is one. */
  advance(): void {
    const s = this.#s;
    this.#peeked = null;
    s.count++;

    const oldReadFileNum = s.readFileNum;
    s.readFileNum = s.nextReadFileNum;
    s.readPos = s.nextReadPos;
    s.depth--;
    if (oldReadFileNum !== s.readFileNum) {
      s.needSync = true;
      this.#removeSegment(oldReadFileNum);
    } else if (s.readFileNum < s.writeFileNum && this.#file !== null && s.readPos >= s.maxBytesPerFileRead) {
      // The writer rolled over after this record was peeked, so the peek could not know it was the
      // last one of its file. The original then fails the next read with EOF and renames a healthy,
      // fully consumed file to .bad (go-diskqueue issue #42); move on cleanly instead.
      this.#skipConsumedReadFile();
    }
    this.#checkTailCorruption();
  }

  /** Reads the record at readPos; null means "moved on, try again". Throws read errors. */
  #readOne(): Buffer | null {
    const s = this.#s;
    let file = this.#file;
    if (file === null) {
      const fn = s.fileName(s.readFileNum);
      file = this.#file = SegmentFile.open(fn, this.#readAhead);
      s.log.info(`${s.prefix}: readOne() opened ${fn}`);
      s.maxBytesPerFileRead = s.maxBytesPerFile;
      let size = -1;
      try {
        size = file.size();
      } catch {
        // Keep maxBytesPerFile like the original; a short read will flag the file.
      }
      if (s.readFileNum < s.writeFileNum && size >= 0) s.maxBytesPerFileRead = size;
      this.#layout = size >= 0 ? file.layout(size) : PLAIN_LAYOUT;
    }
    const complete = s.readFileNum < s.writeFileNum;
    // A checksummed segment's records start after its header.
    const pos = Math.max(s.readPos, this.#layout.dataStart);
    if (complete && pos >= s.maxBytesPerFileRead) {
      // A finished segment with nothing left (e.g. meta saved by the original in the issue #42
      // state, or an empty file left by a crash): not corruption.
      this.#skipConsumedReadFile();
      return null;
    }
    // In the segment still being written, never look past writePos: bytes there may be the
    // remains of a failed write that a later put overwrites.
    const limit = complete ? s.maxBytesPerFileRead : s.writePos;
    const checksummed = this.#layout.format === 'checksummed';
    const overhead = checksummed ? CHECKSUMMED_RECORD_OVERHEAD : PLAIN_RECORD_OVERHEAD;
    let total: number;
    if (!checksummed) {
      // The original's format, with the original's errors (handleReadError sets the file aside).
      if (pos + 4 > limit) throw new Error('unexpected EOF');
      const msgSize = file.int32At(pos, limit);
      if (msgSize < s.minMsgSize || msgSize > s.maxMsgSize) {
        throw new Error(`invalid message read size (${msgSize})`);
      }
      total = 4 + msgSize;
      if (pos + total > limit) throw new Error('unexpected EOF');
    } else {
      total = checkRecordAt(file, pos, limit, 'checksummed', s);
      if (total < 0) {
        this.#skipDamaged(file, pos, limit, complete, total as RecordFault);
        return null;
      }
    }
    const off = file.ensure(pos, total, limit);
    const rec = file.chunk.subarray(off + overhead, off + total);

    s.nextReadPos = pos + total;
    s.nextReadFileNum = s.readFileNum;
    if (complete && s.nextReadPos >= s.maxBytesPerFileRead) {
      this.closeRead();
      s.nextReadFileNum++;
      s.nextReadPos = 0;
    }
    return rec;
  }

  /**
   * A checksummed record at `pos` does not verify: move the read position to the next record
   * that does (or to the end of what is readable), count the bytes, and go on. The skipped bytes
   * never were a record a consumer could take, so moving the persisted position past them loses
   * nothing more; when exactly one record was lost, depth follows.
   */
  #skipDamaged(file: SegmentFile, pos: number, limit: number, complete: boolean, fault: RecordFault): void {
    const s = this.#s;
    const { next, oneRecord } = resyncAfter(file, pos, limit, 'checksummed', s);
    const bytes = next - pos;
    s.countSkipped(bytes);
    const upTo = oneRecord ? 'one record' : next < limit ? 'up to the next good record' : complete ? 'up to the end of the file' : 'up to the write position';
    s.log.error(`${s.prefix} ${recordFaultText(fault)} at ${pos} of ${s.fileName(s.readFileNum)} - skipped ${bytes} bytes (${upTo})`);
    if (oneRecord) s.depth--;
    s.readPos = next;
    s.nextReadFileNum = s.readFileNum;
    s.nextReadPos = next;
    s.needSync = true;
    if (complete && next >= limit) this.#skipConsumedReadFile();
    this.#checkTailCorruption();
  }

  /** Closes the read segment and drops its read-ahead; the next read reopens it at readPos. */
  closeRead(): void {
    if (this.#file === null) return;
    this.#file.close();
    this.#file = null;
    this.#layout = PLAIN_LAYOUT;
  }

  /** Leaves a fully consumed, finished read segment: delete it and start the next one. */
  #skipConsumedReadFile(): void {
    const s = this.#s;
    const old = s.readFileNum;
    this.closeRead();
    s.readFileNum++;
    s.readPos = 0;
    s.nextReadFileNum = s.readFileNum;
    s.nextReadPos = 0;
    s.needSync = true;
    this.#removeSegment(old);
  }

  #removeSegment(fileNum: number): void {
    const s = this.#s;
    const fn = s.fileName(fileNum);
    try {
      unlinkFile(fn, this.#freeInPool);
    } catch (err) {
      s.log.error(`${s.prefix} failed to Remove(${fn}) - ${errorText(err)}`);
    }
  }

  /** go-diskqueue handleReadError: give up on the read segment, keep it as `.bad`, continue with the next one. */
  #handleReadError(): void {
    const s = this.#s;
    this.#writer.flushPending();
    this.closeRead();
    if (s.readFileNum === s.writeFileNum) {
      // The segment being written is unreadable: new records go to a fresh one.
      this.#writer.closeWrite();
      s.writeFileNum++;
      s.writePos = 0;
    }
    const badFn = s.fileName(s.readFileNum);
    const badRenameFn = badFn + '.bad';
    s.log.warn(`${s.prefix} jump to next file and saving bad file as ${badRenameFn}`);
    try {
      fs.renameSync(badFn, badRenameFn);
    } catch {
      s.log.error(`${s.prefix} failed to rename bad diskqueue file ${badFn} to ${badRenameFn}`);
    }
    s.readFileNum++;
    s.readPos = 0;
    s.nextReadFileNum = s.readFileNum;
    s.nextReadPos = 0;
    s.needSync = true;
    this.#checkTailCorruption();
  }
}
