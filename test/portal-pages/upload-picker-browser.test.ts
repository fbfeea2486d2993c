/**
 * The upload form's file picker in a browser whose own language is not the page's: Chromium draws
 * a file input's button and its "No file chosen" in the browser's language ("Choose File" on an
 * Italian page). With JavaScript the portal shows its own button in the page's language instead,
 * the native input still the one the keyboard and the form use; without JavaScript the native
 * input stays, so a customer still sees the name of the file they picked.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { DEMO_PASSWORD, MARIO } from './portal-pages-kit.js';

describe('the upload picker in the page’s language in a browser', function () {
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

  /** Mario (Italian) on one of his tickets, in a Chromium whose own language is English. */
  async function marioOnTicket(javaScriptEnabled: boolean, width = 1280): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled, viewport: { width, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${test.url}/portal/login`);
    await page.fill('#bp-email', MARIO);
    await page.fill('#bp-password', DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/portal\/$/), page.click('form.bp-form button[type="submit"]')]);
    await page.goto(`${test.url}/portal/m/HelpDesk`);
    const href = await page.locator('tbody tr:first-child a[href*="/m/HelpDesk/"]').first().getAttribute('href');
    await page.goto(`${test.url}${href}`);
    return page;
  }

  /** The native input's drawn size: a browser-language "Choose File" is seen only when it is more than a pixel. */
  const nativeSize = async (page: Page) =>
    (await page.evaluate(`(() => { const el = document.querySelector('#bp-upload-file'); const r = el.getBoundingClientRect(); return Math.max(r.width, r.height) * Number(getComputedStyle(el).opacity); })()`)) as number;

  for (const width of [375, 1280]) {
    it(`at ${width} px with JavaScript: an Italian page picks a file with "Scegli un file", never the browser's "Choose File", and says which one was chosen`, async () => {
      const page = await marioOnTicket(true, width);
      expect(await nativeSize(page), 'the native input is drawn').to.be.at.most(1);
      const pick = page.locator('.bp-drop .bp-drop-pick');
      expect(await pick.isVisible(), 'the portal’s own button').to.equal(true);
      expect((await pick.innerText()).trim()).to.equal('Scegli un file');
      const box = (await pick.boundingBox())!;
      if (width < 600) expect(box.height, 'a thumb’s size on a phone').to.be.at.least(44);
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), pick.click()]);
      await chooser.setFiles({ name: 'verbale.txt', mimeType: 'text/plain', buffer: Buffer.from('Verbale\n') });
      expect(await page.locator('[data-drop-chosen]').innerText()).to.equal('Scelto: verbale.txt');
      await page.context().close();
    });
  }

  it('by keyboard the native input still takes the focus, and its ring is drawn on the portal’s button', async () => {
    const page = await marioOnTicket(true);
    await page.focus('#bp-upload-title');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).to.equal('bp-upload-file');
    const ring = (await page.evaluate(`(() => { const s = getComputedStyle(document.querySelector('.bp-drop-pick')); return s.outlineStyle + ' ' + s.outlineWidth; })()`)) as string;
    expect(ring).to.not.match(/^none/).and.not.match(/ 0px$/);
    await page.context().close();
  });

  it('an empty comment, an empty upload and an empty sign-in are refused in the page’s Italian, never by the browser’s own English bubble', async () => {
    const page = await marioOnTicket(true, 375);
    const ticket = page.url();
    const refusal = async (submit: string, form: string): Promise<string[]> => {
      await page.goto(ticket);
      await page.click(submit);
      await page.waitForTimeout(500);
      await page.waitForLoadState();
      return page.locator(`${form} [role="alert"], main [role="alert"]`).allInnerTexts();
    };
    expect(await refusal('form[action$="/comments"] button[type="submit"]', 'form[action$="/comments"]'), 'an empty comment').to.deep.equal(['Scrivi un commento prima di inviarlo.']);
    expect(await refusal('form[data-upload] button[type="submit"]', 'form[data-upload]'), 'no file').to.deep.equal(['Scegli un file da caricare.']);
    // A visitor whose browser speaks English, who chose Italian on the page.
    const visitor = await (await browser.newContext({ locale: 'en-US', viewport: { width: 375, height: 800 } })).newPage();
    await visitor.goto(`${test.url}/portal/login`);
    await Promise.all([visitor.waitForURL(/\/portal\/login$/), visitor.waitForEvent('load'), visitor.selectOption('#bp-language-select', 'it')]);
    expect(await visitor.getAttribute('html', 'lang')).to.equal('it');
    await visitor.click('form.bp-form button[type="submit"]');
    await visitor.waitForTimeout(500);
    await visitor.waitForLoadState();
    expect(await visitor.locator('main [role="alert"]').allInnerTexts(), 'an empty sign-in').to.deep.equal(['Inserisci la tua email e la tua password.']);
    await visitor.context().close();
    await page.context().close();
  });

  it('without JavaScript the native input stays, and no button that would do nothing is shown', async () => {
    const page = await marioOnTicket(false);
    expect(await nativeSize(page)).to.be.above(1);
    expect(await page.locator('.bp-drop .bp-drop-pick').isVisible()).to.equal(false);
    await page.context().close();
  });
});
