/**
 * nsqd nodes as nsqadmin lists them (`clusterinfo.Producer`): merged from every nsqlookupd's
 * `/nodes` (deduplicated by TCP address, `remote_addresses` accumulating one entry per lookupd),
 * flagged `out_of_date` when older than the newest version seen, sorted by hostname. Pure.
 */

import { joinHostPort } from '../lib/host-port.js';

/** One topic of a node and whether lookupd has it tombstoned. */
export interface ProducerTopic {
  topic: string;
  tombstoned: boolean;
}

/** A node in /api/nodes (key order is the original's). */
export interface Producer {
  remote_addresses: string[] | null;
  remote_address: string;
  hostname: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
  topology_zone?: string;
  topology_region?: string;
  topics: ProducerTopic[];
  out_of_date: boolean;
}

/** A producer object as nsqlookupd's /nodes and /lookup send it. */
export interface LookupdPeer {
  remote_address?: string;
  hostname?: string;
  broadcast_address?: string;
  tcp_port?: number;
  http_port?: number;
  version?: string;
  topology_zone?: string;
  topology_region?: string;
  topics?: string[];
  tombstones?: boolean[];
}


/** `broadcast_address:http_port` — the `node` key everywhere in the API. */
export function httpAddressOf(p: { broadcast_address: string; http_port: number }): string {
  return joinHostPort(p.broadcast_address, p.http_port);
}

/** A lookupd peer as a Producer (no remote_addresses yet). */
export function producerFromPeer(p: LookupdPeer): Producer {
  const topics = (p.topics ?? []).map((topic, i) => ({ topic, tombstoned: p.tombstones?.[i] === true }));
  topics.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  const out = {
    remote_addresses: null,
    remote_address: p.remote_address ?? '',
    hostname: p.hostname ?? '',
    broadcast_address: p.broadcast_address ?? '',
    tcp_port: p.tcp_port ?? 0,
    http_port: p.http_port ?? 0,
    version: p.version ?? '',
  } as Producer;
  if (p.topology_zone) out.topology_zone = p.topology_zone;
  if (p.topology_region) out.topology_region = p.topology_region;
  out.topics = topics;
  out.out_of_date = false;
  return out;
}

type Semver = [number, number, number, string];

/** A loose semver parse (`1.3.0`, `1.3.0-alpha`); anything else is 0.0.0 as upstream falls back. */
export function parseSemver(v: string): Semver {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) return [0, 0, 0, ''];
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ''];
}

/** Negative when a < b (a pre-release sorts below its release). */
export function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  if (a[3] === b[3]) return 0;
  if (a[3] === '') return 1;
  if (b[3] === '') return -1;
  return a[3] < b[3] ? -1 : 1;
}

/** The /nodes replies of each lookupd that answered, in address order. */
export interface LookupdNodes {
  lookupd: string;
  peers: LookupdPeer[];
}

/** GetLookupdProducers' merge. */
export function mergeLookupdNodes(replies: readonly LookupdNodes[]): Producer[] {
  const byTcp = new Map<string, Producer>();
  for (const { lookupd, peers } of replies) {
    for (const peer of peers) {
      const p = producerFromPeer(peer);
      const key = joinHostPort(p.broadcast_address, p.tcp_port);
      let existing = byTcp.get(key);
      if (!existing) byTcp.set(key, (existing = p));
      (existing.remote_addresses ??= []).push(`${lookupd}/${p.remote_address === '' ? 'N/A' : p.remote_address}`);
    }
  }
  const list = [...byTcp.values()];
  markOutOfDate(list);
  return sortByHostname(list);
}

/** Flags every producer older than the newest version in the list. */
export function markOutOfDate(list: Producer[]): void {
  let max: Semver = [0, 0, 0, ''];
  for (const p of list) {
    const v = parseSemver(p.version);
    if (compareSemver(max, v) < 0) max = v;
  }
  for (const p of list) p.out_of_date = compareSemver(parseSemver(p.version), max) < 0;
}

/** Sorted by hostname, then node address so equal hostnames have a stable order. */
export function sortByHostname(list: Producer[]): Producer[] {
  return list.sort((a, b) => {
    if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
    const x = httpAddressOf(a);
    const y = httpAddressOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** The producers of one topic from each lookupd's /lookup, deduplicated by HTTP address. */
export function mergeTopicProducers(replies: ReadonlyArray<readonly LookupdPeer[]>): Producer[] {
  const out: Producer[] = [];
  const seen = new Set<string>();
  for (const peers of replies) {
    for (const peer of peers) {
      const p = producerFromPeer(peer);
      const key = httpAddressOf(p);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}
