import { api } from '../api/client.js';
import { ErrorAlert, WarningAlert } from '../components/alerts.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { Link } from '../navigation.js';

/** NSQd Nodes: every nsqd the cluster knows, its addresses, version and topics (upstream nodes.hbs). */
export function NodesPage() {
  const { data, error } = usePoll('nodes', api.nodes, config.chartIntervalMs * 5);
  const nodes = data?.nodes ?? [];
  const lookupdCount = config.nsqlookupd.length;
  return (
    <div>
      <ErrorAlert error={error} />
      <WarningAlert message={data?.message} />
      <h3>NSQd Nodes ({nodes.length})</h3>
      <table class="table" data-testid="nodes-table">
        <thead>
          <tr>
            <th>Hostname</th>
            <th>Broadcast Address</th>
            <th>TCP Port</th>
            <th>HTTP Port</th>
            <th>Version</th>
            <th>Region</th>
            <th>Zone</th>
            {lookupdCount > 0 ? <th>Lookupd Conns.</th> : null}
            <th>Topics</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => {
            const node = `${n.broadcast_address.includes(':') ? `[${n.broadcast_address}]` : n.broadcast_address}:${n.http_port}`;
            const conns = n.remote_addresses?.length ?? 0;
            const topics = n.topics ?? [];
            return (
              <tr key={node} class={n.out_of_date ? 'out-of-date' : undefined} title={n.out_of_date ? 'older version than other nodes' : undefined}>
                <td>{n.hostname}</td>
                <td>
                  <Link to={{ page: 'node', node }}>{n.broadcast_address}</Link>
                </td>
                <td>{n.tcp_port}</td>
                <td>{n.http_port}</td>
                <td>{n.version}</td>
                <td>{n.topology_region ?? ''}</td>
                <td>{n.topology_zone ?? ''}</td>
                {lookupdCount > 0 ? (
                  <td class={conns !== lookupdCount ? 'warn' : undefined} title={(n.remote_addresses ?? []).join('\n')}>
                    {conns}
                  </td>
                ) : null}
                <td>
                  <span class="badge">{topics.length}</span>{' '}
                  {topics.map((t) => (
                    <Link key={t.topic} to={{ page: 'topic', topic: t.topic }} class={`label ${t.tombstoned ? 'label-warning' : 'label-primary'}`} title={t.tombstoned ? 'tombstoned' : undefined}>
                      {t.topic}
                    </Link>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
