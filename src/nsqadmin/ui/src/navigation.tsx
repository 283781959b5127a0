import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { config } from './config.js';
import { routePath, type Route } from './lib/route.js';

/** Client-side navigation: history.pushState, then tell every location listener. */
export function navigate(route: Route): void {
  history.pushState(null, '', routePath(route, config.basePath));
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}

/** The current location pathname, re-rendering on navigation and back/forward. */
export function useLocationPath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return path;
}

/** An in-app link: a real href (so middle-click and copy work), navigated without a reload. */
export function Link(props: { to: Route; class?: string; title?: string; children: ComponentChildren }) {
  const href = routePath(props.to, config.basePath);
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={href} class={props.class} title={props.title} onClick={onClick}>
      {props.children}
    </a>
  );
}

/** A page's breadcrumb trail. */
export function Crumbs(props: { children: ComponentChildren }) {
  return <nav class="crumbs">{props.children}</nav>;
}
