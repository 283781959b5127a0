/**
 * The nsqadmin daemon (`nsqadmin/nsqadmin.go`): checks its upstream addresses and TLS files,
 * serves the HTTP API and UI, and runs the live-chart sampler. Stateless apart from the chart
 * history; options can change at runtime through PUT /config/:opt.
 */

import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { Logger } from '../lib/logger.js';
import { ClusterInfo } from './cluster-info.js';
import { GzipServerResponse } from './gzip-response.js';
import { buildAdminRouter } from './http-api.js';
import { Notifier } from './notify.js';
import { VERSION_STRING, viaHostname, type NsqadminOptions } from './options.js';
import { joinHostPort, splitHostPort } from '../lib/host-port.js';
import { ChartSampler } from './sampler.js';
import { DEFAULT_UI_DIR, StaticUi } from './static-ui.js';
import { UpstreamClient, type UpstreamTls } from './upstream-client.js';

/** A startup problem; the app logs `FATAL: <message>` and exits 1. */
export class NsqadminStartError extends Error {
  override readonly name = 'NsqadminStartError';
}

/** Go's net.ResolveTCPAddr check the original makes for every upstream address. */
async function checkResolves(flag: string, addr: string): Promise<void> {
  try {
    const { host } = splitHostPort(addr);
    if (host !== '') await dns.lookup(host);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOTFOUND' ? `lookup ${addr}: no such host` : (err as Error).message;
    throw new NsqadminStartError(`failed to resolve ${flag} (${addr}) - ${why}`);
  }
}

function readTls(o: NsqadminOptions): UpstreamTls {
  const tls: UpstreamTls = { rejectUnauthorized: !o.httpClientTlsInsecureSkipVerify };
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new NsqadminStartError(`failed to read ${what} ${file} - ${(err as Error).message}`);
    }
  };
  if (o.httpClientTlsRootCaFile !== '') tls.ca = read(o.httpClientTlsRootCaFile, 'TLS root CA file');
  if (o.httpClientTlsCert !== '') {
    tls.cert = read(o.httpClientTlsCert, 'TLS certificate');
    tls.key = read(o.httpClientTlsKey, 'TLS key');
  }
  return tls;
}

/** The running nsqadmin. */
export class Nsqadmin {
  readonly logger: Logger;
  #opts: NsqadminOptions;
  #client: UpstreamClient | undefined;
  #sampler: ChartSampler | undefined;
  #notifier: Notifier | undefined;
  #server: http.Server<typeof http.IncomingMessage, typeof GzipServerResponse> | undefined;
  #address: net.AddressInfo | undefined;
  #state: 'new' | 'running' | 'closed' = 'new';

  /** `uiDir` overrides where the UI bundle is read from (default dist/nsqadmin-ui, or --dev-static-dir). */
  constructor(
    options: NsqadminOptions,
    logger?: Logger,
    readonly uiDir?: string,
  ) {
    this.#opts = options;
    this.logger = logger ?? new Logger(options.logPrefix, options.logLevel);
  }

  /** The current options. */
  get options(): NsqadminOptions {
    return this.#opts;
  }

  /** Checks upstreams, binds the HTTP address and starts sampling. Rejects with NsqadminStartError. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('nsqadmin already started');
    this.#state = 'running';
    const o = this.#opts;
    this.logger.info(VERSION_STRING);
    for (const a of o.nsqlookupdHttpAddresses) await checkResolves('--lookupd-http-address', a);
    for (const a of o.nsqdHttpAddresses) await checkResolves('--nsqd-http-address', a);
    const client = new UpstreamClient({ connectMs: o.httpClientConnectTimeout, requestMs: o.httpClientRequestTimeout }, readTls(o));
    this.#client = client;
    const cluster = new ClusterInfo(client, this.logger);
    const addresses = () => ({ lookupd: this.#opts.nsqlookupdHttpAddresses, nsqd: this.#opts.nsqdHttpAddresses });
    const sampler = new ChartSampler(cluster, addresses, o.chartSampleInterval, this.logger);
    this.#sampler = sampler;
    const notifier = new Notifier(() => this.#opts.notificationHttpEndpoint, client, viaHostname(), this.logger);
    this.#notifier = notifier;
    const uiDir = this.uiDir ?? (o.devStaticDir !== '' ? o.devStaticDir : DEFAULT_UI_DIR);
    const router = buildAdminRouter({
      opts: () => this.#opts,
      setOpts: (next) => (this.#opts = next),
      logger: this.logger,
      cluster,
      notifier,
      sampler,
      ui: new StaticUi(uiDir, o.devStaticDir === ''),
    });
    const server = http.createServer({ ServerResponse: GzipServerResponse }, (req, res) => router.handle(req, res));
    this.#server = server;
    const { host, port } = splitHostPort(o.httpAddress);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: host === '' ? undefined : host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      client.close();
      throw new NsqadminStartError(`listen (${o.httpAddress}) failed - ${(err as Error).message}`);
    }
    this.#address = server.address() as net.AddressInfo;
    let shown = this.#address.address;
    if (shown.startsWith('::ffff:')) shown = shown.slice(7);
    this.logger.info(`HTTP: listening on ${joinHostPort(shown, this.#address.port)}`);
    sampler.start();
  }

  /** The bound HTTP port (after start). */
  httpPort(): number {
    return this.#address?.port ?? 0;
  }

  /**
   * Stops sampling, closes the listener and its connections, lets queued notifications finish,
   * then drops upstream sockets (which also ends a sample still waiting on a slow nsqd).
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const sampling = this.#sampler?.stop();
    const server = this.#server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.#notifier?.drain();
    this.#client?.close();
    await sampling;
  }
}
