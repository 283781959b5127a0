/**
 * One segment file open for reading, through a read-ahead chunk: the disk queue's reader, its
 * start-up tail check and the `nsq_diskqueue` tool all read segments this way. The chunk is a
 * fresh buffer per refill because records handed out are views into it and must stay valid.
 */

import * as fs from 'node:fs';
import { closeQuietly } from './file-io.js';
import { PLAIN_LAYOUT, SEGMENT_HEADER_BYTES, parseSegmentHeader, type SegmentLayout } from './record-format.js';

/** A segment opened for reading with a read-ahead chunk (see file header). */
export class SegmentFile {
  readonly fd: number;
  readonly #readAhead: number;
  #chunk: Buffer = Buffer.alloc(0);
  #chunkStart = 0;

  /** Opens `path` read-only; throws the open error. */
  static open(path: string, readAheadBytes: number): SegmentFile {
    return new SegmentFile(fs.openSync(path, 'r'), readAheadBytes);
  }

  constructor(fd: number, readAheadBytes: number) {
    this.fd = fd;
    this.#readAhead = readAheadBytes;
  }

  /** The current read-ahead chunk; offsets into it come from ensure(). */
  get chunk(): Buffer {
    return this.#chunk;
  }

  /** The file's size now. */
  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  /**
   * The segment's format from its first bytes (the original's when `size` is too small to
   * hold a header). Throws UnsupportedSegmentError for an unknown header version.
   */
  layout(size: number): SegmentLayout {
    const n = Math.min(size, SEGMENT_HEADER_BYTES);
    if (n < 4) return PLAIN_LAYOUT;
    const head = Buffer.alloc(n);
    const got = fs.readSync(this.fd, head, 0, n, 0);
    return parseSegmentHeader(head.subarray(0, got));
  }

  /**
   * Makes bytes [pos, pos+n) available in `chunk` and returns their offset there, reading ahead
   * up to `limit`. Throws `EOF` / `unexpected EOF` when the file ends first.
   */
  ensure(pos: number, n: number, limit: number): number {
    const c = this.#chunk;
    if (pos >= this.#chunkStart && pos + n <= this.#chunkStart + c.length) return pos - this.#chunkStart;
    const want = Math.max(n, Math.min(this.#readAhead, limit - pos));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const r = fs.readSync(this.fd, buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) throw new Error(got === 0 ? 'EOF' : 'unexpected EOF');
    this.#chunk = got < want ? buf.subarray(0, got) : buf;
    this.#chunkStart = pos;
    return 0;
  }

  /** The big-endian int32 at `pos` (a record's length), reading ahead up to `limit`. */
  int32At(pos: number, limit: number): number {
    const off = this.ensure(pos, 4, limit);
    return this.#chunk.readInt32BE(off);
  }


  /** Closes the file; errors are ignored (the descriptor is gone either way). */
  close(): void {
    this.#chunk = Buffer.alloc(0);
    closeQuietly(this.fd);
  }
}
