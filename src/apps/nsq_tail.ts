#!/usr/bin/env node
/**
 * nsq_tail: consumes topic(s) and prints each message body plus a newline to stdout (upstream
 * `apps/nsq_tail/nsq_tail.go`). `-n` stops after that many messages of one topic; messages that
 * arrive after that are requeued untouched instead of being printed, so exactly n are shown.
 */
import type { FlagSpec } from '../lib/flags.js';
import { Logger } from '../lib/logger.js';
import { Consumer, type Message } from '../client/index.js';
import { CONSUMER_ADDRESS_FLAGS, VERSION_FLAG, onStopSignals, parseAppFlags, requireOneDiscovery } from './lib/app-flags.js';
import { consumerOptions } from './lib/consumer-setup.js';
import { goFatal } from './lib/go-log.js';

const FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'topic', type: 'string-array', default: [], usage: 'NSQ topic (may be given multiple times)', splitCommas: false, field: 'topics' },
  { name: 'channel', type: 'string', default: '', usage: 'NSQ channel' },
  { name: 'max-in-flight', type: 'int', default: 200, usage: 'max number of messages to allow in flight' },
  { name: 'n', type: 'int', default: 0, usage: 'total messages to show (will wait if starved)', field: 'totalMessages' },
  { name: 'print-topic', type: 'bool', default: false, usage: 'print topic name where message was received' },
  ...CONSUMER_ADDRESS_FLAGS,
];

async function main(): Promise<void> {
  const v = parseAppFlags('nsq_tail', FLAGS, process.argv.slice(2));
  const topics = v.topics as string[];
  const nsqdAddrs = v.nsqdTcpAddresses as string[];
  const lookupdAddrs = v.lookupdHttpAddresses as string[];
  const total = v.totalMessages as number;
  const channel = (v.channel as string) || `tail${String(Math.floor(Math.random() * 999999)).padStart(6, '0')}#ephemeral`;
  if (topics.length === 0) goFatal('--topic required');
  requireOneDiscovery(nsqdAddrs, lookupdAddrs);

  // Don't ask for more messages than we want.
  let maxInFlight = v.maxInFlight as number;
  if (total > 0 && total < maxInFlight) maxInFlight = total;

  // The nsqd addresses are dialled below with connectToNsqd: like go-nsq ConnectToNSQDs, a refused
  // one is fatal rather than retried.
  const opts = consumerOptions('nsq_tail', { nsqdTcpAddresses: [], lookupdHttpAddresses: lookupdAddrs, consumerOpts: v.consumerOpts as string[], maxInFlight }, new Logger('', 'info'), goFatal);

  const consumers: Consumer[] = [];
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    void Promise.all(consumers.map((c) => c.close())).then(() => process.exit(code));
  };
  onStopSignals(() => stop(0));

  for (const topic of topics) {
    let consumer: Consumer;
    try {
      consumer = new Consumer(topic, channel, opts);
    } catch (err) {
      goFatal((err as Error).message);
    }
    consumers.push(consumer);
    const prefix = v.printTopic === true ? Buffer.from(`${topic} | `) : null;
    let shown = 0;
    consumer.handle((m: Message) => {
      if (stopping) {
        m.requeue(0, false);
        return;
      }
      shown++;
      const parts = prefix === null ? [m.body, NEWLINE] : [prefix, m.body, NEWLINE];
      process.stdout.write(Buffer.concat(parts));
      if (total > 0 && shown >= total) {
        m.finish();
        stop(0);
      }
    });
  }
  for (const c of consumers) {
    try {
      for (const a of nsqdAddrs) await c.connectToNsqd(a);
      if (lookupdAddrs.length > 0) await c.connect();
    } catch (err) {
      goFatal((err as Error).message);
    }
  }
}

const NEWLINE = Buffer.from('\n');

void main();
