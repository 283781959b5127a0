import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { sleep } from '../helpers/wait.js';
import { FrameDecoder } from '../../src/protocol/frame.js';

/**
 * Focused regression tests for bugs found by the chaos stress test (stress-chaos.test.ts); each
 * reproduces one bug deterministically against a real nsqd.
 */

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU time (user + system) of a process in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

describe('stress regressions', () => {
  let d: Daemon;
  before(async () => {
    d = await startNsqd(['--mem-queue-size=50']);
  });
  after(async () => {
    await d.stop();
  });

  // Bug: every response frame was written from a fresh 16 KiB output buffer, and commands kept
  // being read while the client read nothing. A client pipelining non-fatal failing commands
  // (FIN of unknown ids) without reading made nsqd hold ~4 KiB of RSS per 21-byte command,
  // without bound (GBs within seconds). Now small writes are copied out of the output buffer and
  // reading stops while too much output waits, as the original's blocking writes do.
  it('a client that pipelines commands without reading cannot make nsqd buffer without bound', { skip: !fs.existsSync('/proc/self/status') }, async () => {
    const s = await connect(d.tcpPort);
    s.on('error', () => {});
    s.pause();
    const rss0 = rssBytes(d.proc.pid!);
    s.write('  V2SUB flood c\n');
    const line = Buffer.from('FIN 0123456789abcdef\n'.repeat(20000));
    let sent = 0;
    // Unfixed, nsqd kept reading (and buffering) for as long as the client kept writing.
    const deadline = Date.now() + 3000;
    let stalled = false;
    while (Date.now() < deadline && sent < 60e6) {
      sent += line.length;
      if (!s.write(line)) {
        const drained = await Promise.race([new Promise<boolean>((r) => s.once('drain', () => r(true))), sleep(1000).then(() => false)]);
        if (!drained) {
          stalled = true; // nsqd stopped reading
          break;
        }
      }
    }
    assert.ok(stalled, `nsqd kept reading ${sent} bytes from a client that read nothing`);
    await sleep(300);
    const grown = rssBytes(d.proc.pid!) - rss0;
    console.log(`# flood: queued ${s.bytesWritten} bytes, nsqd RSS +${Math.round(grown / 1048576)} MiB`);
    assert.ok(grown < 128 * 1024 * 1024, `nsqd RSS grew by ${Math.round(grown / 1048576)} MiB while a client did not read`);

    // Once the client reads again, every command is answered, in order, exactly once.
    const decoder = new FrameDecoder();
    const commands = (s.bytesWritten - '  V2SUB flood c\n'.length) / 21;
    let errors = 0;
    let ok = 0;
    let other = 0;
    s.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.type === 1 && f.data.toString().startsWith('E_FIN_FAILED FIN 0123456789abcdef failed')) errors++;
        else if (f.type === 0 && f.data.toString() === 'OK') ok++;
        else if (!(f.type === 0 && f.data.toString() === '_heartbeat_')) other++;
      }
    });
    s.resume();
    const readDeadline = Date.now() + 20000;
    while (errors < commands && Date.now() < readDeadline) await sleep(50);
    console.log(`# flood: ${errors}/${commands} answers read in ${Date.now() - readDeadline + 20000} ms`);
    assert.equal(ok, 1, 'the SUB answer');
    assert.equal(other, 0);
    assert.equal(errors, commands);
    s.destroy();
    const ping = await fetch(`http://127.0.0.1:${d.httpPort}/ping`);
    assert.equal(await ping.text(), 'OK');
  });
  // Once reading is held back (previous test), the end of the client's input must wait too:
  // commands already received are answered before the connection is closed.
  it('a held-back client that half-closes still gets every answer, then EOF', async () => {
    const s = await connect(d.tcpPort);
    s.on('error', () => {});
    s.pause();
    s.write('  V2SUB halfclose c\n');
    const n = 250000; // ~15 MB of answers: far beyond what nsqd buffers before it stops reading
    const line = Buffer.from('FIN 0123456789abcdef\n'.repeat(n / 10));
    for (let i = 0; i < 10; i++) s.write(line);
    s.end();
    await sleep(1000);
    const decoder = new FrameDecoder();
    let errors = 0;
    let ok = 0;
    let other = 0;
    s.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.type === 1 && f.data.toString().startsWith('E_FIN_FAILED FIN 0123456789abcdef failed')) errors++;
        else if (f.type === 0 && f.data.toString() === 'OK') ok++;
        else if (!(f.type === 0 && f.data.toString() === '_heartbeat_')) other++;
      }
    });
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.resume();
    await Promise.race([closed, sleep(20000)]);
    assert.equal(ok, 1, 'the SUB answer');
    assert.equal(other, 0);
    assert.equal(errors, n, 'every FIN answered before the connection closed');
  });
  // Bug (in the first fix): EOF was acted on while the paused inflater still held inflated
  // commands, so the last ones were never answered. EOF now waits until the inflater is empty.
  it('the same over deflate: EOF behind held-back compressed input', async () => {
    const s = await connect(d.tcpPort);
    s.on('error', () => {});
    s.pause();
    const identify = JSON.stringify({ feature_negotiation: true, deflate: true, deflate_level: 1 });
    s.write(Buffer.concat([Buffer.from('  V2IDENTIFY\n'), int32(identify.length), Buffer.from(identify)]));
    await sleep(100);
    // Random ids keep both directions poorly compressible, so the output backs up.
    const n = 400000;
    const ids: string[] = [];
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0') + Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
      ids.push(id);
      lines.push(`FIN ${id}\n`);
    }
    const compressed = zlib.deflateRawSync(Buffer.from(`SUB halfclose_deflate c\n${lines.join('')}`), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    s.write(compressed);
    s.end();
    await sleep(1000);
    // The reply: IDENTIFY's JSON frame in the clear, then a raw deflate stream.
    const inflater = zlib.createInflateRaw();
    const decoder = new FrameDecoder();
    let errors = 0;
    let ok = 0;
    let other = 0;
    const onFrames = (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        const text = f.data.toString();
        if (f.type === 1 && text.startsWith('E_FIN_FAILED FIN ')) errors++;
        else if (f.type === 0 && text === 'OK') ok++;
        else if (!(f.type === 0 && text === '_heartbeat_')) other++;
      }
    };
    inflater.on('data', onFrames);
    feedAfterPlainReply(s, inflater);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.resume();
    await Promise.race([closed, sleep(20000)]);
    await new Promise<void>((r) => inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    assert.equal(ok, 2, 'the deflate upgrade and SUB answers');
    assert.equal(other, 0);
    assert.equal(errors, n, 'every FIN answered before the connection closed');
  });
  // Bug (in the first fix, which keeps the output buffer after small writes): IDENTIFY changed
  // output_buffer_size while a buffer of the old size was kept, and a message that fit the new
  // size was written into the old buffer (RangeError inside the publisher's PUB).
  it('a larger output_buffer_size after earlier answers still delivers large messages', async () => {
    const s = await connect(d.tcpPort);
    s.on('error', () => {});
    const decoder = new FrameDecoder();
    const frames: Array<{ type: number; text: string; size: number }> = [];
    s.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) frames.push({ type: f.type, text: f.type === 2 ? '' : f.data.toString(), size: f.data.length });
    });
    const identify = JSON.stringify({ output_buffer_size: 65536 });
    s.write(Buffer.concat([Buffer.from('  V2PUB obs_grow\n'), int32(1), Buffer.from('x'), Buffer.from('IDENTIFY\n'), int32(identify.length), Buffer.from(identify)]));
    s.write('SUB obs_grow c\nRDY 10\n');
    const pub = await connect(d.tcpPort);
    pub.on('error', () => {});
    const pubFrames: string[] = [];
    const pubDecoder = new FrameDecoder();
    pub.on('data', (chunk: Buffer) => {
      for (const f of pubDecoder.push(chunk)) pubFrames.push(`${f.type} ${f.data.toString()}`);
    });
    await sleep(200);
    pub.write(Buffer.concat([Buffer.from('  V2PUB obs_grow\n'), int32(40000), Buffer.alloc(40000, 97)]));
    const deadline = Date.now() + 3000;
    while (frames.filter((f) => f.type === 2).length < 2 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(pubFrames, ['0 OK']);
    assert.deepEqual(
      frames.filter((f) => f.type === 2).map((f) => f.size),
      [26 + 1, 26 + 40000],
    );
    s.destroy();
    pub.destroy();
  });
});

describe('stress regressions: input while a command waits', () => {
  let d: Daemon;
  let auth: http.Server;
  before(async () => {
    // An auth server that takes its time: the connection is busy with AUTH meanwhile.
    auth = http.createServer((req, res) => {
      const quick = (req.url ?? '').includes('secret=quick');
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ttl: 3600, identity: 'x', authorizations: [{ topic: '.*', channels: ['.*'], permissions: ['subscribe', 'publish'] }] }));
      }, quick ? 300 : 3000);
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    d = await startNsqd([`--auth-http-address=127.0.0.1:${(auth.address() as net.AddressInfo).port}`]);
  });
  after(async () => {
    await d.stop();
    auth.close();
  });

  // Bug: while a command was running asynchronously (AUTH here, a lookupd query for a new
  // topic's PUB), only the socket was paused: the inflater of a deflate connection kept feeding
  // the command parser what it had already received, and a small compressed stream (~1 MB
  // expanding to 300 MB of NOPs) piled up in the parser's buffer, re-concatenated per 16 KiB
  // chunk. Now the inflater is paused with the socket.
  it('a deflate stream sent behind a pending AUTH is not inflated into the parser', { skip: !fs.existsSync('/proc/self/status') }, async () => {
    const s = await connect(d.tcpPort);
    s.on('error', () => {});
    s.pause();
    const rss0 = rssBytes(d.proc.pid!);
    const identify = JSON.stringify({ feature_negotiation: true, deflate: true });
    s.write(Buffer.concat([Buffer.from('  V2IDENTIFY\n'), int32(identify.length), Buffer.from(identify)]));
    await sleep(100);
    // The compressed stream is built first and sent at once, so nsqd's first read already holds
    // far more than the AUTH command.
    const deflater = zlib.createDeflateRaw({ level: 9 });
    const out: Buffer[] = [];
    deflater.on('data', (b: Buffer) => out.push(b));
    const flushed = () => new Promise<void>((r) => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    deflater.write(Buffer.concat([Buffer.from('AUTH\n'), int32(6), Buffer.from('secret')]));
    const chunk = Buffer.from('NOP\n'.repeat(262144));
    deflater.write(chunk);
    await flushed();
    const head = Buffer.concat(out.splice(0));
    // The window is the same after every chunk, so the next chunk's compressed bytes can be
    // replayed as often as wanted: about 1 KB for each MB of commands.
    deflater.write(chunk);
    await flushed();
    const replay = Buffer.concat(out.splice(0));
    s.write(Buffer.concat([head, ...Array.from({ length: 300 }, () => replay)]));
    // While AUTH is pending nsqd has nothing to do: it must neither buffer nor churn.
    await sleep(200);
    const cpu0 = cpuMs(d.proc.pid!);
    await sleep(2000);
    const cpu = cpuMs(d.proc.pid!) - cpu0;
    const grown = rssBytes(d.proc.pid!) - rss0;
    console.log(`# deflate behind AUTH: ${300 * replay.length} compressed bytes for ${300 * chunk.length}, nsqd RSS +${Math.round(grown / 1048576)} MiB, CPU ${cpu} ms in 2000 ms`);
    deflater.destroy();
    s.destroy();
    assert.ok(grown < 128 * 1024 * 1024, `nsqd RSS grew by ${Math.round(grown / 1048576)} MiB`);
    assert.ok(cpu < 1000, `nsqd used ${cpu} ms of CPU in 2 s while the connection waited for AUTH`);
    const ping = await fetch(`http://127.0.0.1:${d.httpPort}/ping`);
    assert.equal(await ping.text(), 'OK');
  });

  // The EOF rule of the deflate test above, for the other reason input stops (a command that
  // waits): everything inflated behind it is answered before the half-close takes effect.
  it('commands inflated behind a pending AUTH are all answered before a half-close takes effect', async () => {
    const s = await connect(d.tcpPort);
    s.on('error', () => {});
    const identify = JSON.stringify({ feature_negotiation: true, deflate: true });
    s.write(Buffer.concat([Buffer.from('  V2IDENTIFY\n'), int32(identify.length), Buffer.from(identify)]));
    await sleep(100);
    const n = 20000;
    const parts: Buffer[] = [Buffer.from('AUTH\n'), int32(5), Buffer.from('quick')];
    for (let i = 0; i < n; i++) parts.push(Buffer.from('PUB behind_auth\n'), int32(1), Buffer.from('x'));
    s.write(zlib.deflateRawSync(Buffer.concat(parts), { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    s.end();
    const inflater = zlib.createInflateRaw();
    const decoder = new FrameDecoder();
    let ok = 0;
    let other = 0;
    inflater.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.type === 0 && f.data.toString() === 'OK') ok++;
        else if (!(f.type === 0 && f.data.toString().startsWith('{'))) other++;
      }
    });
    feedAfterPlainReply(s, inflater);
    await new Promise<void>((r) => {
      s.once('close', () => r());
      setTimeout(r, 10000);
    });
    await new Promise<void>((r) => inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    assert.equal(other, 0);
    assert.equal(ok, 1 + n, 'the deflate upgrade and every PUB answered before the connection closed');
  });
});

/**
 * Routes a deflate connection's input: the IDENTIFY reply frame arrives in plaintext, every byte
 * after it goes to `inflater`.
 */
function feedAfterPlainReply(s: net.Socket, inflater: zlib.InflateRaw): void {
  let plain: Buffer | null = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => {
    if (plain === null) {
      inflater.write(chunk);
      return;
    }
    plain = Buffer.concat([plain, chunk]);
    if (plain.length < 4 || plain.length < 4 + plain.readInt32BE(0)) return;
    const rest = plain.subarray(4 + plain.readInt32BE(0));
    plain = null;
    inflater.write(rest);
  });
}
