// Snappy framing format (https://github.com/google/snappy/blob/main/framing_format.txt), the
// stream layer nsqd puts under a connection after a granted `snappy` IDENTIFY (docs/protocol.md, Upgrades).
// Mirrors golang/snappy's unbuffered Writer and its Reader, including the limits and error kinds.
import { maskedCrc32c } from '../lib/crc32c.js';
import { lazyModule } from '../lib/lazy-module.js';

// Raw snappy blocks; the addon is loaded when a first stream needs it (src/lib/lazy-module.ts).
const snappy = lazyModule<typeof import('snappy')>('snappy');

/** Largest uncompressed payload of one data chunk. */
export const SNAPPY_MAX_BLOCK_SIZE = 65536;

// golang/snappy sizes its read buffer for the worst-case encoding of a full block plus the
// checksum; any longer chunk (of any type) is rejected as unsupported.
const MAX_ENCODED_BLOCK = 32 + SNAPPY_MAX_BLOCK_SIZE + Math.floor(SNAPPY_MAX_BLOCK_SIZE / 6);
const MAX_CHUNK_LEN = MAX_ENCODED_BLOCK + 4;

const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_ID = 0xff;

/** The stream identifier chunk: type 0xff, length 6, "sNaPpY". */
export const SNAPPY_STREAM_IDENTIFIER: Buffer = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
const MAGIC_BODY = SNAPPY_STREAM_IDENTIFIER.subarray(4);

// golang/snappy's Encode emits only literals below this size, which never passes the 12.5% rule.
const MIN_COMPRESSIBLE = 17;

/** Why a snappy stream was rejected: `ERR_SNAPPY_CORRUPT` (bad data) or `ERR_SNAPPY_UNSUPPORTED` (reserved chunk type, oversize chunk). */
export type SnappyFrameErrorCode = 'ERR_SNAPPY_CORRUPT' | 'ERR_SNAPPY_UNSUPPORTED';

/** A malformed or unsupported snappy framed stream; the connection carrying it must be closed. */
export class SnappyFrameError extends Error {
  readonly code: SnappyFrameErrorCode;

  constructor(code: SnappyFrameErrorCode, message: string) {
    super(`snappy: ${message}`);
    this.name = 'SnappyFrameError';
    this.code = code;
  }
}

/**
 * Encodes bytes into snappy frames, compatible with golang/snappy's unbuffered Writer: the stream
 * identifier once (before the first data), then one chunk per ≤ 64 KiB piece of every write,
 * stored uncompressed when compression saves less than 12.5%.
 */
export class SnappyFrameEncoder {
  #wroteHeader = false;

  /** Returns the framed bytes for this write (including the stream identifier on the first non-empty write). */
  encode(data: Uint8Array): Buffer {
    if (data.length === 0) return Buffer.alloc(0);
    const parts: Uint8Array[] = [];
    let total = 0;
    if (!this.#wroteHeader) {
      this.#wroteHeader = true;
      parts.push(SNAPPY_STREAM_IDENTIFIER);
      total += SNAPPY_STREAM_IDENTIFIER.length;
    }
    for (let off = 0; off < data.length; off += SNAPPY_MAX_BLOCK_SIZE) {
      const block = data.subarray(off, Math.min(off + SNAPPY_MAX_BLOCK_SIZE, data.length));
      let type = CHUNK_UNCOMPRESSED;
      let body: Uint8Array = block;
      if (block.length >= MIN_COMPRESSIBLE) {
        const compressed = snappy().compressSync(block);
        if (compressed.length < block.length - (block.length >>> 3)) {
          type = CHUNK_COMPRESSED;
          body = compressed;
        }
      }
      const header = Buffer.allocUnsafe(8);
      const chunkLen = body.length + 4;
      header[0] = type;
      header[1] = chunkLen & 0xff;
      header[2] = (chunkLen >>> 8) & 0xff;
      header[3] = (chunkLen >>> 16) & 0xff;
      header.writeUInt32LE(maskedCrc32c(block), 4);
      parts.push(header, body);
      total += 8 + body.length;
    }
    return Buffer.concat(parts, total);
  }
}

type DecoderPhase = 'header' | 'body' | 'skip' | 'failed';

/**
 * Incremental decoder for a snappy framed stream: feed arbitrary pieces, get back the uncompressed
 * data they complete. Returned buffers may alias the input. Throws SnappyFrameError on a bad
 * checksum, format violation or oversize chunk; after that every push throws the same error.
 */
export class SnappyFrameDecoder {
  #phase: DecoderPhase = 'header';
  #sawStreamId = false;
  readonly #header = Buffer.alloc(4);
  #headerFill = 0;
  #chunkType = 0;
  #chunkLen = 0;
  // A chunk body split across pushes is assembled here; whole bodies are sliced from the input.
  #body: Buffer | null = null;
  #bodyFill = 0;
  #skipLeft = 0;
  #error: SnappyFrameError | null = null;

  push(chunk: Buffer): Buffer[] {
    if (this.#error) throw this.#error;
    const out: Buffer[] = [];
    try {
      this.#consume(chunk, out);
    } catch (err) {
      this.#phase = 'failed';
      this.#error = err instanceof SnappyFrameError ? err : new SnappyFrameError('ERR_SNAPPY_CORRUPT', String(err));
      throw this.#error;
    }
    return out;
  }

  #consume(chunk: Buffer, out: Buffer[]): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.#phase) {
        case 'header': {
          if (this.#headerFill === 0 && end - pos >= 4) {
            this.#startChunk(chunk[pos]!, chunk[pos + 1]! | (chunk[pos + 2]! << 8) | (chunk[pos + 3]! << 16));
            pos += 4;
          } else {
            while (this.#headerFill < 4 && pos < end) this.#header[this.#headerFill++] = chunk[pos++]!;
            if (this.#headerFill < 4) return;
            this.#headerFill = 0;
            const h = this.#header;
            this.#startChunk(h[0]!, h[1]! | (h[2]! << 8) | (h[3]! << 16));
          }
          break;
        }
        case 'body': {
          const need = this.#chunkLen;
          if (this.#body === null && end - pos >= need) {
            const body = chunk.subarray(pos, pos + need);
            pos += need;
            this.#finishChunk(body, out);
            break;
          }
          if (this.#body === null) {
            this.#body = Buffer.allocUnsafe(need);
            this.#bodyFill = 0;
          }
          const n = Math.min(need - this.#bodyFill, end - pos);
          chunk.copy(this.#body, this.#bodyFill, pos, pos + n);
          this.#bodyFill += n;
          pos += n;
          if (this.#bodyFill === need) {
            const body = this.#body;
            this.#body = null;
            this.#finishChunk(body, out);
          }
          break;
        }
        case 'skip': {
          const n = Math.min(this.#skipLeft, end - pos);
          this.#skipLeft -= n;
          pos += n;
          if (this.#skipLeft === 0) this.#phase = 'header';
          break;
        }
        case 'failed':
          return;
      }
    }
  }

  // Validates a chunk header before its body is buffered, so bad input is rejected early.
  #startChunk(type: number, len: number): void {
    if (!this.#sawStreamId) {
      if (type !== CHUNK_STREAM_ID) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'stream does not start with the stream identifier');
      this.#sawStreamId = true;
    }
    if (len > MAX_CHUNK_LEN) throw new SnappyFrameError('ERR_SNAPPY_UNSUPPORTED', `chunk length ${len} too large`);
    this.#chunkType = type;
    this.#chunkLen = len;
    switch (type) {
      case CHUNK_COMPRESSED:
        if (len < 4) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'compressed chunk shorter than its checksum');
        break;
      case CHUNK_UNCOMPRESSED:
        if (len < 4) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'uncompressed chunk shorter than its checksum');
        if (len - 4 > SNAPPY_MAX_BLOCK_SIZE) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', `uncompressed chunk of ${len - 4} bytes exceeds ${SNAPPY_MAX_BLOCK_SIZE}`);
        break;
      case CHUNK_STREAM_ID:
        if (len !== MAGIC_BODY.length) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'bad stream identifier length');
        break;
      default:
        if (type <= 0x7f) throw new SnappyFrameError('ERR_SNAPPY_UNSUPPORTED', `reserved unskippable chunk type 0x${type.toString(16).padStart(2, '0')}`);
        // Padding (0xfe) and reserved skippable chunks (0x80-0xfd) are discarded unbuffered.
        this.#skipLeft = len;
        this.#phase = len === 0 ? 'header' : 'skip';
        return;
    }
    this.#phase = 'body';
  }

  #finishChunk(body: Buffer, out: Buffer[]): void {
    this.#phase = 'header';
    switch (this.#chunkType) {
      case CHUNK_STREAM_ID:
        if (!body.equals(MAGIC_BODY)) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'bad stream identifier');
        return;
      case CHUNK_UNCOMPRESSED: {
        const data = body.subarray(4);
        if (maskedCrc32c(data) !== body.readUInt32LE(0)) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'checksum mismatch');
        if (data.length > 0) out.push(data);
        return;
      }
      case CHUNK_COMPRESSED: {
        const block = body.subarray(4);
        const declared = decodedLength(block);
        if (declared > SNAPPY_MAX_BLOCK_SIZE) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', `block decodes to ${declared} bytes, more than ${SNAPPY_MAX_BLOCK_SIZE}`);
        let data: Buffer;
        try {
          data = snappy().uncompressSync(block, { asBuffer: true }) as Buffer;
        } catch (err) {
          throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', `bad compressed block (${(err as Error).message})`);
        }
        if (data.length !== declared) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'decoded length mismatch');
        if (maskedCrc32c(data) !== body.readUInt32LE(0)) throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'checksum mismatch');
        if (data.length > 0) out.push(data);
        return;
      }
    }
  }
}

// The uvarint preamble of a raw snappy block; checked before decompressing so a hostile block
// cannot make the native decoder allocate more than one frame's worth.
function decodedLength(block: Uint8Array): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < block.length && i < 5; i++) {
    const b = block[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (result > 0xffffffff) break;
      return result;
    }
    shift += 7;
  }
  throw new SnappyFrameError('ERR_SNAPPY_CORRUPT', 'bad block length preamble');
}
