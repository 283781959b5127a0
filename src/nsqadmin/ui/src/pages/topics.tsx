import { api } from '../api/client.js';
import { ErrorAlert, WarningAlert } from '../components/alerts.js';
import { LiveChart } from '../components/live-chart.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { Link } from '../navigation.js';

/** Streams: every topic in the cluster, and the cluster-wide rate and depth. */
export function TopicsPage() {
  const { data, error } = usePoll('topics', api.topics, config.chartIntervalMs * 5);
  const topics = data?.topics ?? [];
  return (
    <div>
      <ErrorAlert error={error} />
      <WarningAlert message={data?.message} />
      <LiveChart title="Cluster: all topics" />
      <h3>Topics ({topics.length})</h3>
      {data && topics.length === 0 ? (
        <div class="notice">
          No topics exist yet. {config.isAdmin && config.nsqlookupd.length > 0 ? <>Create one on the <Link to={{ page: 'lookup' }}>Lookup</Link> page.</> : null}
        </div>
      ) : (
        <table class="table" data-testid="topics-table">
          <thead>
            <tr>
              <th>Topic</th>
            </tr>
          </thead>
          <tbody>
            {topics.map((t) => (
              <tr key={t}>
                <td>
                  <Link to={{ page: 'topic', topic: t }}>{t}</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
