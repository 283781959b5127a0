/**
 * Real clusters for the nsqadmin API tests: nsqlookupd, nsqd processes registered with it and an
 * nsqadmin process, all on 127.0.0.1 with ephemeral ports; plain HTTP calls with headers.
 */
import * as fs from 'node:fs';
import { startApp, startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';

export { eventually, sleep } from '../helpers/wait.js';

/** A finished HTTP exchange. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

/** One HTTP request to 127.0.0.1:`port` (no keep-alive, so nothing is left open). */
export async function call(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body, headers: { connection: 'close', ...headers }, redirect: 'manual' });
  const text = await res.text();
  const h: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    h[k] = v;
  });
  return { status: res.status, headers: h, body: text, json: () => JSON.parse(text) };
}

/** GET that must answer 200 JSON. */
export async function getJson(port: number, path: string): Promise<any> {
  const r = await call(port, 'GET', path);
  if (r.status !== 200) throw new Error(`GET ${path} → ${r.status} ${r.body}`);
  return r.json();
}

/** POST to nsqd/lookupd that must answer 200. */
export async function postOk(port: number, path: string, body?: string): Promise<void> {
  const r = await call(port, 'POST', path, body);
  if (r.status !== 200) throw new Error(`POST ${path} → ${r.status} ${r.body}`);
}

/** `127.0.0.1:<http port>` — the node key nsqadmin uses for a test nsqd. */
export const nodeOf = (d: Daemon): string => `127.0.0.1:${d.httpPort}`;

/** Starts nsqadmin with `args` and waits for its HTTP listener. */
export function startAdmin(args: string[]): Promise<Daemon> {
  return startApp('nsqadmin', ['--http-address=127.0.0.1:0', ...args], { wait: ['HTTP'] });
}

/** nsqlookupd + `nsqdCount` nsqd registered with it + nsqadmin reading through the lookupd. */
export interface AdminCluster {
  lookupd: Daemon;
  nsqds: Daemon[];
  admin: Daemon;
  /** nsqd number `i` (from 0); throws when the cluster was started with fewer. */
  nsqd(i: number): Daemon;
  stop(): Promise<void>;
}

export async function startCluster(nsqdCount = 2, adminArgs: string[] = [], nsqdArgs: string[] = []): Promise<AdminCluster> {
  const lookupd = await startNsqlookupd();
  const nsqds: Daemon[] = [];
  let admin: Daemon | undefined;
  try {
    for (let i = 0; i < nsqdCount; i++) nsqds.push(await startNsqd([`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`, ...nsqdArgs]));
    admin = await startAdmin([`--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`, ...adminArgs]);
  } catch (err) {
    await Promise.all(nsqds.map((d) => d.kill()));
    await lookupd.kill();
    for (const d of nsqds) fs.rmSync(d.dataPath, { recursive: true, force: true });
    throw err;
  }
  const a = admin;
  return {
    lookupd,
    nsqds,
    admin: a,
    nsqd: (i) => {
      const d = nsqds[i];
      if (!d) throw new Error(`the cluster has ${nsqds.length} nsqd, not ${i + 1}`);
      return d;
    },
    stop: async () => {
      await a.stop();
      await Promise.all(nsqds.map((d) => d.stop()));
      await lookupd.stop();
      for (const d of nsqds) fs.rmSync(d.dataPath, { recursive: true, force: true });
    },
  };
}

/** nsqd `/stats` of one topic (undefined when the nsqd does not have it). */
export async function nsqdTopic(nsqd: Daemon, topic: string): Promise<any> {
  const s = await getJson(nsqd.httpPort, `/stats?format=json&topic=${encodeURIComponent(topic)}`);
  return (s.topics ?? []).find((t: { topic_name: string }) => t.topic_name === topic);
}
