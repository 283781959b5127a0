import net from 'node:net';
import type { Logger } from '../lib/logger.js';
import { LookupResponseDecoder, MAGIC_V1 } from '../protocol/lookup-codec.js';
import { splitHostPort } from '../lib/host-port.js';

/** What a lookupd said about itself in its IDENTIFY response (upstream `nsqd/lookup.go`). */
export interface LookupPeerInfo {
  tcp_port: number;
  http_port: number;
  version: string;
  broadcast_address: string;
}

/** Runs a command on a peer without queueing; used inside the connect callback. */
export type SendFn = (cmd: Buffer) => Promise<Buffer>;

/** LookupPeer construction options. */
export interface LookupPeerOptions {
  logger: Logger;
  /** Largest response accepted (nsqd passes --max-body-size). */
  maxBodySize: number;
  /**
   * Runs after every (re)connect, before the command that triggered it: IDENTIFY and re-register.
   * Commands must go through `send`. To give up on the connection call `peer.disconnect()`.
   */
  onConnect: (peer: LookupPeer, send: SendFn) => Promise<void>;
  dialTimeoutMs?: number;
  /** Deadline for writing a command and for reading its response. */
  ioTimeoutMs?: number;
}

/** `closed` is final (peer removed or nsqd exiting); `disconnected` reconnects on the next command. */
export type PeerState = 'disconnected' | 'connected' | 'closed';

interface PendingRead {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * nsqd's connection to one nsqlookupd: connects lazily (on the next command after a failure),
 * runs the connect callback on every connect, and runs commands one at a time, each a
 * synchronous write → response round trip with deadlines. Any I/O error drops the connection.
 */
export class LookupPeer {
  readonly addr: string;
  /** Learned from IDENTIFY; kept after a disconnect, as the original does. */
  info: LookupPeerInfo = { tcp_port: 0, http_port: 0, version: '', broadcast_address: '' };
  readonly #opts: Required<LookupPeerOptions>;
  #state: PeerState = 'disconnected';
  #socket: net.Socket | null = null;
  #decoder: LookupResponseDecoder | null = null;
  #received: Buffer[] = [];
  #pending: PendingRead | null = null;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(addr: string, opts: LookupPeerOptions) {
    this.addr = addr;
    this.#opts = { ...opts, dialTimeoutMs: opts.dialTimeoutMs ?? 1000, ioTimeoutMs: opts.ioTimeoutMs ?? 1000 };
  }

  get state(): PeerState {
    return this.#state;
  }

  toString(): string {
    return this.addr;
  }

  /**
   * Queues `cmd` behind every earlier command; connects first if needed. `null` only connects.
   * Resolves with the raw response (errors like `E_INVALID …` are responses too).
   */
  command(cmd: Buffer | null): Promise<Buffer | null> {
    const run = this.#tail.then(() => this.#command(cmd));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every queued command has finished. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }

  /** Drops the connection; the next command reconnects. */
  disconnect(): void {
    if (this.#state === 'connected') this.#state = 'disconnected';
    this.#teardown(new Error('lookup peer disconnected'));
  }

  /** Drops the connection for good; queued and later commands fail. */
  close(): void {
    this.#state = 'closed';
    this.#teardown(new Error('lookup peer closed'));
  }

  async #command(cmd: Buffer | null): Promise<Buffer | null> {
    if (this.#state === 'closed') throw new Error('lookup peer closed');
    if (this.#state !== 'connected') {
      await this.#connect();
      this.#state = 'connected';
      await this.#opts.onConnect(this, (c) => this.#roundTrip(c));
      if (this.#state !== 'connected') throw new Error('lookupPeer connectCallback() failed');
    }
    if (cmd === null) return null;
    return this.#roundTrip(cmd);
  }

  #connect(): Promise<void> {
    this.#opts.logger.info(`LOOKUP connecting to ${this.addr}`);
    return new Promise((resolve, reject) => {
      let target: { host: string; port: number };
      try {
        target = splitHostPort(this.addr);
      } catch (err) {
        reject(err);
        return;
      }
      const socket = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy(new Error(`dial tcp ${this.addr}: i/o timeout`));
      }, this.#opts.dialTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        if (this.#state === 'closed') {
          socket.destroy();
          reject(new Error('lookup peer closed'));
          return;
        }
        this.#attach(socket);
        socket.write(MAGIC_V1);
        resolve();
      });
    });
  }

  #attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#decoder = new LookupResponseDecoder(this.#opts.maxBodySize);
    this.#received = [];
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      try {
        this.#decoder!.push(chunk);
        for (let r = this.#decoder!.next(); r !== null; r = this.#decoder!.next()) {
          const copy = Buffer.from(r); // the view would pin the chunk
          const pending = this.#pending;
          if (pending !== null) {
            this.#pending = null;
            clearTimeout(pending.timer);
            pending.resolve(copy);
          } else {
            this.#received.push(copy);
          }
        }
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    socket.on('error', (err) => {
      if (this.#socket === socket) this.#fail(err);
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#fail(new Error('EOF'));
    });
  }

  /** An I/O failure: like the original's lp.Close() → reconnect on the next command. */
  #fail(err: Error): void {
    if (this.#state === 'connected') this.#state = 'disconnected';
    this.#teardown(err);
  }

  #teardown(err: Error): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#decoder = null;
    this.#received = [];
    socket?.destroy();
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      clearTimeout(pending.timer);
      pending.reject(err);
    }
  }

  /** Writes `cmd` and reads one response, each within the I/O deadline. */
  #roundTrip(cmd: Buffer): Promise<Buffer> {
    const socket = this.#socket;
    if (this.#state !== 'connected' || socket === null) {
      return Promise.reject(new Error(this.#state === 'closed' ? 'lookup peer closed' : 'not connected'));
    }
    const queued = this.#received.shift();
    if (queued !== undefined) return Promise.resolve(queued); // cannot happen with a sane server
    return new Promise<Buffer>((resolve, reject) => {
      // Armed before writing: on loopback the answer can beat the write callback.
      const timer = setTimeout(() => this.#fail(new Error(`read tcp ${this.addr}: i/o timeout`)), this.#opts.ioTimeoutMs);
      this.#pending = { resolve, reject, timer };
      socket.write(cmd);
    });
  }
}
