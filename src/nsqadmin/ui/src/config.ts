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
  /** False when nsqadmin runs with --chart-sample-interval=0 (no live-chart sampling). */
  chartsEnabled: boolean;
}

declare global {
  interface Window {
    NSQADMIN_CONFIG?: Partial<Omit<AdminConfig, 'chartsEnabled'>>;
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
    // Also the pages' refresh period; 2 s (nsqadmin's default sample interval) when charts are off.
    chartIntervalMs: c.chartIntervalMs && c.chartIntervalMs > 0 ? c.chartIntervalMs : 2000,
    chartsEnabled: c.chartIntervalMs !== 0,
  };
}

export const config: AdminConfig = readConfig();
