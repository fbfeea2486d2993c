/**
 * A form's submit button in a browser (workspace.js): once pressed it says the form is being sent
 * and a second click or Enter sends nothing more (the server would do the work once anyway, see
 * forms-sent-twice.test.ts; this spares the customer the wait and the second request). A page the
 * browser brings back from its back/forward cache gets its button back; without JavaScript the
 * form works as before.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { DEMO_PASSWORD, JANE, MARIO } from './portal-pages-kit.js';

describe('a form’s submit button while it is sent, in a browser', function () {
  this.timeout(120_000);
  let test: TestHost;
  let browser: Browser;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost({ demo: true });
    await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'none'`);
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  async function signedIn(email: string, locale: string, javaScriptEnabled = true): Promise<Page> {
    const context = await browser.newContext({ locale, javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', email);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
    return page;
  }

  const ticketsTitled = async (title: string) => (await test.host.records.query('HelpDesk', { where: { field: 'ticket_title', op: 'eq', value: title }, limit: 10 })).rows.length;

  it('says "Sending…" and sends a double click and an Enter once, on a slow connection', async () => {
    const page = await signedIn(JANE, 'en-US');
    // What the button shows after each submit event, reported by the page itself: with the form's
    // navigation under way (and held, below) a page.evaluate may wait for the next document.
    const shown: [string | null, string | null][] = [];
    await page.exposeFunction('bpReportButton', (text: string | null, disabled: string | null) => void shown.push([text, disabled]));
    await page.addInitScript(`document.addEventListener('submit', () => setTimeout(() => {
      const b = document.querySelector('form[data-once] button[type="submit"]');
      window.bpReportButton(b && b.textContent, b && b.getAttribute('aria-disabled'));
    }), true)`);
    // The POST is held until the page has been clicked again. Routed before the page is opened: a route added
    // later turns Chromium's interception on, and a request sent just after could go through uncaught.
    let posts = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/portal/m/HelpDesk/new', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      posts += 1;
      await held;
      await route.continue();
    });
    await page.goto(`${test.url}/portal/m/HelpDesk/new`);
    await page.fill('#bp-field-ticket_title', 'Double click on a slow phone');
    const button = page.locator('form[data-once] button[type="submit"]');
    // Pressed as a thumb would, without waiting for the navigation it starts (it is held).
    await button.scrollIntoViewIfNeeded();
    const box = (await button.boundingBox())!;
    const press = () => page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const reports = async (n: number) => {
      for (const until = Date.now() + 30_000; shown.length < n && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));
      return shown.slice(0, n);
    };
    try {
      await press();
      expect(await reports(1)).to.deep.equal([['Sending…', 'true']]);
      await press();
      // Enter on the button the clicks left focused.
      await page.keyboard.press('Enter');
      expect(await reports(3), 'the second click and the Enter, each refused').to.deep.equal([
        ['Sending…', 'true'],
        ['Sending…', 'true'],
        ['Sending…', 'true'],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      release();
    }
    await page.waitForURL(/\/portal\/m\/HelpDesk\/\d+\?notice=created$/);
    expect(posts).to.equal(1);
    expect(await ticketsTitled('Double click on a slow phone')).to.equal(1);
    await page.context().close();
  });

  it('gives the button back when the page comes back from the back/forward cache, in Italian too', async () => {
    const page = await signedIn(MARIO, 'it-IT');
    await page.goto(`${test.url}/portal/m/HelpDesk/new`);
    const button = page.locator('form[data-once] button[type="submit"]');
    const label = (await button.innerText()).trim();
    // The navigation the submit starts is stopped after workspace.js has seen it (a listener after its own).
    await page.evaluate(`document.addEventListener('submit', (event) => event.preventDefault())`);
    await button.click();
    expect(await button.innerText()).to.equal('Invio in corso…');
    // A page shown afresh (not from the cache) keeps what it shows.
    await page.evaluate(`window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: false }))`);
    expect(await button.innerText()).to.equal('Invio in corso…');
    // Brought back from the cache: the button is the form's again, and a press sends it.
    await page.evaluate(`window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))`);
    expect((await button.innerText()).trim()).to.equal(label);
    expect(await button.getAttribute('aria-disabled')).to.equal(null);
    expect(await page.locator('form[data-once]').getAttribute('aria-busy')).to.equal(null);
    await button.click();
    expect(await button.innerText()).to.equal('Invio in corso…');
    await page.context().close();
  });

  it('sends the form without JavaScript as before', async () => {
    const page = await signedIn(JANE, 'en-US', false);
    await page.goto(`${test.url}/portal/m/HelpDesk/new`);
    await page.fill('#bp-field-ticket_title', 'Sent without JavaScript');
    await Promise.all([page.waitForURL(/\/portal\/m\/HelpDesk\/\d+\?notice=created$/), page.click('form[data-once] button[type="submit"]')]);
    expect(await ticketsTitled('Sent without JavaScript')).to.equal(1);
    await page.context().close();
  });
});
