/**
 * A consumer's settings and their defaults (go-nsq `config.go`), resolved once at construction.
 */
import type { ConnectionOptions } from './options.js';
import type { BackoffStrategy } from './flow-control.js';

/** Consumer settings (durations in ms). Defaults follow go-nsq `config.go`. */
export interface ConsumerOptions extends ConnectionOptions {
  /** nsqd TCP addresses (`host:port`) to connect to directly. */
  nsqdTcpAddresses?: string[];
  /** nsqlookupd HTTP addresses (`host:port` or URLs) to discover nsqd nodes from. */
  lookupdHttpAddresses?: string[];
  /** Lookupd poll period (default 60000). */
  lookupdPollInterval?: number;
  /** Fraction of the interval used as a random delay before the first periodic poll (default 0.3). */
  lookupdPollJitter?: number;
  /** HTTP timeout of a lookupd query (default 60000). */
  lookupdPollTimeout?: number;
  /** Messages in flight across all connections (default 1). */
  maxInFlight?: number;
  /** Messages delivered more often than this are discarded ('discard' event, then FIN); 0 = no limit (default 5). */
  maxAttempts?: number;
  /** Backoff unit (default 1000). */
  backoffMultiplier?: number;
  /** Longest backoff; 0 disables backoff (default 120000). */
  maxBackoffDuration?: number;
  /** `exponential` (default) or `full_jitter`. */
  backoffStrategy?: BackoffStrategy;
  /** Requeue delay per attempt when none is given (default 90000). */
  defaultRequeueDelay?: number;
  /** Cap of the computed requeue delay (default 900000). */
  maxRequeueDelay?: number;
  /** TOUCH messages while a handler runs, every half msg_timeout (default false). */
  autoTouch?: boolean;
  /** Handler invocations running at once (default: unlimited, i.e. bounded by maxInFlight). */
  concurrency?: number;
  /** RDY redistribution period (default 5000), idle and age thresholds (10000, 30000). */
  rdyRedistributeInterval?: number;
  lowRdyIdleTimeout?: number;
  lowRdyTimeout?: number;
  /** First reconnect delay for a dropped direct nsqd, doubled per failure up to lookupdPollInterval (default 1000). */
  reconnectDelay?: number;
  /** Longest close() waits for in-flight messages before closing sockets (default 30000). */
  closeTimeout?: number;
}

/** The consumer-specific settings with every default filled in. */
export type ResolvedConsumerOptions = Required<Omit<ConsumerOptions, keyof ConnectionOptions>>;

/** Fills in go-nsq's defaults. */
export function resolveConsumerOptions(opts: ConsumerOptions): ResolvedConsumerOptions {
  return {
    nsqdTcpAddresses: opts.nsqdTcpAddresses ?? [],
    lookupdHttpAddresses: opts.lookupdHttpAddresses ?? [],
    lookupdPollInterval: opts.lookupdPollInterval ?? 60000,
    lookupdPollJitter: opts.lookupdPollJitter ?? 0.3,
    lookupdPollTimeout: opts.lookupdPollTimeout ?? 60000,
    maxInFlight: opts.maxInFlight ?? 1,
    maxAttempts: opts.maxAttempts ?? 5,
    backoffMultiplier: opts.backoffMultiplier ?? 1000,
    maxBackoffDuration: opts.maxBackoffDuration ?? 120000,
    backoffStrategy: opts.backoffStrategy ?? 'exponential',
    defaultRequeueDelay: opts.defaultRequeueDelay ?? 90000,
    maxRequeueDelay: opts.maxRequeueDelay ?? 900000,
    autoTouch: opts.autoTouch ?? false,
    concurrency: opts.concurrency ?? Infinity,
    rdyRedistributeInterval: opts.rdyRedistributeInterval ?? 5000,
    lowRdyIdleTimeout: opts.lowRdyIdleTimeout ?? 10000,
    lowRdyTimeout: opts.lowRdyTimeout ?? 30000,
    reconnectDelay: opts.reconnectDelay ?? 1000,
    closeTimeout: opts.closeTimeout ?? 30000,
  };
}
