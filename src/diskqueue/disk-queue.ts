/**
 * A disk-backed FIFO that reads and writes the go-diskqueue v1.1.0 format byte for byte
 * (nsqio/go-diskqueue `diskqueue.go`; the section numbers below follow that file's order: §3
 * metadata, §4 writes, §5 reads, §6 sync, §7 tail checks, §8 bad files, §9 stale metadata).
 *
 * The original runs one goroutine per queue; here every operation is synchronous and runs on the
 * caller's (nsqd's) event loop, which gives the same serialization without an actor. The one
 * exception is group commit (--sync-every=1, see group-commit.ts): its fsyncs and meta-file writes
 * run in libuv's thread pool, covering many records at once. Reads keep
 * the original's "peek one record, commit on hand-off" rule: peek() computes where the next record
 * starts, only advance() moves the persisted read position, so the meta file never points past a
 * record the consumer has not taken.
 */

import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { replaceFileAtomically } from '../lib/atomic-file.js';
import type { BackendQueue } from './backend-queue.js';
import { formatMeta, metaFileName, parseMeta, segmentFileName, tempMetaFileName } from './files.js';
import type { DiskQueueMeta } from './files.js';
import type { Committable, GroupCommit } from './group-commit.js';
import { WriteBatch, type BatchedWriter } from './write-batch.js';

/** Where the queue sends its log lines (the nsqd logger satisfies this). */
export interface DiskQueueLogger {
  debug(m: string): void;
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

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
   * `GroupCommit.durable()` before acknowledging. Without it, syncs are synchronous.
   */
  groupCommit?: GroupCommit;
}

const DEFAULT_READ_AHEAD_BYTES = 256 * 1024;
// Records up to this size are copied behind their length prefix so the pair goes out in one
// write(); larger ones use writev to avoid the copy.
const WRITE_BUF_BYTES = 64 * 1024;

const { O_RDWR, O_CREAT } = fs.constants;

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

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing useful to do: the descriptor is gone either way.
  }
}

function writeAll(fd: number, buf: Uint8Array, offset: number, length: number, position: number): void {
  while (length > 0) {
    const n = fs.writeSync(fd, buf, offset, length, position);
    offset += n;
    length -= n;
    position += n;
  }
}

const PENDING_CAP = 256 * 1024;

/** An async meta write found a newer one already persisted. */
class MetaSuperseded extends Error {}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

const writeAsync = promisify(fs.write);
const closeAsync = promisify(fs.close);

/** Writes a meta file's temp copy to `fd` and fsyncs and closes it, in the thread pool. */
async function writeTempFileAsync(fd: number, data: string): Promise<void> {
  try {
    const buf = Buffer.from(data, 'latin1');
    for (let off = 0; off < buf.length; ) off += (await writeAsync(fd, buf, off, buf.length - off, off)).bytesWritten;
    await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}

/** The disk queue of one durable topic or channel. */
export class DiskQueue implements BackendQueue, BatchedWriter, Committable {
  readonly name: string;
  readonly #dataPath: string;
  readonly #maxBytesPerFile: number;
  readonly #minMsgSize: number;
  readonly #maxMsgSize: number;
  readonly #syncEvery: number;
  readonly #readAhead: number;
  readonly #log: DiskQueueLogger;
  readonly #prefix: string;
  readonly #metaPath: string;

  // Persisted state (§3).
  #depth = 0;
  #readFileNum = 0;
  #readPos = 0;
  #writeFileNum = 0;
  #writePos = 0;

  // Where the reader goes once the peeked record is taken (§5).
  #nextReadFileNum = 0;
  #nextReadPos = 0;
  // End of the segment being read: its real size when complete, else maxBytesPerFile; the writer
  // lowers it to writePos when it rolls over underneath the reader.
  #maxBytesPerFileRead = 0;

  #readFd: number | null = null;
  #writeFd: number | null = null;
  // Read-ahead of the current read segment. A fresh buffer per refill: records handed out are
  // views into it, so it must never be reused.
  #chunk: Buffer | null = null;
  #chunkStart = 0;
  #peeked: Buffer | null = null;

  #needSync = false;
  // Writes plus reads since the last sync (§6).
  #count = 0;
  #status: 'open' | 'closed' = 'open';
  #ticker: NodeJS.Timeout | null;
  readonly #writeBuf = Buffer.allocUnsafe(WRITE_BUF_BYTES);
  // Records accepted by put() but not yet written (see flushPendingWrites).
  #pend: Buffer | null = null;
  #pendLen = 0;
  #pendStart = 0;
  #pendCount = 0;
  #dirty = false;
  readonly #lenBuf = Buffer.allocUnsafe(4);
  readonly #batch: WriteBatch;
  readonly #gc: GroupCommit | null;
  // Group commit: commits in flight (their fsyncs use the write descriptors, which are closed
  // only once none is), descriptors waiting for that, and a counter that tells an async meta
  // write whether a newer one was persisted meanwhile.
  #commitsInFlight = 0;
  #closeLater: number[] = [];
  // Finished segments' descriptors waiting for the next commit's fsync.
  #retired: number[] = [];
  #metaGen = 0;
  #deleted = false;
  #commitTmp: string | null = null;
  #metaWriting = false;
  #metaAgain = false;

  constructor(opts: DiskQueueOptions) {
    if (!(opts.maxBytesPerFile > 0)) throw new RangeError('maxBytesPerFile must be > 0');
    if (!(opts.minMsgSize >= 0 && opts.maxMsgSize >= opts.minMsgSize && opts.maxMsgSize <= 0x7fffffff)) {
      throw new RangeError('need 0 <= minMsgSize <= maxMsgSize <= 2^31-1');
    }
    this.name = opts.name;
    this.#dataPath = opts.dataPath;
    this.#maxBytesPerFile = opts.maxBytesPerFile;
    this.#minMsgSize = opts.minMsgSize;
    this.#maxMsgSize = opts.maxMsgSize;
    this.#syncEvery = Math.max(1, opts.syncEvery);
    this.#readAhead = Math.max(4096, opts.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES);
    this.#log = opts.logger ?? quietLogger;
    this.#prefix = `DISKQUEUE(${opts.name})`;
    this.#metaPath = metaFileName(opts.dataPath, opts.name);
    this.#maxBytesPerFileRead = opts.maxBytesPerFile;
    this.#batch = opts.writeBatch ?? new WriteBatch();
    this.#gc = opts.groupCommit ?? null;

    this.#retrieveMetaData();
    // The original only checks the depth after a consume, so an idle queue whose meta says
    // "caught up" with a non-zero depth would report that depth until its next read; fix it now.
    // (Other inconsistencies are left for the reader to find, as in the original: repairing them
    // deletes files, which a start-up should not do on a guess.)
    if (this.#readFileNum === this.#writeFileNum && this.#readPos === this.#writePos && this.#depth !== 0) {
      this.#checkTailCorruption();
      this.#syncLogged();
    }

    this.#ticker = setInterval(() => this.#onSyncTimeout(), Math.max(1, opts.syncTimeoutMs));
    this.#ticker.unref();
  }

  /** The current positions and depth (what the next sync would persist). */
  metadata(): DiskQueueMeta {
    return {
      depth: this.#depth,
      readFileNum: this.#readFileNum,
      readPos: this.#readPos,
      writeFileNum: this.#writeFileNum,
      writePos: this.#writePos,
    };
  }

  depth(): number {
    return this.#depth;
  }

  put(data: Uint8Array): void {
    if (this.#status !== 'open') throw new Error('exiting');
    const dataLen = data.length;
    if (dataLen < this.#minMsgSize || dataLen > this.#maxMsgSize) {
      throw new Error(
        `invalid message write size (${dataLen}) minMsgSize=${this.#minMsgSize} maxMsgSize=${this.#maxMsgSize}`,
      );
    }
    const totalBytes = 4 + dataLen;
    // §4: roll over before writing, so a segment only exceeds the limit with a lone huge record.
    if (this.#writePos > 0 && this.#writePos + totalBytes > this.#maxBytesPerFile) {
      const err = this.flushPending();
      if (err !== null) throw err;
      if (this.#readFileNum === this.#writeFileNum) this.#maxBytesPerFileRead = this.#writePos;
      this.#writeFileNum++;
      this.#writePos = 0;
      if (this.#gc !== null) {
        // The finished segment is fsynced (and closed) by the next commit, off the event loop.
        if (this.#writeFd !== null) this.#retired.push(this.#writeFd);
        this.#writeFd = null;
        this.#requestSync();
      } else {
        this.#syncLogged();
        this.#closeWrite();
      }
    }
    if (totalBytes > PENDING_CAP) {
      const err = this.flushPending();
      if (err !== null) throw err;
      try {
        this.#writeRecord(data, totalBytes);
      } catch (e) {
        // The next put reopens the file and overwrites any partial bytes at writePos.
        this.#closeWrite();
        throw e;
      }
    } else {
      if (this.#pendLen + totalBytes > PENDING_CAP) {
        const err = this.flushPending();
        if (err !== null) throw err;
      }
      if (this.#pendLen === 0) this.#pendStart = this.#writePos;
      const pend = (this.#pend ??= Buffer.allocUnsafe(PENDING_CAP));
      pend.writeInt32BE(dataLen, this.#pendLen);
      pend.set(data, this.#pendLen + 4);
      this.#pendLen += totalBytes;
      this.#pendCount++;
      if (!this.#dirty) {
        this.#dirty = true;
        this.#batch.add(this);
      }
    }
    this.#count++;
    this.#writePos += totalBytes;
    this.#depth++;
    this.#countOp();
  }

  /** One write or read done: sync when syncEvery is reached. */
  #countOp(): void {
    if (this.#count >= this.#syncEvery) this.#needSync = true;
    if (this.#needSync) this.#requestSync();
  }

  /** A sync is due (§6): now, or with a group commit in the next commit, off the event loop. */
  #requestSync(): void {
    if (this.#gc === null) {
      this.#syncLogged();
      return;
    }
    this.#needSync = false;
    this.#gc.mark(this);
  }

  /**
   * Group commit (see GroupCommit): writes what is pending, then fsyncs the segment and persists
   * the meta file in the thread pool. The positions persisted are the ones of this call.
   */
  commit(): Promise<Error | null> {
    if (this.#status !== 'open') return Promise.resolve(null);
    const werr = this.flushPending();
    if (werr !== null) return Promise.resolve(werr);
    this.#count = 0;
    const retired = this.#retired;
    this.#retired = [];
    const fds = this.#writeFd !== null ? [...retired, this.#writeFd] : retired;
    this.#commitsInFlight++;
    this.#persistMetaAsync();
    return Promise.all(fds.map(fsyncAsync)).then(
      () => {
        this.#commitDone(retired);
        return null;
      },
      (e: unknown) => {
        this.#commitDone(retired);
        return this.#commitFailed(e);
      },
    );
  }

  /**
   * Persists the meta file (atomic replace) in the thread pool, beside a commit's fsync. One
   * write at a time: one asked for meanwhile runs after it, with the positions of then, so the
   * newest positions are always the last ones renamed into place.
   */
  #persistMetaAsync(): void {
    if (this.#metaWriting) {
      this.#metaAgain = true;
      return;
    }
    this.#metaWriting = true;
    this.#metaAgain = false;
    const meta = formatMeta(this.metadata());
    const gen = ++this.#metaGen;
    const tmpFile = tempMetaFileName(this.#metaPath, Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
    this.#commitTmp = tmpFile;
    const work = async (): Promise<void> => {
      // Created here, synchronously, so that delete() can always remove it by name.
      const fd = fs.openSync(tmpFile, O_RDWR | O_CREAT | fs.constants.O_TRUNC, 0o600);
      await writeTempFileAsync(fd, meta);
      // A synchronous persist (shutdown, a reader's segment change) wrote newer positions
      // meanwhile, or the queue is gone: this older copy must not replace them.
      if (this.#deleted || gen !== this.#metaGen) throw new MetaSuperseded();
      // Renamed on the event loop (a cheap metadata operation): no delete or synchronous
      // persist can then slip in between the check above and the rename.
      fs.renameSync(tmpFile, this.#metaPath);
    };
    const p = work().then(
      () => this.#metaWritten(gen),
      (e: unknown) => {
        fs.rmSync(tmpFile, { force: true });
        if (!(e instanceof MetaSuperseded) && !this.#deleted) this.#commitFailed(e);
        this.#metaWritten(gen);
      },
    );
    this.#gc?.track(p);
  }

  #metaWritten(gen: number): void {
    this.#metaWriting = false;
    this.#commitTmp = null;
    if (this.#status !== 'open') return;
    if (this.#metaAgain) this.#persistMetaAsync();
    // A synchronous persist superseded this write: the next commit writes the newest again.
    else if (gen !== this.#metaGen && this.#gc !== null) this.#gc.mark(this);
  }

  #commitDone(retired: number[]): void {
    // The segments finished before this commit are durable now: close them.
    for (const fd of retired) this.#closeLater.push(fd);
    if (--this.#commitsInFlight !== 0) return;
    for (const fd of this.#closeLater) closeQuietly(fd);
    this.#closeLater = [];
  }

  #commitFailed(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    this.#log.error(`${this.#prefix} failed to sync - ${err.message}`);
    return err;
  }

  /**
   * Writes the pending records with one positional write. On failure they are dropped (the
   * write position and depth roll back, as if never put) and the error is logged and returned.
   */
  flushPending(): Error | null {
    this.#dirty = false;
    if (this.#pendLen === 0) return null;
    const len = this.#pendLen;
    const start = this.#pendStart;
    const count = this.#pendCount;
    this.#pendLen = 0;
    this.#pendCount = 0;
    try {
      if (this.#writeFd === null) {
        const fn = this.#fileName(this.#writeFileNum);
        this.#writeFd = fs.openSync(fn, O_RDWR | O_CREAT, 0o600);
        this.#log.info(`${this.#prefix}: writeOne() opened ${fn}`);
      }
      writeAll(this.#writeFd, this.#pend!, 0, len, start);
      return null;
    } catch (e) {
      this.#closeWrite();
      this.#writePos = start;
      this.#depth -= count;
      const err = e instanceof Error ? e : new Error(String(e));
      this.#log.error(`${this.#prefix} failed to write ${count} records - ${err.message}`);
      return err;
    }
  }

  #dropPending(): void {
    if (this.#pendLen === 0) return;
    this.#writePos = this.#pendStart;
    this.#pendLen = 0;
    this.#pendCount = 0;
  }

  peek(): Buffer | null {
    if (this.#peeked !== null) return this.#peeked;
    if (this.#status !== 'open') return null;
    if (this.#pendLen !== 0) this.flushPending();
    let rec: Buffer | null = null;
    while (rec === null && (this.#readFileNum < this.#writeFileNum || this.#readPos < this.#writePos)) {
      try {
        rec = this.#readOne();
      } catch (err) {
        this.#log.error(
          `${this.#prefix} reading at ${this.#readPos} of ${this.#fileName(this.#readFileNum)} - ${errorText(err)}`,
        );
        this.#handleReadError();
      }
    }
    if (this.#needSync) this.#requestSync();
    this.#peeked = rec;
    return rec;
  }

  advance(): void {
    // Only a record the consumer has seen is committed; after empty() (or without a peek) there is
    // none, and consuming an unseen record would lose it.
    if (this.#status !== 'open' || this.#peeked === null) return;
    this.#peeked = null;
    this.#count++;

    // §5 moveForward.
    const oldReadFileNum = this.#readFileNum;
    this.#readFileNum = this.#nextReadFileNum;
    this.#readPos = this.#nextReadPos;
    this.#depth--;
    if (oldReadFileNum !== this.#readFileNum) {
      this.#needSync = true;
      this.#removeSegment(oldReadFileNum);
    } else if (
      this.#readFileNum < this.#writeFileNum &&
      this.#readFd !== null &&
      this.#readPos >= this.#maxBytesPerFileRead
    ) {
      // The writer rolled over after this record was peeked, so the peek could not know it was the
      // last one of its file. The original then fails the next read with EOF and renames a healthy,
      // fully consumed file to .bad (go-diskqueue issue #42); move on cleanly instead.
      this.#skipConsumedReadFile();
    }
    this.#checkTailCorruption();
    this.#countOp();
  }

  empty(): void {
    if (this.#status !== 'open') throw new Error('exiting');
    this.#log.info(`${this.#prefix}: emptying`);
    this.#metaGen++; // a commit in flight must not leave its older meta file behind
    if (this.#commitTmp !== null) fs.rmSync(this.#commitTmp, { force: true });
    const err = this.#skipToNextRWFile();
    this.#count = 0;
    try {
      fs.unlinkSync(this.#metaPath);
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') {
        this.#log.error(`${this.#prefix} failed to remove metadata file - ${errorText(e)}`);
        throw e;
      }
    }
    if (err !== null) throw err;
  }

  close(): void {
    if (this.#status !== 'open') return;
    this.#log.info(`${this.#prefix}: closing`);
    this.#stop();
    try {
      this.#sync();
    } catch (err) {
      this.#log.error(`${this.#prefix} failed to sync - ${errorText(err)}`);
    }
    this.#closeRead();
    this.#closeWrite();
  }

  delete(): void {
    if (this.#status !== 'open') return;
    this.#dropPending();
    this.#deleted = true;
    // A commit in flight may be writing its temp meta file: a deleted queue leaves no files.
    if (this.#commitTmp !== null) fs.rmSync(this.#commitTmp, { force: true });
    this.#log.info(`${this.#prefix}: deleting`);
    this.#stop();
    this.#closeRead();
    this.#closeWrite();
    for (const fd of this.#retired) this.#closeFd(fd);
    this.#retired = [];
  }

  #stop(): void {
    this.#status = 'closed';
    this.#peeked = null;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
    this.#log.info(`${this.#prefix}: closing ... ioLoop`);
  }

  #fileName(fileNum: number): string {
    return segmentFileName(this.#dataPath, this.name, fileNum);
  }

  // ---- writing -------------------------------------------------------------------------------

  #writeRecord(data: Uint8Array, totalBytes: number): void {
    if (this.#writeFd === null) {
      const fn = this.#fileName(this.#writeFileNum);
      this.#writeFd = fs.openSync(fn, O_RDWR | O_CREAT, 0o600);
      this.#log.info(`${this.#prefix}: writeOne() opened ${fn}`);
    }
    const fd = this.#writeFd;
    // Positional writes: no seek state to restore after a failed write.
    if (totalBytes <= WRITE_BUF_BYTES) {
      const wb = this.#writeBuf;
      wb.writeInt32BE(data.length, 0);
      wb.set(data, 4);
      writeAll(fd, wb, 0, totalBytes, this.#writePos);
      return;
    }
    const lb = this.#lenBuf;
    lb.writeInt32BE(data.length, 0);
    const n = fs.writevSync(fd, [lb, data], this.#writePos);
    if (n < totalBytes) {
      if (n < 4) writeAll(fd, lb, n, 4 - n, this.#writePos + n);
      const done = Math.max(0, n - 4);
      writeAll(fd, data, done, data.length - done, this.#writePos + 4 + done);
    }
  }

  #closeWrite(): void {
    if (this.#writeFd === null) return;
    this.#closeFd(this.#writeFd);
    this.#writeFd = null;
  }

  #closeFd(fd: number): void {
    // An fsync in the thread pool may still use it (and a closed number can be reused at once).
    if (this.#commitsInFlight > 0) this.#closeLater.push(fd);
    else closeQuietly(fd);
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Reads the record at readPos; null means "moved to the next file, try again". Throws read errors. */
  #readOne(): Buffer | null {
    if (this.#readFd === null) {
      const fn = this.#fileName(this.#readFileNum);
      this.#readFd = fs.openSync(fn, 'r');
      this.#chunk = null;
      this.#log.info(`${this.#prefix}: readOne() opened ${fn}`);
      this.#maxBytesPerFileRead = this.#maxBytesPerFile;
      if (this.#readFileNum < this.#writeFileNum) {
        try {
          this.#maxBytesPerFileRead = fs.fstatSync(this.#readFd).size;
        } catch {
          // Keep maxBytesPerFile like the original; a short read will flag the file.
        }
      }
    }
    const complete = this.#readFileNum < this.#writeFileNum;
    if (complete && this.#readPos >= this.#maxBytesPerFileRead) {
      // A finished segment with nothing left (e.g. meta saved by the original in the issue #42
      // state, or an empty file left by a crash): not corruption.
      this.#skipConsumedReadFile();
      return null;
    }
    // In the segment still being written, never look past writePos: bytes there may be the
    // remains of a failed write that a later put overwrites.
    const limit = complete ? this.#maxBytesPerFileRead : this.#writePos;
    const pos = this.#readPos;
    if (pos + 4 > limit) throw new Error('unexpected EOF');
    let off = this.#ensureChunk(pos, 4, limit);
    const msgSize = this.#chunk!.readInt32BE(off);
    if (msgSize < this.#minMsgSize || msgSize > this.#maxMsgSize) {
      throw new Error(`invalid message read size (${msgSize})`);
    }
    const total = 4 + msgSize;
    if (pos + total > limit) throw new Error('unexpected EOF');
    off = this.#ensureChunk(pos, total, limit);
    const rec = this.#chunk!.subarray(off + 4, off + total);

    this.#nextReadPos = pos + total;
    this.#nextReadFileNum = this.#readFileNum;
    if (complete && this.#nextReadPos >= this.#maxBytesPerFileRead) {
      this.#closeRead();
      this.#nextReadFileNum++;
      this.#nextReadPos = 0;
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

  #closeRead(): void {
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
    const old = this.#readFileNum;
    this.#closeRead();
    this.#readFileNum++;
    this.#readPos = 0;
    this.#nextReadFileNum = this.#readFileNum;
    this.#nextReadPos = 0;
    this.#needSync = true;
    this.#removeSegment(old);
  }

  #removeSegment(fileNum: number): void {
    const fn = this.#fileName(fileNum);
    try {
      fs.unlinkSync(fn);
    } catch (err) {
      this.#log.error(`${this.#prefix} failed to Remove(${fn}) - ${errorText(err)}`);
    }
  }

  /** §8: give up on the read segment, keep it as `.bad`, continue with the next one. */
  #handleReadError(): void {
    this.flushPending();
    this.#closeRead();
    if (this.#readFileNum === this.#writeFileNum) {
      // The segment being written is unreadable: new records go to a fresh one.
      this.#closeWrite();
      this.#writeFileNum++;
      this.#writePos = 0;
    }
    const badFn = this.#fileName(this.#readFileNum);
    const badRenameFn = badFn + '.bad';
    this.#log.warn(`${this.#prefix} jump to next file and saving bad file as ${badRenameFn}`);
    try {
      fs.renameSync(badFn, badRenameFn);
    } catch {
      this.#log.error(`${this.#prefix} failed to rename bad diskqueue file ${badFn} to ${badRenameFn}`);
    }
    this.#readFileNum++;
    this.#readPos = 0;
    this.#nextReadFileNum = this.#readFileNum;
    this.#nextReadPos = 0;
    this.#needSync = true;
    this.#checkTailCorruption();
  }

  /** §7: once the reader has caught up, depth must be 0 and the positions must agree. */
  #checkTailCorruption(): void {
    if (this.#readFileNum < this.#writeFileNum || this.#readPos < this.#writePos) return;
    if (this.#depth !== 0) {
      if (this.#depth < 0) {
        this.#log.error(
          `${this.#prefix} negative depth at tail (${this.#depth}), metadata corruption, resetting 0...`,
        );
      } else {
        this.#log.error(`${this.#prefix} positive depth at tail (${this.#depth}), data loss, resetting 0...`);
      }
      this.#depth = 0;
      this.#needSync = true;
    }
    if (this.#readFileNum !== this.#writeFileNum || this.#readPos !== this.#writePos) {
      if (this.#readFileNum > this.#writeFileNum) {
        this.#log.error(
          `${this.#prefix} readFileNum > writeFileNum (${this.#readFileNum} > ${this.#writeFileNum}), corruption, skipping to next writeFileNum and resetting 0...`,
        );
      }
      if (this.#readPos > this.#writePos) {
        this.#log.error(
          `${this.#prefix} readPos > writePos (${this.#readPos} > ${this.#writePos}), corruption, skipping to next writeFileNum and resetting 0...`,
        );
      }
      this.#skipToNextRWFile();
      this.#needSync = true;
    }
  }

  /** Deletes segments readFileNum..writeFileNum and restarts both ends on the next number. */
  #skipToNextRWFile(): Error | null {
    this.#dropPending();
    this.#peeked = null;
    this.#closeRead();
    this.#closeWrite();
    let firstErr: Error | null = null;
    for (let i = this.#readFileNum; i <= this.#writeFileNum; i++) {
      try {
        fs.unlinkSync(this.#fileName(i));
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') {
          this.#log.error(`${this.#prefix} failed to remove data file - ${errorText(err)}`);
          firstErr ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    }
    this.#writeFileNum++;
    this.#writePos = 0;
    this.#readFileNum = this.#writeFileNum;
    this.#readPos = 0;
    this.#nextReadFileNum = this.#writeFileNum;
    this.#nextReadPos = 0;
    this.#depth = 0;
    return firstErr;
  }

  // ---- metadata and sync ---------------------------------------------------------------------

  /** §3 load + §9 stale-metadata recovery. Never throws: problems are logged, state starts zeroed. */
  #retrieveMetaData(): void {
    let text: string | null = null;
    try {
      text = fs.readFileSync(this.#metaPath, 'latin1');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        this.#log.error(`${this.#prefix} failed to retrieveMetaData - ${errorText(err)}`);
      }
    }
    if (text !== null) {
      try {
        const m = parseMeta(text);
        this.#depth = m.depth;
        this.#readFileNum = m.readFileNum;
        this.#readPos = m.readPos;
        this.#writeFileNum = m.writeFileNum;
        this.#writePos = m.writePos;
      } catch (err) {
        this.#log.error(`${this.#prefix} failed to retrieveMetaData - ${errorText(err)}`);
      }
    }
    this.#nextReadFileNum = this.#readFileNum;
    this.#nextReadPos = this.#readPos;

    // Meta not synced before a crash: the segment holds more than writePos says. Appending at
    // writePos would overwrite those records, so writes move on and the reader salvages the file
    // up to its real end. (The original skips this check when there is no meta file at all; doing
    // it then too keeps records written before the very first sync.)
    const fn = this.#fileName(this.#writeFileNum);
    try {
      const size = fs.statSync(fn).size;
      if (this.#writePos < size) {
        this.#log.warn(
          `${this.#prefix} ${fn} metadata writePos ${this.#writePos} < file size of ${size}, skipping to new file`,
        );
        this.#writeFileNum++;
        this.#writePos = 0;
      }
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        this.#log.error(`${this.#prefix} failed to retrieveMetaData - ${errorText(err)}`);
      }
    }
  }

  /** fsync the write segment and persist the meta file (§6). Throws on failure. */
  #sync(): void {
    const err = this.flushPending();
    if (err !== null) throw err;
    this.#syncRetired();
    if (this.#writeFd !== null) {
      try {
        fs.fsyncSync(this.#writeFd);
      } catch (err) {
        this.#closeWrite();
        throw err;
      }
    }
    this.#persistMetaData();
    this.#needSync = false;
  }

  /** Finished segments not yet fsynced by a commit: fsync and close them now. */
  #syncRetired(): void {
    const fds = this.#retired;
    this.#retired = [];
    for (const fd of fds) {
      try {
        fs.fsyncSync(fd);
      } finally {
        this.#closeFd(fd);
      }
    }
  }

  #syncLogged(): void {
    try {
      this.#sync();
    } catch (err) {
      this.#log.error(`${this.#prefix} failed to sync - ${errorText(err)}`);
    }
    this.#count = 0;
  }

  #onSyncTimeout(): void {
    // Idle queues are left alone.
    if (this.#count === 0 || this.#status !== 'open') return;
    this.#needSync = true;
    this.#requestSync();
  }

  /** Atomic replace: temp file (0600), write, fsync, close, rename over the meta file. */
  #persistMetaData(): void {
    this.#metaGen++;
    const tmpFile = tempMetaFileName(this.#metaPath, Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
    replaceFileAtomically(this.#metaPath, formatMeta(this.metadata()), { tmpFile });
  }
}
