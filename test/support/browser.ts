/**
 * What the browser suites share: Debian's Chromium (the suite is skipped when it is missing),
 * launched headless without background traffic, and the folder their screenshots go to.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** For a suite's `before` hook: skips the suite when there is no Chromium at `CHROMIUM`. */
export function skipWithoutChromium(context: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  console.log(`      (skipped: no Chromium at ${CHROMIUM})`);
  context.skip();
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** `test-artifacts/<parts…>` under the working folder, created when missing. */
export function artifactsDir(...parts: string[]): string {
  const dir = join(process.cwd(), 'test-artifacts', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
