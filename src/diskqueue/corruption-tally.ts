/**
 * Bytes of damaged records each disk queue skipped since nsqd started (checksummed segments,
 * docs/disk-format.md): the figure `/stats` and `/metrics` show per topic and channel. The daemon
 * owns one tally and lends it to every queue; stats look it up by queue name
 * (`<topic>` or `<topic>:<channel>`), so the queues need no back-reference to their owners.
 */
export class CorruptionTally {
  readonly #bytes = new Map<string, number>();

  /** Queue `name` skipped `bytes` more damaged bytes. */
  add(name: string, bytes: number): void {
    this.#bytes.set(name, (this.#bytes.get(name) ?? 0) + bytes);
  }

  /** Damaged bytes queue `name` skipped so far (0 when none). */
  get(name: string): number {
    return this.#bytes.get(name) ?? 0;
  }

  /** Queue `name` was deleted: a new one of that name starts at 0. */
  forget(name: string): void {
    this.#bytes.delete(name);
  }
}
