/**
 * Making a disk queue durable (go-diskqueue `diskqueue.go` sync, persistMetaData, and the sync
 * timer of ioLoop): fsync the written segments, then replace the meta file atomically. Without a
 * group commit every sync is synchronous on the caller's event loop. With one (--sync-every=1,
 * see group-commit.ts) the syncs due are marked for the next commit, whose fsyncs and meta-file
 * write run in libuv's thread pool, covering many records at once; a synchronous persist
 * (shutdown, a reader's segment change) may overtake such a write, which then must not rename
 * its older positions into place.
 */

import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { replaceFileAtomically } from '../lib/atomic-file.js';
import { asError, errorCode, errorText } from './file-io.js';
import { formatMeta, tempMetaFileName } from './files.js';
import type { Committable, GroupCommit } from './group-commit.js';
import type { QueueState } from './queue-state.js';
import type { SegmentWriter } from './segment-writer.js';

/** An async meta write found a newer one already persisted. */
class MetaSuperseded extends Error {}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

const writeAsync = promisify(fs.write);
const closeAsync = promisify(fs.close);
const renameAsync = promisify(fs.rename);

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

function randomTempMetaFileName(metaPath: string): string {
  return tempMetaFileName(metaPath, Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
}

/** Syncs one disk queue: counts operations, runs the sync timer, persists the meta file (see file header). */
export class QueueSync implements Committable {
  readonly name: string;
  readonly #s: QueueState;
  readonly #writer: SegmentWriter;
  readonly #gc: GroupCommit | null;
  readonly #syncEvery: number;
  #ticker: NodeJS.Timeout | null = null;
  // A counter that tells an async meta write whether a newer one was persisted meanwhile.
  #metaGen = 0;
  #deleted = false;
  #commitTmp: string | null = null;
  #metaWriting = false;
  #metaAgain = false;

  constructor(state: QueueState, writer: SegmentWriter, syncEvery: number, groupCommit: GroupCommit | null) {
    this.name = state.name;
    this.#s = state;
    this.#writer = writer;
    this.#syncEvery = syncEvery;
    this.#gc = groupCommit;
  }

  /** Starts the sync timer: a queue with activity syncs at least every `ms`. */
  startTimer(ms: number): void {
    this.#ticker = setInterval(() => this.#onSyncTimeout(), ms);
    this.#ticker.unref();
  }

  /** Stops the sync timer (the queue is closing). */
  stopTimer(): void {
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
  }

  /** One write or read done: sync when syncEvery is reached. */
  countOp(): void {
    if (this.#s.count >= this.#syncEvery) this.#s.needSync = true;
    if (this.#s.needSync) this.requestSync();
  }

  /** A sync is due (go-diskqueue sync): now, or with a group commit in the next commit, off the event loop. */
  requestSync(): void {
    if (this.#gc === null) {
      this.syncLogged();
      return;
    }
    this.#s.needSync = false;
    this.#gc.mark(this);
  }

  /**
   * The writer moved on to a new segment (go-diskqueue writeOne syncs every time it starts a new
   * file): with a group commit the next commit fsyncs and closes the finished one; without, it is
   * synced now and then closed.
   */
  syncFinishedSegment(): void {
    if (this.#gc !== null) {
      this.requestSync();
      return;
    }
    this.syncLogged();
    this.#writer.closeWrite();
  }

  /**
   * Group commit (see GroupCommit): writes what is pending, then fsyncs the segment and persists
   * the meta file in the thread pool. The positions persisted are the ones of this call.
   */
  commit(): Promise<Error | null> {
    if (this.#s.status !== 'open') return Promise.resolve(null);
    const werr = this.#writer.flushPending();
    if (werr !== null) return Promise.resolve(werr);
    this.#s.count = 0;
    const { fds, retired } = this.#writer.beginCommit();
    this.#persistMetaAsync();
    return Promise.all(fds.map(fsyncAsync)).then(
      () => {
        this.#writer.commitDone(retired);
        return null;
      },
      (e: unknown) => {
        this.#writer.commitDone(retired);
        return this.#commitFailed(e);
      },
    );
  }

  /**
   * Persists the meta file (atomic replace) in the thread pool, beside a commit's fsync: every
   * step, the rename too (under write load a rename over the meta file waits for the file
   * system's journal, ~1 ms, which on the event loop was a tenth of nsqd's time while a topic
   * drained from disk). One write at a time: one asked for meanwhile runs after it, with the
   * positions of then, so the newest positions are always the last ones renamed into place.
   * What runs on the event loop meanwhile (a synchronous persist, empty(), delete()) bumps
   * `#metaGen`; a write that sees it before renaming gives up, and one overtaken during its
   * rename is repaired when it ends (#metaWritten).
   */
  #persistMetaAsync(): void {
    if (this.#metaWriting) {
      this.#metaAgain = true;
      return;
    }
    this.#metaWriting = true;
    this.#metaAgain = false;
    const metaPath = this.#s.metaPath;
    const meta = formatMeta(this.#s.metadata());
    const gen = ++this.#metaGen;
    const tmpFile = randomTempMetaFileName(metaPath);
    this.#commitTmp = tmpFile;
    const overtaken = () => this.#deleted || gen !== this.#metaGen;
    const work = async (): Promise<void> => {
      // Created here, synchronously, so that empty() and delete() can always remove it by name:
      // they leave no temp file behind, not even for a moment (upstream's Delete leaves no file
      // once it returns). Opening it in the pool instead saves ~0.2 ms of event loop per meta
      // write under disk load, but then a temp file can appear after /topic/delete answered.
      const fd = fs.openSync(tmpFile, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600);
      await writeTempFileAsync(fd, meta);
      if (overtaken()) throw new MetaSuperseded();
      await renameAsync(tmpFile, metaPath);
    };
    const p = work().then(
      () => this.#metaWritten(gen, true),
      (e: unknown) => {
        // delete() or empty() may have removed the temp file by name: that is no failure.
        fs.rmSync(tmpFile, { force: true });
        if (!(e instanceof MetaSuperseded) && !overtaken()) this.#commitFailed(e);
        this.#metaWritten(gen, false);
      },
    );
    this.#gc?.track(p);
  }

  #metaWritten(gen: number, renamed: boolean): void {
    this.#metaWriting = false;
    this.#commitTmp = null;
    const landedLate = renamed && gen !== this.#metaGen;
    if (landedLate) this.#repairOvertaken();
    if (this.#s.status !== 'open') return;
    if (this.#metaAgain) this.#persistMetaAsync();
    // An older copy landed after a synchronous persist or empty(): the next commit writes the
    // newest again. (One stopped before its rename left the newer state as it was.)
    else if (landedLate && this.#gc !== null) this.#gc.mark(this);
  }

  /**
   * An older meta file was renamed into place after the event loop had moved on (a synchronous
   * persist, empty(), delete()): put back what that left. An open queue persists its current
   * positions in the next commit (#metaWritten marks it); a deleted one leaves no meta file; a
   * closed one writes its final positions again.
   */
  #repairOvertaken(): void {
    const s = this.#s;
    try {
      if (this.#deleted) fs.rmSync(s.metaPath, { force: true });
      else if (s.status !== 'open') this.#persistMetaData();
    } catch (err) {
      s.log.error(`${s.prefix} failed to sync - ${errorText(err)}`);
    }
  }

  #commitFailed(e: unknown): Error {
    const err = asError(e);
    this.#s.log.error(`${this.#s.prefix} failed to sync - ${err.message}`);
    return err;
  }

  /** go-diskqueue sync: fsync the written segments and persist the meta file. Throws on failure. */
  sync(): void {
    const err = this.#writer.flushPending();
    if (err !== null) throw err;
    this.#writer.fsyncSegments();
    this.#persistMetaData();
    this.#s.needSync = false;
  }

  /** sync(), logging a failure instead of throwing; the operation count restarts either way. */
  syncLogged(): void {
    try {
      this.sync();
    } catch (err) {
      this.#s.log.error(`${this.#s.prefix} failed to sync - ${errorText(err)}`);
    }
    this.#s.count = 0;
  }

  #onSyncTimeout(): void {
    // Idle queues are left alone.
    if (this.#s.count === 0 || this.#s.status !== 'open') return;
    this.#s.needSync = true;
    this.requestSync();
  }

  /** go-diskqueue persistMetaData: temp file (0600), write, fsync, close, rename over the meta file. */
  #persistMetaData(): void {
    this.#metaGen++;
    const metaPath = this.#s.metaPath;
    replaceFileAtomically(metaPath, formatMeta(this.#s.metadata()), { tmpFile: randomTempMetaFileName(metaPath) });
  }

  /** The queue is being emptied: an async meta write in flight must not leave its older copy behind. */
  abandonAsyncMeta(): void {
    this.#metaGen++;
    if (this.#commitTmp !== null) fs.rmSync(this.#commitTmp, { force: true });
  }

  /** The queue is being deleted: no async meta write may rename into place, and its temp file goes. */
  markDeleted(): void {
    this.#deleted = true;
    // A commit in flight may be writing its temp meta file: a deleted queue leaves no files.
    if (this.#commitTmp !== null) fs.rmSync(this.#commitTmp, { force: true });
  }

  /** Deletes the meta file (emptying); a missing one is fine, other failures are logged and thrown. */
  removeMetaFile(): void {
    try {
      fs.unlinkSync(this.#s.metaPath);
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') {
        this.#s.log.error(`${this.#s.prefix} failed to remove metadata file - ${errorText(e)}`);
        throw e;
      }
    }
  }
}
