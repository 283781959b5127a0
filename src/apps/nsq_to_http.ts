#!/usr/bin/env node
/**
 * nsq_to_http: consumes a topic/channel and delivers each message body by HTTP GET or POST
 * (upstream `apps/nsq_to_http/nsq_to_http.go`). A failed delivery (transport error, GET status
 * other than 200, POST status outside 2xx) requeues the message with backoff.
 */
import { Consumer, type Message } from '../client/index.js';
import type { FlagSpec } from '../lib/flags.js';
import { Logger } from '../lib/logger.js';
import { CONSUMER_ADDRESS_FLAGS, NSQ_VERSION, onStopSignals, parseAppFlags, requireOneDiscovery, VERSION_FLAG } from './lib/app-flags.js';
import { consumerOptions } from './lib/consumer-setup.js';
import { DestinationPicker, httpMode } from './lib/destination-picker.js';
import { goFatal, goLog } from './lib/go-log.js';
import { HttpPublisher, parseHeaders } from './lib/http-publisher.js';
import { TimerMetrics } from './lib/timer-metrics.js';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'topic', type: 'string', default: '', usage: 'nsq topic' },
  { name: 'channel', type: 'string', default: 'nsq_to_http', usage: 'nsq channel' },
  { name: 'max-in-flight', type: 'int', default: 200, usage: 'max number of messages to allow in flight' },
  { name: 'n', type: 'int', default: 100, usage: 'number of concurrent publishers', field: 'numPublishers' },
  { name: 'mode', type: 'string', default: 'hostpool', usage: 'the upstream request mode options: round-robin, hostpool (default), epsilon-greedy' },
  { name: 'sample', type: 'float', default: 1.0, usage: '% of messages to publish (float b/w 0 -> 1)' },
  { name: 'http-client-connect-timeout', type: 'duration', default: 2000, usage: 'timeout for HTTP connect' },
  { name: 'http-client-request-timeout', type: 'duration', default: 20000, usage: 'timeout for HTTP request' },
  { name: 'status-every', type: 'int', default: 250, usage: 'the # of requests between logging status (per handler), 0 disables' },
  { name: 'content-type', type: 'string', default: DEFAULT_CONTENT_TYPE, usage: 'the Content-Type used for POST requests' },
  ...CONSUMER_ADDRESS_FLAGS,
  { name: 'get', type: 'string-array', default: [], usage: "HTTP address to make a GET request to. '%s' will be printf replaced with data (may be given multiple times)", splitCommas: false },
  { name: 'post', type: 'string-array', default: [], usage: 'HTTP address to make a POST request to.  data will be in the body (may be given multiple times)', splitCommas: false },
  { name: 'header', type: 'string-array', default: [], usage: 'Adds a custom header to HTTP requests (may be given multiple times)', splitCommas: false },
];

function main(argv: readonly string[]): void {
  const v = parseAppFlags('nsq_to_http', FLAGS, argv);
  const topic = v.topic as string;
  const channel = v.channel as string;
  const gets = v.get as string[];
  const posts = v.post as string[];
  const contentType = v.contentType as string;
  const nsqd = v.nsqdTcpAddresses as string[];
  const lookupd = v.lookupdHttpAddresses as string[];
  if (topic === '' || channel === '') goFatal('--topic and --channel are required');
  if (contentType !== DEFAULT_CONTENT_TYPE) {
    if (posts.length === 0) goFatal('--content-type only used with --post');
    if (contentType === '') goFatal('--content-type requires a value when used');
  }
  requireOneDiscovery(nsqd, lookupd);
  if (gets.length === 0 && posts.length === 0) goFatal('--get or --post required');
  if (gets.length > 0 && posts.length > 0) goFatal('use --get or --post not both');
  for (const g of gets) if (g.split('%s').length - 1 !== 1) goFatal('invalid GET address - must be a printf string');
  const sample = v.sample as number;
  if (sample > 1.0 || sample < 0.0) goFatal('ERROR: --sample must be between 0.0 and 1.0');
  const headers = parseHeaders(v.header as string[]);
  if (!headers) goFatal("--header value format must be 'key=value'");
  const connectTimeoutMs = v.httpClientConnectTimeout as number;
  const requestTimeoutMs = v.httpClientRequestTimeout as number;

  const addresses = posts.length > 0 ? posts : gets;
  const publisher = new HttpPublisher({
    method: posts.length > 0 ? 'POST' : 'GET',
    contentType,
    headers,
    userAgent: `nsq_to_http v${NSQ_VERSION}`,
    connectTimeoutMs,
    requestTimeoutMs,
  });
  const picker = new DestinationPicker(httpMode(v.mode as string), addresses);
  const statusEvery = v.statusEvery as number;
  // With a single address the per-address line would repeat the aggregate one.
  const perAddress = new Map(addresses.map((a) => [a, new TimerMetrics(addresses.length === 1 ? 0 : statusEvery, `[${a}]:`, goLog)]));
  const aggregate = new TimerMetrics(statusEvery, '[aggregate]:', goLog);

  const log = new Logger('', 'info');
  const fatal = (msg: string): never => goFatal(msg);
  const co = consumerOptions('nsq_to_http', { nsqdTcpAddresses: nsqd, lookupdHttpAddresses: lookupd, consumerOpts: v.consumerOpts as string[], maxInFlight: v.maxInFlight as number }, log, fatal);
  co.concurrency = v.numPublishers as number;
  let consumer: Consumer;
  try {
    consumer = new Consumer(topic, channel, co);
  } catch (err) {
    goFatal((err as Error).message);
  }

  // Resolving FINishes the message, throwing REQueues it with backoff (go-nsq handler semantics).
  consumer.handle(async (m: Message) => {
    if (sample < 1.0 && Math.random() > sample) return;
    const start = performance.now();
    for (const addr of picker.pick()) {
      const st = performance.now();
      try {
        await publisher.publish(addr, m.body);
      } catch (err) {
        picker.mark(addr, false);
        throw err;
      }
      picker.mark(addr, true);
      perAddress.get(addr)!.status(picker.mode === 'all' ? st : start);
    }
    aggregate.status(start);
  });
  consumer.on('error', (err: Error) => log.error(err.message));

  onStopSignals(() => {
    consumer.close().then(
      () => {
        publisher.close();
        process.exit(0);
      },
      (err: Error) => goFatal(err.message),
    );
  });
  consumer.connect().catch((err: Error) => goFatal(err.message));
}

main(process.argv.slice(2));
