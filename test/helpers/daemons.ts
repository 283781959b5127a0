import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real daemons for tests (style lesson 8): start a compiled binary on 127.0.0.1 with ephemeral
 * ports and a temp data dir, learn the bound addresses from its log, stop/kill/restart it.
 */
const appsDir = fileURLToPath(new URL('../../src/apps/', import.meta.url));

export interface Daemon {
  proc: ChildProcess;
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
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export function tempDir(prefix = 'tsnsq-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function portFrom(logs: string, kind: string): number {
  const m = new RegExp(`${kind}: listening on [^\\n]*:(\\d+)`).exec(logs);
  return m ? Number(m[1]) : 0;
}

export async function startApp(
  app: string,
  args: string[],
  opts: { dataPath?: string; wait?: string[]; timeoutMs?: number } = {},
): Promise<Daemon> {
  const proc = spawn(process.execPath, [path.join(appsDir, `${app}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let logs = '';
  proc.stdout!.on('data', (d) => (logs += d));
  proc.stderr!.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    running.delete(proc);
    resolve(code);
  }));
  const wait = opts.wait ?? ['TCP', 'HTTP'];
  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  while (!wait.every((k) => portFrom(logs, k) > 0)) {
    if (proc.exitCode !== null) throw new Error(`${app} exited early (${proc.exitCode}):\n${logs}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${app} did not start:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc,
    tcpPort: portFrom(logs, 'TCP'),
    httpPort: portFrom(logs, 'HTTP'),
    httpsPort: portFrom(logs, 'HTTPS'),
    dataPath: opts.dataPath ?? '',
    args,
    logs: () => logs,
    stop: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
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
