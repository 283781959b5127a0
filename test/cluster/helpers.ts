/**
 * Helpers for the multi-process cluster tests: HTTP calls to nsqd and nsqlookupd, the expected
 * `/lookup` producer object of a running nsqd, and an nsqjs Reader that collects what it consumes.
 */
import * as os from 'node:os';
import type { Daemon } from '../helpers/daemons.js';
import { request } from '../helpers/http.js';
import { nsqjs, type NsqjsReader } from '../helpers/nsqjs.js';

/** A finished HTTP exchange. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

/** One HTTP request to 127.0.0.1:`port`; never keeps a connection open. */
export async function call(port: number, method: string, path: string, body?: string | Buffer): Promise<Reply> {
  const res = await request(port, method, path, body === undefined ? {} : { body });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.status, headers, body: res.text, json: () => JSON.parse(res.text) };
}

export const get = (port: number, path: string) => call(port, 'GET', path);
export const post = (port: number, path: string, body?: string | Buffer) => call(port, 'POST', path, body);

/** GET that must answer 200 with JSON; returns the parsed body. */
export async function getJson(port: number, path: string): Promise<any> {
  const r = await get(port, path);
  if (r.status !== 200) throw new Error(`GET ${path} → ${r.status} ${r.body}`);
  return r.json();
}

/** POST that must answer 200. */
export async function postOk(port: number, path: string, body?: string | Buffer): Promise<void> {
  const r = await post(port, path, body);
  if (r.status !== 200) throw new Error(`POST ${path} → ${r.status} ${r.body}`);
}

/** Publishes each body with nsqd's HTTP `/pub`. */
export async function publish(nsqd: Daemon, topic: string, bodies: string[]): Promise<void> {
  for (const b of bodies) await postOk(nsqd.httpPort, `/pub?topic=${encodeURIComponent(topic)}`, b);
}

/** The `/lookup` and `/nodes` object lookupd should show for `nsqd` (key order included). */
export function producerOf(nsqd: Daemon): Record<string, unknown> {
  return {
    remote_address: '<any>',
    hostname: os.hostname(),
    broadcast_address: '127.0.0.1',
    tcp_port: nsqd.tcpPort,
    http_port: nsqd.httpPort,
    version: '1.3.0',
    topology_zone: '',
    topology_region: '',
  };
}

/** Producers sorted by tcp_port with remote_address checked and masked, for deepEqual. */
export function normalizeProducers(producers: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return producers
    .map((p) => {
      if (typeof p.remote_address !== 'string' || !/^127\.0\.0\.1:\d+$/.test(p.remote_address)) {
        throw new Error(`bad remote_address ${JSON.stringify(p.remote_address)}`);
      }
      return { ...p, remote_address: '<any>' } as Record<string, unknown>;
    })
    .sort((a, b) => (a.tcp_port as number) - (b.tcp_port as number));
}

/** TCP ports of the producers lookupd lists for `topic` (sorted); [] when the topic is unknown. */
export async function lookupPorts(lookupdHttpPort: number, topic: string): Promise<number[]> {
  const r = await get(lookupdHttpPort, `/lookup?topic=${encodeURIComponent(topic)}`);
  if (r.status === 404) return [];
  if (r.status !== 200) throw new Error(`/lookup → ${r.status} ${r.body}`);
  return (r.json().producers as Array<{ tcp_port: number }>).map((p) => p.tcp_port).sort((a, b) => a - b);
}

/** Sorted tcp ports of `daemons`. */
export const ports = (...daemons: Daemon[]): number[] => daemons.map((d) => d.tcpPort).sort((a, b) => a - b);

// ---- nsqjs --------------------------------------------------------------------------------

/**
 * An nsqjs Reader that finishes every message and records its body; `connected` holds the
 * `host:port` of the nsqds it is currently connected to.
 */
export class CollectingReader {
  readonly bodies: string[] = [];
  readonly connected = new Set<string>();
  readonly errors: unknown[] = [];
  readonly #reader: NsqjsReader;

  constructor(topic: string, channel: string, options: Record<string, unknown>) {
    this.#reader = new nsqjs.Reader(topic, channel, options);
    this.#reader.on('message', (m) => {
      this.bodies.push(m.body.toString());
      m.finish();
    });
    this.#reader.on('nsqd_connected', (host, port) => this.connected.add(`${host}:${port}`));
    this.#reader.on('nsqd_closed', (host, port) => this.connected.delete(`${host}:${port}`));
    this.#reader.on('error', (e) => this.errors.push(e));
    this.#reader.on('discard', (e) => this.errors.push(e));
    this.#reader.connect();
  }

  close(): void {
    this.#reader.close();
  }
}
