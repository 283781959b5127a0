#!/usr/bin/env node
/**
 * bench_reader (upstream `bench/bench_reader/bench_reader.go`) on the client library: each
 * connection is a Consumer of `--topic`/`--channel` with max-in-flight `--rdy` that FINishes
 * every message as it handles it, as a real client does. Subscribes first, opens RDY at the start
 * of the run (after `--deadline`), counts messages for `--runfor` and prints the original's result
 * line. SIGINT ends the run early and still prints what was measured (bench.ts stops the readers
 * when the channel is drained).
 */
import type { FlagSpec } from '../src/lib/flags.js';
import { Consumer, type Message } from '../src/client/index.js';
import { onStopSignals, parseAppFlags } from '../src/apps/lib/app-flags.js';
import { COMMON_FLAGS, type CommonArgs, benchLog, parseDeadline, resultLine, sleepUntilDeadline } from './bench-tool.js';

const TOOL = 'bench_reader';

const FLAGS: readonly FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'channel', type: 'string', default: 'ch', usage: 'channel to receive messages on' },
  { name: 'rdy', type: 'int', default: 2500, usage: 'RDY count to use' },
];

interface ReaderArgs extends CommonArgs {
  channel: string;
  rdy: number;
}

async function main(): Promise<void> {
  const a = parseAppFlags(TOOL, FLAGS, process.argv.slice(2)) as unknown as ReaderArgs;
  if (a.deadline !== '') parseDeadline(a.deadline); // a bad one fails before connecting
  let counting = false;
  let count = 0;
  const onMessage = (m: Message) => {
    if (counting) count++;
    m.finish();
  };
  // One Consumer per connection: one Consumer holds one connection per nsqd, and the original
  // gives every connection the full RDY.
  const consumers = Array.from({ length: a.connections }, () => {
    const c = new Consumer(a.topic, a.channel, { nsqdTcpAddresses: [a.tcpAddress], maxInFlight: 0, clientId: 'test', hostname: 'test', userAgent: `${TOOL}/1.3.0` });
    c.on('message', onMessage);
    return c;
  });
  await Promise.all(consumers.map((c) => c.connect()));

  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  onStopSignals(() => stop());
  await sleepUntilDeadline(TOOL, a.deadline);

  const start = performance.now();
  counting = true;
  for (const c of consumers) c.changeMaxInFlight(a.rdy);
  const timer = setTimeout(stop, a.runfor);
  await stopped;
  counting = false;
  const duration = performance.now() - start;
  clearTimeout(timer);
  benchLog(TOOL, resultLine(duration, count, a.size));
  await Promise.all(consumers.map((c) => c.close()));
}

main().catch((err: unknown) => {
  benchLog(TOOL, `${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
