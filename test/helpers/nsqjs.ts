import { createRequire } from 'node:module';

/**
 * The real nsqjs client (npm, CommonJS) for interop tests. nsqjs ships no types, so it is loaded
 * through require and described here, once, as far as the tests use it.
 */

/** A message delivered to an nsqjs Reader. */
export interface NsqjsMessage {
  id: string;
  body: Buffer;
  attempts: number;
  timestamp: number;
  finish(): void;
  requeue(delayMs?: number, backoff?: boolean): void;
  touch(): void;
}

/** nsqjs's consumer: connects on `connect()`, reports through events. */
export interface NsqjsReader {
  connect(): void;
  close(): void;
  on(event: 'message', f: (m: NsqjsMessage) => void): this;
  on(event: 'nsqd_connected' | 'nsqd_closed', f: (host: string, port: number) => void): this;
  on(event: 'ready' | 'not_ready', f: () => void): this;
  on(event: 'error' | 'discard', f: (err: unknown) => void): this;
}

/** nsqjs's producer to one nsqd. */
export interface NsqjsWriter {
  connect(): void;
  close(): void;
  publish(topic: string, msgs: string | Buffer | Array<string | Buffer>, cb: (err?: Error | null) => void): void;
  /** nsqjs 0.13 wants a one-element array here (its README says a single message). */
  deferPublish(topic: string, msgs: Array<string | Buffer>, timeMs: number, cb: (err?: Error | null) => void): void;
  on(event: 'ready' | 'closed', f: () => void): this;
  on(event: 'error', f: (err: Error) => void): this;
}

/** The nsqjs module: its Reader and Writer constructors. */
export const nsqjs = createRequire(import.meta.url)('nsqjs') as {
  Reader: new (topic: string, channel: string, opts: Record<string, unknown>) => NsqjsReader;
  Writer: new (host: string, port: number, opts?: Record<string, unknown>) => NsqjsWriter;
};
