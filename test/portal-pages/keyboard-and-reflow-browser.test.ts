/**
 * The portal by keyboard alone and at small widths, in headless Chromium on the demo: Tom signs in
 * with an emailed code, opens a ticket, comments, uploads a file through the picker, changes his
 * password and signs out without the mouse, every stop with a visible focus ring (Tom, so that no
 * other test here depends on how far he got); then every page in English and Italian at 320 CSS px
 * and at 200 % zoom (640 px of a 1280 px screen): no page-wide horizontal scrolling and no text cut
 * off, one unique localized title, the right `lang`, one h1, a main landmark and a skip link.
 * Screenshots go to `test-artifacts/keyboard-and-reflow/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, FileChooser, Page } from 'playwright-core';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { autofocused, cutOff, focused, tabTo } from '../support/page-checks.js';
import { codeIn, startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { DEMO_PASSWORD, JANE, MARIO } from './portal-pages-kit.js';

/** Acme Ltd, English, like Jane: the keyboard test changes his password. */
const TOM = 'tom.baker@example.com';

const DESKTOP = { width: 1280, height: 860 };
/** 320 CSS px (WCAG 1.4.10), and a 1280 px wide screen at 200 % zoom. */
const NARROW = { '320': { width: 320, height: 640 }, zoom200: { width: 640, height: 430 } } as const;
const NEW_PASSWORD = 'Keyboard only passphrase 4';

describe('portal by keyboard and at small widths in a browser', function () {
  this.timeout(180_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let browser: Browser;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('keyboard-and-reflow');
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
    await mailbox?.close();
  });

  /** Presses `key` on the focused control and waits for the page it loads. */
  async function pressAndLoad(page: Page, key: string, url: RegExp): Promise<void> {
    await Promise.all([page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame()), page.keyboard.press(key)]);
    await page.waitForLoadState();
    expect(page.url()).to.match(url);
  }

  /**
   * Presses `key` on the focused file input and answers the file picker it opens. When none opens,
   * the error says whether the input was activated (a click) and whether the page still had the
   * user activation Chromium asks of a picker, to tell a page that ate the key from a dropped picker.
   */
  async function chooseByKeyboard(page: Page, input: string, key: string): Promise<FileChooser> {
    await page.evaluate(`window.bpClicks = 0; document.querySelector(${JSON.stringify(input)}).addEventListener('click', () => { window.bpClicks++; })`);
    const opened = page.waitForEvent('filechooser', { timeout: 15_000 });
    const started = Date.now();
    await page.keyboard.press(key);
    const pressed = Date.now() - started;
    return opened.catch(async (error: Error) => {
      const state = await page.evaluate(`({ clicks: window.bpClicks, active: navigator.userActivation.isActive, focus: document.activeElement && document.activeElement.id })`);
      throw new Error(`${error.message}; the key took ${pressed} ms; then ${JSON.stringify(state)}`);
    });
  }

  it('signs in with a code, comments, uploads, changes the password and signs out by keyboard alone', async () => {
    await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'email'`);
    const context = await browser.newContext({ locale: 'en-GB', viewport: DESKTOP });
    const page = await context.newPage();
    // Listening from the start has Playwright tell Chromium to hand file pickers over long before a
    // key opens one: a first listener added at the key press races the press (puppeteer#6040).
    page.on('filechooser', () => undefined);
    await page.goto(`${test.url}/portal/login`);
    // The email field has the focus already; from there the form in reading order, then the way back.
    expect(await autofocused(page)).to.equal('bp-email');
    expect(await tabTo(page, 'a[href$="/forgot-password"]')).to.deep.equal(['input#bp-password "password"', 'input "remember"', 'button "Sign in"', 'a "I forgot my password"']);
    for (let i = 0; i < 4; i++) await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.id')).to.equal('bp-email');
    // Before it, the language and the skip link, which shows itself when it has the focus.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).to.deep.equal({ what: 'a "Skip to the content"', seen: true });
    const skip = await page.locator('.bp-skip').boundingBox();
    expect(skip && skip.x >= 0 && skip.y >= 0, 'the focused skip link is on the screen').to.equal(true);
    await tabTo(page, '#bp-email', 2);
    await page.keyboard.type(TOM);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_PASSWORD);
    const since = mailbox.received.length;
    await pressAndLoad(page, 'Enter', /\/portal\/two-factor/);
    // The code field has the focus already.
    expect(await autofocused(page)).to.equal('bp-code');
    await page.keyboard.type(codeIn(await mailbox.waitFor(TOM, { since })));
    await pressAndLoad(page, 'Enter', /\/portal\/$/);

    await tabTo(page, '.bp-menu-link[href$="/m/HelpDesk"]');
    await pressAndLoad(page, 'Enter', /\/portal\/m\/HelpDesk$/);
    await tabTo(page, 'tbody tr:first-child .bp-row-link');
    await pressAndLoad(page, 'Enter', /\/portal\/m\/HelpDesk\/\d+/);
    const ticket = page.url().replace(/\?.*$/, '');

    await tabTo(page, '#bp-comment-body');
    await page.keyboard.type('Typed without a mouse.');
    await tabTo(page, '.bp-comment-form button[type="submit"]', 1);
    // Space works on a button as Enter does.
    await pressAndLoad(page, 'Space', /\/portal\/m\/HelpDesk\/\d+/);
    expect(await page.locator('.bp-comment-body').allTextContents()).to.include('Typed without a mouse.');
    // A status present at load is not announced: the title, read first, says what the post did.
    const ticketTitle = (await page.locator('h1').textContent())!.trim();
    expect(await page.title()).to.equal(`Your comment was added. · ${ticketTitle} · Customer portal`);
    // The focus is not moved to the notice: Tab goes on from the comments the address points at.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(`!!document.activeElement.closest('#bp-comments')`), 'Tab from #bp-comments').to.equal(true);

    await tabTo(page, '#bp-upload-title');
    await page.keyboard.type('Keyboard notes');
    await tabTo(page, '#bp-upload-file', 1);
    const chooser = await chooseByKeyboard(page, '#bp-upload-file', 'Space');
    await chooser.setFiles({ name: 'keyboard-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes') });
    expect(await page.locator('[data-drop-chosen]').textContent()).to.include('keyboard-notes.txt');
    await tabTo(page, 'form[data-upload] button[type="submit"]', 1);
    await pressAndLoad(page, 'Enter', /\/portal\/m\/HelpDesk\/\d+/);
    expect(await page.locator('.bp-documents a').allTextContents()).to.include('Keyboard notes');
    await page.screenshot({ path: join(artifacts, 'ticket-after-keyboard.png'), fullPage: true });

    await tabTo(page, '.bp-account a[href$="/account/password"]');
    await pressAndLoad(page, 'Enter', /\/portal\/account\/password$/);
    await tabTo(page, '#bp-current-password');
    await page.keyboard.type(DEMO_PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.type(NEW_PASSWORD);
    await tabTo(page, '#bp-confirm-password', 1);
    await page.keyboard.type(NEW_PASSWORD);
    await pressAndLoad(page, 'Enter', /\/portal\/account\/password\?notice=changed$/);
    expect(await page.locator('[role="status"]').first().textContent()).to.match(/password/i);
    expect(await page.title()).to.equal('Your password was changed. A confirmation email is on its way to you. · Change your password · Customer portal');
    // Nothing moved the keyboard: Tab goes on from the top of the page, through the skip link.
    await page.keyboard.press('Tab');
    expect((await focused(page))?.what).to.equal('a "Skip to the content"');

    await tabTo(page, '.bp-account form[action$="/logout"] button');
    await pressAndLoad(page, 'Enter', /\/portal\/login/);
    await page.goto(ticket);
    expect(page.url()).to.match(/\/portal\/login\?next=/);
    await context.close();
  });

  /** Signs `email` in (without a code: the first test's two-factor is turned off again). */
  async function signedInPage(email: string, password: string, locale: string): Promise<{ context: BrowserContext; page: Page }> {
    await test.host.api.database.sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'none'`);
    const context = await browser.newContext({ locale, viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', email);
    await page.fill('#bp-password', password);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
    return { context, page };
  }

  /** The invalid fields (with the text that describes each), and what has the focus. */
  async function invalidState(page: Page): Promise<{ invalid: string[]; focus: string | null }> {
    const focus = (await autofocused(page)) || null;
    const invalid = (await page.evaluate(`[...document.querySelectorAll('[aria-invalid="true"]')].map((el) => el.id + ': ' + (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean).map((id) => (document.getElementById(id) || { textContent: 'missing #' + id }).textContent.trim()).join(' | '))`)) as string[];
    return { invalid, focus };
  }

  it('a refused sign-in marks the fields it is about and describes them with the error', async () => {
    const context = await browser.newContext({ locale: 'it-IT', viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', MARIO);
    await page.$eval('form.bp-form', (form) => form.setAttribute('novalidate', ''));
    await page.click('form.bp-form button[type="submit"]');
    await page.waitForSelector('.bp-error');
    // Only the empty password is wrong; it has the focus.
    expect(await invalidState(page)).to.deep.equal({ invalid: ['bp-password: Inserisci la tua email e la tua password.'], focus: 'bp-password' });
    await page.fill('#bp-password', 'Not-his-password-1');
    await page.click('form.bp-form button[type="submit"]');
    await page.waitForSelector('.bp-error');
    // Either may be wrong (the page does not tell which, on purpose): both are marked.
    const refused = await invalidState(page);
    expect(refused.focus).to.equal('bp-password');
    expect(refused.invalid.map((line) => line.split(':')[0])).to.deep.equal(['bp-email', 'bp-password']);
    expect(refused.invalid[1]).to.include('non sono corrette');
    await context.close();
  });

  it('a refused form marks its fields invalid, describes them with the error and focuses the first', async () => {
    const { context, page } = await signedInPage(MARIO, DEMO_PASSWORD, 'it-IT');
    await page.goto(`${test.url}/portal/m/HelpDesk/new`);
    // Required fields say so, in words as well as with the asterisk.
    expect(await page.locator('label[for="bp-field-ticket_title"]').textContent()).to.include('obbligatorio');
    await page.click('.bp-record-form button[type="submit"]');
    expect(await invalidState(page)).to.deep.equal({ invalid: ['bp-field-ticket_title: Questo campo è obbligatorio.'], focus: 'bp-field-ticket_title' });

    await page.goto(`${test.url}/portal/m/HelpDesk`);
    await page.click('tbody tr:first-child .bp-row-link');
    await page.$eval('form[data-upload]', (form) => form.setAttribute('novalidate', ''));
    await page.click('form[data-upload] button[type="submit"]');
    await page.waitForSelector('#bp-upload-error');
    expect(await invalidState(page)).to.deep.equal({ invalid: ['bp-upload-file: Scegli un file da caricare.'], focus: 'bp-upload-file' });

    await page.$eval('.bp-comment-form', (form) => form.setAttribute('novalidate', ''));
    await page.click('.bp-comment-form button[type="submit"]');
    await page.waitForSelector('#bp-comment-error');
    expect((await invalidState(page)).focus).to.equal('bp-comment-body');
    expect((await invalidState(page)).invalid).to.have.length(1);
    // The refused form's title says so first (as GOV.UK's error summary does); once the comment is taken, the notice comes first.
    const ticketTitle = (await page.locator('h1').textContent())!.trim();
    expect(await page.title()).to.equal(`Errore: ${ticketTitle} · Portale clienti`);
    await page.fill('#bp-comment-body', 'Scritto dopo l’errore.');
    await Promise.all([page.waitForURL(/notice=commented/), page.click('.bp-comment-form button[type="submit"]')]);
    expect(await page.title()).to.equal(`Il tuo commento è stato aggiunto. · ${ticketTitle} · Portale clienti`);

    await page.goto(`${test.url}/portal/account/password`);
    await page.fill('#bp-current-password', 'Not my password 1');
    await page.fill('#bp-new-password', NEW_PASSWORD);
    await page.fill('#bp-confirm-password', NEW_PASSWORD);
    await page.click('.bp-record-form button[type="submit"]');
    await page.waitForSelector('#bp-password-error');
    expect((await invalidState(page)).focus).to.equal('bp-current-password');
    expect(await page.title()).to.equal('Errore: Cambia la password · Portale clienti');
    // Changed, and back at once (the other tests sign Mario in with the demo password), before any check can fail.
    const changeTo = async (from: string, to: string): Promise<string> => {
      await page.goto(`${test.url}/portal/account/password`);
      await page.fill('#bp-current-password', from);
      await page.fill('#bp-new-password', to);
      await page.fill('#bp-confirm-password', to);
      await Promise.all([page.waitForURL(/notice=changed/), page.click('.bp-record-form button[type="submit"]')]);
      return page.title();
    };
    const changedTitle = await changeTo(DEMO_PASSWORD, NEW_PASSWORD);
    await changeTo(NEW_PASSWORD, DEMO_PASSWORD);
    expect(changedTitle).to.equal('La password è stata cambiata. Ti stiamo inviando un’email di conferma. · Cambia la password · Portale clienti');
    await context.close();
  });

  it('a form page’s error or notice above its card is exactly as wide as the card, at 375 and 1280 px', async () => {
    const { context, page } = await signedInPage(JANE, DEMO_PASSWORD, 'en-GB');
    try {
      const edges = async (banner: string) =>
        (await page.evaluate(`(() => {
          const edges = (e) => { const r = e.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.right)]; };
          return { banner: edges(document.querySelector(${JSON.stringify(banner)})), card: edges(document.querySelector('form.bp-record-form')) };
        })()`)) as { banner: number[]; card: number[] };
      for (const width of [375, 1280]) {
        await page.setViewportSize({ width, height: 860 });
        await page.goto(`${test.url}/portal/m/HelpDesk/new`);
        await page.click('.bp-record-form button[type="submit"]');
        await page.waitForSelector('#bp-form-error');
        await page.screenshot({ path: join(artifacts, `en-new-ticket-error-${width}.png`), fullPage: true });
        const ticket = await edges('#bp-form-error');
        expect(ticket.banner, `the new ticket's error at ${width} px`).to.deep.equal(ticket.card);

        await page.goto(`${test.url}/portal/account/password`);
        await page.fill('#bp-current-password', 'Not my password 1');
        await page.click('.bp-record-form button[type="submit"]');
        await page.waitForSelector('#bp-password-error');
        await page.screenshot({ path: join(artifacts, `en-password-error-${width}.png`), fullPage: true });
        const password = await edges('#bp-password-error');
        expect(password.banner, `the password page's error at ${width} px`).to.deep.equal(password.card);
        await page.goto(`${test.url}/portal/account/password?notice=changed`);
        const notice = await edges('.bp-notice');
        expect(notice.banner, `the password page's notice at ${width} px`).to.deep.equal(notice.card);
      }
    } finally {
      await context.close();
    }
  });

  it('on a narrow screen the menu opens with Enter and closes with Escape, the focus back on its toggle', async () => {
    const { context, page } = await signedInPage(MARIO, DEMO_PASSWORD, 'it-IT');
    await page.setViewportSize(NARROW['320']);
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    const fold = page.locator('[data-menu-fold]');
    expect(await fold.getAttribute('open')).to.equal(null);
    await tabTo(page, '.bp-menu-toggle');
    await page.keyboard.press('Enter');
    expect(await fold.getAttribute('open')).to.not.equal(null);
    await tabTo(page, '.bp-menu-link', 1);
    await page.keyboard.press('Escape');
    expect(await fold.getAttribute('open')).to.equal(null);
    expect(await page.evaluate(`document.activeElement.matches('.bp-menu-toggle')`)).to.equal(true);
    // On a wide screen the menu has no toggle to fold it with: Escape leaves it open.
    await page.setViewportSize(DESKTOP);
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    await tabTo(page, '.bp-menu-link');
    await page.keyboard.press('Escape');
    expect(await fold.getAttribute('open')).to.not.equal(null);
    await context.close();
  });

  for (const [who, email, language] of [
    ['Jane (English)', JANE, 'en'],
    ['Mario (Italian)', MARIO, 'it'],
  ] as const) {
    it(`${who}: every page reflows at 320 px and 200 % zoom, with a title, lang, one h1 and landmarks`, async () => {
      const { context, page } = await signedInPage(email, DEMO_PASSWORD, language === 'it' ? 'it-IT' : 'en-GB');
      const list = `${test.url}/portal/m/HelpDesk`;
      await page.goto(list);
      const ticket = `${test.url}${await page.locator('tbody tr:first-child .bp-row-link').getAttribute('href')}`;
      const pages = { home: `${test.url}/portal/`, list, ticket, newTicket: `${list}/new`, password: `${test.url}/portal/account/password`, invoices: `${test.url}/portal/m/Invoice` };
      const titles = new Set<string>();
      const problems: string[] = [];
      for (const [name, url] of Object.entries(pages)) {
        await page.setViewportSize(DESKTOP);
        await page.goto(url);
        const basics = (await page.evaluate(`({
          title: document.title, lang: document.documentElement.lang, h1: document.querySelectorAll('h1').length,
          main: document.querySelectorAll('main').length, navBeforeMain: !!document.querySelector('nav') && !!(document.querySelector('nav').compareDocumentPosition(document.querySelector('main')) & Node.DOCUMENT_POSITION_FOLLOWING) || !!document.querySelector('main nav'),
          skip: (() => { const first = document.querySelector('a[href], button, input:not([type=hidden]), select, textarea'); const target = first && first.getAttribute('href') && first.getAttribute('href').startsWith('#') && document.querySelector(first.getAttribute('href')); return !!target && target.matches('main'); })(),
        })`)) as { title: string; lang: string; h1: number; main: number; skip: boolean };
        expect(basics.lang, `lang of ${name}`).to.equal(language);
        expect(basics.h1, `h1s on ${name}`).to.equal(1);
        expect(basics.main, `main landmarks on ${name}`).to.equal(1);
        expect(basics.skip, `a skip link to main first on ${name}`).to.equal(true);
        expect(titles.has(basics.title), `a title of its own on ${name}: ${basics.title}`).to.equal(false);
        titles.add(basics.title);
        for (const [size, viewport] of Object.entries(NARROW)) {
          await page.setViewportSize(viewport);
          await page.screenshot({ path: join(artifacts, `${language}-${name}-${size}.png`), fullPage: true });
          for (const problem of await cutOff(page)) problems.push(`${name} at ${size}: ${problem}`);
        }
      }
      // Italian titles are Italian.
      if (language === 'it') expect([...titles].join(' ')).to.include('Portale clienti');
      expect(problems).to.deep.equal([]);
      await context.close();
    });
  }
});
