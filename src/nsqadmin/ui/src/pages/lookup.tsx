import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { useConfirmedActions } from '../components/actions.js';
import { PageAlerts } from '../components/alerts.js';
import { config } from '../config.js';
import { usePoll } from '../hooks/use-poll.js';
import { Link } from '../navigation.js';

/**
 * Lookup: the nsqlookupd hosts, topics and channels that lookupd knows but no nsqd produces
 * ("inactive"), with delete buttons, and the Create Topic/Channel form (upstream lookup.hbs).
 */
export function LookupPage() {
  const lookupMode = config.nsqlookupd.length > 0;
  const { data, error, reload } = usePoll('lookup', api.inactiveTopics, config.chartIntervalMs * 5);
  const { ask, dialog, outcome } = useConfirmedActions(reload);
  const inactive = data?.topics ?? {};
  const names = Object.keys(inactive).sort();
  if (!lookupMode) {
    return <div class="notice">nsqadmin runs with --nsqd-http-address: there is no nsqlookupd to show or create topics in.</div>;
  }
  return (
    <div>
      <PageAlerts outcome={outcome} error={error} message={data?.message} />
      <h3>nsqlookupd Hosts</h3>
      <ul data-testid="lookupd-hosts">
        {config.nsqlookupd.map((h) => (
          <li key={h}>{h}</li>
        ))}
      </ul>
      <h3>Inactive Topics and Channels</h3>
      {names.length === 0 ? (
        <div class="notice">No inactive topics: every topic in nsqlookupd has a producer.</div>
      ) : (
        <ul class="tree" data-testid="inactive">
          {names.map((t) => (
            <li key={t}>
              {config.isAdmin ? (
                <button type="button" class="btn-x" title={`delete topic ${t}`} onClick={() => ask(`Delete topic "${t}"?`, () => api.remove({ topic: t }))}>
                  ✘
                </button>
              ) : null}{' '}
              <Link to={{ page: 'topic', topic: t }}>{t}</Link>
              <ul>
                {(inactive[t] ?? []).map((c) => (
                  <li key={c}>
                    {config.isAdmin ? (
                      <button type="button" class="btn-x" title={`delete channel ${c}`} onClick={() => ask(`Delete channel "${c}" of topic "${t}"?`, () => api.remove({ topic: t, channel: c }))}>
                        ✘
                      </button>
                    ) : null}{' '}
                    {c}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {config.isAdmin ? <CreateForm onCreated={reload} /> : null}
      {dialog}
    </div>
  );
}

function CreateForm(props: { onCreated: () => void }) {
  const [topic, setTopic] = useState('');
  const [channel, setChannel] = useState('');
  const { ask, dialog, outcome } = useConfirmedActions(props.onCreated);
  const submit = (e: Event) => {
    e.preventDefault();
    const t = topic.trim();
    const c = channel.trim();
    if (!t) return;
    ask(c ? `Create topic "${t}" with channel "${c}" in nsqlookupd?` : `Create topic "${t}" in nsqlookupd?`, () => api.create(t, c));
  };
  return (
    <section>
      <h3>Create Topic/Channel</h3>
      <PageAlerts outcome={outcome} />
      <p class="hint">This registers the topic (and channel) in nsqlookupd; nsqd creates the topic on its first publish.</p>
      <form class="create-form" onSubmit={submit} data-testid="create-form">
        <input placeholder="Topic" value={topic} onInput={(e) => setTopic((e.target as HTMLInputElement).value)} required />
        <input placeholder="Channel (optional)" value={channel} onInput={(e) => setChannel((e.target as HTMLInputElement).value)} />
        <button class="btn btn-primary" type="submit">
          Create
        </button>
      </form>
      {dialog}
    </section>
  );
}
