import type { ChannelStats, E2ELatency, Percentile } from '../api/types.js';
import { commafy, nanoToHuman, quantileLabel } from '../lib/format.js';
import { Link } from '../navigation.js';

/** The percentiles an aggregate reports, lowest first; the per-node rows use the same columns. */
export function percentilesOf(e2e: E2ELatency | null | undefined): Percentile[] {
  return [...(e2e?.percentiles ?? [])].sort((a, b) => a.quantile - b.quantile);
}

/** Header cells for e2e percentiles: "p50", "p99", … */
export function E2EHeaders(props: { percentiles: Percentile[] }) {
  return (
    <>
      {props.percentiles.map((p) => (
        <th key={p.quantile}>{quantileLabel(p.quantile)}</th>
      ))}
    </>
  );
}

/**
 * One row's e2e cells, matched to the header by quantile: a node's own value, or an aggregate's
 * weighted average with min/max in the tooltip (as upstream's topic.hbs).
 */
export function E2ECells(props: { columns: Percentile[]; e2e: E2ELatency | null | undefined }) {
  const own = props.e2e?.percentiles ?? [];
  return (
    <>
      {props.columns.map((col) => {
        const p = own.find((x) => x.quantile === col.quantile);
        const shown = p ? (p.value ?? p.average) : undefined;
        const title = p ? `${quantileLabel(col.quantile)}: min = ${nanoToHuman(p.min)}, max = ${nanoToHuman(p.max)}` : '';
        return (
          <td key={col.quantile} title={title}>
            {nanoToHuman(shown)}
          </td>
        );
      })}
    </>
  );
}

/** "memory + disk" depth cell. */
export function DepthSplit(props: { memory: number; backend: number }) {
  return (
    <td>
      {commafy(props.memory)} + {commafy(props.backend)}
    </td>
  );
}

/** The small "paused" label next to a name. */
export function PausedLabel(props: { paused: boolean }) {
  return props.paused ? <span class="label label-paused" data-testid="paused-label">paused</span> : null;
}

/** Header cells of a channel queue's counters (upstream channel.hbs and topic.hbs). */
export function QueueHeaders() {
  return (
    <>
      <th>Depth</th>
      <th>Memory + Disk</th>
      <th>In-Flight</th>
      <th>Deferred</th>
      <th>Requeued</th>
      <th>Timed Out</th>
      <th>Messages</th>
      <th>Connections</th>
    </>
  );
}

/** A channel queue's counters, matching QueueHeaders. */
export function QueueCells(props: { c: ChannelStats }) {
  const { c } = props;
  return (
    <>
      <td>{commafy(c.depth)}</td>
      <DepthSplit memory={c.memory_depth ?? c.depth - c.backend_depth} backend={c.backend_depth} />
      <td>{commafy(c.in_flight_count)}</td>
      <td>{commafy(c.deferred_count)}</td>
      <td>{commafy(c.requeue_count)}</td>
      <td>{commafy(c.timeout_count)}</td>
      <td>{commafy(c.message_count)}</td>
      <td>{commafy(c.client_count ?? c.clients?.length ?? 0)}</td>
    </>
  );
}

/** A channel's name linking to its page, with the paused label. */
export function ChannelName(props: { topic: string; c: ChannelStats }) {
  return (
    <>
      <Link to={{ page: 'channel', topic: props.topic, channel: props.c.channel_name }}>{props.c.channel_name}</Link> <PausedLabel paused={props.c.paused} />
    </>
  );
}
