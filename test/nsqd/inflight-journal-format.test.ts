import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { WriteBatch } from '../../src/diskqueue/write-batch.js';
import { encodeRecord } from '../../src/diskqueue/record-format.js';
import { Logger } from '../../src/lib/logger.js';
import {
  ENTRY_HEADER_BYTES,
  encodeJournalHeader,
  FRAME_PREFIX_BYTES,
  type EntryKind,
  entryBytes,
  JOURNAL_HEADER_BYTES,
  KIND_DEFERRED,
  KIND_DONE,
  KIND_IN_FLIGHT,
  parseJournalHeader,
  replayJournal,
  sealFrame,
  UnsupportedJournalError,
  writeEntry,
} from '../../src/nsqd/inflight-journal-format.js';
import { InflightJournal, type LiveKind, readJournal } from '../../src/nsqd/inflight-journal.js';
import { Message } from '../../src/protocol/message.js';
import { tempDir } from '../helpers/daemons.js';

const MAX = 1024 * 1024;

function msg(id: string, body: string, attempts: number, priority: number): Message {
  const m = new Message(id, Buffer.from(body), 0x01020304, 0x05060708, attempts);
  m.priority = priority;
  return m;
}

/** One frame (one write of the journal) holding an entry per [kind, message]. */
function frame(...entries: Array<[EntryKind, Message]>): Buffer {
  const size = entries.reduce((n, [k, m]) => n + entryBytes(m, k), FRAME_PREFIX_BYTES);
  const buf = Buffer.alloc(size);
  let off = FRAME_PREFIX_BYTES;
  for (const [k, m] of entries) off = writeEntry(buf, off, k, m);
  assert.equal(off, size);
  sealFrame(buf, 0, off);
  return buf;
}

/** A journal file: the header, then the frames. */
const journal = (...frames: Buffer[]): Buffer => Buffer.concat([encodeJournalHeader(), ...frames]);

describe('in-flight journal format', () => {
  it('has a versioned 8-byte header', () => {
    const h = encodeJournalHeader();
    assert.equal(h.length, JOURNAL_HEADER_BYTES);
    assert.equal(h.toString('hex'), '894e534a01000008');
    assert.equal(parseJournalHeader(h), JOURNAL_HEADER_BYTES);
  });

  it('replays in-flight and deferred entries with their attempts and deadlines; done forgets', () => {
    const a = msg('0000000000000001', 'alpha', 1, 1_700_000_000_123);
    const b = msg('0000000000000002', 'bravo', 3, 1_700_000_005_000);
    const c = msg('0000000000000003', 'charlie', 1, 1);
    const r = replayJournal(journal(frame([KIND_IN_FLIGHT, a], [KIND_DEFERRED, b]), frame([KIND_IN_FLIGHT, c], [KIND_DONE, c])), MAX);
    assert.equal(r.records, 4);
    assert.equal(r.damage, null);
    assert.equal(r.damagedBytes, 0);
    assert.deepEqual(
      r.entries.map((e) => [e.kind, e.message.id, e.message.body.toString(), e.message.attempts, e.deadline, e.message.tsHi, e.message.tsLo]),
      [
        [KIND_IN_FLIGHT, a.id, 'alpha', 1, 1_700_000_000_123, 0x01020304, 0x05060708],
        [KIND_DEFERRED, b.id, 'bravo', 3, 1_700_000_005_000, 0x01020304, 0x05060708],
      ],
    );
  });

  it('keeps the last record of an id (in flight, then requeued with a delay)', () => {
    const a = msg('00000000000000aa', 'x', 1, 10);
    const later = msg('00000000000000aa', 'x', 2, 99);
    const r = replayJournal(journal(frame([KIND_IN_FLIGHT, a]), frame([KIND_DONE, a], [KIND_DEFERRED, later])), MAX);
    assert.deepEqual(
      r.entries.map((e) => [e.kind, e.message.attempts, e.deadline]),
      [[KIND_DEFERRED, 2, 99]],
    );
  });

  it('keeps message ids that are not hex as they were', () => {
    const a = msg('not-a-hex-id-!!!', 'raw', 1, 5);
    const r = replayJournal(journal(frame([KIND_DEFERRED, a])), MAX);
    assert.equal(r.entries[0]!.message.id, 'not-a-hex-id-!!!');
  });

  it('tolerates a truncated tail: everything before it is kept', () => {
    const a = msg('0000000000000001', 'alpha', 1, 1);
    const b = msg('0000000000000002', 'bravo', 1, 2);
    const first = frame([KIND_IN_FLIGHT, a]);
    const whole = journal(first, frame([KIND_DEFERRED, b], [KIND_DONE, a]));
    for (let cut = whole.length - 1; cut > JOURNAL_HEADER_BYTES + first.length; cut -= 7) {
      const r = replayJournal(whole.subarray(0, cut), MAX);
      assert.deepEqual(
        r.entries.map((e) => e.message.id),
        [a.id],
      );
      assert.match(r.damage ?? '', /truncated record|invalid length/);
      assert.equal(r.damagedBytes, cut - JOURNAL_HEADER_BYTES - first.length);
    }
    // Zeroes after the last record (a crash after the file grew) never verify as a record.
    const zeroed = Buffer.concat([whole, Buffer.alloc(64)]);
    assert.equal(replayJournal(zeroed, MAX).entries.length, 1);
  });

  it('stops at a damaged record', () => {
    const a = msg('0000000000000001', 'alpha', 1, 1);
    const b = msg('0000000000000002', 'bravo', 1, 2);
    const buf = journal(frame([KIND_IN_FLIGHT, a]), frame([KIND_DEFERRED, b]));
    buf[buf.length - 2]! ^= 0xff;
    const r = replayJournal(buf, MAX);
    assert.equal(r.entries.length, 1);
    assert.match(r.damage ?? '', /checksum mismatch at offset \d+/);
  });

  it('a file cut inside its header holds nothing', () => {
    const h = encodeJournalHeader();
    for (let n = 0; n < JOURNAL_HEADER_BYTES; n++) assert.equal(replayJournal(h.subarray(0, n), MAX).entries.length, 0);
  });

  it('stops at an entry that does not fit its (verified) frame', () => {
    const a = msg('0000000000000001', 'alpha', 1, 1);
    const payload = Buffer.from(frame([KIND_IN_FLIGHT, a]).subarray(FRAME_PREFIX_BYTES));
    payload.writeUInt32BE(1000, 8);
    const r = replayJournal(journal(frame([KIND_DEFERRED, msg('0000000000000002', 'b', 1, 2)]), encodeRecord(payload, 'checksummed')), MAX);
    assert.equal(r.entries.length, 1);
    assert.match(r.damage ?? '', /an unknown entry \(kind 1, header length 36\) in the frame at offset \d+/);
  });

  it('refuses another version or magic with a clear error', () => {
    const v2 = journal(frame([KIND_DEFERRED, msg('0000000000000001', 'a', 1, 1)]));
    v2[4] = 2;
    assert.throws(() => replayJournal(v2, MAX), (err: unknown) => {
      assert.ok(err instanceof UnsupportedJournalError);
      assert.match(err.message, /unsupported in-flight journal: version 2 \(this nsqd reads version 1\)/);
      return true;
    });
    assert.throws(() => replayJournal(Buffer.from('plain text file'), MAX), /unsupported in-flight journal: bad magic/);
  });

  it('skips entry-header fields a later version adds', () => {
    const a = msg('0000000000000001', 'alpha', 4, 77);
    const payload = frame([KIND_DEFERRED, a]).subarray(FRAME_PREFIX_BYTES);
    const longer = Buffer.concat([payload.subarray(0, ENTRY_HEADER_BYTES), Buffer.from('newfield'), payload.subarray(ENTRY_HEADER_BYTES)]);
    longer.writeUInt16BE(ENTRY_HEADER_BYTES + 8, 2);
    const r = replayJournal(Buffer.concat([encodeJournalHeader(), encodeRecord(longer, 'checksummed')]), MAX);
    assert.deepEqual(
      r.entries.map((e) => [e.message.body.toString(), e.message.attempts, e.deadline]),
      [['alpha', 4, 77]],
    );
  });
});

describe('InflightJournal file', () => {
  const logger = new Logger('[test] ', 'fatal');

  function open(dir: string, live: Map<Message, LiveKind>, compactMinBytes?: number) {
    const batch = new WriteBatch();
    const file = path.join(dir, 't:c.inflight.dat');
    const j = new InflightJournal({
      file,
      queueName: 't:c',
      logger,
      writeBatch: batch,
      groupCommit: null,
      live: (visit) => {
        for (const [m, k] of live) visit(k, m);
      },
      compactMinBytes,
    });
    return { j, batch, file };
  }

  it('appends in batches, compacts to the live state, and removes an empty file on close', (t) => {
    const dir = tempDir('tsnsq-journal-', t);
    const live = new Map<Message, LiveKind>();
    const { j, batch, file } = open(dir, live, 4096);
    const ms = Array.from({ length: 200 }, (_, i) => msg(i.toString(16).padStart(16, '0'), `body ${i}`, 1, 1000 + i));
    for (const m of ms) {
      live.set(m, KIND_IN_FLIGHT);
      j.inFlight(m);
    }
    assert.equal(fs.existsSync(file), false, 'nothing written before the batch flush');
    batch.flush();
    assert.equal(readJournal(file, MAX)!.entries.length, 200);
    // FIN all but the last 3: the file is rewritten once it is 4 times the live bytes.
    for (const m of ms.slice(0, -3)) {
      live.delete(m);
      j.inFlightDone(m);
      batch.flush();
    }
    const r = readJournal(file, MAX)!;
    assert.deepEqual(
      r.entries.map((e) => e.message.body.toString()),
      ['body 197', 'body 198', 'body 199'],
    );
    assert.ok(fs.statSync(file).size < 4096 + 200, `journal not compacted: ${fs.statSync(file).size} bytes`);
    const d = ms[199]!;
    live.set(d, KIND_DEFERRED);
    j.inFlightDone(d);
    j.deferred(d);
    j.close((visit) => visit(KIND_DEFERRED, d));
    assert.deepEqual(
      readJournal(file, MAX)!.entries.map((e) => [e.kind, e.message.body.toString()]),
      [[KIND_DEFERRED, 'body 199']],
    );
    const again = open(dir, new Map());
    again.j.close(() => {});
    assert.equal(fs.existsSync(file), false);
  });

  it('clear() removes the file and the next record starts a new one', (t) => {
    const dir = tempDir('tsnsq-journal-', t);
    const { j, batch, file } = open(dir, new Map());
    j.deferred(msg('0000000000000001', 'a', 0, 5));
    batch.flush();
    assert.ok(fs.existsSync(file));
    j.clear();
    assert.equal(fs.existsSync(file), false);
    j.deferred(msg('0000000000000002', 'b', 0, 6));
    batch.flush();
    assert.deepEqual(
      readJournal(file, MAX)!.entries.map((e) => e.message.body.toString()),
      ['b'],
    );
    j.delete();
    assert.equal(fs.existsSync(file), false);
  });

  it('a message larger than a batch gets a frame of its own, between the batches around it', (t) => {
    const dir = tempDir('tsnsq-journal-', t);
    const { j, batch, file } = open(dir, new Map());
    const big = msg('00000000000000b1', 'x'.repeat(300 * 1024), 1, 5);
    j.deferred(msg('0000000000000001', 'before', 0, 1));
    j.inFlight(big);
    j.deferred(msg('0000000000000002', 'after', 0, 2));
    batch.flush();
    assert.deepEqual(
      readJournal(file, MAX)!.entries.map((e) => [e.kind, e.message.body.length]),
      [[KIND_DEFERRED, 6], [KIND_IN_FLIGHT, 300 * 1024], [KIND_DEFERRED, 5]],
    );
    j.close((visit) => visit(KIND_IN_FLIGHT, big));
    assert.deepEqual(
      readJournal(file, MAX)!.entries.map((e) => e.message.body.length),
      [300 * 1024],
    );
  });
});
