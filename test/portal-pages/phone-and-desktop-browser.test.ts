/**
 * What a customer sees at a phone's width (375 × 812) and a desktop's (1280 × 800), on what the
 * other browser suites pass by: the pages that only say something (not found, not allowed), and a
 * list holding a value with no place to break it (a title pasted from a file name), and the titles
 * of those pages and of the delete confirmation beside every other page's; on a phone, without JavaScript,
 * the link at the top to the account tools below the content. Screenshots go to `test-artifacts/phone-and-desktop/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { focused, seriousViolations, smallTapTargets, tabTo, waitUntilTrue } from '../support/page-checks.js';
import { changeDefaultModule, DEMO_PASSWORD, JANE } from './portal-pages-kit.js';

const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };
/** A title pasted from a file name: 90 characters and no space, hyphen or other place to break. */
const UNBROKEN = `controller_log_line2_${'reboot'.repeat(10)}_2026_12_05.txt`;

describe('portal pages at a phone’s and a desktop’s width in a browser', function () {
  this.timeout(120_000);
  let test: TestHost;
  let browser: Browser;
  let page: Page;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('phone-and-desktop');
    test = await startTestHost({ demo: true });
    // One of Jane's tickets has a title with no place to break.
    const [account] = (await test.host.api.database.sequelize.query(`SELECT contact_id FROM bp_portal_accounts WHERE email = '${JANE}'`, { type: QueryTypes.SELECT })) as { contact_id: unknown }[];
    const jane = await test.host.api.records.get('Contacts', Number(account!.contact_id));
    await test.host.api.records.create('HelpDesk', { values: { ticket_title: UNBROKEN, status: 'Open', contact_id: jane!.id, account_id: jane!.values.account_id ?? null } });
    browser = await sharedChromium();
    const context = await browser.newContext({ locale: 'en-GB', viewport: PHONE });
    page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', JANE);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  it('on a phone, the links of a not-found and a not-allowed page are big enough to tap', async () => {
    await page.setViewportSize(PHONE);
    const problems: string[] = [];
    for (const [name, path] of [['not-found', '/portal/m/HelpDesk/999999'], ['unknown-module', '/portal/m/Nope'], ['not-allowed', '/portal/m/Faq/new']] as const) {
      await page.goto(`${test.url}${path}`);
      await page.screenshot({ path: join(artifacts, `${name}-phone.png`), fullPage: true });
      expect(await page.locator('.bp-content a').count(), `${name}: a way on`).to.be.greaterThan(0);
      for (const small of await smallTapTargets(page, { within: '.bp-content' })) problems.push(`${name}: ${small}`);
    }
    expect(problems).to.deep.equal([]);
  });

  it('on a desktop, a value with no place to break wraps in its cell: the list fits its box, short values stay whole', async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    await page.screenshot({ path: join(artifacts, 'long-title-desktop.png'), fullPage: true });
    expect(await page.locator('tbody td', { hasText: UNBROKEN }).count(), 'the long title is listed').to.equal(1);
    const fit = (await page.evaluate(`(() => { const wrap = document.querySelector('.bp-table-wrap'); return wrap.scrollWidth - wrap.clientWidth; })()`)) as number;
    expect(fit, 'px the table is wider than its box').to.be.at.most(0);
    // Room is taken from the long value, not from the short ones: a ticket number, a status, a header stay on one line.
    const brokenWords = async () => (await page.evaluate(`(() => {
      const walker = document.createTreeWalker(document.querySelector('.bp-table'), NodeFilter.SHOW_TEXT);
      const words = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent.trim();
        if (!text || text.includes(' ') || text.length > 20) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        if (new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size > 1) words.push(text);
      }
      return words;
    })()`)) as string[];
    expect(await brokenWords(), 'short values broken across lines').to.deep.equal([]);
    // On a phone the table may scroll in its box (WCAG 1.4.10), but it does not squeeze words to fit it.
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(artifacts, 'long-title-phone.png'), fullPage: true });
    expect(await brokenWords(), 'short values broken across lines on a phone').to.deep.equal([]);
  });

  it('the title of a message page and of a delete confirmation has the size and spacing of every other page’s, and wraps', async () => {
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, delete: true }));
    try {
      const look = `(() => { const h1 = document.querySelector('h1'), s = getComputedStyle(h1); return { size: s.fontSize, lineHeight: s.lineHeight, weight: s.fontWeight, above: s.marginTop }; })()`;
      for (const [size, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP })) {
        await page.setViewportSize(viewport);
        await page.goto(`${test.url}/portal/m/HelpDesk`);
        const list = await page.evaluate(look);
        const ticket = (await page.locator('tbody tr', { hasText: UNBROKEN }).locator('.bp-row-link').getAttribute('href'))!.replace(/\?.*$/, '');
        for (const [name, path] of [['not-found', '/portal/m/HelpDesk/999999'], ['not-allowed', '/portal/m/Faq/new'], ['delete', `${ticket}/delete`]] as const) {
          await page.goto(`${test.url}${path}`);
          await page.screenshot({ path: join(artifacts, `${name}-title-${size}.png`), fullPage: true });
          expect(await page.evaluate(look), `the title of ${name} on a ${size}`).to.deep.equal(list);
          // The ticket's long title in the delete question wraps as it does on the ticket's own page.
          expect(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), `px ${name} scrolls sideways on a ${size}`).to.be.at.most(0);
        }
      }
    } finally {
      await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, delete: false }));
    }
  });

  it('a form page sets its title apart from the form, as a list sets its title apart from the table', async () => {
    // The space under the title block, down to what comes next (the form, or the error above it).
    const gap = `(() => { const h1 = document.querySelector('h1'); const head = h1.closest('.bp-page-head') || h1; return Math.round(head.nextElementSibling.getBoundingClientRect().top - head.getBoundingClientRect().bottom); })()`;
    const gaps: Record<string, number> = {};
    for (const [size, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP })) {
      await page.setViewportSize(viewport);
      await page.goto(`${test.url}/portal/m/HelpDesk`);
      const list = (await page.evaluate(gap)) as number;
      for (const path of ['/portal/m/HelpDesk/new', '/portal/account/password']) {
        await page.goto(`${test.url}${path}`);
        gaps[`${path} on a ${size}`] = (await page.evaluate(gap)) as number;
        await page.click('.bp-record-form button[type="submit"]');
        await page.waitForSelector('.bp-error');
        gaps[`${path} refused on a ${size}`] = (await page.evaluate(gap)) as number;
      }
      for (const [name, value] of Object.entries(gaps)) expect(value, name).to.equal(list);
    }
  });

  it('on a phone, a link at the top leads to the account tools below the content, without JavaScript; a desktop shows the tools beside it and no link', async () => {
    // Its contrast, as the header's other controls' (axe runs only with JavaScript, as the page's scripts do).
    await page.setViewportSize(PHONE);
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    expect(await seriousViolations(page, { within: '.bp-header' })).to.deep.equal([]);
    expect(await smallTapTargets(page, { within: '.bp-header' })).to.deep.equal([]);
    const context = await browser.newContext({ locale: 'en-GB', viewport: PHONE, javaScriptEnabled: false });
    try {
      const phone = await context.newPage();
      await phone.goto(`${test.url}/portal/login`);
      await phone.fill('#bp-email', JANE);
      await phone.fill('#bp-password', DEMO_PASSWORD);
      await Promise.all([phone.waitForURL(/\/portal\/$/), phone.click('form.bp-form button[type="submit"]')]);
      // A long page: the list, whose account tools are out of sight below its rows.
      await phone.goto(`${test.url}/portal/m/HelpDesk`);
      await phone.screenshot({ path: join(artifacts, 'account-link-phone.png') });
      const link = phone.locator('a[href="#bp-account"]');
      expect(await link.count(), 'links to the account tools').to.equal(1);
      expect((await link.textContent())?.trim()).to.equal('Your account');
      const box = (await link.boundingBox())!;
      expect(box, 'the link is shown').to.not.equal(null);
      expect(box.y + box.height, 'the link is in the first screen, near the top').to.be.at.most(120);
      expect(await phone.evaluate(`(() => { const r = document.querySelector('.bp-account').getBoundingClientRect(); return r.top >= innerHeight; })()`), 'the tools start below the first screen').to.equal(true);
      expect(await smallTapTargets(phone, { within: '.bp-header' })).to.deep.equal([]);
      // By keyboard: the link after the header's controls, before the menu; following it puts the
      // tools in view and the focus on them, so that Tab goes on to their first control.
      await tabTo(phone, 'a[href="#bp-account"]');
      expect((await focused(phone))?.seen, 'the focused link shows its focus').to.equal(true);
      await phone.keyboard.press('Enter');
      await waitUntilTrue(phone, `location.hash === '#bp-account'`);
      const inView = `(() => { const r = document.querySelector('.bp-account').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight + 0.5; })()`;
      expect(await phone.evaluate(inView), 'the tools are in view').to.equal(true);
      expect(await phone.evaluate('document.activeElement.id'), 'the focus is on the tools').to.equal('bp-account');
      await phone.screenshot({ path: join(artifacts, 'account-link-followed-phone.png') });
      await phone.keyboard.press('Tab');
      expect((await focused(phone))?.what).to.equal('a "Change password"');
      // By tap, from the top again.
      await phone.goto(`${test.url}/portal/m/HelpDesk`);
      await link.click();
      await waitUntilTrue(phone, `location.hash === '#bp-account'`);
      expect(await phone.evaluate(inView), 'the tools are in view after a tap').to.equal(true);
      expect(await phone.evaluate('document.activeElement.id'), 'the focus is on the tools after a tap').to.equal('bp-account');
      // On a desktop the tools are beside the content: the link is not shown, nor reached by Tab.
      await phone.setViewportSize(DESKTOP);
      await phone.goto(`${test.url}/portal/m/HelpDesk`);
      expect(await phone.evaluate(`getComputedStyle(document.querySelector('a[href="#bp-account"]')).display`), 'the link on a desktop').to.equal('none');
    } finally {
      await context.close();
    }
  });
});
