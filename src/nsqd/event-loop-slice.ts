/**
 * Keeping one input from holding the event loop: the time budget of one slice of work, the
 * yield between slices, and a cheap way to tell whether two moments fall in the same turn.
 */

/**
 * Event-loop time one slice of a large input (parsing a connection's bytes, publishing or
 * validating a large MPUB) may take before it yields to other connections. A 5 MiB MPUB of
 * one-byte messages is a million messages: handled in one go it would hold every other client
 * for a second.
 */
export const SLICE_BUDGET_MS = 8;

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let turn = 0;
let turnEnding = false;
const endTurn = (): void => {
  turnEnding = false;
  turn++;
};

/**
 * A number that changes between event-loop turns (once the check phase after the current I/O
 * ran). One immediate per turn in which it is read, shared by every caller.
 */
export function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    setImmediate(endTurn);
  }
  return turn;
}
