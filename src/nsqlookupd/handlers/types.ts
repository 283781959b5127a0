import type { Logger } from '../../lib/logger.js';
import type { PeerInfo, RegistrationDB } from '../registration-db.js';

/** What the command handlers of every connection share: the directory, logging, the clock. */
export interface LookupContext {
  readonly db: RegistrationDB;
  readonly logger: Logger;
  /** Wall-clock ms (may carry a fraction). */
  now(): number;
  /** The JSON text answered to a successful IDENTIFY (upstream `nsqlookupd/lookup_protocol_v1.go` IDENTIFY). */
  identifyResponse(): string;
}

/** The per-connection state a handler reads and changes (a `LookupSession` provides it). */
export interface HandlerSession {
  readonly ctx: LookupContext;
  /** The connection's remote address (`ip:port`); becomes the peer id on IDENTIFY. */
  readonly remoteAddress: string;
  readonly peerInfo: PeerInfo | null;
  /** Called once by IDENTIFY. */
  identified(info: PeerInfo): void;
}

/**
 * One lookup command: the precondition checked before it runs (and before an IDENTIFY body is
 * read), and the handler, which returns the response data or throws a ProtocolError.
 */
export interface CommandHandler {
  readonly requires: 'nothing' | 'identified' | 'unidentified';
  run(session: HandlerSession, params: readonly string[], body: Buffer | null): string | Buffer;
}
