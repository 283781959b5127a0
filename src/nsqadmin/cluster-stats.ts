/**
 * The stats objects nsqadmin serves and how they aggregate across nsqd nodes
 * (`internal/clusterinfo/types.go`: TopicStats.Add, ChannelStats.Add, ClientStats): pure data,
 * no I/O. Key order of every object is the original's JSON order.
 *
 * Unlike upstream, aggregates are fresh objects: upstream folds later nodes into the first node's
 * channel objects in place, so per-node rows of the first node showed summed figures.
 */

import { addE2e, emptyE2e, nodeE2e, type E2eAggregate, type NsqdE2e } from './e2e-aggregate.js';

/** A client connection as nsqadmin shows it (node = the nsqd it is connected to). */
export interface ClientStats {
  node: string;
  remote_address: string;
  version: string;
  client_id: string;
  hostname: string;
  user_agent: string;
  connect_ts: number;
  /** Nanoseconds since connect_ts (whole seconds, as upstream truncates "now"). */
  connected: number;
  in_flight_count: number;
  ready_count: number;
  finish_count: number;
  requeue_count: number;
  message_count: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  authed: boolean;
  auth_identity: string;
  auth_identity_url: string;
  node_topology_region?: string;
  node_topology_zone?: string;
  topology_region?: string;
  topology_zone?: string;
  tls: boolean;
  tls_cipher_suite: string;
  tls_version: string;
  tls_negotiated_protocol: string;
  tls_negotiated_protocol_is_mutual: boolean;
}

/** A channel on one node (`node` = `host:http_port`) or across nodes (`node` = `*`). */
export interface ChannelStats {
  node: string;
  hostname: string;
  topic_name: string;
  channel_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  requeue_count: number;
  timeout_count: number;
  message_count: number;
  delivery_msg_count?: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  client_count: number;
  nodes: ChannelStats[] | null;
  clients: ClientStats[] | null;
  paused: boolean;
  e2e_processing_latency: E2eAggregate;
}

/** A topic on one node or across nodes. */
export interface TopicStats {
  node: string;
  hostname: string;
  topic_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  message_count: number;
  delivery_msg_count: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  nodes: TopicStats[] | null;
  channels: ChannelStats[];
  paused: boolean;
  e2e_processing_latency: E2eAggregate;
}

/** The parts of an nsqd /stats client object nsqadmin reads. */
export interface NsqdClient {
  client_id?: string;
  hostname?: string;
  version?: string;
  remote_address?: string;
  ready_count?: number;
  in_flight_count?: number;
  message_count?: number;
  finish_count?: number;
  requeue_count?: number;
  connect_ts?: number;
  sample_rate?: number;
  deflate?: boolean;
  snappy?: boolean;
  user_agent?: string;
  authed?: boolean;
  auth_identity?: string;
  auth_identity_url?: string;
  topology_zone?: string;
  topology_region?: string;
  tls?: boolean;
  tls_cipher_suite?: string;
  tls_version?: string;
  tls_negotiated_protocol?: string;
  tls_negotiated_protocol_is_mutual?: boolean;
}

/** The parts of an nsqd /stats channel nsqadmin reads. */
export interface NsqdChannel {
  channel_name: string;
  depth?: number;
  backend_depth?: number;
  in_flight_count?: number;
  deferred_count?: number;
  message_count?: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  requeue_count?: number;
  timeout_count?: number;
  client_count?: number;
  clients?: NsqdClient[] | null;
  paused?: boolean;
  e2e_processing_latency?: NsqdE2e | null;
}

/** The parts of an nsqd /stats topic nsqadmin reads. */
export interface NsqdTopic {
  topic_name: string;
  channels?: NsqdChannel[] | null;
  depth?: number;
  backend_depth?: number;
  message_count?: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  paused?: boolean;
  e2e_processing_latency?: NsqdE2e | null;
}

/** The node a stats reply came from. */
export interface StatsSource {
  /** `broadcast_address:http_port`. */
  node: string;
  hostname: string;
  topologyRegion: string;
  topologyZone: string;
}

const n = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function setLocality(o: { zone_local_msg_count?: number; region_local_msg_count?: number; global_msg_count?: number }, z: number, r: number, g: number): void {
  if (z !== 0) o.zone_local_msg_count = z;
  if (r !== 0) o.region_local_msg_count = r;
  if (g !== 0) o.global_msg_count = g;
}

/** A client of `src`, `nowMs` being the wall clock (connected is whole seconds, in ns). */
export function clientFromNsqd(c: NsqdClient, src: StatsSource, nowMs: number): ClientStats {
  const connectTs = n(c.connect_ts);
  const out = {
    node: src.node,
    remote_address: c.remote_address ?? '',
    version: c.version ?? '',
    client_id: c.client_id ?? '',
    hostname: c.hostname ?? '',
    user_agent: c.user_agent ?? '',
    connect_ts: connectTs,
    connected: (Math.floor(nowMs / 1000) - connectTs) * 1e9,
    in_flight_count: n(c.in_flight_count),
    ready_count: n(c.ready_count),
    finish_count: n(c.finish_count),
    requeue_count: n(c.requeue_count),
    message_count: n(c.message_count),
    sample_rate: n(c.sample_rate),
    deflate: c.deflate === true,
    snappy: c.snappy === true,
    authed: c.authed === true,
    auth_identity: c.auth_identity ?? '',
    auth_identity_url: c.auth_identity_url ?? '',
  } as ClientStats;
  if (src.topologyRegion) out.node_topology_region = src.topologyRegion;
  if (src.topologyZone) out.node_topology_zone = src.topologyZone;
  if (c.topology_region) out.topology_region = c.topology_region;
  if (c.topology_zone) out.topology_zone = c.topology_zone;
  out.tls = c.tls === true;
  out.tls_cipher_suite = c.tls_cipher_suite ?? '';
  out.tls_version = c.tls_version ?? '';
  out.tls_negotiated_protocol = c.tls_negotiated_protocol ?? '';
  out.tls_negotiated_protocol_is_mutual = c.tls_negotiated_protocol_is_mutual === true;
  return out;
}

/** One node's channel (memory_depth and delivery counts derived as upstream does). */
export function channelFromNsqd(topic: string, c: NsqdChannel, src: StatsSource, nowMs: number): ChannelStats {
  const z = n(c.zone_local_msg_count);
  const r = n(c.region_local_msg_count);
  const g = n(c.global_msg_count);
  const out = {
    node: src.node,
    hostname: src.hostname,
    topic_name: topic,
    channel_name: c.channel_name,
    depth: n(c.depth),
    memory_depth: n(c.depth) - n(c.backend_depth),
    backend_depth: n(c.backend_depth),
    in_flight_count: n(c.in_flight_count),
    deferred_count: n(c.deferred_count),
    requeue_count: n(c.requeue_count),
    timeout_count: n(c.timeout_count),
    message_count: n(c.message_count),
  } as ChannelStats;
  if (z + r + g !== 0) out.delivery_msg_count = z + r + g;
  setLocality(out, z, r, g);
  out.client_count = n(c.client_count);
  out.nodes = null;
  out.clients = c.clients ? c.clients.map((cl) => clientFromNsqd(cl, src, nowMs)) : null;
  out.paused = c.paused === true;
  out.e2e_processing_latency = nodeE2e(c.e2e_processing_latency);
  return out;
}

/** One node's topic with its channels. */
export function topicFromNsqd(t: NsqdTopic, src: StatsSource, nowMs: number): TopicStats {
  const z = n(t.zone_local_msg_count);
  const r = n(t.region_local_msg_count);
  const g = n(t.global_msg_count);
  const out = {
    node: src.node,
    hostname: src.hostname,
    topic_name: t.topic_name,
    depth: n(t.depth),
    memory_depth: n(t.depth) - n(t.backend_depth),
    backend_depth: n(t.backend_depth),
    message_count: n(t.message_count),
    delivery_msg_count: z + r + g,
  } as TopicStats;
  setLocality(out, z, r, g);
  out.nodes = null;
  out.channels = (t.channels ?? []).map((c) => channelFromNsqd(t.topic_name, c, src, nowMs));
  out.paused = t.paused === true;
  out.e2e_processing_latency = nodeE2e(t.e2e_processing_latency);
  return out;
}

/** An empty cross-node channel aggregate (`node:"*"`). */
export function emptyChannelAggregate(topic: string, channel: string): ChannelStats {
  return {
    node: '*',
    hostname: '',
    topic_name: topic,
    channel_name: channel,
    depth: 0,
    memory_depth: 0,
    backend_depth: 0,
    in_flight_count: 0,
    deferred_count: 0,
    requeue_count: 0,
    timeout_count: 0,
    message_count: 0,
    // Placeholders keep the JSON key order when sums make them non-zero (undefined is not emitted).
    delivery_msg_count: undefined,
    zone_local_msg_count: undefined,
    region_local_msg_count: undefined,
    global_msg_count: undefined,
    client_count: 0,
    nodes: null,
    clients: null,
    paused: false,
    e2e_processing_latency: emptyE2e(topic, channel),
  };
}

/** An empty cross-node topic aggregate. */
export function emptyTopicAggregate(topic: string): TopicStats {
  return {
    node: '*',
    hostname: '',
    topic_name: topic,
    depth: 0,
    memory_depth: 0,
    backend_depth: 0,
    message_count: 0,
    delivery_msg_count: 0,
    zone_local_msg_count: undefined,
    region_local_msg_count: undefined,
    global_msg_count: undefined,
    nodes: null,
    channels: [],
    paused: false,
    e2e_processing_latency: emptyE2e(topic),
  };
}

function byHostThenNode(a: { hostname: string; node: string }, b: { hostname: string; node: string }): number {
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** Re-emits the optional locality counters after a sum so they stay omitted when zero. */
function sumLocality<T extends ChannelStats | TopicStats>(into: T, a: T): void {
  const z = n(into.zone_local_msg_count) + n(a.zone_local_msg_count);
  const r = n(into.region_local_msg_count) + n(a.region_local_msg_count);
  const g = n(into.global_msg_count) + n(a.global_msg_count);
  if (z !== 0) into.zone_local_msg_count = z;
  if (r !== 0) into.region_local_msg_count = r;
  if (g !== 0) into.global_msg_count = g;
}

/** ChannelStats.Add: sums, paused if any, node rows sorted by hostname, clients concatenated. */
export function addChannel(into: ChannelStats, a: ChannelStats): void {
  into.node = '*';
  into.depth += a.depth;
  into.memory_depth += a.memory_depth;
  into.backend_depth += a.backend_depth;
  into.in_flight_count += a.in_flight_count;
  into.deferred_count += a.deferred_count;
  into.requeue_count += a.requeue_count;
  into.timeout_count += a.timeout_count;
  into.message_count += a.message_count;
  const delivery = n(into.delivery_msg_count) + n(a.delivery_msg_count);
  if (delivery !== 0) into.delivery_msg_count = delivery;
  sumLocality(into, a);
  into.client_count += a.client_count;
  if (a.paused) into.paused = true;
  (into.nodes ??= []).push(a);
  into.nodes.sort(byHostThenNode);
  addE2e(into.e2e_processing_latency, a.e2e_processing_latency);
  if (a.clients) {
    into.clients = [...(into.clients ?? []), ...a.clients];
    into.clients.sort((x, y) => (x.hostname < y.hostname ? -1 : x.hostname > y.hostname ? 1 : 0));
  }
}

/** TopicStats.Add: sums, node rows, and channels merged by name into fresh aggregates. */
export function addTopic(into: TopicStats, a: TopicStats): void {
  into.node = '*';
  into.depth += a.depth;
  into.memory_depth += a.memory_depth;
  into.backend_depth += a.backend_depth;
  into.message_count += a.message_count;
  into.delivery_msg_count += a.delivery_msg_count;
  sumLocality(into, a);
  if (a.paused) into.paused = true;
  for (const c of a.channels) {
    let agg = into.channels.find((x) => x.channel_name === c.channel_name);
    if (!agg) {
      agg = emptyChannelAggregate(into.topic_name, c.channel_name);
      into.channels.push(agg);
    }
    addChannel(agg, c);
  }
  (into.nodes ??= []).push(a);
  into.nodes.sort(byHostThenNode);
  addE2e(into.e2e_processing_latency, a.e2e_processing_latency);
}

function localityRank(c: ClientStats): number {
  const sameRegion = c.topology_region !== undefined && c.topology_region === c.node_topology_region;
  if (sameRegion && c.topology_zone !== undefined && c.topology_zone === c.node_topology_zone) return 0;
  if (sameRegion) return 1;
  return 2;
}

function cmp(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The channel page's client order: by node, then zone-local, region-local, then region/zone name. */
export function sortClientsByTopology(clients: ClientStats[]): void {
  clients.sort(
    (a, b) =>
      cmp(a.node, b.node) ||
      localityRank(a) - localityRank(b) ||
      cmp(a.topology_region, b.topology_region) ||
      cmp(a.topology_zone, b.topology_zone) ||
      cmp(a.hostname, b.hostname) ||
      cmp(a.remote_address, b.remote_address),
  );
}
