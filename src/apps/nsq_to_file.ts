#!/usr/bin/env node
/**
 * nsq_to_file: consumes topics and writes each message body as a line to rotating, optionally
 * gzipped files (upstream `apps/nsq_to_file/nsq_to_file.go`).
 */
import { hostname } from 'node:os';
import type { FlagSpec } from '../lib/flags.js';
import { Logger, parseLogLevel } from '../lib/logger.js';
import { CONSUMER_ADDRESS_FLAGS, onStopSignals, parseAppFlags, VERSION_FLAG } from './lib/app-flags.js';
import { ClusterInfo } from './lib/cluster-info.js';
import { consumerOptions } from './lib/consumer-setup.js';
import { computeFilenameFormat, FilenameFormatError } from './lib/filename-format.js';
import type { FileLoggerOptions } from './lib/file-logger.js';
import { TopicDiscoverer } from './lib/topic-discoverer.js';
import { TopicFileLogger } from './lib/topic-file-logger.js';

const FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'log-level', type: 'string', default: 'info', usage: 'set log verbosity: debug, info, warn, error, or fatal' },
  { name: 'log-prefix', type: 'string', default: '[nsq_to_file] ', usage: 'log message prefix' },
  { name: 'channel', type: 'string', default: 'nsq_to_file', usage: 'nsq channel' },
  { name: 'max-in-flight', type: 'int', default: 200, usage: 'max number of messages to allow in flight' },
  { name: 'output-dir', type: 'string', default: '/tmp', usage: 'directory to write output files to' },
  { name: 'work-dir', type: 'string', default: '', usage: 'directory for in-progress files before moving to output-dir' },
  { name: 'datetime-format', type: 'string', default: '%Y-%m-%d_%H', usage: 'strftime compatible format for <DATETIME> in filename format' },
  {
    name: 'filename-format',
    type: 'string',
    default: '<TOPIC>.<HOST><REV>.<DATETIME>.log',
    usage: 'output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced. <REV> is increased when file already exists)',
  },
  { name: 'host-identifier', type: 'string', default: '', usage: 'value to output in log filename in place of hostname. <SHORT_HOST> and <HOSTNAME> are valid replacement tokens' },
  { name: 'gzip-level', type: 'int', default: 6, usage: 'gzip compression level (1-9, 1=BestSpeed, 9=BestCompression)' },
  { name: 'gzip', type: 'bool', default: false, usage: 'gzip output files.' },
  { name: 'skip-empty-files', type: 'bool', default: false, usage: 'skip writing empty files' },
  { name: 'topic-refresh', type: 'duration', default: 60000, usage: 'how frequently the topic list should be refreshed' },
  { name: 'topic-pattern', type: 'string', default: '', usage: 'only log topics matching the following pattern' },
  { name: 'rotate-size', type: 'int', default: 0, usage: 'rotate the file when it grows bigger than `rotate-size` bytes' },
  { name: 'rotate-interval', type: 'duration', default: 0, usage: 'rotate the file every duration' },
  { name: 'sync-interval', type: 'duration', default: 30000, usage: 'sync file to disk every duration' },
  { name: 'http-client-connect-timeout', type: 'duration', default: 2000, usage: 'timeout for HTTP connect' },
  { name: 'http-client-request-timeout', type: 'duration', default: 5000, usage: 'timeout for HTTP request' },
  ...CONSUMER_ADDRESS_FLAGS,
  { name: 'topic', type: 'string-array', default: [], usage: 'nsq topic (may be given multiple times)', splitCommas: false, field: 'topics' },
];

function main(argv: readonly string[]): void {
  const v = parseAppFlags('nsq_to_file', FLAGS, argv);
  const level = parseLogLevel(v.logLevel as string);
  const log = new Logger(v.logPrefix as string, level ?? 'info');
  const fatal = (msg: string): never => {
    log.fatal(msg);
    process.exit(1);
  };
  if (!level) fatal(`invalid log level (${v.logLevel as string})`);
  const channel = v.channel as string;
  const topics = v.topics as string[];
  const pattern = v.topicPattern as string;
  const nsqd = v.nsqdTcpAddresses as string[];
  const lookupd = v.lookupdHttpAddresses as string[];
  const connectTimeoutMs = v.httpClientConnectTimeout as number;
  const requestTimeoutMs = v.httpClientRequestTimeout as number;
  if (channel === '') fatal('--channel is required');
  if (connectTimeoutMs <= 0) fatal('--http-client-connect-timeout should be positive');
  if (requestTimeoutMs <= 0) fatal('--http-client-request-timeout should be positive');
  if (nsqd.length === 0 && lookupd.length === 0) fatal('--nsqd-tcp-address or --lookupd-http-address required');
  if (nsqd.length > 0 && lookupd.length > 0) fatal('use --nsqd-tcp-address or --lookupd-http-address not both');
  const gzipLevel = v.gzipLevel as number;
  if (gzipLevel < 1 || gzipLevel > 9) fatal(`invalid --gzip-level value (${gzipLevel}), should be 1-9`);
  if (topics.length === 0 && pattern === '') fatal('--topic or --topic-pattern required');
  if (topics.length === 0 && lookupd.length === 0) fatal('--lookupd-http-address must be specified when no --topic specified');
  const outputDir = v.outputDir as string;
  const workDir = (v.workDir as string) === '' ? outputDir : (v.workDir as string);
  const maxInFlight = v.maxInFlight as number;

  const fo: FileLoggerOptions = {
    outputDir,
    workDir,
    datetimeFormat: v.datetimeFormat as string,
    gzip: v.gzip as boolean,
    gzipLevel,
    skipEmptyFiles: v.skipEmptyFiles as boolean,
    rotateSize: v.rotateSize as number,
    rotateInterval: v.rotateInterval as number,
    maxInFlight,
    channel,
  };
  const nameOpts = { ...fo, filenameFormat: v.filenameFormat as string, hostIdentifier: v.hostIdentifier as string };
  const co = consumerOptions('nsq_to_file', { nsqdTcpAddresses: nsqd, lookupdHttpAddresses: lookupd, consumerOpts: v.consumerOpts as string[], maxInFlight }, log, fatal);
  const syncIntervalMs = v.syncInterval as number;

  const discoverer = new TopicDiscoverer(pattern, log, async (topic) => {
    let template: string;
    try {
      template = computeFilenameFormat(nameOpts, topic, hostname(), process.pid);
    } catch (err) {
      if (err instanceof FilenameFormatError) fatal(err.message);
      throw err;
    }
    const tfl = new TopicFileLogger(topic, channel, fo, template, syncIntervalMs, co, log, fatal);
    await tfl.connect();
    return tfl;
  });

  process.on('SIGHUP', () => discoverer.hup());
  onStopSignals(() => {
    discoverer.stop().then(
      () => process.exit(0),
      (err: Error) => fatal(err.message),
    );
  });
  const ci = new ClusterInfo({ connectTimeoutMs, requestTimeoutMs, userAgent: 'nsq_to_file' });
  discoverer.run(topics, v.topicRefresh as number, ci, lookupd).catch((err: Error) => fatal(err.message));
}

main(process.argv.slice(2));
