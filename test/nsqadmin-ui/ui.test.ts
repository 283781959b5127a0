import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startApp, startNsqd, startNsqlookupd, type Daemon } from '../helpers/daemons.js';
import { nsqjs, type NsqjsReader } from '../helpers/nsqjs.js';
import { browserMissing, launchBrowser, screenshotDir, type Browser } from './browser.js';

const TOPIC = 'ui_orders';
const CHANNEL = 'archive';
const WAIT = { timeout: 30_000 };

async function nsqdPost(nsqd: Daemon, pathAndQuery: string, body?: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${nsqd.httpPort}${pathAndQuery}`, { method: 'POST', body });
  assert.equal(res.status, 200, `${pathAndQuery}: ${await res.text()}`);
}

interface NsqdChannelStats {
  channel_name: string;
  paused: boolean;
}

async function nsqdChannel(nsqd: Daemon, topic: string, channel: string): Promise<NsqdChannelStats | undefined> {
  const res = await fetch(`http://127.0.0.1:${nsqd.httpPort}/stats?format=json&topic=${topic}&channel=${channel}`);
  const stats = (await res.json()) as { topics: Array<{ topic_name: string; channels: NsqdChannelStats[] }> };
  return stats.topics.find((t) => t.topic_name === topic)?.channels.find((c) => c.channel_name === channel);
}

/** Publishes a small batch every 100 ms until stopped, so rates and counters move. */
function startPublishing(nsqd: Daemon, topic: string): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      await nsqdPost(nsqd, `/mpub?topic=${topic}`, Array.from({ length: 20 }, (_, i) => `msg ${i}`).join('\n'));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** Polls a numeric data attribute of the first element with a test id until `ok` holds; returns it. */
async function waitForNumber(page: Page, testId: string, attr: string, ok: (n: number) => boolean): Promise<number> {
  const deadline = Date.now() + WAIT.timeout;
  let last = Number.NaN;
  while (Date.now() < deadline) {
    last = Number(await page.getByTestId(testId).first().getAttribute(attr, WAIT));
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${testId} ${attr} stayed at ${last}`);
}

const positive = (n: number) => n > 0;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir(), `${name}.png`), fullPage: true });
}

describe('nsqadmin UI in a real browser against a real cluster', { skip: browserMissing() }, () => {
  let lookupd: Daemon;
  let nsqd: Daemon;
  let admin: Daemon;
  let browser: Browser;
  let page: Page;
  let reader: NsqjsReader | undefined;
  let stopPublishing: (() => Promise<void>) | undefined;
  let base: string;

  before(async () => {
    lookupd = await startNsqlookupd();
    nsqd = await startNsqd([`--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`, '--e2e-processing-latency-percentile=0.5,0.99']);
    admin = await startApp('nsqadmin', ['--http-address=127.0.0.1:0', `--lookupd-http-address=127.0.0.1:${lookupd.httpPort}`, '--chart-sample-interval=500ms'], { wait: ['HTTP'] });
    base = `http://127.0.0.1:${admin.httpPort}`;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT.timeout);
  });

  after(async () => {
    await stopPublishing?.();
    reader?.close();
    await browser?.close();
    await admin?.stop();
    await nsqd?.stop();
    await lookupd?.stop();
  });

  it('lists a topic created through nsqd and shows its channel', async () => {
    await nsqdPost(nsqd, `/topic/create?topic=${TOPIC}`);
    await nsqdPost(nsqd, `/channel/create?topic=${TOPIC}&channel=${CHANNEL}`);
    await page.goto(`${base}/`);
    // nsqd registers with nsqlookupd asynchronously; the topics page polls until it shows up.
    await page.getByRole('link', { name: TOPIC, exact: true }).click();
    await page.waitForURL(`${base}/topics/${TOPIC}`);
    await page.getByTestId('topic-nodes').waitFor();
    await page.getByRole('link', { name: CHANNEL, exact: true }).click();
    await page.waitForURL(`${base}/topics/${TOPIC}/${CHANNEL}`);
    await page.getByTestId('channel-nodes').waitFor();
  });

  it('draws a moving rate chart and lists the consumer while messages flow', async () => {
    reader = new nsqjs.Reader(TOPIC, CHANNEL, { nsqdTCPAddresses: [`127.0.0.1:${nsqd.tcpPort}`], maxInFlight: 10 });
    reader.on('message', (m) => m.finish());
    reader.on('error', () => undefined);
    reader.connect();
    stopPublishing = startPublishing(nsqd, TOPIC);
    await waitForNumber(page, 'live-chart', 'data-rate', positive);
    const pointsBefore = await waitForNumber(page, 'live-chart', 'data-points', positive);
    await waitForNumber(page, 'live-chart', 'data-points', (n) => n > pointsBefore);
    await page.getByTestId('clients').getByText('nsqjs', { exact: false }).first().waitFor();
    await shot(page, 'channel');
  });

  it('pauses the channel through the confirmation dialog; nsqd reports it paused', async () => {
    await page.getByRole('button', { name: 'Pause Channel' }).click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /Pause channel "archive" of topic "ui_orders"/);
    await page.getByTestId('confirm').click();
    await page.getByRole('button', { name: 'UnPause Channel' }).waitFor();
    assert.equal((await nsqdChannel(nsqd, TOPIC, CHANNEL))?.paused, true);
    await page.getByTestId('paused-label').first().waitFor();
  });

  it('cancelling the dialog changes nothing', async () => {
    await page.getByRole('button', { name: 'UnPause Channel' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    assert.equal((await nsqdChannel(nsqd, TOPIC, CHANNEL))?.paused, true);
  });

  it('shows the topic page with its queue, channels and a live chart', async () => {
    await page.getByRole('link', { name: TOPIC, exact: true }).first().click();
    await page.getByTestId('topic-channels').waitFor();
    await waitForNumber(page, 'live-chart', 'data-rate', positive);
    await shot(page, 'topic');
  });

  it('counts processed messages live on the counter page', async () => {
    await page.getByRole('link', { name: 'Counter', exact: true }).click();
    const first = await waitForNumber(page, 'counter', 'data-total', positive);
    await waitForNumber(page, 'counter', 'data-total', (n) => n > first);
    await shot(page, 'counter');
  });

  it('shows the cluster chart on the topics page, and the nodes, node and lookup pages', async () => {
    await page.getByRole('link', { name: 'Streams', exact: true }).click();
    await waitForNumber(page, 'live-chart', 'data-rate', positive);
    await shot(page, 'topics');
    await page.getByRole('link', { name: 'Nodes', exact: true }).click();
    await page.getByTestId('nodes-table').getByRole('link', { name: TOPIC }).waitFor();
    await shot(page, 'nodes');
    await page.getByTestId('nodes-table').getByRole('link', { name: '127.0.0.1' }).click();
    await page.getByTestId('node-totals').waitFor();
    await page.getByRole('link', { name: CHANNEL, exact: true }).waitFor();
    await shot(page, 'node');
    await page.getByRole('link', { name: 'Lookup', exact: true }).click();
    await page.getByTestId('lookupd-hosts').getByText(`127.0.0.1:${lookupd.httpPort}`).waitFor();
    await shot(page, 'lookup');
  });

  it("shows the API's error message when an action fails", async () => {
    await page.getByPlaceholder('Topic').fill('bad topic!');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('confirm').click();
    await page.getByTestId('error').getByText('INVALID_TOPIC').waitFor();
  });

  it('creates a topic in nsqlookupd from the lookup page', async () => {
    await page.getByPlaceholder('Topic').fill('ui_created');
    await page.getByPlaceholder('Channel (optional)').fill('first');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('confirm').click();
    await page.getByTestId('inactive').getByRole('link', { name: 'ui_created' }).waitFor();
    const res = await fetch(`http://127.0.0.1:${lookupd.httpPort}/channels?topic=ui_created`);
    assert.deepEqual(((await res.json()) as { channels: string[] }).channels, ['first']);
  });
});

describe('nsqadmin UI admin gating, under a --base-path, with chart sampling off', { skip: browserMissing() }, () => {
  let nsqd: Daemon;
  let admin: Daemon;

  before(async () => {
    nsqd = await startNsqd();
    admin = await startApp('nsqadmin', ['--http-address=127.0.0.1:0', `--nsqd-http-address=127.0.0.1:${nsqd.httpPort}`, '--admin-user=alice', '--base-path=/admin', '--chart-sample-interval=0'], { wait: ['HTTP'] });
    await nsqdPost(nsqd, '/topic/create?topic=gated');
  });

  after(async () => {
    await admin?.stop();
    await nsqd?.stop();
  });

  for (const [who, headers, expectButtons] of [
    ['an anonymous user sees no admin actions', undefined, false],
    ['an admin user (X-Forwarded-User) sees them', { 'X-Forwarded-User': 'alice' }, true],
  ] as const) {
    it(who, async () => {
      const browser = await launchBrowser(headers);
      try {
        const page = await browser.context.newPage();
        await page.goto(`http://127.0.0.1:${admin.httpPort}/admin/topics/gated`, WAIT);
        await page.getByTestId('topic-nodes').waitFor(WAIT);
        // In-app links keep the base path.
        assert.equal(await page.getByRole('link', { name: 'Nodes', exact: true }).getAttribute('href'), '/admin/nodes');
        assert.equal(await page.getByRole('button', { name: 'Pause Topic' }).count(), expectButtons ? 1 : 0);
        assert.equal(await page.getByTestId('live-chart').count(), 0);
      } finally {
        await browser.close();
      }
    });
  }
});
