import { normalizeBasePath } from './lib/route.js';

/** What nsqadmin injects into index.html as `window.NSQADMIN_CONFIG` for each request. */
export interface AdminConfig {
  basePath: string;
  version: string;
  isAdmin: boolean;
  graphiteUrl: string;
  statsdPrefix: string;
  statsdCounterFormat: string;
  statsdGaugeFormat: string;
  useStatsdPrefixes: boolean;
  statsdInterval: number;
  nsqlookupd: string[];
  chartIntervalMs: number;
}

declare global {
  interface Window {
    NSQADMIN_CONFIG?: Partial<AdminConfig>;
  }
}

/** The injected config with defaults for anything missing (e.g. index.html opened without the server). */
function readConfig(): AdminConfig {
  const c = window.NSQADMIN_CONFIG ?? {};
  return {
    basePath: normalizeBasePath(c.basePath),
    version: c.version ?? '',
    isAdmin: c.isAdmin === true,
    graphiteUrl: c.graphiteUrl ?? '',
    statsdPrefix: c.statsdPrefix ?? 'nsq.%s',
    statsdCounterFormat: c.statsdCounterFormat ?? 'stats.counters.%s.count',
    statsdGaugeFormat: c.statsdGaugeFormat ?? 'stats.gauges.%s',
    useStatsdPrefixes: c.useStatsdPrefixes ?? true,
    statsdInterval: c.statsdInterval ?? 60,
    nsqlookupd: Array.isArray(c.nsqlookupd) ? c.nsqlookupd : [],
    chartIntervalMs: c.chartIntervalMs && c.chartIntervalMs > 0 ? c.chartIntervalMs : 2000,
  };
}

export const config: AdminConfig = readConfig();
