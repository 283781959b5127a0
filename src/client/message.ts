/**
 * A message delivered to a consumer, with the responses the protocol allows (FIN, REQ, TOUCH).
 * Mirrors go-nsq `message.go`: responding twice is ignored; the header fields are decoded lazily
 * from the frame so an unread timestamp costs nothing.
 */
import { MESSAGE_HEADER_SIZE } from '../protocol/message.js';
import { clientError } from './errors.js';

/** Where a message's responses go: its consumer connection. */
export interface MessageResponder {
  /** The nsqd `host:port` the message came from. */
  readonly address: string;
  finish(m: Message): void;
  requeue(m: Message, delayMs: number | undefined, backoff: boolean): void;
  touch(m: Message): void;
}

/** One NSQ message received by a Consumer. */
export class Message {
  /** 16-character message ID. */
  readonly id: string;
  /** The payload (a view of the received frame). */
  readonly body: Buffer;
  /** Delivery count including this one (1 on first delivery). */
  readonly attempts: number;
  readonly #frame: Buffer;
  readonly #responder: MessageResponder;
  #responded = false;
  #autoResponse = true;

  /** Decodes a message frame payload (26-byte header + body). */
  constructor(frame: Buffer, responder: MessageResponder) {
    if (frame.length < MESSAGE_HEADER_SIZE) {
      throw clientError('E_PROTOCOL', `not enough data to decode valid message (${frame.length} < ${MESSAGE_HEADER_SIZE})`);
    }
    this.#frame = frame;
    this.#responder = responder;
    this.id = frame.toString('latin1', 10, 26);
    this.attempts = frame.readUInt16BE(8);
    this.body = frame.subarray(MESSAGE_HEADER_SIZE);
  }

  /** Publish time in Unix nanoseconds. */
  get timestamp(): bigint {
    return this.#frame.readBigInt64BE(0);
  }

  /** Address (`host:port`) of the nsqd that delivered this message. */
  get nsqdAddress(): string {
    return this.#responder.address;
  }

  /** True once finish() or requeue() was called. */
  get hasResponded(): boolean {
    return this.#responded;
  }

  /**
   * go-nsq `DisableAutoResponse`: the handler's outcome no longer answers this message; the
   * caller will finish() or requeue() it later (e.g. after a batch is written to disk).
   */
  disableAutoResponse(): void {
    this.#autoResponse = false;
  }

  /** False after disableAutoResponse(). */
  get autoResponse(): boolean {
    return this.#autoResponse;
  }

  /** FIN: the message was processed. */
  finish(): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#responder.finish(this);
  }

  /**
   * REQ: deliver again after `delayMs` (default: the consumer's `defaultRequeueDelay` × attempts,
   * capped at `maxRequeueDelay`). `backoff` (default true) signals the consumer to slow down,
   * as go-nsq `Requeue` does; pass false for go-nsq `RequeueWithoutBackoff`.
   */
  requeue(delayMs?: number, backoff = true): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#responder.requeue(this, delayMs, backoff);
  }

  /** TOUCH: reset the server's timeout for this message. Ignored after a response. */
  touch(): void {
    if (this.#responded) return;
    this.#responder.touch(this);
  }
}
