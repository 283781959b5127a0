#!/usr/bin/env node
/**
 * to_nsq: reads stdin, splits it on a one-byte delimiter and publishes every non-empty piece to
 * the topic on every given nsqd (upstream `apps/to_nsq/to_nsq.go`). Publishes are pipelined per
 * nsqd (a bounded window) rather than sent one round trip at a time; any failed publish is fatal,
 * as upstream. `--rate` throttles to N messages per second.
 */
import type { FlagSpec } from '../lib/flags.js';
import { Logger } from '../lib/logger.js';
import { Producer } from '../client/index.js';
import { VERSION_FLAG, onStopSignals, parseAppFlags } from './lib/app-flags.js';
import { producerOptions } from './lib/consumer-setup.js';
import { goFatal } from './lib/go-log.js';

const FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'topic', type: 'string', default: '', usage: 'NSQ topic to publish to' },
  { name: 'delimiter', type: 'string', default: '\n', defaultText: '"\\n"', usage: 'character to split input from stdin' },
  { name: 'rate', type: 'int', default: 0, usage: 'Throttle messages to n/second. 0 to disable' },
  { name: 'nsqd-tcp-address', type: 'string-array', default: [], usage: 'destination nsqd TCP address (may be given multiple times)', splitCommas: false, field: 'nsqdTcpAddresses' },
  {
    name: 'producer-opt',
    type: 'string-array',
    default: [],
    usage: 'option to passthrough to nsq.Producer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)',
    splitCommas: false,
    field: 'producerOpts',
  },
];

/** Publishes in flight per nsqd before reading more input. */
const WINDOW = 256;

/** Token bucket: one token per 1/rate s, at most `rate` stored; waits one interval when empty. */
class Throttle {
  readonly #rate: number;
  #tokens = 0;
  #last = Date.now();

  constructor(rate: number) {
    this.#rate = rate;
  }

  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#last) * this.#rate) / 1000);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens--;
        return;
      }
      await new Promise((r) => setTimeout(r, 1000 / this.#rate));
    }
  }
}

async function main(): Promise<void> {
  const v = parseAppFlags('to_nsq', FLAGS, process.argv.slice(2));
  const topic = v.topic as string;
  const delimiter = Buffer.from(v.delimiter as string);
  const addrs = v.nsqdTcpAddresses as string[];
  if (topic === '') goFatal('--topic required');
  if (delimiter.length !== 1) goFatal('--delimiter must be a single byte');
  if (addrs.length === 0) goFatal('--nsqd-tcp-address required');
  const opts = producerOptions('to_nsq', v.producerOpts as string[], new Logger('', 'warn'), goFatal);
  const producers = addrs.map((a) => new Producer(a, opts));
  const throttle = (v.rate as number) > 0 ? new Throttle(v.rate as number) : null;

  let stopped = false;
  onStopSignals(() => {
    stopped = true;
    process.stdin.destroy();
  });

  const pending = new Set<Promise<void>>();
  const fail = (err: Error) => goFatal(err.message);
  const publish = async (body: Buffer) => {
    if (throttle !== null) await throttle.take();
    for (const p of producers) {
      const done: Promise<void> = p.publish(topic, body).then(() => void pending.delete(done), fail);
      pending.add(done);
    }
    if (pending.size >= WINDOW * producers.length) await Promise.race(pending);
  };

  const delim = delimiter[0]!;
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      let buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      let start = 0;
      for (let i = buf.indexOf(delim, start); i >= 0; i = buf.indexOf(delim, start)) {
        if (i > start) await publish(buf.subarray(start, i));
        start = i + 1;
        if (stopped) break;
      }
      rest = Buffer.from(buf.subarray(start));
      buf = rest;
      if (stopped) break;
    }
  } catch (err) {
    if (!stopped) goFatal((err as Error).message);
  }
  // The last piece has no trailing delimiter; it is published whole.
  if (!stopped && rest.length > 0) await publish(rest);
  await Promise.all(pending);
  await Promise.all(producers.map((p) => p.close()));
  process.exit(0);
}

void main();
