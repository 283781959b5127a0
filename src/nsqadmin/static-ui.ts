/**
 * The browser UI bundle: `dist/nsqadmin-ui/` (built by `npm run build`, Vite `base: '/static/'`)
 * or `--dev-static-dir`. index.html is served for every SPA route with `/static/` rebased onto
 * --base-path and `<!--NSQADMIN_CONFIG-->` replaced by the page's settings; other files are
 * served under `{base}/static/`. Files are read once and kept (the bundle is small).
 */

import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { acceptsGzip, compressible } from './gzip-response.js';
import { fileURLToPath } from 'node:url';

/** `dist/nsqadmin-ui/` next to the compiled server (dist/src/nsqadmin → dist/nsqadmin-ui). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../nsqadmin-ui/', import.meta.url));

/** The settings the page reads as `window.NSQADMIN_CONFIG`. */
export interface UiConfig {
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

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.woff': 'application/font-woff',
  '.woff2': 'application/font-woff2',
  '.ttf': 'application/font-sfnt',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content-Type by file extension (undefined when unknown). */
export function contentTypeOf(file: string): string | undefined {
  return CONTENT_TYPES[path.extname(file).toLowerCase()];
}

/** Go html/template-safe JSON inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STATIC_REF = /(["'`(])\/static\//g;

/**
 * Points `/static/` references (Vite's `base`) at `{base-path}/static/`: in index.html, and in
 * CSS and JS files, where asset URLs and lazily loaded chunks carry the same absolute prefix.
 */
export function rebaseStatic(text: string, basePrefix: string): string {
  return basePrefix === '' ? text : text.replace(STATIC_REF, `$1${basePrefix}/static/`);
}

/** index.html with the base path and config filled in. */
export function renderIndex(template: string, basePrefix: string, config: UiConfig): string {
  const script = `<script>window.NSQADMIN_CONFIG = ${scriptJson(config)}</script>`;
  return rebaseStatic(template, basePrefix).replace('<!--NSQADMIN_CONFIG-->', script);
}

/** The page served when the bundle has not been built. */
export function missingUiPage(dir: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>nsqadmin</title></head><body>' +
    '<h1>nsqadmin</h1><p>The web UI has not been built. Run <code>npm run build</code> ' +
    `(it writes <code>${dir.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</code>) and reload. ` +
    'The JSON API under <code>/api/</code> works without it.</p></body></html>'
  );
}

/** Reads files of the UI directory on demand, refusing anything outside it. */
export class StaticUi {
  readonly dir: string;
  #cache: Map<string, Buffer> | undefined;

  /** `cache` keeps files in memory once read (off for --dev-static-dir, so edits show at once). */
  constructor(dir: string, cache = true) {
    this.dir = path.resolve(dir);
    this.#cache = cache ? new Map() : undefined;
  }

  #gzipCache = new Map<string, Buffer>();

  /** The gzip form of a file read by file() (kept alongside it when caching). */
  gzipped(rel: string, data: Buffer): Buffer {
    if (!this.#cache) return zlib.gzipSync(data);
    let gz = this.#gzipCache.get(rel);
    if (!gz) this.#gzipCache.set(rel, (gz = zlib.gzipSync(data)));
    return gz;
  }

  /** A bundle file as served under `basePrefix`: CSS and JS with their `/static/` references rebased. */
  served(rel: string, basePrefix: string): Buffer | undefined {
    const data = this.file(rel);
    if (!data || basePrefix === '' || !/\.(css|js|mjs)$/i.test(rel)) return data;
    const key = `rebased:${rel}`;
    const cached = this.#cache?.get(key);
    if (cached) return cached;
    const out = Buffer.from(rebaseStatic(data.toString('utf8'), basePrefix));
    this.#cache?.set(key, out);
    return out;
  }

  /** The file at `rel` (relative, `/`-separated) or undefined when missing or outside the dir. */
  file(rel: string): Buffer | undefined {
    const full = path.resolve(this.dir, '.' + path.posix.normalize('/' + rel));
    if (full !== this.dir && !full.startsWith(this.dir + path.sep)) return undefined;
    const cached = this.#cache?.get(full);
    if (cached) return cached;
    try {
      if (!fs.statSync(full).isFile()) return undefined;
      const data = fs.readFileSync(full);
      // Only found files are kept, so building the bundle while nsqadmin runs works.
      this.#cache?.set(full, data);
      return data;
    } catch {
      return undefined;
    }
  }
}

/**
 * Writes a 200 with `body`, gzip-compressed when the client accepts it and the type is text.
 * `gzipped` returns the compressed body (lets callers cache it).
 */
export function sendBody(req: IncomingMessage, res: ServerResponse, body: Buffer, contentType: string | undefined, gzipped: () => Buffer = () => zlib.gzipSync(body)): void {
  let out = body;
  if (contentType) res.setHeader('Content-Type', contentType);
  if (compressible(contentType, body.length)) {
    res.setHeader('Vary', 'Accept-Encoding');
    if (acceptsGzip(req)) {
      out = gzipped();
      res.setHeader('Content-Encoding', 'gzip');
    }
  }
  res.setHeader('Content-Length', out.length);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : out);
}
