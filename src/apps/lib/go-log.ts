/**
 * Go's standard `log` package output (`log.LstdFlags`: `2006/01/02 15:04:05 message`, local time),
 * which the original utilities use for their startup errors (`log.Fatal`) and status lines.
 */

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Formats one line like Go's `log.Printf` with the standard flags (no trailing newline). */
export function formatGoLogLine(msg: string, now: Date = new Date()): string {
  const stamp =
    `${now.getFullYear()}/${pad2(now.getMonth() + 1)}/${pad2(now.getDate())} ` +
    `${pad2(now.getHours())}:${pad2(now.getMinutes())}:${pad2(now.getSeconds())}`;
  return `${stamp} ${msg.endsWith('\n') ? msg.slice(0, -1) : msg}`;
}

/** `log.Printf` to stderr. */
export function goLog(msg: string): void {
  process.stderr.write(formatGoLogLine(msg) + '\n');
}

/** `log.Fatal`: print the line and exit with status 1. */
export function goFatal(msg: string): never {
  goLog(msg);
  process.exit(1);
}
