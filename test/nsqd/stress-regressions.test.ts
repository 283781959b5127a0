import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { FrameDecoder } from '../../src/protocol/frame.js';

/**
 * Focused regression tests for bugs found by the chaos stress test (stress-chaos.test.ts); each
 * reproduces one bug deterministically against a real nsqd.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
});

describe('stress regressions: input while a command waits', () => {
  let d: Daemon;
  let auth: http.Server;
  before(async () => {
    // An auth server that takes its time: the connection is busy with AUTH meanwhile.
    auth = http.createServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ttl: 3600, identity: 'x', authorizations: [{ topic: '.*', channels: ['.*'], permissions: ['subscribe', 'publish'] }] }));
      }, 3000);
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
});
