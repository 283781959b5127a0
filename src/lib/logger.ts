/**
 * NSQ-format leveled logging (the original's `internal/lg` over Go's `log` package):
 * `<prefix><YYYY/MM/DD HH:MM:SS.micro> <LEVEL>: <text>` on stderr, local time.
 */

/** A log verbosity; messages below the logger's level are dropped. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const LEVEL_NUMBER: Readonly<Record<LogLevel, number>> = { debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };
const LEVEL_WORD: Readonly<Record<LogLevel, string>> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'FATAL',
};

/** Parses a level name case-insensitively (`warning` is accepted as an alias of `warn`). */
export function parseLogLevel(s: string): LogLevel | undefined {
  const l = s.toLowerCase();
  switch (l) {
    case 'debug':
    case 'info':
    case 'warn':
    case 'error':
    case 'fatal':
      return l;
    case 'warning':
      return 'warn';
    default:
      return undefined;
  }
}

/** The numeric level the original exposes (GET /config/log_level): debug=1 … fatal=5. */
export function logLevelNumber(l: LogLevel): number {
  return LEVEL_NUMBER[l];
}

/** The level for a numeric value 1..5 (inverse of logLevelNumber). */
export function logLevelFromNumber(n: number): LogLevel | undefined {
  for (const [k, v] of Object.entries(LEVEL_NUMBER)) if (v === n) return k as LogLevel;
  return undefined;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * Formats a wall-clock time like Go's `log.Ldate|log.Ltime|log.Lmicroseconds`.
 * Date only has millisecond resolution, so the sub-millisecond digits come from the
 * monotonic clock; they keep lines within one millisecond distinguishable.
 */
export function formatLogTime(epochMs: number, subMsMicros = 0): string {
  const d = new Date(epochMs);
  const micros = (epochMs % 1000) * 1000 + subMsMicros;
  return (
    `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.` +
    String(micros).padStart(6, '0')
  );
}

function defaultWrite(line: string): void {
  process.stderr.write(line + '\n');
}

/**
 * A leveled logger writing one NSQ-format line per message. `level` may be changed at runtime
 * (PUT /config/log_level). `write` receives each line without its trailing newline.
 * `fatal` only logs; deciding to exit is the caller's job.
 */
export class Logger {
  level: LogLevel;
  readonly prefix: string;
  #write: (line: string) => void;

  constructor(prefix: string, level: LogLevel = 'info', write: (line: string) => void = defaultWrite) {
    this.prefix = prefix;
    this.level = level;
    this.#write = write;
  }

  /** True when a message at `level` would be written; lets callers skip building costly text. */
  enabled(level: LogLevel): boolean {
    return LEVEL_NUMBER[level] >= LEVEL_NUMBER[this.level];
  }

  /** Writes `msg` at `level` if enabled. */
  log(level: LogLevel, msg: string): void {
    if (LEVEL_NUMBER[level] < LEVEL_NUMBER[this.level]) return;
    // One clock for both parts, so timestamps never go backwards within a millisecond.
    const t = performance.timeOrigin + performance.now();
    const now = Math.floor(t);
    const subMs = Math.min(999, Math.floor((t - now) * 1000));
    // Go's log adds the newline only if missing.
    const text = msg.endsWith('\n') ? msg.slice(0, -1) : msg;
    this.#write(`${this.prefix}${formatLogTime(now, subMs)} ${LEVEL_WORD[level]}: ${text}`);
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  info(msg: string): void {
    this.log('info', msg);
  }
  warn(msg: string): void {
    this.log('warn', msg);
  }
  error(msg: string): void {
    this.log('error', msg);
  }
  fatal(msg: string): void {
    this.log('fatal', msg);
  }
}
