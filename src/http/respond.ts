/**
 * The two response encoders of the original's `internal/http_api`: V1 (JSON envelope-free bodies,
 * `{"message":…}` errors, `X-NSQ-Content-Type` on everything) and PlainText.
 */

import type { ServerResponse } from 'node:http';

/** Header marking the unwrapped V1 format; clients decide how to parse by it (docs/protocol.md, HTTP conventions). */
export const NSQ_CONTENT_TYPE_HEADER = 'X-Nsq-Content-Type';
export const NSQ_CONTENT_TYPE_V1 = 'nsq; version=1.0';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

const GO_JSON_UNSAFE = /[<>&\u2028\u2029]/;
const GO_JSON_UNSAFE_ALL = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON.stringify with Go encoding/json's HTML-safe escaping, so bodies carrying user text
 * (client user agents, hostnames) are byte-identical to the original's.
 */
export function goJson(value: unknown): string {
  const s = JSON.stringify(value) ?? 'null';
  return GO_JSON_UNSAFE.test(s) ? s.replace(GO_JSON_UNSAFE_ALL, (c) => GO_ESCAPES[c] ?? c) : s;
}

function send(res: ServerResponse, status: number, contentType: string | undefined, v1: boolean, body: string | Buffer): void {
  const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (contentType !== undefined) res.setHeader('Content-Type', contentType);
  if (v1) res.setHeader(NSQ_CONTENT_TYPE_HEADER, NSQ_CONTENT_TYPE_V1);
  res.setHeader('Content-Length', len);
  res.writeHead(status);
  res.end(body);
}

/**
 * Writes a V1 response. For 200: string/Buffer → raw text, null/undefined → empty body without
 * Content-Type, anything else → compact JSON. For other statuses `data` is the message text.
 */
export function respondV1(res: ServerResponse, status: number, data: unknown): void {
  if (status !== 200) {
    send(res, status, JSON_CONTENT_TYPE, true, goJson({ message: String(data) }));
    return;
  }
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    send(res, 200, TEXT_CONTENT_TYPE, true, data);
  } else if (data === null || data === undefined) {
    send(res, 200, undefined, true, '');
  } else {
    send(res, 200, JSON_CONTENT_TYPE, true, goJson(data));
  }
}

/** Writes a PlainText response: raw text (Content-Type text/plain), no NSQ header. */
export function respondPlain(res: ServerResponse, status: number, data: unknown): void {
  if (data === null || data === undefined) {
    send(res, status, undefined, false, '');
  } else {
    send(res, status, TEXT_CONTENT_TYPE, false, Buffer.isBuffer(data) ? data : String(data));
  }
}
