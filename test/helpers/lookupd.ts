/** Test helpers: a real nsqlookupd on 127.0.0.1:0, a raw lookup-protocol client, HTTP calls. */
import type http from 'node:http';
import net from 'node:net';
import { Logger } from '../../src/lib/logger.js';
import { request as httpRequest } from './http.js';
import { Nsqlookupd } from '../../src/nsqlookupd/nsqlookupd.js';
import { defaultNsqlookupdOptions, type NsqlookupdOptions } from '../../src/nsqlookupd/options.js';
import { LookupResponseDecoder, MAGIC_V1, encodeLookupCommand } from '../../src/protocol/lookup-codec.js';

/** A log sink that keeps lines (and prints them when LOOKUPD_TEST_LOG is set). */
export function memoryLogger(prefix = '[nsqlookupd] '): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger(prefix, 'debug', (line) => {
    lines.push(line);
    if (process.env.LOOKUPD_TEST_LOG) process.stderr.write(line + '\n');
  });
  return { logger, lines };
}

export interface TestLookupd {
  daemon: Nsqlookupd;
  tcpPort: number;
  httpPort: number;
  lines: string[];
  close(): Promise<void>;
}

export async function startLookupd(overrides: Partial<NsqlookupdOptions> = {}): Promise<TestLookupd> {
  const options: NsqlookupdOptions = {
    ...defaultNsqlookupdOptions(),
    tcpAddress: '127.0.0.1:0',
    httpAddress: '127.0.0.1:0',
    broadcastAddress: '127.0.0.1',
    ...overrides,
  };
  const { logger, lines } = memoryLogger();
  const daemon = new Nsqlookupd(options, logger);
  await daemon.start();
  return {
    daemon,
    tcpPort: daemon.tcpAddress().port,
    httpPort: daemon.httpAddress().port,
    lines,
    close: () => daemon.close(),
  };
}

/** A raw lookup-protocol connection for driving the server byte by byte. */
export class RawClient {
  readonly socket: net.Socket;
  readonly #decoder = new LookupResponseDecoder(1 << 20);
  readonly #responses: string[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let r = this.#decoder.next(); r !== null; r = this.#decoder.next()) this.#responses.push(r.toString('latin1'));
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#closed = true;
        this.#wake();
        resolve();
      });
    });
    // Half-open only so tests can send EOF first; once the server is done, finish too.
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  }

  static async connect(port: number, magic: Buffer | null = MAGIC_V1): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawClient(socket);
    if (magic !== null) socket.write(magic);
    return c;
  }

  /** `ip:port` of this end, i.e. the id lookupd gives the peer. */
  get localAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  write(b: Buffer | string): void {
    this.socket.write(b);
  }

  /** The next response as text, or null if the connection closed first. */
  async read(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.#responses.shift();
      if (r !== undefined) return r;
      if (this.#closed) return null;
      if (Date.now() > deadline) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  async command(name: string, params: string[] = [], body?: Buffer | object): Promise<string | null> {
    const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    this.write(encodeLookupCommand(name, params, b));
    return this.read();
  }

  async identify(info: object = nsqdInfo()): Promise<string | null> {
    return this.command('IDENTIFY', [], info);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function nsqdInfo(overrides: object = {}): object {
  return {
    broadcast_address: 'nsqd-host',
    hostname: 'nsqd-hostname',
    tcp_port: 4150,
    http_port: 4151,
    version: '1.3.0',
    ...overrides,
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** One request through the kit's HTTP client, the body as text. */
export async function request(port: number, method: string, path: string): Promise<HttpResult> {
  const r = await httpRequest(port, method, path);
  return { status: r.status, headers: r.headers, body: r.text, json: () => JSON.parse(r.text) };
}

export const get = (port: number, path: string) => request(port, 'GET', path);
export const post = (port: number, path: string) => request(port, 'POST', path);
