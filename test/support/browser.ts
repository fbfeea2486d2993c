/**
 * What the browser suites share: Debian's Chromium (the suite is skipped when it is missing),
 * launched headless without background traffic, and the folder their screenshots go to.
 *
 * Debian's `chromium-headless-shell` when installed, else `chromium`: the same engine (one source
 * package, one version), without the browser's window and tab strip. Headless, `chromium` still
 * builds them, a WebUI renderer of its own a window: the privileges page's suite took 188 s of CPU
 * with it and 95 s with the shell, the portal pages' 46 s and 34 s (one quiet 2-core machine,
 * 2026-12-07), and the browser suites were two fifths of the whole suite's time.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TEST_ADMIN_PASSWORD } from './host.js';

/** The Chromium the suites drive: the headless shell first (see above), else the browser. */
export const CHROMIUM = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((path) => existsSync(path)) ?? '/usr/bin/chromium';

/** For a suite's `before` hook: skips the suite when there is no Chromium at `CHROMIUM`. */
export function skipWithoutChromium(context: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  console.log(`      (skipped: no Chromium at /usr/bin/chromium-headless-shell or ${CHROMIUM})`);
  context.skip();
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

let shared: Promise<Browser> | undefined;

/**
 * The Chromium of this test process, launched by the first browser suite that asks and kept for
 * the next ones: npm test runs the files in two worker processes, and a launch and close cost
 * about 3 s of CPU per file. Suites share no state through it: each makes its own contexts (their
 * cookies, storage and cache are theirs) and ends with `releaseChromium`. One that crashed or was
 * closed is launched again. Playwright closes it when the process exits.
 */
export async function sharedChromium(): Promise<Browser> {
  shared ??= launchChromium().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  const browser = await shared;
  if (browser.isConnected()) return browser;
  shared = undefined;
  return sharedChromium();
}

/** For a suite's `after` hook: closes every context it left open on the shared Chromium (not the browser). */
export async function releaseChromium(browser: Browser | undefined): Promise<void> {
  if (!browser?.isConnected()) return;
  await Promise.all(browser.contexts().map((context) => context.close()));
}

/** `test-artifacts/<parts…>` under the working folder, created when missing. */
export function artifactsDir(...parts: string[]): string {
  const dir = join(process.cwd(), 'test-artifacts', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Opens a CRM page (`url`, absolute) as an anonymous visitor, signs in as the CRM's admin on the
 * login form the host sends it to, and waits to be back on the page.
 */
export async function signInToCrm(page: Page, url: string, password: string = TEST_ADMIN_PASSWORD): Promise<void> {
  await page.goto(url);
  await page.fill('#userName', 'admin');
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(url), page.click('form[action="/login"] button[type="submit"]')]);
}
