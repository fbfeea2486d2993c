/**
 * The sign-in pages in headless Chromium: a first login with a generated password, the forced
 * change, logout, then a login in Italian chosen by the browser's language. Screenshots of each
 * page, desktop and a 360 px phone, go to `test-artifacts/sign-in/`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startSignInHost, type SignInHost } from './sign-in-fixture.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'sign-in');
const GENERATED = 'Generated-pass-4821';
const CHOSEN = 'My own long passphrase 9';
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } } as const;

describe('sign-in: the pages in a browser', function () {
  this.timeout(120_000);
  let host: SignInHost;
  let browser: Browser;

  before(async function () {
    skipWithoutChromium(this);
    mkdirSync(ARTIFACTS, { recursive: true });
    host = await startSignInHost();
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await host?.stop();
  });

  /** Screenshots the page as it is now at desktop size, and again at phone size. */
  async function shoot(page: Page, name: string): Promise<void> {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${size}.png`), fullPage: true });
    }
    await page.setViewportSize(VIEWPORTS.desktop);
  }

  it('first login with a generated password, forced change, logout, then a login in Italian', async () => {
    const email = 'browser.first@example.com';
    await host.addCustomer({ email, password: GENERATED, firstname: 'Giulia', language: 'it', mustChangePassword: true });

    const english = await browser.newContext({ locale: 'en-GB', viewport: VIEWPORTS.desktop });
    const page = await english.newPage();
    await page.goto(`${host.portal}/login`);
    expect(await page.locator('h1').textContent()).to.equal('Sign in to the customer portal');
    await shoot(page, '01-login-en');
    await page.fill('#bp-email', email);
    await page.fill('#bp-password', GENERATED);
    await Promise.all([page.waitForURL(/\/portal\/first-access$/), page.click('button[type="submit"]:has-text("Sign in")')]);
    // Signed in, Giulia gets her contact's language (Italian, the one of her mails), whatever the browser says.
    expect(await page.getAttribute('html', 'lang')).to.equal('it');
    expect(await page.inputValue('#bp-email')).to.equal(email);
    await shoot(page, '02-first-access');

    await page.fill('#bp-new-password', 'password');
    await page.fill('#bp-confirm-password', 'password');
    // The browser's own minlength check stops an 8-character-short password before the server: bypass it.
    await page.$eval('form.bp-form', (form) => form.setAttribute('novalidate', ''));
    await page.click('button:has-text("Salva la password")');
    expect(await page.locator('.bp-error').textContent()).to.include('troppo comune');
    await shoot(page, '03-first-access-refused');

    await page.fill('#bp-new-password', CHOSEN);
    await page.fill('#bp-confirm-password', CHOSEN);
    await Promise.all([page.waitForURL(/\/portal\/\?notice=password$/), page.click('button:has-text("Salva la password")')]);
    expect(await page.locator('h1').textContent()).to.equal('Ti diamo il benvenuto, Giulia Customer');
    expect(await page.locator('p.bp-notice[role="status"]').textContent()).to.equal('La tua nuova password è salvata: d’ora in poi accedi con questa. Ti stiamo inviando un’email di conferma.');
    await shoot(page, '04-home');

    await Promise.all([page.waitForURL(/\/portal\/login$/), page.click('button:has-text("Esci")')]);
    await page.goto(`${host.portal}/`);
    expect(page.url()).to.match(/\/portal\/login$/);
    await english.close();

    const italian = await browser.newContext({ locale: 'it-IT', viewport: VIEWPORTS.desktop });
    const pageIt = await italian.newPage();
    await pageIt.goto(`${host.portal}/login`);
    expect(await pageIt.getAttribute('html', 'lang')).to.equal('it');
    expect(await pageIt.locator('h1').textContent()).to.equal('Accedi al portale clienti');
    await shoot(pageIt, '05-login-it');
    await pageIt.fill('#bp-email', email);
    await pageIt.fill('#bp-password', 'Not-my-password-1');
    await pageIt.click('button:has-text("Accedi")');
    expect(await pageIt.locator('.bp-error').textContent()).to.include('non sono corrette');
    await shoot(pageIt, '06-login-refused-it');
    await pageIt.fill('#bp-password', CHOSEN);
    await Promise.all([pageIt.waitForURL(/\/portal\/$/), pageIt.click('button:has-text("Accedi")')]);
    expect(await pageIt.locator('h1').textContent()).to.equal('Ti diamo il benvenuto, Giulia Customer');
    await shoot(pageIt, '07-home-it');

    // The dropdown switches to English on its own (progressive JavaScript) and the choice sticks.
    // The URL stays /portal/: wait for the English page itself, not for a URL that already matches.
    await pageIt.selectOption('#bp-language-select', 'en');
    await pageIt.waitForSelector('html[lang="en"]');
    expect(pageIt.url()).to.match(/\/portal\/$/);
    expect(await pageIt.locator('h1').textContent()).to.equal('Welcome, Giulia Customer');
    await pageIt.goto(`${host.portal}/forgot-password`);
    expect(await pageIt.locator('h1').textContent()).to.equal('Forgotten password');
    await shoot(pageIt, '08-forgot-password');
    // With the keyboard, the arrows only browse the languages (WCAG 3.2.2): the button shows, Enter applies.
    await pageIt.focus('#bp-language-select');
    await pageIt.keyboard.press('ArrowDown');
    expect(await pageIt.inputValue('#bp-language-select')).to.equal('it');
    expect(await pageIt.isVisible('[data-auto-submit-button]')).to.equal(true);
    expect(await pageIt.getAttribute('html', 'lang')).to.equal('en');
    await pageIt.keyboard.press('Enter');
    await pageIt.waitForSelector('html[lang="it"]');
    await italian.close();
  });
});
