import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir, freePort, startApp, type Daemon } from '../helpers/daemons.js';
import { parseNsqlookupdArgs } from '../../src/nsqlookupd/options.js';
import { get } from '../helpers/lookupd.js';
import { logTexts } from '../helpers/log-lines.js';

/**
 * nsqlookupd's config file and logging flags end to end (upstream `apps/nsqlookupd/main.go`):
 * every key read from TOML (flags still win), `--log-level` hides lower levels (any case), every
 * line carries the prefix.
 */
const dirs: string[] = [];
const procs: Daemon[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Sends `bytes` on a new TCP connection and resolves with everything answered until close. */
function exchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks)));
    setTimeout(() => s.destroy(), 1000);
  });
}

describe('nsqlookupd config file and log flags', () => {
  it('reads every key from the file; --log-prefix overrides it; ERROR level hides INFO', async () => {
    const [tcpPort, httpPort] = [await freePort(), await freePort()];
    const dir = tempDir('tsnsq-audit-lookupd-');
    dirs.push(dir);
    const file = path.join(dir, 'nsqlookupd.cfg');
    fs.writeFileSync(
      file,
      [
        'log_level = "ERROR"',
        'log_prefix = "[from-config] "',
        `tcp_address = "127.0.0.1:${tcpPort}"`,
        `http_address = "127.0.0.1:${httpPort}"`,
        'broadcast_address = "lookup.example"',
        'inactive_producer_timeout = "1m"',
        'tombstone_lifetime = 30000',
      ].join('\n') + '\n',
    );
    assert.deepEqual(parseNsqlookupdArgs([`--config=${file}`]).options, {
      logLevel: 'error',
      logPrefix: '[from-config] ',
      tcpAddress: `127.0.0.1:${tcpPort}`,
      httpAddress: `127.0.0.1:${httpPort}`,
      broadcastAddress: 'lookup.example',
      inactiveProducerTimeout: 60000,
      tombstoneLifetime: 30000,
    });
    const p = await startApp('nsqlookupd', [`--config=${file}`, '--log-prefix=[audit-lk] '], { ready: async () => {
      try {
        return (await get(httpPort, '/ping')).body === 'OK';
      } catch {
        return false;
      }
    } });
    procs.push(p);

    // broadcast_address from the file is what IDENTIFY answers.
    const body = Buffer.from(JSON.stringify({ broadcast_address: 'n', tcp_port: 1, http_port: 2, version: '1.3.0' }));
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    const answer = await exchange(tcpPort, Buffer.concat([Buffer.from('  V1IDENTIFY\n'), size, body]));
    assert.match(answer.subarray(4).toString(), /"broadcast_address":"lookup\.example"/);

    await exchange(tcpPort, Buffer.from('XXXX'));
    assert.equal(await p.stop(), 0);
    const lines = p.logs().split('\n').filter((l) => l !== '');
    for (const l of lines) assert.match(l, /^\[audit-lk\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} (ERROR|FATAL): /);
    assert.ok(logTexts(p.logs(), '[audit-lk] ').some((l) => /^ERROR: client\(127\.0\.0\.1:\d+\) bad protocol magic 'XXXX'$/.test(l)), p.logs());
  });

  it('a broken config file is a FATAL log line and exit 1', () => {
    const dir = tempDir('tsnsq-audit-lookupd-');
    dirs.push(dir);
    const file = path.join(dir, 'bad.cfg');
    fs.writeFileSync(file, 'tombstone_lifetime = true\n');
    const bin = fileURLToPath(new URL('../../src/apps/nsqlookupd.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, `--config=${file}`], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^\[nsqlookupd\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} FATAL: failed parsing tombstone_lifetime true in config file - .*\n$/);
  });
});
