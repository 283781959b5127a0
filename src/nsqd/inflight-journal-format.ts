/**
 * The on-disk format of a channel's in-flight journal (`--durable-inflight`, docs/extensions.md):
 * `<topic>:<channel>.inflight.dat` in the data path. Pure functions: no I/O.
 *
 * File: an 8-byte header `[0x89 'N' 'S' 'J'][version u8][flags u8][header length u16]` (the
 * layout of a checksummed disk-queue segment's header, docs/disk-format.md, with its own magic),
 * then frames framed as the checksummed segment records, `[int32 length][uint32 masked
 * crc32c(payload)][payload]` (diskqueue/record-format.ts), so a torn tail never verifies. A frame
 * holds the entries of one write (the journal writes once per event-loop turn): one checksum per
 * batch rather than per entry, and a frame is kept or dropped whole.
 *
 * Entry, version 1: a 36-byte header
 * `[kind u8][0 u8][entry header length u16][attempts u16][0 u16][message length u32][deadline f64 epoch ms][16-byte id]`
 * then, for the in-flight and deferred kinds, the message in the original's disk-queue encoding
 * (`[int64 timestamp][uint16 attempts][16-byte id][body]`, upstream `nsqd/message.go`). The entry
 * header length lets a later version add fields that this one skips; the message bytes are the
 * ones the disk queue stores, so moving an entry into the channel's queue is a copy.
 */

import {
  CHECKSUMMED_RECORD_OVERHEAD,
  checkRecord,
  encodeFileHeader,
  type RecordFault,
  recordChecksum,
  recordFaultText,
} from '../diskqueue/record-format.js';
import { decodeMessage, MESSAGE_HEADER_SIZE, MESSAGE_ID_LENGTH, type Message } from '../protocol/message.js';
import { writeHex32 } from '../protocol/message-id.js';

/** The magic that starts a journal ("\x89NSJ"). */
export const JOURNAL_MAGIC = 0x894e534a;
/** The journal format version this code writes and reads. */
export const JOURNAL_VERSION = 1;
/** Bytes of the version-1 file header. */
export const JOURNAL_HEADER_BYTES = 8;
/** Bytes of a frame's prefix (length and checksum). */
export const FRAME_PREFIX_BYTES = CHECKSUMMED_RECORD_OVERHEAD;
/** Bytes of the version-1 entry header (before the message). */
export const ENTRY_HEADER_BYTES = 36;
/** The payload size up to which the writer fills a frame (one larger entry gets a frame of its own). */
export const FRAME_PAYLOAD_CAP = 256 * 1024 - FRAME_PREFIX_BYTES;

/** Entry kinds: handed to a consumer, deferred until its deadline, or no longer held. */
export const KIND_IN_FLIGHT = 1;
export const KIND_DEFERRED = 2;
export const KIND_DONE = 3;
/** One of the KIND_* codes. */
export type EntryKind = typeof KIND_IN_FLIGHT | typeof KIND_DEFERRED | typeof KIND_DONE;

/** A journal whose header this code cannot read (another magic, or a newer version). */
export class UnsupportedJournalError extends Error {
  constructor(what: string) {
    super(`unsupported in-flight journal: ${what} (this nsqd reads version ${JOURNAL_VERSION})`);
    this.name = 'UnsupportedJournalError';
  }
}

/** The version-1 file header. */
export function encodeJournalHeader(): Buffer {
  return encodeFileHeader(JOURNAL_MAGIC, JOURNAL_VERSION);
}

/**
 * Where the frames of a journal start, from its first bytes. A file cut inside its header (a
 * crash while creating it) holds nothing: the header length is returned, so no frame is read.
 */
export function parseJournalHeader(buf: Buffer): number {
  if (buf.length < JOURNAL_HEADER_BYTES) {
    if (buf.length >= 4 && buf.readUInt32BE(0) !== JOURNAL_MAGIC) throw new UnsupportedJournalError('bad magic');
    return buf.length;
  }
  if (buf.readUInt32BE(0) !== JOURNAL_MAGIC) throw new UnsupportedJournalError('bad magic');
  const version = buf.readUInt8(4);
  const headerLen = buf.readUInt16BE(6);
  if (version !== JOURNAL_VERSION || headerLen < JOURNAL_HEADER_BYTES) throw new UnsupportedJournalError(`version ${version}`);
  return Math.min(headerLen, buf.length);
}

/** Bytes one entry takes in a frame: its header and, unless `done`, the message. */
export function entryBytes(m: Message, kind: EntryKind): number {
  return kind === KIND_DONE ? ENTRY_HEADER_BYTES : ENTRY_HEADER_BYTES + MESSAGE_HEADER_SIZE + m.body.length;
}

/**
 * Writes one entry for `m` at `buf[off]` (room for entryBytes() is the caller's) with
 * `m.priority` as its deadline (the in-flight timeout, or the deferred due time) and returns the
 * offset after it. No allocation: this runs for every delivery.
 */
export function writeEntry(buf: Buffer, off: number, kind: EntryKind, m: Message): number {
  buf.writeUInt8(kind, off);
  buf.writeUInt8(0, off + 1);
  buf.writeUInt16BE(ENTRY_HEADER_BYTES, off + 2);
  buf.writeUInt16BE(m.attempts & 0xffff, off + 4);
  buf.writeUInt16BE(0, off + 6);
  buf.writeDoubleBE(m.priority, off + 12);
  if (m.idRaw === null) {
    writeHex32(buf, off + 20, m.idHi);
    writeHex32(buf, off + 28, m.idLo);
  } else {
    buf.write(m.idRaw, off + 20, MESSAGE_ID_LENGTH, 'latin1');
  }
  const end = kind === KIND_DONE ? off + ENTRY_HEADER_BYTES : m.writeTo(buf, off + ENTRY_HEADER_BYTES);
  buf.writeUInt32BE(end - off - ENTRY_HEADER_BYTES, off + 8);
  return end;
}

/**
 * Closes the frame starting at `buf[start]` whose entries end at `end`: writes its length and
 * checksum into the FRAME_PREFIX_BYTES reserved at `start`.
 */
export function sealFrame(buf: Buffer, start: number, end: number): void {
  const p = start + FRAME_PREFIX_BYTES;
  buf.writeInt32BE(end - p, start);
  buf.writeUInt32BE(recordChecksum(buf.subarray(p, end)), start + 4);
}

/** A message the journal holds: in flight or deferred, with its deadline (epoch ms). */
export interface JournalEntry {
  readonly kind: typeof KIND_IN_FLIGHT | typeof KIND_DEFERRED;
  readonly deadline: number;
  /** The message, its attempts set from the entry header. */
  readonly message: Message;
}

/** What a journal file holds. */
export interface JournalReplay {
  /** Messages still held, in the order they were first journaled (a done entry resets that). */
  readonly entries: JournalEntry[];
  /** Entries read. */
  readonly records: number;
  /** Bytes from the first frame that did not verify to the end of the file (0 when none). */
  readonly damagedBytes: number;
  /** Why reading stopped early, for the log line; null when the file ended cleanly. */
  readonly damage: string | null;
}

/**
 * Replays a journal file: the last entry of each message id wins, a done entry forgets it.
 * Reading stops at the first frame that does not verify: one cut by a crash (the journal is
 * append-only, so that is the tail) or a damaged one, after which nothing is trusted. Throws
 * UnsupportedJournalError for a file of another format or version.
 */
export function replayJournal(buf: Buffer, maxMsgSize: number): JournalReplay {
  const largest = ENTRY_HEADER_BYTES + 0xffff + MESSAGE_HEADER_SIZE + maxMsgSize;
  const bounds = { minMsgSize: ENTRY_HEADER_BYTES, maxMsgSize: Math.max(FRAME_PAYLOAD_CAP, largest) };
  const live = new Map<string, JournalEntry>();
  let off = parseJournalHeader(buf);
  let records = 0;
  let damage: string | null = null;
  while (off < buf.length) {
    const total = checkRecord(buf, off, buf.length - off, 'checksummed', bounds);
    if (total < 0) {
      damage = `${recordFaultText(total as RecordFault)} at offset ${off}`;
      break;
    }
    const end = off + total;
    const read = replayFrame(buf, off + FRAME_PREFIX_BYTES, end, live);
    if (typeof read === 'string') {
      damage = `${read} in the frame at offset ${off}`;
      break;
    }
    records += read;
    off = end;
  }
  return {
    entries: [...live.values()],
    records,
    damagedBytes: buf.length - off,
    damage,
  };
}

/** Applies the entries of one verified frame to `live`: how many it held, or what was wrong. */
function replayFrame(buf: Buffer, p: number, end: number, live: Map<string, JournalEntry>): number | string {
  let entries = 0;
  while (p < end) {
    if (end - p < ENTRY_HEADER_BYTES) return 'a cut entry';
    const kind = buf.readUInt8(p);
    const headerLen = buf.readUInt16BE(p + 2);
    const next = p + headerLen + buf.readUInt32BE(p + 8);
    if (headerLen < ENTRY_HEADER_BYTES || next > end || kind < KIND_IN_FLIGHT || kind > KIND_DONE) {
      return `an unknown entry (kind ${kind}, header length ${headerLen})`;
    }
    entries++;
    const key = buf.toString('latin1', p + 20, p + 36);
    if (kind === KIND_DONE) live.delete(key);
    else if (next - (p + headerLen) >= MESSAGE_HEADER_SIZE) {
      // A copy: the message may stay deferred for long, and must not pin the whole file.
      const message = decodeMessage(Buffer.from(buf.subarray(p + headerLen, next)));
      message.attempts = buf.readUInt16BE(p + 4);
      // Deleted first, so the map's order is that of the latest entries.
      live.delete(key);
      live.set(key, { kind: kind as JournalEntry['kind'], deadline: buf.readDoubleBE(p + 12), message });
    }
    p = next;
  }
  return entries;
}
