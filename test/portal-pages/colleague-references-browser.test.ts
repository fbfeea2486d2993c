/**
 * A colleague's ticket in Jane's list, in headless Chromium: the Contact column reads the
 * colleague's name as plain text (not a link, not "Not shown to you"), on a desktop and on a
 * 375-pixel phone, where the row is a card. Screenshots go to `test-artifacts/colleague-references/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { TOM } from '../portal-api/api-test-kit.js';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { changeDefaultModule, signedInPage } from './portal-pages-kit.js';

describe('portal lists in a browser: a colleague’s name on a ticket of the company', function () {
  this.timeout(180_000);
  let test: TestHost;
  let browser: Browser;
  let tomName: string;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost({ demo: true, logLevel: 'error' });
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, shown: true, view: true, scope: 'account' }));
    await changeDefaultModule(test, 'Contacts', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact' }));
    const tom = (await test.host.api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: TOM }, limit: 1 })).rows[0]!;
    tomName = `${String(tom.values.firstname)} ${String(tom.values.lastname)}`;
    await test.host.api.records.create('HelpDesk', { values: { ticket_title: 'Colleague printer jam', status: 'Open', priority: 'Normal', contact_id: tom.id, account_id: tom.values.account_id } });
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 800 }]] as const) {
    it(`shows the colleague’s name as text in the Contact column (${name})`, async () => {
      const context = await browser.newContext({ locale: 'en-GB', viewport });
      try {
        const page = await context.newPage();
        await signedInPage(page, test.url);
        await page.goto(`${test.url}/portal/m/HelpDesk?q=${encodeURIComponent('Colleague printer jam')}`);
        const cell = page.locator('tbody tr', { hasText: 'Colleague printer jam' }).locator('td', { hasText: tomName });
        expect(await cell.count()).to.equal(1);
        expect(await cell.locator('a').count(), 'no link to a record Jane may not open').to.equal(0);
        expect(await cell.isVisible()).to.equal(true);
        expect(await page.locator('tbody').innerText()).not.to.include('Not shown to you');
        await page.screenshot({ path: join(artifactsDir('colleague-references'), `${name}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    });
  }
});
