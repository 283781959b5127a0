/**
 * Client options of the consumer utilities: `--consumer-opt`/`--producer-opt` entries first, then
 * the tool's own user agent and `--max-in-flight` on top (the originals set `cfg.UserAgent` and
 * `cfg.MaxInFlight` after applying the options), plus the discovery addresses.
 */
import { applyClientOptions, CLIENT_VERSION, type ClientOptions, type ConsumerOptions, type ProducerOptions } from '../../client/index.js';
import type { Logger } from '../../lib/logger.js';
import { NSQ_VERSION } from './app-flags.js';

/** `<tool>/1.3.0 tsnsq/<client version>`, in the place of the original's `go-nsq/<version>`. */
export function toolUserAgent(tool: string): string {
  return `${tool}/${NSQ_VERSION} tsnsq/${CLIENT_VERSION}`;
}

/** Applies `key,value` entries or calls `fatal` with the client's complaint. */
function clientOptsOrFatal(entries: readonly string[], fatal: (msg: string) => never): ClientOptions {
  try {
    return applyClientOptions({}, entries);
  } catch (err) {
    return fatal((err as Error).message);
  }
}

/** The consumer options for a tool run. */
export function consumerOptions(
  tool: string,
  v: { nsqdTcpAddresses: string[]; lookupdHttpAddresses: string[]; consumerOpts: string[]; maxInFlight: number },
  logger: Logger,
  fatal: (msg: string) => never,
): ConsumerOptions {
  return {
    ...clientOptsOrFatal(v.consumerOpts, fatal),
    userAgent: toolUserAgent(tool),
    maxInFlight: v.maxInFlight,
    nsqdTcpAddresses: v.nsqdTcpAddresses,
    lookupdHttpAddresses: v.lookupdHttpAddresses,
    logger,
  };
}

/** The producer options for a tool run. */
export function producerOptions(tool: string, entries: readonly string[], logger: Logger, fatal: (msg: string) => never): ProducerOptions {
  return { ...clientOptsOrFatal(entries, fatal), userAgent: toolUserAgent(tool), logger };
}
