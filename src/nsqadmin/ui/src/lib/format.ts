/**
 * Pure formatting helpers for the tables, mirroring the original UI's Handlebars helpers
 * (nsqadmin/static/js/lib/handlebars_helpers.js: commafy, nanotohuman, floatToPercent).
 */

/** 1234567 → "1,234,567"; missing values show as "0". */
export function commafy(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '0';
  const sign = n < 0 ? '-' : '';
  const [int, frac] = Math.abs(n).toString().split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + grouped + (frac ? `.${frac}` : '');
}

/** A latency in nanoseconds as "850ns", "12.3µs", "4.5ms", "6.9s". */
export function nanoToHuman(ns: number | undefined | null): string {
  if (ns === undefined || ns === null || !Number.isFinite(ns)) return '';
  const units: Array<[number, string]> = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(ns) >= size) return `${trimFixed(ns / size, 1)}${unit}`;
  }
  return `${Math.round(ns)}ns`;
}

/** A connection age in nanoseconds as "45s", "3m 12s", "2h 3m", "4d 1h". */
export function durationToHuman(ns: number | undefined | null): string {
  if (ns === undefined || ns === null || !Number.isFinite(ns) || ns < 0) return '';
  let s = Math.floor(ns / 1e9);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A quantile as its percentile column label: 0.99 → "p99", 0.999 → "p99.9", 1 → "p100". */
export function quantileLabel(q: number): string {
  return `p${trimFixed(q * 100, 4)}`;
}

/** A rate in messages per second: "0", "0.5", "12.3", "1,234". */
export function rateToHuman(perSecond: number | undefined | null): string {
  if (perSecond === undefined || perSecond === null || !Number.isFinite(perSecond)) return '0';
  if (perSecond >= 1000) return commafy(Math.round(perSecond));
  return trimFixed(perSecond, 1);
}

function trimFixed(n: number, digits: number): string {
  return Number(n.toFixed(digits)).toString();
}

/** What a client row shows as its host: `hostname:port` (port from remote_address), as upstream. */
export function clientHostPort(hostname: string, remoteAddress: string): string {
  const i = remoteAddress.lastIndexOf(':');
  const port = i >= 0 ? remoteAddress.slice(i + 1) : '';
  return port ? `${hostname}:${port}` : hostname;
}

/** The topology fields of a client row (nsqd 1.3 topology-aware delivery). */
export interface ClientTopology {
  topology_region?: string;
  topology_zone?: string;
  node_topology_region?: string;
  node_topology_zone?: string;
}

/**
 * Whether a client sits in its nsqd's zone or region (upstream channel.hbs tints such rows):
 * zone-local needs both zone and region to match, region-local only the region.
 */
export function clientLocality(c: ClientTopology): 'zone' | 'region' | undefined {
  if (!c.topology_region || c.topology_region !== c.node_topology_region) return undefined;
  if (c.topology_zone && c.topology_zone === c.node_topology_zone) return 'zone';
  return 'region';
}
