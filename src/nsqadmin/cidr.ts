/**
 * `--allow-config-from-cidr`: Go's net.ParseCIDR + IPNet.Contains over node's BlockList.
 * An IPv4-mapped IPv6 peer (`::ffff:127.0.0.1`) counts as its IPv4 address, as in Go.
 */

import net from 'node:net';

/** A parsed CIDR that answers whether an address is inside it. */
export interface Cidr {
  contains(ip: string): boolean;
}

/** Parses `a.b.c.d/n` or `x::y/n`; undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
  if (family === undefined || bits > (family === 'ipv4' ? 32 : 128)) return undefined;
  const list = new net.BlockList();
  list.addSubnet(addr, bits, family);
  return {
    contains(ip: string): boolean {
      const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
      if (net.isIPv4(plain)) return list.check(plain, 'ipv4');
      if (net.isIPv6(plain)) return list.check(plain, 'ipv6');
      return false;
    },
  };
}
