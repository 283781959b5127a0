/**
 * The consumer's RDY state machine without sockets (go-nsq `consumer.go` maybeUpdateRDY,
 * updateRDY, redistributeRDY, startStopContinueBackoff, resume, onConnClose): connections are
 * plain records, the clock and random source are fixed, and every RDY write, retry and backoff
 * timeout asked of the sink is recorded in order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_RESUME_DELAY, RdyController, connectionStarved, type RdyConnection, type RdyControllerOptions, type RdySink } from '../../src/client/rdy-controller.js';
import { reconnectDelay } from '../../src/client/nsqd-discovery.js';

interface FakeConn extends RdyConnection {
  name: string;
  lastMessageAt: number;
  closing: boolean;
  maxRdyCount: number;
}

function conn(name: string, maxRdyCount = 2500): FakeConn {
  return { name, rdy: 0, lastRdyAt: 0, lastMessageAt: 0, closing: false, maxRdyCount };
}

/** A controller whose sink records what it was asked, as `name:RDY n`, `name:retry n`, … lines. */
function setup(opts: Partial<RdyControllerOptions> = {}, random = () => 0) {
  const log: string[] = [];
  const clock = { now: 100_000 };
  const sink: RdySink<FakeConn> = {
    writeRdy: (c, n) => log.push(`${c.name}:RDY ${n}`),
    scheduleRetry: (c, n) => log.push(`${c.name}:retry ${n}`),
    cancelRetry: (c) => log.push(`${c.name}:cancel`),
    startBackoffTimeout: (ms, level) => log.push(`timeout ${ms} level ${level}`),
    backoffLevelChanged: (level, exited) => log.push(`level ${level}${exited ? ' exit' : ''}`),
  };
  const o: RdyControllerOptions = {
    maxInFlight: 10,
    backoffStrategy: 'exponential',
    backoffMultiplier: 1000,
    maxBackoffDuration: 120_000,
    lowRdyIdleTimeout: 10_000,
    lowRdyTimeout: 30_000,
    ...opts,
  };
  const rdy = new RdyController<FakeConn>(o, sink, () => clock.now, random);
  const take = () => log.splice(0);
  return { rdy, take, clock };
}

describe('RdyController: sharing maxInFlight', () => {
  it('lowers the existing connections before giving a new one its share', () => {
    const { rdy, take } = setup({ maxInFlight: 10 });
    const [a, b, c] = [conn('a'), conn('b'), conn('c')];
    rdy.add(a);
    assert.deepEqual(take(), ['a:RDY 10']);
    rdy.add(b);
    assert.deepEqual(take(), ['a:RDY 5', 'b:RDY 5']);
    rdy.add(c);
    assert.deepEqual(take(), ['a:RDY 3', 'b:RDY 3', 'c:RDY 3']);
    assert.equal(rdy.totalRdy, 9);
  });

  it('never exceeds the budget nor max_rdy_count, and retries a refused RDY later', () => {
    const { rdy, take } = setup({ maxInFlight: 2 });
    const [a, b, c] = [conn('a', 1), conn('b'), conn('c')];
    rdy.add(a);
    assert.deepEqual(take(), ['a:RDY 1'], 'capped at max_rdy_count');
    rdy.add(b);
    assert.deepEqual(take(), ['b:RDY 1']);
    rdy.add(c);
    assert.deepEqual(take(), ['c:retry 1'], 'no budget left: retry in 5 s');
    assert.equal(rdy.totalRdy, 2);
    rdy.retry(c, 1);
    assert.deepEqual(take(), ['c:retry 1'], 'still no budget');
  });

  it('re-applies shares when the budget changes, and gives a closed connection’s share to the others', () => {
    const { rdy, take } = setup({ maxInFlight: 4 });
    const [a, b] = [conn('a'), conn('b')];
    rdy.add(a);
    rdy.add(b);
    take();
    rdy.setMaxInFlight(8);
    assert.deepEqual(take(), ['a:RDY 4', 'b:RDY 4']);
    rdy.remove(b);
    assert.equal(rdy.totalRdy, 4);
    rdy.rebalance();
    assert.deepEqual(take(), ['a:RDY 8']);
    rdy.pauseAll();
    assert.deepEqual(take(), ['a:RDY 0']);
    assert.equal(rdy.totalRdy, 0);
  });

  it('sends nothing to a closing connection', () => {
    const { rdy, take } = setup();
    const a = conn('a');
    a.closing = true;
    rdy.add(a);
    assert.deepEqual(take(), []);
  });
});

describe('RdyController: redistribution', () => {
  it('rotates RDY 1 when there are more connections than budget: idle ones give theirs up', () => {
    // random 0.99 always picks the last candidate.
    const { rdy, take, clock } = setup({ maxInFlight: 1 }, () => 0.99);
    const [a, b] = [conn('a'), conn('b')];
    rdy.add(a);
    rdy.add(b);
    assert.deepEqual(take(), ['a:RDY 1', 'b:retry 1']);
    a.lastMessageAt = clock.now;
    clock.now += 5_000;
    rdy.redistribute();
    assert.deepEqual(take(), [], 'a is busy and its RDY is young: nothing moves');
    clock.now += 10_000;
    rdy.redistribute();
    assert.deepEqual(take(), ['a:RDY 0', 'b:cancel', 'b:RDY 1'], 'a idle for 15 s: its RDY goes to b');
    assert.equal(rdy.totalRdy, 1);
  });

  it('does nothing in the normal case (budget covers every connection)', () => {
    const { rdy, take, clock } = setup({ maxInFlight: 10 });
    rdy.add(conn('a'));
    take();
    clock.now += 60_000;
    rdy.redistribute();
    assert.deepEqual(take(), []);
  });

  it('counts a pending RDY retry as held RDY when its connection closes (go-nsq hasRDYRetryTimer)', () => {
    const { rdy, take, clock } = setup({ maxInFlight: 2 }, () => 0);
    const [a, b, c] = [conn('a'), conn('b'), conn('c')];
    rdy.add(a);
    rdy.add(b);
    rdy.add(c);
    assert.deepEqual(take(), ['a:RDY 2', 'a:RDY 1', 'b:RDY 1', 'c:retry 1']);
    rdy.remove(c);
    assert.deepEqual(take(), ['c:cancel']);
    // Two connections left for a budget of 2: only the flag set by the close triggers a pass.
    clock.now += 60_000;
    rdy.redistribute();
    assert.deepEqual(take(), ['a:RDY 0', 'b:RDY 0', 'a:RDY 1', 'b:RDY 1']);
  });
});

describe('RdyController: backoff', () => {
  it('pauses every connection, tests the waters with one RDY 1, and restores shares on recovery', () => {
    const { rdy, take } = setup({ maxInFlight: 4 }, () => 0.99);
    const [a, b] = [conn('a'), conn('b')];
    rdy.add(a);
    rdy.add(b);
    take();
    rdy.signal('backoff');
    assert.deepEqual(take(), ['level 1', 'a:RDY 0', 'b:RDY 0', 'timeout 2000 level 1']);
    assert.equal(rdy.inBackoffTimeout, true);
    rdy.signal('backoff');
    rdy.signal('resume');
    assert.deepEqual(take(), [], 'outcomes during a backoff timeout are ignored');
    rdy.redistribute();
    assert.deepEqual(take(), [], 'no redistribution during a backoff timeout');
    rdy.resume();
    assert.deepEqual(take(), ['b:RDY 1']);
    rdy.add(conn('c'));
    assert.deepEqual(take(), [], 'a new connection waits while backing off');
    rdy.signal('continue');
    assert.deepEqual(take(), ['b:RDY 0', 'timeout 2000 level 1'], 'a requeue without backoff keeps the level');
    rdy.resume();
    assert.deepEqual(take(), ['c:RDY 1']);
    rdy.signal('resume');
    assert.deepEqual(take(), ['level 0 exit', 'a:RDY 1', 'b:RDY 1'], 'c already holds its share of 1');
    assert.equal(rdy.backoffLevel, 0);
  });

  it('caps the level at maxBackoffDuration and never engages when it is 0', () => {
    const capped = setup({ backoffMultiplier: 1000, maxBackoffDuration: 5000 });
    capped.rdy.add(conn('a'));
    for (let i = 0; i < 5; i++) {
      capped.rdy.signal('backoff');
      capped.rdy.resume();
    }
    assert.equal(capped.rdy.backoffLevel, 2, '2^3 s would exceed 5 s');
    const off = setup({ maxBackoffDuration: 0 });
    off.rdy.add(conn('a'));
    off.take();
    off.rdy.signal('backoff');
    assert.deepEqual(off.take(), []);
    assert.equal(off.rdy.backoffLevel, 0);
  });

  it('waits another second when no connection is there to resume', () => {
    const { rdy, take } = setup();
    rdy.signal('backoff');
    rdy.resume();
    assert.deepEqual(take(), ['level 1', 'timeout 2000 level 1', `timeout ${EMPTY_RESUME_DELAY} level 1`]);
  });

  it('keeps a redistribution due while no connection exists, so a reconnect during backoff gets RDY 1', () => {
    const { rdy, take } = setup({ maxInFlight: 4 });
    const a = conn('a');
    rdy.add(a);
    rdy.signal('backoff');
    rdy.resume();
    assert.deepEqual(take(), ['a:RDY 4', 'level 1', 'a:RDY 0', 'timeout 2000 level 1', 'a:RDY 1']);
    rdy.remove(a);
    rdy.redistribute();
    const again = conn('a');
    rdy.add(again);
    assert.deepEqual(take(), [], 'in backoff: no share for the new connection');
    rdy.redistribute();
    assert.deepEqual(take(), ['a:RDY 1'], 'the pass flagged by the close runs once there is a connection');
  });
});

describe('starvation and reconnect delays', () => {
  it('go-nsq IsStarved: in-flight at or above the truncated 85% of RDY', () => {
    assert.equal(connectionStarved(1, 1, false), true);
    assert.equal(connectionStarved(1, 2, false), true, 'threshold trunc(1.7) = 1');
    assert.equal(connectionStarved(8, 10, false), true, 'threshold trunc(8.5) = 8');
    assert.equal(connectionStarved(7, 10, false), false);
    assert.equal(connectionStarved(0, 0, false), false);
    assert.equal(connectionStarved(5, 5, true), false, 'a closing connection is not starved');
  });

  it('doubles the reconnect delay per failure up to the poll interval', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((f) => reconnectDelay(1000, f, 6000)),
      [1000, 2000, 4000, 6000, 6000],
    );
  });
});
