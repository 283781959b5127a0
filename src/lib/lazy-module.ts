import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A getter for a dependency loaded on its first use rather than at start. For what most nsqd
 * processes never call: the snappy and CRC-32C native addons (loaded once a client negotiates
 * snappy, or checksummed records are written or read: --disk-checksums, --durable-inflight) and
 * re2js (only with AUTH). Loaded at start they cost ~16 MiB of RSS, a quarter of an idle nsqd
 * (measured: snappy 6 MiB, @node-rs/crc32 8 MiB, re2js 2.4 MiB).
 */
export function lazyModule<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(name) as T);
}
