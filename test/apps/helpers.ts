import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../nsqd/http-helpers.js';

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

/** Starts `dist/src/apps/<app>.js` with `args`. */
export function spawnTool(app: string, args: string[]): RunningTool {
  const proc = spawn(process.execPath, [path.join(appsDir, `${app}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
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
export async function runTool(app: string, args: string[], timeoutMs = 20000): Promise<ToolResult> {
  const t = spawnTool(app, args);
  const timer = setTimeout(() => t.proc.kill('SIGKILL'), timeoutMs);
  const r = await t.exited;
  clearTimeout(timer);
  return r;
}

/** Polls `cond` every 50 ms until it is true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Publishes bodies through nsqd's HTTP /mpub (one body per line) or /pub for one. */
export async function httpPublish(httpPort: number, topic: string, bodies: string[]): Promise<void> {
  const res =
    bodies.length === 1
      ? await request(httpPort, 'POST', `/pub?topic=${encodeURIComponent(topic)}`, { body: bodies[0] })
      : await request(httpPort, 'POST', `/mpub?topic=${encodeURIComponent(topic)}`, { body: bodies.join('\n') });
  if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.text}`);
}

/** The named channel's stats object from nsqd /stats (undefined if absent). */
export async function channelStats(httpPort: number, topic: string, channel: string): Promise<Record<string, number> | undefined> {
  const res = await request(httpPort, 'GET', `/stats?format=json&topic=${encodeURIComponent(topic)}`);
  const stats = JSON.parse(res.text) as { topics: Array<{ topic_name: string; channels: Array<Record<string, unknown>> }> | null };
  const t = (stats.topics ?? []).find((x) => x.topic_name === topic);
  return t?.channels.find((c) => c.channel_name === channel) as Record<string, number> | undefined;
}
