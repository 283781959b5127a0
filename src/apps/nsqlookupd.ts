#!/usr/bin/env node
/**
 * The nsqlookupd binary: flags → options → Nsqlookupd, graceful exit on SIGINT/SIGTERM.
 */
import { FlagError } from '../lib/flags.js';
import { Logger } from '../lib/logger.js';
import { Nsqlookupd, VERSION_STRING } from '../nsqlookupd/nsqlookupd.js';
import { nsqlookupdUsage, parseNsqlookupdArgs, type NsqlookupdArgs } from '../nsqlookupd/options.js';

async function main(argv: readonly string[]): Promise<void> {
  let args: NsqlookupdArgs;
  try {
    args = parseNsqlookupdArgs(argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    // Config-file problems are the original's logFatal lines (fixed `[nsqlookupd] ` prefix).
    if (/^failed (to load config file|parsing) /.test(err.message)) {
      new Logger('[nsqlookupd] ').fatal(err.message);
      process.exit(1);
    }
    process.stderr.write(`${err.message}\n${nsqlookupdUsage()}`);
    process.exit(1);
  }
  if (args.help) {
    process.stderr.write(nsqlookupdUsage());
    process.exit(0);
  }
  if (args.version) {
    process.stdout.write(`${VERSION_STRING}\n`);
    process.exit(0);
  }

  const { options } = args;
  const logger = new Logger(options.logPrefix, options.logLevel);
  const daemon = new Nsqlookupd(options, logger);
  try {
    await daemon.start();
  } catch (err) {
    logger.fatal(`failed to instantiate nsqlookupd - ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    daemon.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`error while closing - ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
