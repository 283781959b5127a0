#!/usr/bin/env node
/**
 * nsq_to_nsq: consumes topics from one set of nsqd and republishes to other nsqd
 * (upstream `apps/nsq_to_nsq/nsq_to_nsq.go`). A source message is FINished only once a destination
 * acknowledged the publish (`OK`), and REQueued with backoff when it failed; optional JSON filters
 * drop or reshape messages on the way.
 */
import { Consumer, Producer, type Message } from '../client/index.js';
import type { FlagSpec } from '../lib/flags.js';
import { Logger } from '../lib/logger.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import { CONSUMER_ADDRESS_FLAGS, onStopSignals, parseAppFlags, requireOneDiscovery, VERSION_FLAG } from './lib/app-flags.js';
import { consumerOptions, producerOptions } from './lib/consumer-setup.js';
import { DestinationPicker, nsqMode } from './lib/destination-picker.js';
import { goFatal, goLog } from './lib/go-log.js';
import { applyJsonFilter, filtersEnabled, type JsonFilterOptions } from './lib/json-filter.js';
import { TimerMetrics } from './lib/timer-metrics.js';

const FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'channel', type: 'string', default: 'nsq_to_nsq', usage: 'nsq channel' },
  { name: 'destination-topic', type: 'string', default: '', usage: 'use this destination topic for all consumed topics (default is consumed topic name)' },
  { name: 'max-in-flight', type: 'int', default: 200, usage: 'max number of messages to allow in flight' },
  { name: 'status-every', type: 'int', default: 250, usage: 'the # of requests between logging status (per destination), 0 disables' },
  { name: 'mode', type: 'string', default: 'hostpool', usage: 'the upstream request mode options: round-robin, hostpool (default), epsilon-greedy' },
  { name: 'require-json-field', type: 'string', default: '', usage: 'for JSON messages: only pass messages that contain this field' },
  { name: 'require-json-value', type: 'string', default: '', usage: 'for JSON messages: only pass messages in which the required field has this value' },
  { name: 'topic', type: 'string-array', default: [], usage: 'nsq topic (may be given multiple times)', splitCommas: false, field: 'topics' },
  ...CONSUMER_ADDRESS_FLAGS,
  { name: 'destination-nsqd-tcp-address', type: 'string-array', default: [], usage: 'destination nsqd TCP address (may be given multiple times)', splitCommas: false },
  { name: 'whitelist-json-field', type: 'string-array', default: [], usage: 'for JSON messages: pass this field (may be given multiple times)', splitCommas: false },
  {
    name: 'producer-opt',
    type: 'string-array',
    default: [],
    usage: 'option to passthrough to nsq.Producer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)',
    splitCommas: false,
  },
];

function main(argv: readonly string[]): void {
  const v = parseAppFlags('nsq_to_nsq', FLAGS, argv);
  const topics = v.topics as string[];
  const channel = v.channel as string;
  const destTopic = v.destinationTopic as string;
  const nsqd = v.nsqdTcpAddresses as string[];
  const lookupd = v.lookupdHttpAddresses as string[];
  const destinations = v.destinationNsqdTcpAddress as string[];
  if (topics.length === 0 || channel === '') goFatal('--topic and --channel are required');
  for (const t of topics) if (!isValidTopicName(t)) goFatal('--topic is invalid');
  if (destTopic !== '' && !isValidTopicName(destTopic)) goFatal('--destination-topic is invalid');
  if (!isValidChannelName(channel)) goFatal('--channel is invalid');
  requireOneDiscovery(nsqd, lookupd);
  if (destinations.length === 0) goFatal('--destination-nsqd-tcp-address required');

  const log = new Logger('', 'info');
  const fatal = (msg: string): never => goFatal(msg);
  const filter: JsonFilterOptions = {
    requireJsonField: v.requireJsonField as string,
    requireJsonValue: v.requireJsonValue as string,
    whitelistJsonFields: v.whitelistJsonField as string[],
  };
  const filtering = filtersEnabled(filter);
  const po = producerOptions('nsq_to_nsq', v.producerOpt as string[], log, fatal);
  const producers = new Map(destinations.map((a) => [a, new Producer(a, po)]));
  const picker = new DestinationPicker(nsqMode(v.mode as string), destinations);
  const statusEvery = v.statusEvery as number;
  const perAddress = new Map(destinations.map((a) => [a, new TimerMetrics(destinations.length === 1 ? 0 : statusEvery, `[${a}]:`, goLog)]));
  const aggregate = new TimerMetrics(statusEvery, '[aggregate]:', goLog);
  const co = consumerOptions('nsq_to_nsq', { nsqdTcpAddresses: nsqd, lookupdHttpAddresses: lookupd, consumerOpts: v.consumerOpts as string[], maxInFlight: v.maxInFlight as number }, log, fatal);

  const forward = (topic: string, m: Message): void => {
    let body = m.body;
    if (filtering) {
      const verdict = applyJsonFilter(filter, m.body);
      if (verdict.kind === 'drop') {
        if (verdict.why) goLog(`ERROR: ${verdict.why}`);
        m.finish();
        return;
      }
      if (verdict.kind === 'backoff') {
        goLog(`ERROR: ${verdict.why}`);
        m.requeue(undefined, true);
        return;
      }
      body = verdict.body;
    }
    const addr = picker.pickOne();
    const start = performance.now();
    producers
      .get(addr)!
      .publish(destTopic === '' ? topic : destTopic, body)
      .then(
        () => {
          picker.mark(addr, true);
          m.finish();
        },
        (err: Error) => {
          picker.mark(addr, false);
          log.error(`publish to ${addr} failed - ${err.message}`);
          m.requeue(undefined, true);
        },
      )
      .finally(() => {
        perAddress.get(addr)!.status(start);
        aggregate.status(start);
      });
  };

  const consumers: Consumer[] = [];
  for (const topic of topics) {
    let c: Consumer;
    try {
      c = new Consumer(topic, channel, co);
    } catch (err) {
      goFatal((err as Error).message);
    }
    c.on('message', (m: Message) => {
      // The publish outcome answers the message, not the listener's return.
      m.disableAutoResponse();
      forward(topic, m);
    });
    c.on('error', (err: Error) => log.error(err.message));
    consumers.push(c);
  }

  onStopSignals(() => {
    // Consumers first: their close waits for in-flight messages, i.e. for the publishes to answer.
    Promise.all(consumers.map((c) => c.close()))
      .then(() => Promise.all([...producers.values()].map((p) => p.close())))
      .then(
        () => process.exit(0),
        (err: Error) => goFatal(err.message),
      );
  }, ['SIGINT', 'SIGTERM', 'SIGHUP']);
  for (const c of consumers) c.connect().catch((err: Error) => goFatal(err.message));
}

main(process.argv.slice(2));
