import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatFileNum,
  formatMeta,
  metaFileName,
  parseMeta,
  segmentFileName,
  tempMetaFileName,
} from '../../src/diskqueue/files.js';

test('file numbers are %06d', () => {
  assert.equal(formatFileNum(0), '000000');
  assert.equal(formatFileNum(12), '000012');
  assert.equal(formatFileNum(999999), '999999');
  assert.equal(formatFileNum(1000000), '1000000');
  assert.equal(formatFileNum(-1), '-00001');
});

test('segment, meta and temp meta names', () => {
  assert.equal(segmentFileName('/data', 'tt', 0), '/data/tt.diskqueue.000000.dat');
  assert.equal(segmentFileName('/data', 'tt:ch', 42), '/data/tt:ch.diskqueue.000042.dat');
  assert.equal(segmentFileName('', 'tt', 1), 'tt.diskqueue.000001.dat');
  assert.equal(metaFileName('/data', 'tt:ch'), '/data/tt:ch.diskqueue.meta.dat');
  assert.equal(metaFileName('', 'tt'), 'tt.diskqueue.meta.dat');
  assert.equal(tempMetaFileName('/d/tt.diskqueue.meta.dat', 77), '/d/tt.diskqueue.meta.dat.77.tmp');
});

test('meta text is depth\\nr,rp\\nw,wp\\n', () => {
  const m = { depth: 8, readFileNum: 0, readPos: 0, writeFileNum: 3, writePos: 160 };
  assert.equal(formatMeta(m), '8\n0,0\n3,160\n');
  assert.deepEqual(parseMeta('8\n0,0\n3,160\n'), m);
  assert.deepEqual(parseMeta(formatMeta({ depth: 905, readFileNum: 0, readPos: 8400, writeFileNum: 0, writePos: 46400 })), {
    depth: 905,
    readFileNum: 0,
    readPos: 8400,
    writeFileNum: 0,
    writePos: 46400,
  });
});

test('meta parsing is scanf-like: lenient on blanks, sign, final newline and trailing bytes', () => {
  assert.deepEqual(parseMeta('-3\n1,2\n3,4'), { depth: -3, readFileNum: 1, readPos: 2, writeFileNum: 3, writePos: 4 });
  assert.deepEqual(parseMeta(' 1\n 2, 3\n4,5\ngarbage'), { depth: 1, readFileNum: 2, readPos: 3, writeFileNum: 4, writePos: 5 });
});

test('malformed meta text throws', () => {
  for (const bad of ['', '1\n', '1\n2,3\n', '1 2 3 4 5', '1\n2;3\n4,5\n', 'x\n0,0\n0,0\n', '1\n\n0,0\n0,0\n', '99999999999999999999\n0,0\n0,0\n']) {
    assert.throws(() => parseMeta(bad), Error, JSON.stringify(bad));
  }
});
