import { after, afterEach, before } from 'node:test';
import { startNsqd, type Daemon } from './daemons.js';
import { RawClient } from './raw-client.js';

/** The nsqd a whole test file shares, with per-test raw connections and unique names. */
export interface SharedNsqd {
  /** The running daemon; only valid once the `before` hook ran (inside tests and later hooks). */
  daemon(): Daemon;
  /** A raw V2 connection to the daemon (see RawClient.connect for `magic`), destroyed after the current test. */
  connect(magic?: boolean | string): Promise<RawClient>;
  /** A name unique within the test file: `${prefix}_${n}`, so tests never share a topic. */
  uniq(prefix: string): string;
}

/**
 * Registers the node:test hooks of a raw-socket test file on one nsqd: start it before the first
 * test (with `extraArgs`), destroy the connections each test opened with `connect` after it, and
 * stop it after the last. Call once, at the top level of the test file.
 */
export function sharedNsqd(extraArgs: string[] = []): SharedNsqd {
  let nsqd: Daemon | null = null;
  const clients: RawClient[] = [];
  let seq = 0;
  before(async () => {
    nsqd = await startNsqd(extraArgs);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(async () => {
    await nsqd?.stop();
  });
  const daemon = (): Daemon => {
    if (nsqd === null) throw new Error('nsqd is not started yet (use it inside tests)');
    return nsqd;
  };
  return {
    daemon,
    async connect(magic: boolean | string = true): Promise<RawClient> {
      const c = await RawClient.connect(daemon().tcpPort, magic);
      clients.push(c);
      return c;
    },
    uniq: (prefix) => `${prefix}_${++seq}`,
  };
}
