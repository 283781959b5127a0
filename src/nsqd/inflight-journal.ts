/**
 * A channel's in-flight journal (`--durable-inflight`, docs/extensions.md): an append-only file
 * of the messages the channel has handed to consumers or deferred, so that they survive a crash
 * (nsq#1142, #1107, #1386). Entries (inflight-journal-format.ts) are held in a buffer and written
 * as one frame with one positional write per event-loop turn through the daemon's WriteBatch
 * (after the disk queues' writes), i.e. before a publish (DPUB) is acknowledged and at the latest
 * at the end of the turn that delivered, deferred or finished the messages; with --sync-every=1
 * the daemon's group commit fsyncs them.
 * When the file has grown well past what is still held, it is rewritten from the channel's live
 * state (written to a temporary file, then renamed over it).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { asError, closeQuietly, errorCode, errorText, writeAll } from '../diskqueue/file-io.js';
import type { Committable, GroupCommit } from '../diskqueue/group-commit.js';
import type { BatchedWriter, WriteBatch } from '../diskqueue/write-batch.js';
import { syncDir } from '../lib/atomic-file.js';
import type { Logger } from '../lib/logger.js';
import type { Message } from '../protocol/message.js';
import {
  encodeJournalHeader,
  entryBytes,
  FRAME_PAYLOAD_CAP,
  FRAME_PREFIX_BYTES,
  type EntryKind,
  JOURNAL_HEADER_BYTES,
  type JournalReplay,
  KIND_DEFERRED,
  KIND_DONE,
  KIND_IN_FLIGHT,
  replayJournal,
  sealFrame,
  UnsupportedJournalError,
  writeEntry,
} from './inflight-journal-format.js';

// Entries held back for the next batch write, as one frame; a larger entry is written on its own.
const PENDING_CAP = FRAME_PREFIX_BYTES + FRAME_PAYLOAD_CAP;
/** Default size below which the journal is never rewritten. */
export const DEFAULT_COMPACT_MIN_BYTES = 16 * 1024 * 1024;

const { O_WRONLY, O_CREAT, O_TRUNC } = fs.constants;

/** `<dataPath>/<topic>:<channel>.inflight.dat`. */
export function journalFileName(dataPath: string, queueName: string): string {
  return path.join(dataPath, `${queueName}.inflight.dat`);
}

/** A kind of entry the journal keeps (a done record only forgets one). */
export type LiveKind = typeof KIND_IN_FLIGHT | typeof KIND_DEFERRED;

/** Visits every message the channel holds in flight and deferred (the journal's live state). */
export type LiveMessages = (visit: (kind: LiveKind, m: Message) => void) => void;

/** What a journal needs from its daemon and channel. */
export interface InflightJournalOptions {
  /** The journal file (journalFileName()). */
  readonly file: string;
  /** `topic:channel`, for log lines. */
  readonly queueName: string;
  readonly logger: Logger;
  readonly writeBatch: WriteBatch;
  /** The daemon's group commit when every write must be fsynced (--sync-every=1), else null. */
  readonly groupCommit: GroupCommit | null;
  /** The channel's live state, rewritten when the journal is compacted. */
  readonly live: LiveMessages;
  /** The file is rewritten once it reaches this size and four times the live bytes. */
  readonly compactMinBytes?: number;
}

/**
 * Reads the journal at `file` if there is one: what it holds, or null when there is no file.
 * Throws on I/O errors and UnsupportedJournalError for a file of another format.
 */
export function readJournal(file: string, maxMsgSize: number): JournalReplay | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    return replayJournal(buf, maxMsgSize);
  } catch (err) {
    if (err instanceof UnsupportedJournalError) err.message = `${err.message}: ${file} - run the nsqd that wrote it, or move the file away`;
    throw err;
  }
}

/** Removes the journal at `file`; false when it could not be removed (logged). */
export function removeJournal(file: string, logger: Logger): boolean {
  try {
    fs.rmSync(file, { force: true });
    return true;
  } catch (err) {
    logger.error(`failed to remove in-flight journal ${file} - ${errorText(err)}`);
    return false;
  }
}

/** One channel's journal file, written in batches (see file header). */
export class InflightJournal implements BatchedWriter, Committable {
  readonly name: string;
  readonly #o: InflightJournalOptions;
  readonly #compactMin: number;
  #fd: number | null = null;
  /** Bytes in the file (the next frame's position). */
  #fileBytes = 0;
  /** Bytes the live entries would take in a rewritten file. */
  #liveBytes = 0;
  #pend: Buffer | null = null;
  #pendLen = 0;
  #queued = false;
  #closed = false;
  /** A write failed: the file misses records, so the next flush rewrites it from the live state. */
  #stale = false;
  #commitsInFlight = 0;
  #closeLater: number[] = [];

  constructor(o: InflightJournalOptions) {
    this.name = `in-flight journal ${o.queueName}`;
    this.#o = o;
    this.#compactMin = o.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
  }

  /** `m` was handed to a consumer. */
  inFlight(m: Message): void {
    this.#append(KIND_IN_FLIGHT, m);
  }

  /** `m` is deferred until `m.priority`. */
  deferred(m: Message): void {
    this.#append(KIND_DEFERRED, m);
  }

  /** `m` is no longer in flight (FIN, REQ, timeout). */
  inFlightDone(m: Message): void {
    this.done(m, KIND_IN_FLIGHT);
  }

  /** `m` is no longer deferred (due). */
  deferredDone(m: Message): void {
    this.done(m, KIND_DEFERRED);
  }

  /** `m` left the set of `kind` (FIN, REQ, timeout, due). */
  done(m: Message, kind: LiveKind): void {
    this.#liveBytes -= entryBytes(m, kind);
    this.#append(KIND_DONE, m);
  }

  #append(kind: EntryKind, m: Message): void {
    if (this.#closed) return;
    const bytes = entryBytes(m, kind);
    if (this.#pendLen !== 0 && this.#pendLen + bytes > PENDING_CAP) this.flushPending();
    if (kind !== KIND_DONE) this.#liveBytes += bytes;
    if (FRAME_PREFIX_BYTES + bytes > PENDING_CAP) {
      // A message this large gets a frame (and a write) of its own.
      const one = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + bytes);
      const end = writeEntry(one, FRAME_PREFIX_BYTES, kind, m);
      sealFrame(one, 0, end);
      this.#write(one, end);
      return;
    }
    this.#pend ??= Buffer.allocUnsafe(PENDING_CAP);
    // The frame's prefix is filled in when it is written (sealFrame).
    if (this.#pendLen === 0) this.#pendLen = FRAME_PREFIX_BYTES;
    this.#pendLen = writeEntry(this.#pend, this.#pendLen, kind, m);
    if (!this.#queued) {
      this.#queued = true;
      // After the disk queues: a message requeued to disk is there before its done record.
      this.#o.writeBatch.addLate(this);
    }
  }

  /** Writes the held records (WriteBatch), or rewrites the file when it has grown too much. */
  flushPending(): Error | null {
    this.#queued = false;
    if (this.#pendLen === 0 || this.#closed) return null;
    const len = this.#pendLen;
    this.#pendLen = 0;
    if (this.#stale || this.#fileBytes + len >= Math.max(this.#compactMin, 4 * this.#liveBytes)) {
      // The live state already reflects every held record.
      return this.compact(this.#o.groupCommit !== null);
    }
    sealFrame(this.#pend!, 0, len);
    return this.#write(this.#pend!, len);
  }

  #write(buf: Buffer, len: number): Error | null {
    try {
      const fd = this.#open();
      writeAll(fd, buf, 0, len, this.#fileBytes);
      this.#fileBytes += len;
      this.#o.groupCommit?.mark(this);
      return null;
    } catch (e) {
      // The next write goes to the same position, over any partial bytes; the records lost here
      // are restored by rewriting the file from the live state at the next flush.
      this.#stale = true;
      const err = asError(e);
      this.#o.logger.error(`CHANNEL(${this.#o.queueName}): failed to write in-flight journal - ${err.message}`);
      return err;
    }
  }

  #open(): number {
    if (this.#fd !== null) return this.#fd;
    if (this.#fileBytes !== 0) {
      this.#fd = fs.openSync(this.#o.file, O_WRONLY | O_CREAT, 0o600);
      return this.#fd;
    }
    const fd = fs.openSync(this.#o.file, O_WRONLY | O_CREAT | O_TRUNC, 0o600);
    try {
      writeAll(fd, encodeJournalHeader(), 0, JOURNAL_HEADER_BYTES, 0);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
    this.#fd = fd;
    this.#fileBytes = JOURNAL_HEADER_BYTES;
    return fd;
  }

  /**
   * Rewrites the file with only the channel's live entries (or those `live` visits): into a
   * temporary file, renamed over the journal, fsynced first when `sync`. Held records are dropped
   * (the live state includes them). On failure the old file stays and appending continues.
   */
  compact(sync: boolean, live: LiveMessages = this.#o.live): Error | null {
    this.#pendLen = 0;
    const tmp = `${this.#o.file}.tmp`;
    let out: Buffer = Buffer.allocUnsafe(PENDING_CAP);
    let len = encodeJournalHeader().copy(out, 0);
    let frame = -1;
    live((kind, m) => {
      const bytes = entryBytes(m, kind);
      if (len + FRAME_PREFIX_BYTES + bytes > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, len + FRAME_PREFIX_BYTES + bytes));
        out.copy(bigger, 0, 0, len);
        out = bigger;
      }
      // Frames of at most the size appends use, so the reader's bounds hold for both.
      if (frame < 0 || len + bytes - frame > PENDING_CAP) {
        if (frame >= 0) sealFrame(out, frame, len);
        frame = len;
        len += FRAME_PREFIX_BYTES;
      }
      len = writeEntry(out, len, kind, m);
    });
    if (frame >= 0) sealFrame(out, frame, len);
    let fd: number | null = null;
    try {
      fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600);
      writeAll(fd, out, 0, len, 0);
      if (sync) fs.fsyncSync(fd);
      fs.renameSync(tmp, this.#o.file);
      if (sync) syncDir(path.dirname(this.#o.file));
    } catch (e) {
      if (fd !== null) closeQuietly(fd);
      fs.rmSync(tmp, { force: true });
      const err = asError(e);
      this.#o.logger.error(`CHANNEL(${this.#o.queueName}): failed to rewrite in-flight journal - ${err.message}`);
      this.#stale = true;
      return err;
    }
    this.#closeFd();
    this.#fd = fd;
    this.#fileBytes = len;
    this.#liveBytes = len - JOURNAL_HEADER_BYTES;
    this.#stale = false;
    return null;
  }

  /** Group commit (--sync-every=1): fsyncs what was written so far, off the event loop. */
  commit(): Promise<Error | null> {
    const fd = this.#fd;
    if (fd === null) return Promise.resolve(null);
    this.#commitsInFlight++;
    return new Promise((resolve) => {
      fs.fsync(fd, (e) => {
        if (--this.#commitsInFlight === 0) {
          for (const old of this.#closeLater) closeQuietly(old);
          this.#closeLater = [];
        }
        if (e === null) {
          resolve(null);
          return;
        }
        this.#o.logger.error(`CHANNEL(${this.#o.queueName}): failed to fsync in-flight journal - ${e.message}`);
        resolve(e);
      });
    });
  }

  /**
   * Shutdown: the file is rewritten (and fsynced) with what `live` visits, then closed; removed
   * when nothing is live.
   */
  close(live: LiveMessages): void {
    if (this.#closed) return;
    let any = false;
    live(() => {
      any = true;
    });
    if (any) this.compact(true, live);
    this.#closed = true;
    this.#pendLen = 0;
    this.#closeFd();
    if (!any) removeJournal(this.#o.file, this.#o.logger);
  }

  /** The channel was emptied: nothing is live, the file is removed (made again on the next record). */
  clear(): void {
    if (this.#closed) return;
    this.#pendLen = 0;
    this.#closeFd();
    this.#fileBytes = 0;
    this.#liveBytes = 0;
    this.#stale = false;
    removeJournal(this.#o.file, this.#o.logger);
  }

  /** The channel is deleted: the file goes with it. */
  delete(): void {
    this.#closed = true;
    this.#pendLen = 0;
    this.#closeFd();
    removeJournal(this.#o.file, this.#o.logger);
  }

  #closeFd(): void {
    if (this.#fd === null) return;
    // An fsync in the thread pool may still use it (and a closed number can be reused at once).
    if (this.#commitsInFlight > 0) this.#closeLater.push(this.#fd);
    else closeQuietly(this.#fd);
    this.#fd = null;
  }
}
