/**
 * Waiting in tests: `sleep` for a fixed pause and `eventually` for state a daemon reaches
 * asynchronously. Tests assert on behaviour, not on timing, so every wait has a generous deadline.
 */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it passes and resolves to what it returned. A check passes when it neither
 * throws nor returns `false`, so assertion blocks, predicates and "the value once it is ready,
 * else false" all work. After `timeoutMs` the last thrown error is rethrown, or a timeout error
 * naming `what` when the check only returned false.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10000, what = 'condition'): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown = null;
    try {
      const v = await check();
      if (v !== false) return v as Exclude<T, false>;
    } catch (err) {
      failure = err;
    }
    if (Date.now() > deadline) throw failure ?? new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
