import http from 'node:http';
import { getJsonV1 } from '../http/client.js';
import { isJsonObject } from '../lib/go-json.js';
import type { Logger } from '../lib/logger.js';
import { encodeLookupCommand } from '../protocol/lookup-codec.js';
import { isEphemeral } from '../protocol/names.js';
import { joinHostPort } from '../lib/host-port.js';
import { LookupPeer, type LookupPeerInfo, type SendFn } from './lookup-peer.js';

/** nsqd's identity as sent in IDENTIFY (ports are the broadcast ports). */
export interface LookupIdentity {
  version: string;
  tcp_port: number;
  http_port: number;
  hostname: string;
  broadcast_address: string;
  topology_zone: string;
  topology_region: string;
}

/** LookupManager construction options; the timeouts mirror nsqd's flags and fixed internals. */
export interface LookupManagerOptions {
  addresses: string[];
  identity: () => LookupIdentity;
  /** Current registrations: every topic and its non-deleted channels (ephemeral included). */
  snapshot: () => Array<{ topic: string; channels: string[] }>;
  logger: Logger;
  /** Heartbeat PING interval; default 15000. */
  pingIntervalMs?: number;
  /** Largest lookupd response accepted; default 5 MiB (nsqd's --max-body-size). */
  maxBodySize?: number;
  /** Outgoing HTTP (`/channels` query) connect timeout; default 2000 (--http-client-connect-timeout). */
  httpConnectTimeoutMs?: number;
  /** Outgoing HTTP request timeout; default 5000 (--http-client-request-timeout). */
  httpRequestTimeoutMs?: number;
  /** Lookup peer dial timeout; default 1000. */
  dialTimeoutMs?: number;
  /** Lookup peer per-command read/write deadline; default 1000. */
  ioTimeoutMs?: number;
}

/** A command with its text as the original logs it (`REGISTER t c`). */
interface Cmd {
  text: string;
  bytes: Buffer;
}

function command(name: string, params: string[]): Cmd {
  return { text: params.length > 0 ? `${name} ${params.join(' ')}` : name, bytes: encodeLookupCommand(name, params) };
}

const PING: Cmd = command('PING', []);

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Go's `%+v` of nsqd's lookup peerInfo struct, for the `peer info` log line. */
function formatPeerInfo(i: LookupPeerInfo): string {
  return `{TCPPort:${i.tcp_port} HTTPPort:${i.http_port} Version:${i.version} BroadcastAddress:${i.broadcast_address}}`;
}

/** Keeps nsqd registered with every configured nsqlookupd (upstream `nsqd/lookup.go` lookupLoop). */
export class LookupManager {
  readonly #opts: LookupManagerOptions;
  readonly #logger: Logger;
  #peers: LookupPeer[] = [];
  /** Peers with a heartbeat queued or in flight: an unreachable lookupd must not pile them up. */
  readonly #pinging = new Set<LookupPeer>();
  readonly #agent = new http.Agent({ keepAlive: false });
  #timer: NodeJS.Timeout | null = null;
  #started = false;
  #closed = false;

  constructor(opts: LookupManagerOptions) {
    this.#opts = opts;
    this.#logger = opts.logger;
  }

  /** Creates and connects the peers, starts the heartbeat. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#sync(this.#opts.addresses);
    this.#timer = setInterval(() => this.#heartbeat(), this.#opts.pingIntervalMs ?? 15000);
    this.#timer.unref();
  }

  /** Replaces the address list (PUT /config/nsqlookupd_tcp_addresses): keeps, adds, removes peers. */
  setAddresses(addrs: string[]): void {
    this.#opts.addresses = [...addrs];
    if (!this.#started || this.#closed) return;
    const kept: LookupPeer[] = [];
    for (const peer of this.#peers) {
      if (addrs.includes(peer.addr)) {
        kept.push(peer);
      } else {
        this.#logger.info(`LOOKUP(${peer}): removing peer`);
        peer.close();
        this.#pinging.delete(peer);
      }
    }
    this.#peers = kept;
    this.#sync(addrs);
  }

  addresses(): string[] {
    return [...this.#opts.addresses];
  }

  register(topic: string, channel?: string): void {
    this.#notify('REGISTER', topic, channel);
  }

  unregister(topic: string, channel?: string): void {
    this.#notify('UNREGISTER', topic, channel);
  }

  /** lookupd HTTP addresses learned from IDENTIFY responses (broadcast_address:http_port). */
  lookupdHttpAddresses(): string[] {
    const out: string[] = [];
    for (const p of this.#peers) {
      if (p.info.broadcast_address === '') continue;
      out.push(joinHostPort(p.info.broadcast_address, p.info.http_port));
    }
    return out;
  }

  /**
   * GET /channels?topic= on each lookupd (upstream `nsqd/nsqd.go` GetTopic): the sorted union of the channel names,
   * without ephemeral ones. Failures are logged only.
   */
  async channelsForTopic(topic: string): Promise<string[]> {
    const addrs = this.lookupdHttpAddresses();
    if (addrs.length === 0) return [];
    const errors: string[] = [];
    const names = new Set<string>();
    await Promise.all(
      addrs.map(async (addr) => {
        const endpoint = `http://${addr}/channels?topic=${encodeURIComponent(topic)}`;
        this.#logger.info(`CI: querying nsqlookupd ${endpoint}`);
        try {
          for (const c of await this.#getChannels(endpoint)) names.add(c);
        } catch (err) {
          errors.push(errText(err));
        }
      }),
    );
    if (errors.length > 0) {
      const text = errors.length === addrs.length ? `failed to query any nsqlookupd: ${errors.join('\n')}` : errors.join('\n');
      this.#logger.warn(`failed to query nsqlookupd for channels to pre-create for topic ${topic} - ${text}`);
    }
    return [...names].filter((c) => !isEphemeral(c)).sort();
  }

  /** Stops the heartbeat and closes every peer; resolves when their queues have drained. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const peers = this.#peers;
    this.#peers = [];
    for (const p of peers) p.close();
    await Promise.all(peers.map((p) => p.idle()));
    this.#agent.destroy();
    if (this.#started) this.#logger.info('LOOKUP: closing');
  }

  #sync(addrs: string[]): void {
    for (const addr of addrs) {
      if (this.#peers.some((p) => p.addr === addr)) continue;
      this.#logger.info(`LOOKUP(${addr}): adding peer`);
      const peer = new LookupPeer(addr, {
        logger: this.#logger,
        maxBodySize: this.#opts.maxBodySize ?? 5 * 1024 * 1024,
        onConnect: (p, send) => this.#onConnect(p, send),
        dialTimeoutMs: this.#opts.dialTimeoutMs,
        ioTimeoutMs: this.#opts.ioTimeoutMs,
      });
      this.#peers.push(peer);
      // Connect now. Like the original, a failure is silent here: the next command or heartbeat
      // retries and logs.
      peer.command(null).catch(() => undefined);
    }
  }

  #notify(name: 'REGISTER' | 'UNREGISTER', topic: string, channel?: string): void {
    if (!this.#started || this.#closed) return;
    const hasChannel = channel !== undefined && channel !== '';
    const cmd = command(name, hasChannel ? [topic, channel] : [topic]);
    const branch = hasChannel ? 'channel' : 'topic';
    for (const peer of this.#peers) {
      this.#logger.info(`LOOKUPD(${peer}): ${branch} ${cmd.text}`);
      this.#send(peer, cmd);
    }
  }

  #heartbeat(): void {
    for (const peer of this.#peers) {
      if (this.#pinging.has(peer)) continue;
      this.#pinging.add(peer);
      this.#logger.debug(`LOOKUPD(${peer}): sending heartbeat`);
      this.#send(peer, PING).finally(() => this.#pinging.delete(peer));
    }
  }

  #send(peer: LookupPeer, cmd: Cmd): Promise<void> {
    return peer.command(cmd.bytes).then(
      () => undefined,
      (err) => {
        if (peer.state !== 'closed') this.#logger.error(`LOOKUPD(${peer}): ${cmd.text} - ${errText(err)}`);
      },
    );
  }

  /** IDENTIFY, then re-register everything (the lookupd may have restarted empty). */
  async #onConnect(peer: LookupPeer, send: SendFn): Promise<void> {
    const log = this.#logger;
    const id = this.#opts.identity();
    // Sorted keys, as Go marshals the map.
    const body = JSON.stringify({
      broadcast_address: id.broadcast_address,
      hostname: id.hostname,
      http_port: id.http_port,
      tcp_port: id.tcp_port,
      topology_region: id.topology_region,
      topology_zone: id.topology_zone,
      version: id.version,
    });
    let resp: Buffer;
    try {
      resp = await send(encodeLookupCommand('IDENTIFY', [], Buffer.from(body)));
    } catch (err) {
      if (peer.state !== 'closed') log.error(`LOOKUPD(${peer}): IDENTIFY - ${errText(err)}`);
      return;
    }
    const text = resp.toString('utf8');
    if (text === 'E_INVALID') {
      log.info(`LOOKUPD(${peer}): lookupd returned ${text}`);
      peer.disconnect();
      return;
    }
    const info = parseIdentifyResponse(text);
    if (info === null) {
      log.error(`LOOKUPD(${peer}): parsing response - ${text}`);
      peer.disconnect();
      return;
    }
    peer.info = info;
    log.info(`LOOKUPD(${peer}): peer info ${formatPeerInfo(info)}`);
    if (info.broadcast_address === '') log.error(`LOOKUPD(${peer}): no broadcast address`);

    const commands: Cmd[] = [];
    for (const { topic, channels } of this.#opts.snapshot()) {
      if (channels.length === 0) commands.push(command('REGISTER', [topic]));
      else for (const c of channels) commands.push(command('REGISTER', [topic, c]));
    }
    for (const cmd of commands) {
      log.info(`LOOKUPD(${peer}): ${cmd.text}`);
      try {
        await send(cmd.bytes);
      } catch (err) {
        if (peer.state !== 'closed') log.error(`LOOKUPD(${peer}): ${cmd.text} - ${errText(err)}`);
        return;
      }
    }
  }

  async #getChannels(endpoint: string): Promise<string[]> {
    const data = await getJsonV1(endpoint, {
      connectTimeoutMs: this.#opts.httpConnectTimeoutMs ?? 2000,
      requestTimeoutMs: this.#opts.httpRequestTimeoutMs ?? 5000,
      agent: this.#agent,
      headers: { 'User-Agent': `nsqd/${this.#opts.identity().version}` },
    });
    const channels = isJsonObject(data) ? data.channels : undefined;
    if (channels === null || channels === undefined) return [];
    if (Array.isArray(channels) && channels.every((c) => typeof c === 'string')) return channels as string[];
    throw new Error(`GET ${endpoint}: unexpected response ${JSON.stringify(data)}`);
  }
}

/** The lookupd's IDENTIFY response, or null if it is not a JSON object with sane field types. */
function parseIdentifyResponse(text: string): LookupPeerInfo | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isJsonObject(v)) return v === null ? { tcp_port: 0, http_port: 0, version: '', broadcast_address: '' } : null;
  const num = (x: unknown) => (x === undefined || x === null ? 0 : typeof x === 'number' && Number.isInteger(x) ? x : NaN);
  const str = (x: unknown) => (x === undefined || x === null ? '' : typeof x === 'string' ? x : null);
  const info = {
    tcp_port: num(v.tcp_port),
    http_port: num(v.http_port),
    version: str(v.version),
    broadcast_address: str(v.broadcast_address),
  };
  if (Number.isNaN(info.tcp_port) || Number.isNaN(info.http_port) || info.version === null || info.broadcast_address === null) {
    return null;
  }
  return info as LookupPeerInfo;
}
