/**
 * What a customer sees at a phone's width (375 × 812) and a desktop's (1280 × 800), on what the
 * other browser suites pass by: the pages that only say something (not found, not allowed).
 * Screenshots go to `test-artifacts/phone-and-desktop/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { artifactsDir, launchChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { smallTapTargets } from '../support/page-checks.js';
import { DEMO_PASSWORD, JANE } from './portal-pages-kit.js';

const PHONE = { width: 375, height: 812 };

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
    browser = await launchChromium();
    const context = await browser.newContext({ locale: 'en-GB', viewport: PHONE });
    page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', JANE);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
  });
  after(async () => {
    await browser?.close();
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
});
