#!/usr/bin/env node
/**
 * nsq_stat: polls `/stats` of every nsqd producing a topic and prints one aggregate line of the
 * channel's rates and counters per interval (upstream `apps/nsq_stat/nsq_stat.go`).
 */
import type { FlagSpec } from '../lib/flags.js';
import { parseAppFlags, requireOneDiscovery, VERSION_FLAG } from './lib/app-flags.js';
import { ClusterInfo } from './lib/cluster-info.js';
import { goFatal } from './lib/go-log.js';
import { headerDue, statHeader, statRow, type ChannelCounters } from './lib/stat-table.js';

const FLAGS: readonly FlagSpec[] = [
  VERSION_FLAG,
  { name: 'topic', type: 'string', default: '', usage: 'NSQ topic' },
  { name: 'channel', type: 'string', default: '', usage: 'NSQ channel' },
  { name: 'interval', type: 'duration', default: 2000, usage: 'duration of time between polling/printing output' },
  { name: 'http-client-connect-timeout', type: 'duration', default: 2000, usage: 'timeout for HTTP connect' },
  { name: 'http-client-request-timeout', type: 'duration', default: 5000, usage: 'timeout for HTTP request' },
  {
    name: 'count',
    type: 'int',
    default: undefined,
    usage: 'number of reports',
    typeName: 'N',
    defaultText: '',
    // Go's numValue.Set: strconv.ParseInt(s, 10, 32).
    parse: (s: string) => {
      if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
      const n = Number(s);
      if (n > 2147483647 || n < -2147483648) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
      return n;
    },
  },
  { name: 'nsqd-http-address', type: 'string-array', default: [], usage: 'nsqd HTTP address (may be given multiple times)', splitCommas: false },
  { name: 'lookupd-http-address', type: 'string-array', default: [], usage: 'lookupd HTTP address (may be given multiple times)', splitCommas: false },
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function statLoop(ci: ClusterInfo, o: { topic: string; channel: string; intervalMs: number; count?: number; nsqd: string[]; lookupd: string[] }): Promise<void> {
  let prev: ChannelCounters | undefined;
  for (let i = 0; o.count === undefined || o.count >= i; i++) {
    let producers: string[];
    try {
      producers = o.lookupd.length > 0 ? await ci.getLookupdTopicProducers(o.topic, o.lookupd) : await ci.getNsqdTopicProducers(o.topic, o.nsqd);
    } catch (err) {
      goFatal(`ERROR: failed to get topic producers - ${(err as Error).message}`);
    }
    let c: ChannelCounters | undefined;
    try {
      c = await ci.getChannelCounters(producers, o.topic, o.channel);
    } catch (err) {
      goFatal(`ERROR: failed to get nsqd stats - ${(err as Error).message}`);
    }
    if (!c) goFatal(`ERROR: failed to find channel(${o.channel}) in stats metadata for topic(${o.topic})`);
    if (headerDue(i)) process.stdout.write(statHeader());
    if (prev) process.stdout.write(statRow(prev, c, o.intervalMs));
    prev = c;
    await sleep(o.intervalMs);
  }
}

function main(argv: readonly string[]): void {
  const v = parseAppFlags('nsq_stat', FLAGS, argv);
  const topic = v.topic as string;
  const channel = v.channel as string;
  if (topic === '' || channel === '') goFatal('--topic and --channel are required');
  const intervalMs = v.interval as number;
  if (intervalMs <= 0) goFatal('--interval should be positive');
  const connectTimeoutMs = v.httpClientConnectTimeout as number;
  if (connectTimeoutMs <= 0) goFatal('--http-client-connect-timeout should be positive');
  const requestTimeoutMs = v.httpClientRequestTimeout as number;
  if (requestTimeoutMs <= 0) goFatal('--http-client-request-timeout should be positive');
  const count = v.count as number | undefined;
  if (count !== undefined && count <= 0) goFatal('--count should be positive');
  const nsqd = v.nsqdHttpAddress as string[];
  const lookupd = v.lookupdHttpAddress as string[];
  requireOneDiscovery(nsqd, lookupd, '--nsqd-http-address');
  if (nsqd.some((a) => a.startsWith('http'))) goFatal('--nsqd-http-address error - address should not contain scheme');
  if (lookupd.some((a) => a.startsWith('http'))) goFatal('--lookupd-http-address error - address should not contain scheme');

  for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(0));
  const ci = new ClusterInfo({ connectTimeoutMs, requestTimeoutMs, userAgent: 'nsq_stat' });
  statLoop(ci, { topic, channel, intervalMs, count, nsqd, lookupd }).then(
    () => process.exit(0),
    (err: unknown) => goFatal(`ERROR: ${err instanceof Error ? err.message : String(err)}`),
  );
}

main(process.argv.slice(2));
