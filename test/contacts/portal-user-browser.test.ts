/**
 * The portal-user section in headless Chromium: a CRM admin signs in, opens a Contact record,
 * makes the contact a portal user through the form, reads the outcome, goes back and sees the
 * new state; the block's look on a desktop and on a phone; a refused save that shows the form
 * again with what the admin typed; on a phone every control is a thumb's size, and axe-core finds
 * nothing serious. Screenshots go to `test-artifacts/contacts/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { seriousViolations, smallTapTargets } from '../support/page-checks.js';
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
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await h?.stop();
  });

  async function signIn(page: Page, path: string): Promise<void> {
    await signInToCrm(page, `${h.url}${path}`);
  }

  /** What the block's stylesheet changes, measured: no default fieldset, usable selects, a grid of values, nothing wider than the page. */
  async function blockLook(page: Page): Promise<{ radius: string; selectHeight: number; selectWidth: number; dl: string; overflow: number }> {
    return (await page.evaluate(`(() => {
      const block = document.querySelector('.bp-contact-block');
      const select = block.querySelector('select[name="portalUser"]');
      return {
        radius: getComputedStyle(block.querySelector('fieldset')).borderTopLeftRadius,
        selectHeight: select.getBoundingClientRect().height,
        selectWidth: select.getBoundingClientRect().width,
        dl: getComputedStyle(block.querySelector('dl')).display,
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    })()`)) as { radius: string; selectHeight: number; selectWidth: number; dl: string; overflow: number };
  }

  it('an admin makes a contact a portal user from the Contact record', async () => {
    const id = await h.addContact({ firstname: 'Browser', lastname: 'Customer', email: 'browser.customer@example.com' });
    const page = await (await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } })).newPage();
    await signInToCrm(page, `${h.url}/contacts/${id}`);

    await page.screenshot({ path: join(artifacts, 'contact-before.png'), fullPage: true });
    await page.getByLabel('Portal user', { exact: true }).selectOption('yes');
    await page.getByLabel('Support end date').fill('2099-12-31');
    const since = h.mailbox.received.length;
    await Promise.all([page.waitForURL(`${h.url}/settings/business-portal/contacts/${id}/portal-user`), page.getByRole('button', { name: 'Save portal access' }).click()]);
    expect(await page.getByRole('status').textContent()).to.include('The access details were sent to browser.customer@example.com');
    // Done, so it looks done: the green of the admin pages' outcomes, not the red of a warning.
    expect(await page.evaluate(`(() => { const el = document.querySelector('.bp-admin [role=status]'); return [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]; })()`)).to.deep.equal(['rgb(15, 81, 50)', 'rgb(227, 249, 229)']);
    await page.screenshot({ path: join(artifacts, 'portal-user-saved.png'), fullPage: true });
    expect(await seriousViolations(page, { within: '.bp-admin' }), 'axe on the answer').to.deep.equal([]);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await smallTapTargets(page, { within: '.bp-admin' }), 'the answer: tap targets under 40 px').to.deep.equal([]);
    await page.screenshot({ path: join(artifacts, 'portal-user-saved-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    const mail = await h.mailbox.waitFor('browser.customer@example.com', { since });
    expect(passwordIn(mail)).to.have.length(23);

    await Promise.all([page.waitForURL(`${h.url}/contacts/${id}`), page.getByRole('link', { name: 'Back to the contact' }).click()]);
    const section = page.locator('#bp-contact-portal-user');
    expect(await section.locator('dd[data-state]').textContent()).to.equal('Yes');
    expect(await page.getByLabel('Support end date').inputValue()).to.equal('2099-12-31');
    expect(await page.locator('#bp-contact-login-history').textContent()).to.include('Portal user switched on by Ada Admin');
    await page.screenshot({ path: join(artifacts, 'contact-after.png'), fullPage: true });
    // On a phone the history's rows stack into cards, and nothing is wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(artifacts, 'contact-after-phone.png'), fullPage: true });
    expect(Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'))).to.be.at.most(0);
    expect(await smallTapTargets(page, { within: '.bp-contact-block' }), 'the block: tap targets under 40 px').to.deep.equal([]);
    expect(await seriousViolations(page, { within: '.bp-contact-block' }), 'axe on the block').to.deep.equal([]);
  });

  it('the block is styled like the plugin’s admin pages, compact on a desktop and readable on a phone', async () => {
    const id = await h.addContact({ firstname: 'Styled', lastname: 'Customer', email: 'styled.customer@example.com' });
    const context = await browser.newContext({ locale: 'it-IT', viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await signIn(page, `/contacts/${id}`);
      const desktop = await blockLook(page);
      await page.screenshot({ path: join(artifacts, 'contact-block-desktop.png'), fullPage: true });
      expect(desktop.radius).to.equal('8px');
      expect(desktop.dl).to.equal('grid');
      expect(desktop.selectHeight).to.be.at.least(36);
      expect(desktop.overflow).to.be.at.most(0);
      // Four fields side by side on a desktop: the form stays compact.
      const tops = (await page.evaluate(`[...document.querySelectorAll('.bp-portal-user-field')].map((f) => Math.round(f.getBoundingClientRect().top))`)) as number[];
      expect(new Set(tops).size).to.equal(1);

      await page.setViewportSize({ width: 390, height: 844 });
      const phone = await blockLook(page);
      await page.screenshot({ path: join(artifacts, 'contact-block-phone.png'), fullPage: true });
      expect(phone.overflow).to.be.at.most(0);
      expect(phone.selectHeight).to.be.at.least(36);
      // One field per row, each as wide as the form.
      expect(phone.selectWidth).to.be.at.least(250);
      // The host's own card keeps its look.
      expect(await page.evaluate(`getComputedStyle(document.querySelector('.crm-card h2')).fontSize`)).to.equal('17.6px');
    } finally {
      await context.close();
    }
  });

  it('a refused save shows the form again with what the admin typed and why; correcting it saves', async () => {
    const id = await h.addContact({ firstname: 'Refused', lastname: 'Customer', email: 'refused.customer@example.com' });
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    try {
      const page = await context.newPage();
      await signIn(page, `/contacts/${id}`);
      await page.getByLabel('Portal user', { exact: true }).selectOption('yes');
      // Start left empty (today), end already past.
      await page.getByLabel('Support end date').fill('2020-06-30');
      await Promise.all([page.waitForURL(`${h.url}/settings/business-portal/contacts/${id}/portal-user`), page.getByRole('button', { name: 'Save portal access' }).click()]);
      expect(await page.getByRole('alert').textContent()).to.include('the support end date is already past');
      expect(await page.getByLabel('Portal user', { exact: true }).inputValue()).to.equal('yes');
      expect(await page.getByLabel('Support end date').inputValue()).to.equal('2020-06-30');
      expect(await page.getByLabel('Support end date').getAttribute('aria-invalid')).to.equal('true');
      expect(Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'))).to.be.at.most(0);
      await page.screenshot({ path: join(artifacts, 'portal-user-refused-phone.png'), fullPage: true });
      expect(await smallTapTargets(page, { within: '.bp-admin' }), 'the refusal: tap targets under 40 px').to.deep.equal([]);
      expect(await seriousViolations(page, { within: '.bp-admin' }), 'axe on the refusal').to.deep.equal([]);

      await page.getByLabel('Support end date').fill('2099-06-30');
      await Promise.all([page.waitForURL(`${h.url}/settings/business-portal/contacts/${id}/portal-user`), page.getByRole('button', { name: 'Save portal access' }).click()]);
      expect(await page.getByRole('status').textContent()).to.include('The access details were sent to refused.customer@example.com');
      await Promise.all([page.waitForURL(`${h.url}/contacts/${id}`), page.getByRole('link', { name: 'Back to the contact' }).click()]);
      expect(await page.getByLabel('Support end date').inputValue()).to.equal('2099-06-30');
    } finally {
      await context.close();
    }
  });

  it('an admin pages through all of a contact’s portal events from the block, on a desktop and a phone', async () => {
    const id = await h.addContact({ firstname: 'Many', lastname: 'Events', email: 'many.events@example.com' });
    const start = Date.now() - 100 * 60_000;
    for (let i = 0; i < 60; i++) {
      await h.api.database.sequelize.query("INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (:id, NULL, :event, NULL, '192.0.2.7', :at)", {
        replacements: { id, event: i % 2 === 0 ? 'login' : 'logout', at: new Date(start + i * 60_000) },
      });
    }
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await signIn(page, `/contacts/${id}`);
      const history = `/settings/business-portal/contacts/${id}/login-history`;
      await Promise.all([page.waitForURL(`${h.url}${history}`), page.getByRole('link', { name: 'All portal sign-in events' }).click()]);
      expect(await page.locator('tr[data-event]').count()).to.equal(50);
      expect(await page.getByRole('navigation', { name: 'Pages of sign-in events' }).textContent()).to.include('Events 1–50 of 60');
      expect(await seriousViolations(page, { within: '.bp-admin' }), 'axe on the page').to.deep.equal([]);
      await Promise.all([page.waitForURL(`${h.url}${history}?page=2`), page.getByRole('link', { name: 'Older events' }).click()]);
      expect(await page.locator('tr[data-event]').count()).to.equal(10);
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(artifacts, 'login-history-phone.png'), fullPage: true });
      expect(Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'))).to.be.at.most(0);
      expect(await smallTapTargets(page, { within: '.bp-admin' }), 'the page: tap targets under 40 px').to.deep.equal([]);
      await page.goto(`${h.url}/contacts/${id}`);
      expect(await smallTapTargets(page, { within: '.bp-contact-block' }), 'the block: tap targets under 40 px').to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
