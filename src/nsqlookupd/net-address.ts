/** `host:port` text as Go's net package reads and writes it (shared by lookupd and nsqd's lookup peer). */

/** Splits `host:port`; IPv6 hosts come in brackets (`[::1]:4160`), an empty host means "any". */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`address ${addr}: missing port in address`);
  let host = addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) throw new Error(`address ${addr}: too many colons in address`);
  const portText = addr.slice(i + 1);
  const port = Number(portText);
  if (portText === '' || !/^[0-9]+$/.test(portText) || port > 65535) throw new Error(`address ${addr}: invalid port`);
  return { host, port };
}

/** Go's net.JoinHostPort: brackets around hosts containing a colon. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A socket address as Go prints it: IPv6 in brackets, IPv4-mapped IPv6 as plain IPv4. */
export function formatSocketAddress(host: string | undefined, port: number | undefined): string {
  let h = host ?? '';
  if (h.startsWith('::ffff:') && h.includes('.')) h = h.slice(7);
  return joinHostPort(h, port ?? 0);
}
