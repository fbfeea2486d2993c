/**
 * A list searched by a datetime column at a date and time (`f_visited_at=2026-10-25T02:30`, a link
 * or a typed address: the README's "a datetime column also by a date and time as the list shows
 * it"), in headless Chromium: the column's box shows that search and keeps it when the customer
 * searches again by another column; a day the list cannot read stays in its box too. A
 * `type="date"` box holds a day only: the browser emptied it, and the next search of the list
 * dropped the search silently.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { signedInPage, visitsModule } from './portal-pages-kit.js';

describe('portal lists in a browser: a datetime column searched at a date and time', function () {
  this.timeout(180_000);
  let test: TestHost;
  let browser: Browser;
  let page: Page;
  let janeId: number;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost({ demo: true, logLevel: 'error', timeZone: 'Europe/Rome' });
    janeId = await visitsModule(test);
    browser = await sharedChromium();
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Asia/Tokyo' });
    page = await context.newPage();
    await signedInPage(page, test.url);
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  const visit = async (visitNo: string, visitedAt: string) => (await test.host.api.records.create('Visits', { values: { visit_no: visitNo, visited_at: visitedAt, contact_id: janeId } })).id;
  const rowLabels = async () => (await page.locator('tbody .bp-row-link').allTextContents()).map((text) => text.trim()).sort();

  it('shows the date and time searched in the column’s box, and keeps the search when another column is searched', async () => {
    // Both 02:30s of the night the clocks go back in Rome, and 03:30 of it.
    await visit('V-first', '2026-10-25T00:30:00.000Z');
    await visit('V-second', '2026-10-25T01:30:00.000Z');
    await visit('W-later', '2026-10-25T02:30:00.000Z');
    await page.goto(`${test.url}/portal/m/Visits?f_visited_at=2026-10-25T02:30`);
    expect(await rowLabels()).to.deep.equal(['V-first', 'V-second']);
    expect(await page.locator('#bp-filter-visited_at').inputValue()).to.equal('2026-10-25T02:30');

    await page.fill('#bp-filter-visit_no', 'V-second');
    await Promise.all([page.waitForURL(/f_visit_no=V-second/), page.press('#bp-filter-visit_no', 'Enter')]);
    expect(new URL(page.url()).searchParams.get('f_visited_at')).to.equal('2026-10-25T02:30');
    expect(await rowLabels()).to.deep.equal(['V-second']);

    // A day searched stays a date box, with its calendar.
    await page.goto(`${test.url}/portal/m/Visits?f_visited_at=2026-10-25`);
    expect(await page.locator('#bp-filter-visited_at').getAttribute('type')).to.equal('date');
    expect(await page.locator('#bp-filter-visited_at').inputValue()).to.equal('2026-10-25');
    expect(await rowLabels()).to.deep.equal(['V-first', 'V-second', 'W-later']);

    // A day the list cannot read (typed as Italians write it) stays in its box, to be corrected there.
    await page.goto(`${test.url}/portal/m/Visits?f_visit_day=${encodeURIComponent('31/12/2026')}`);
    expect(await page.locator('#bp-list-problem').textContent()).to.include('“Visit day”');
    expect(await page.locator('#bp-filter-visit_day').inputValue()).to.equal('31/12/2026');
    expect(await page.locator('#bp-filter-visit_day').getAttribute('aria-invalid')).to.equal('true');
  });
});
