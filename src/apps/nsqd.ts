#!/usr/bin/env node
// nsqd: flags → options → start; SIGTERM/SIGINT → graceful exit (upstream `apps/nsqd/main.go`).
import { Logger } from '../lib/logger.js';
import { FlagError } from '../lib/flags.js';
import { Nsqd } from '../nsqd/nsqd.js';
import { type NsqdArgs, NSQD_VERSION, nsqdUsage, OptionsValidationError, parseNsqdArgs } from '../nsqd/options.js';

/** Config-file problems and rejected values are the original's logFatal lines (fixed `[nsqd] ` prefix). */
function isFatalLine(err: FlagError): boolean {
  return err instanceof OptionsValidationError || /^failed (to load config file|parsing) /.test(err.message);
}

async function main(): Promise<void> {
  let args: NsqdArgs;
  try {
    args = parseNsqdArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof FlagError && isFatalLine(err)) {
      const text = err instanceof OptionsValidationError ? `failed to instantiate nsqd - ${err.message}` : err.message;
      new Logger('[nsqd] ').fatal(text);
      process.exit(1);
    }
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
  // Signals are handled from the very start: one that arrives while starting up (the ports are
  // already logged by then) must still shut down cleanly, not kill the process mid-way.
  let starting: Promise<void> = Promise.resolve();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    starting
      .then(() => nsqd.close())
      .then(
        () => process.exit(0),
        (err: Error) => {
          logger.error(`shutdown failed - ${err.message}`);
          process.exit(1);
        },
      );
  };
  // POST /drain ends like SIGTERM once everything is delivered (docs/extensions.md).
  nsqd.onDrained = stop;
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    starting = nsqd.start();
    await starting;
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(1);
  }
}

void main();
