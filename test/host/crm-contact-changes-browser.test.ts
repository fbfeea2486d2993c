/**
 * Editing and deleting a contact in headless Chromium, on the demo host: a bad email comes back
 * with its error next to the form (and the field marked), a good one is saved with a notice; the
 * delete asks first. At 375 px nothing is wider than the screen, the controls are a thumb's size
 * and axe-core finds nothing serious. Screenshots go to `test-artifacts/crm/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { seriousViolations, smallTapTargets } from '../support/page-checks.js';
import { startTestHost, type TestHost } from '../support/host.js';

describe('CRM pages: editing and deleting a contact in a browser', function () {
  this.timeout(120_000);
  let test: TestHost;
  let browser: Browser;
  let artifacts: string;
  let contactId: number;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('crm');
    test = await startTestHost({ demo: true });
    contactId = (await test.host.api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: 'mario.rossi@example.com' }, limit: 1 })).rows[0]!.id;
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  const overflow = (page: Page) => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

  it('a bad email is refused with its error, a good one saved; the delete asks first (375 px wide)', async () => {
    const page = await (await browser.newContext({ locale: 'en-GB', viewport: { width: 375, height: 812 } })).newPage();
    await signInToCrm(page, `${test.url}/contacts/${contactId}`, DEMO_ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(`${test.url}/contacts/${contactId}/edit`), page.locator('.crm-main').getByRole('link', { name: 'Edit', exact: true }).click()]);

    await page.getByLabel('Email').fill('mario at rossi');
    await Promise.all([page.waitForURL(`${test.url}/contacts/${contactId}/edit`), page.getByRole('button', { name: 'Save contact' }).click()]);
    expect(await page.getByRole('alert').textContent()).to.include('Email: enter an email address such as name@example.com.');
    expect(await page.getByLabel('Email').getAttribute('aria-invalid')).to.equal('true');
    expect(await page.getByLabel('Email').inputValue()).to.equal('mario at rossi');
    await page.screenshot({ path: join(artifacts, 'contact-edit-refused-phone.png'), fullPage: true });
    expect(await overflow(page)).to.be.at.most(0);
    expect(await smallTapTargets(page, { within: '.crm-main' })).to.deep.equal([]);
    expect(await seriousViolations(page, { within: '.crm-main' })).to.deep.equal([]);

    await page.getByLabel('Email').fill('mario.rossi@rossi.example');
    await Promise.all([page.waitForURL(`${test.url}/contacts/${contactId}?saved=1`), page.getByRole('button', { name: 'Save contact' }).click()]);
    expect(await page.getByRole('status').first().textContent()).to.equal('The contact was saved.');

    await Promise.all([page.waitForURL(`${test.url}/contacts/${contactId}/delete`), page.locator('.crm-main').getByRole('link', { name: 'Delete', exact: true }).click()]);
    expect(await page.locator('h1').textContent()).to.equal('Delete Mario Rossi?');
    await page.screenshot({ path: join(artifacts, 'contact-delete-phone.png'), fullPage: true });
    expect(await overflow(page)).to.be.at.most(0);
    expect(await smallTapTargets(page, { within: '.crm-main' })).to.deep.equal([]);
    expect(await seriousViolations(page, { within: '.crm-main' })).to.deep.equal([]);
    await Promise.all([page.waitForURL(`${test.url}/contacts?deleted=1`), page.getByRole('button', { name: 'Delete contact' }).click()]);
    expect(await page.getByRole('status').first().textContent()).to.equal('The contact was deleted.');
    expect(await test.host.api.records.get('Contacts', contactId)).to.equal(null);
  });
});
