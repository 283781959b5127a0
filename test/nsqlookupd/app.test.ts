import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { get, startLookupd } from '../helpers/lookupd.js';

const BIN = fileURLToPath(new URL('../../src/apps/nsqlookupd.js', import.meta.url));

describe('nsqlookupd binary', () => {
  it('--version', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'nsqlookupd v1.3.0 (built w/tsnsq)\n');
  });

  it('a bad flag prints the error and usage, exit 1', () => {
    const r = spawnSync(process.execPath, [BIN, '--no-such-flag'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^flag provided but not defined: -no-such-flag\nUsage of nsqlookupd:\n/);
    const d = spawnSync(process.execPath, [BIN, '--tombstone-lifetime=5'], { encoding: 'utf8' });
    assert.equal(d.status, 1);
    assert.match(d.stderr, /tombstone-lifetime/);
  });

  it('listen failure is fatal', async () => {
    const l = await startLookupd();
    try {
      const r = spawnSync(process.execPath, [BIN, `--tcp-address=127.0.0.1:${l.tcpPort}`, '--http-address=127.0.0.1:0'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`FATAL: failed to instantiate nsqlookupd - listen \\(127\\.0\\.0\\.1:${l.tcpPort}\\) failed - `));
    } finally {
      await l.close();
    }
  });

  it('starts, logs its addresses, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, '--tcp-address=127.0.0.1:0', '--http-address=127.0.0.1:0', '--log-prefix=[lk] '], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const listening = new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (s: string) => {
        stderr += s;
        const m = /INFO: HTTP: listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const httpPort = await listening;
      assert.match(stderr, /^\[lk\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} INFO: nsqlookupd v1\.3\.0 \(built w\/tsnsq\)\n/);
      assert.match(stderr, /INFO: TCP: listening on 127\.0\.0\.1:\d+\n/);
      assert.equal((await get(httpPort, '/ping')).body, 'OK');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});
