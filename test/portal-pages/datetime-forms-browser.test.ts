/**
 * A datetime on the portal's record forms in headless Chromium: the box holds the time the record
 * page shows (Rome), names the zone, what is typed is stored as that time in Rome, a form saved
 * unchanged keeps the instant to the millisecond, and the hour the clocks skip is refused by name.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { autofocused, seriousViolations } from '../support/page-checks.js';
import { signedInPage, visitsModule } from './portal-pages-kit.js';


describe('portal record forms in a browser: datetimes in the CRM’s time zone', function () {
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
    // The browser's own zone is neither Rome nor UTC: the box must not follow it.
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'America/New_York', bypassCSP: true });
    page = await context.newPage();
    await signedInPage(page, test.url);
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  const visit = async (visitedAt: string): Promise<number> =>
    (await test.host.api.records.create('Visits', { values: { visit_no: `V-${Math.random().toString(36).slice(2, 8)}`, visited_at: visitedAt, contact_id: janeId } })).id;
  const storedAt = async (id: number) => (await test.host.api.records.get('Visits', id))!.values.visited_at;

  async function save(id: number): Promise<void> {
    await Promise.all([page.waitForURL(new RegExp(`/portal/m/Visits/${id}\\?notice=saved`)), page.click('button[type="submit"]:has-text("Save")')]);
  }

  it('shows in the box the time of the record page, and stores what is typed as that time in Rome', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    await page.goto(`${test.url}/portal/m/Visits/${id}`);
    expect((await page.locator('[data-field="visited_at"] dd').textContent())!.replace(/\s/g, ' ')).to.equal('Mar 1, 2026, 10:00 AM');
    await page.goto(`${test.url}/portal/m/Visits/${id}/edit`);
    const box = page.getByLabel('Visited at');
    expect(await box.inputValue()).to.equal('2026-03-01T10:00');
    expect(await page.locator('#bp-field-visited_at-zone').isVisible()).to.equal(true);
    expect(await page.locator('#bp-field-visited_at-zone').textContent()).to.equal('Time zone: Central European Time (Europe/Rome)');
    expect(await seriousViolations(page), 'axe on the form').to.deep.equal([]);

    await box.fill('2026-07-01T11:15');
    await save(id);
    expect(await storedAt(id)).to.equal('2026-07-01T09:15:00.000Z');
    expect((await page.locator('[data-field="visited_at"] dd').textContent())!.replace(/\s/g, ' ')).to.equal('Jul 1, 2026, 11:15 AM');
  });

  it('keeps the stored instant, seconds and milliseconds, when the form is saved without touching the box', async () => {
    for (const instant of ['2026-03-01T09:00:30.123Z', '2026-10-25T01:30:00.000Z']) {
      const id = await visit(instant);
      await page.goto(`${test.url}/portal/m/Visits/${id}/edit`);
      await page.locator('#bp-field-visit_no').fill('Renamed in the browser');
      await save(id);
      expect(await storedAt(id), instant).to.equal(instant);
    }
  });

  it('refuses the 02:30 the clocks skip in Rome, next to the box, with the focus on it', async () => {
    const id = await visit('2026-03-01T09:00:00.000Z');
    await page.goto(`${test.url}/portal/m/Visits/${id}/edit`);
    await page.getByLabel('Visited at').fill('2026-03-29T02:30');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]:has-text("Save")')]);
    expect(await page.locator('#bp-field-visited_at-error').textContent()).to.equal('This time does not exist in Central European Time (Europe/Rome): the clocks go forward that night and skip it. Choose a later time.');
    expect(await autofocused(page)).to.equal('bp-field-visited_at');
    expect(await page.getByLabel('Visited at').inputValue()).to.equal('2026-03-29T02:30');
    expect(await page.getByLabel('Visited at').getAttribute('aria-describedby')).to.equal('bp-field-visited_at-error bp-field-visited_at-zone');
    expect(await storedAt(id)).to.equal('2026-03-01T09:00:00.000Z');
  });
});
