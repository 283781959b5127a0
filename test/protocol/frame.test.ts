import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeError,
  encodeFrame,
  encodeResponse,
  FRAME_CLOSE_WAIT,
  FRAME_HEARTBEAT,
  FRAME_OK,
  FRAME_TYPE_ERROR,
  FRAME_TYPE_MESSAGE,
  FRAME_TYPE_RESPONSE,
  FrameDecodeError,
  FrameDecoder,
} from '../../src/protocol/frame.js';

/** Server → client frames (docs/protocol.md, Frames): exact bytes both ways. */
const hex = (b: Buffer) => b.toString('hex');

const FIXTURES: Array<{ name: string; type: number; data: Buffer; bytes: string }> = [
  { name: 'OK', type: 0, data: Buffer.from('OK'), bytes: '00000006' + '00000000' + '4f4b' },
  { name: 'heartbeat', type: 0, data: Buffer.from('_heartbeat_'), bytes: '0000000f' + '00000000' + Buffer.from('_heartbeat_').toString('hex') },
  { name: 'CLOSE_WAIT', type: 0, data: Buffer.from('CLOSE_WAIT'), bytes: '0000000e' + '00000000' + Buffer.from('CLOSE_WAIT').toString('hex') },
  { name: 'E_BAD_PROTOCOL', type: 1, data: Buffer.from('E_BAD_PROTOCOL'), bytes: '00000012' + '00000001' + Buffer.from('E_BAD_PROTOCOL').toString('hex') },
  { name: 'empty message frame', type: 2, data: Buffer.alloc(0), bytes: '00000004' + '00000002' },
  { name: 'binary', type: 2, data: Buffer.from([0, 255, 10, 13]), bytes: '00000008' + '00000002' + '00ff0a0d' },
];

describe('frames', () => {
  it('encodes exact bytes: size = 4 + data, then type, then data', () => {
    for (const f of FIXTURES) assert.equal(hex(encodeFrame(f.type, f.data)), f.bytes, f.name);
    assert.equal(hex(FRAME_OK), FIXTURES[0]!.bytes);
    assert.equal(hex(FRAME_HEARTBEAT), FIXTURES[1]!.bytes);
    assert.equal(hex(FRAME_CLOSE_WAIT), FIXTURES[2]!.bytes);
    assert.equal(hex(encodeResponse('OK')), FIXTURES[0]!.bytes);
    assert.equal(hex(encodeError('E_BAD_PROTOCOL')), FIXTURES[3]!.bytes);
    assert.equal(FRAME_TYPE_RESPONSE, 0);
    assert.equal(FRAME_TYPE_ERROR, 1);
    assert.equal(FRAME_TYPE_MESSAGE, 2);
  });

  it('encodes string data as UTF-8 and Buffers as they are', () => {
    assert.equal(hex(encodeResponse('é')), '00000006' + '00000000' + 'c3a9');
    assert.equal(hex(encodeError(Buffer.from([0xe9]))), '00000005' + '00000001' + 'e9');
  });

  it('decodes what it encodes, whole and byte by byte', () => {
    const stream = Buffer.concat(FIXTURES.map((f) => encodeFrame(f.type, f.data)));
    const whole = new FrameDecoder().push(stream).map((f) => ({ type: f.type, data: Buffer.from(f.data) }));
    assert.deepEqual(whole, FIXTURES.map((f) => ({ type: f.type, data: f.data })));
    const d = new FrameDecoder();
    const byByte: Array<{ type: number; data: Buffer }> = [];
    for (let i = 0; i < stream.length; i++) {
      for (const f of d.push(stream.subarray(i, i + 1))) byByte.push({ type: f.type, data: Buffer.from(f.data) });
    }
    assert.deepEqual(byByte, whole);
  });

  it('returns nothing until a frame is complete', () => {
    const d = new FrameDecoder();
    const ok = encodeResponse('OK');
    assert.deepEqual(d.push(ok.subarray(0, 3)), []);
    assert.deepEqual(d.push(ok.subarray(3, 9)), []);
    const frames = d.push(Buffer.concat([ok.subarray(9), ok.subarray(0, 2)]));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.data.toString(), 'OK');
  });

  it('rejects sizes below 4, above the maximum, and an HTTP answer', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from('0000000300000000', 'hex')), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(Buffer.from('ffffffff', 'hex')), /invalid frame size -1/);
    assert.throws(() => new FrameDecoder(100).push(Buffer.from('00000065', 'hex')), /invalid frame size 101/);
    assert.throws(() => new FrameDecoder().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), /HTTP/);
  });
});
