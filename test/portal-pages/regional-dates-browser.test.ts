/**
 * Dates on the portal's pages follow the region the browser asks for in the page's language, in
 * headless Chromium: an `en-GB` browser reads `6 Dec 2026`, an `en-US` one `Dec 6, 2026`; a
 * customer who reads English on a browser whose first language is another (Swiss Italian) gets the
 * English region it names further down (`en-GB`), else English's default. Screenshots go to
 * `test-artifacts/regional-dates/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { signedInPage, visitsModule } from './portal-pages-kit.js';

describe('portal pages in a browser: dates in the region the browser asks for', function () {
  this.timeout(180_000);
  let test: TestHost;
  let browser: Browser;
  let visitId: number;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost({ demo: true, logLevel: 'error', timeZone: 'Europe/Rome' });
    const janeId = await visitsModule(test);
    visitId = (await test.host.api.records.create('Visits', { values: { visit_no: 'V-regional', visited_at: '2026-12-06T10:00:00.000Z', visit_day: '2026-12-06', contact_id: janeId } })).id;
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  /** The visit's day in Jane's list and its date-time on its page, as a browser of `acceptLanguage` reads them. */
  async function datesSeenWith(acceptLanguage: string, shot: string): Promise<{ listDay: string; pageDay: string; pageTime: string }> {
    const context = await browser.newContext({ extraHTTPHeaders: { 'accept-language': acceptLanguage }, viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await signedInPage(page, test.url);
      await page.goto(`${test.url}/portal/m/Visits`);
      const row = page.locator('tbody tr', { hasText: 'V-regional' });
      const listDay = (await row.locator('td').nth(2).textContent())!.trim();
      await page.screenshot({ path: join(artifactsDir('regional-dates'), `${shot}-list.png`), fullPage: true });
      await page.goto(`${test.url}/portal/m/Visits/${visitId}`);
      const text = async (field: string) => (await page.locator(`[data-field="${field}"] dd`).textContent())!.replace(/\s/g, ' ').trim();
      const seen = { listDay, pageDay: await text('visit_day'), pageTime: await text('visited_at') };
      await page.screenshot({ path: join(artifactsDir('regional-dates'), `${shot}-record.png`), fullPage: true });
      return seen;
    } finally {
      await context.close();
    }
  }

  it('writes dates as the British do for an en-GB browser', async () => {
    expect(await datesSeenWith('en-GB,en;q=0.9', 'en-GB')).to.deep.equal({ listDay: '6 Dec 2026', pageDay: '6 Dec 2026', pageTime: '6 Dec 2026, 11:00' });
  });

  it('writes dates as Americans do for an en-US browser', async () => {
    expect(await datesSeenWith('en-US,en;q=0.9', 'en-US')).to.deep.equal({ listDay: 'Dec 6, 2026', pageDay: 'Dec 6, 2026', pageTime: 'Dec 6, 2026, 11:00 AM' });
  });

  it('takes the English region named after another language, for a customer who reads English', async () => {
    // Jane's language is English: her sign-in chooses it, whatever the browser's first language.
    expect(await datesSeenWith('it-CH,it;q=0.9,en-GB;q=0.8,en;q=0.7', 'it-CH-en-GB')).to.deep.equal({ listDay: '6 Dec 2026', pageDay: '6 Dec 2026', pageTime: '6 Dec 2026, 11:00' });
  });

  it('falls back to the language’s own dates when the browser names no region of it', async () => {
    expect(await datesSeenWith('it-CH,it;q=0.9', 'it-CH-only')).to.deep.equal({ listDay: 'Dec 6, 2026', pageDay: 'Dec 6, 2026', pageTime: 'Dec 6, 2026, 11:00 AM' });
  });
});
