/**
 * The two byte-level steps every incremental decoder here repeats (V2 command parser and frame
 * decoder, nsqlookupd's command parser and response decoder): carrying the unread tail of the
 * previous chunk into the next one, and filling a fixed-size body from whatever has arrived.
 * Pure functions over (buffer, offset) so each decoder keeps its own fields and hot-path shape.
 */

/**
 * The bytes to parse after `chunk` arrives, given the current buffer and read offset (the caller
 * resets its offset to 0). A fully consumed buffer is dropped without copying; otherwise only the
 * unread tail (a partial item) is concatenated, never the whole stream.
 */
export function appendChunk(buf: Buffer, off: number, chunk: Buffer): Buffer {
  return off >= buf.length ? chunk : Buffer.concat([buf.subarray(off), chunk]);
}

/**
 * Copies what is available of `src` from `off` into `target` from `filled`, at most the bytes
 * `target` still lacks; returns the count copied. Bodies are copied rather than sliced because
 * the source chunk is shared by many commands and must not be retained by a long-lived message.
 */
export function fillFrom(src: Buffer, off: number, target: Buffer, filled: number): number {
  const n = Math.min(target.length - filled, src.length - off);
  if (n > 0) src.copy(target, filled, off, off + n);
  return n;
}
