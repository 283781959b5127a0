/**
 * `host:port` text as Go's `net` package reads and writes it, the one helper for every daemon and
 * tool: listen and dial addresses, lookupd peers, statsd, broadcast addresses.
 */

/** An address that is not `host:port`; the message is Go's `*net.AddrError` text. */
export class AddressError extends Error {
  constructor(addr: string, reason: string) {
    super(`address ${addr}: ${reason}`);
    this.name = 'AddressError';
  }
}

/**
 * Go's `net.SplitHostPort`: the host (brackets removed) and the port text, unchecked. IPv6 hosts
 * come in brackets (`[::1]:4160`); an empty host means "any". Throws AddressError.
 */
export function splitHostPortText(addr: string): { host: string; port: string } {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new AddressError(addr, 'missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0) throw new AddressError(addr, "missing ']' in address");
    if (end + 1 === addr.length) throw new AddressError(addr, 'missing port in address');
    if (end + 1 !== i) {
      throw new AddressError(addr, addr[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    }
    host = addr.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = addr.slice(0, i);
    if (host.includes(':')) throw new AddressError(addr, 'too many colons in address');
  }
  if (addr.indexOf('[', j) >= 0) throw new AddressError(addr, "unexpected '[' in address");
  if (addr.indexOf(']', k) >= 0) throw new AddressError(addr, "unexpected ']' in address");
  return { host, port: addr.slice(i + 1) };
}

/** `splitHostPortText` plus a decimal port in 0-65535 (service names are not looked up). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const { host, port: text } = splitHostPortText(addr);
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port > 65535) throw new AddressError(addr, 'invalid port');
  return { host, port };
}

/**
 * Whether a listen address is TCP (`host:port`) rather than a Unix socket path, decided as
 * upstream's `internal/util.TypeOfAddr` does: by whether Go's SplitHostPort accepts it.
 */
export function isTcpAddress(addr: string): boolean {
  try {
    splitHostPortText(addr);
    return true;
  } catch {
    return false;
  }
}

/** Go's `net.JoinHostPort`: brackets around hosts containing a colon. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A socket address as Go prints it: IPv6 in brackets, IPv4-mapped IPv6 as plain IPv4. */
export function formatSocketAddress(host: string | undefined, port: number | undefined): string {
  let h = host ?? '';
  if (h.startsWith('::ffff:') && h.includes('.')) h = h.slice(7);
  return joinHostPort(h, port ?? 0);
}
