/**
 * The reading end of a disk queue (go-diskqueue `diskqueue.go` readOne, moveForward,
 * handleReadError). It keeps the original's "peek one record, commit on hand-off" rule:
 * readNext() computes where the next record starts, only advance() moves the persisted read
 * position, so the meta file never points past a record the consumer has not taken. Records come
 * out of a read-ahead chunk of the current segment; a segment that cannot be read is kept as
 * `<segment>.bad` and reading goes on with the next one.
 */

import * as fs from 'node:fs';
import { errorText } from './file-io.js';
import type { QueueState } from './queue-state.js';
import type { SegmentWriter } from './segment-writer.js';

/** Peeks and consumes records in order, segment by segment (see file header). */
export class SegmentReader {
  readonly #s: QueueState;
  readonly #writer: SegmentWriter;
  readonly #readAhead: number;
  readonly #checkTailCorruption: () => void;

  #readFd: number | null = null;
  // Read-ahead of the current read segment. A fresh buffer per refill: records handed out are
  // views into it, so it must never be reused.
  #chunk: Buffer | null = null;
  #chunkStart = 0;
  #peeked: Buffer | null = null;

  /**
   * `checkTailCorruption` runs go-diskqueue's checkTailCorruption after every consume and bad
   * file (see TailCheck); `readAheadBytes` bounds one read-ahead chunk.
   */
  constructor(state: QueueState, writer: SegmentWriter, readAheadBytes: number, checkTailCorruption: () => void) {
    this.#s = state;
    this.#writer = writer;
    this.#readAhead = readAheadBytes;
    this.#checkTailCorruption = checkTailCorruption;
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
    } else if (s.readFileNum < s.writeFileNum && this.#readFd !== null && s.readPos >= s.maxBytesPerFileRead) {
      // The writer rolled over after this record was peeked, so the peek could not know it was the
      // last one of its file. The original then fails the next read with EOF and renames a healthy,
      // fully consumed file to .bad (go-diskqueue issue #42); move on cleanly instead.
      this.#skipConsumedReadFile();
    }
    this.#checkTailCorruption();
  }

  /** Reads the record at readPos; null means "moved to the next file, try again". Throws read errors. */
  #readOne(): Buffer | null {
    const s = this.#s;
    if (this.#readFd === null) {
      const fn = s.fileName(s.readFileNum);
      this.#readFd = fs.openSync(fn, 'r');
      this.#chunk = null;
      s.log.info(`${s.prefix}: readOne() opened ${fn}`);
      s.maxBytesPerFileRead = s.maxBytesPerFile;
      if (s.readFileNum < s.writeFileNum) {
        try {
          s.maxBytesPerFileRead = fs.fstatSync(this.#readFd).size;
        } catch {
          // Keep maxBytesPerFile like the original; a short read will flag the file.
        }
      }
    }
    const complete = s.readFileNum < s.writeFileNum;
    if (complete && s.readPos >= s.maxBytesPerFileRead) {
      // A finished segment with nothing left (e.g. meta saved by the original in the issue #42
      // state, or an empty file left by a crash): not corruption.
      this.#skipConsumedReadFile();
      return null;
    }
    // In the segment still being written, never look past writePos: bytes there may be the
    // remains of a failed write that a later put overwrites.
    const limit = complete ? s.maxBytesPerFileRead : s.writePos;
    const pos = s.readPos;
    if (pos + 4 > limit) throw new Error('unexpected EOF');
    let off = this.#ensureChunk(pos, 4, limit);
    const msgSize = this.#chunk!.readInt32BE(off);
    if (msgSize < s.minMsgSize || msgSize > s.maxMsgSize) {
      throw new Error(`invalid message read size (${msgSize})`);
    }
    const total = 4 + msgSize;
    if (pos + total > limit) throw new Error('unexpected EOF');
    off = this.#ensureChunk(pos, total, limit);
    const rec = this.#chunk!.subarray(off + 4, off + total);

    s.nextReadPos = pos + total;
    s.nextReadFileNum = s.readFileNum;
    if (complete && s.nextReadPos >= s.maxBytesPerFileRead) {
      this.closeRead();
      s.nextReadFileNum++;
      s.nextReadPos = 0;
    }
    return rec;
  }

  /** Makes bytes [pos, pos+n) of the read segment available in #chunk; returns their offset there. */
  #ensureChunk(pos: number, n: number, limit: number): number {
    const c = this.#chunk;
    if (c !== null && pos >= this.#chunkStart && pos + n <= this.#chunkStart + c.length) {
      return pos - this.#chunkStart;
    }
    const want = Math.max(n, Math.min(this.#readAhead, limit - pos));
    const buf = Buffer.allocUnsafe(want);
    const fd = this.#readFd!;
    let got = 0;
    while (got < want) {
      const r = fs.readSync(fd, buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) throw new Error(got === 0 ? 'EOF' : 'unexpected EOF');
    this.#chunk = got < want ? buf.subarray(0, got) : buf;
    this.#chunkStart = pos;
    return 0;
  }

  /** Closes the read segment and drops its read-ahead; the next read reopens it at readPos. */
  closeRead(): void {
    this.#chunk = null;
    if (this.#readFd === null) return;
    try {
      fs.closeSync(this.#readFd);
    } catch {
      // The descriptor is gone either way.
    }
    this.#readFd = null;
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
      fs.unlinkSync(fn);
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
