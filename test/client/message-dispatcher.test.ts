/**
 * Message dispatch without sockets (go-nsq `consumer.go` handlerLoop / shouldFailMessage): real
 * Message objects whose responses are recorded, delivered to a handler, listeners or an iterator.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Message, type MessageResponder } from '../../src/client/index.js';
import { MessageDispatcher, type DispatchOptions } from '../../src/client/message-dispatcher.js';
import { quietLogger } from './helpers.js';

/** Records each response as `FIN id`, `REQ id delay backoff`, `TOUCH id`. */
class Recorder implements MessageResponder {
  readonly address = '127.0.0.1:4150';
  readonly log: string[] = [];
  finish(m: Message): void {
    this.log.push(`FIN ${m.id}`);
  }
  requeue(m: Message, delayMs: number | undefined, backoff: boolean): void {
    this.log.push(`REQ ${m.id} ${delayMs} ${backoff}`);
  }
  touch(m: Message): void {
    this.log.push(`TOUCH ${m.id}`);
  }
}

function message(r: Recorder, n: number, attempts = 1): Message {
  const frame = Buffer.alloc(26 + 1);
  frame.writeUInt16BE(attempts, 8);
  frame.write(String(n).padStart(16, '0'), 10, 'latin1');
  return new Message(frame, r);
}

function dispatcher(opts: Partial<DispatchOptions> = {}) {
  const events = new EventEmitter();
  const d = new MessageDispatcher(
    { maxAttempts: 5, concurrency: Infinity, autoTouch: false, ...opts },
    { events, log: quietLogger(), logPrefix: '[t/c]', msgTimeoutOf: () => 60000 },
  );
  return { d, events };
}

const id = (n: number) => String(n).padStart(16, '0');
const tick = () => new Promise((r) => setImmediate(r));

describe('MessageDispatcher', () => {
  it('answers from the handler outcome and runs at most `concurrency` handlers', async () => {
    const r = new Recorder();
    const { d } = dispatcher({ concurrency: 2 });
    const release: Array<() => void> = [];
    let running = 0;
    let most = 0;
    d.setHandler(async (m) => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((res) => release.push(res));
      running--;
      if (m.id === id(2)) throw new Error('boom');
    });
    for (let i = 1; i <= 4; i++) d.deliver(message(r, i));
    assert.equal(release.length, 2);
    while (release.length > 0) {
      release.shift()!();
      await tick();
    }
    assert.equal(most, 2);
    assert.deepEqual(r.log, [`FIN ${id(1)}`, `REQ ${id(2)} undefined true`, `FIN ${id(3)}`, `FIN ${id(4)}`]);
  });

  it('reports and finishes messages past maxAttempts without handing them out', () => {
    const r = new Recorder();
    const { d, events } = dispatcher({ maxAttempts: 2 });
    const discarded: string[] = [];
    events.on('discard', (m: Message) => discarded.push(m.id));
    const handled: string[] = [];
    d.setHandler((m) => void handled.push(m.id));
    d.deliver(message(r, 1, 3));
    d.deliver(message(r, 2, 2));
    assert.deepEqual(discarded, [id(1)]);
    assert.deepEqual(handled, [id(2)]);
    assert.deepEqual(r.log, [`FIN ${id(1)}`, `FIN ${id(2)}`]);
  });

  it('leaves answering to a plain listener that returns nothing', () => {
    const r = new Recorder();
    const { d, events } = dispatcher();
    events.on('message', (m: Message) => m.requeue(0, false));
    d.deliver(message(r, 1));
    assert.deepEqual(r.log, [`REQ ${id(1)} 0 false`]);
  });

  it('feeds iterators, requeues what nobody took on close, and ends them', async () => {
    const r = new Recorder();
    const { d } = dispatcher();
    const it = d.iterator();
    const first = it.next();
    d.deliver(message(r, 1));
    assert.equal((await first).value?.id, id(1));
    d.deliver(message(r, 2));
    assert.equal((await it.next()).value?.id, id(2), 'queued until the loop asks again');
    d.deliver(message(r, 3));
    d.close();
    assert.deepEqual(r.log, [`REQ ${id(3)} 0 false`]);
    assert.equal((await it.next()).done, true);
  });

  it('ends an iterator that is waiting when the dispatcher closes', async () => {
    const { d } = dispatcher();
    const waiting = d.iterator().next();
    d.close();
    assert.equal((await waiting).done, true);
  });
});
