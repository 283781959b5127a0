import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';

/** What a polled API call has produced so far: the last good data and the last error. */
export interface PollState<T> {
  data?: T;
  error?: string;
  reload: () => void;
}

/** An error's text for an alert: the API's `message` when there is one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Loads data now and again every `intervalMs` (if given) until the component unmounts or `key`
 * changes. A failed poll keeps the last good data and reports the error; the next success clears it.
 * `nextDelay` lets a page grow its interval (the counter page does).
 */
export function usePoll<T>(
  key: string,
  load: () => Promise<T>,
  intervalMs?: number,
  nextDelay?: (previousMs: number) => number,
): PollState<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: string }>({ key });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = intervalMs ?? 0;
    const tick = async () => {
      try {
        const data = await loadRef.current();
        if (!stopped) setState({ key, data });
      } catch (err) {
        if (!stopped) setState((prev) => ({ key, data: prev.key === key ? prev.data : undefined, error: errorText(err) }));
      }
      if (stopped || intervalMs === undefined) return;
      delay = nextDelay ? nextDelay(delay) : intervalMs;
      timer = setTimeout(tick, delay);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    // nextDelay is a pure schedule; only the key, interval and explicit reloads restart polling.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, intervalMs, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  if (state.key !== key) return { reload };
  return { data: state.data, error: state.error, reload };
}
