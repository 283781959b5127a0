import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.js';

/**
 * Helpers of the conformance-audit tests (test/nsqd/audit-*.test.ts): daemons whose addresses are
 * Unix sockets or whose log level hides the "listening on" lines the shared helper waits for,
 * HTTP and V2 connections over Unix sockets, and log-line assertions.
 */
const appsDir = fileURLToPath(new URL('../../src/apps/', import.meta.url));

/** A spawned daemon with its combined stdout+stderr. */
export interface Spawned {
  proc: ChildProcess;
  logs(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Starts `src/apps/<app>.js` with `args` and resolves once `ready()` holds (polled every 20 ms);
 * fails with the logs if the process exits first or `timeoutMs` passes.
 */
export async function spawnApp(app: string, args: string[], ready: (logs: string) => boolean | Promise<boolean>, timeoutMs = 10000): Promise<Spawned> {
  const proc = spawn(process.execPath, [path.join(appsDir, `${app}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let logs = '';
  proc.stdout!.on('data', (d) => (logs += d));
  proc.stderr!.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      running.delete(proc);
      resolve(code);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${app} exited early (${proc.exitCode}):\n${logs}`);
    if (await ready(logs)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${app} did not become ready:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc,
    logs: () => logs,
    stop: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** One HTTP request over a Unix socket. */
export function unixRequest(socketPath: string, method: string, urlPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** True once an HTTP server answers /ping on `socketPath`. */
export async function unixPingOk(socketPath: string): Promise<boolean> {
  try {
    return (await unixRequest(socketPath, 'GET', '/ping')).status === 200;
  } catch {
    return false;
  }
}

/** A raw V2 connection over a Unix socket (magic sent). */
export function connectUnix(socketPath: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath, () => {
      sock.off('error', reject);
      // RawClient's constructor is private to steer tests to TCP; the socket type does not matter to it.
      const c = new (RawClient as unknown as new (s: net.Socket) => RawClient)(sock);
      sock.write('  V2');
      resolve(c);
    });
    sock.once('error', reject);
  });
}

/** A TCP port that was free a moment ago (for daemons whose logs will not tell their port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The text of every log line after `<prefix><date> <time> ` (e.g. `INFO: TCP: new client(…)`). */
export function logTexts(logs: string, prefix = '[nsqd] '): string[] {
  const out: string[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} (.*)$/.exec(line.slice(prefix.length));
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Asserts that `expected` lines appear in `lines` in this order (other lines may sit between). */
export function inOrder(lines: readonly string[], expected: readonly (string | RegExp)[]): string | null {
  let i = 0;
  for (const e of expected) {
    while (i < lines.length && !(typeof e === 'string' ? lines[i] === e : e.test(lines[i]!))) i++;
    if (i === lines.length) return `missing (in order): ${String(e)}`;
    i++;
  }
  return null;
}
