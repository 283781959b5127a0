/**
 * Coalesces output flushes to once per event-loop turn: message frames written while handling
 * one batch of socket input go out in one write per connection (the role the original's
 * output_buffer_timeout ticker plays, with lower latency).
 */
export interface Flushable {
  flushScheduled(): void;
}

let pending: Flushable[] = [];
let scheduled = false;

function run(): void {
  scheduled = false;
  const list = pending;
  pending = [];
  for (const f of list) f.flushScheduled();
}

export function scheduleFlush(f: Flushable): void {
  pending.push(f);
  if (!scheduled) {
    scheduled = true;
    setImmediate(run);
  }
}
