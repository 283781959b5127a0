/**
 * Consistency repair of a disk queue's positions (go-diskqueue `diskqueue.go`
 * checkTailCorruption and skipToNextRWFile): once the reader has caught up with the writer, the
 * depth must be 0 and both positions must agree; when they do not, the segments between them are
 * deleted and both ends restart on a fresh segment number. Emptying a queue uses the same reset.
 */

import { asError, errorCode, errorText, unlinkFile } from './file-io.js';
import type { QueueState } from './queue-state.js';
import type { SegmentReader } from './segment-reader.js';
import type { SegmentWriter } from './segment-writer.js';

/** Checks the caught-up state and resets both ends when it is inconsistent (see file header). */
export class TailCheck {
  readonly #s: QueueState;
  readonly #writer: SegmentWriter;
  readonly #reader: SegmentReader;
  readonly #freeInPool: boolean;

  /** `freeInPool`: deleted segments' blocks are freed in the thread pool (see unlinkFile). */
  constructor(state: QueueState, writer: SegmentWriter, reader: SegmentReader, freeInPool: boolean) {
    this.#s = state;
    this.#writer = writer;
    this.#reader = reader;
    this.#freeInPool = freeInPool;
  }

  /** go-diskqueue checkTailCorruption: once the reader has caught up, depth must be 0 and the positions must agree. */
  checkTailCorruption(): void {
    const s = this.#s;
    if (s.readFileNum < s.writeFileNum || s.readPos < s.writePos) return;
    if (s.depth !== 0) {
      if (s.depth < 0) {
        s.log.error(`${s.prefix} negative depth at tail (${s.depth}), metadata corruption, resetting 0...`);
      } else {
        s.log.error(`${s.prefix} positive depth at tail (${s.depth}), data loss, resetting 0...`);
      }
      s.depth = 0;
      s.needSync = true;
    }
    if (s.readFileNum !== s.writeFileNum || s.readPos !== s.writePos) {
      if (s.readFileNum > s.writeFileNum) {
        s.log.error(
          `${s.prefix} readFileNum > writeFileNum (${s.readFileNum} > ${s.writeFileNum}), corruption, skipping to next writeFileNum and resetting 0...`,
        );
      }
      if (s.readPos > s.writePos) {
        s.log.error(
          `${s.prefix} readPos > writePos (${s.readPos} > ${s.writePos}), corruption, skipping to next writeFileNum and resetting 0...`,
        );
      }
      this.skipToNextRWFile();
      s.needSync = true;
    }
  }

  /**
   * go-diskqueue skipToNextRWFile: deletes segments readFileNum..writeFileNum and restarts both
   * ends on the next number. Returns the first failed deletion (the state is reset regardless).
   */
  skipToNextRWFile(): Error | null {
    const s = this.#s;
    this.#writer.dropPending();
    this.#reader.dropPeeked();
    this.#reader.closeRead();
    this.#writer.closeWrite();
    let firstErr: Error | null = null;
    for (let i = s.readFileNum; i <= s.writeFileNum; i++) {
      try {
        unlinkFile(s.fileName(i), this.#freeInPool);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') {
          s.log.error(`${s.prefix} failed to remove data file - ${errorText(err)}`);
          firstErr ??= asError(err);
        }
      }
    }
    s.writeFileNum++;
    s.writePos = 0;
    s.readFileNum = s.writeFileNum;
    s.readPos = 0;
    s.nextReadFileNum = s.writeFileNum;
    s.nextReadPos = 0;
    s.depth = 0;
    return firstErr;
  }
}
