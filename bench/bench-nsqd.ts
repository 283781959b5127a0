/**
 * The nsqd a benchmark runs against: a process of its own on ephemeral ports, read from its
 * info-level log (a port picked beforehand could be taken by another process before nsqd binds
 * it, and the bench would then talk to that one), with a temp data directory. Once it listens,
 * only its warnings and errors reach our stderr.
 *
 * BENCH_NSQD: another build's nsqd.js, to compare servers under the same load generators;
 * BENCH_NODE_ARGS: node flags for nsqd (`--cpu-prof --cpu-prof-dir=/tmp/prof`);
 * BENCH_NSQD_ARGS: more nsqd flags.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const nsqdPath = process.env.BENCH_NSQD ?? fileURLToPath(new URL('../src/apps/nsqd.js', import.meta.url));

/** A bench nsqd: its process, TCP port, HTTP port (0 without HTTP) and temp data dir. */
export interface Nsqd {
  proc: ChildProcess;
  port: number;
  httpPort: number;
  dir: string;
}

const envList = (name: string) => (process.env[name] ?? '').split(' ').filter((a) => a !== '');

/** The log lines worth showing while a bench runs. */
const WORTH_SHOWING = / (WARNING|ERROR|FATAL): /;

/**
 * Starts nsqd with `extra` flags (HTTP only with `http`); resolves once it listens. `showErrors`
 * false keeps its errors to itself (a probe that sends bad input on purpose).
 */
export function startNsqd(extra: string[], http = false, showErrors = true): Promise<Nsqd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-bench-'));
  const httpAddr = http ? '127.0.0.1:0' : '';
  const args = [
    ...envList('BENCH_NODE_ARGS'),
    nsqdPath,
    '--tcp-address=127.0.0.1:0',
    `--http-address=${httpAddr}`,
    `--data-path=${dir}`,
    '--log-level=info',
    ...extra,
    ...envList('BENCH_NSQD_ARGS'),
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let partial = '';
    let port = 0;
    let httpPort = 0;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        port ||= Number(/TCP: listening on \S*:(\d+)/.exec(line)?.[1] ?? 0);
        httpPort ||= Number(/HTTP: listening on \S*:(\d+)/.exec(line)?.[1] ?? 0);
        if (showErrors && WORTH_SHOWING.test(line)) process.stderr.write(`${line}\n`);
      }
      if (port !== 0 && (!http || httpPort !== 0)) resolve({ proc, port, httpPort, dir });
    });
    proc.once('exit', (code) => reject(new Error(`nsqd exited (${code}) before listening`)));
  });
}

/** Stops a bench nsqd (SIGTERM: a graceful exit) and removes its data dir. */
export function stopNsqd(n: Nsqd): Promise<void> {
  return new Promise((resolve) => {
    n.proc.removeAllListeners('exit');
    n.proc.once('exit', () => {
      fs.rmSync(n.dir, { recursive: true, force: true });
      resolve();
    });
    n.proc.kill('SIGTERM');
  });
}
