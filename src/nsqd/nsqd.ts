import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as tls from 'node:tls';
import { CorruptionTally } from '../diskqueue/corruption-tally.js';
import { DiskQueue } from '../diskqueue/disk-queue.js';
import type { BackendQueue } from '../diskqueue/backend-queue.js';
import { DummyBackendQueue } from '../diskqueue/dummy-backend-queue.js';
import { GroupCommit } from '../diskqueue/group-commit.js';
import { WriteBatch } from '../diskqueue/write-batch.js';
import { isTcpAddress, splitHostPort } from '../lib/host-port.js';
import { Logger } from '../lib/logger.js';
import { E2eLatency } from '../lib/quantile.js';
import { MESSAGE_HEADER_SIZE } from '../protocol/message.js';
import { isEphemeral, isValidChannelName, isValidTopicName } from '../protocol/names.js';
import { ClientV2 } from './client-v2.js';
import type { NsqdContext } from './context.js';
import { DataLock } from './data-lock.js';
import { Drain } from './drain.js';
import { createHttpApi } from './http-api.js';
import { LookupManager } from './lookup-manager.js';
import { watchAcceptErrors, watchDescriptorLimit } from './accept-errors.js';
import { FlushScheduler } from './flush-scheduler.js';
import { InflightJournals } from './inflight-journals.js';
import { MetadataFile, readMetadata, type Metadata } from './metadata.js';
import { NSQD_VERSION, tlsVersionNodeName, type NsqdOptions } from './options.js';
import { COMMANDS } from './protocol-v2.js';
import { QueueExtensions } from './queue-extensions.js';
import { statsSnapshot } from './stats.js';
import { StatsdReporter, statsdPrefix } from './statsd.js';
import { Topic } from './topic.js';

export interface BoundAddress {
  host: string;
  port: number;
}

/**
 * The nsqd daemon: owns topics, client connections, the TCP/HTTP(S) listeners, the metadata
 * file, the queue-scan timer and the registration with nsqlookupd (upstream `nsqd/nsqd.go`).
 * Near 560 lines because it is the one place these lifecycles meet (start order, shutdown order,
 * the NsqdContext the topics and clients call back into); the work itself lives elsewhere.
 */
export class Nsqd implements NsqdContext {
  readonly options: NsqdOptions;
  readonly logger: Logger;
  readonly version = NSQD_VERSION;
  readonly startTime = Date.now();
  readonly writeBatch = new WriteBatch();
  readonly groupCommit = new GroupCommit();
  /** Damaged disk-queue bytes skipped per queue (--disk-checksums, docs/disk-format.md). */
  readonly corruptionTally = new CorruptionTally();
  readonly flushScheduler = new FlushScheduler();
  /** Channels' in-flight journals (--durable-inflight, docs/extensions.md). */
  readonly inflightJournals: InflightJournals;
  readonly #metadataFile: MetadataFile;
  readonly #topics = new Map<string, Topic>();
  readonly clients = new Map<number, ClientV2>();
  #nextClientId = 1;
  #health: string | null = null;
  #loading = false;
  #closing = false;
  #tcpServer: net.Server | null = null;
  #httpServer: http.Server | null = null;
  #httpsServer: https.Server | null = null;
  #secureContext: tls.SecureContext | null = null;
  #tlsOptions: tls.SecureContextOptions | null = null;
  #rootCa: Buffer | undefined;
  #scanTimer: NodeJS.Timeout | null = null;
  #stopFdWatch: (() => void) | null = null;
  #lock: DataLock;
  #lookup: LookupManager | null = null;
  #statsd: StatsdReporter | null = null;
  readonly #topicReady = new Map<Topic, Promise<void>>();
  #tcpPort = 0;
  #httpPort = 0;
  #httpsPort = 0;
  // Until nsqd.dat has been read, closing must not write it: a start-up that failed on a broken
  // file would otherwise replace the operator's topology with an empty one.
  #metadataLoaded = false;
  /** Opt-in queue extensions and drain (docs/extensions.md). */
  readonly extensions: QueueExtensions;
  readonly #drain: Drain;
  /** Called when a drain has delivered everything (the app exits 0); closes the daemon when unset. */
  onDrained: (() => void) | null = null;

  constructor(options: NsqdOptions, logger?: Logger) {
    this.options = options;
    this.logger = logger ?? new Logger(options.logPrefix, options.logLevel);
    this.extensions = new QueueExtensions(this);
    this.inflightJournals = new InflightJournals(this);
    this.#drain = new Drain({
      logger: this.logger,
      topics: () => this.topics(),
      leaveLookupd: () => this.#leaveLookupd(),
      drained: () => (this.onDrained !== null ? this.onDrained() : void this.close()),
    });
    this.extensions.drain = this.#drain;
    this.#lock = new DataLock(options.dataPath);
    this.#metadataFile = new MetadataFile(options.dataPath, () => this.metadata(), this.logger);
    // The root CA file also serves as the trust roots of HTTPS auth servers, with or without TLS.
    this.#rootCa = options.tlsRootCaFile !== '' ? fs.readFileSync(options.tlsRootCaFile) : undefined;
    if (options.tlsCert !== '' && options.tlsKey !== '') {
      this.#tlsOptions = {
        cert: fs.readFileSync(options.tlsCert),
        key: fs.readFileSync(options.tlsKey),
        ca: this.#rootCa,
        minVersion: tlsVersionNodeName(options.tlsMinVersion),
      };
      this.#secureContext = tls.createSecureContext(this.#tlsOptions);
    } else if (options.tlsRequired !== 0) {
      throw new Error('cannot require TLS client connections without TLS key and cert');
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Lock the data dir, bind the listeners, load metadata, start the loops (upstream `nsqd/nsqd.go` New, Main). */
  async start(): Promise<void> {
    const o = this.options;
    this.logger.info(`nsqd v${this.version} (built w/tsnsq node ${process.version})`);
    this.logger.info(`ID: ${o.nodeId}`);
    try {
      this.#lock.acquire();
    } catch (err) {
      throw new Error(`failed to lock data-path: ${(err as Error).message}`);
    }
    try {
      // Half-open: a client's EOF is answered after its last commands (compression is async).
      this.#tcpServer = net.createServer({ allowHalfOpen: true }, (sock) => this.#accept(sock));
      watchAcceptErrors(this.#tcpServer, 'TCP', this.logger);
      this.#stopFdWatch = watchDescriptorLimit('TCP', this.logger);
      this.#tcpPort = await listen(this.#tcpServer, o.tcpAddress);
      const api = createHttpApi(this);
      if (o.httpAddress !== '') {
        this.#httpServer = http.createServer(api.http);
        watchAcceptErrors(this.#httpServer, 'HTTP', this.logger);
        // The router sends 100 Continue itself when a handler reads the body.
        this.#httpServer.on('checkContinue', api.http);
        this.#httpPort = await listen(this.#httpServer, o.httpAddress);
      }
      if (this.#tlsOptions !== null && o.httpsAddress !== '') {
        this.#httpsServer = https.createServer(
          {
            ...this.#tlsOptions,
            requestCert: o.tlsClientAuthPolicy === 'require' || o.tlsClientAuthPolicy === 'require-verify',
            rejectUnauthorized: o.tlsClientAuthPolicy === 'require-verify',
          },
          api.https,
        );
        this.#httpsServer.on('checkContinue', api.https);
        watchAcceptErrors(this.#httpsServer, 'HTTPS', this.logger);
        // `require` accepts any certificate but, like Go's RequireAnyClientCert, not none.
        if (o.tlsClientAuthPolicy === 'require') {
          this.#httpsServer.on('secureConnection', (s: tls.TLSSocket) => {
            if (!s.getPeerCertificate()?.subject) s.destroy();
          });
        }
        this.#httpsPort = await listen(this.#httpsServer, o.httpsAddress);
      }
      try {
        this.loadMetadata();
      } catch (err) {
        throw new Error(`failed to load metadata - ${(err as Error).message}`);
      }
      this.#metadataLoaded = true;
      try {
        this.persistMetadata(true);
      } catch (err) {
        throw new Error(`failed to persist metadata - ${(err as Error).message}`);
      }
      // As the original, the listeners are announced once metadata is loaded and they serve.
      this.logger.info(`TCP: listening on ${describe(this.#tcpServer)}`);
      if (this.#httpServer !== null) this.logger.info(`HTTP: listening on ${describe(this.#httpServer)}`);
      if (this.#httpsServer !== null) this.logger.info(`HTTPS: listening on ${describe(this.#httpsServer)}`);
      this.#scanTimer = setInterval(() => this.#scan(), o.queueScanInterval);
      this.#lookup = new LookupManager({
        addresses: o.lookupdTcpAddresses,
        identity: () => ({
          version: this.version,
          tcp_port: this.broadcastTcpPort(),
          http_port: this.broadcastHttpPort(),
          hostname: os.hostname(),
          broadcast_address: o.broadcastAddress,
          topology_zone: o.topologyZone,
          topology_region: o.topologyRegion,
        }),
        // A draining nsqd stays unregistered when it reconnects to a lookupd.
        snapshot: () =>
          this.#drain.active ? [] : [...this.#topics.values()].map((t) => ({ topic: t.name, channels: t.channels().map((c) => c.name) })),
        logger: this.logger,
        // As the original: lookupd responses are bounded by --max-body-size, and the /channels
        // query uses the --http-client-* timeouts (a hung lookupd delays a new topic's first PUB).
        maxBodySize: o.maxBodySize,
        httpConnectTimeoutMs: o.httpClientConnectTimeout,
        httpRequestTimeoutMs: o.httpClientRequestTimeout,
      });
      this.#lookup.start();
      if (o.statsdAddress !== '') {
        // The prefix's host key uses the broadcast HTTP port, known only once HTTP is bound.
        this.#statsd = new StatsdReporter({
          address: o.statsdAddress,
          prefix: statsdPrefix(o.statsdPrefix, o.broadcastAddress, this.broadcastHttpPort()),
          intervalMs: o.statsdInterval,
          udpPacketSize: o.statsdUdpPacketSize,
          memStats: o.statsdMemStats,
          excludeEphemeral: o.statsdExcludeEphemeral,
          snapshot: () => statsSnapshot(this, o.statsdMemStats),
          log: this.logger,
        });
        this.#statsd.start();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Graceful shutdown (upstream `nsqd/nsqd.go` Exit): clients closed, metadata written, queues flushed to disk. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#drain.stop();
    // The original's shutdown log lines, in its order; the listeners' "closing"
    // lines come once their connections are gone, as its servers log them after their handlers.
    const tcpAddr = this.#tcpServer?.listening ? describe(this.#tcpServer) : null;
    this.#tcpServer?.close();
    this.#stopFdWatch?.();
    for (const c of [...this.clients.values()]) c.closeGracefully();
    if (tcpAddr !== null) this.logger.info(`TCP: closing ${tcpAddr}`);
    for (const [proto, server] of [['HTTP', this.#httpServer], ['HTTPS', this.#httpsServer]] as const) {
      if (server === null) continue;
      const addr = server.listening ? describe(server) : null;
      server.close();
      server.closeAllConnections();
      if (addr !== null) this.logger.info(`${proto}: closing ${addr}`);
    }
    // Commits in flight finish first: their meta files must not land after the final ones.
    await this.groupCommit.settled();
    if (this.#metadataLoaded) {
      try {
        this.persistMetadata(true);
      } catch (err) {
        this.logger.error(`failed to persist metadata - ${(err as Error).message}`);
      }
      this.logger.info('NSQ: closing topics');
      for (const t of this.#topics.values()) t.close();
      this.logger.info('NSQ: stopping subsystems');
    }
    if (this.#scanTimer !== null) {
      clearInterval(this.#scanTimer);
      this.logger.info('QUEUESCAN: closing');
    }
    await this.#lookup?.close();
    if (this.#statsd !== null) {
      await this.#statsd.stop();
      this.logger.info('STATSD: closing');
    }
    this.#lock.release();
    if (this.#metadataLoaded) this.logger.info('NSQ: bye');
  }

  // ---- addresses ------------------------------------------------------------------------

  tcpPort(): number {
    return this.#tcpPort;
  }
  httpPort(): number {
    return this.#httpPort;
  }
  httpsPort(): number {
    return this.#httpsPort;
  }
  // A Unix-socket listener has no port (-1 in /info): the broadcast port then stays 0 unless set
  // (lookupd refuses port 0), as upstream only fills it from a TCP address.
  broadcastTcpPort(): number {
    return this.options.broadcastTcpPort || Math.max(0, this.#tcpPort);
  }
  broadcastHttpPort(): number {
    return this.options.broadcastHttpPort || Math.max(0, this.#httpPort);
  }
  lookup(): LookupManager | null {
    return this.#lookup;
  }

  // ---- NsqdContext ------------------------------------------------------------------------

  makeBackend(name: string, ephemeral: boolean): BackendQueue {
    if (ephemeral) return new DummyBackendQueue();
    const o = this.options;
    return new DiskQueue({
      name,
      dataPath: o.dataPath || '.',
      maxBytesPerFile: o.maxBytesPerFile,
      minMsgSize: MESSAGE_HEADER_SIZE,
      maxMsgSize: o.maxMsgSize + MESSAGE_HEADER_SIZE,
      syncEvery: o.syncEvery,
      syncTimeoutMs: o.syncTimeout,
      logger: this.logger,
      writeBatch: this.writeBatch,
      groupCommit: this.groupCommit,
      checksums: o.diskChecksums,
      corruptionTally: this.corruptionTally,
    });
  }

  notify(event: 'create' | 'delete', topic: string, channel?: string): void {
    if (this.#lookup !== null && !this.#loading) {
      if (event === 'create' && !this.#drain.active) this.#lookup.register(topic, channel);
      else if (event === 'delete') this.#lookup.unregister(topic, channel);
    }
    if (event === 'delete') this.extensions.forget(topic, channel);
    const ephemeral = isEphemeral(topic) || (channel !== undefined && isEphemeral(channel));
    if (!this.#loading && !ephemeral && !this.#closing) this.persistMetadata();
  }

  setHealth(err: Error | null): void {
    this.#health = err === null ? null : err.message;
  }

  health(): string {
    return this.#health === null ? 'OK' : `NOK - ${this.#health}`;
  }

  isHealthy(): boolean {
    return this.#health === null;
  }

  makeE2eLatency(): E2eLatency | null {
    const p = this.options.e2eProcessingLatencyPercentiles;
    if (p.length === 0) return null;
    return new E2eLatency(this.options.e2eProcessingLatencyWindowTime, p, () => this.now());
  }

  now(): number {
    return Date.now();
  }

  // ---- ClientHost -----------------------------------------------------------------------

  secureContext(): tls.SecureContext | null {
    return this.#secureContext;
  }

  authEnabled(): boolean {
    return this.options.authHttpAddresses.length > 0;
  }

  tlsRootCa(): Buffer | undefined {
    return this.#rootCa;
  }

  topicReady(topic: Topic): Promise<void> | null {
    return this.#topicReady.get(topic) ?? null;
  }

  clientClosed(c: ClientV2): void {
    this.clients.delete(c.id);
  }

  #accept(sock: net.Socket): void {
    if (this.#closing) {
      sock.destroy();
      return;
    }
    const id = this.#nextClientId++;
    const c = new ClientV2(id, sock, this, COMMANDS);
    this.clients.set(id, c);
    this.logger.info(`TCP: new client(${c.remoteAddress})`);
  }

  // ---- topics ---------------------------------------------------------------------------

  topics(): Topic[] {
    return [...this.#topics.values()];
  }

  getExistingTopic(name: string): Topic | undefined {
    return this.#topics.get(name);
  }

  /** Get or create a topic (upstream `nsqd/nsqd.go` GetTopic). */
  getTopic(name: string): Topic {
    let t = this.#topics.get(name);
    if (t !== undefined) return t;
    t = new Topic(name, this);
    if (t.ephemeral) t.onEmpty = (x) => this.deleteExistingTopic(x.name);
    this.#topics.set(name, t);
    this.logger.info(`TOPIC(${name}): created`);
    this.notify('create', name);
    if (!this.#loading) this.#learnClusterChannels(t);
    return t;
  }

  /** A topic new on this node starts with the channels the cluster already has for it. */
  #learnClusterChannels(t: Topic): void {
    const lookup = this.#lookup;
    if (lookup === null) return;
    if (lookup.lookupdHttpAddresses().length === 0) {
      // No lookupd has answered IDENTIFY yet: the topic may miss channels that exist elsewhere.
      if (lookup.addresses().length > 0) {
        this.logger.error(`no available nsqlookupd to query for channels to pre-create for topic ${t.name}`);
      }
      return;
    }
    const p = lookup
      .channelsForTopic(t.name)
      .then((names) => {
        for (const n of names) if (!isEphemeral(n) && isValidChannelName(n) && !t.exiting) t.getChannel(n);
      })
      .catch((err: Error) => this.logger.error(`TOPIC(${t.name}): failed to query lookupd channels - ${err.message}`))
      .finally(() => this.#topicReady.delete(t));
    this.#topicReady.set(t, p);
  }

  deleteExistingTopic(name: string): boolean {
    const t = this.#topics.get(name);
    if (t === undefined) return false;
    this.#topics.delete(name);
    t.delete();
    this.notify('delete', name);
    return true;
  }

  /** Drain: unregister every topic and channel from nsqlookupd at once (as upstream does on topic delete). */
  #leaveLookupd(): void {
    const lookup = this.#lookup;
    if (lookup === null) return;
    for (const t of this.#topics.values()) {
      for (const ch of t.channels()) lookup.unregister(t.name, ch.name);
      lookup.unregister(t.name);
    }
  }

  // ---- metadata -------------------------------------------------------------------------

  loadMetadata(): void {
    const md = readMetadata(this.options.dataPath);
    if (md === null) return;
    this.#loading = true;
    try {
      for (const tm of md.topics) {
        if (!isValidTopicName(tm.name)) {
          this.logger.warn(`skipping creation of invalid topic ${tm.name}`);
          continue;
        }
        if (tm.extensions !== undefined) this.extensions.restore(tm.name, null, tm.extensions);
        const t = this.getTopic(tm.name);
        if (tm.paused) t.setPaused(true);
        for (const cm of tm.channels ?? []) {
          if (!isValidChannelName(cm.name)) {
            this.logger.warn(`skipping creation of invalid channel ${cm.name}`);
            continue;
          }
          if (cm.extensions !== undefined) this.extensions.restore(tm.name, cm.name, cm.extensions);
          const ch = t.getChannel(cm.name);
          if (cm.paused) ch.setPaused(true);
        }
      }
    } finally {
      this.#loading = false;
    }
  }

  metadata(): Metadata {
    const topics = [];
    for (const t of this.#topics.values()) {
      if (t.ephemeral) continue;
      const channels = t
        .channels()
        .filter((c) => !c.ephemeral)
        .map((c) => withExtensions({ name: c.name, paused: c.paused }, this.extensions.persisted(t.name, c.name)));
      const tm = { name: t.name, paused: t.paused, channels: channels.length ? channels : null };
      topics.push(withExtensions(tm, this.extensions.persisted(t.name, null)));
    }
    return { topics, version: this.version };
  }

  /**
   * Persist nsqd.dat: now (synchronously: start-up and shutdown), or with the next group commit,
   * its write and fsync in the thread pool. Upstream persists from a goroutine of its own after a
   * topic or channel change (nsqd.go Notify), so nothing waits for it there either; an fsync on
   * the event loop stalled every client for as long as the disk took (tens of ms under write
   * load). In durable mode (--sync-every=1) the publishes of that commit wait for it too, so an
   * acknowledged first publish has its topic in nsqd.dat.
   */
  persistMetadata(now = false): void {
    if (now) this.#metadataFile.writeNow();
    else this.groupCommit.mark(this.#metadataFile);
  }

  // ---- queue scan -----------------------------------------------------------------------

  /**
   * Every scan interval, time out due in-flight messages and release due deferred ones on
   * every channel. Each channel keeps both sets in heaps, so a channel with nothing due costs
   * two comparisons: no random sampling, and new channels are scanned from the first tick.
   */
  #scan(): void {
    const now = Date.now();
    for (const t of this.#topics.values()) {
      for (const ch of t.channels()) ch.processQueues(now);
    }
  }
}

/** Adds the `extensions` key (queue settings) only when there are some: nsqd.dat stays the original's otherwise. */
function withExtensions<T extends object>(md: T, ext: Record<string, unknown> | undefined): T {
  return ext === undefined ? md : { ...md, extensions: ext };
}

/** Listen on `host:port` or a Unix socket path; resolves to the bound port (-1 for Unix sockets). */
function listen(server: net.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`listen (${address}) failed - ${err.message}`)));
    const done = () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : -1);
    };
    if (!isTcpAddress(address)) {
      server.listen(address, done);
      return;
    }
    let hp: { host: string; port: number };
    try {
      hp = splitHostPort(address);
    } catch (err) {
      reject(new Error(`listen (${address}) failed - ${(err as Error).message}`));
      return;
    }
    server.listen(hp.port, hp.host === '' ? undefined : hp.host, done);
  });
}

function describe(server: net.Server): string {
  const a = server.address();
  if (typeof a === 'string') return a;
  if (a === null) return '?';
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
