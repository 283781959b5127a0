/**
 * Client → server command encoding (protocol V2): `<NAME>[ <param>]*\n` optionally followed by a
 * `[int32 size][body]`. Pure functions returning the exact bytes; the connection batches them.
 * Mirrors go-nsq `command.go`.
 */

/** The protocol magic every connection starts with (`"  V2"`). */
export const MAGIC_V2: Buffer = Buffer.from('  V2');

/** `NOP\n`: the answer to a heartbeat. */
export const CMD_NOP: Buffer = Buffer.from('NOP\n');
/** `CLS\n`: start a clean close of a subscribed connection. */
export const CMD_CLS: Buffer = Buffer.from('CLS\n');

// Command line plus a length-prefixed body in one buffer (one write, no intermediate copies).
function withBody(line: string, body: Uint8Array): Buffer {
  const lineLen = Buffer.byteLength(line);
  const out = Buffer.allocUnsafe(lineLen + 4 + body.length);
  out.write(line, 0, lineLen, 'utf8');
  out.writeInt32BE(body.length, lineLen);
  out.set(body, lineLen + 4);
  return out;
}

/** A body given as a string is sent as its UTF-8 bytes. */
export function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body) : body;
}

/** `IDENTIFY` with a JSON body. */
export function identifyCommand(data: object): Buffer {
  return withBody('IDENTIFY\n', Buffer.from(JSON.stringify(data)));
}

/** `AUTH` with the secret as body. */
export function authCommand(secret: string): Buffer {
  return withBody('AUTH\n', Buffer.from(secret));
}

/** `SUB <topic> <channel>`. */
export function subCommand(topic: string, channel: string): Buffer {
  return Buffer.from(`SUB ${topic} ${channel}\n`);
}

/** `RDY <count>`. */
export function rdyCommand(count: number): Buffer {
  return Buffer.from(`RDY ${count}\n`);
}

/** `FIN <id>`. */
export function finCommand(id: string): Buffer {
  return Buffer.from(`FIN ${id}\n`, 'latin1');
}

/** `REQ <id> <ms>`; the delay is truncated to whole milliseconds like go-nsq (`delay / time.Millisecond`). */
export function reqCommand(id: string, delayMs: number): Buffer {
  return Buffer.from(`REQ ${id} ${Math.max(0, Math.trunc(delayMs))}\n`, 'latin1');
}

/** `TOUCH <id>`. */
export function touchCommand(id: string): Buffer {
  return Buffer.from(`TOUCH ${id}\n`, 'latin1');
}

/** `PUB <topic>` + body. */
export function pubCommand(topic: string, body: Uint8Array | string): Buffer {
  return withBody(`PUB ${topic}\n`, toBytes(body));
}

/** `DPUB <topic> <ms>` + body. */
export function dpubCommand(topic: string, delayMs: number, body: Uint8Array | string): Buffer {
  return withBody(`DPUB ${topic} ${Math.max(0, Math.trunc(delayMs))}\n`, toBytes(body));
}

/** `MPUB <topic>` + `[int32 body size][int32 count]([int32 size][bytes])*`. */
export function mpubCommand(topic: string, bodies: readonly (Uint8Array | string)[]): Buffer {
  const parts = bodies.map(toBytes);
  let size = 4;
  for (const p of parts) size += 4 + p.length;
  const line = `MPUB ${topic}\n`;
  const lineLen = Buffer.byteLength(line);
  const out = Buffer.allocUnsafe(lineLen + 4 + size);
  out.write(line, 0, lineLen, 'utf8');
  let off = lineLen;
  out.writeInt32BE(size, off);
  out.writeInt32BE(parts.length, off + 4);
  off += 8;
  for (const p of parts) {
    out.writeInt32BE(p.length, off);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}
