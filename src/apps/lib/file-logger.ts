/**
 * One topic's output file for nsq_to_file (upstream `apps/nsq_to_file/file_logger.go`): appends
 * `body\n` per message, rotates by name/interval/size, syncs (fsync; for gzip, ends the current
 * gzip member first) and only then FINishes the messages written since the last sync, and on close
 * moves the file from the work dir to the output dir without overwriting anything.
 *
 * File I/O is synchronous on purpose: like the original's single router goroutine, every event
 * (message, tick, HUP, stop) is handled to completion before the next, so ordering of write →
 * sync → FIN never depends on the event loop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Logger } from '../../lib/logger.js';
import { currentFilename, withRevision } from './filename-format.js';

/** What the file logger needs from a delivered message. */
export interface AckableMessage {
  readonly body: Buffer;
  finish(): void;
}

/** The nsq_to_file flags that shape writing. */
export interface FileLoggerOptions {
  outputDir: string;
  workDir: string;
  datetimeFormat: string;
  gzip: boolean;
  gzipLevel: number;
  skipEmptyFiles: boolean;
  rotateSize: number;
  /** ms; 0 = off */
  rotateInterval: number;
  maxInFlight: number;
  channel: string;
}

/** Counters for tests and status. */
export interface FileLoggerStats {
  messages: number;
  syncs: number;
  rotations: number;
  filesWritten: number;
}

/** A write/sync/open failure; the app treats it as fatal like the original (exit 1). */
export class FileLoggerError extends Error {
  override readonly name = 'FileLoggerError';
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Go's os.Link + os.Remove: never overwrites `dst`. */
function exclusiveRename(src: string, dst: string): void {
  fs.linkSync(src, dst);
  fs.unlinkSync(src);
}

function makeDirFor(file: string): void {
  const dir = path.dirname(file);
  if (dir !== '' && dir !== '.') fs.mkdirSync(dir, { recursive: true, mode: 0o770 });
}

/** Writes one topic's messages to rotating files. */
export class FileLogger {
  readonly #o: FileLoggerOptions;
  readonly #topic: string;
  readonly #template: string;
  readonly #log: Logger;
  readonly #now: () => Date;

  #fd: number | null = null;
  #absName = '';
  /** The current name with `<REV>` still in it (rotation compares this). */
  #filename = '';
  #openTime = 0;
  #filesize = 0;
  #rev = 0;
  /** gzip: the uncompressed bytes of the current gzip member, compressed at sync. */
  #member: Buffer[] = [];
  #pending: AckableMessage[] = [];
  readonly stats: FileLoggerStats = { messages: 0, syncs: 0, rotations: 0, filesWritten: 0 };

  constructor(o: FileLoggerOptions, topic: string, template: string, log: Logger, now: () => Date = () => new Date()) {
    this.#o = o;
    this.#topic = topic;
    this.#template = template;
    this.#log = log;
    this.#now = now;
  }

  /** Messages written but not yet synced and finished. */
  get pending(): number {
    return this.#pending.length;
  }

  #tag(): string {
    return `[${this.#topic}/${this.#o.channel}]`;
  }

  /** A delivered message: rotate if due, append, sync and FIN when the batch is full or `starved`. */
  onMessage(m: AckableMessage, starved = false): void {
    let sync = false;
    if (this.#needsRotation()) {
      this.stats.rotations++;
      this.#updateFile();
      sync = true;
    }
    this.#write(m.body);
    this.#write(NEWLINE);
    this.stats.messages++;
    this.#pending.push(m);
    if (this.#pending.length >= this.#o.maxInFlight) sync = true;
    this.#after(sync || starved, false);
  }

  /** The sync ticker: rotate if due (or just close with --skip-empty-files), then sync. */
  onTick(): void {
    let close = false;
    if (this.#needsRotation()) {
      this.stats.rotations++;
      if (this.#o.skipEmptyFiles) close = true;
      else this.#updateFile();
    }
    this.#after(true, close);
  }

  /** SIGHUP: sync and close; the next message opens a new file. */
  onHup(): void {
    this.#after(true, true);
  }

  /** Sync now (used while stopping, so in-flight messages are finished promptly). */
  flush(): void {
    this.#after(true, false);
  }

  /** Final sync and close (the consumer has stopped). */
  close(): void {
    this.#after(true, true);
  }

  #after(sync: boolean, closeFile: boolean): void {
    if (sync && this.#pending.length > 0) {
      this.#log.debug(`${this.#tag()} syncing ${this.#pending.length} records to disk`);
      try {
        this.#sync();
      } catch (err) {
        throw new FileLoggerError(`${this.#tag()} failed syncing messages: ${(err as Error).message}`);
      }
      this.stats.syncs++;
      // The original finishes from the last written back to the first.
      for (let i = this.#pending.length - 1; i >= 0; i--) this.#pending[i]!.finish();
      this.#pending.length = 0;
    }
    if (closeFile) this.#close();
  }

  #write(b: Buffer): void {
    if (this.#o.gzip) {
      this.#member.push(b);
    } else {
      try {
        fs.writeSync(this.#fd!, b);
      } catch (err) {
        throw new FileLoggerError(`${this.#tag()} writing message to disk: ${(err as Error).message}`);
      }
    }
    this.#filesize += b.length;
  }

  /** Ends the current gzip member (header, deflate data, trailer) in the file. */
  #endMember(fd: number): void {
    const data = zlib.gzipSync(Buffer.concat(this.#member), { level: this.#o.gzipLevel });
    this.#member = [];
    fs.writeSync(fd, data);
  }

  #sync(): void {
    if (this.#o.gzip) this.#endMember(this.#fd!);
    fs.fsyncSync(this.#fd!);
  }

  #needsRotation(): boolean {
    if (this.#fd === null) return true;
    const filename = currentFilename(this.#template, this.#o.datetimeFormat, this.#now());
    if (filename !== this.#filename) {
      this.#log.debug(`${this.#tag()} new filename ${filename}, rotating...`);
      return true;
    }
    if (this.#o.rotateInterval > 0) {
      const since = this.#now().getTime() - this.#openTime;
      if (since > this.#o.rotateInterval) {
        this.#log.debug(`${this.#tag()} ${since}ms since last open, rotating...`);
        return true;
      }
    }
    if (this.#o.rotateSize > 0 && this.#filesize > this.#o.rotateSize) {
      this.#log.debug(`${this.#tag()} ${this.#absName} currently ${this.#filesize} bytes (> ${this.#o.rotateSize}), rotating...`);
      return true;
    }
    return false;
  }

  #outputPathFor(workPath: string): string {
    const rest = workPath.startsWith(this.#o.workDir) ? workPath.slice(this.#o.workDir.length) : workPath;
    return path.join(this.#o.outputDir, rest);
  }

  #updateFile(): void {
    this.#close();
    const filename = currentFilename(this.#template, this.#o.datetimeFormat, this.#now());
    if (filename !== this.#filename) this.#rev = 0;
    else this.#rev++;
    this.#filename = filename;
    this.#openTime = this.#now().getTime();
    const fullPath = path.join(this.#o.workDir, filename);
    const moving = this.#o.workDir !== this.#o.outputDir;
    try {
      makeDirFor(fullPath);
    } catch (err) {
      throw new FileLoggerError(`${this.#tag()} unable to create dir: ${(err as Error).message}`);
    }
    const exclusive = this.#o.gzip || this.#o.rotateInterval > 0;
    for (; ; this.#rev++) {
      const abs = withRevision(fullPath, this.#rev);
      if (moving) {
        const out = this.#outputPathFor(abs);
        try {
          makeDirFor(out);
        } catch (err) {
          throw new FileLoggerError(`${this.#tag()} unable to create dir: ${(err as Error).message}`);
        }
        if (fs.existsSync(out)) {
          this.#log.warn(`${this.#tag()} output file already exists: ${out}`);
          continue;
        }
      }
      let fd: number;
      try {
        fd = fs.openSync(abs, exclusive ? 'wx' : 'a', 0o666);
      } catch (err) {
        if (errno(err) === 'EEXIST') {
          this.#log.warn(`${this.#tag()} working file already exists: ${abs}`);
          continue;
        }
        throw new FileLoggerError(`${this.#tag()} unable to open ${abs}: ${(err as Error).message}`);
      }
      this.#log.debug(`${this.#tag()} opening ${abs}`);
      const size = fs.fstatSync(fd).size;
      if (this.#o.rotateSize > 0 && size > this.#o.rotateSize) {
        this.#log.debug(`${this.#tag()} ${abs} currently ${size} bytes (> ${this.#o.rotateSize}), rotating...`);
        fs.closeSync(fd);
        continue;
      }
      this.#fd = fd;
      this.#absName = abs;
      this.#filesize = size;
      this.#member = [];
      return;
    }
  }

  #close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      if (this.#o.gzip) this.#endMember(fd);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    } catch (err) {
      throw new FileLoggerError(`${this.#tag()} failed to close output file: ${(err as Error).message}`);
    }
    this.stats.filesWritten++;
    if (this.#o.workDir === this.#o.outputDir) return;
    const src = this.#absName;
    const dst = this.#outputPathFor(src);
    this.#log.debug(`${this.#tag()} moving finished file ${src} to ${dst}`);
    try {
      exclusiveRename(src, dst);
      return;
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw new FileLoggerError(`${this.#tag()} unable to move file from ${src} to ${dst}: ${(err as Error).message}`);
    }
    // Someone else took the name: bump the revision in the destination until one is free.
    const dstTmpl = path.join(path.dirname(dst), path.basename(this.#filename));
    for (let i = this.#rev + 1; ; i++) {
      this.#log.warn(`${this.#tag()} destination file already exists: ${dst}`);
      const next = withRevision(dstTmpl, i);
      try {
        exclusiveRename(src, next);
      } catch (err) {
        if (errno(err) === 'EEXIST') continue;
        throw new FileLoggerError(`${this.#tag()} unable to rename file from ${src} to ${next}: ${(err as Error).message}`);
      }
      this.#log.debug(`${this.#tag()} renamed finished file ${src} to ${next} to avoid overwrite`);
      return;
    }
  }
}

const NEWLINE = Buffer.from('\n');
