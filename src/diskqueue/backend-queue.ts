/** Something that writes itself as one record body: its size, then its bytes at `buf[off]` (a message). */
export interface RecordSource {
  encodedSize(): number;
  /** Writes encodedSize() bytes at `buf[off]`; returns the offset after them. */
  writeTo(buf: Buffer, off: number): number;
}

/**
 * A FIFO of opaque records behind a topic or channel's memory queue: the disk queue for durable
 * topics/channels, a no-op for ephemeral ones. All methods are synchronous; the caller (the nsqd
 * event loop) is the only user, so no locking is needed.
 */
export interface BackendQueue {
  /** Append one record; throws an Error on failure (size limits, I/O). A disk queue may hold the
   *  record in a write batch until `flushPending()` (disk-queue.ts) or the end of the
   *  current turn: callers flush before acknowledging a publish. */
  put(data: Uint8Array): void;
  /** As put(), with the body written by `src` straight into the write batch (no buffer per record). */
  putFrom(src: RecordSource): void;
  /** The next record without consuming it, or null when empty. The buffer may be a view into an
   *  internal read chunk: it stays valid (is never overwritten), the consumer may keep it. */
  peek(): Buffer | null;
  /** Consume the record last returned by peek(); a no-op when none is pending (no peek since the
   *  last advance, or empty() since). */
  advance(): void;
  /** Records not yet consumed. */
  depth(): number;
  /** Drop every record and delete segment files (+ meta file), numbering continues (docs/disk-format.md, Emptying and deleting).
   *  Throws when a file could not be deleted (the queue is reset regardless). */
  empty(): void;
  /** Final sync + close files (meta persisted). Idempotent; a failing sync is logged, not thrown. */
  close(): void;
  /** Stop without a final sync (caller has emptied first). Idempotent. */
  delete(): void;
}
