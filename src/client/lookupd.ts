/**
 * Producer discovery through nsqlookupd's HTTP `/lookup` (go-nsq `consumer.go` queryLookupd).
 * URL normalisation and response parsing are pure; `queryLookupd` does the one HTTP request.
 */
import { joinHostPort } from './options.js';

/** A lookupd address as given by the user, turned into the `/lookup?topic=` URL go-nsq queries. */
export function lookupUrl(address: string, topic: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  const u = new URL(withScheme);
  if (u.port === '' && !/:\d+$/.test(u.host)) throw new Error(`lookupd address ${JSON.stringify(address)} has no port`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/lookup';
  u.searchParams.set('topic', topic);
  return u.toString();
}

/**
 * The nsqd TCP addresses (`broadcast_address:tcp_port`) in a `/lookup` answer. Accepts the
 * current unwrapped shape (`{"channels":[…],"producers":[…]}`) and the pre-1.0 envelope
 * (`{"status_code":200,"status_txt":"OK","data":{…}}`).
 */
export function parseLookupResponse(json: unknown): string[] {
  if (json === null || typeof json !== 'object') throw new Error('lookupd response is not a JSON object');
  let body = json as Record<string, unknown>;
  if (!Array.isArray(body['producers']) && body['data'] !== null && typeof body['data'] === 'object') {
    body = body['data'] as Record<string, unknown>;
  }
  const producers = body['producers'];
  if (!Array.isArray(producers)) throw new Error('lookupd response has no producers list');
  const out: string[] = [];
  for (const p of producers) {
    if (p === null || typeof p !== 'object') continue;
    const r = p as Record<string, unknown>;
    const host = r['broadcast_address'];
    const port = r['tcp_port'];
    if (typeof host !== 'string' || host === '' || typeof port !== 'number') continue;
    const addr = joinHostPort(host, port);
    if (!out.includes(addr)) out.push(addr);
  }
  return out;
}

/** An unsuccessful lookup; `status` is the HTTP status when there was one (404 = topic unknown). */
export class LookupError extends Error {
  override readonly name = 'LookupError';
  readonly status: number;

  constructor(message: string, status = 0) {
    super(message);
    this.status = status;
  }
}

/** GET one lookupd; resolves to the producers' TCP addresses. */
export async function queryLookupd(url: string, timeoutMs: number, authSecret: string): Promise<string[]> {
  const headers: Record<string, string> = { Accept: 'application/vnd.nsq; version=1.0' };
  if (authSecret !== '') headers['Authorization'] = `Bearer ${authSecret}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new LookupError(`error querying nsqlookupd (${url}) - ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 200) throw new LookupError(`error querying nsqlookupd (${url}) - got response ${res.status} ${text.trim()}`, res.status);
  try {
    return parseLookupResponse(JSON.parse(text));
  } catch (err) {
    throw new LookupError(`error querying nsqlookupd (${url}) - ${(err as Error).message}`);
  }
}
