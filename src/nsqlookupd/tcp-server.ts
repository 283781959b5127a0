import net from 'node:net';
import { ProtocolError } from '../protocol/errors.js';
import { LookupCommandParser, type LookupItem, encodeLookupError, encodeLookupResponse, RESPONSE_OK } from '../protocol/lookup-codec.js';
import { LookupSession, type LookupContext } from './lookup-session.js';
import { formatSocketAddress } from '../lib/host-port.js';

/**
 * One nsqd's TCP connection to lookupd: owns the socket, feeds the parser, runs the session and
 * writes its responses. Every protocol error is answered and then closes the connection.
 */
class LookupConnection {
  readonly #socket: net.Socket;
  readonly #ctx: LookupContext;
  readonly #parser = new LookupCommandParser();
  readonly #session: LookupSession;
  readonly #addr: string;
  #done = false;
  #magicLogged = false;
  /** Why the connection ended, logged like the original's IOLoop result. */
  #exitReason = 'EOF';
  #lingerTimer: NodeJS.Timeout | null = null;

  constructor(socket: net.Socket, ctx: LookupContext, onClose: (c: LookupConnection) => void) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#addr = formatSocketAddress(socket.remoteAddress, socket.remotePort);
    this.#session = new LookupSession(ctx, this.#addr);
    ctx.logger.info(`TCP: new client(${this.#addr})`);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => {
      if (!this.#done) this.#exitReason = err.message;
    });
    socket.on('close', () => {
      if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
      this.#onClosed();
      onClose(this);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return; // anything after a fatal error is discarded
    this.#parser.push(chunk);
    try {
      for (;;) {
        const item = this.#nextItem();
        if (item === null) break;
        const response = this.#session.exec(item);
        if (response === null) {
          this.#parser.acceptBody();
          continue;
        }
        this.#write(response === 'OK' ? RESPONSE_OK : encodeLookupResponse(response));
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.#fail(err);
      } else {
        // A bug, not a client error: drop this connection only.
        this.#done = true;
        this.#exitReason = err instanceof Error ? err.message : String(err);
        this.#ctx.logger.error(`[${this.#addr}] - internal error - ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        this.#socket.destroy();
      }
    }
  }

  #nextItem(): LookupItem | null {
    try {
      return this.#parser.next();
    } finally {
      if (!this.#magicLogged && this.#parser.magic !== '') {
        this.#magicLogged = true;
        this.#ctx.logger.info(`CLIENT(${this.#addr}): desired protocol magic '${this.#parser.magic}'`);
      }
    }
  }

  #onEnd(): void {
    if (this.#done) return;
    if (this.#parser.awaitingMagic) {
      this.#done = true;
      this.#ctx.logger.error('failed to read protocol version - EOF');
      this.#socket.end();
      return;
    }
    const err = this.#parser.eofError();
    if (err !== null) {
      this.#fail(err);
      return;
    }
    this.#done = true;
    this.#socket.end();
  }

  #fail(err: ProtocolError): void {
    this.#done = true;
    const logger = this.#ctx.logger;
    if (err.code === 'E_BAD_PROTOCOL') {
      // The original answers and closes before any client exists, so nothing else is logged.
      this.#exitReason = '';
      this.#socket.end(encodeLookupError(err));
      logger.error(`client(${this.#addr}) bad protocol magic '${this.#parser.magic}'`);
    } else {
      const cause = err.cause === undefined ? '' : ` - ${err.cause instanceof Error ? err.cause.message : String(err.cause)}`;
      logger.error(`[${this.#addr}] - ${err.message}${cause}`);
      this.#exitReason = err.message;
      this.#socket.end(encodeLookupError(err));
    }
    // Half-closed: give the peer a moment to read the error, then drop the connection.
    this.#lingerTimer = setTimeout(() => this.#socket.destroy(), 1000);
    this.#lingerTimer.unref();
  }

  #write(buf: Buffer): void {
    if (!this.#socket.write(buf)) {
      // A client that sends commands without reading answers must not make us buffer forever.
      this.#socket.pause();
      this.#socket.once('drain', () => this.#socket.resume());
    }
  }

  #onClosed(): void {
    if (this.#exitReason === '' || this.#parser.awaitingMagic) return;
    const logger = this.#ctx.logger;
    logger.info(`CLIENT(${this.#addr}): closing`);
    this.#session.close();
    logger.error(`client(${this.#addr}) - ${this.#exitReason}`);
  }
}

/** lookupd's TCP listener (for nsqd): accepts connections and tracks them so close() can end them. */
export class LookupTcpServer {
  readonly #ctx: LookupContext;
  readonly #server: net.Server;
  readonly #conns = new Set<LookupConnection>();

  constructor(ctx: LookupContext) {
    this.#ctx = ctx;
    this.#server = net.createServer((socket) => {
      const conn = new LookupConnection(socket, ctx, (c) => this.#conns.delete(c));
      this.#conns.add(conn);
    });
  }

  /** Binds; rejects with the listen error. */
  listen(host: string | undefined, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.#ctx.logger.error(`TCP: ${err.message}`));
        resolve(this.#server.address() as net.AddressInfo);
      });
    });
  }

  address(): net.AddressInfo {
    return this.#server.address() as net.AddressInfo;
  }

  /** Stops accepting, closes every client connection, resolves when all are gone. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      for (const c of this.#conns) c.destroy();
    });
  }
}
