/**
 * A protocol-level error answered to a V2 client as an error frame `<code> <text>`.
 * `fatal` decides whether the connection is closed after the frame (upstream `internal/protocol/errors.go`):
 * only E_FIN_FAILED, E_REQ_FAILED and E_TOUCH_FAILED leave it open.
 *
 * `text` is a byte string (one char per byte, latin1), like the command parameters it often
 * echoes, so the frame repeats a client's bytes exactly; wrap other text with `byteString`.
 */
export class ProtocolError extends Error {
  readonly code: string;
  readonly text: string;
  readonly fatal: boolean;

  constructor(code: string, text: string, fatal = true) {
    super(text === '' ? code : `${code} ${text}`);
    this.code = code;
    this.text = text;
    this.fatal = fatal;
  }

  /** The error frame's body: `E_CODE description` (E_BAD_PROTOCOL has no description). */
  wireBody(): string {
    return this.message;
  }

  /** The error frame's body as bytes. */
  wireBytes(): Buffer {
    return Buffer.from(this.message, 'latin1');
  }
}

/** A JS string as the byte string of its UTF-8 encoding (for texts that end up in a ProtocolError). */
export function byteString(s: string): string {
  // ASCII exactly when every UTF-16 unit is one UTF-8 byte.
  return Buffer.byteLength(s, 'utf8') === s.length ? s : Buffer.from(s, 'utf8').toString('latin1');
}
