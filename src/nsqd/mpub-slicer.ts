import { performance } from 'node:perf_hooks';
import type { Bodies } from '../protocol/body-batch.js';
import { nextTurn, SLICE_BUDGET_MS } from './event-loop-slice.js';
import type { Topic } from './topic.js';

/** Messages published between two clock reads. */
const STEP = 1024;

/**
 * Runs a resumable computation (a generator that yields every few thousand steps) in slices of
 * about SLICE_BUDGET_MS, yielding to the other connections in between; resolves to its result.
 * Used for the parsing and validation of large /mpub bodies.
 */
export async function runSliced<T>(gen: Generator<void, T, void>): Promise<T> {
  for (;;) {
    const t0 = performance.now();
    let r = gen.next();
    while (r.done !== true && performance.now() - t0 < SLICE_BUDGET_MS) r = gen.next();
    if (r.done === true) return r.value;
    await nextTurn();
  }
}

/**
 * Publishes already validated message bodies (an MPUB is all-or-nothing validated before any
 * message is published, as the original's readMPUB) in order. Small batches go out at once;
 * a large one is cut into slices of about SLICE_BUDGET_MS that yield to the other connections
 * in between; the publishing connection reads no further command until the returned promise
 * settles. Throws (or rejects with) the topic's PutError.
 */
export function publishBodies(topic: Topic, bodies: Bodies, tsHi: number, tsLo: number): void | Promise<void> {
  const start = publishSlice(topic, bodies, 0, tsHi, tsLo);
  if (start === bodies.length) return;
  return (async () => {
    let i = start;
    while (i < bodies.length) {
      await nextTurn();
      i = publishSlice(topic, bodies, i, tsHi, tsLo);
    }
  })();
}

/** Publishes from `from` until the budget is spent; returns where it stopped. */
function publishSlice(topic: Topic, bodies: Bodies, from: number, tsHi: number, tsLo: number): number {
  const t0 = performance.now();
  let i = from;
  while (i < bodies.length) {
    const end = Math.min(bodies.length, i + STEP);
    const ms = new Array(end - i);
    for (let k = i; k < end; k++) ms[k - i] = topic.newMessage(bodies.copy(k), tsHi, tsLo);
    topic.putMessages(ms);
    i = end;
    if (performance.now() - t0 >= SLICE_BUDGET_MS) break;
  }
  return i;
}
