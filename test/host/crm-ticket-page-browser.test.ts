/**
 * The CRM's ticket page in headless Chromium, on the demo host: an admin reaches it from the
 * navigation, adds a public comment and an internal one through the form, and sees both in the
 * thread, the internal one marked; a refused (empty) comment keeps the form with a message. On a
 * desktop and 375 px wide nothing is wider than the page, controls are a thumb's size, and axe-core
 * finds nothing serious. Screenshots go to `test-artifacts/crm/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { CrmRecord } from '../../plugin/host-contract/index.js';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { seriousViolations, smallTapTargets } from '../support/page-checks.js';
import { startTestHost, type TestHost } from '../support/host.js';

describe('CRM pages: a ticket and its comments in a browser', function () {
  this.timeout(120_000);
  let test: TestHost;
  let browser: Browser;
  let artifacts: string;
  let ticket: CrmRecord;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('crm');
    test = await startTestHost({ demo: true });
    const jane = (await test.host.api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: 'jane.doe@example.com' }, limit: 1 })).rows[0]!;
    ticket = (await test.host.api.records.query('HelpDesk', { where: { field: 'contact_id', op: 'eq', value: jane.id }, sort: [{ field: 'id', direction: 'asc' }], limit: 1 })).rows[0]!;
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  const overflow = (page: Page) => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

  it('adds a public and an internal comment from the ticket page, on a desktop and on a 375 px phone', async () => {
    const page = await (await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } })).newPage();
    await signInToCrm(page, `${test.url}/`, DEMO_ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(`${test.url}/tickets`), page.locator('.crm-nav').getByRole('link', { name: 'Trouble Tickets' }).click()]);
    await Promise.all([page.waitForURL(`${test.url}/tickets/${ticket.id}`), page.getByRole('link', { name: String(ticket.values.ticket_title), exact: true }).click()]);

    // An empty comment: the browser's own check stops it, and the server's refusal says why.
    await page.getByLabel('Add a comment').fill('   ');
    await Promise.all([page.waitForURL(`${test.url}/tickets/${ticket.id}/comments`), page.getByRole('button', { name: 'Add comment' }).click()]);
    expect(await page.getByRole('alert').textContent()).to.equal('Write a comment before adding it.');

    await page.getByLabel('Add a comment').fill('We sent a new <toner> cartridge today.\nIt should arrive tomorrow.');
    await Promise.all([page.waitForURL(new RegExp(`/tickets/${ticket.id}#comment-\\d+$`)), page.getByRole('button', { name: 'Add comment' }).click()]);
    await page.getByLabel('Add a comment').fill('Courier tracking 1Z999: check before promising a date.');
    await page.getByRole('checkbox', { name: /Internal/ }).check();
    await Promise.all([page.waitForURL(new RegExp(`/tickets/${ticket.id}#comment-\\d+$`)), page.getByRole('button', { name: 'Add comment' }).click()]);

    const thread = page.locator('.crm-thread > li');
    const last = thread.last();
    const publicOne = thread.nth((await thread.count()) - 2);
    expect(await publicOne.locator('.crm-comment-body').textContent()).to.equal('We sent a new <toner> cartridge today.\nIt should arrive tomorrow.');
    expect(await publicOne.getAttribute('data-internal')).to.equal(null);
    expect(await last.locator('.crm-comment-body').textContent()).to.equal('Courier tracking 1Z999: check before promising a date.');
    expect(await last.locator('.crm-badge').textContent()).to.equal('Internal');
    expect(await last.locator('.crm-comment-meta strong').textContent()).to.match(/\S/);
    expect(await page.getByRole('checkbox', { name: /Internal/ }).isChecked(), 'the form starts over').to.equal(false);
    expect(await page.getByLabel('Add a comment').inputValue()).to.equal('');

    await page.screenshot({ path: join(artifacts, 'ticket-desktop.png'), fullPage: true });
    expect(await overflow(page), 'desktop: nothing wider than the page').to.be.at.most(0);
    expect(await seriousViolations(page, { within: '.crm-main' }), 'axe, desktop').to.deep.equal([]);

    await page.setViewportSize({ width: 375, height: 812 });
    await page.screenshot({ path: join(artifacts, 'ticket-phone.png'), fullPage: true });
    expect(await overflow(page), '375 px: nothing wider than the screen').to.be.at.most(0);
    expect(await smallTapTargets(page, { within: '.crm-main form' }), '375 px: tap targets under 40 px').to.deep.equal([]);
    const textarea = await page.getByLabel('Add a comment').boundingBox();
    expect(textarea!.width, 'the comment box fills the phone').to.be.greaterThan(300);
  });
});
