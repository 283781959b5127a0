/** JSON shapes of nsqadmin's /api/* replies (nsqadmin/http.go, internal/clusterinfo/types.go). */

/** Every reply may carry a partial-failure warning ("nodes not answering are reported, not fatal"). */
export interface WithMessage {
  message?: string;
}

/** One percentile of end-to-end processing latency, in nanoseconds. */
export interface Percentile {
  quantile: number;
  count?: number;
  min?: number;
  max?: number;
  average?: number;
  value?: number;
}

/** E2E processing latency of a topic or channel; null when nsqd has it disabled. */
export interface E2ELatency {
  count: number;
  percentiles: Percentile[] | null;
}

/** A client connection as nsqd reports it, enriched by nsqadmin with `node` and `connected`. */
export interface ClientStats {
  node?: string;
  remote_address: string;
  version: string;
  client_id: string;
  hostname: string;
  user_agent: string;
  connect_ts: number;
  connected?: number;
  in_flight_count: number;
  ready_count: number;
  finish_count: number;
  requeue_count: number;
  message_count: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  tls: boolean;
  tls_version?: string;
  tls_cipher_suite?: string;
  tls_negotiated_protocol?: string;
  tls_negotiated_protocol_is_mutual?: boolean;
  authed?: boolean;
  auth_identity?: string;
  auth_identity_url?: string;
  topology_region?: string;
  topology_zone?: string;
  node_topology_region?: string;
  node_topology_zone?: string;
}

/** A channel's counters on one node (`node` = host:port) or summed over nodes (`node` = "*"). */
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
  e2e_processing_latency: E2ELatency | null;
}

/** A topic's counters on one node or summed over nodes, with its channels. */
export interface TopicStats {
  node: string;
  hostname: string;
  topic_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  message_count: number;
  nodes: TopicStats[] | null;
  channels: ChannelStats[] | null;
  paused: boolean;
  e2e_processing_latency: E2ELatency | null;
}

/** A topic as a producer lists it; tombstoned in lookupd or not. */
export interface ProducerTopic {
  topic: string;
  tombstoned: boolean;
}

/** An nsqd node ("producer") as nsqlookupd or nsqd itself describes it. */
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
  topics: ProducerTopic[] | null;
  out_of_date: boolean;
}

/** `GET /api/nodes/:node`. */
export interface NodeDetail extends WithMessage {
  node: string;
  /** That nsqd's topics with their channels and clients. */
  topics: TopicStats[] | null;
  total_messages: number;
  total_clients: number;
}
