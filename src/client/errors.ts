/**
 * Errors raised by the client library. One class: `code` is the server's wire code (`E_BAD_TOPIC`,
 * `E_PUB_FAILED`, …) when the server sent an error frame, or one of the client-side codes below when
 * the failure happened locally; `fatal` tells whether the connection is gone because of it.
 */
export class NsqError extends Error {
  override readonly name = 'NsqError';
  /** Server code (`E_…` from the error frame) or a client-side code (see ClientErrorCode). */
  readonly code: string;
  /** True when the connection that carried the command was (or will be) closed. */
  readonly fatal: boolean;

  constructor(code: string, message: string, fatal = true) {
    super(message);
    this.code = code;
    this.fatal = fatal;
  }

  /**
   * The error for an error frame body `"<CODE> <text>"`. Only E_FIN_FAILED, E_REQ_FAILED and
   * E_TOUCH_FAILED leave the connection open (nsqd `protocol_v2.go`: ClientErr vs FatalClientErr).
   */
  static fromFrame(body: Buffer | string): NsqError {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const sp = text.indexOf(' ');
    const code = sp < 0 ? text : text.slice(0, sp);
    return new NsqError(code, text, !NON_FATAL_CODES.has(code));
  }
}

const NON_FATAL_CODES = new Set(['E_FIN_FAILED', 'E_REQ_FAILED', 'E_TOUCH_FAILED']);

/** Codes for failures detected by the client itself (never sent by a server). */
export type ClientErrorCode =
  /** The connection closed (or could not be opened) before the command was answered. */
  | 'E_NOT_CONNECTED'
  /** Dial, read or handshake deadline passed. */
  | 'E_TIMEOUT'
  /** The server's bytes were not valid protocol V2 (bad frame size, unexpected frame). */
  | 'E_PROTOCOL'
  /** The server requires AUTH but no `authSecret` was configured. */
  | 'E_AUTH_REQUIRED'
  /** The producer or consumer was closed by the caller. */
  | 'E_CLOSED'
  /** Invalid argument given to the library (topic name, delay, empty body list…). */
  | 'E_INVALID_ARGUMENT';

/** A client-side NsqError. */
export function clientError(code: ClientErrorCode, message: string, fatal = true): NsqError {
  return new NsqError(code, message, fatal);
}
