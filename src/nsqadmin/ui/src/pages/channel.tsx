import type { ComponentChild } from 'preact';
import { api } from '../api/client.js';
import type { ChannelStats, ClientStats } from '../api/types.js';
import { QueueActions, useConfirmedActions } from '../components/actions.js';
import { PageAlerts } from '../components/alerts.js';
import { LiveChart } from '../components/live-chart.js';
import { E2ECells, E2EHeaders, PausedLabel, percentilesOf, QueueCells, QueueHeaders } from '../components/stats.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { clientHostPort, clientLocality, commafy, durationToHuman } from '../lib/format.js';
import { Crumbs, Link, navigate } from '../navigation.js';

/** One channel: actions, live chart, its queue on every nsqd and its clients (upstream channel.hbs). */
export function ChannelPage(props: { topic: string; channel: string }) {
  const { topic, channel } = props;
  const { data, error, reload } = usePoll(`channel/${topic}/${channel}`, () => api.channel(topic, channel), config.chartIntervalMs * 2);
  const { ask, dialog, outcome } = useConfirmedActions(reload);
  const nodes = data?.nodes ?? [];
  const target = { topic, channel };
  return (
    <div>
      <Crumbs>
        <Link to={{ page: 'topics' }}>Streams</Link> / <Link to={{ page: 'topic', topic }}>{topic}</Link> / <strong>{channel}</strong>{' '}
        <PausedLabel paused={data?.paused ?? false} />
      </Crumbs>
      <PageAlerts outcome={outcome} error={error} message={data?.message} />
      {config.isAdmin && data && nodes.length > 0 ? (
        <QueueActions target={target} paused={data.paused} ask={ask} afterDelete={() => navigate({ page: 'topic', topic })} />
      ) : null}
      <LiveChart topic={topic} channel={channel} title={`Channel ${topic} / ${channel}`} />
      {data && nodes.length === 0 ? (
        <div class="notice">
          No producers exist for this topic/channel. See <Link to={{ page: 'lookup' }}>Lookup</Link> for more information.
        </div>
      ) : null}
      {data && nodes.length > 0 ? <ChannelNodes data={data} /> : null}
      {data ? <Clients clients={data.clients ?? []} /> : null}
      {dialog}
    </div>
  );
}

function deliveryShare(c: ChannelStats): string {
  const total = c.delivery_msg_count ?? 0;
  if (!total) return '';
  const pct = (n: number | undefined) => `${Math.round(((n ?? 0) / total) * 100)}%`;
  return `zone ${pct(c.zone_local_msg_count)} · region ${pct(c.region_local_msg_count)} · global ${pct(c.global_msg_count)}`;
}

function ChannelNodes(props: { data: ChannelStats }) {
  const { data } = props;
  const cols = percentilesOf(data.e2e_processing_latency);
  const showDelivery = (data.delivery_msg_count ?? 0) > 0;
  const row = (c: ChannelStats, head: ComponentChild, cls?: string) => (
    <tr key={c.node} class={cls}>
      <td>{head}</td>
      <QueueCells c={c} />
      {showDelivery ? <td>{deliveryShare(c)}</td> : null}
      <E2ECells columns={cols} e2e={c.e2e_processing_latency} />
    </tr>
  );
  return (
    <section>
      <h4>Channel</h4>
      <table class="table" data-testid="channel-nodes">
        <thead>
          <tr>
            <th>NSQd Host</th>
            <QueueHeaders />
            {showDelivery ? <th>Delivery</th> : null}
            <E2EHeaders percentiles={cols} />
          </tr>
        </thead>
        <tbody>
          {(data.nodes ?? []).map((n) =>
            row(
              n,
              <>
                <Link to={{ page: 'node', node: n.node }} title={n.hostname}>
                  {n.node}
                </Link>{' '}
                <PausedLabel paused={n.paused} />
              </>,
            ),
          )}
          {row(data, 'Total:', 'total')}
        </tbody>
      </table>
    </section>
  );
}

function ClientAttributes(props: { c: ClientStats }) {
  const { c } = props;
  const locality = clientLocality(c);
  const tlsTitle = c.tls_version ? `${c.tls_version} ${c.tls_cipher_suite ?? ''} ${c.tls_negotiated_protocol ?? ''} mutual:${String(c.tls_negotiated_protocol_is_mutual ?? false)}` : undefined;
  return (
    <>
      {c.sample_rate ? <span class="label label-info">Sampled {c.sample_rate}%</span> : null}
      {c.tls ? (
        <span class="label label-warning" title={tlsTitle}>
          TLS
        </span>
      ) : null}
      {c.deflate ? <span class="label label-default">Deflate</span> : null}
      {c.snappy ? <span class="label label-primary">Snappy</span> : null}
      {c.authed ? (
        <span class="label label-success" title={c.auth_identity ? `Authed Identity: ${c.auth_identity}` : 'Authed'}>
          {c.auth_identity_url ? <a href={c.auth_identity_url}>Authed</a> : 'Authed'}
        </span>
      ) : null}
      {c.topology_region ? <span class="label label-default">region {c.topology_region}</span> : null}
      {c.topology_zone ? <span class="label label-default">zone {c.topology_zone}</span> : null}
      {locality === 'zone' ? <span class="label label-success">zoneLocal</span> : null}
      {locality === 'region' ? <span class="label label-info">regionLocal</span> : null}
    </>
  );
}

function Clients(props: { clients: ClientStats[] }) {
  return (
    <section>
      <h4>Client Connections</h4>
      {props.clients.length === 0 ? (
        <div class="notice">No clients connected to this channel.</div>
      ) : (
        <table class="table" data-testid="clients">
          <thead>
            <tr>
              <th>Client Host</th>
              <th>User-Agent</th>
              <th>Attributes</th>
              <th>NSQd Host</th>
              <th>In-Flight</th>
              <th>Ready Count</th>
              <th>Finished</th>
              <th>Requeued</th>
              <th>Messages</th>
              <th>Connected</th>
            </tr>
          </thead>
          <tbody>
            {props.clients.map((c) => (
              <tr key={`${c.node ?? ''}/${c.remote_address}`} class={clientLocality(c) ? `local-${clientLocality(c)}` : undefined}>
                <td title={c.remote_address}>
                  {clientHostPort(c.hostname, c.remote_address)}
                  {c.client_id && c.client_id !== c.hostname ? ` (${c.client_id})` : ''}
                </td>
                <td>
                  <small>{c.user_agent}</small>
                </td>
                <td>
                  <ClientAttributes c={c} />
                </td>
                <td>{c.node ? <Link to={{ page: 'node', node: c.node }}>{c.node}</Link> : ''}</td>
                <td>{commafy(c.in_flight_count)}</td>
                <td>{commafy(c.ready_count)}</td>
                <td>{commafy(c.finish_count)}</td>
                <td>{commafy(c.requeue_count)}</td>
                <td>{commafy(c.message_count)}</td>
                <td>{durationToHuman(c.connected ?? (c.connect_ts ? Date.now() * 1e6 - c.connect_ts * 1e9 : undefined))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
