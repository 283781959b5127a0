/**
 * The two segment formats a disk queue reads (docs/disk-format.md, "Checksummed segments"): the
 * original's records `[int32 length][body]` (nsqio/go-diskqueue `diskqueue.go` writeOne), and the
 * opt-in checksummed format written with `--disk-checksums`: an 8-byte segment header
 * `[0x89 'N' 'S' 'Q'][version u8][flags u8][header length u16]` followed by records
 * `[int32 length][uint32 masked crc32c(body)][body]`.
 *
 * A segment identifies itself: the header's first byte is >= 0x80, so read as an original record
 * its length is negative, which no original segment can start with (lengths are >= 0) and which
 * the original nsqd rejects as corruption instead of misreading. The header length lets a later
 * version add header fields that this version skips; a different version is refused.
 *
 * The CRC is masked as in LevelDB's log format and Snappy's framing format (`crc32c.Mask`): an
 * all-zero region (a crash can leave one at the end of a file) then never verifies as a record,
 * even one with an empty body. Pure functions: no I/O.
 */

import { maskedCrc32c } from '../lib/crc32c.js';

/** The magic that starts a checksummed segment ("\x89NSQ", negative as an int32). */
export const SEGMENT_MAGIC = 0x894e5351;
/** The checksummed format version this code writes and reads. */
export const SEGMENT_VERSION = 1;
/** Bytes of the version-1 header. */
export const SEGMENT_HEADER_BYTES = 8;
/** Bytes before the body of an original record: the length. */
export const PLAIN_RECORD_OVERHEAD = 4;
/** Bytes before the body of a checksummed record: length and CRC. */
export const CHECKSUMMED_RECORD_OVERHEAD = 8;

/** How the records of one segment are framed. */
export type SegmentFormat = 'plain' | 'checksummed';

/** A segment header this code cannot read (a newer format version). */
export class UnsupportedSegmentError extends Error {
  readonly version: number;
  constructor(version: number) {
    super(`unsupported checksummed segment version ${version} (this nsqd reads version ${SEGMENT_VERSION})`);
    this.name = 'UnsupportedSegmentError';
    this.version = version;
  }
}

/** A parsed segment start: its format and where its first record begins. */
export interface SegmentLayout {
  readonly format: SegmentFormat;
  /** Offset of the first record: 0 for the original format, the header length otherwise. */
  readonly dataStart: number;
}

/** The layout of a segment without a header (the original's). */
export const PLAIN_LAYOUT: SegmentLayout = { format: 'plain', dataStart: 0 };
/** The layout of a version-1 checksummed segment. */
export const CHECKSUMMED_LAYOUT: SegmentLayout = { format: 'checksummed', dataStart: SEGMENT_HEADER_BYTES };

/** The version-1 header bytes written at the start of every checksummed segment. */
export function encodeSegmentHeader(): Buffer {
  return encodeFileHeader(SEGMENT_MAGIC, SEGMENT_VERSION);
}

/**
 * An 8-byte file header `[magic u32][version u8][flags u8 = 0][header length u16 = 8]`: the
 * checksummed segment's, and nsqd's in-flight journal's with its own magic.
 */
export function encodeFileHeader(magic: number, version: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32BE(magic, 0);
  b.writeUInt8(version, 4);
  b.writeUInt8(0, 5);
  b.writeUInt16BE(SEGMENT_HEADER_BYTES, 6);
  return b;
}

/**
 * The layout of a segment from its first bytes (`head`, up to 8 of them; fewer when the file is
 * shorter). Without the magic it is an original segment; a header of another version or with an
 * impossible length throws UnsupportedSegmentError. A checksummed segment cut inside its header
 * reads as checksummed with no records.
 */
export function parseSegmentHeader(head: Uint8Array): SegmentLayout {
  if (head.length < 4) return PLAIN_LAYOUT;
  const b = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (b.readUInt32BE(0) !== SEGMENT_MAGIC) return PLAIN_LAYOUT;
  if (b.length < SEGMENT_HEADER_BYTES) return CHECKSUMMED_LAYOUT;
  const version = b.readUInt8(4);
  const headerLen = b.readUInt16BE(6);
  if (version !== SEGMENT_VERSION || headerLen < SEGMENT_HEADER_BYTES) throw new UnsupportedSegmentError(version);
  return headerLen === SEGMENT_HEADER_BYTES ? CHECKSUMMED_LAYOUT : { format: 'checksummed', dataStart: headerLen };
}

/** Bytes before a record's body in `format`. */
export function recordOverhead(format: SegmentFormat): number {
  return format === 'checksummed' ? CHECKSUMMED_RECORD_OVERHEAD : PLAIN_RECORD_OVERHEAD;
}

/** The stored checksum of a body: crc32c, rotated and offset (LevelDB `crc32c::Mask`). */
export function recordChecksum(body: Uint8Array): number {
  return maskedCrc32c(body);
}

/**
 * Writes the prefix of a record with a `bodyLength`-byte body at `buf[off]`: the length, and in
 * the checksummed format the body's checksum. Returns the prefix size.
 */
export function writeRecordPrefix(buf: Buffer, off: number, body: Uint8Array, format: SegmentFormat): number {
  buf.writeInt32BE(body.length, off);
  if (format === 'plain') return PLAIN_RECORD_OVERHEAD;
  buf.writeUInt32BE(recordChecksum(body), off + 4);
  return CHECKSUMMED_RECORD_OVERHEAD;
}

/** One record, prefix and body, as a new buffer (tests and tools; the writer frames in place). */
export function encodeRecord(body: Uint8Array, format: SegmentFormat): Buffer {
  const out = Buffer.allocUnsafe(recordOverhead(format) + body.length);
  const n = writeRecordPrefix(out, 0, body, format);
  out.set(body, n);
  return out;
}

/** The bounds a record's body length must respect (nsqd: 26 and --max-msg-size + 26). */
export interface RecordBounds {
  readonly minMsgSize: number;
  readonly maxMsgSize: number;
}

/** checkRecord(): the bytes end inside the record (a torn write, or a cut file). */
export const RECORD_SHORT = -1;
/** checkRecord(): the length is outside [minMsgSize, maxMsgSize]. */
export const RECORD_BAD_LENGTH = -2;
/** checkRecord(): the body does not match its checksum. */
export const RECORD_BAD_CRC = -3;

/** Why a record did not verify: one of the RECORD_* codes. */
export type RecordFault = typeof RECORD_SHORT | typeof RECORD_BAD_LENGTH | typeof RECORD_BAD_CRC;

/** A fault code as words, for log lines and tool output. */
export function recordFaultText(fault: RecordFault): string {
  if (fault === RECORD_SHORT) return 'truncated record';
  if (fault === RECORD_BAD_LENGTH) return 'invalid length';
  return 'checksum mismatch';
}

/**
 * Checks the record starting at `buf[off]`, where `avail` bytes from `off` belong to the
 * segment. Returns the record's total size (prefix + body) when it is whole and verifies (the
 * original format has no checksum: only its length is checked), else a RecordFault (negative).
 * A number rather than an object: the reader calls it for every record.
 */
export function checkRecord(buf: Buffer, off: number, avail: number, format: SegmentFormat, bounds: RecordBounds): number {
  if (avail < 4) return RECORD_SHORT;
  const bodyLength = buf.readInt32BE(off);
  if (bodyLength < bounds.minMsgSize || bodyLength > bounds.maxMsgSize) return RECORD_BAD_LENGTH;
  const overhead = format === 'checksummed' ? CHECKSUMMED_RECORD_OVERHEAD : PLAIN_RECORD_OVERHEAD;
  const total = overhead + bodyLength;
  if (avail < total) return RECORD_SHORT;
  if (overhead === CHECKSUMMED_RECORD_OVERHEAD && recordChecksum(buf.subarray(off + overhead, off + total)) !== buf.readUInt32BE(off + 4)) {
    return RECORD_BAD_CRC;
  }
  return total;
}
