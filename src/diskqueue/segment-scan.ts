/**
 * Finding records in a segment that may be damaged: checking the record at an offset, resyncing
 * past a damaged checksummed record to the next one that verifies, and walking a whole segment.
 * The disk queue's reader resyncs while reading, its start-up check walks the segment being
 * written to find a corrupt tail, and `nsq_diskqueue fsck|dump` walk every segment.
 */

import {
  RECORD_BAD_LENGTH,
  RECORD_SHORT,
  checkRecord,
  recordOverhead,
  type RecordBounds,
  type RecordFault,
  type SegmentFormat,
  type SegmentLayout,
} from './record-format.js';
import type { SegmentFile } from './segment-file.js';

/**
 * The record at `pos` of `file`, where the segment's bytes end at `limit`: its total size when
 * whole and valid, else a RecordFault (negative). Throws on I/O errors and when the file is
 * shorter than `limit`.
 */
export function checkRecordAt(file: SegmentFile, pos: number, limit: number, format: SegmentFormat, bounds: RecordBounds): number {
  const avail = limit - pos;
  if (avail < 4) return RECORD_SHORT;
  const overhead = recordOverhead(format);
  const bodyLength = file.int32At(pos, limit);
  if (bodyLength < bounds.minMsgSize || bodyLength > bounds.maxMsgSize) return RECORD_BAD_LENGTH;
  const total = overhead + bodyLength;
  if (avail < total) return RECORD_SHORT;
  const off = file.ensure(pos, total, limit);
  return checkRecord(file.chunk, off, total, format, bounds);
}

/** Where reading goes on after a damaged record. */
export interface Resync {
  /** Offset of the next record that verifies, or `limit` when none does. */
  readonly next: number;
  /** Whether exactly one record was skipped (its length was intact), else an unknown number. */
  readonly oneRecord: boolean;
}

/**
 * Resyncs after the damaged record at `pos`. A checksummed segment first trusts the damaged
 * record's length when it is plausible and the record after it verifies (only the body was hit);
 * otherwise it looks for the next offset where a whole record verifies, byte by byte. The
 * original format has no checksum to recognise a record by, so nothing after damage is trusted:
 * the rest of the segment is skipped.
 */
export function resyncAfter(file: SegmentFile, pos: number, limit: number, format: SegmentFormat, bounds: RecordBounds): Resync {
  if (format !== 'checksummed') return { next: limit, oneRecord: false };
  const overhead = recordOverhead(format);
  if (limit - pos >= overhead) {
    const bodyLength = file.int32At(pos, limit);
    if (bodyLength >= bounds.minMsgSize && bodyLength <= bounds.maxMsgSize) {
      const after = pos + overhead + bodyLength;
      if (after === limit) return { next: limit, oneRecord: true };
      if (after < limit && checkRecordAt(file, after, limit, format, bounds) > 0) return { next: after, oneRecord: true };
    }
  }
  for (let q = pos + 1; q + overhead <= limit; q++) {
    if (checkRecordAt(file, q, limit, format, bounds) > 0) return { next: q, oneRecord: false };
  }
  return { next: limit, oneRecord: false };
}

/** What walkSegment() reports as it goes. */
export interface SegmentVisitor {
  /** The walk starts: the segment's format is known. */
  start?(layout: SegmentLayout): void;
  /** A record that verifies; `body` is a view valid until the next callback. */
  record?(offset: number, body: Buffer): void;
  /** Damaged bytes [offset, offset+bytes) skipped, first found faulty for `fault`. */
  corrupt?(offset: number, bytes: number, fault: RecordFault): void;
}

/** The outcome of walking one segment. */
export interface SegmentWalk {
  /** Records that verify. */
  records: number;
  /** Damaged regions skipped. */
  badRegions: number;
  /** Bytes in those regions. */
  bytesSkipped: number;
  /** End of the last record that verifies (the header's end when none does): a truncation here keeps every good record. */
  goodEnd: number;
}

/** Walks the records of `file` from its first one to `limit`, resyncing past damage. */
export function walkSegment(file: SegmentFile, layout: SegmentLayout, limit: number, bounds: RecordBounds, visitor: SegmentVisitor = {}): SegmentWalk {
  const w: SegmentWalk = { records: 0, badRegions: 0, bytesSkipped: 0, goodEnd: limit < layout.dataStart ? 0 : layout.dataStart };
  visitor.start?.(layout);
  if (limit < layout.dataStart) {
    // A header cut short: nothing in it can be kept.
    if (limit > 0) {
      w.badRegions = 1;
      w.bytesSkipped = limit;
      visitor.corrupt?.(0, limit, RECORD_SHORT);
    }
    return w;
  }
  const overhead = recordOverhead(layout.format);
  let pos = layout.dataStart;
  while (pos < limit) {
    const r = checkRecordAt(file, pos, limit, layout.format, bounds);
    if (r > 0) {
      if (visitor.record !== undefined) {
        const off = file.ensure(pos, r, limit);
        visitor.record(pos, file.chunk.subarray(off + overhead, off + r));
      }
      w.records++;
      pos += r;
      w.goodEnd = pos;
      continue;
    }
    const { next } = resyncAfter(file, pos, limit, layout.format, bounds);
    w.badRegions++;
    w.bytesSkipped += next - pos;
    visitor.corrupt?.(pos, next - pos, r as RecordFault);
    pos = next;
  }
  return w;
}
