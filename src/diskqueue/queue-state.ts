/**
 * The state that every part of one disk queue shares: its fixed parameters, the five positions
 * persisted in the meta file (go-diskqueue `diskqueue.go` persistMetaData/retrieveMetaData), where
 * the reader goes once the peeked record is taken (`readOne`/`moveForward`), and the sync
 * bookkeeping (`sync`). The writer, the reader, the tail check and the sync each move some of
 * these numbers; they all run on the caller's event loop one operation at a time, so the fields
 * are plain public ones on purpose.
 */

import type { CorruptionTally } from './corruption-tally.js';
import { segmentFileName, metaFileName } from './files.js';
import type { DiskQueueMeta } from './files.js';
import type { SegmentFormat } from './record-format.js';

/** Where the queue sends its log lines (the nsqd logger satisfies this). */
export interface DiskQueueLogger {
  debug(m: string): void;
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

/** The fixed parameters of a queue's state (validated by DiskQueue). */
export interface QueueStateParams {
  name: string;
  dataPath: string;
  maxBytesPerFile: number;
  minMsgSize: number;
  maxMsgSize: number;
  log: DiskQueueLogger;
  /** The record format of new segments (`checksummed` with --disk-checksums). */
  writeFormat: SegmentFormat;
  /** Where damaged bytes skipped are counted, beside the queue's own counter. */
  tally: CorruptionTally | null;
}

/** Positions, counters and parameters of one disk queue, shared by its parts. */
export class QueueState {
  readonly name: string;
  readonly dataPath: string;
  readonly maxBytesPerFile: number;
  readonly minMsgSize: number;
  readonly maxMsgSize: number;
  readonly log: DiskQueueLogger;
  readonly writeFormat: SegmentFormat;
  readonly tally: CorruptionTally | null;
  /** `DISKQUEUE(<name>)`, the start of every log line. */
  readonly prefix: string;
  readonly metaPath: string;

  // Persisted state (go-diskqueue persistMetaData).
  depth = 0;
  readFileNum = 0;
  readPos = 0;
  writeFileNum = 0;
  writePos = 0;

  // Where the reader goes once the peeked record is taken (go-diskqueue readOne, moveForward).
  nextReadFileNum = 0;
  nextReadPos = 0;
  // End of the segment being read: its real size when complete, else maxBytesPerFile; the writer
  // lowers it to writePos when it rolls over underneath the reader.
  maxBytesPerFileRead: number;

  needSync = false;
  // Writes plus reads since the last sync (go-diskqueue sync, ioLoop's count).
  count = 0;
  status: 'open' | 'closed' = 'open';
  // Damaged bytes skipped (checksummed segments) since the queue was opened.
  corruptBytesSkipped = 0;

  constructor(p: QueueStateParams) {
    this.name = p.name;
    this.dataPath = p.dataPath;
    this.maxBytesPerFile = p.maxBytesPerFile;
    this.minMsgSize = p.minMsgSize;
    this.maxMsgSize = p.maxMsgSize;
    this.log = p.log;
    this.writeFormat = p.writeFormat;
    this.tally = p.tally;
    this.prefix = `DISKQUEUE(${p.name})`;
    this.metaPath = metaFileName(p.dataPath, p.name);
    this.maxBytesPerFileRead = p.maxBytesPerFile;
  }

  /** The current positions and depth (what the next sync would persist). */
  metadata(): DiskQueueMeta {
    return {
      depth: this.depth,
      readFileNum: this.readFileNum,
      readPos: this.readPos,
      writeFileNum: this.writeFileNum,
      writePos: this.writePos,
    };
  }

  /** Counts `bytes` damaged bytes skipped or truncated away. */
  countSkipped(bytes: number): void {
    this.corruptBytesSkipped += bytes;
    this.tally?.add(this.name, bytes);
  }

  /** The segment file of `fileNum` (go-diskqueue fileName). */
  fileName(fileNum: number): string {
    return segmentFileName(this.dataPath, this.name, fileNum);
  }
}
