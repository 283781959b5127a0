import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_TYPE_ERROR, FRAME_TYPE_RESPONSE, int32 } from '../helpers/raw-client.js';
import { sharedNsqd } from '../helpers/shared-nsqd.js';

/**
 * Transcripts captured from the original nsqd 1.3.0, replayed byte for byte against a real nsqd:
 * each line is one connection; `[0]`/`[1]` are the frame types; "(closed)" marks fatal errors.
 */
const { connect } = sharedNsqd();

type Step = { send: Buffer } | { expect: [number, string]; closed?: boolean } | { open: true };

const line = (s: string): Step => ({ send: Buffer.from(`${s}\n`) });
const bodyOf = (l: string, body: string | Buffer): Step => {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return { send: Buffer.concat([Buffer.from(`${l}\n`), int32(b.length), b]) };
};
const ok = (text = 'OK'): Step => ({ expect: [FRAME_TYPE_RESPONSE, text] });
const fatal = (text: string): Step => ({ expect: [FRAME_TYPE_ERROR, text], closed: true });
const nonFatal = (text: string): Step => ({ expect: [FRAME_TYPE_ERROR, text] });

async function replay(steps: Step[]): Promise<void> {
  const c = await connect();
  for (const s of steps) {
    if ('send' in s) {
      c.write(s.send);
    } else if ('open' in s) {
      await c.expectOpen();
    } else {
      const [type, text] = await c.readText();
      assert.deepEqual([type, text], s.expect);
      if (s.closed) await c.waitClosed();
    }
  }
}

describe('transcripts of the original nsqd', () => {
  const transcripts: Array<[string, Step[]]> = [
    ['ASDF', [line('ASDF'), fatal('E_INVALID invalid command ASDF')]],
    ['PUB bad*topic', [line('PUB bad*topic'), fatal('E_BAD_TOPIC PUB topic name "bad*topic" is not valid')]],
    ['MPUB bad*', [line('MPUB bad*'), fatal('E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad*" is not valid')]],
    ['MPUB t count 0', [bodyOf('MPUB t', int32(0)), fatal('E_BAD_BODY MPUB invalid message count 0')]],
    ['DPUB t 3600001', [bodyOf('DPUB t 3600001', 'x'), fatal('E_INVALID DPUB timeout 3600001 out of range 0-3600000')]],
    ['DPUB t -1', [bodyOf('DPUB t -1', 'x'), fatal('E_INVALID DPUB could not parse timeout -1')]],
    ['RDY before SUB', [line('RDY 1'), fatal('E_INVALID cannot RDY in current state')]],
    ['IDENTIFY heartbeat 999', [bodyOf('IDENTIFY', '{"heartbeat_interval":999}'), fatal('E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid')]],
    ['IDENTIFY sample_rate 100', [bodyOf('IDENTIFY', '{"sample_rate":100}'), fatal('E_BAD_BODY IDENTIFY sample rate (100) is invalid')]],
    ['IDENTIFY length 0', [bodyOf('IDENTIFY', ''), fatal('E_BAD_BODY IDENTIFY invalid body size 0')]],
    ['IDENTIFY twice', [bodyOf('IDENTIFY', '{}'), ok(), bodyOf('IDENTIFY', '{}'), ok(), { open: true }]],
    ['SUB twice', [line('SUB t c'), ok(), line('SUB t c'), fatal('E_INVALID cannot SUB in current state')]],
    ['RDY 2501', [line('SUB t c2'), ok(), line('RDY 2501'), fatal('E_INVALID RDY count 2501 out of range 0-2500')]],
    ['FIN 0123', [line('SUB t c2'), ok(), line('FIN 0123'), fatal('E_INVALID invalid message ID')]],
    [
      'REQ not in flight',
      [line('SUB t c2'), ok(), line('REQ 0123456789abcdef 10'), nonFatal('E_REQ_FAILED REQ 0123456789abcdef failed ID not in flight'), { open: true }],
    ],
    ['AUTH disabled', [bodyOf('AUTH', 'secret'), fatal('E_AUTH_DISABLED AUTH disabled')]],
    ['PUB with CRLF', [bodyOf('PUB t\r', 'x'), ok(), { open: true }]],
    ['CLS', [line('SUB t c3'), ok(), line('CLS'), ok('CLOSE_WAIT'), { open: true }]],
  ];
  for (const [name, steps] of transcripts) it(name, () => replay(steps));

  it('IDENTIFY heartbeat_interval then silence: heartbeats, then the socket is closed', async () => {
    const c = await connect();
    c.skipHeartbeats = false;
    c.identify({ heartbeat_interval: 1000 });
    await c.expectResponse('OK');
    await c.expectResponse('_heartbeat_', 2000);
    await c.waitClosed(3000);
  });
});
