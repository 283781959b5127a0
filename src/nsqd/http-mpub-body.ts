import { HttpApiError } from '../http/api-error.js';
import { BodyBatch, BodyBatchBuilder, type Bodies } from '../protocol/body-batch.js';

/**
 * The /mpub request bodies (upstream nsqd/http.go doMPUB), as resumable parsers: each yields every
 * YIELD_EVERY messages so a large body is validated in slices (see runSliced) and returns the
 * message bodies' positions in the request body once all of it is valid.
 */
const YIELD_EVERY = 4096;

const err = (text: string) => new HttpApiError(413, text);

/** The binary body: the TCP MPUB payload without its length, parsed with the TCP rules. */
export function* parseBinaryMpub(body: Buffer, maxBodySize: number, maxMsgSize: number): Generator<void, Bodies, void> {
  if (body.length < 4) throw err('BAD_BODY');
  const count = body.readInt32BE(0);
  if (count <= 0 || count > Math.floor((maxBodySize - 4) / 5)) throw err('BAD_BODY');
  const starts = new Int32Array(count);
  const ends = new Int32Array(count);
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) yield;
    if (body.length - off < 4) throw err('BAD_MESSAGE');
    const size = body.readInt32BE(off);
    off += 4;
    if (size <= 0 || size > maxMsgSize) throw err('BAD_MESSAGE');
    if (body.length - off < size) throw err('BAD_MESSAGE');
    starts[i] = off;
    off += size;
    ends[i] = off;
  }
  return new BodyBatch(body, starts, ends);
}

/**
 * The text body (at most `maxBodySize + 1` bytes, as read): one message per `\n`-terminated
 * line, empty lines skipped, a `\r` kept. Upstream reads line by line, so an oversized line met
 * before the byte limit is MSG_TOO_BIG, and the line that reaches the limit is BODY_TOO_BIG.
 */
export function* splitTextMpub(body: Buffer, maxBodySize: number, maxMsgSize: number): Generator<void, Bodies, void> {
  const out = new BodyBatchBuilder(body);
  const readMax = maxBodySize + 1;
  let start = 0;
  let n = 0;
  while (start < body.length) {
    if (++n === YIELD_EVERY) {
      n = 0;
      yield;
    }
    const nl = body.indexOf(10, start);
    const end = nl < 0 ? body.length : nl + 1;
    if (end === readMax) throw err('BODY_TOO_BIG');
    const len = (nl < 0 ? end : nl) - start;
    if (len > 0) {
      if (len > maxMsgSize) throw err('MSG_TOO_BIG');
      out.add(start, start + len);
    }
    start = end;
  }
  return out.build();
}
