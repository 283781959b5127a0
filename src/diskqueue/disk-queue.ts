/**
 * A disk-backed FIFO that reads and writes the go-diskqueue v1.1.0 format byte for byte
 * (nsqio/go-diskqueue `diskqueue.go`). DiskQueue is the coordinator; the work is done by its
 * parts, each named after the upstream functions it follows:
 * - segment-writer.ts: writeOne (append, rollover) plus write batching;
 * - segment-reader.ts: readOne, moveForward, handleReadError (peek/advance, read-ahead, `.bad` files);
 * - queue-sync.ts: sync, persistMetaData, the sync timer, and group commit;
 * - tail-check.ts: checkTailCorruption, skipToNextRWFile;
 * - startup-recovery.ts: retrieveMetaData, with its stale-metadata check (and a checksummed
 *   segment's corrupt tail);
 * - queue-state.ts: the positions and counters they share;
 * - record-format.ts, segment-file.ts, segment-scan.ts: the two record formats (the original's
 *   and the opt-in checksummed one) and reading segments that may be damaged.
 *
 * The original runs one goroutine per queue; here every operation is synchronous and runs on the
 * caller's (nsqd's) event loop, which gives the same serialization without an actor. The
 * exception is a queue given a group commit (nsqd's always are, see group-commit.ts): its fsyncs,
 * meta-file writes and the freeing of deleted segments' blocks run in libuv's thread pool; with
 * --sync-every=1 one commit covers many records at once.
 */

import type { BackendQueue, RecordSource } from './backend-queue.js';
import type { CorruptionTally } from './corruption-tally.js';
import { errorText } from './file-io.js';
import type { DiskQueueMeta } from './files.js';
import type { Committable, GroupCommit } from './group-commit.js';
import { QueueState, type DiskQueueLogger } from './queue-state.js';
import { QueueSync } from './queue-sync.js';
import { SegmentReader } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';
import { checkWriteSegment, retrieveMetaData } from './startup-recovery.js';
import { TailCheck } from './tail-check.js';
import { WriteBatch, type BatchedWriter } from './write-batch.js';

export type { DiskQueueLogger } from './queue-state.js';

/** Construction parameters; nsqd's values are listed in docs/disk-format.md */
export interface DiskQueueOptions {
  /** Queue name: `<topic>` or `<topic>:<channel>`. */
  name: string;
  /** Directory of the segment and meta files; `""` means the working directory. */
  dataPath: string;
  /** Segment size at which writes roll over to a new file. */
  maxBytesPerFile: number;
  /** Smallest valid record (nsqd: 26). */
  minMsgSize: number;
  /** Largest valid record (nsqd: max-msg-size + 26). */
  maxMsgSize: number;
  /** fsync + persist meta after this many writes plus reads. */
  syncEvery: number;
  /** fsync + persist meta at least this often while there is activity. */
  syncTimeoutMs: number;
  logger?: DiskQueueLogger;
  /** Upper bound of one read-ahead chunk (default 256 KiB). A record larger than it is read whole. */
  readAheadBytes?: number;
  /** The owner's write batch (shared by all its queues); default: one of the queue's own. */
  writeBatch?: WriteBatch;
  /**
   * The owner's group commit. With it, the syncs due every syncEvery operations (and at
   * rollovers and on the sync timer) run off the event loop in the next commit instead of
   * inside put(); with syncEvery 1 that is one fsync per group of writes, and callers wait for
   * `GroupCommit.durable()` before acknowledging; deleted segments' blocks are freed in the
   * thread pool too. Without it, all of that is synchronous.
   */
  groupCommit?: GroupCommit;
  /**
   * Write checksummed segments (nsqd --disk-checksums, docs/disk-format.md). Either way both
   * formats are read; default false: the original's format, byte for byte.
   */
  checksums?: boolean;
  /** Where skipped damaged bytes are counted per queue name, for /stats and /metrics. */
  corruptionTally?: CorruptionTally;
}

const DEFAULT_READ_AHEAD_BYTES = 256 * 1024;

const quietLogger: DiskQueueLogger = {
  debug() {},
  info() {},
  warn(m) {
    process.stderr.write(`WARNING: ${m}\n`);
  },
  error(m) {
    process.stderr.write(`ERROR: ${m}\n`);
  },
};

/** The disk queue of one durable topic or channel. */
export class DiskQueue implements BackendQueue, BatchedWriter, Committable {
  readonly name: string;
  readonly #s: QueueState;
  readonly #writer: SegmentWriter;
  readonly #reader: SegmentReader;
  readonly #tail: TailCheck;
  readonly #sync: QueueSync;

  constructor(opts: DiskQueueOptions) {
    if (!(opts.maxBytesPerFile > 0)) throw new RangeError('maxBytesPerFile must be > 0');
    if (!(opts.minMsgSize >= 0 && opts.maxMsgSize >= opts.minMsgSize && opts.maxMsgSize <= 0x7fffffff)) {
      throw new RangeError('need 0 <= minMsgSize <= maxMsgSize <= 2^31-1');
    }
    this.name = opts.name;
    const s = new QueueState({
      name: opts.name,
      dataPath: opts.dataPath,
      maxBytesPerFile: opts.maxBytesPerFile,
      minMsgSize: opts.minMsgSize,
      maxMsgSize: opts.maxMsgSize,
      log: opts.logger ?? quietLogger,
      writeFormat: opts.checksums === true ? 'checksummed' : 'plain',
      tally: opts.corruptionTally ?? null,
    });
    this.#s = s;
    const gc = opts.groupCommit ?? null;
    this.#writer = new SegmentWriter(s, opts.writeBatch ?? new WriteBatch(), gc !== null);
    const readAhead = Math.max(4096, opts.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES);
    this.#reader = new SegmentReader(s, this.#writer, readAhead, () => this.#tail.checkTailCorruption(), gc !== null);
    this.#tail = new TailCheck(s, this.#writer, this.#reader, gc !== null);
    this.#sync = new QueueSync(s, this.#writer, Math.max(1, opts.syncEvery), gc);

    retrieveMetaData(s);
    checkWriteSegment(s);
    // The original only checks the depth after a consume, so an idle queue whose meta says
    // "caught up" with a non-zero depth would report that depth until its next read; fix it now.
    // (Other inconsistencies are left for the reader to find, as in the original: repairing them
    // deletes files, which a start-up should not do on a guess.)
    if (s.readFileNum === s.writeFileNum && s.readPos === s.writePos && s.depth !== 0) {
      this.#tail.checkTailCorruption();
      this.#sync.syncLogged();
    }

    this.#sync.startTimer(Math.max(1, opts.syncTimeoutMs));
  }

  /** The current positions and depth (what the next sync would persist). */
  metadata(): DiskQueueMeta {
    return this.#s.metadata();
  }

  depth(): number {
    return this.#s.depth;
  }

  /** Damaged bytes skipped or truncated away (checksummed segments) since the queue was opened. */
  corruptBytesSkipped(): number {
    return this.#s.corruptBytesSkipped;
  }

  put(data: Uint8Array): void {
    const totalBytes = this.#admit(data.length);
    this.#writer.append(data, totalBytes);
    this.#sync.countOp();
  }

  putFrom(src: RecordSource): void {
    const totalBytes = this.#admit(src.encodedSize());
    this.#writer.appendFrom(src, totalBytes);
    this.#sync.countOp();
  }

  /** Checks a record of `dataLen` bytes and rolls over when it does not fit; returns its size with the prefix. */
  #admit(dataLen: number): number {
    const s = this.#s;
    if (s.status !== 'open') throw new Error('exiting');
    if (dataLen < s.minMsgSize || dataLen > s.maxMsgSize) {
      throw new Error(`invalid message write size (${dataLen}) minMsgSize=${s.minMsgSize} maxMsgSize=${s.maxMsgSize}`);
    }
    const totalBytes = this.#writer.recordOverhead + dataLen;
    if (this.#writer.rollOverIfFull(totalBytes)) this.#sync.syncFinishedSegment();
    return totalBytes;
  }

  /**
   * Group commit (see GroupCommit): writes what is pending, then fsyncs the segment and persists
   * the meta file in the thread pool. The positions persisted are the ones of this call.
   */
  commit(): Promise<Error | null> {
    return this.#sync.commit();
  }

  /**
   * Writes the pending records with one positional write. On failure they are dropped (the
   * write position and depth roll back, as if never put) and the error is logged and returned.
   */
  flushPending(): Error | null {
    return this.#writer.flushPending();
  }

  peek(): Buffer | null {
    const peeked = this.#reader.peeked;
    if (peeked !== null) return peeked;
    if (this.#s.status !== 'open') return null;
    const rec = this.#reader.readNext();
    if (this.#s.needSync) this.#sync.requestSync();
    return rec;
  }

  advance(): void {
    // Only a record the consumer has seen is committed; after empty() (or without a peek) there is
    // none, and consuming an unseen record would lose it.
    if (this.#s.status !== 'open' || this.#reader.peeked === null) return;
    this.#reader.advance();
    this.#sync.countOp();
  }

  empty(): void {
    const s = this.#s;
    if (s.status !== 'open') throw new Error('exiting');
    s.log.info(`${s.prefix}: emptying`);
    this.#sync.abandonAsyncMeta();
    const err = this.#tail.skipToNextRWFile();
    s.count = 0;
    this.#sync.removeMetaFile();
    if (err !== null) throw err;
  }

  close(): void {
    const s = this.#s;
    if (s.status !== 'open') return;
    s.log.info(`${s.prefix}: closing`);
    this.#stop();
    try {
      this.#sync.sync();
    } catch (err) {
      s.log.error(`${s.prefix} failed to sync - ${errorText(err)}`);
    }
    this.#reader.closeRead();
    this.#writer.closeWrite();
  }

  delete(): void {
    const s = this.#s;
    if (s.status !== 'open') return;
    this.#writer.dropPending();
    this.#sync.markDeleted();
    s.tally?.forget(s.name);
    s.log.info(`${s.prefix}: deleting`);
    this.#stop();
    this.#reader.closeRead();
    this.#writer.closeAll();
  }

  #stop(): void {
    this.#s.status = 'closed';
    this.#reader.dropPeeked();
    this.#sync.stopTimer();
    this.#s.log.info(`${this.#s.prefix}: closing ... ioLoop`);
  }
}
