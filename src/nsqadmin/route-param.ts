/**
 * Reading a named parameter of a matched route. The router fills every `:name` and `*name` of the
 * pattern it matched, so a missing one is a programming error (a handler asking for a name its
 * pattern lacks): it answers 500 INTERNAL_ERROR instead of running on with `undefined`.
 */
import { HttpApiError } from '../http/api-error.js';
import type { HttpContext } from '../http/router.js';

/** The value of route parameter `name`; throws HttpApiError(500) when the route has none. */
export function routeParam(c: HttpContext, name: string): string {
  const v = c.params[name];
  if (v === undefined) throw new HttpApiError(500, 'INTERNAL_ERROR');
  return v;
}
