/**
 * Admin-action notifications (`nsqadmin/notify.go`): one JSON object POSTed to
 * `--notification-http-endpoint` per write action, sent in the background. Delivery failures
 * are logged, never surfaced to the API caller.
 */

import type { IncomingMessage } from 'node:http';
import type { Logger } from '../lib/logger.js';
import type { UpstreamClient } from './upstream-client.js';

/** The notification body (AdminAction); key order is the original's. */
export interface AdminAction {
  action: string;
  topic: string;
  channel?: string;
  node?: string;
  timestamp: number;
  user?: string;
  remote_ip: string;
  user_agent: string;
  url: string;
  via: string;
}

/** The Basic-auth user name of a request, if any (not the ACL header). */
export function basicAuthUser(req: IncomingMessage): string {
  const h = req.headers.authorization ?? '';
  const m = /^Basic\s+(\S+)$/i.exec(h);
  const token = m?.[1];
  if (token === undefined) return '';
  const text = Buffer.from(token, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? '' : text.slice(0, colon);
}

function remoteIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  const plain = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  return plain.includes(':') ? `[${plain}]:${req.socket.remotePort}` : `${plain}:${req.socket.remotePort}`;
}

/** Builds the notification for `req` (pure apart from reading the request). */
export function adminAction(action: string, topic: string, channel: string, node: string, req: IncomingMessage, via: string, nowMs: number): AdminAction {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-scheme'] === 'https';
  const out = { action, topic } as AdminAction;
  if (channel) out.channel = channel;
  if (node) out.node = node;
  out.timestamp = Math.floor(nowMs / 1000);
  const user = basicAuthUser(req);
  if (user) out.user = user;
  out.remote_ip = remoteIp(req);
  out.user_agent = req.headers['user-agent'] ?? '';
  out.url = `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}${req.url ?? ''}`;
  out.via = via;
  return out;
}

/** Posts notifications when an endpoint is configured. */
export class Notifier {
  #endpoint: () => string;
  #client: UpstreamClient;
  #logger: Logger;
  #via: string;
  #pending = new Set<Promise<void>>();

  constructor(endpoint: () => string, client: UpstreamClient, via: string, logger: Logger) {
    this.#endpoint = endpoint;
    this.#client = client;
    this.#via = via;
    this.#logger = logger;
  }

  /** Queues one notification (no-op without an endpoint). */
  notify(action: string, topic: string, channel: string, node: string, req: IncomingMessage): void {
    const endpoint = this.#endpoint();
    if (endpoint === '') return;
    const body = JSON.stringify(adminAction(action, topic, channel, node, req, this.#via, Date.now()));
    const p = this.#client
      .request({ method: 'POST', url: endpoint, body, headers: { 'Content-Type': 'application/json' } })
      .then(
        (r) => {
          if (r.status < 200 || r.status >= 300) this.#logger.error(`failed to POST notification - got response ${r.statusText}`);
        },
        (err: Error) => this.#logger.error(`failed to POST notification - ${err.message}`),
      )
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Waits for notifications still being sent (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
