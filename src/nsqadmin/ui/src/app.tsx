import { config } from './config.js';
import { useEffect } from 'preact/hooks';
import { parseRoute, routePath, type Route } from './lib/route.js';
import { Link, useLocationPath } from './navigation.js';
import { ChannelPage } from './pages/channel.js';
import { CounterPage } from './pages/counter.js';
import { LookupPage } from './pages/lookup.js';
import { NodePage } from './pages/node.js';
import { NodesPage } from './pages/nodes.js';
import { TopicPage } from './pages/topic.js';
import { TopicsPage } from './pages/topics.js';

function Page(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case 'topics':
      return <TopicsPage />;
    case 'topic':
      return <TopicPage key={r.topic} topic={r.topic} />;
    case 'channel':
      return <ChannelPage key={`${r.topic}/${r.channel}`} topic={r.topic} channel={r.channel} />;
    case 'nodes':
      return <NodesPage />;
    case 'node':
      return <NodePage key={r.node} node={r.node} />;
    case 'counter':
      return <CounterPage />;
    case 'lookup':
      return <LookupPage />;
    case 'not-found':
      return <div class="alert alert-error">No page at {r.path}.</div>;
  }
}

const sections: Array<{ label: string; route: Route; active: Route['page'][] }> = [
  { label: 'Streams', route: { page: 'topics' }, active: ['topics', 'topic', 'channel'] },
  { label: 'Nodes', route: { page: 'nodes' }, active: ['nodes', 'node'] },
  { label: 'Counter', route: { page: 'counter' }, active: ['counter'] },
  { label: 'Lookup', route: { page: 'lookup' }, active: ['lookup'] },
];

function titleOf(r: Route): string {
  switch (r.page) {
    case 'topic':
      return `${r.topic} - nsqadmin`;
    case 'channel':
      return `${r.topic}/${r.channel} - nsqadmin`;
    case 'node':
      return `${r.node} - nsqadmin`;
    default:
      return `${r.page} - nsqadmin`;
  }
}

/** The shell: top navigation and the page for the current URL. */
export function App() {
  const route = parseRoute(useLocationPath(), config.basePath);
  useEffect(() => {
    document.title = titleOf(route);
  }, [routePath(route, config.basePath)]);
  return (
    <>
      <header class="topbar">
        <Link to={{ page: 'topics' }} class="brand">
          nsqadmin
        </Link>
        <nav>
          {sections.map((s) => (
            <Link key={s.label} to={s.route} class={s.active.includes(route.page) ? 'active' : undefined}>
              {s.label}
            </Link>
          ))}
        </nav>
        <span class="spacer" />
        <a href="https://nsq.io/components/nsqadmin.html">docs</a>
        {config.version ? <span class="version">v{config.version}</span> : null}
      </header>
      <main class="container">
        <Page route={route} />
      </main>
    </>
  );
}
