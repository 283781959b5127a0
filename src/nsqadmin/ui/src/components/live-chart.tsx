import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api } from '../api/client.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { rateToHuman, commafy } from '../lib/format.js';
import { latestPoint, toChartColumns } from '../lib/series.js';
import { ErrorAlert } from './alerts.js';

const HEIGHT = 220;

function chartOptions(width: number): uPlot.Options {
  const zeroBased: uPlot.Range.Function = (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1];
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: true }, rate: { range: zeroBased }, depth: { range: zeroBased } },
    series: [
      {},
      { label: 'rate (msg/s)', scale: 'rate', stroke: '#2f6fd6', width: 2, fill: 'rgba(47,111,214,0.08)', value: (_u, v) => (v == null ? '–' : rateToHuman(v)) },
      { label: 'depth', scale: 'depth', stroke: '#d9534f', width: 2, value: (_u, v) => (v == null ? '–' : commafy(v)) },
    ],
    axes: [
      {},
      { scale: 'rate', label: 'msg/s', size: 60 },
      { scale: 'depth', label: 'depth', side: 1, size: 60, grid: { show: false } },
    ],
  };
}

/**
 * Live message rate and depth of a topic, a channel or (no topic) the whole cluster, from
 * nsqadmin's own sampler (`/api/x/timeseries`), redrawn every chart interval. Replaces the
 * original's graphite sparklines, which need a statsd + graphite installation.
 */
export function LiveChart(props: { topic?: string; channel?: string; title: string }) {
  return config.chartsEnabled ? <PolledChart {...props} /> : null;
}

function PolledChart(props: { topic?: string; channel?: string; title: string }) {
  const { topic, channel } = props;
  const key = `${topic ?? '*'}/${channel ?? '*'}`;
  const { data, error } = usePoll(key, () => api.timeseries({ topic, channel }), config.chartIntervalMs);
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = holder.current!;
    const u = new uPlot(chartOptions(Math.max(300, el.clientWidth)), [[], [], []], el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, []);

  const points = data?.points ?? [];
  useEffect(() => {
    const cols = toChartColumns(points);
    plot.current?.setData([cols.t, cols.rate, cols.depth]);
  }, [data]);

  const last = latestPoint(points);
  return (
    <section class="chart" data-testid="live-chart" data-points={points.length} data-rate={last?.rate ?? 0} data-depth={last?.depth ?? 0}>
      <h4>
        {props.title}
        <span class="chart-readout" data-testid="chart-readout">
          {last ? `${rateToHuman(last.rate)} msg/s · depth ${commafy(last.depth)}` : 'waiting for the first sample…'}
        </span>
      </h4>
      <ErrorAlert error={error} />
      <div ref={holder} class="chart-plot" />
    </section>
  );
}
