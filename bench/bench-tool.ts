/**
 * What bench_writer and bench_reader share (upstream `bench/bench_writer/bench_writer.go`,
 * `bench/bench_reader/bench_reader.go`): the common flags, the `--deadline` that lets several
 * processes start their run at the same moment, and the one result line both print.
 */
import type { FlagSpec } from '../src/lib/flags.js';
import { formatDuration, parseDuration } from '../src/lib/duration.js';
import { formatGoLogLine } from '../src/apps/lib/go-log.js';

/** Layout of `--deadline`, Go's reference time `2006-01-02 15:04:05` (read as UTC, as Go's `time.Parse` does). */
const DEADLINE_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Flags of both tools, with the original's names and defaults. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: 'runfor', type: 'duration', default: 10_000, usage: 'duration of time to run' },
  { name: 'nsqd-tcp-address', type: 'string', default: '127.0.0.1:4150', usage: '<addr>:<port> to connect to nsqd', field: 'tcpAddress' },
  { name: 'tcp-address', type: 'string', default: '127.0.0.1:4150', usage: 'the same as --nsqd-tcp-address', field: 'tcpAddress', defaultText: '' },
  { name: 'topic', type: 'string', default: 'sub_bench', usage: 'topic to receive messages on' },
  { name: 'size', type: 'int', default: 200, usage: 'size of messages' },
  { name: 'deadline', type: 'string', default: '', usage: 'deadline to start the benchmark run (UTC, "2006-01-02 15:04:05")' },
  // The original runs GOMAXPROCS connections in one process; a Node process is one thread, so
  // the default is one and more cores take more processes started with the same --deadline.
  { name: 'connections', type: 'int', default: 1, usage: 'connections to nsqd, driven by this one process' },
];

/** The values of COMMON_FLAGS. */
export interface CommonArgs {
  runfor: number;
  tcpAddress: string;
  topic: string;
  size: number;
  deadline: string;
  connections: number;
}

/** Parses `--deadline` into epoch ms, or throws Go's error text. */
export function parseDeadline(s: string): number {
  const m = DEADLINE_RE.exec(s);
  if (m === null) throw new Error(`parsing time ${JSON.stringify(s)} as "2006-01-02 15:04:05": cannot parse ${JSON.stringify(s)} as "2006"`);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, se);
}

/** `--deadline`'s text for a moment (epoch ms, whole seconds). */
export function formatDeadline(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Logs like Go's `log` with `log.SetPrefix("[<tool>] ")`, to stderr as the original does. */
export function benchLog(tool: string, msg: string): void {
  process.stderr.write(`[${tool}] ${formatGoLogLine(msg)}\n`);
}

/** Waits for `--deadline` when one is given, logging the wait as the original does. */
export async function sleepUntilDeadline(tool: string, deadline: string): Promise<void> {
  if (deadline === '') return;
  const t = parseDeadline(deadline);
  const wait = t - Date.now();
  benchLog(tool, `sleeping until ${deadline} +0000 UTC (${formatDuration(wait)})`);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/**
 * The original's result line: `duration: <Go duration> - <MB/s>mb/s - <ops/s>ops/s - <µs/op>us/op`
 * (µs/op from whole microseconds, as Go's `duration/time.Microsecond`).
 */
export function resultLine(durationMs: number, count: number, size: number): string {
  const seconds = durationMs / 1000;
  return (
    `duration: ${formatDuration(durationMs)} - ${((count * size) / seconds / 1024 / 1024).toFixed(3)}mb/s - ` +
    `${(count / seconds).toFixed(3)}ops/s - ${(Math.floor(durationMs * 1000) / count).toFixed(3)}us/op`
  );
}

/** What a result line says, for a coordinator that runs the tools (bench.ts). */
export interface ParsedResult {
  seconds: number;
  opsPerSecond: number;
}

/** Reads `duration: ... - ...ops/s` back from a tool's output (the Go duration as seconds). */
export function parseResultLine(line: string): ParsedResult | null {
  const m = /duration: (\S+) - [\d.]+mb\/s - ([\d.]+|NaN|Infinity)ops\/s/.exec(line);
  if (m === null) return null;
  try {
    return { seconds: parseDuration(m[1]!) / 1000, opsPerSecond: Number(m[2]) };
  } catch {
    return null;
  }
}
