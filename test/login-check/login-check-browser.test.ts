/**
 * End to end in headless Chromium: a customer is locked through the portal API, a CRM admin
 * signs in, opens Check Business Portal login, ticks the customer and unlocks them, and the
 * customer can sign in at once; on a phone every control is a thumb's size, and axe-core finds
 * nothing serious. Screenshots (desktop and phone) go to `test-artifacts/`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium, signInToCrm } from '../support/browser.js';
import { TEST_ADMIN_PASSWORD } from '../support/host.js';
import { seriousViolations, smallTapTargets } from '../support/page-checks.js';
import { PORTAL_PASSWORD, startLoginCheckHost, type LoginCheckHost } from './login-check-host.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

describe('login-check in the browser', function () {
  this.timeout(90_000);
  let h: LoginCheckHost | undefined;
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    h = await startLoginCheckHost();
    browser = await sharedChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await releaseChromium(browser);
    await h?.stop();
  });

  it('an admin unlocks a locked customer from the page, and the customer signs in at once', async () => {
    const host = h!;
    const jane = await host.addCustomer({ firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com' });
    await host.addCustomer({ firstname: 'Mario', lastname: 'Rossi', email: 'mario.rossi@example.com', language: 'it' });
    await host.lock('jane.doe@example.com');
    await host.lock('mario.rossi@example.com');
    expect((await host.portalLogin('jane.doe@example.com', PORTAL_PASSWORD)).status).to.equal(401);

    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${host.url}/settings/business-portal/login-check`);
    // Anonymous: the CRM login first, then back to the page.
    await page.fill('#userName', 'admin');
    await page.fill('#password', TEST_ADMIN_PASSWORD);
    await Promise.all([page.waitForURL('**/settings/business-portal/login-check'), page.click('form[action="/login"] button[type="submit"]')]);
    expect(await page.locator(`table.bp-locked tr[data-contact-id="${jane}"]`).count()).to.equal(1);
    await page.screenshot({ path: join(ARTIFACTS, 'login-check-desktop.png'), fullPage: true });
    expect(await seriousViolations(page, { within: '.bp-admin' }), 'axe on a desktop').to.deep.equal([]);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'login-check-phone.png'), fullPage: true });
    expect(await smallTapTargets(page, { within: '.bp-admin' }), 'tap targets under 40 px').to.deep.equal([]);
    expect(await seriousViolations(page, { within: '.bp-admin' }), 'axe on a phone').to.deep.equal([]);
    // On a phone the table stacks into cards: no horizontal scrolling of the page.
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow).to.be.at.most(0);

    await page.check(`#bp-unlock-${jane}`);
    await Promise.all([page.waitForURL(/done=unlocked/), page.click('button.bp-primary')]);
    expect(await page.locator('.bp-notice').innerText()).to.equal('1 portal user unlocked.');
    // The notice was in the page at load, where a screen reader does not announce it: the title says it first.
    expect(await page.title()).to.equal('1 portal user unlocked. · Check Business Portal login · Reference CRM');
    expect(await page.locator('.bp-admin h1').innerText()).to.equal('Check Business Portal login');
    expect(await page.locator(`table.bp-locked tr[data-contact-id="${jane}"]`).count()).to.equal(0);
    await page.screenshot({ path: join(ARTIFACTS, 'login-check-phone-after-unlock.png'), fullPage: true });

    const signIn = await page.request.post(`${host.url}/portal/api/v1/auth/login`, { data: { email: 'jane.doe@example.com', password: PORTAL_PASSWORD } });
    expect(signIn.status()).to.equal(200);
    await context.close();
  });

  it('after a mass lockout: "Select all shown" ticks every box of the filtered list, one click unlocks them, on a desktop and a 375 px phone', async () => {
    const host = h!;
    const sprayed = await host.addLockedInBulk(12, 'wave');
    const signIn = async (page: Page, path: string) => {
      await signInToCrm(page, `${host.url}${path}`);
    };
    const boxes = 'table.bp-locked input[name="contactId"]';
    const filtered = '/settings/business-portal/login-check?q=wave';

    // Without JavaScript the list is a plain form: no "Select all shown", each box ticks on its own.
    const plain = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    try {
      const page = await plain.newPage();
      await signIn(page, filtered);
      expect(await page.locator('#bp-select-all').isVisible()).to.equal(false);
      await page.check(`#bp-unlock-${sprayed[0]}`);
      await Promise.all([page.waitForURL(/done=unlocked/), page.click('button.bp-primary')]);
      expect(await page.locator('.bp-notice').innerText()).to.equal('1 portal user unlocked.');
      expect(new URL(page.url()).searchParams.get('q')).to.equal('wave');
    } finally {
      await plain.close();
    }

    for (const [device, options] of [
      ['desktop', { viewport: { width: 1280, height: 900 } }],
      ['phone', { viewport: { width: 375, height: 740 }, hasTouch: true, isMobile: true }],
    ] as const) {
      if (device === 'phone') await host.api.database.sequelize.query('UPDATE bp_portal_accounts SET locked_at = :now, failed_attempts = 5 WHERE contact_id IN (:ids)', { replacements: { now: new Date(), ids: sprayed } });
      const context = await browser!.newContext(options);
      try {
        const page = await context.newPage();
        await signIn(page, filtered);
        const all = page.locator('#bp-select-all');
        expect(await all.isVisible(), device).to.equal(true);
        const shown = await page.locator(boxes).count();
        expect(shown, device).to.equal(device === 'desktop' ? 11 : 12);
        await all.check();
        expect(await page.locator(`${boxes}:checked`).count(), device).to.equal(shown);
        // One box cleared by hand: "all" is neither ticked nor clear; ticking it again takes them all.
        await page.uncheck(`#bp-unlock-${sprayed[5]}`);
        expect(await all.evaluate((box) => [(box as unknown as { checked: boolean }).checked, (box as unknown as { indeterminate: boolean }).indeterminate]), device).to.deep.equal([false, true]);
        await all.check();
        expect(await page.locator(`${boxes}:checked`).count(), device).to.equal(shown);
        await page.screenshot({ path: join(ARTIFACTS, `login-check-select-all-${device}.png`), fullPage: true });
        await page.screenshot({ path: join(ARTIFACTS, `login-check-select-all-${device}-top.png`) });
        if (device === 'phone') expect(await smallTapTargets(page, { within: '.bp-admin' }), 'tap targets under 40 px').to.deep.equal([]);
        expect(await seriousViolations(page, { within: '.bp-admin' }), `${device}: axe`).to.deep.equal([]);
        const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
        expect(overflow, device).to.be.at.most(0);
        if (device === 'phone') {
          // The table stacks into cards as the other admin tables do: each row one below the other, the box a thumb's size.
          const [first, second] = await page.locator('table.bp-locked tbody tr').evaluateAll((rows) => rows.slice(0, 2).map((row) => row.getBoundingClientRect().top));
          expect(second!, 'rows stacked').to.be.greaterThan(first! + 100);
          const pick = await page.locator(`table.bp-locked label.bp-row-pick`).first().boundingBox();
          expect(Math.min(pick!.width, pick!.height)).to.be.at.least(44);
        }
        await Promise.all([page.waitForURL(/done=unlocked/), page.click('button.bp-primary')]);
        expect(await page.locator('.bp-notice').innerText(), device).to.equal(`${shown} portal users unlocked.`);
        expect(new URL(page.url()).searchParams.get('q'), device).to.equal('wave');
        expect(await page.locator(boxes).count(), device).to.equal(0);
        await page.screenshot({ path: join(ARTIFACTS, `login-check-select-all-${device}-after.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
    const [locked] = await host.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_portal_accounts WHERE contact_id IN (:ids) AND locked_at IS NOT NULL', { ids: sprayed });
    expect(Number(locked!.n)).to.equal(0);
  });

  it('on a phone in Italian, stacked labels wrap only between words, never inside one ("Amministratore")', async () => {
    const host = h!;
    const luca = await host.addCustomer({ firstname: 'Luca', lastname: 'Bianchi', email: 'luca.bianchi@example.com', language: 'it' });
    await host.lock('luca.bianchi@example.com');
    await host.sql("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    const context = await browser!.newContext({ locale: 'it-IT', viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    try {
      const page = await context.newPage();
      await signInToCrm(page, `${host.url}/settings/business-portal/login-check`);
      // An unlock writes the audit row whose "Amministratore" label used to break as "Amministrator / e".
      await page.check(`#bp-unlock-${luca}`);
      await Promise.all([page.waitForURL(/done=unlocked/), page.click('button.bp-primary')]);
      expect(await page.locator('table.bp-audit td[data-label="Amministratore"]').count()).to.be.at.least(1);
      expect(await page.title()).to.equal('1 utente portale sbloccato. · Controllo login Business Portal · Reference CRM');
      await page.screenshot({ path: join(ARTIFACTS, 'login-check-phone-it.png'), fullPage: true });
      expect(await smallTapTargets(page, { within: '.bp-admin' }), 'tap targets under 40 px').to.deep.equal([]);
      expect(await seriousViolations(page, { within: '.bp-admin' }), 'axe').to.deep.equal([]);

      // Every stacked label is at least as wide as its longest word, so no word is cut in two.
      const cut = (await page.evaluate(`(() => {
        const probe = document.createElement('span');
        probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
        const cut = [];
        for (const td of document.querySelectorAll('table.bp-stack td[data-label]')) {
          const style = getComputedStyle(td, '::before');
          probe.style.font = style.font;
          td.appendChild(probe);
          for (const word of td.dataset.label.split(/\\s+/)) {
            probe.textContent = word;
            if (probe.getBoundingClientRect().width > parseFloat(style.width) + 0.5) cut.push(word + ": " + style.width);
          }
          probe.remove();
        }
        return cut;
      })()`)) as string[];
      expect(cut).to.deep.equal([]);
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      expect(overflow).to.be.at.most(0);
    } finally {
      await context.close();
      await host.sql("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });
});
