/**
 * The portal-user section in headless Chromium: a CRM admin signs in, opens a Contact record,
 * makes the contact a portal user through the form, reads the outcome, goes back and sees the
 * new state. Screenshots go to `test-artifacts/contacts/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { artifactsDir, launchChromium, skipWithoutChromium } from '../support/browser.js';
import { TEST_ADMIN_PASSWORD } from '../support/host.js';
import { passwordIn, startContactsHost, type ContactsHost } from './contacts-fixture.js';

describe('contacts: the portal-user section in a browser', function () {
  this.timeout(120_000);
  let h: ContactsHost;
  let browser: Browser;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('contacts');
    h = await startContactsHost();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('an admin makes a contact a portal user from the Contact record', async () => {
    const id = await h.addContact({ firstname: 'Browser', lastname: 'Customer', email: 'browser.customer@example.com' });
    const page = await (await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${h.url}/contacts/${id}`);
    await page.fill('#userName', 'admin');
    await page.fill('#password', TEST_ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(`${h.url}/contacts/${id}`), page.press('#password', 'Enter')]);

    await page.screenshot({ path: join(artifacts, 'contact-before.png'), fullPage: true });
    await page.getByLabel('Portal user', { exact: true }).selectOption('yes');
    await page.getByLabel('Support end date').fill('2099-12-31');
    const since = h.mailbox.received.length;
    await Promise.all([page.waitForURL(`${h.url}/settings/business-portal/contacts/${id}/portal-user`), page.getByRole('button', { name: 'Save portal access' }).click()]);
    expect(await page.getByRole('status').textContent()).to.include('The access details were sent to browser.customer@example.com');
    await page.screenshot({ path: join(artifacts, 'portal-user-saved.png'), fullPage: true });

    const mail = await h.mailbox.waitFor('browser.customer@example.com', { since });
    expect(passwordIn(mail)).to.have.length(23);

    await Promise.all([page.waitForURL(`${h.url}/contacts/${id}`), page.getByRole('link', { name: 'Back to the contact' }).click()]);
    const section = page.locator('#bp-contact-portal-user');
    expect(await section.textContent()).to.include('Portal user: yes');
    expect(await page.getByLabel('Support end date').inputValue()).to.equal('2099-12-31');
    expect(await page.locator('#bp-contact-login-history').textContent()).to.include('Portal user switched on by Ada Admin');
    await page.screenshot({ path: join(artifacts, 'contact-after.png'), fullPage: true });
  });
});
