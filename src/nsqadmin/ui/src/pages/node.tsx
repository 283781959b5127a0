import { api } from '../api/client.js';
import type { TopicStats } from '../api/types.js';
import { useConfirmedActions } from '../components/actions.js';
import { PageAlerts } from '../components/alerts.js';
import { ChannelName, PausedLabel, QueueCells, QueueHeaders } from '../components/stats.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { clientHostPort, commafy } from '../lib/format.js';
import { Crumbs, Link } from '../navigation.js';

/** One nsqd: totals, then every topic with its channels and their clients (upstream node.hbs). */
export function NodePage(props: { node: string }) {
  const { node } = props;
  const { data, error, reload } = usePoll(`node/${node}`, () => api.node(node), config.chartIntervalMs * 2);
  const { ask, dialog, outcome } = useConfirmedActions(reload);
  const topics = data?.topics ?? [];
  const canTombstone = config.isAdmin && config.nsqlookupd.length > 0;
  return (
    <div>
      <Crumbs>
        <Link to={{ page: 'nodes' }}>Nodes</Link> / <strong>{node}</strong>
      </Crumbs>
      <PageAlerts outcome={outcome} error={error} message={data?.message} />
      {data ? (
        <table class="table narrow" data-testid="node-totals">
          <tbody>
            <tr>
              <th>Topics</th>
              <td>{commafy(topics.length)}</td>
              <th>Messages</th>
              <td>{commafy(data.total_messages)}</td>
              <th>Clients</th>
              <td>{commafy(data.total_clients)}</td>
            </tr>
          </tbody>
        </table>
      ) : null}
      {data && topics.length === 0 ? <div class="notice">No topics exist on this node.</div> : null}
      {topics.map((t) => (
        <NodeTopicSection
          key={t.topic_name}
          t={t}
          onTombstone={canTombstone ? () => ask(`Tombstone topic "${t.topic_name}" on ${node}?`, () => api.tombstone(node, t.topic_name)) : undefined}
        />
      ))}
      {dialog}
    </div>
  );
}

function NodeTopicSection(props: { t: TopicStats; onTombstone?: () => void }) {
  const { t } = props;
  const channels = t.channels ?? [];
  return (
    <section class="node-topic">
      <h4>
        {props.onTombstone ? (
          <button type="button" class="btn-x" title="tombstone this topic on this node" onClick={props.onTombstone}>
            ✘
          </button>
        ) : null}{' '}
        <Link to={{ page: 'topic', topic: t.topic_name }}>{t.topic_name}</Link> <PausedLabel paused={t.paused} />
        <small>
          {' '}
          depth {commafy(t.depth)} · messages {commafy(t.message_count)}
        </small>
      </h4>
      {channels.length === 0 ? (
        <div class="notice">No channels.</div>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Channel</th>
              <QueueHeaders />
              <th>Clients</th>
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => (
              <tr key={c.channel_name}>
                <td>
                  <ChannelName topic={t.topic_name} c={c} />
                </td>
                <QueueCells c={c} />
                <td>
                  {(c.clients ?? []).map((cl) => (
                    <div key={cl.remote_address} title={cl.user_agent}>
                      {clientHostPort(cl.hostname, cl.remote_address)} <small>in-flight {commafy(cl.in_flight_count)} · rdy {commafy(cl.ready_count)}</small>
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
