#!/usr/bin/env node
/**
 * The nsqadmin binary: flags → options → Nsqadmin, graceful exit on SIGINT/SIGTERM.
 */
import { FlagError } from '../lib/flags.js';
import { Logger } from '../lib/logger.js';
import { Nsqadmin } from '../nsqadmin/nsqadmin.js';
import { nsqadminUsage, OptionsValidationError, parseNsqadminArgs, VERSION_STRING, type NsqadminArgs } from '../nsqadmin/options.js';

async function main(argv: readonly string[]): Promise<void> {
  let args: NsqadminArgs;
  try {
    args = parseNsqadminArgs(argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    // Refused values and config-file problems are the original's logFatal lines.
    if (err instanceof OptionsValidationError || /^failed (to load config file|parsing) /.test(err.message)) {
      new Logger('[nsqadmin] ').fatal(err.message);
      process.exit(1);
    }
    process.stderr.write(`${err.message}\nRun 'nsqadmin -h' to list the flags.\n`);
    process.exit(1);
  }
  if (args.help) {
    process.stdout.write(nsqadminUsage());
    process.exit(0);
  }
  if (args.version) {
    process.stdout.write(`${VERSION_STRING}\n`);
    process.exit(0);
  }

  const { options } = args;
  const logger = new Logger(options.logPrefix, options.logLevel);
  const admin = new Nsqadmin(options, logger);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    admin.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`error while closing - ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await admin.start();
  } catch (err) {
    logger.fatal(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
