import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { startNsqd, type Daemon } from '../helpers/daemons.js';
import { nsqdStats, type NsqdStats } from '../helpers/raw-client.js';
import { sleep } from '../helpers/wait.js';
import {
  bugLines,
  commandBytes,
  mpubPayload,
  Prng,
  StressConn,
  stressSeed,
  type StressMessage,
  type Transport,
} from '../helpers/stress-kit.js';

/**
 * Randomized, seeded chaos against a real nsqd: producers (TCP PUB/MPUB/DPUB over plain, snappy
 * and deflate connections, HTTP /pub and /mpub), consumers on durable and ephemeral channels that
 * change RDY, FIN/REQ/TOUCH at random, stall, vanish with messages in flight and come back, CLS;
 * admin calls on other channels and topics; hostile TCP and HTTP connections. Then the chaos
 * stops, everything is drained, and the invariants are checked: the daemon survived without
 * internal errors, every acknowledged message reached each durable channel (and was FINed there),
 * and /stats is consistent. Three scenarios, each with its own nsqd, run side by side: memory
 * queue with disk spill, disk only, and a SIGTERM under load followed by a restart on the data.
 *
 * Replay a failure with STRESS_SEED=<seed> (in the failure message); STRESS_MS sets the chaos
 * phase for longer local runs; STRESS_LOG_DIR keeps each nsqd's log.
 */

const TOPIC = 'chaos';
const TRACKED = ['c1', 'c2'] as const;
const EPHEMERAL = 'e#ephemeral';
const ADMIN_TOPIC = 'chaos_admin';
const HOSTILE_TOPIC = 'chaos_hostile';

const keyOf = (body: string) => {
  const i = body.indexOf('|');
  return i < 0 ? body : body.slice(0, i);
};

/** Shared bookkeeping of one chaos run. */
class Run {
  stopping = false;
  readonly published = new Set<string>();
  readonly delivered = new Map<string, Set<string>>();
  /** Per channel: FINs sent minus FINs the server refused, per message key. */
  readonly fins = new Map<string, Map<string, number>>();
  readonly problems: string[] = [];
  readonly #actors: Array<Promise<void>> = [];
  readonly counts = { published: 0, delivered: 0, hostile: 0, admin: 0, sessions: 0, stats: 0 };
  /** Topic pauses in progress: each must be undone before the drain. */
  readonly pausedTopics = new Set<string>();

  /** Set while nsqd is shut down under the chaos: failures of the actors are then expected. */
  shuttingDown = false;

  constructor(
    public d: Daemon,
    readonly seed: number,
  ) {
    for (const c of TRACKED) {
      this.delivered.set(c, new Set());
      this.fins.set(c, new Map());
    }
  }

  problem(what: string): void {
    if (!this.shuttingDown && this.problems.length < 50) this.problems.push(what);
  }

  spawn(name: string, f: () => Promise<void>): void {
    this.#actors.push(
      f().catch((err: unknown) => {
        this.problem(`${name}: ${(err as Error)?.stack ?? String(err)}`);
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.#actors);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.d.httpPort}${path}`;
  }

  /** An HTTP call whose status must be one of `ok`. */
  async http(method: string, path: string, ok: number[] = [200], body?: Buffer | string): Promise<string> {
    const res = await fetch(this.url(path), { method, body });
    const text = await res.text();
    if (!ok.includes(res.status)) this.problem(`${method} ${path} -> ${res.status} ${text.slice(0, 200)}`);
    return text;
  }
}

function bodyFor(rng: Prng, key: string): string {
  const r = rng.next();
  // Mostly small bodies; a few large ones so stalled consumers fill the server's write buffers.
  const pad = r < 0.9 ? rng.int(0, 60) : r < 0.98 ? rng.int(1000, 8000) : rng.int(20000, 100000);
  return pad === 0 ? key : `${key}|${'x'.repeat(pad)}`;
}

// ---- producers ----------------------------------------------------------------------------

async function tcpProducer(run: Run, rng: Prng, idx: number): Promise<void> {
  let seq = 0;
  while (!run.stopping) {
    const conn = await StressConn.open(run.d.tcpPort, rng.pick<Transport>(['plain', 'plain', 'snappy', 'deflate']));
    run.counts.sessions++;
    const pending: string[][] = [];
    let wake: (() => void) | null = null;
    conn.handlers = {
      response(text) {
        const keys = pending.shift();
        if (text !== 'OK' || keys === undefined) run.problem(`producer ${idx}: unexpected response ${text}`);
        else for (const k of keys) run.published.add(k);
        wake?.();
      },
      error(text) {
        pending.shift();
        run.problem(`producer ${idx}: error ${text}`);
        wake?.();
      },
      close() {
        wake?.();
      },
    };
    const window = rng.int(1, 8);
    const until = Date.now() + rng.int(300, 2500);
    while (!run.stopping && !conn.closed && Date.now() < until) {
      if (pending.length >= window) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
        wake = null;
        continue;
      }
      const r = rng.next();
      if (r < 0.45) {
        const key = `t${idx}.${seq++}`;
        pending.push([key]);
        conn.send(`PUB ${TOPIC}`, bodyFor(rng, key));
      } else if (r < 0.8) {
        const keys: string[] = [];
        const n = rng.int(1, 20);
        for (let i = 0; i < n; i++) keys.push(`t${idx}.${seq++}`);
        pending.push(keys);
        conn.send(`MPUB ${TOPIC}`, mpubPayload(keys.map((k) => bodyFor(rng, k))));
      } else {
        const key = `t${idx}.${seq++}`;
        pending.push([key]);
        conn.send(`DPUB ${TOPIC} ${rng.int(0, 500)}`, bodyFor(rng, key));
      }
      run.counts.published++;
      if (rng.chance(0.5)) await sleep(rng.int(0, 4));
    }
    if (rng.chance(0.2)) {
      // Vanish with publishes in flight: they may or may not have been accepted.
      conn.destroy();
    } else {
      const deadline = Date.now() + 3000;
      while (pending.length > 0 && !conn.closed && Date.now() < deadline) await sleep(5);
      if (pending.length > 0 && !conn.closed) run.problem(`producer ${idx}: ${pending.length} publishes never answered`);
      conn.destroy();
    }
    await conn.waitClosed(1000);
    if (conn.decodeError !== null) run.problem(`producer ${idx}: undecodable stream from nsqd - ${conn.decodeError.message}`);
  }
}

async function httpProducer(run: Run, rng: Prng, idx: number): Promise<void> {
  let seq = 0;
  while (!run.stopping) {
    const r = rng.next();
    let keys: string[];
    let path: string;
    let body: Buffer | string;
    if (r < 0.45) {
      keys = [`h${idx}.${seq++}`];
      path = `/pub?topic=${TOPIC}${rng.chance(0.3) ? `&defer=${rng.int(0, 400)}` : ''}`;
      body = bodyFor(rng, keys[0]!);
    } else if (r < 0.75) {
      keys = [];
      for (let i = rng.int(1, 15); i > 0; i--) keys.push(`h${idx}.${seq++}`);
      path = `/mpub?topic=${TOPIC}`;
      body = keys.map((k) => bodyFor(rng, k)).join('\n') + (rng.chance(0.5) ? '\n' : '');
    } else {
      keys = [];
      for (let i = rng.int(1, 15); i > 0; i--) keys.push(`h${idx}.${seq++}`);
      path = `/mpub?topic=${TOPIC}&binary=true`;
      body = mpubPayload(keys.map((k) => bodyFor(rng, k)));
    }
    const res = await fetch(run.url(path), { method: 'POST', body });
    const text = await res.text();
    if (res.status === 200 && text === 'OK') for (const k of keys) run.published.add(k);
    else run.problem(`http producer: POST ${path} -> ${res.status} ${text}`);
    run.counts.published++;
    await sleep(rng.int(0, 15));
  }
}

// ---- consumers ----------------------------------------------------------------------------

interface ConsumerOpts {
  topic: string;
  channel: string;
  /** Record deliveries and FINs for the invariants (durable channels of TOPIC). */
  tracked: boolean;
  /** Ends some sessions with CLS. */
  cls: boolean;
  /** Stalls reading more often and longer. */
  slow: boolean;
}

/** Random IDENTIFY settings; sampling only where losing messages is allowed (it drops them). */
function randomIdentify(rng: Prng, o: ConsumerOpts): Record<string, unknown> | undefined {
  if (rng.chance(0.3)) return undefined;
  const id: Record<string, unknown> = {};
  if (rng.chance(0.3)) id['msg_timeout'] = rng.int(1000, 2000);
  // Short heartbeats make a long stall trip the write deadline.
  if (rng.chance(0.3)) id['heartbeat_interval'] = rng.int(1000, 3000);
  if (rng.chance(0.3)) id['output_buffer_size'] = rng.chance(0.3) ? -1 : rng.int(64, 65536);
  if (rng.chance(0.3)) id['output_buffer_timeout'] = rng.chance(0.3) ? -1 : rng.int(25, 300);
  if (rng.chance(0.3)) id['deflate_level'] = rng.int(1, 9);
  if (!o.tracked && rng.chance(0.3)) id['sample_rate'] = rng.int(1, 99);
  return id;
}

async function consumer(run: Run, rng: Prng, name: string, o: ConsumerOpts): Promise<void> {
  while (!run.stopping) {
    const transport = rng.pick<Transport>(['plain', 'plain', 'snappy', 'deflate']);
    const identify = randomIdentify(rng, o);
    // Some connections get an answer before IDENTIFY changes their output buffer size.
    const conn = await StressConn.open(run.d.tcpPort, transport, identify, rng.chance(0.2) ? HOSTILE_TOPIC : undefined);
    run.counts.sessions++;
    await consumerSession(run, rng, name, o, conn);
    await conn.waitClosed(2000);
    if (conn.decodeError !== null) run.problem(`${name}: undecodable stream from nsqd - ${conn.decodeError.message}`);
    await sleep(rng.int(0, 300));
  }
}

async function consumerSession(run: Run, rng: Prng, name: string, o: ConsumerOpts, conn: StressConn): Promise<void> {
  const delivered = o.tracked ? run.delivered.get(o.channel)! : null;
  const fins = o.tracked ? run.fins.get(o.channel)! : null;
  const inFlight = new Map<string, string>();
  const finSent = new Map<string, string>();
  let subscribed: (() => void) | null = null;
  let closeWait: (() => void) | null = null;
  let clsSent = false;

  const finish = (id: string) => {
    const key = inFlight.get(id);
    if (key === undefined || conn.closed) return;
    inFlight.delete(id);
    conn.send(`FIN ${id}`);
    if (fins !== null) {
      finSent.set(id, key);
      fins.set(key, (fins.get(key) ?? 0) + 1);
    }
  };
  const act = (m: StressMessage, r: number) => {
    if (conn.closed || !inFlight.has(m.id)) return;
    if (r < 0.6) finish(m.id);
    else if (r < 0.7) {
      inFlight.delete(m.id);
      conn.send(`REQ ${m.id} 0`);
    } else if (r < 0.8) {
      inFlight.delete(m.id);
      conn.send(`REQ ${m.id} ${rng.int(1, 300)}`);
    } else if (r < 0.92) {
      conn.send(`TOUCH ${m.id}`);
      setTimeout(() => finish(m.id), rng.int(0, 300));
    }
    // else: never answered, the message times out.
  };

  conn.handlers = {
    message(m) {
      const key = keyOf(m.body);
      run.counts.delivered++;
      delivered?.add(key);
      inFlight.set(m.id, key);
      const r = rng.next();
      if (rng.chance(0.5)) act(m, r);
      else setTimeout(() => act(m, r), rng.int(0, 60));
    },
    response(text) {
      if (text === 'OK' && subscribed !== null) {
        subscribed();
        subscribed = null;
      } else if (text === 'CLOSE_WAIT' && clsSent) {
        closeWait?.();
      } else {
        run.problem(`${name}: unexpected response ${text}`);
      }
    },
    error(text) {
      const m = /^E_(FIN|REQ|TOUCH)_FAILED \w+ ([0-9a-f]{16}) failed/.exec(text);
      if (m === null) {
        run.problem(`${name}: unexpected error ${text}`);
        return;
      }
      if (m[1] === 'FIN' && fins !== null) {
        const key = finSent.get(m[2]!);
        if (key === undefined) run.problem(`${name}: FIN error for an id never FINed: ${text}`);
        else fins.set(key, fins.get(key)! - 1);
      }
    },
  };

  const subOk = new Promise<void>((r) => (subscribed = r));
  conn.send(`SUB ${o.topic} ${o.channel}`);
  // A deleted channel closes its consumers: then the session just ends.
  await Promise.race([subOk, conn.waitClosed(3000)]);
  if (conn.closed) return;
  conn.send(`RDY ${rng.int(1, 30)}`);

  const until = Date.now() + rng.int(300, 3000);
  while (!run.stopping && !conn.closed && Date.now() < until) {
    const r = rng.next();
    if (r < 0.3) {
      conn.send(`RDY ${rng.chance(0.2) ? 0 : rng.int(1, o.slow ? 200 : 40)}`);
    } else if (r < (o.slow ? 0.45 : 0.33)) {
      conn.send(`RDY ${rng.int(50, 200)}`);
      await conn.stall(rng.int(200, o.slow ? 3000 : 800), () => run.stopping);
    }
    await sleep(rng.int(20, 200));
  }
  if (conn.closed) return;
  const exit = rng.next();
  if (o.cls && exit < 0.5) {
    // CLS: the server stops sending; in-flight messages can still be FINed, then we leave.
    const cw = new Promise<void>((r) => (closeWait = r));
    clsSent = true;
    conn.send('CLS');
    await Promise.race([cw, conn.waitClosed(2000)]);
    for (const id of [...inFlight.keys()]) if (rng.chance(0.8)) finish(id);
    await sleep(rng.int(0, 200));
    conn.destroy();
  } else if (exit < 0.75) {
    conn.destroy(); // abrupt: messages stay in flight until they time out
  } else {
    for (const id of [...inFlight.keys()]) if (rng.chance(0.5)) finish(id);
    conn.sock.end(); // half-close: the server answers what it read, then closes
    if (!(await conn.waitClosed(2000))) conn.destroy();
  }
}

// ---- admin chaos --------------------------------------------------------------------------

async function admin(run: Run, rng: Prng): Promise<void> {
  const actions: Array<() => Promise<unknown>> = [
    () => run.http('POST', `/channel/pause?topic=${TOPIC}&channel=c3`, [200, 404]),
    () => run.http('POST', `/channel/unpause?topic=${TOPIC}&channel=c3`, [200, 404]),
    () => run.http('POST', `/channel/empty?topic=${TOPIC}&channel=c3`, [200, 404]),
    () => run.http('POST', `/channel/delete?topic=${TOPIC}&channel=c3`, [200, 404]),
    () => run.http('POST', `/channel/create?topic=${TOPIC}&channel=c3`),
    async () => {
      // A short pause of the main topic: its backlog must reach the channels afterwards.
      run.pausedTopics.add(TOPIC);
      await run.http('POST', `/topic/pause?topic=${TOPIC}`);
      await sleep(rng.int(20, 400));
      await run.http('POST', `/topic/unpause?topic=${TOPIC}`);
      run.pausedTopics.delete(TOPIC);
    },
    () => run.http('POST', `/topic/pause?topic=${ADMIN_TOPIC}`, [200, 404]),
    () => run.http('POST', `/topic/unpause?topic=${ADMIN_TOPIC}`, [200, 404]),
    () => run.http('POST', `/topic/empty?topic=${ADMIN_TOPIC}`, [200, 404]),
    () => run.http('POST', `/topic/delete?topic=${ADMIN_TOPIC}`, [200, 404]),
    () => run.http('POST', `/topic/create?topic=${ADMIN_TOPIC}`),
    () => run.http('POST', `/channel/create?topic=${ADMIN_TOPIC}&channel=a${rng.int(1, 3)}`, [200, 404]),
    () => run.http('POST', `/channel/delete?topic=${ADMIN_TOPIC}&channel=a${rng.int(1, 3)}`, [200, 404]),
    () => run.http('POST', `/channel/empty?topic=${ADMIN_TOPIC}&channel=a${rng.int(1, 3)}`, [200, 404]),
    () => run.http('POST', `/channel/pause?topic=${ADMIN_TOPIC}&channel=a${rng.int(1, 3)}`, [200, 404]),
    () => run.http('POST', `/channel/unpause?topic=${ADMIN_TOPIC}&channel=a${rng.int(1, 3)}`, [200, 404]),
    () => run.http('POST', `/mpub?topic=${ADMIN_TOPIC}`, [200], Array.from({ length: rng.int(1, 80) }, (_, i) => `adm${i}`).join('\n')),
    () => run.http('POST', `/pub?topic=${ADMIN_TOPIC}&defer=${rng.int(0, 300)}`, [200], 'deferred'),
    () => run.http('GET', '/stats'),
    () => run.http('GET', '/stats?format=json&include_mem=true'),
    () => run.http('GET', `/stats?format=json&topic=${TOPIC}&channel=c1`),
    () => run.http('GET', '/metrics'),
  ];
  while (!run.stopping) {
    await rng.pick(actions)();
    run.counts.admin++;
    await sleep(rng.int(5, 60));
  }
}

/** Invariants that hold at every instant, checked while the chaos runs. */
function checkStatsShape(s: NsqdStats, where: string): string[] {
  const out: string[] = [];
  const neg = (v: unknown, what: string) => {
    if (typeof v === 'number' && v < 0) out.push(`${where}: negative ${what} ${v}`);
  };
  for (const t of s.topics ?? []) {
    for (const k of ['depth', 'backend_depth', 'message_count', 'message_bytes'] as const) neg(t[k], `${t.topic_name}.${k}`);
    for (const ch of t.channels) {
      const name = `${t.topic_name}:${ch.channel_name}`;
      for (const k of ['depth', 'backend_depth', 'in_flight_count', 'deferred_count', 'message_count', 'requeue_count', 'timeout_count', 'client_count'] as const) {
        neg(ch[k], `${name}.${k}`);
      }
      let sum = 0;
      for (const c of ch.clients ?? []) {
        for (const k of ['ready_count', 'in_flight_count', 'message_count', 'finish_count', 'requeue_count'] as const) neg(c[k], `${name} client ${k}`);
        sum += c.in_flight_count;
      }
      // Every message a client counts as in flight is in the channel's in-flight set; the channel
      // may hold more (messages of consumers that left, until they time out).
      if (ch.in_flight_count < sum) out.push(`${where}: ${name} in_flight_count ${ch.in_flight_count} < clients' sum ${sum}`);
      if (ch.client_count !== (ch.clients?.length ?? ch.client_count)) out.push(`${where}: ${name} client_count mismatch`);
    }
  }
  return out;
}

async function statsWatcher(run: Run, rng: Prng): Promise<void> {
  while (!run.stopping) {
    if (run.d.proc.exitCode !== null || run.d.proc.signalCode !== null) {
      run.problem(`nsqd died: ${run.d.proc.exitCode ?? run.d.proc.signalCode}`);
      return;
    }
    const ping = await fetch(run.url('/ping'));
    const text = await ping.text();
    if (ping.status !== 200 || text !== 'OK') run.problem(`/ping -> ${ping.status} ${text}`);
    for (const p of checkStatsShape(await nsqdStats(run.d.httpPort), 'during chaos')) run.problem(p);
    run.counts.stats++;
    await sleep(rng.int(50, 250));
  }
}

// ---- hostile clients ----------------------------------------------------------------------

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Runs one attack on a raw socket: write, maybe read a bit, then close; bounded in time. */
async function attack(port: number, rng: Prng, steps: (s: net.Socket, w: (b: Buffer | string) => void) => Promise<void>): Promise<void> {
  const s = await rawConnect(port);
  s.on('error', () => {});
  s.on('data', () => {});
  const w = (b: Buffer | string) => {
    if (!s.destroyed && s.writable) s.write(b);
  };
  try {
    await steps(s, w);
    await sleep(rng.int(0, 150));
  } finally {
    if (rng.chance(0.2)) s.resetAndDestroy();
    else s.destroy();
  }
}

const int32 = (n: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
};

async function hostile(run: Run, rng: Prng): Promise<void> {
  const port = run.d.tcpPort;
  const magic = '  V2';
  const fakeId = () => rng.bytes(8).toString('hex');
  const attacks: Array<() => Promise<void>> = [
    // random bytes, with and without the magic
    () => attack(port, rng, async (_s, w) => w(rng.bytes(rng.int(1, 3000)))),
    () => attack(port, rng, async (_s, w) => w(Buffer.concat([Buffer.from(magic), rng.bytes(rng.int(1, 3000))]))),
    // wrong magic
    () => attack(port, rng, async (_s, w) => w(rng.pick(['  V1', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\0\0\0\0', '  V3PUB x\n']))),
    // truncated frames, then half-close or vanish
    () =>
      attack(port, rng, async (s, w) => {
        const full = rng.pick([
          commandBytes(`PUB ${HOSTILE_TOPIC}`, rng.bytes(200)),
          commandBytes(`MPUB ${HOSTILE_TOPIC}`, mpubPayload([rng.bytes(50), rng.bytes(60)])),
          commandBytes(`DPUB ${HOSTILE_TOPIC} 100`, rng.bytes(100)),
          commandBytes('IDENTIFY', '{"client_id":"x","feature_negotiation":true}'),
        ]);
        w(magic);
        w(full.subarray(0, rng.int(1, full.length - 1)));
        if (rng.chance(0.5)) s.end();
        await sleep(rng.int(0, 200));
      }),
    // oversized bodies and counts
    () =>
      attack(port, rng, async (_s, w) => {
        w(magic);
        w(
          rng.pick([
            Buffer.concat([Buffer.from(`PUB ${HOSTILE_TOPIC}\n`), int32(2_000_000), rng.bytes(100)]),
            Buffer.concat([Buffer.from(`MPUB ${HOSTILE_TOPIC}\n`), int32(100), int32(1_000_000_000)]),
            Buffer.concat([Buffer.from(`MPUB ${HOSTILE_TOPIC}\n`), int32(12), int32(1), int32(-5), int32(1)]),
            Buffer.concat([Buffer.from(`MPUB ${HOSTILE_TOPIC}\n`), int32(30), int32(2), int32(2_000_000)]),
            Buffer.concat([Buffer.from('IDENTIFY\n'), int32(0x7fffffff)]),
            Buffer.concat([Buffer.from(`PUB ${HOSTILE_TOPIC}\n`), int32(-1)]),
            Buffer.concat([Buffer.from('AUTH\n'), int32(10), Buffer.from('0123456789')]),
          ]),
        );
        await sleep(rng.int(0, 100));
      }),
    // commands in the wrong state / with bad arguments
    () =>
      attack(port, rng, async (_s, w) => {
        w(magic);
        const cmds = [
          `FIN ${fakeId()}\n`,
          'RDY 10\n',
          `REQ ${fakeId()} 0\n`,
          'CLS\n',
          `TOUCH ${fakeId()}\n`,
          'NOP\n',
          'SUB\n',
          `SUB ${TOPIC} bad/channel\n`,
          `SUB ${TOPIC} c1\nSUB ${TOPIC} c2\n`,
          `SUB ${TOPIC} c1\nIDENTIFY\n`,
          `SUB ${TOPIC} c1\nRDY -1\n`,
          `SUB ${TOPIC} c1\nRDY 99999999999999999999999\n`,
          `SUB ${TOPIC} c1\nREQ ${fakeId()} 99999999999999999999\n`,
          `SUB ${TOPIC} c1\nFIN short\n`,
          `SUB ${TOPIC} c1\nCLS\nCLS\nRDY 5\n`,
          `DPUB ${HOSTILE_TOPIC} -5\n`,
          `DPUB ${HOSTILE_TOPIC} 999999999999\n`,
          'PUB bad!topic\n',
          'constructor\n',
          '__proto__ x\n',
          '\n\n\r\n',
        ];
        for (let i = rng.int(1, 4); i > 0; i--) w(rng.pick(cmds));
        await sleep(rng.int(0, 200));
      }),
    // huge lines
    () =>
      attack(port, rng, async (_s, w) => {
        w(magic);
        w(rng.chance(0.5) ? 'P'.repeat(20000) : `PUB ${'t'.repeat(17000)}\n`);
        await sleep(rng.int(0, 100));
      }),
    // complete publish then half-close: the answer must still come
    () =>
      attack(port, rng, async (s, w) => {
        w(magic);
        w(commandBytes(`PUB ${HOSTILE_TOPIC}`, 'half-closed'));
        w(`NOP\nFIN ${fakeId()}\n`);
        s.end();
        await new Promise<void>((r) => {
          s.once('close', () => r());
          setTimeout(r, 1000);
        });
      }),
    // bad IDENTIFY bodies
    () =>
      attack(port, rng, async (_s, w) => {
        w(magic);
        w(
          commandBytes(
            'IDENTIFY',
            rng.pick([
              '{',
              'null',
              '[]',
              '{"heartbeat_interval":-5}',
              '{"output_buffer_size":999999999999}',
              '{"msg_timeout":1}',
              '{"deflate":true,"snappy":true,"feature_negotiation":true}',
              '{"deflate_level":99,"deflate":true,"feature_negotiation":true}',
              '{"sample_rate":101}',
              '{"client_id":"\u0000\uffff"}',
              rng.bytes(100).toString('latin1'),
            ]),
          ),
        );
        await sleep(rng.int(0, 100));
      }),
    // garbage after a compression upgrade
    () =>
      attack(port, rng, async (_s, w) => {
        w(magic);
        const kind = rng.pick(['snappy', 'deflate']);
        w(commandBytes('IDENTIFY', `{"feature_negotiation":true,"${kind}":true}`));
        await sleep(rng.int(0, 50));
        w(rng.chance(0.5) ? rng.bytes(rng.int(1, 500)) : `SUB ${TOPIC} c1\nRDY 5\n`);
        await sleep(rng.int(0, 100));
      }),
    // slowloris: a publish one byte at a time
    () =>
      attack(port, rng, async (_s, w) => {
        const bytes = Buffer.concat([Buffer.from(magic), commandBytes(`PUB ${HOSTILE_TOPIC}`, 'slow')]);
        const n = rng.int(1, bytes.length);
        for (let i = 0; i < n; i++) {
          w(bytes.subarray(i, i + 1));
          await sleep(rng.int(0, 30));
        }
      }),
    // a consumer of a tracked channel that takes messages and vanishes (they must time out)
    () =>
      attack(port, rng, async (s, w) => {
        w(magic);
        w(`SUB ${TOPIC} ${rng.pick(TRACKED)}\nRDY ${rng.int(1, 100)}\n`);
        if (rng.chance(0.5)) s.pause();
        await sleep(rng.int(50, 600));
        if (rng.chance(0.5)) w(`FIN ${fakeId()}\nREQ ${fakeId()} 10\nTOUCH ${fakeId()}\n`);
      }),
    // a flood of pipelined commands, then an immediate reset
    () =>
      attack(port, rng, async (_s, w) => {
        w(magic);
        const parts: Buffer[] = [];
        for (let i = 0; i < 200; i++) parts.push(commandBytes(`PUB ${HOSTILE_TOPIC}`, `f${i}`), Buffer.from('NOP\n'));
        w(Buffer.concat(parts));
      }),
    // connect and reset at once
    () => attack(port, rng, async () => {}),
    // HTTP: garbage, truncated bodies, bad bodies and arguments
    () => attack(run.d.httpPort, rng, async (_s, w) => w(rng.bytes(rng.int(1, 2000)))),
    () =>
      attack(run.d.httpPort, rng, async (s, w) => {
        w(`POST /${rng.pick(['pub', 'mpub', 'mpub?binary=true&x='])}?topic=${HOSTILE_TOPIC} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
        w(rng.bytes(rng.int(0, 5000)));
        if (rng.chance(0.5)) s.end();
        await sleep(rng.int(0, 100));
      }),
    () =>
      attack(run.d.httpPort, rng, async (_s, w) => {
        w(`POST /pub?topic=${HOSTILE_TOPIC} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${rng.pick(['zz\r\n', 'ffffffffff\r\nabc', '5\r\nab'])}`);
        await sleep(rng.int(0, 100));
      }),
    async () => {
      const body = rng.bytes(rng.int(0, 3000));
      const path = rng.pick([
        `/mpub?topic=${HOSTILE_TOPIC}&binary=true`,
        `/mpub?topic=${HOSTILE_TOPIC}`,
        `/pub?topic=${HOSTILE_TOPIC}&defer=${rng.pick(['-1', 'x', '99999999999999999999', '10'])}`,
        `/pub?topic=${encodeURIComponent(rng.bytes(8).toString('latin1'))}`,
        `/channel/create?topic=${HOSTILE_TOPIC}&channel=${encodeURIComponent(rng.bytes(6).toString('latin1'))}`,
        `/topic/create?topic=${'x'.repeat(rng.int(60, 70))}`,
        `/stats?format=json&topic=${encodeURIComponent(rng.bytes(4).toString('latin1'))}&channel=%ff`,
        `/config/${rng.pick(['log_level', 'nsqlookupd_tcp_addresses', 'nope'])}`,
      ]);
      const method = rng.pick(['POST', 'PUT', 'GET', 'DELETE']);
      const res = await fetch(run.url(path), { method, body: method === 'GET' || rng.chance(0.2) ? undefined : body });
      await res.arrayBuffer();
      if (res.status >= 500) run.problem(`hostile http ${path} -> ${res.status}`);
    },
  ];
  while (!run.stopping) {
    await rng.pick(attacks)();
    run.counts.hostile++;
    await sleep(rng.int(0, 20));
  }
}

// ---- the run ------------------------------------------------------------------------------

/** A well-behaved consumer that FINs everything it gets; resolves once `done()` says so. */
async function drainChannel(run: Run, channel: string, done: () => Promise<boolean>): Promise<void> {
  const conn = await StressConn.open(run.d.tcpPort);
  const delivered = run.delivered.get(channel)!;
  const fins = run.fins.get(channel)!;
  let last = Date.now();
  conn.handlers = {
    message(m) {
      const key = keyOf(m.body);
      delivered.add(key);
      fins.set(key, (fins.get(key) ?? 0) + 1);
      last = Date.now();
      conn.send(`FIN ${m.id}`);
    },
    response(text) {
      if (text !== 'OK') run.problem(`drain ${channel}: response ${text}`);
    },
    error(text) {
      run.problem(`drain ${channel}: error ${text}`);
    },
  };
  conn.send(`SUB ${TOPIC} ${channel}`);
  conn.send('RDY 500');
  const deadline = Date.now() + 8000;
  for (;;) {
    await sleep(100);
    if (Date.now() - last > 300 && (await done())) break;
    if (Date.now() > deadline) {
      run.problem(`drain ${channel}: did not finish`);
      break;
    }
  }
  conn.destroy();
  await conn.waitClosed(1000);
}

interface ScenarioOptions {
  args: string[];
  chaosMs: number;
  producers: number;
  consumersPerChannel: number;
  /** Stop nsqd with SIGTERM in the middle of the chaos, start it again on its data, then drain. */
  restart?: boolean;
}

function spawnActors(run: Run, rng: Prng, o: ScenarioOptions): void {
  for (let i = 0; i < o.producers; i++) run.spawn(`tcp producer ${i}`, () => tcpProducer(run, rng.fork(), i));
  run.spawn('http producer', () => httpProducer(run, rng.fork(), 0));
  for (const channel of TRACKED) {
    for (let i = 0; i < o.consumersPerChannel; i++) {
      const cname = `${channel}#${i}`;
      const opts = { topic: TOPIC, channel, tracked: true, cls: i === 0, slow: i === 1 };
      run.spawn(cname, () => consumer(run, rng.fork(), cname, opts));
    }
  }
  for (let i = 0; i < 2; i++) {
    const opts = { topic: TOPIC, channel: EPHEMERAL, tracked: false, cls: i === 0, slow: i === 1 };
    run.spawn(`ephemeral#${i}`, () => consumer(run, rng.fork(), `ephemeral#${i}`, opts));
  }
  run.spawn('c3 consumer', () => consumer(run, rng.fork(), 'c3', { topic: TOPIC, channel: 'c3', tracked: false, cls: true, slow: false }));
  run.spawn('admin consumer', () => consumer(run, rng.fork(), 'a1', { topic: ADMIN_TOPIC, channel: 'a1', tracked: false, cls: false, slow: false }));
  // An ephemeral topic: it disappears with its last channel, while publishers recreate it.
  const ephTopic = 'chaos_eph#ephemeral';
  for (let i = 0; i < 2; i++) {
    const opts = { topic: ephTopic, channel: `e${i}#ephemeral`, tracked: false, cls: false, slow: false };
    run.spawn(`ephemeral topic consumer ${i}`, () => consumer(run, rng.fork(), `eph${i}`, opts));
  }
  run.spawn('ephemeral topic producer', async () => {
    const prng = rng.fork();
    while (!run.stopping) {
      await run.http('POST', `/mpub?topic=${encodeURIComponent(ephTopic)}`, [200], Array.from({ length: prng.int(1, 100) }, (_, i) => `e${i}`).join('\n'));
      await sleep(prng.int(0, 50));
    }
  });
  run.spawn('admin', () => admin(run, rng.fork()));
  run.spawn('hostile 0', () => hostile(run, rng.fork()));
  run.spawn('hostile 1', () => hostile(run, rng.fork()));
  run.spawn('stats', () => statsWatcher(run, rng.fork()));
}

const isTracked = (name: string) => (TRACKED as readonly string[]).includes(name);

async function topicStatsOf(d: Daemon) {
  const s = await nsqdStats(d.httpPort);
  const t = s.topics?.find((x) => x.topic_name === TOPIC);
  assert.ok(t, `topic ${TOPIC} missing from /stats`);
  return { s, t, tracked: t.channels.filter((c) => isTracked(c.channel_name)) };
}

async function scenario(name: string, o: ScenarioOptions): Promise<void> {
  const seed = stressSeed();
  const args = ['--msg-timeout=2s', ...o.args];
  const first = await startNsqd(args);
  let d = first;
  const run = new Run(d, seed);
  const rng = new Prng(seed);
  const started = Date.now();
  const logs = () => (d === first ? first.logs() : `${first.logs()}\n--- restart ---\n${d.logs()}`);
  try {
    await run.http('POST', `/topic/create?topic=${TOPIC}`);
    for (const ch of [...TRACKED, 'c3']) await run.http('POST', `/channel/create?topic=${TOPIC}&channel=${ch}`);
    await run.http('POST', `/topic/create?topic=${ADMIN_TOPIC}`);
    spawnActors(run, rng, o);
    await sleep(o.chaosMs);
    const phases: string[] = [];
    let phaseStart = Date.now();
    const phase = (what: string) => {
      phases.push(`${what}=${Date.now() - phaseStart}`);
      phaseStart = Date.now();
    };

    if (o.restart) {
      // Graceful shutdown while everything is running: acknowledged messages (memory, disk,
      // in flight, deferred) must all be there after the restart.
      run.shuttingDown = true;
      run.stopping = true;
      const code = await first.stop();
      phase('sigterm');
      await run.stop();
      assert.equal(code, 0, 'nsqd exit code after SIGTERM under load');
      assert.deepEqual(bugLines(first.logs()), []);
      d = await startNsqd(args, first.dataPath);
      run.d = d;
      run.shuttingDown = false;
      // A pause cut short by the shutdown was persisted: undo it.
      for (const t of run.pausedTopics) await run.http('POST', `/topic/unpause?topic=${t}`);
      run.pausedTopics.clear();
    } else {
      await run.stop();
    }
    phase('stop');
    assert.equal(run.pausedTopics.size, 0);
    assert.equal(d.proc.exitCode, null, 'nsqd died during the chaos');

    // Quiescence: every consumer is gone; in-flight messages of vanished consumers time out
    // (msg-timeout at most 2 s) and deferred ones come due.
    const chaosEnd = Date.now();
    for (;;) {
      const { tracked } = await topicStatsOf(d);
      if (tracked.every((c) => c.in_flight_count === 0 && c.deferred_count === 0 && c.client_count === 0)) break;
      if (Date.now() - chaosEnd > 6000) break;
      await sleep(100);
    }
    phase('quiet');
    let { s, t, tracked } = await topicStatsOf(d);
    for (const p of checkStatsShape(s, 'after chaos')) run.problem(p);
    assert.equal(tracked.length, TRACKED.length, 'tracked channels exist');
    for (const c of tracked) {
      assert.equal(c.in_flight_count, 0, `${c.channel_name}: in flight after every consumer left and timeouts passed`);
      assert.equal(c.deferred_count, 0, `${c.channel_name}: deferred left`);
    }

    // Holders: consumers that take a few messages and keep them; the channel's in-flight count
    // must then be exactly what they hold. They FIN them afterwards.
    const holders: Array<{ conn: StressConn; ids: string[]; channel: string }> = [];
    for (const channel of TRACKED) {
      for (let i = 0; i < 2; i++) {
        const conn = await StressConn.open(d.tcpPort, i === 0 ? 'plain' : 'snappy');
        const h = { conn, ids: [] as string[], channel };
        conn.handlers = {
          message: (m) => {
            h.ids.push(m.id);
            const key = keyOf(m.body);
            run.delivered.get(channel)!.add(key);
            const fins = run.fins.get(channel)!;
            fins.set(key, (fins.get(key) ?? 0) + 1);
          },
          error: (text) => run.problem(`holder: ${text}`),
        };
        conn.send(`SUB ${TOPIC} ${channel}`);
        conn.send(`RDY ${3 + i}`);
        holders.push(h);
      }
    }
    await sleep(300);
    ({ s, t, tracked } = await topicStatsOf(d));
    for (const c of tracked) {
      const sumClients = (c.clients ?? []).reduce((a, x) => a + x.in_flight_count, 0);
      const held = holders.filter((h) => h.channel === c.channel_name).reduce((a, h) => a + h.ids.length, 0);
      assert.equal(c.in_flight_count, sumClients, `${c.channel_name}: channel in_flight_count != sum of its clients'`);
      assert.equal(c.in_flight_count, held, `${c.channel_name}: in_flight_count != messages the holders received`);
    }
    for (const h of holders) {
      // RDY 0 first: a FIN frees a slot the server would fill again at once.
      h.conn.send('RDY 0');
      for (const id of h.ids) h.conn.send(`FIN ${id}`);
    }
    await sleep(100);
    for (const h of holders) h.conn.destroy();

    // Drain with well-behaved consumers.
    const drained = async () => {
      const x = await topicStatsOf(d);
      return x.t.depth === 0 && x.tracked.every((c) => c.depth === 0 && c.backend_depth === 0 && c.in_flight_count === 0 && c.deferred_count === 0);
    };
    phase('hold');
    await Promise.all(TRACKED.map((ch) => drainChannel(run, ch, drained)));
    phase('drain');

    ({ s, t, tracked } = await topicStatsOf(d));
    for (const p of checkStatsShape(s, 'after drain')) run.problem(p);
    assert.equal(t.depth, 0, 'topic depth after drain');
    // Counters restart with the process.
    if (!o.restart) assert.ok(t.message_count >= run.published.size, `topic message_count ${t.message_count} < published ${run.published.size}`);
    for (const c of tracked) {
      const channel = c.channel_name;
      const delivered = run.delivered.get(channel)!;
      const fins = run.fins.get(channel)!;
      assert.equal(c.depth, 0, `${channel}: depth after drain`);
      assert.equal(c.backend_depth, 0, `${channel}: backend_depth after drain`);
      assert.equal(c.in_flight_count, 0, `${channel}: in_flight_count after drain`);
      assert.equal(c.deferred_count, 0, `${channel}: deferred_count after drain`);
      if (!o.restart) assert.ok(c.message_count >= delivered.size, `${channel}: message_count ${c.message_count} < distinct delivered ${delivered.size}`);
      const lost = [...run.published].filter((k) => !delivered.has(k));
      assert.deepEqual(lost.slice(0, 20), [], `${channel}: ${lost.length} acknowledged messages never delivered`);
      const unfinished = [...run.published].filter((k) => !((fins.get(k) ?? 0) > 0));
      assert.deepEqual(unfinished.slice(0, 20), [], `${channel}: ${unfinished.length} acknowledged messages never FINed`);
    }

    const ping = await fetch(run.url('/ping'));
    assert.equal(ping.status, 200);
    assert.equal(await ping.text(), 'OK');
    assert.deepEqual(run.problems, []);
    assert.deepEqual(bugLines(logs()), []);
    assert.ok(run.published.size > 0 && run.counts.delivered > 0 && run.counts.hostile > 0, 'the chaos did something');
    const code = await d.stop();
    assert.equal(code, 0, 'nsqd exit code');
    assert.deepEqual(bugLines(logs()), []);
    // Visible with --test-reporter=spec: what this seed did.
    console.log(
      `# stress ${name}: seed=${seed} ${Date.now() - started} ms published=${run.published.size} ` +
        `delivered=${run.counts.delivered} sessions=${run.counts.sessions} hostile=${run.counts.hostile} admin=${run.counts.admin} stats=${run.counts.stats} ${phases.join(' ')}`,
    );
  } catch (err) {
    run.stopping = true;
    const tail = logs().split('\n').filter((l) => !l.includes(' INFO: ')).slice(-30).join('\n');
    throw new Error(
      `[stress ${name} seed=${seed} (replay: STRESS_SEED=${seed})] ${(err as Error).message}\n` +
        `problems: ${JSON.stringify(run.problems.slice(0, 10), null, 1)}\nnsqd log tail:\n${tail}`,
      { cause: err },
    );
  } finally {
    run.shuttingDown = true;
    await run.stop();
    await first.kill();
    await d.kill();
    const dump = process.env['STRESS_LOG_DIR'];
    if (dump) fs.writeFileSync(`${dump}/nsqd-${name}-${seed}.log`, logs());
  }
}

const chaosMs = Number(process.env['STRESS_MS'] ?? 0);

// The three scenarios run side by side (each with its own nsqd): the waits for message timeouts
// overlap, which keeps the whole file well under 25 s.
describe('chaos', { concurrency: 3 }, () => {
  it('memory queue with disk spill (--mem-queue-size=50)', { timeout: 60000 }, async () => {
    await scenario('mem50', { args: ['--mem-queue-size=50', '--max-bytes-per-file=262144'], chaosMs: chaosMs || 8000, producers: 3, consumersPerChannel: 3 });
  });

  it('disk only (--mem-queue-size=0)', { timeout: 60000 }, async () => {
    await scenario('mem0', { args: ['--mem-queue-size=0', '--max-bytes-per-file=65536'], chaosMs: chaosMs || 6000, producers: 2, consumersPerChannel: 2 });
  });

  it('SIGTERM under load, restart, nothing acknowledged is lost', { timeout: 60000 }, async () => {
    await scenario('restart', { args: ['--mem-queue-size=50', '--max-bytes-per-file=262144'], chaosMs: chaosMs || 6000, producers: 2, consumersPerChannel: 2, restart: true });
  });
});
