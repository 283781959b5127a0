/**
 * An HTTP API failure with the status and the stable message text the original sends
 * (`INVALID_REQUEST`, `TOPIC_NOT_FOUND`, …). The router renders it as `status` +
 * `{"message":"<text>"}` on V1 routes, or as the raw text on PlainText routes.
 */
export class HttpApiError extends Error {
  override readonly name = 'HttpApiError';
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(text);
  }
}
