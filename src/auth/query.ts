// nsqd's side of the auth-server protocol, as upstream's `internal/auth/authorizations.go`
// (QueryAuthd): build the request, ask each server in turn, validate the reply into an
// AuthState. The exchange is described in docs/protocol.md (AUTH).
import { requestV1 } from '../http/client.js';
import { goJsonField, isJsonObject } from '../lib/go-json.js';
import { authPattern, type Authorization, type AuthState } from './state.js';

/** Everything one AUTH query needs; timeouts in ms, `ca` = `--tls-root-ca-file` contents. */
export interface AuthQueryOptions {
  addresses: string[];
  method: 'get' | 'post';
  remoteIp: string;
  tls: boolean;
  secret: string;
  commonName: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  ca?: Buffer;
}

/** Every auth server failed; `message` joins each server's reason (for the log, never the client). */
export class AuthQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthQueryError';
  }
}


/**
 * Asks the auth servers (starting at a random one, trying each in turn) what `secret` grants and
 * returns the validated state with `expires` = now + ttl. Throws AuthQueryError when none answers
 * with a valid reply: network error, non-200, bad JSON, unknown permission, bad pattern, ttl ≤ 0.
 */
export async function queryAuth(opts: AuthQueryOptions): Promise<AuthState> {
  const n = opts.addresses.length;
  if (n === 0) throw new AuthQueryError('no auth server addresses configured');
  const start = Math.floor(Math.random() * n);
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const address = opts.addresses[(start + i) % n]!;
    try {
      return await queryOne(address, opts);
    } catch (err) {
      failures.push(`failed to auth against ${address} - ${(err as Error).message}`);
    }
  }
  throw new AuthQueryError(failures.join('; '));
}

/** The request parameters, keys sorted as Go's url.Values encodes them. */
export function authParams(opts: Pick<AuthQueryOptions, 'remoteIp' | 'tls' | 'secret' | 'commonName'>): Array<[string, string]> {
  return [
    ['common_name', opts.commonName],
    ['remote_ip', opts.remoteIp],
    ['secret', opts.secret],
    ['tls', opts.tls ? 'true' : 'false'],
  ];
}

/** Go's url.QueryEscape: only unreserved characters stay, space becomes `+`. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

async function queryOne(address: string, opts: AuthQueryOptions): Promise<AuthState> {
  const base = address.includes('://') ? address : `http://${address}/auth`;
  const params = authParams(opts);
  const http = { connectTimeoutMs: opts.connectTimeoutMs, requestTimeoutMs: opts.requestTimeoutMs, ...(opts.ca ? { ca: opts.ca } : {}) };
  let reply: Buffer;
  if (opts.method === 'post') {
    const body: Record<string, string[]> = {};
    for (const [k, v] of params) body[k] = [v];
    reply = (await requestV1(base, 'POST', Buffer.from(JSON.stringify(body)), http)).body;
  } else {
    // Appended verbatim like upstream, even if the configured URL already has a query.
    const query = params.map(([k, v]) => `${k}=${goQueryEscape(v)}`).join('&');
    reply = (await requestV1(`${base}?${query}`, 'GET', null, http)).body;
  }
  return parseAuthReply(reply.toString('utf8'), Date.now());
}

function stringField(obj: Record<string, unknown>, name: string): string {
  const v = goJsonField(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${typeof v} into field ${name} of type string`);
  return v;
}

function stringList(obj: Record<string, unknown>, name: string): string[] {
  const v = goJsonField(obj, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`json: cannot unmarshal ${typeof v} into field ${name} of type []string`);
  return v.map((item) => {
    if (item === null) return '';
    if (typeof item !== 'string') throw new Error(`json: cannot unmarshal ${typeof item} into field ${name} of type string`);
    return item;
  });
}

/**
 * Decodes and validates an auth server's 200 reply (as Go's json.Unmarshal into auth.State would,
 * plus upstream's checks); `now` is epoch ms. Exported for tests and for re-checks.
 */
export function parseAuthReply(text: string, now: number): AuthState {
  const doc = JSON.parse(text) as unknown;
  if (doc !== null && !isJsonObject(doc)) throw new Error('json: cannot unmarshal reply into auth state');
  const obj: Record<string, unknown> = doc ?? {};
  const ttl = goJsonField(obj, 'ttl') ?? 0;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl)) throw new Error('json: cannot unmarshal ttl into int');
  const rawAuths = goJsonField(obj, 'authorizations') ?? [];
  if (!Array.isArray(rawAuths)) throw new Error('json: cannot unmarshal authorizations into array');
  const authorizations: Authorization[] = rawAuths.map((raw: unknown) => {
    if (raw !== null && !isJsonObject(raw)) throw new Error('json: cannot unmarshal authorization entry into object');
    const a: Record<string, unknown> = raw ?? {};
    return { topic: stringField(a, 'topic'), channels: stringList(a, 'channels'), permissions: stringList(a, 'permissions') };
  });
  for (const a of authorizations) {
    for (const p of a.permissions) if (p !== 'subscribe' && p !== 'publish') throw new Error(`unknown permission ${p}`);
    try {
      authPattern(a.topic);
    } catch (err) {
      throw new Error(`unable to compile topic ${JSON.stringify(a.topic)} ${(err as Error).message}`);
    }
    for (const c of a.channels) {
      try {
        authPattern(c);
      } catch (err) {
        throw new Error(`unable to compile channel ${JSON.stringify(c)} ${(err as Error).message}`);
      }
    }
  }
  if (ttl <= 0) throw new Error(`invalid TTL ${ttl} (must be >0)`);
  return {
    identity: stringField(obj, 'identity'),
    identityUrl: stringField(obj, 'identity_url'),
    ttlSec: ttl,
    expires: now + ttl * 1000,
    authorizations,
  };
}
