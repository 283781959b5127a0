import * as net from 'node:net';
import { FrameDecoder, FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE } from '../src/protocol/frame.js';

/**
 * A minimal, allocation-light V2 connection for the benchmarks: MPUB with a reused batch
 * buffer, and SUB/RDY/FIN for consumers. Not the client library: no reconnects, no backoff.
 */
export class BenchConn {
  readonly sock: net.Socket;
  readonly #decoder = new FrameDecoder();
  #waiters: Array<(err: Error | null) => void> = [];
  onMessage: ((id: Buffer, body: Buffer) => void) | null = null;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      // FINs written while handling one chunk go out in one write.
      sock.cork();
      for (const f of this.#decoder.push(chunk)) {
        if (f.type === FRAME_TYPE_MESSAGE) {
          this.onMessage?.(f.data.subarray(10, 26), f.data.subarray(26));
        } else if (f.type === FRAME_TYPE_RESPONSE) {
          if (f.data.length === 11 && f.data.toString() === '_heartbeat_') sock.write('NOP\n');
          else this.#waiters.shift()?.(null);
        } else if (f.type === FRAME_TYPE_ERROR) {
          this.#waiters.shift()?.(new Error(f.data.toString()));
        }
      }
      sock.uncork();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<BenchConn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, host, () => {
        sock.write('  V2');
        resolve(new BenchConn(sock));
      });
      sock.once('error', reject);
    });
  }

  #expect(): Promise<void> {
    return new Promise((resolve, reject) => this.#waiters.push((err) => (err ? reject(err) : resolve())));
  }

  /** Sends a pre-encoded MPUB command and waits for its OK. */
  send(cmd: Buffer): Promise<void> {
    const p = this.#expect();
    this.sock.write(cmd);
    return p;
  }

  async subscribe(topic: string, channel: string, rdy: number): Promise<void> {
    const p = this.#expect();
    this.sock.write(`SUB ${topic} ${channel}\n`);
    await p;
    this.sock.write(`RDY ${rdy}\n`);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** `MPUB <topic>\n[len][count]([size][body])*` with `count` copies of `body`. */
export function encodeMpub(topic: string, bodies: Buffer[]): Buffer {
  const head = Buffer.from(`MPUB ${topic}\n`);
  let size = 4;
  for (const b of bodies) size += 4 + b.length;
  const out = Buffer.allocUnsafe(head.length + 4 + size);
  head.copy(out, 0);
  let off = head.length;
  out.writeInt32BE(size, off);
  out.writeInt32BE(bodies.length, off + 4);
  off += 8;
  for (const b of bodies) {
    out.writeInt32BE(b.length, off);
    b.copy(out, off + 4);
    off += 4 + b.length;
  }
  return out;
}
