/**
 * The writing end of a disk queue (go-diskqueue `diskqueue.go` writeOne): appends records at
 * writePos in the queue's write format (record-format.ts: the original's length prefix, or with
 * --disk-checksums a checksummed record, and a segment header before a segment's first record), rolls over to a new segment before a record that would not fit, and holds
 * small records in a pending buffer that the owner's WriteBatch writes with one positional write.
 * It also owns the write descriptors' lifetime under group commit: a finished segment's
 * descriptor is kept ("retired") until a commit has fsynced it, and no descriptor is closed while
 * a commit's fsync may still use it.
 */

import * as fs from 'node:fs';
import { asError, closeInPool, closeQuietly, writeAll } from './file-io.js';
import type { RecordSource } from './backend-queue.js';
import type { QueueState } from './queue-state.js';
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader, recordOverhead, writeRecordPrefix, type SegmentFormat } from './record-format.js';
import type { BatchedWriter, WriteBatch } from './write-batch.js';

// Records up to this size are copied behind their length prefix so the pair goes out in one
// write(); larger ones use writev to avoid the copy.
const WRITE_BUF_BYTES = 64 * 1024;
// Records held back for the next batch write; a larger record is written at once.
const PENDING_CAP = 256 * 1024;

const { O_RDWR, O_CREAT } = fs.constants;

const SEGMENT_HEADER = encodeSegmentHeader();

/** The descriptors one group commit fsyncs: the retired segments' and the current one's. */
export interface CommitFds {
  /** Every descriptor to fsync. */
  readonly fds: number[];
  /** The finished segments among them, closed once the commit is done (see commitDone). */
  readonly retired: number[];
}

/** Appends records to the current write segment, batched, with rollover (see file header). */
export class SegmentWriter implements BatchedWriter {
  readonly name: string;
  readonly #s: QueueState;
  readonly #batch: WriteBatch;
  readonly #groupCommit: boolean;

  #writeFd: number | null = null;
  readonly #writeBuf = Buffer.allocUnsafe(WRITE_BUF_BYTES);
  // Header + record prefix of a record written with writev.
  readonly #prefixBuf = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES + 8);
  readonly #format: SegmentFormat;
  /** Bytes before each record's body: 4, or 8 for checksummed records. */
  readonly recordOverhead: number;
  // Records accepted by append() but not yet written (see flushPending).
  #pend: Buffer | null = null;
  #pendLen = 0;
  #pendStart = 0;
  #pendCount = 0;
  #dirty = false;
  // Group commit: commits in flight (their fsyncs use the write descriptors, which are closed
  // only once none is) and descriptors waiting for that.
  #commitsInFlight = 0;
  // Records appended since the last beginCommit() (see there).
  #unsynced = false;
  #closeLater: number[] = [];
  // Finished segments' descriptors waiting for the next commit's fsync.
  #retired: number[] = [];

  constructor(state: QueueState, batch: WriteBatch, groupCommit: boolean) {
    this.name = state.name;
    this.#s = state;
    this.#batch = batch;
    this.#groupCommit = groupCommit;
    this.#format = state.writeFormat;
    this.recordOverhead = recordOverhead(state.writeFormat);
  }

  /** Whether records are held back for the next batch write. */
  get hasPending(): boolean {
    return this.#pendLen !== 0;
  }

  /**
   * Moves writes to the next segment when a record of `totalBytes` would not fit (go-diskqueue
   * writeOne): before writing, so a segment only exceeds the limit with a lone huge record.
   * Returns whether it rolled over; the caller then syncs (and, without group commit, closes the
   * finished segment with closeWrite() after that sync). Throws when the pending write failed.
   */
  rollOverIfFull(totalBytes: number): boolean {
    const s = this.#s;
    if (!(s.writePos > 0 && s.writePos + totalBytes > s.maxBytesPerFile)) return false;
    const err = this.flushPending();
    if (err !== null) throw err;
    if (s.readFileNum === s.writeFileNum) s.maxBytesPerFileRead = s.writePos;
    s.writeFileNum++;
    s.writePos = 0;
    if (this.#groupCommit) {
      // The finished segment is fsynced (and closed) by the next commit, off the event loop.
      if (this.#writeFd !== null) this.#retired.push(this.#writeFd);
      this.#writeFd = null;
    }
    return true;
  }

  /**
   * Appends one record (already validated; `totalBytes` is its prefix plus body) at writePos:
   * held in the batch, or written at once when large. A checksummed segment's first record
   * carries the segment header before it.
   */
  append(data: Uint8Array, totalBytes: number): void {
    this.#append(totalBytes, data, null);
  }

  /** As append(), the body written by `src` straight into the batch (see RecordSource). */
  appendFrom(src: RecordSource, totalBytes: number): void {
    this.#append(totalBytes, null, src);
  }

  #append(totalBytes: number, data: Uint8Array | null, src: RecordSource | null): void {
    const s = this.#s;
    this.#unsynced = true;
    const header = this.#format === 'checksummed' && s.writePos === 0 ? SEGMENT_HEADER_BYTES : 0;
    const bytes = header + totalBytes;
    if (bytes > PENDING_CAP) {
      const err = this.flushPending();
      if (err !== null) throw err;
      let body = data;
      if (body === null) {
        const buf = Buffer.allocUnsafe(src!.encodedSize());
        src!.writeTo(buf, 0);
        body = buf;
      }
      try {
        this.#writeRecord(body, header, bytes);
      } catch (e) {
        // The next put reopens the file and overwrites any partial bytes at writePos.
        this.closeWrite();
        throw e;
      }
    } else {
      if (this.#pendLen + bytes > PENDING_CAP) {
        const err = this.flushPending();
        if (err !== null) throw err;
      }
      if (this.#pendLen === 0) this.#pendStart = s.writePos;
      const pend = (this.#pend ??= Buffer.allocUnsafe(PENDING_CAP));
      let at = this.#pendLen;
      if (header !== 0) at += SEGMENT_HEADER.copy(pend, at);
      if (data !== null) {
        at += writeRecordPrefix(pend, at, data, this.#format);
        pend.set(data, at);
      } else {
        const bodyAt = at + this.recordOverhead;
        const end = src!.writeTo(pend, bodyAt);
        // The plain prefix is the length alone: no view of the body is needed for it.
        if (this.#format === 'plain') pend.writeInt32BE(end - bodyAt, at);
        else writeRecordPrefix(pend, at, pend.subarray(bodyAt, end), this.#format);
      }
      this.#pendLen += bytes;
      this.#pendCount++;
      if (!this.#dirty) {
        this.#dirty = true;
        this.#batch.add(this);
      }
    }
    s.count++;
    s.writePos += bytes;
    s.depth++;
  }

  /**
   * Writes the pending records with one positional write. On failure they are dropped (the
   * write position and depth roll back, as if never put) and the error is logged and returned.
   */
  flushPending(): Error | null {
    this.#dirty = false;
    if (this.#pendLen === 0) return null;
    const s = this.#s;
    const len = this.#pendLen;
    const start = this.#pendStart;
    const count = this.#pendCount;
    this.#pendLen = 0;
    this.#pendCount = 0;
    try {
      writeAll(this.#openWrite(), this.#pend!, 0, len, start);
      return null;
    } catch (e) {
      this.closeWrite();
      s.writePos = start;
      s.depth -= count;
      const err = asError(e);
      s.log.error(`${s.prefix} failed to write ${count} records - ${err.message}`);
      return err;
    }
  }

  /** Forgets the pending records: writePos goes back to where they started. */
  dropPending(): void {
    if (this.#pendLen === 0) return;
    this.#s.writePos = this.#pendStart;
    this.#pendLen = 0;
    this.#pendCount = 0;
  }

  #openWrite(): number {
    if (this.#writeFd === null) {
      const s = this.#s;
      const fn = s.fileName(s.writeFileNum);
      this.#writeFd = fs.openSync(fn, O_RDWR | O_CREAT, 0o600);
      s.log.info(`${s.prefix}: writeOne() opened ${fn}`);
    }
    return this.#writeFd;
  }

  #writeRecord(data: Uint8Array, header: number, bytes: number): void {
    const fd = this.#openWrite();
    const writePos = this.#s.writePos;
    // Positional writes: no seek state to restore after a failed write.
    if (bytes <= WRITE_BUF_BYTES) {
      const wb = this.#writeBuf;
      let at = header !== 0 ? SEGMENT_HEADER.copy(wb, 0) : 0;
      at += writeRecordPrefix(wb, at, data, this.#format);
      wb.set(data, at);
      writeAll(fd, wb, 0, bytes, writePos);
      return;
    }
    const pb = this.#prefixBuf;
    const prefixLen = (header !== 0 ? SEGMENT_HEADER.copy(pb, 0) : 0) + writeRecordPrefix(pb, header, data, this.#format);
    const prefix = pb.subarray(0, prefixLen);
    const n = fs.writevSync(fd, [prefix, data], writePos);
    if (n < bytes) {
      if (n < prefixLen) writeAll(fd, prefix, n, prefixLen - n, writePos + n);
      const done = Math.max(0, n - prefixLen);
      writeAll(fd, data, done, data.length - done, writePos + prefixLen + done);
    }
  }

  /**
   * Synchronous sync of the written data (go-diskqueue sync, first half): fsyncs and closes the
   * retired segments, then fsyncs the current one (closing it when that fails). Throws on failure.
   */
  fsyncSegments(): void {
    const fds = this.#retired;
    this.#retired = [];
    for (const fd of fds) {
      try {
        fs.fsyncSync(fd);
      } finally {
        this.#closeFd(fd);
      }
    }
    if (this.#writeFd !== null) {
      try {
        fs.fsyncSync(this.#writeFd);
      } catch (err) {
        this.closeWrite();
        throw err;
      }
    }
  }

  /** A group commit starts: the descriptors it fsyncs; call commitDone() when it has finished. */
  beginCommit(): CommitFds {
    const retired = this.#retired;
    this.#retired = [];
    // A segment nothing was appended to since the last commit began, with that commit done,
    // needs no fsync (a queue that is only read from: its commits persist the read position).
    // While a commit is in flight its fsync may not have covered everything yet: fsync again.
    const sync = this.#writeFd !== null && (this.#unsynced || this.#commitsInFlight > 0);
    this.#unsynced = false;
    const fds = sync ? [...retired, this.#writeFd!] : retired;
    this.#commitsInFlight++;
    return { fds, retired };
  }

  /** A commit begun by beginCommit() has finished (or failed). */
  commitDone(retired: number[]): void {
    // The segments finished before this commit are durable now: close them.
    for (const fd of retired) this.#closeLater.push(fd);
    if (--this.#commitsInFlight !== 0) return;
    for (const fd of this.#closeLater) this.#release(fd);
    this.#closeLater = [];
  }

  /** Closes the current write segment; the next write reopens it at writePos. */
  closeWrite(): void {
    if (this.#writeFd === null) return;
    this.#closeFd(this.#writeFd);
    this.#writeFd = null;
  }

  /** Closes every write descriptor, the retired ones too (the queue is being deleted). */
  closeAll(): void {
    this.closeWrite();
    for (const fd of this.#retired) this.#closeFd(fd);
    this.#retired = [];
  }

  #closeFd(fd: number): void {
    // An fsync in the thread pool may still use it (and a closed number can be reused at once).
    if (this.#commitsInFlight > 0) this.#closeLater.push(fd);
    else this.#release(fd);
  }

  /**
   * Closes a write descriptor; with group commit in the thread pool. The segment may be consumed
   * and deleted by then, and closing the last descriptor of a deleted file frees its blocks in
   * that call: ~40 ms for a 100 MiB segment on ext4, which on the event loop stalled every client.
   */
  #release(fd: number): void {
    if (this.#groupCommit) closeInPool(fd);
    else closeQuietly(fd);
  }
}
