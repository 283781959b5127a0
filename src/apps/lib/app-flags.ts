/**
 * Command-line handling shared by the utilities: Go `flag` parsing (no config file), `-h` usage,
 * `--version`, and the flag rows every consumer tool has (`apps/*` in the original repo).
 */
import { FlagError, formatUsage, parseArgs, type FlagSpec } from '../../lib/flags.js';
import { goFatal } from './go-log.js';

/** The NSQ release these tools mirror (`<tool> v1.3.0`, user agents). */
export const NSQ_VERSION = '1.3.0';

/** `--version` row. */
export const VERSION_FLAG: FlagSpec = { name: 'version', type: 'bool', default: false, usage: 'print version string' };

/** The repeatable discovery flags of every consumer tool. */
export const CONSUMER_ADDRESS_FLAGS: readonly FlagSpec[] = [
  { name: 'nsqd-tcp-address', type: 'string-array', default: [], usage: 'nsqd TCP address (may be given multiple times)', splitCommas: false, field: 'nsqdTcpAddresses' },
  { name: 'lookupd-http-address', type: 'string-array', default: [], usage: 'lookupd HTTP address (may be given multiple times)', splitCommas: false, field: 'lookupdHttpAddresses' },
  {
    name: 'consumer-opt',
    type: 'string-array',
    default: [],
    usage: 'option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)',
    splitCommas: false,
    field: 'consumerOpts',
  },
];

/**
 * Parses `argv` like Go's `flag.Parse()` with ExitOnError: a bad flag prints the error and usage
 * and exits 2; `-h` prints usage and exits 0; `--version` prints `<program> v1.3.0` and exits 0.
 */
export function parseAppFlags(program: string, specs: readonly FlagSpec[], argv: readonly string[]): Record<string, unknown> {
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs(specs, argv, { configFlag: null, allowPositional: true });
    if (parsed.help) {
      process.stderr.write(formatUsage(program, specs));
      process.exit(0);
    }
    if (parsed.args.length > 0) goFatal(`unknown arguments: ${parsed.args.join(' ')}`);
    values = parsed.values;
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`${err.message}\n${formatUsage(program, specs)}`);
    process.exit(2);
  }
  if (values.version === true) {
    process.stdout.write(`${program} v${NSQ_VERSION}\n`);
    process.exit(0);
  }
  return values;
}

/** The one-kind-of-discovery rule every consumer tool enforces (fatal otherwise). */
export function requireOneDiscovery(nsqd: readonly string[], lookupd: readonly string[], nsqdFlag = '--nsqd-tcp-address'): void {
  if (nsqd.length === 0 && lookupd.length === 0) goFatal(`${nsqdFlag} or --lookupd-http-address required`);
  if (nsqd.length > 0 && lookupd.length > 0) goFatal(`use ${nsqdFlag} or --lookupd-http-address not both`);
}

/** Calls `stop` once on the first of the given signals. */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void, signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): void {
  let called = false;
  for (const s of signals) {
    process.on(s, () => {
      if (called) return;
      called = true;
      stop(s);
    });
  }
}
