/**
 * What a customer sees at a phone's width (375 × 812) and a desktop's (1280 × 800), on what the
 * other browser suites pass by: the pages that only say something (not found, not allowed), and a
 * list holding a value with no place to break it (a title pasted from a file name), and the titles
 * of those pages and of the delete confirmation beside every other page's; on a phone, without JavaScript,
 * the link at the top to the account tools below the content; the header at 320 and 375 px, with
 * and without JavaScript, in English and Italian. Screenshots go to `test-artifacts/phone-and-desktop/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { focused, seriousViolations, smallTapTargets, tabTo, waitUntilTrue } from '../support/page-checks.js';
import { changeDefaultModule, DEMO_PASSWORD, JANE, MARIO, signedInPage } from './portal-pages-kit.js';

const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };
/** The narrowest phone (WCAG 1.4.10's 320 CSS px) and a common one. */
const PHONES = { '320': { width: 320, height: 640 }, '375': PHONE } as const;
/**
 * How tall the header may be on a phone (px): on the workspace's pages the portal's name and the link
 * to the account tools share a row, the language switch (label, menu and, without JavaScript, its
 * button) has the next, each row as tall as a 44 px control, 6 px around them (108 px with the
 * border); a sign-in page has no link (88 px); one with the customer signed in has "Signed in as"
 * and Log out on a third row (139 px).
 */
const PHONE_HEADER_PX = { workspace: 112, signIn: 92, signedIn: 144 } as const;
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
    await signedInPage(page, test.url);
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

  it('on a desktop in Italian, every list fits its box: a long column name wraps between its words instead of pushing the last column (the totals) out of sight', async () => {
    const context = await browser.newContext({ locale: 'it-IT', viewport: DESKTOP });
    const mario = await context.newPage();
    await mario.goto(`${test.url}/portal/login`);
    await mario.fill('#bp-email', MARIO);
    await mario.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([mario.waitForURL(/\/portal\/$/), mario.click('form.bp-form button[type="submit"]')]);
    const lists = (await mario.evaluate(`[...document.querySelectorAll('.bp-menu a[href*="/portal/m/"]')].map((link) => link.getAttribute('href'))`)) as string[];
    expect(lists).to.include('/portal/m/Quotes');
    const wider: string[] = [];
    for (const href of lists) {
      await mario.goto(`${test.url}${href}`);
      const fit = (await mario.evaluate(`(() => { const wrap = document.querySelector('.bp-table-wrap'); return wrap ? wrap.scrollWidth - wrap.clientWidth : 0; })()`)) as number;
      if (fit > 0) wider.push(`${href}: ${fit} px wider than its box`);
    }
    await mario.goto(`${test.url}/portal/m/Quotes`);
    await mario.screenshot({ path: join(artifacts, 'quotes-desktop-it.png'), fullPage: true });
    await context.close();
    expect(wider).to.deep.equal([]);
  });

  it('on a desktop, an email too long for the account tools breaks after its "@", not before its last letter ("example.co" / "m")', async () => {
    const giulia = 'giulia.bianchi@example.com';
    const context = await browser.newContext({ locale: 'it-IT', viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', giulia);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
    // The email's text line by line, as the browser laid it out (each character's box, grouped by its top).
    const lines = (await page.evaluate(`(() => {
      const lines = new Map();
      const walker = document.createTreeWalker(document.querySelector('.bp-account-email'), NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.textContent.length; i += 1) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const box = range.getClientRects()[0];
          if (!box) continue;
          const top = Math.round(box.top);
          lines.set(top, (lines.get(top) || '') + node.textContent[i]);
        }
      }
      return [...lines.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
    })()`)) as string[];
    await context.close();
    expect(lines.join(''), 'the whole email is shown').to.equal(giulia);
    expect([[giulia], ['giulia.bianchi@', 'example.com']].map((shape) => JSON.stringify(shape))).to.include(JSON.stringify(lines));
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
      // By keyboard: the link after the portal's name, before the language menu; following it puts the
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

  /**
   * What is wrong with the header as it is shown: a part (the name, a label, a control) outside the
   * window or over another part, a control cut short or (with `taps`) under 44 px, the page scrolling
   * sideways, a header taller than `tallest`.
   */
  async function headerProblems(phone: Page, tallest: number, taps = true): Promise<string[]> {
    return (await phone.evaluate(`(() => {
      const header = document.querySelector('.bp-header');
      const problems = [];
      const height = header.getBoundingClientRect().height;
      if (height > ${tallest}) problems.push('the header is ' + Math.round(height) + ' px tall');
      const wide = document.documentElement.scrollWidth - document.documentElement.clientWidth;
      if (wide > 0) problems.push('the page scrolls ' + wide + ' px sideways');
      const parts = [...header.querySelectorAll('.bp-brand, .bp-signed-in, label, a[href], button, select')]
        .map((el) => ({ el, box: el.getBoundingClientRect(), name: el.tagName.toLowerCase() + ' "' + (el.matches('select') ? el.value : el.textContent.trim().replace(/\\s+/g, ' ')) + '"' }))
        .filter((part) => part.box.width > 1 && part.box.height > 1);
      for (const { el, box, name } of parts) {
        if (box.left < 0 || box.top < 0 || box.right > innerWidth) problems.push(name + ' outside the window: ' + [box.left, box.top, box.right].map(Math.round).join(', '));
        if (!el.matches('a, button, select')) continue;
        if (${taps} && (box.height < 44 || box.width < 44)) problems.push(name + ' is ' + Math.round(box.width) + 'x' + Math.round(box.height));
        if (!el.matches('select') && el.scrollWidth > el.clientWidth + 1) problems.push(name + ' is cut short');
      }
      for (const [i, a] of parts.entries()) for (const b of parts.slice(i + 1)) {
        if (a.box.left < b.box.right - 0.5 && b.box.left < a.box.right - 0.5 && a.box.top < b.box.bottom - 0.5 && b.box.top < a.box.bottom - 0.5) problems.push(a.name + ' over ' + b.name);
      }
      return problems;
    })()`)) as string[];
  }

  it('on a phone, the header fits at 320 and 375 px, with and without JavaScript, in English and Italian: the name and the account link above, the language switch below, every control whole, apart, 44 px and with its focus in view', async () => {
    const problems: string[] = [];
    for (const javaScript of [true, false]) {
      const context = await browser.newContext({ locale: 'en-GB', viewport: PHONE, javaScriptEnabled: javaScript });
      try {
        const phone = await context.newPage();
        const load = (act: Promise<unknown>) => Promise.all([phone.waitForEvent('framenavigated', (frame) => frame === phone.mainFrame()), act]).then(() => phone.waitForLoadState());
        /** At both widths: a screenshot, what is wrong with the header, and every header control reached by Tab with its focus ring in the window. */
        const look = async (name: string, language: string, tallest: number = PHONE_HEADER_PX.workspace) => {
          const shown = `${name} in ${language} ${javaScript ? 'with' : 'without'} JavaScript`;
          expect(await phone.getAttribute('html', 'lang'), shown).to.equal(language);
          for (const [width, viewport] of Object.entries(PHONES)) {
            await phone.setViewportSize(viewport);
            await phone.evaluate('document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)');
            await phone.screenshot({ path: join(artifacts, `header-${name}-${language}-${width}-${javaScript ? 'js' : 'no-js'}.png`) });
            for (const problem of await headerProblems(phone, tallest)) problems.push(`${shown} at ${width} px: ${problem}`);
            await phone.focus('.bp-skip');
            for (;;) {
              await phone.keyboard.press('Tab');
              if (!(await phone.evaluate(`document.activeElement.closest('.bp-header') !== null`))) break;
              const now = await focused(phone);
              const ring = (await phone.evaluate(`(() => { const el = document.activeElement, s = getComputedStyle(el), r = el.getBoundingClientRect(), out = parseFloat(s.outlineOffset) + parseFloat(s.outlineWidth); return r.left - out >= 0 && r.top - out >= 0 && r.right + out <= innerWidth; })()`)) as boolean;
              if (!now?.seen || !ring) problems.push(`${shown} at ${width} px: the focus on ${now?.what} is not ${now?.seen ? 'wholly in the window' : 'shown'}`);
            }
          }
        };
        await phone.goto(`${test.url}/portal/login`);
        await look('login', 'en', PHONE_HEADER_PX.signIn);
        await phone.fill('#bp-email', JANE);
        await phone.fill('#bp-password', DEMO_PASSWORD);
        await Promise.all([phone.waitForURL(/\/portal\/$/), phone.click('form.bp-form button[type="submit"]')]);
        for (const language of ['en', 'it']) {
          if (language === 'it') {
            // The switch as a customer uses it: with JavaScript the menu applies itself, without it the button does.
            await phone.goto(`${test.url}/portal/`);
            if (javaScript) await load(phone.selectOption('#bp-language-select', 'it'));
            else {
              await phone.selectOption('#bp-language-select', 'it');
              await load(phone.click('.bp-language button[type="submit"]'));
            }
            expect(phone.url(), 'back on the page the language was changed on').to.equal(`${test.url}/portal/`);
          }
          for (const [name, path] of [['home', '/portal/'], ['tickets', '/portal/m/HelpDesk']] as const) {
            await phone.goto(`${test.url}${path}`);
            await look(name, language);
          }
          // A page of the sign-in pages with the customer signed in: "Signed in as" and Log out
          // under the language switch (here the refusal of a form whose token is stale).
          await phone.evaluate(`document.querySelector('.bp-language input[name="_csrf"]').value = 'stale'; document.querySelector('.bp-language button').hidden = false`);
          await load(phone.click('.bp-language button[type="submit"]'));
          expect(await phone.textContent('h1'), 'a stale token is still refused').to.equal(language === 'it' ? 'Accesso negato' : 'Access denied');
          await look('signed-in', language, PHONE_HEADER_PX.signedIn);
        }
        // Log out from that header, to the login page in Italian.
        await Promise.all([phone.waitForURL(/\/portal\/login$/), phone.click('.bp-header form[action$="/logout"] button')]);
        await look('login', 'it', PHONE_HEADER_PX.signIn);
      } finally {
        await context.close();
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('on a phone held sideways or a small tablet (600 px), the header\'s controls are 44 px too, with and without JavaScript', async () => {
    const problems: string[] = [];
    for (const javaScript of [true, false]) {
      const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 600, height: 800 }, javaScriptEnabled: javaScript });
      try {
        const tablet = await context.newPage();
        const shown = (name: string) => `${name} ${javaScript ? 'with' : 'without'} JavaScript`;
        await tablet.goto(`${test.url}/portal/login`);
        for (const problem of await headerProblems(tablet, PHONE_HEADER_PX.signIn)) problems.push(`${shown('login')}: ${problem}`);
        await tablet.fill('#bp-email', JANE);
        await tablet.fill('#bp-password', DEMO_PASSWORD);
        await Promise.all([tablet.waitForURL(/\/portal\/$/), tablet.click('form.bp-form button[type="submit"]')]);
        await tablet.goto(`${test.url}/portal/m/HelpDesk`);
        await tablet.screenshot({ path: join(artifacts, `header-tickets-en-600-${javaScript ? 'js' : 'no-js'}.png`) });
        // Without JavaScript the Apply button takes the language switch to a row of its own, as on a phone.
        for (const problem of await headerProblems(tablet, 130)) problems.push(`${shown('tickets')}: ${problem}`);
      } finally {
        await context.close();
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('on a desktop, the header keeps its single row', async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    await page.screenshot({ path: join(artifacts, 'header-desktop.png'), clip: { x: 0, y: 0, width: DESKTOP.width, height: 120 } });
    expect(await headerProblems(page, 60, false)).to.deep.equal([]);
    const middles = (await page.evaluate(`[...document.querySelectorAll('.bp-header .bp-brand, .bp-header select')].map((el) => { const r = el.getBoundingClientRect(); return Math.round(r.top + r.height / 2); })`)) as number[];
    expect(Math.max(...middles) - Math.min(...middles), 'px between the name’s and the language menu’s middles').to.be.at.most(2);
  });
});
