// A connection's cached authorization and the checks nsqd makes against it, as upstream's
// `internal/auth/authorizations.go` (`IsAllowed`, `HasPermission`, `IsExpired`).
import type { RE2JS } from 're2js';
import { lazyModule } from '../lib/lazy-module.js';

// Loaded with the first pattern: only nsqd with --auth-http-address needs it (src/lib/lazy-module.ts).
const re2js = lazyModule<typeof import('re2js')>('re2js');

/** One grant from the auth server: RE2 patterns for the topic and channels, plus `subscribe`/`publish`. */
export interface Authorization {
  topic: string;
  channels: string[];
  permissions: string[];
}

/** What AUTH established for one connection, valid until `expires` (epoch ms). */
export interface AuthState {
  identity: string;
  identityUrl: string;
  ttlSec: number;
  expires: number;
  authorizations: Authorization[];
}

// Patterns repeat across connections and are checked on every PUB/SUB, so each is compiled once.
// Bounded so a hostile auth server cannot grow it forever; a full cache simply starts over.
const MAX_CACHED_PATTERNS = 4096;
const patternCache = new Map<string, RE2JS>();

/**
 * The compiled form of an auth pattern (cached). Auth servers write Go `regexp` (RE2) patterns, so
 * they are compiled by re2js, an RE2 port: the same syntax and Go's error texts, and matching in
 * linear time, which matters because the patterns come from a remote server. Throws re2js's
 * `RE2JSSyntaxException` (message as Go's `regexp.Compile`) for an invalid pattern.
 */
export function authPattern(pattern: string): RE2JS {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    re = re2js().RE2JS.compile(pattern);
    if (patternCache.size >= MAX_CACHED_PATTERNS) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

/**
 * Whether any grant allows the operation: SUB passes its channel and needs `subscribe`; PUB, MPUB
 * and DPUB pass channel "" and need `publish` (so a publish grant needs a channel pattern matching
 * ""). Patterns match anywhere in the name (unanchored RE2 search).
 */
export function isAllowed(state: AuthState, topic: string, channel: string): boolean {
  const permission = channel === '' ? 'publish' : 'subscribe';
  for (const a of state.authorizations) {
    if (!a.permissions.includes(permission)) continue;
    if (!authPattern(a.topic).test(topic)) continue;
    for (const c of a.channels) if (authPattern(c).test(channel)) return true;
  }
  return false;
}

/** True once `now` (epoch ms) is past the state's expiry; the next checked command re-queries. */
export function isExpired(state: AuthState, now: number): boolean {
  return state.expires < now;
}
