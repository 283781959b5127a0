import * as net from 'node:net';
import { CMD_NOP, MAGIC_V2, rdyCommand, subCommand } from '../src/client/commands.js';
import { FRAME_TYPE_ERROR, FRAME_TYPE_MESSAGE, FRAME_TYPE_RESPONSE } from '../src/protocol/frame.js';

/**
 * How a bench consumer answers deliveries. `each`: one FIN written per message as it is
 * handled, as go-nsq and nsqjs do (the server sees many small reads). `bufio`: as the original's
 * bench_reader (nsq bench/bench_reader/bench_reader.go): FINs go into a 4 KiB buffer written when
 * full (a FIN can straddle two writes) and flushed after every message in the last quarter of each
 * RDY window; RDY is sent once. `corked`: the FINs for one received chunk go out in one write.
 */
export type FinMode = 'each' | 'bufio' | 'corked';

/** The size of Go's default bufio.Writer, which bench_reader writes its FINs through. */
const GO_BUFIO_SIZE = 4096;

/**
 * A minimal, allocation-light V2 connection for the benchmarks: pre-encoded PUB/MPUB sent as is
 * (a reused batch buffer), and SUB/RDY/FIN for consumers, FINs written one per message or corked.
 * Not the client library, on purpose: the library's Producer encodes every MPUB anew and its
 * Consumer coalesces the commands of one event-loop turn into one write, so it can neither load
 * nsqd as hard from one core nor send go-nsq's one-write-per-FIN traffic (README, Benchmarks).
 */
export class BenchConn {
  readonly sock: net.Socket;
  #waiters: Array<(err: Error | null) => void> = [];
  #cork = false;
  /** The unread tail of the previous chunk (a partial frame). */
  #rest: Buffer | null = null;
  /** A message frame: its id at `buf[off + 10, off + 26)`, its body from `off + 26` to `end`. */
  onMessage: ((buf: Buffer, off: number, end: number) => void) | null = null;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', this.#onData);
  }

  // Frames are decoded in place (no frame objects or views per message): the client's own cost
  // is kept low so that the numbers measure the server.
  #onData = (chunk: Buffer): void => {
    const buf = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    this.#rest = null;
    if (this.#cork) this.sock.cork();
    let off = 0;
    while (buf.length - off >= 8) {
      const end = off + 4 + buf.readInt32BE(off);
      if (end > buf.length) break;
      const type = buf.readInt32BE(off + 4);
      if (type === FRAME_TYPE_MESSAGE) {
        this.onMessage?.(buf, off + 8, end);
      } else if (type === FRAME_TYPE_RESPONSE) {
        if (end - off === 19 && buf.toString('latin1', off + 8, end) === '_heartbeat_') this.sock.write(CMD_NOP);
        else this.#waiters.shift()?.(null);
      } else if (type === FRAME_TYPE_ERROR) {
        this.#waiters.shift()?.(new Error(buf.toString('latin1', off + 8, end)));
      }
      off = end;
    }
    if (off < buf.length) this.#rest = buf.subarray(off);
    if (this.#cork) this.sock.uncork();
  };

  static connect(port: number, host = '127.0.0.1'): Promise<BenchConn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, host, () => {
        sock.write(MAGIC_V2);
        resolve(new BenchConn(sock));
      });
      sock.once('error', reject);
    });
  }

  #expect(): Promise<void> {
    return new Promise((resolve, reject) => this.#waiters.push((err) => (err ? reject(err) : resolve())));
  }

  /** Sends a pre-encoded command that is answered (PUB, MPUB) and waits for its OK. */
  send(cmd: Buffer): Promise<void> {
    const p = this.#expect();
    this.sock.write(cmd);
    return p;
  }

  /**
   * Subscribes and consumes as go-nsq does: RDY `rdy` at start, re-sent when the count left
   * from the last RDY falls below a quarter (go-nsq consumer.go maybeUpdateRDY), each message
   * FINished per `fin`. `onBody` sees every body before its FIN.
   */
  async consume(topic: string, channel: string, rdy: number, fin: FinMode, onBody: (buf: Buffer, bodyOff: number) => void): Promise<void> {
    const p = this.#expect();
    this.sock.write(subCommand(topic, channel));
    await p;
    this.#cork = fin === 'corked';
    const rdyCmd = rdyCommand(rdy);
    this.onMessage = fin === 'bufio' ? this.#bufioFinisher(rdy, onBody) : this.#eachFinisher(rdy, rdyCmd, onBody);
    this.sock.write(rdyCmd);
  }

  /** One FIN write per message, RDY re-sent as go-nsq does. */
  #eachFinisher(rdy: number, rdyCmd: Buffer, onBody: (buf: Buffer, bodyOff: number) => void): BenchConn['onMessage'] {
    let remain = rdy;
    return (buf, off) => {
      onBody(buf, off + 26);
      const cmd = Buffer.allocUnsafe(21);
      cmd.write('FIN ', 0, 'latin1');
      buf.copy(cmd, 4, off + 10, off + 26);
      cmd[20] = 10;
      this.sock.write(cmd);
      if (--remain <= 1 || remain < rdy / 4) {
        this.sock.write(rdyCmd);
        remain = rdy;
      }
    };
  }

  /** bench_reader's FINs: through a 4 KiB buffer as Go's bufio.Writer fills and flushes it. */
  #bufioFinisher(rdy: number, onBody: (buf: Buffer, bodyOff: number) => void): BenchConn['onMessage'] {
    let out = Buffer.allocUnsafe(GO_BUFIO_SIZE);
    let used = 0;
    let count = 0;
    const flush = () => {
      if (used === 0) return;
      this.sock.write(out.subarray(0, used));
      out = Buffer.allocUnsafe(GO_BUFIO_SIZE); // the socket may still hold the written one
      used = 0;
    };
    const fin = Buffer.allocUnsafe(21);
    fin.write('FIN ', 0, 'latin1');
    fin[20] = 10;
    return (buf, off) => {
      onBody(buf, off + 26);
      buf.copy(fin, 4, off + 10, off + 26);
      let from = 0;
      while (from < 21) {
        const n = Math.min(21 - from, GO_BUFIO_SIZE - used);
        fin.copy(out, used, from, from + n);
        used += n;
        from += n;
        if (used === GO_BUFIO_SIZE) flush();
      }
      if (++count % rdy > rdy * 0.75) flush();
    };
  }

  close(): void {
    this.sock.destroy();
  }
}
