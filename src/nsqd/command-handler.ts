import type * as tls from 'node:tls';
import type { Logger } from '../lib/logger.js';
import type { BodyBatch } from '../protocol/body-batch.js';
import type { MessageIdRef } from '../protocol/message-id.js';
import type { FlushScheduler } from './flush-scheduler.js';
import type { NsqdOptions } from './options.js';
import type { Topic } from './topic.js';

/**
 * Protocol state of a V2 connection (docs/protocol.md, Connection states), changed only by ClientV2's #setState:
 * `init` → `subscribed` (SUB) → `closing` (CLS), and any → `closed`.
 */
export type SessionState = 'init' | 'subscribed' | 'closing' | 'closed';

/** /stats numbers of the states (upstream's stateInit, stateSubscribed, stateClosing). */
export const STATE_NUMBER: Record<SessionState, number> = { init: 0, subscribed: 3, closing: 4, closed: 4 };

export const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  init: ['subscribed', 'closed'],
  subscribed: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** What a connection needs from the daemon. */
export interface ClientHost<C = unknown> {
  readonly options: NsqdOptions;
  readonly logger: Logger;
  readonly version: string;
  /** Output flushes coalesced to once per turn across the daemon's connections. */
  readonly flushScheduler: FlushScheduler;
  secureContext(): tls.SecureContext | null;
  authEnabled(): boolean;
  /** `--tls-root-ca-file` contents: trust roots for an HTTPS auth server (docs/protocol.md, AUTH). */
  tlsRootCa?(): Buffer | undefined;
  getTopic(name: string): Topic;
  /** Resolves once a just-created topic has learned its cluster channels (upstream nsqd/topic.go), else null. */
  topicReady(topic: Topic): Promise<void> | null;
  clientClosed(c: C): void;
  now(): number;
}

/** A handler's answer: a frame, nothing, or either later. */
export type Reply = Buffer | null | Promise<Buffer | null>;

/**
 * One command of the table in protocol-v2.ts: its preconditions, declared, and its handler.
 * ClientV2 enforces them in the original's order: TLS policy, state, `check`, the AUTH gate
 * (before or after the body), `beforeBody`, then the body is read and `exec` runs.
 */
export interface CommandHandler<C> {
  /** States it is allowed in; else fatal `E_INVALID cannot <CMD> in current state`. */
  readonly allowedIn: readonly SessionState[] | 'any';
  /** States in which it is ignored without an answer (RDY after CLS). */
  readonly ignoredIn?: readonly SessionState[];
  /** Allowed on a --tls-required server before TLS is up (IDENTIFY, which brings it up). */
  readonly tlsExempt?: boolean;
  /**
   * The AUTH gate on topic `params[0]` (and channel `params[1]` when `channel`): at `line`, right
   * after `check` (before any body); at `body`, once the body is read.
   */
  readonly auth?: { readonly at: 'line' | 'body'; readonly channel?: boolean };
  /** Parameter checks (before the body is read). */
  check?(c: C, params: string[]): void;
  /** Runs after the gate, before the body is read (MPUB creates its topic there). */
  beforeBody?(c: C, params: string[]): void;
  exec(c: C, params: string[], body: Buffer | BodyBatch | null): Reply;
  /** The same command with its one parameter, a message ID, already decoded (the parser's FIN fast path). */
  execId?(c: C, id: MessageIdRef): Reply;
}
