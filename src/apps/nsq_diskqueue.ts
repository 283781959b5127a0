#!/usr/bin/env node
/**
 * nsq_diskqueue: offline checks of nsqd's disk queues (no counterpart in NSQ 1.3.0; see
 * docs/disk-format.md). `fsck` verifies every segment of a data directory, or of one topic or
 * queue, and reports per file; `dump` prints the records of one queue. Both read the original's
 * segments and the checksummed ones written with `nsqd --disk-checksums`. Run them on a data
 * directory no nsqd is using: `--repair` changes files.
 *
 * Exit status: 0 nothing damaged, 1 damage found (also when --repair cut it away), 2 bad usage.
 */
import type { FlagSpec } from '../lib/flags.js';
import { parseAppFlags, VERSION_FLAG } from './lib/app-flags.js';
import {
  badSegments,
  checkSegment,
  decodeNsqdRecord,
  escapeBytes,
  faultWord,
  listQueues,
  queueSegments,
  readQueueMeta,
  truncateDamagedTail,
  type SegmentReport,
} from '../diskqueue/inspect.js';
import type { RecordBounds } from '../diskqueue/record-format.js';

const PROGRAM = 'nsq_diskqueue';
// nsqd's record bounds: the message header (timestamp, attempts, id) plus the body.
const MESSAGE_HEADER_SIZE = 26;

const COMMON_FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'data-path', type: 'string', default: '', usage: "nsqd's --data-path (required)" },
  { name: 'max-msg-size', type: 'int', default: 1048576, usage: "nsqd's --max-msg-size: longer records are damage" },
];

const FSCK_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'topic', type: 'string', default: '', usage: 'check only this topic and its channels' },
  { name: 'queue', type: 'string', default: '', usage: 'check only this queue (<topic> or <topic>:<channel>)' },
  { name: 'repair', type: 'bool', default: false, usage: 'truncate damaged tails to the last good record (and fix the meta file)' },
];

const DUMP_FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'queue', type: 'string', default: '', usage: 'the queue to dump (<topic> or <topic>:<channel>, required)' },
  { name: 'format', type: 'string', default: 'text', usage: "'text' (bodies escaped) or 'json' (one object per line, bodies in base64)" },
];

const USAGE = `usage: ${PROGRAM} fsck --data-path=DIR [--topic=T | --queue=Q] [--repair]
       ${PROGRAM} dump --data-path=DIR --queue=Q [--format=text|json]
`;

function usageError(msg: string): never {
  process.stderr.write(`${PROGRAM}: ${msg}\n${USAGE}`);
  process.exit(2);
}

function boundsOf(v: Record<string, unknown>): RecordBounds {
  const max = v.maxMsgSize as number;
  if (!(max > 0)) usageError('--max-msg-size must be positive');
  return { minMsgSize: MESSAGE_HEADER_SIZE, maxMsgSize: max + MESSAGE_HEADER_SIZE };
}

function dataPathOf(v: Record<string, unknown>): string {
  const p = v.dataPath as string;
  if (p === '') usageError('--data-path is required');
  return p;
}

function reportLine(r: SegmentReport, cut: number): string {
  if (r.error !== undefined) return `${r.path}: unreadable - ${r.error}`;
  let line = `${r.path}: ${r.format}, ${r.records} records, ${r.badRecords} bad, ${r.bytesSkipped} bytes skipped`;
  if (r.goodEnd < r.size) line += `, damaged tail after ${r.goodEnd}`;
  if (cut > 0) line += ` - repaired: truncated ${cut} bytes`;
  return line;
}

function fsck(argv: readonly string[]): number {
  const v = parseAppFlags(`${PROGRAM} fsck`, FSCK_FLAGS, argv);
  const dataPath = dataPathOf(v);
  const bounds = boundsOf(v);
  const topic = v.topic as string;
  const queue = v.queue as string;
  if (topic !== '' && queue !== '') usageError('use --topic or --queue, not both');
  let queues = listQueues(dataPath);
  if (queue !== '') queues = queues.filter((q) => q === queue);
  else if (topic !== '') queues = queues.filter((q) => q === topic || q.startsWith(topic + ':'));
  if (queues.length === 0 && (queue !== '' || topic !== '')) {
    process.stderr.write(`${PROGRAM}: no queue ${queue || topic} in ${dataPath}\n`);
    return 1;
  }
  let segments = 0;
  let records = 0;
  let bad = 0;
  let skipped = 0;
  for (const name of queues) {
    const meta = readQueueMeta(dataPath, name);
    const where = meta === null ? 'no meta file' : `depth ${meta.depth}, read ${meta.readFileNum},${meta.readPos}, write ${meta.writeFileNum},${meta.writePos}`;
    process.stdout.write(`queue ${name} (${where})\n`);
    for (const ref of queueSegments(dataPath, name)) {
      const r = checkSegment(ref, bounds);
      const cut = v.repair === true ? truncateDamagedTail(dataPath, name, r) : 0;
      process.stdout.write(`  ${reportLine(r, cut)}\n`);
      segments++;
      records += r.records;
      bad += r.badRecords;
      skipped += r.bytesSkipped;
    }
    for (const f of badSegments(dataPath, name)) process.stdout.write(`  ${f}: set aside by nsqd as unreadable, not checked\n`);
  }
  const verdict = bad === 0 ? 'OK' : 'DAMAGED';
  process.stdout.write(`${verdict}: ${queues.length} queues, ${segments} segments, ${records} records, ${bad} bad, ${skipped} bytes skipped\n`);
  return bad === 0 ? 0 : 1;
}

function dump(argv: readonly string[]): number {
  const v = parseAppFlags(`${PROGRAM} dump`, DUMP_FLAGS, argv);
  const dataPath = dataPathOf(v);
  const bounds = boundsOf(v);
  const queue = v.queue as string;
  if (queue === '') usageError('--queue is required');
  const format = v.format as string;
  if (format !== 'text' && format !== 'json') usageError(`--format must be text or json, not ${JSON.stringify(format)}`);
  const segments = queueSegments(dataPath, queue);
  if (segments.length === 0) {
    process.stderr.write(`${PROGRAM}: no segments of queue ${queue} in ${dataPath}\n`);
    return 1;
  }
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) process.stdout.write(out.join(''));
    out.length = 0;
  };
  let bad = 0;
  for (const ref of segments) {
    let crc = 'none';
    const r = checkSegment(ref, bounds, {
      start(layout) {
        // The original's records have no checksum to verify.
        crc = layout.format === 'checksummed' ? 'ok' : 'none';
      },
      record(offset, rec) {
        const m = decodeNsqdRecord(rec);
        if (format === 'json') {
          const o = { file: ref.path, offset, length: rec.length, crc, id: m?.id, attempts: m?.attempts, timestamp: m?.timestampNs.toString(), body: (m?.body ?? rec).toString('base64') };
          out.push(JSON.stringify(o) + '\n');
        } else {
          const fields = m === null ? '' : ` id=${m.id} attempts=${m.attempts} timestamp=${m.timestampNs}`;
          out.push(`${ref.path} ${offset} length=${rec.length} crc=${crc}${fields} body=${escapeBytes(m?.body ?? rec)}\n`);
        }
        if (out.length >= 256) flush();
      },
      corrupt(offset, bytes, fault) {
        if (format === 'json') out.push(JSON.stringify({ file: ref.path, offset, damaged: bytes, reason: faultWord(fault) }) + '\n');
        else out.push(`${ref.path} ${offset} DAMAGED ${bytes} bytes (${faultWord(fault)})\n`);
      },
    });
    flush();
    if (r.error !== undefined) process.stderr.write(`${PROGRAM}: ${ref.path}: unreadable - ${r.error}\n`);
    bad += r.badRecords;
  }
  return bad === 0 ? 0 : 1;
}

function main(argv: readonly string[]): void {
  const [cmd, ...rest] = argv;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (cmd === '--version' || cmd === '-version') {
    parseAppFlags(PROGRAM, COMMON_FLAGS, ['--version']);
  }
  if (cmd === 'fsck') process.exitCode = fsck(rest);
  else if (cmd === 'dump') process.exitCode = dump(rest);
  else usageError(cmd === undefined ? 'a command is required' : `unknown command ${JSON.stringify(cmd)}`);
}

// `nsq_diskqueue dump ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2));
