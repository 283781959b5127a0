import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { ErrorAlert, WarningAlert } from '../components/alerts.js';
import { LiveChart } from '../components/live-chart.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { commafy } from '../lib/format.js';
import { counterTotal, nextCounterDelay } from '../lib/series.js';

const FIRST_DELAY_MS = 100;

/** Counts from the shown value to the target over about a second, like upstream's flip counter. */
function useAnimatedNumber(target: number | undefined): number | undefined {
  const [shown, setShown] = useState(target);
  const from = useRef(target);
  useEffect(() => {
    if (target === undefined) return;
    const start = from.current ?? target;
    const t0 = performance.now();
    let frame = 0;
    const step = (now: number) => {
      const k = Math.min(1, (now - t0) / 1000);
      const v = Math.round(start + (target - start) * k);
      from.current = v;
      setShown(v);
      if (k < 1) frame = requestAnimationFrame(step);
    };
    frame = requestAnimationFrame(step);
    return () => cancelAnimationFrame(frame);
  }, [target]);
  return shown;
}

/**
 * Messages Processed: the sum of every channel's message_count, polled first at 100 ms and then
 * slower (upstream counter.js), but never slower than the chart interval so it stays live.
 */
export function CounterPage() {
  const { data, error } = usePoll('counter', api.counter, FIRST_DELAY_MS, (prev) => nextCounterDelay(prev, Math.max(config.chartIntervalMs, FIRST_DELAY_MS)));
  const total = data ? counterTotal(data.stats) : undefined;
  const shown = useAnimatedNumber(total);
  return (
    <div class="counter-page">
      <ErrorAlert error={error} />
      <WarningAlert message={data?.message} />
      <div class="counter" data-testid="counter" data-total={total ?? ''}>
        {shown === undefined ? '…' : commafy(shown)}
      </div>
      <div class="counter-caption">Messages Processed</div>
      <LiveChart title="Cluster: all topics" />
    </div>
  );
}
