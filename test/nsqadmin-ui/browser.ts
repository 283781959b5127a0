import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core: no browser download at install time (.ci/run
 * installs the `chromium` package). Each launch gets a fresh profile directory, removed on close.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or false when they can. */
export function browserMissing(): string | false {
  return fs.existsSync(CHROMIUM_PATH) ? false : `${CHROMIUM_PATH} not found (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** A headless browser context and how to get rid of it. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(extraHTTPHeaders?: Record<string, string>): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnsq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    extraHTTPHeaders,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go: $NSQADMIN_UI_SCREENSHOTS, else test-output/nsqadmin-ui (ignored by git). */
export function screenshotDir(): string {
  const dir = process.env.NSQADMIN_UI_SCREENSHOTS ?? path.resolve('test-output', 'nsqadmin-ui');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
