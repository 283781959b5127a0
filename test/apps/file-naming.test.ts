import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strftime } from '../../src/apps/lib/strftime.js';
import { computeFilenameFormat, currentFilename, withRevision, type FilenameOptions } from '../../src/apps/lib/filename-format.js';

// 2006-01-02 15:04:05 local time, Go's reference instant (a Monday).
const REF = new Date(2006, 0, 2, 15, 4, 5);

test('strftime conversions of the original', () => {
  assert.equal(strftime('%Y-%m-%d_%H', REF), '2006-01-02_15');
  assert.equal(strftime('%B %b %m %A %a %d %H %I %M %S %Y %y %p %%', REF), 'January Jan 01 Monday Mon 02 15 03 04 05 2006 06 PM %');
  assert.equal(strftime('%I%p', new Date(2006, 0, 2, 0, 30)), '12AM');
  assert.match(strftime('%z', REF), /^[+-]\d{4}$/);
  assert.ok(strftime('%Z', REF).length > 0);
  // unknown conversions and a trailing % are copied through
  assert.equal(strftime('%q %j x%', REF), '%q %j x%');
  assert.equal(strftime('plain', REF), 'plain');
});

const base: FilenameOptions = {
  filenameFormat: '<TOPIC>.<HOST><REV>.<DATETIME>.log',
  hostIdentifier: '',
  gzip: false,
  rotateSize: 0,
  rotateInterval: 0,
  workDir: '/tmp',
  outputDir: '/tmp',
};

test('template: <REV> dropped unless revisions are needed; host identifier tokens; .gz', () => {
  assert.equal(computeFilenameFormat(base, 'ft', 'vm.example.com', 42), 'ft.vm.<DATETIME>.log');
  assert.equal(computeFilenameFormat({ ...base, rotateSize: 10 }, 'ft', 'vm.example.com', 42), 'ft.vm<REV>.<DATETIME>.log');
  assert.equal(computeFilenameFormat({ ...base, gzip: true }, 'ft', 'vm', 42), 'ft.vm<REV>.<DATETIME>.log.gz');
  assert.equal(computeFilenameFormat({ ...base, gzip: true, filenameFormat: '<TOPIC><REV>.gz' }, 'ft', 'vm', 42), 'ft<REV>.gz');
  assert.equal(
    computeFilenameFormat({ ...base, hostIdentifier: 'id-<SHORT_HOST>-<HOSTNAME>', filenameFormat: '<HOST>.<PID>' }, 't', 'vm.example.com', 42),
    'id-vm-vm.example.com.42',
  );
  for (const o of [{ gzip: true }, { rotateSize: 1 }, { rotateInterval: 1000 }, { workDir: '/w' }]) {
    assert.throws(() => computeFilenameFormat({ ...base, ...o, filenameFormat: '<TOPIC>.log' }, 't', 'h', 1), {
      message: 'missing <REV> in --filename-format when gzip, rotation, or work dir enabled',
    });
  }
});

test('datetime and revision substitution', () => {
  const name = currentFilename('ft.vm<REV>.<DATETIME>.log', '%Y-%m-%d_%H', REF);
  assert.equal(name, 'ft.vm<REV>.2006-01-02_15.log');
  assert.equal(withRevision(name, 0), 'ft.vm-000000.2006-01-02_15.log');
  assert.equal(withRevision(name, 12), 'ft.vm-000012.2006-01-02_15.log');
});
