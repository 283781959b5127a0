#!/usr/bin/env node
// nsqd: flags → options → start; SIGTERM/SIGINT → graceful exit (nsqd.md §2).
import { Logger } from '../lib/logger.js';
import { FlagError } from '../lib/flags.js';
import { Nsqd } from '../nsqd/nsqd.js';
import { NSQD_VERSION, nsqdUsage, parseNsqdArgs } from '../nsqd/options.js';

async function main(): Promise<void> {
  let args;
  try {
    args = parseNsqdArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n`);
      process.stderr.write(`Run 'nsqd -h' to list the flags.\n`);
      process.exit(1);
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(nsqdUsage());
    process.exit(0);
  }
  if (args.version) {
    process.stdout.write(`nsqd v${NSQD_VERSION} (built w/tsnsq node ${process.version})\n`);
    process.exit(0);
  }
  const o = args.options;
  const logger = new Logger(o.logPrefix, o.logLevel);
  const nsqd = new Nsqd(o, logger);
  try {
    await nsqd.start();
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    nsqd.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error(`shutdown failed - ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
