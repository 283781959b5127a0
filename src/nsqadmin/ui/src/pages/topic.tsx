import { api } from '../api/client.js';
import type { TopicStats } from '../api/types.js';
import { QueueActions, useConfirmedActions } from '../components/actions.js';
import { PageAlerts } from '../components/alerts.js';
import { LiveChart } from '../components/live-chart.js';
import { ChannelName, DepthSplit, E2ECells, E2EHeaders, PausedLabel, percentilesOf, QueueCells, QueueHeaders } from '../components/stats.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { commafy } from '../lib/format.js';
import { Crumbs, Link, navigate } from '../navigation.js';

/** One topic: actions, live chart, its queue on every nsqd, and its channels (upstream topic.hbs). */
export function TopicPage(props: { topic: string }) {
  const { topic } = props;
  const { data, error, reload } = usePoll(`topic/${topic}`, () => api.topic(topic), config.chartIntervalMs * 2);
  const { ask, dialog, outcome } = useConfirmedActions(reload);
  const nodes = data?.nodes ?? [];
  return (
    <div>
      <Crumbs>
        <Link to={{ page: 'topics' }}>Streams</Link> / <strong>{topic}</strong> <PausedLabel paused={data?.paused ?? false} />
      </Crumbs>
      <PageAlerts outcome={outcome} error={error} message={data?.message} />
      {config.isAdmin && data && nodes.length > 0 ? (
        <QueueActions target={{ topic }} paused={data.paused} ask={ask} afterDelete={() => navigate({ page: 'topics' })} />
      ) : null}
      <LiveChart topic={topic} title={`Topic ${topic}`} />
      {data && nodes.length === 0 ? (
        <div class="notice">
          No producers exist for this topic. See <Link to={{ page: 'lookup' }}>Lookup</Link> for more information.
        </div>
      ) : null}
      {data && nodes.length > 0 ? (
        <TopicNodes data={data} onTombstone={(node) => ask(`Tombstone topic "${topic}" on ${node}? nsqlookupd stops listing it there and it is deleted from that nsqd.`, () => api.tombstone(node, topic))} />
      ) : null}
      {data && nodes.length > 0 ? <TopicChannels data={data} /> : null}
      {dialog}
    </div>
  );
}

function TopicNodes(props: { data: TopicStats; onTombstone: (node: string) => void }) {
  const { data } = props;
  const cols = percentilesOf(data.e2e_processing_latency);
  const canTombstone = config.isAdmin && config.nsqlookupd.length > 0;
  return (
    <section>
      <h4>Topic Message Queue</h4>
      <table class="table" data-testid="topic-nodes">
        <thead>
          <tr>
            <th>NSQd Host</th>
            <th>Depth</th>
            <th>Memory + Disk</th>
            <th>Messages</th>
            <th>Channels</th>
            <E2EHeaders percentiles={cols} />
          </tr>
        </thead>
        <tbody>
          {(data.nodes ?? []).map((n) => (
            <tr key={n.node}>
              <td>
                {canTombstone ? (
                  <button type="button" class="btn-x" title={`tombstone ${data.topic_name} on ${n.node}`} onClick={() => props.onTombstone(n.node)}>
                    ✘
                  </button>
                ) : null}{' '}
                <Link to={{ page: 'node', node: n.node }} title={n.hostname}>
                  {n.node}
                </Link>{' '}
                <PausedLabel paused={n.paused} />
              </td>
              <td>{commafy(n.depth)}</td>
              <DepthSplit memory={n.memory_depth} backend={n.backend_depth} />
              <td>{commafy(n.message_count)}</td>
              <td>{commafy(n.channels?.length ?? 0)}</td>
              <E2ECells columns={cols} e2e={n.e2e_processing_latency} />
            </tr>
          ))}
          <tr class="total">
            <td>Total:</td>
            <td>{commafy(data.depth)}</td>
            <DepthSplit memory={data.memory_depth} backend={data.backend_depth} />
            <td>{commafy(data.message_count)}</td>
            <td>{commafy(data.channels?.length ?? 0)}</td>
            <E2ECells columns={cols} e2e={data.e2e_processing_latency} />
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function TopicChannels(props: { data: TopicStats }) {
  const channels = props.data.channels ?? [];
  if (channels.length === 0) return <div class="notice">No channels exist for this topic.</div>;
  const cols = percentilesOf(channels.find((c) => percentilesOf(c.e2e_processing_latency).length)?.e2e_processing_latency);
  return (
    <section>
      <h4>Channel Message Queues</h4>
      <table class="table" data-testid="topic-channels">
        <thead>
          <tr>
            <th>Channel</th>
            <QueueHeaders />
            <E2EHeaders percentiles={cols} />
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => (
            <tr key={c.channel_name}>
              <td>
                <ChannelName topic={props.data.topic_name} c={c} />
              </td>
              <QueueCells c={c} />
              <E2ECells columns={cols} e2e={c.e2e_processing_latency} />
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
