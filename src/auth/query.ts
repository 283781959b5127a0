// nsqd's side of the auth-server protocol (tcp-protocol.md §11.1-11.2): build the request, talk
// HTTP(S) with timeouts, validate the reply into an AuthState.
import * as http from 'node:http';
import * as https from 'node:https';
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

const ACCEPT = 'application/vnd.nsq; version=1.0';
// Upstream reads bodies unbounded; a cap keeps a broken auth server from exhausting memory.
const MAX_BODY_BYTES = 16 << 20;

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
  let reply: Buffer;
  if (opts.method === 'post') {
    const body: Record<string, string[]> = {};
    for (const [k, v] of params) body[k] = [v];
    reply = await requestV1(base, 'POST', Buffer.from(JSON.stringify(body)), opts);
  } else {
    // Appended verbatim like upstream, even if the configured URL already has a query.
    const query = params.map(([k, v]) => `${k}=${goQueryEscape(v)}`).join('&');
    reply = await requestV1(`${base}?${query}`, 'GET', null, opts);
  }
  return parseAuthReply(reply.toString('utf8'), Date.now());
}

// Upstream's http_api client: non-200 is an error, except a 403 from a plain-http endpoint whose
// body names an https_port, which is retried once over https.
async function requestV1(endpoint: string, method: 'GET' | 'POST', body: Buffer | null, opts: AuthQueryOptions): Promise<Buffer> {
  let url = endpoint;
  for (;;) {
    const res = await httpRequest(url, method, body, opts);
    if (res.status === 200) return res.body;
    if (res.status === 403 && !url.startsWith('https')) {
      url = httpsEndpoint(url, res.body);
      continue;
    }
    throw new Error(`got response ${res.status} ${JSON.stringify(res.body.toString('utf8'))}`);
  }
}

function httpsEndpoint(endpoint: string, body: Buffer): string {
  const parsed = JSON.parse(body.toString('utf8')) as unknown;
  const port = isObject(parsed) ? field(parsed, 'https_port') : undefined;
  if (port !== undefined && port !== null && !Number.isInteger(port)) throw new Error('invalid https_port in 403 response');
  const u = new URL(endpoint);
  u.protocol = 'https:';
  u.port = String(port ?? 0);
  return u.toString();
}

interface RawResponse {
  status: number;
  body: Buffer;
}

function httpRequest(urlString: string, method: 'GET' | 'POST', body: Buffer | null, opts: AuthQueryOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(urlString);
    } catch {
      reject(new Error(`invalid URL ${urlString}`));
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new Error(`unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`));
      return;
    }
    const headers: Record<string, string | number> = { Accept: ACCEPT };
    if (body) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = body.length;
    }
    const options: https.RequestOptions = { method, headers, agent: false };
    if (opts.ca) options.ca = opts.ca;
    const req = (url.protocol === 'https:' ? https : http).request(url, options);

    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, res?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(res!);
    };
    const requestTimer = setTimeout(() => finish(new Error(`request timed out after ${opts.requestTimeoutMs}ms`)), opts.requestTimeoutMs);
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => finish(new Error(`connect timed out after ${opts.connectTimeoutMs}ms`)), opts.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.once('error', (err) => finish(err));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) finish(new Error('response body too large'));
        else chunks.push(chunk);
      });
      res.once('error', (err) => finish(err));
      res.once('end', () => finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks, size) }));
    });
    req.end(body ?? undefined);
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Go's encoding/json matches keys case-insensitively, preferring an exact match.
function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  let found: unknown;
  for (const k of Object.keys(obj)) if (k.toLowerCase() === name) found = obj[k];
  return found;
}

function stringField(obj: Record<string, unknown>, name: string): string {
  const v = field(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${typeof v} into field ${name} of type string`);
  return v;
}

function stringList(obj: Record<string, unknown>, name: string): string[] {
  const v = field(obj, name);
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
  if (doc !== null && !isObject(doc)) throw new Error('json: cannot unmarshal reply into auth state');
  const obj: Record<string, unknown> = doc ?? {};
  const ttl = field(obj, 'ttl') ?? 0;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl)) throw new Error('json: cannot unmarshal ttl into int');
  const rawAuths = field(obj, 'authorizations') ?? [];
  if (!Array.isArray(rawAuths)) throw new Error('json: cannot unmarshal authorizations into array');
  const authorizations: Authorization[] = rawAuths.map((raw: unknown) => {
    if (raw !== null && !isObject(raw)) throw new Error('json: cannot unmarshal authorization entry into object');
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
