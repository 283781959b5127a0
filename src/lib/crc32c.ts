import { lazyModule } from './lazy-module.js';

const native = lazyModule<typeof import('@node-rs/crc32')>('@node-rs/crc32');

/** CRC-32C (Castagnoli) of `data`, by @node-rs/crc32 (SSE4.2 where the CPU has it). */
export function crc32c(data: Uint8Array): number {
  return native().crc32c(data as Buffer) >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/**
 * The masked CRC-32C stored by Snappy's framing format and by LevelDB's log records
 * (`crc32c::Mask`): rotated right by 15 and offset, so that a CRC of data holding CRCs is not
 * degenerate.
 */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + MASK_DELTA) >>> 0;
}
