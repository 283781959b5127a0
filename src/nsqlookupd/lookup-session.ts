import { ProtocolError } from '../protocol/errors.js';
import type { LookupItem } from '../protocol/lookup-codec.js';
import { COMMANDS } from './handlers/index.js';
import type { CommandHandler, HandlerSession, LookupContext } from './handlers/types.js';
import type { PeerInfo } from './registration-db.js';

export type { LookupContext } from './handlers/types.js';

/**
 * The protocol state of one lookupd TCP connection (identified or not) and the dispatch of its
 * commands. Socket-free: gets parsed items, returns response data.
 */
export class LookupSession implements HandlerSession {
  readonly ctx: LookupContext;
  /** The connection's remote address (`ip:port`); becomes the peer id on IDENTIFY. */
  readonly remoteAddress: string;
  #peerInfo: PeerInfo | null = null;

  constructor(ctx: LookupContext, remoteAddress: string) {
    this.ctx = ctx;
    this.remoteAddress = remoteAddress;
  }

  get peerInfo(): PeerInfo | null {
    return this.#peerInfo;
  }

  /** Called once by IDENTIFY. */
  identified(info: PeerInfo): void {
    this.#peerInfo = info;
  }

  toString(): string {
    return this.remoteAddress;
  }

  /**
   * Runs a parsed item. Returns the response data, or null when a body must be read first
   * (the caller then calls the parser's `acceptBody`). Throws ProtocolError; all are fatal.
   */
  exec(item: LookupItem): string | Buffer | null {
    const handler = COMMANDS.get(item.name);
    if (handler === undefined) throw new ProtocolError('E_INVALID', `invalid command ${item.name}`);
    if (item.type === 'line') {
      this.#checkPrecondition(handler);
      if (item.hasBody) return null;
      return handler.run(this, item.params, null);
    }
    return handler.run(this, item.params, item.body);
  }

  /** Removes the peer from every registration (connection closed); keys stay, even empty ones. */
  close(): void {
    const info = this.#peerInfo;
    if (info === null) return;
    const { db, logger } = this.ctx;
    for (const r of db.lookupRegistrations(info.id)) {
      if (db.removeProducer(r, info.id).removed) {
        logger.info(`DB: client(${this}) UNREGISTER category:${r.category} key:${r.key} subkey:${r.subkey}`);
      }
    }
  }

  #checkPrecondition(handler: CommandHandler): void {
    if (handler.requires === 'identified' && this.#peerInfo === null) {
      throw new ProtocolError('E_INVALID', 'client must IDENTIFY');
    }
    if (handler.requires === 'unidentified' && this.#peerInfo !== null) {
      throw new ProtocolError('E_INVALID', 'cannot IDENTIFY again');
    }
  }
}
