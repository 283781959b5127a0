import type * as net from 'node:net';
import * as fs from 'node:fs';

/** Where accept failures are reported (nsqd's logger). */
export interface AcceptLog {
  warn(m: string): void;
}

/** At most one log line per listener per this many ms while accepts keep failing. */
export const ACCEPT_ERROR_LOG_INTERVAL_MS = 1000;

/**
 * Keeps a listener alive through accept failures. When descriptors run out, libuv accepts and
 * drops the pending connections (so the backlog does not spin) and reports each one as an
 * `error` event: unhandled, that kills the daemon; logged per event, it floods the log. The
 * original logs `temporary Accept() failure` and keeps accepting (internal/protocol
 * tcp_server.go); here the line is written once per interval, with the number of failures
 * since the previous line, and accepting resumes by itself once descriptors free up.
 */
export function watchAcceptErrors(server: net.Server, proto: string, log: AcceptLog, intervalMs = ACCEPT_ERROR_LOG_INTERVAL_MS): void {
  let lastLog = -Infinity;
  let suppressed = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    // Listen errors are reported by the listen call itself.
    if (err.syscall !== 'accept') return;
    const now = Date.now();
    if (now - lastLog < intervalMs) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} more since the last report)` : '';
    log.warn(`${proto}: temporary Accept() failure - ${err.message}${more}; free file descriptors or raise the limit (ulimit -n)`);
    lastLog = now;
    suppressed = 0;
  });
}

/** The soft RLIMIT_NOFILE from /proc/self/limits, or null where that is not available. */
function softFdLimit(text: string): number | null {
  const m = /^Max open files\s+(\d+)/m.exec(text);
  return m === null ? null : Number(m[1]);
}

/**
 * Reports running out of descriptors, which libuv otherwise handles silently: at the limit it
 * accepts and immediately closes pending connections (its EMFILE trick), so no accept error
 * ever reaches the daemon and refused clients would leave no trace in the log. Once per
 * interval, off the event loop, the descriptors in use are compared with the soft limit (both
 * read from /proc, so a limit changed at run time counts); at the limit one line is logged per
 * interval. Linux only: elsewhere it stops at its first check. Returns a stop function.
 */
export function watchDescriptorLimit(proto: string, log: AcceptLog, intervalMs = ACCEPT_ERROR_LOG_INTERVAL_MS): () => void {
  let busy = false;
  let limit: number | null = null;
  const full = (e: unknown) => (e as NodeJS.ErrnoException).code === 'EMFILE';
  /** Whether the process is at its limit; throws where /proc is not available. */
  const atLimit = async (): Promise<boolean> => {
    try {
      limit = softFdLimit(await fs.promises.readFile('/proc/self/limits', 'utf8')) ?? limit;
    } catch (e) {
      if (full(e)) return true; // opening the file needed one descriptor more than there is
      throw e;
    }
    if (limit === null) throw new Error('no descriptor limit');
    try {
      // Minus the descriptor this readdir holds itself.
      return (await fs.promises.readdir('/proc/self/fd')).length - 1 >= limit - 1;
    } catch (e) {
      if (full(e)) return true;
      throw e;
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    atLimit().then(
      (yes) => {
        busy = false;
        if (!yes) return;
        log.warn(
          `${proto}: temporary Accept() failure - too many open files (limit ${limit}), new connections are refused; free descriptors or raise the limit (ulimit -n)`,
        );
      },
      () => clearInterval(timer),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
