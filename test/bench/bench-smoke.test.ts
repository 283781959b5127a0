import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

/**
 * `npm run bench` end to end on a small load: it starts its own nsqd and load generator
 * processes, and every line it prints has the original bench tools' figures. No speed is
 * asserted (the machine is shared); pacing is, from below: producers offered N msgs/s cannot
 * finish sooner than messages / N.
 */
const bench = fileURLToPath(new URL('../../bench/bench.js', import.meta.url));
const run = promisify(execFile);

const LINE = /^\[(\w+)\] duration: ([\d.]+)s - [\d.]+mb\/s - ([\d.]+)ops\/s - [\d.]+us\/op(.*)$/;

interface Line {
  name: string;
  seconds: number;
  rest: string;
}

async function runBench(args: string[]): Promise<Map<string, Line>> {
  const { stdout } = await run(process.execPath, [bench, ...args], { timeout: 120_000 });
  const lines = new Map<string, Line>();
  for (const l of stdout.split('\n')) {
    const m = LINE.exec(l);
    if (m) lines.set(m[1]!, { name: m[1]!, seconds: Number(m[2]), rest: m[4]! });
  }
  return lines;
}

describe('npm run bench', () => {
  it('publishes then drains a topic with FIN-per-message consumers and reports nsqd cost', async () => {
    const lines = await runBench(['--phases=pub,sub', '--messages=20000']);
    assert.match(lines.get('bench_writer')?.rest ?? '', /mpub p50: [\d.]+ms p99: [\d.]+ms - nsqd cpu: [\d.]+us\/msg rss peak: \d+MiB/);
    assert.match(lines.get('bench_reader')?.rest ?? '', /fin: each - nsqd cpu: [\d.]+us\/msg rss peak: \d+MiB syscalls: [\d.]+ reads/);
  });

  it('--rate paces the pubsub producers and reports end-to-end latency', async () => {
    // 8000 messages offered at 16000 msgs/s: at least half a second, however fast the machine.
    const lines = await runBench(['--phases=pubsub', '--messages=8000', '--rate=16000', '--fin=bufio']);
    const w = lines.get('pubsub_writer');
    const r = lines.get('pubsub_reader');
    assert.ok(w && r, 'both pubsub lines printed');
    assert.match(w.rest, /offered: 16000 msgs\/s/);
    assert.ok(w.seconds >= 0.45, `paced producers took ${w.seconds}s`);
    assert.match(r.rest, /e2e p50: [\d.]+ms p99: [\d.]+ms/);
  });
});
