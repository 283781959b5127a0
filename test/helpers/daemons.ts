import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.js';

/**
 * Real daemons for tests: start a compiled binary on 127.0.0.1 with ephemeral ports and a temp
 * data dir, learn the bound addresses from its log, stop/kill/restart it. Every process still
 * running and every temp dir made here is removed when the test process exits.
 */
const appsDir = fileURLToPath(new URL('../../src/apps/', import.meta.url));

/** A running daemon (or one that has exited) with its combined stdout+stderr. */
export interface Daemon {
  proc: ChildProcess;
  /** Ports from the "listening on" log lines; 0 when the daemon did not log one. */
  tcpPort: number;
  httpPort: number;
  httpsPort: number;
  dataPath: string;
  args: string[];
  logs(): string;
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Stops it gracefully and starts the same binary with the same arguments (new ports). */
  restart(): Promise<Daemon>;
}

/** How to start a daemon and when it counts as started. */
export interface StartOptions {
  dataPath?: string;
  /** Started once these listeners have logged their port (default TCP and HTTP). */
  wait?: string[];
  /** Started once this holds instead (for Unix sockets or log levels that hide the ports). */
  ready?: (logs: string) => boolean | Promise<boolean>;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

/**
 * A fresh directory under the OS temp dir. Removed after the test when `t` is given, and in any
 * case when the test process exits.
 */
export function tempDir(prefix = 'tsnsq-', t?: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  t?.after(() => {
    // A daemon of the test may still be writing here (its stop hook can run after this one):
    // whatever cannot be removed now goes when the process exits.
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {}
  });
  return dir;
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

function portFrom(logs: string, kind: string): number {
  const m = new RegExp(`${kind}: listening on [^\\n]*:(\\d+)`).exec(logs);
  return m ? Number(m[1]) : 0;
}

/** Starts `src/apps/<app>.js` with `args`; fails with the logs if it exits first or times out. */
export async function startApp(app: string, args: string[], opts: StartOptions = {}): Promise<Daemon> {
  const proc = spawn(process.execPath, [path.join(appsDir, `${app}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let logs = '';
  proc.stdout!.on('data', (d) => {
    logs += d;
  });
  proc.stderr!.on('data', (d) => {
    logs += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      running.delete(proc);
      resolve(code);
    }),
  );
  const wait = opts.wait ?? ['TCP', 'HTTP'];
  const ready = opts.ready ?? ((text: string) => wait.every((k) => portFrom(text, k) > 0));
  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${app} exited early (${proc.exitCode}):\n${logs}`);
    if (await ready(logs)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${app} did not start:\n${logs}`);
    }
    await sleep(20);
  }
  const stop = (): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    return exited;
  };
  return {
    proc,
    tcpPort: portFrom(logs, 'TCP'),
    httpPort: portFrom(logs, 'HTTP'),
    httpsPort: portFrom(logs, 'HTTPS'),
    dataPath: opts.dataPath ?? '',
    args,
    logs: () => logs,
    stop,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      await stop();
      return startApp(app, args, opts);
    },
  };
}

/** nsqd on 127.0.0.1:0 with a fresh (or given) data dir. */
export async function startNsqd(extra: string[] = [], dataPath = tempDir('tsnsq-nsqd-')): Promise<Daemon> {
  const args = ['--tcp-address=127.0.0.1:0', '--http-address=127.0.0.1:0', `--data-path=${dataPath}`, '--broadcast-address=127.0.0.1', ...extra];
  const wait = ['TCP', 'HTTP'];
  if (extra.some((a) => a.startsWith('--tls-cert'))) wait.push('HTTPS');
  return startApp('nsqd', args, { dataPath, wait });
}

/** nsqlookupd on 127.0.0.1:0. */
export async function startNsqlookupd(extra: string[] = []): Promise<Daemon> {
  return startApp('nsqlookupd', ['--tcp-address=127.0.0.1:0', '--http-address=127.0.0.1:0', '--broadcast-address=127.0.0.1', ...extra]);
}

/**
 * Stops `d` (SIGTERM, graceful) and starts the same nsqd again on the same TCP and HTTP ports and
 * data dir, as an operator restart looks to clients that reconnect to a fixed address.
 */
export async function restartNsqd(d: Daemon): Promise<Daemon> {
  await d.stop();
  const args = d.args.map((a) =>
    a.startsWith('--tcp-address=') ? `--tcp-address=127.0.0.1:${d.tcpPort}` : a.startsWith('--http-address=') ? `--http-address=127.0.0.1:${d.httpPort}` : a,
  );
  const wait = ['TCP', 'HTTP'];
  if (args.some((a) => a.startsWith('--tls-cert'))) wait.push('HTTPS');
  return startApp('nsqd', args, { dataPath: d.dataPath, wait });
}
