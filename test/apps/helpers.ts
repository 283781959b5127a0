import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChannelStatsJson } from '../../src/nsqd/stats.js';
import { request } from '../helpers/http.js';
import { channelStats, nsqdStats } from '../helpers/raw-client.js';

/**
 * Running the compiled utilities as real processes: `runTool` waits for exit, `spawnTool` keeps a
 * long-running one with live stdout/stderr and a SIGTERM-and-wait `stop()`.
 */
const appsDir = fileURLToPath(new URL('../../src/apps/', import.meta.url));

/** A finished utility run. */
export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running utility. */
export interface RunningTool {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit result. */
  stop(signal?: NodeJS.Signals): Promise<ToolResult>;
  exited: Promise<ToolResult>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Kills every tool still running (for afterEach: a failed test must not leave one behind). */
export async function killTools(): Promise<void> {
  const waits = [...running].map((p) => new Promise<void>((r) => {
    p.once('close', () => r());
    p.kill('SIGKILL');
  }));
  await Promise.all(waits);
}

/** How to run a utility. */
export interface ToolOptions {
  /** Written to stdin, which is then closed; `true` leaves stdin open for the test to write. */
  stdin?: string | Buffer | true;
  /** runTool only: killed after this long (default 20000). */
  timeoutMs?: number;
}

/** Starts `dist/src/apps/<app>.js` with `args`. */
export function spawnTool(app: string, args: string[], opts: ToolOptions = {}): RunningTool {
  const proc = spawn(process.execPath, [path.join(appsDir, `${app}.js`), ...args], { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  running.add(proc);
  if (opts.stdin !== undefined) {
    // A tool that fails its flag checks exits without reading: EPIPE is expected then.
    proc.stdin!.on('error', () => {});
    if (opts.stdin !== true) proc.stdin!.end(opts.stdin);
  }
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<ToolResult>((resolve) =>
    proc.once('close', (code) => {
      running.delete(proc);
      resolve({ code, stdout: out, stderr: err });
    }),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs a utility to completion (killed after `timeoutMs`). */
export async function runTool(app: string, args: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const t = spawnTool(app, args, opts);
  const timer = setTimeout(() => t.proc.kill('SIGKILL'), opts.timeoutMs ?? 20000);
  const r = await t.exited;
  clearTimeout(timer);
  return r;
}

/** Publishes bodies through nsqd's HTTP /mpub (one body per line) or /pub for one. */
export async function httpPublish(httpPort: number, topic: string, bodies: string[]): Promise<void> {
  const res =
    bodies.length === 1
      ? await request(httpPort, 'POST', `/pub?topic=${encodeURIComponent(topic)}`, { body: bodies[0] })
      : await request(httpPort, 'POST', `/mpub?topic=${encodeURIComponent(topic)}`, { body: bodies.join('\n') });
  if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.text}`);
}

/** The named channel's stats from nsqd /stats now (undefined until it exists). */
export async function channelNow(httpPort: number, topic: string, channel: string): Promise<ChannelStatsJson | undefined> {
  return channelStats(await nsqdStats(httpPort, topic), topic, channel);
}
