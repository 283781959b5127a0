import { type AuthState, isAllowed, isExpired, queryAuth } from '../auth/auth.js';
import { ProtocolError } from '../protocol/errors.js';
import { goQuoteBytes } from '../protocol/names.js';
import type { ClientHost } from './command-handler.js';

/** What the gate needs of a connection (ClientV2 is one). */
export interface AuthSubject {
  auth: AuthState | null;
  readonly authSecret: string;
  readonly remoteIp: string;
  readonly remoteAddress: string;
  readonly tls: boolean;
  readonly host: Pick<ClientHost, 'authEnabled' | 'options' | 'logger' | 'tlsRootCa'>;
  peerCommonName(): string;
}

/**
 * The AUTH gate for SUB/PUB/MPUB/DPUB (docs/protocol.md, AUTH): refuses before a successful AUTH,
 * re-queries the auth server once the authorizations' TTL expired, then matches topic and
 * channel. Synchronous unless a re-query is needed.
 */
export function checkAuth(c: AuthSubject, cmd: string, topic: string, channel: string): void | Promise<void> {
  if (!c.host.authEnabled()) return;
  if (c.auth === null || c.auth.authorizations.length === 0) {
    throw new ProtocolError('E_AUTH_FIRST', `AUTH required before ${cmd}`);
  }
  const decide = () => {
    if (!isAllowed(c.auth!, topic, channel)) {
      throw new ProtocolError('E_UNAUTHORIZED', `AUTH failed for ${cmd} on ${goQuoteBytes(topic)} ${goQuoteBytes(channel)}`);
    }
  };
  if (!isExpired(c.auth, Date.now())) return decide();
  return refreshAuth(c).then(decide);
}

/** Queries the auth server with the connection's secret; failures are `E_AUTH_FAILED` (details logged). */
export async function refreshAuth(c: AuthSubject): Promise<void> {
  const o = c.host.options;
  try {
    c.auth = await queryAuth({
      addresses: o.authHttpAddresses,
      method: o.authHttpRequestMethod,
      remoteIp: c.remoteIp,
      tls: c.tls,
      secret: c.authSecret,
      commonName: c.peerCommonName(),
      ca: c.host.tlsRootCa?.(),
      connectTimeoutMs: o.httpClientConnectTimeout,
      requestTimeoutMs: o.httpClientRequestTimeout,
    });
  } catch (err) {
    c.host.logger.warn(`PROTOCOL(V2): [${c.remoteAddress}] auth failed - ${(err as Error).message}`);
    throw new ProtocolError('E_AUTH_FAILED', 'AUTH failed');
  }
}
