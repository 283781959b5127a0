import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import { Logger } from '../lib/logger.js';
import { NSQLOOKUPD_VERSION, type NsqlookupdOptions } from './options.js';
import { buildLookupRouter, type LookupHttpContext } from './http-api.js';
import type { LookupContext } from './lookup-session.js';
import { formatSocketAddress, splitHostPort } from '../lib/host-port.js';
import { RegistrationDB } from './registration-db.js';
import { LookupTcpServer } from './tcp-server.js';

/** The version nsqlookupd reports (`/info`, IDENTIFY, `--version`). */
export const VERSION = NSQLOOKUPD_VERSION;

/** What `--version` prints and the first log line says. */
export const VERSION_STRING = `nsqlookupd v${VERSION} (built w/tsnsq)`;

/** Wall-clock ms with sub-ms precision (monotonic between samples, unlike Date.now()). */
function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A bound listener address. */
export interface BoundAddress {
  host: string;
  port: number;
}

function bound(a: net.AddressInfo): BoundAddress {
  return { host: a.address, port: a.port };
}

/**
 * The nsqlookupd daemon: the registration DB, the TCP listener nsqds register over and the
 * HTTP API consumers query. Nothing is persisted; a restart starts empty.
 */
export class Nsqlookupd {
  readonly options: NsqlookupdOptions;
  readonly logger: Logger;
  readonly db = new RegistrationDB();
  readonly #tcp: LookupTcpServer;
  readonly #http: http.Server;
  #tcpAddr: net.AddressInfo | null = null;
  #httpAddr: net.AddressInfo | null = null;
  #state: 'new' | 'starting' | 'running' | 'closed' = 'new';

  /** `logger` defaults to one built from the options' log prefix and level (stderr). */
  constructor(options: NsqlookupdOptions, logger?: Logger) {
    this.options = options;
    this.logger = logger ?? new Logger(options.logPrefix, options.logLevel);
    const hostname = os.hostname();
    const tcpCtx: LookupContext = {
      db: this.db,
      logger: this.logger,
      now: wallClockMs,
      identifyResponse: () =>
        // Keys sorted, as Go marshals the map.
        JSON.stringify({
          broadcast_address: this.options.broadcastAddress,
          hostname,
          http_port: this.#httpAddr?.port ?? 0,
          tcp_port: this.#tcpAddr?.port ?? 0,
          version: VERSION,
        }),
    };
    const httpCtx: LookupHttpContext = {
      db: this.db,
      logger: this.logger,
      version: VERSION,
      now: wallClockMs,
      inactiveProducerTimeoutMs: () => this.options.inactiveProducerTimeout,
      tombstoneLifetimeMs: () => this.options.tombstoneLifetime,
    };
    this.#tcp = new LookupTcpServer(tcpCtx);
    const router = buildLookupRouter(httpCtx);
    this.#http = http.createServer((req, res) => router.handle(req, res));
  }

  /**
   * Binds TCP then HTTP and starts serving. Rejects with `listen (<addr>) failed - <err>`
   * (after closing whatever was bound) when an address cannot be bound.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('nsqlookupd already started');
    this.#state = 'starting';
    this.logger.info(VERSION_STRING);
    try {
      this.#tcpAddr = await this.#listen(this.options.tcpAddress, (h, p) => this.#tcp.listen(h, p));
      this.#httpAddr = await this.#listen(this.options.httpAddress, (h, p) => this.#listenHttp(h, p));
    } catch (err) {
      await this.#closeServers();
      this.#state = 'closed';
      throw err;
    }
    this.logger.info(`TCP: listening on ${formatSocketAddress(this.#tcpAddr.address, this.#tcpAddr.port)}`);
    this.logger.info(`HTTP: listening on ${formatSocketAddress(this.#httpAddr.address, this.#httpAddr.port)}`);
    this.#state = 'running';
  }

  /** The TCP address actually bound (port resolved when 0 was asked). */
  tcpAddress(): BoundAddress {
    if (this.#tcpAddr === null) throw new Error('nsqlookupd not started');
    return bound(this.#tcpAddr);
  }

  /** The HTTP address actually bound. */
  httpAddress(): BoundAddress {
    if (this.#httpAddr === null) throw new Error('nsqlookupd not started');
    return bound(this.#httpAddr);
  }

  /** Closes the TCP listener and every nsqd connection, then the HTTP listener. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#closeServers();
  }

  async #closeServers(): Promise<void> {
    if (this.#tcpAddr !== null) {
      this.logger.info(`TCP: closing ${formatSocketAddress(this.#tcpAddr.address, this.#tcpAddr.port)}`);
    }
    await this.#tcp.close();
    if (this.#http.listening) {
      if (this.#httpAddr !== null) {
        this.logger.info(`HTTP: closing ${formatSocketAddress(this.#httpAddr.address, this.#httpAddr.port)}`);
      }
      await new Promise<void>((resolve) => {
        this.#http.close(() => resolve());
        this.#http.closeAllConnections();
      });
    }
  }

  async #listen(
    addr: string,
    listen: (host: string | undefined, port: number) => Promise<net.AddressInfo>,
  ): Promise<net.AddressInfo> {
    try {
      const { host, port } = splitHostPort(addr);
      // An empty host listens on every interface, as in Go.
      return await listen(host === '' ? undefined : host, port);
    } catch (err) {
      throw new Error(`listen (${addr}) failed - ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #listenHttp(host: string | undefined, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#http.once('error', onError);
      this.#http.listen({ host, port }, () => {
        this.#http.off('error', onError);
        this.#http.on('error', (err) => this.logger.error(`HTTP: ${err.message}`));
        resolve(this.#http.address() as net.AddressInfo);
      });
    });
  }
}
