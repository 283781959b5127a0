#!/usr/bin/env node
/**
 * bench_writer (upstream `bench/bench_writer/bench_writer.go`) on the client library: each
 * connection is a Producer that MPUBs `--batch-size` messages of `--size` bytes, waits for the
 * OK and sends the next batch, for `--runfor`; then prints the original's result line.
 * `--deadline` starts several processes' runs at the same moment; SIGINT ends the run early and
 * still prints what was measured.
 */
import type { FlagSpec } from '../src/lib/flags.js';
import { Producer } from '../src/client/index.js';
import { onStopSignals, parseAppFlags } from '../src/apps/lib/app-flags.js';
import { COMMON_FLAGS, type CommonArgs, benchLog, parseDeadline, resultLine, sleepUntilDeadline } from './bench-tool.js';

const TOOL = 'bench_writer';

const FLAGS: readonly FlagSpec[] = [...COMMON_FLAGS, { name: 'batch-size', type: 'int', default: 200, usage: 'batch size of messages' }];

interface WriterArgs extends CommonArgs {
  batchSize: number;
}

async function main(): Promise<void> {
  const a = parseAppFlags(TOOL, FLAGS, process.argv.slice(2)) as unknown as WriterArgs;
  if (a.deadline !== '') parseDeadline(a.deadline); // a bad one fails before connecting
  // One body shared by every slot of the batch, as the original's `batch[i] = msg`.
  const msg = Buffer.alloc(a.size);
  const batch: Buffer[] = new Array<Buffer>(a.batchSize).fill(msg);
  const producers = Array.from({ length: a.connections }, () => new Producer(a.tcpAddress, { clientId: 'writer', hostname: 'writer', userAgent: `${TOOL}/1.3.0` }));
  await Promise.all(producers.map((p) => p.connect()));

  let stopped = false;
  onStopSignals(() => (stopped = true));
  await sleepUntilDeadline(TOOL, a.deadline);

  let total = 0;
  const start = performance.now();
  const endTime = start + a.runfor;
  await Promise.all(
    producers.map(async (p) => {
      let count = 0;
      do {
        await p.mpublish(a.topic, batch);
        count += batch.length;
      } while (!stopped && performance.now() < endTime);
      total += count;
    }),
  );
  const duration = performance.now() - start;
  benchLog(TOOL, resultLine(duration, total, a.size));
  await Promise.all(producers.map((p) => p.close()));
}

main().catch((err: unknown) => {
  benchLog(TOOL, `${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
