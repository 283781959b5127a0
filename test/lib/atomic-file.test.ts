import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { replaceFileAtomically } from '../../src/lib/atomic-file.js';
import { tempDir as kitTempDir } from '../helpers/daemons.js';

const tempDir = (): string => kitTempDir('tsnsq-atomic-');

test('replaces the target with a 0600 file and leaves no temp file behind', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'state.dat');
    fs.writeFileSync(file, 'old contents that are longer');
    replaceFileAtomically(file, 'new', { tmpFile: `${file}.123.tmp` });
    assert.equal(fs.readFileSync(file, 'utf8'), 'new');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), ['state.dat']);
    replaceFileAtomically(file, 'again ✓', { tmpFile: `${file}.456.tmp`, syncDir: true });
    assert.equal(fs.readFileSync(file, 'utf8'), 'again ✓');
    assert.deepEqual(fs.readdirSync(dir), ['state.dat']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed rename removes the temp file, rethrows and keeps the target', () => {
  const dir = tempDir();
  try {
    // A non-empty directory in the target's place makes the rename fail.
    const target = path.join(dir, 'busy');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'x');
    assert.throws(() => replaceFileAtomically(target, 'data', { tmpFile: path.join(dir, 'busy.1.tmp') }));
    assert.deepEqual(fs.readdirSync(dir), ['busy']);
    assert.deepEqual(fs.readdirSync(target), ['inside']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
