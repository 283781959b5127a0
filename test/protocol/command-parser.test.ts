import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandParser, MAX_LINE_LENGTH, SilentClose, type ParsedItem, type ParserLimits } from '../../src/protocol/command-parser.js';
import { copyAll } from '../../src/protocol/body-batch.js';
import { ProtocolError } from '../../src/protocol/errors.js';

/**
 * The V2 command parser, socket-free (docs/protocol.md, Commands): every command, chunking
 * invariance, the size/read errors of each body command in the original's order, line limits
 * and a random-input loop.
 */
const LIMITS: ParserLimits = { maxBodySize: 5 * 1024 * 1024, maxMsgSize: 1024 * 1024 };

/** A parsed item with an MPUB's bodies as an array, for comparisons. */
type Item = Exclude<ParsedItem, { type: 'mpub' }> | { type: 'mpub'; name: string; params: string[]; messages: Buffer[] };
type Outcome = Item | { type: 'error'; wire: string; fatal: boolean } | { type: 'silent-close' };

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function bytes(...parts: Array<string | Buffer | number>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? int32(p) : typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}

function body(line: string, data: string | Buffer): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  return bytes(`${line}\n`, b.length, b);
}

function mpub(topic: string, messages: string[], declared?: number): Buffer {
  const inner = Buffer.concat([int32(messages.length), ...messages.flatMap((m) => [int32(Buffer.byteLength(m)), Buffer.from(m)])]);
  return bytes(`MPUB ${topic}\n`, declared ?? inner.length, inner);
}

/**
 * Feeds `input` in chunks of `chunk` bytes (0 = all at once), accepting every body, and returns
 * what the parser produced. Stops at the first error (the connection would be closed).
 * `eof` appends the parser's end-of-stream error, if any.
 */
function run(input: Buffer, chunk = 0, opts: { magic?: boolean; eof?: boolean; limits?: ParserLimits } = {}): Outcome[] {
  const p = new CommandParser(opts.limits ?? LIMITS, opts.magic ?? false);
  const out: Outcome[] = [];
  const step = chunk === 0 ? Math.max(1, input.length) : chunk;
  try {
    for (let off = 0; off < input.length || off === 0; off += step) {
      p.push(input.subarray(off, off + step));
      for (let item = p.next(); item !== null; item = p.next()) {
        out.push(copyItem(item));
        if (item.type === 'line' && item.hasBody) p.acceptBody();
      }
      if (input.length === 0) break;
    }
    if (opts.eof) {
      const e = p.eofError();
      if (e !== null) out.push({ type: 'error', wire: e.wireBody(), fatal: e.fatal });
    }
  } catch (err) {
    if (err instanceof ProtocolError) out.push({ type: 'error', wire: err.wireBody(), fatal: err.fatal });
    else if (err instanceof SilentClose) out.push({ type: 'silent-close' });
    else throw err;
  }
  return out;
}

function copyItem(item: ParsedItem): Item {
  if (item.type === 'body') return { ...item, params: [...item.params], body: Buffer.from(item.body) };
  if (item.type === 'mpub') return { ...item, params: [...item.params], messages: copyAll(item.messages) };
  return { ...item, params: [...item.params] };
}

const line = (name: string, params: string[] = [], hasBody = false): Item => ({ type: 'line', name, params, hasBody });
const err = (wire: string): Outcome => ({ type: 'error', wire, fatal: true });

/** Every command once, as one stream. */
const ALL_COMMANDS = bytes(
  body('IDENTIFY', '{"client_id":"x"}'),
  body('AUTH', 'secret'),
  'SUB topic channel\n',
  'RDY 10\n',
  'FIN 0123456789abcdef\n',
  'REQ 0123456789abcdef 1000\n',
  'TOUCH 0123456789abcdef\n',
  'CLS\n',
  'NOP\n',
  body('PUB topic', 'hello'),
  mpub('topic', ['a', 'bc', 'def']),
  body('DPUB topic 250', 'later'),
);

const ALL_EXPECTED: Outcome[] = [
  line('IDENTIFY', [], true),
  { type: 'body', name: 'IDENTIFY', params: [], body: Buffer.from('{"client_id":"x"}') },
  line('AUTH', [], true),
  { type: 'body', name: 'AUTH', params: [], body: Buffer.from('secret') },
  line('SUB', ['topic', 'channel']),
  line('RDY', ['10']),
  line('FIN', ['0123456789abcdef']),
  line('REQ', ['0123456789abcdef', '1000']),
  line('TOUCH', ['0123456789abcdef']),
  line('CLS'),
  line('NOP'),
  line('PUB', ['topic'], true),
  { type: 'body', name: 'PUB', params: ['topic'], body: Buffer.from('hello') },
  line('MPUB', ['topic'], true),
  { type: 'mpub', name: 'MPUB', params: ['topic'], messages: [Buffer.from('a'), Buffer.from('bc'), Buffer.from('def')] },
  line('DPUB', ['topic', '250'], true),
  { type: 'body', name: 'DPUB', params: ['topic', '250'], body: Buffer.from('later') },
];

describe('command parser: commands', () => {
  it('parses every command', () => {
    assert.deepEqual(run(ALL_COMMANDS), ALL_EXPECTED);
  });

  it('gives identical results for every chunk size, down to one byte at a time', () => {
    for (const chunk of [1, 2, 3, 5, 7, 13, 64]) {
      assert.deepEqual(run(ALL_COMMANDS, chunk), ALL_EXPECTED, `chunk size ${chunk}`);
    }
  });

  it('checks the magic first', () => {
    assert.deepEqual(run(bytes('  V2', 'NOP\n'), 1, { magic: true }), [line('NOP')]);
    assert.deepEqual(run(bytes('  V1', 'NOP\n'), 0, { magic: true }), [err('E_BAD_PROTOCOL')]);
    assert.deepEqual(run(bytes('GET / HTTP/1.1\r\n'), 0, { magic: true }), [err('E_BAD_PROTOCOL')]);
    // A short magic is just incomplete (EOF there closes silently).
    assert.deepEqual(run(bytes(' V'), 0, { magic: true, eof: true }), []);
  });

  it('holds a body command until acceptBody(), so checks can run before the body is read', () => {
    const p = new CommandParser(LIMITS, false);
    p.push(body('PUB t', 'abc'));
    assert.deepEqual(p.next(), line('PUB', ['t'], true));
    assert.equal(p.next(), null);
    assert.equal(p.next(), null);
    assert.equal(p.buffered(), 7);
    p.acceptBody();
    const b = p.next();
    assert.equal(b?.type, 'body');
    assert.throws(() => p.acceptBody(), /without a pending body command/);
  });

  it('copies bodies out of the shared input chunk', () => {
    const p = new CommandParser(LIMITS, false);
    const input = body('PUB t', 'abc');
    p.push(input);
    p.next();
    p.acceptBody();
    const item = p.next();
    assert.equal(item?.type, 'body');
    input.fill(0x7a);
    assert.equal((item as { body: Buffer }).body.toString(), 'abc');
  });

  it('strips one CR before LF', () => {
    assert.deepEqual(run(bytes('NOP\r\n')), [line('NOP')]);
    assert.deepEqual(run(bytes('SUB t c\r\n')), [line('SUB', ['t', 'c'])]);
    assert.deepEqual(run(bytes('FIN 0123456789abcdef\r\n')), [line('FIN', ['0123456789abcdef'])]);
    assert.deepEqual(run(body('PUB t\r', 'x')), [line('PUB', ['t'], true), { type: 'body', name: 'PUB', params: ['t'], body: Buffer.from('x') }]);
    assert.deepEqual(run(bytes('NOP\r\r\n')), [line('NOP\r')]);
    assert.deepEqual(run(bytes('\r\n')), [line('')]);
  });

  it('splits on single spaces: double spaces give empty parameters', () => {
    assert.deepEqual(run(bytes('SUB  t c\n')), [line('SUB', ['', 't', 'c'])]);
    assert.deepEqual(run(bytes('RDY \n')), [line('RDY', [''])]);
    assert.deepEqual(run(bytes('REQ id  \n')), [line('REQ', ['id', '', ''])]);
    assert.deepEqual(run(bytes(' NOP\n')), [line('', ['NOP'])]);
    assert.deepEqual(run(bytes('\n')), [line('')]);
    assert.deepEqual(run(bytes('NOP\tx\n')), [line('NOP\tx')]);
  });

  it('does not take the FIN fast path for a 16-byte parameter that contains a space', () => {
    assert.deepEqual(run(bytes('FIN 0123456789abcd f\n')), [line('FIN', ['0123456789abcd', 'f'])]);
    assert.deepEqual(run(bytes('FIN 0123456789abcdef0\n')), [line('FIN', ['0123456789abcdef0'])]);
  });

  it('keeps non-ASCII bytes as latin1 chars (one char per byte)', () => {
    assert.deepEqual(run(bytes('PUB ', Buffer.from([0xc3, 0xa9, 0xff]), '\n')), [line('PUB', ['\u00c3\u00a9\u00ff'], true)]);
  });

  it('treats lower-case and prototype-like names as plain lines, never as body commands', () => {
    assert.deepEqual(run(bytes('pub t\n')), [line('pub', ['t'])]);
    assert.deepEqual(run(bytes('constructor\n__proto__\ntoString\n')), [line('constructor'), line('__proto__'), line('toString')]);
  });

  it('does not consume the declared MPUB body length blindly', () => {
    // Declared 1000 bytes but the batch is 9: the next command follows the batch directly.
    assert.deepEqual(run(bytes(mpub('t', ['abc'], 1000), 'NOP\n')), [
      line('MPUB', ['t'], true),
      { type: 'mpub', name: 'MPUB', params: ['t'], messages: [Buffer.from('abc')] },
      line('NOP'),
    ]);
  });

  it('takes buffered bytes for a stream upgrade', () => {
    const p = new CommandParser(LIMITS, false);
    p.push(bytes('NOP\nrest'));
    assert.deepEqual(p.next(), line('NOP'));
    assert.equal(p.takeBuffered().toString(), 'rest');
    assert.equal(p.buffered(), 0);
    assert.equal(p.next(), null);
  });
});

describe('command parser: line length', () => {
  it('accepts a line of 16383 bytes plus LF (it fits the original 16 KiB reader)', () => {
    const name = 'X'.repeat(MAX_LINE_LENGTH - 1);
    assert.deepEqual(run(bytes(name, '\n')), [line(name)]);
    assert.deepEqual(run(bytes(name, '\n'), 1000), [line(name)]);
  });

  it('closes silently on a line of 16384 bytes or more, with or without its LF', () => {
    const name = 'X'.repeat(MAX_LINE_LENGTH);
    assert.deepEqual(run(bytes(name, '\n')), [{ type: 'silent-close' }]);
    assert.deepEqual(run(bytes(name)), [{ type: 'silent-close' }]);
    assert.deepEqual(run(bytes(name), 999), [{ type: 'silent-close' }]);
    assert.deepEqual(run(bytes('NOP\n', name)), [line('NOP'), { type: 'silent-close' }]);
    // One byte short of the limit is still only incomplete.
    assert.deepEqual(run(bytes('X'.repeat(MAX_LINE_LENGTH - 1))), []);
  });

  it('does not apply the line limit to bodies', () => {
    const big = Buffer.alloc(100_000, 0x61);
    const out = run(body('PUB t', big), 4096);
    assert.equal(out.length, 2);
    assert.equal((out[1] as { body: Buffer }).body.length, 100_000);
  });
});

describe('command parser: IDENTIFY and AUTH size errors, in order', () => {
  for (const cmd of ['IDENTIFY', 'AUTH']) {
    it(cmd, () => {
      const small: ParserLimits = { maxBodySize: 100, maxMsgSize: 50 };
      const opts = { eof: true, limits: small };
      // 1. the 4-byte size cannot be read
      assert.deepEqual(run(bytes(`${cmd}\n`, Buffer.from([0, 0])), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} failed to read body size`));
      assert.deepEqual(run(bytes(`${cmd}\n`), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} failed to read body size`));
      // 2. too big (checked before ≤ 0) — the limit is --max-body-size, not --max-msg-size
      assert.deepEqual(run(bytes(`${cmd}\n`, 101), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} body too big 101 > 100`));
      assert.deepEqual(run(bytes(`${cmd}\n`, 100, Buffer.alloc(100)), 0, opts).at(-1)?.type, 'body');
      // 3. ≤ 0 (signed: 0xffffffff is -1)
      assert.deepEqual(run(bytes(`${cmd}\n`, 0), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} invalid body size 0`));
      assert.deepEqual(run(bytes(`${cmd}\n`, Buffer.from([0xff, 0xff, 0xff, 0xff])), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} invalid body size -1`));
      assert.deepEqual(run(bytes(`${cmd}\n`, -2147483648), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} invalid body size -2147483648`));
      // 4. short body
      assert.deepEqual(run(bytes(`${cmd}\n`, 10, 'abc'), 0, opts).at(-1), err(`E_BAD_BODY ${cmd} failed to read body`));
    });
  }
});

describe('command parser: PUB and DPUB size errors, in order', () => {
  for (const [cmd, lineText] of [['PUB', 'PUB t'], ['DPUB', 'DPUB t 10']] as const) {
    it(cmd, () => {
      const small: ParserLimits = { maxBodySize: 100, maxMsgSize: 50 };
      const opts = { eof: true, limits: small };
      assert.deepEqual(run(bytes(`${lineText}\n`, Buffer.from([0])), 0, opts).at(-1), err(`E_BAD_MESSAGE ${cmd} failed to read message body size`));
      // ≤ 0 is checked before too big
      assert.deepEqual(run(bytes(`${lineText}\n`, 0), 0, opts).at(-1), err(`E_BAD_MESSAGE ${cmd} invalid message body size 0`));
      assert.deepEqual(run(bytes(`${lineText}\n`, -5), 0, opts).at(-1), err(`E_BAD_MESSAGE ${cmd} invalid message body size -5`));
      // the limit is --max-msg-size
      assert.deepEqual(run(bytes(`${lineText}\n`, 51), 0, opts).at(-1), err(`E_BAD_MESSAGE ${cmd} message too big 51 > 50`));
      assert.deepEqual(run(bytes(`${lineText}\n`, 50, Buffer.alloc(50)), 0, opts).at(-1)?.type, 'body');
      assert.deepEqual(run(bytes(`${lineText}\n`, 5, 'ab'), 0, opts).at(-1), err(`E_BAD_MESSAGE ${cmd} failed to read message body`));
    });
  }
});

describe('command parser: MPUB errors, in order', () => {
  const small: ParserLimits = { maxBodySize: 104, maxMsgSize: 10 };
  const opts = { eof: true, limits: small };
  const head = 'MPUB t\n';

  it('body size', () => {
    assert.deepEqual(run(bytes(head, Buffer.from([0, 0, 0])), 0, opts).at(-1), err('E_BAD_BODY MPUB failed to read body size'));
    assert.deepEqual(run(bytes(head, 0), 0, opts).at(-1), err('E_BAD_BODY MPUB invalid body size 0'));
    assert.deepEqual(run(bytes(head, -1), 0, opts).at(-1), err('E_BAD_BODY MPUB invalid body size -1'));
    assert.deepEqual(run(bytes(head, 105), 0, opts).at(-1), err('E_BAD_BODY MPUB body too big 105 > 104'));
  });

  it('message count: (max_body_size - 4) / 5 at most', () => {
    assert.deepEqual(run(bytes(head, 104, Buffer.from([0, 0])), 0, opts).at(-1), err('E_BAD_BODY MPUB failed to read message count'));
    assert.deepEqual(run(bytes(head, 104, 0), 0, opts).at(-1), err('E_BAD_BODY MPUB invalid message count 0'));
    assert.deepEqual(run(bytes(head, 104, -3), 0, opts).at(-1), err('E_BAD_BODY MPUB invalid message count -3'));
    assert.deepEqual(run(bytes(head, 104, 21), 0, opts).at(-1), err('E_BAD_BODY MPUB invalid message count 21'));
    // 20 is allowed (the count is not checked against the declared body size): reading goes on
    assert.deepEqual(run(bytes(head, 104, 20), 0, opts).at(-1), err('E_BAD_MESSAGE MPUB failed to read message(0) body size'));
  });

  it('messages: index in the texts, size ≤ 0 before too big, then short read', () => {
    assert.deepEqual(run(bytes(head, 104, 3, 1, 'a', Buffer.from([0])), 0, opts).at(-1), err('E_BAD_MESSAGE MPUB failed to read message(1) body size'));
    assert.deepEqual(run(bytes(head, 104, 3, 1, 'a', 1, 'b', 0), 0, opts).at(-1), err('E_BAD_MESSAGE MPUB invalid message(2) body size 0'));
    assert.deepEqual(run(bytes(head, 104, 3, -7), 0, opts).at(-1), err('E_BAD_MESSAGE MPUB invalid message(0) body size -7'));
    assert.deepEqual(run(bytes(head, 104, 3, 1, 'a', 11), 0, opts).at(-1), err('E_BAD_MESSAGE MPUB message too big 11 > 10'));
    assert.deepEqual(run(bytes(head, 104, 3, 1, 'a', 10, 'abc'), 0, opts).at(-1), err('E_BAD_MESSAGE MPUB failed to read message body'));
    assert.deepEqual(run(bytes(head, 104, 2, 1, 'a', 10, Buffer.alloc(10)), 0, opts).at(-1)?.type, 'mpub');
  });
});

describe('command parser: eofError', () => {
  it('is null between commands, inside a line and while a body awaits acceptBody()', () => {
    const p = new CommandParser(LIMITS, true);
    assert.equal(p.eofError(), null);
    p.push(Buffer.from('  V2NO'));
    assert.equal(p.next(), null);
    assert.equal(p.eofError(), null);
    p.push(Buffer.from('P\nPUB t\n'));
    assert.deepEqual(p.next(), line('NOP'));
    assert.deepEqual(p.next(), line('PUB', ['t'], true));
    assert.equal(p.eofError(), null);
    p.acceptBody();
    assert.equal(p.next(), null);
    assert.equal(p.eofError()?.wireBody(), 'E_BAD_MESSAGE PUB failed to read message body size');
  });

  it('names the command and the part that was cut', () => {
    const cases: Array<[Buffer, string]> = [
      [bytes('IDENTIFY\n'), 'E_BAD_BODY IDENTIFY failed to read body size'],
      [bytes('IDENTIFY\n', 5, 'ab'), 'E_BAD_BODY IDENTIFY failed to read body'],
      [bytes('AUTH\n', 1), 'E_BAD_BODY AUTH failed to read body'],
      [bytes('PUB t\n'), 'E_BAD_MESSAGE PUB failed to read message body size'],
      [bytes('DPUB t 1\n', 3), 'E_BAD_MESSAGE DPUB failed to read message body'],
      [bytes('MPUB t\n'), 'E_BAD_BODY MPUB failed to read body size'],
      [bytes('MPUB t\n', 20), 'E_BAD_BODY MPUB failed to read message count'],
      [bytes('MPUB t\n', 20, 2), 'E_BAD_MESSAGE MPUB failed to read message(0) body size'],
      [bytes('MPUB t\n', 20, 2, 1, 'x'), 'E_BAD_MESSAGE MPUB failed to read message(1) body size'],
      [bytes('MPUB t\n', 20, 2, 1, 'x', 2, 'y'), 'E_BAD_MESSAGE MPUB failed to read message body'],
    ];
    for (const [input, want] of cases) {
      const out = run(input, 0, { eof: true });
      assert.deepEqual(out.at(-1), err(want), want);
    }
  });
});

describe('command parser: random input', () => {
  /** Deterministic PRNG so a failure can be replayed. */
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 4294967296;
    };
  }

  const FRAGMENTS = ['PUB t\n', 'MPUB t\n', 'DPUB t 5\n', 'IDENTIFY\n', 'AUTH\n', 'NOP\n', 'SUB a b\n', '\r\n', ' ', '\n', 'FIN 0123456789abcdef\n'];

  function randomInput(r: () => number): Buffer {
    const parts: Buffer[] = [];
    const n = 1 + Math.floor(r() * 12);
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.4) parts.push(Buffer.from(FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!));
      else if (k < 0.7) parts.push(int32(Math.floor(r() * 40) - 5));
      else {
        const b = Buffer.alloc(Math.floor(r() * 30));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(r() * 256);
        parts.push(b);
      }
    }
    return Buffer.concat(parts);
  }

  it('only ever yields items, ProtocolError or SilentClose, the same for any chunking', () => {
    const r = rng(0x5eed);
    const small: ParserLimits = { maxBodySize: 64, maxMsgSize: 16 };
    for (let i = 0; i < 3000; i++) {
      const input = randomInput(r);
      const magic = r() < 0.2;
      const whole = run(input, 0, { limits: small, magic, eof: true });
      const chunked = run(input, 1 + Math.floor(r() * 7), { limits: small, magic, eof: true });
      assert.deepEqual(chunked, whole, `input ${input.toString('hex')}`);
      for (const o of whole) {
        if (o.type === 'error') assert.match(o.wire, /^E_[A-Z_]+( |$)/);
      }
    }
  });

  it('survives long random byte streams without throwing anything else', () => {
    const r = rng(42);
    for (let i = 0; i < 200; i++) {
      const b = Buffer.alloc(2000);
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(r() * 256);
      assert.doesNotThrow(() => run(b, 1 + Math.floor(r() * 50), { eof: true }));
    }
  });
});
