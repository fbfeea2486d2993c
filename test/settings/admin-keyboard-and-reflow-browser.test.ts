/**
 * The plugin's admin pages by keyboard alone and at small widths, in headless Chromium: an admin
 * unlocks a customer on Check Business Portal login and changes a profile's two-factor setting on
 * its privileges page without the mouse, every stop with a visible focus, the save announced; a
 * refused import points at the field it is about; a chosen export file is said read, or unreadable at
 * once (English and Italian); every page in English and Italian at 320 CSS px
 * and 200 % zoom, with one unique localized title, the right `lang`, one h1 and a main landmark.
 * Screenshots go to `test-artifacts/admin-keyboard-and-reflow/`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactsDir, releaseChromium, sharedChromium, skipWithoutChromium } from '../support/browser.js';
import { BACKDROP_SCRIPT, contrastRatio } from '../support/contrast.js';
import { QueryTypes } from 'sequelize';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { autofocused, cutOff, focused, tabTo } from '../support/page-checks.js';
import { DEMO_PASSWORD, JANE, MARIO } from '../portal-pages/portal-pages-kit.js';

const DESKTOP = { width: 1280, height: 900 };
const NARROW = { '320': { width: 320, height: 640 }, zoom200: { width: 640, height: 450 } } as const;
const SETTINGS = '/settings/business-portal';

describe('admin pages by keyboard and at small widths in a browser', function () {
  this.timeout(180_000);
  let host: TestHost;
  let browser: Browser;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('admin-keyboard-and-reflow');
    host = await startTestHost({ demo: true });
    browser = await sharedChromium();
  });

  const sql = <T extends object>(text: string) => host.host.api.database.sequelize.query<T>(text, { type: QueryTypes.SELECT });
  const portalLogin = (email: string, password: string) =>
    fetch(`${host.url}/portal/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  /** Five wrong passwords lock the account. */
  async function lock(email: string): Promise<void> {
    for (let i = 0; i < 5; i++) expect((await portalLogin(email, 'Wrong-password-1')).status).to.equal(401);
  }
  async function contactOf(email: string): Promise<number> {
    const [row] = await sql<{ contact_id: unknown }>(`SELECT contact_id FROM bp_portal_accounts WHERE email = '${email}'`);
    return Number(row!.contact_id);
  }
  after(async () => {
    await releaseChromium(browser);
    await host?.stop();
  });

  /** A context whose admin signed in by keyboard on the CRM's login, now on `path`. */
  async function signedIn(path: string, locale = 'en-GB'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale, viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${host.url}${path}`);
    await page.focus('#userName');
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(`**${path}`), page.keyboard.press('Enter')]);
    return { context, page };
  }

  /** Presses `key` on the focused control and waits for the page it loads. */
  async function pressAndLoad(page: Page, key: string): Promise<void> {
    await Promise.all([page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame()), page.keyboard.press(key)]);
    await page.waitForLoadState();
  }

  it('unlocks a locked customer on Check Business Portal login by keyboard alone', async () => {
    await lock(JANE);
    const jane = await contactOf(JANE);
    const { context, page } = await signedIn(`${SETTINGS}/login-check`);
    await tabTo(page, `#bp-unlock-${jane}`);
    await page.keyboard.press('Space');
    expect(await page.isChecked(`#bp-unlock-${jane}`)).to.equal(true);
    await tabTo(page, '.bp-admin button.bp-primary');
    await pressAndLoad(page, 'Enter');
    expect(page.url()).to.match(/done=unlocked/);
    expect(await page.locator('.bp-admin [role="status"]').innerText()).to.equal('1 portal user unlocked.');
    expect((await portalLogin(JANE, DEMO_PASSWORD)).status).to.equal(200);
    await context.close();
  });

  it("changes a profile's two-factor setting by keyboard alone; the save is announced", async () => {
    const { context, page } = await signedIn(`${SETTINGS}/profiles/1/privileges`);
    await page.waitForSelector('[data-bp-section="general"] [data-bp-save]:not([disabled])');
    await tabTo(page, '#bp-two-factor');
    // The arrows change a select's value; Tab leaves it, no trap.
    const before = await page.inputValue('#bp-two-factor');
    await page.keyboard.press('ArrowDown');
    const chosen = await page.inputValue('#bp-two-factor');
    expect(chosen).to.not.equal(before);
    await tabTo(page, '[data-bp-section="general"] [data-bp-save]');
    await page.keyboard.press('Enter');
    const status = page.locator('[data-bp-section="general"] [data-bp-status]');
    await status.filter({ hasText: 'Saved.' }).waitFor();
    // Said once, politely, by the page's announcer (the section was drawn again): a success need not
    // interrupt; a refusal would go to the section's role=alert. The section shows it outside its live regions.
    await page.locator('[data-bp-announce][aria-live="polite"]', { hasText: 'Saved.' }).waitFor({ state: 'attached' });
    expect(await status.locator('[role="status"]').innerText()).not.to.include('Saved.');
    expect(await status.innerText()).to.include('Saved.');
    // The section was drawn again: the focus waits on the answer, not lost to the page.
    expect((await focused(page))?.what).to.match(/^div/);
    const [row] = await sql<{ two_factor_type: string }>('SELECT two_factor_type FROM bp_profiles WHERE id = 1');
    expect(row!.two_factor_type).to.equal(chosen);
    await context.close();
  });

  it('a refused import marks the field it is about, describes it with the problem and focuses it', async () => {
    const { context, page } = await signedIn(`${SETTINGS}/profiles/import`);
    await page.fill('#bp-import-document', '{"not": "closed"');
    await Promise.all([page.waitForEvent('framenavigated'), page.click('form[data-bp-import] button[type="submit"]')]);
    await page.waitForSelector('.bp-errors');
    expect(await autofocused(page)).to.equal('bp-import-document');
    expect(await page.getAttribute('#bp-import-document', 'aria-invalid')).to.equal('true');
    const describedBy = (await page.getAttribute('#bp-import-document', 'aria-describedby')) ?? '';
    expect(await page.evaluate(`${JSON.stringify(describedBy)}.split(' ').filter(Boolean).map((id) => document.getElementById(id).textContent).join(' ')`)).to.include('not valid');
    expect(await page.getAttribute('#bp-import-name', 'aria-invalid')).to.equal(null);

    // A good file under a name already taken: the name is what to change.
    const exported = await (await page.request.get(`${host.url}${SETTINGS}/profiles/1/export`)).text();
    await page.fill('#bp-import-document', exported);
    await page.fill('#bp-import-name', 'Default');
    await Promise.all([page.waitForEvent('framenavigated'), page.click('form[data-bp-import] button[type="submit"]')]);
    await page.waitForSelector('.bp-errors');
    expect(await autofocused(page)).to.equal('bp-import-name');
    expect(await page.getAttribute('#bp-import-name', 'aria-invalid')).to.equal('true');
    expect(await page.getAttribute('#bp-import-document', 'aria-invalid')).to.equal(null);
    await context.close();
  });

  it('says that a chosen export file was read (politely), and at once when it cannot be read, in English and Italian', async () => {
    const dir = artifactsDir('admin-keyboard-and-reflow', 'import-files');
    const exported = '{"schemaVersion": 1}';
    const file = join(dir, 'resellers-export.json');
    for (const language of ['en', 'it'] as const) {
      writeFileSync(file, exported);
      await sql(`UPDATE crm_users SET language = '${language}' WHERE user_name = 'admin'`);
      try {
        const { context, page } = await signedIn(`${SETTINGS}/profiles/import`, language === 'it' ? 'it-IT' : 'en-GB');
        const read = page.locator('[data-bp-import] [role="status"]');
        const refused = page.locator('[data-bp-import] [role="alert"]');
        // By keyboard: Tab to the file chooser; choosing a file (the dialog is the system's) fills the box and says so.
        await tabTo(page, '#bp-import-file');
        await page.setInputFiles('#bp-import-file', file);
        await read.filter({ hasText: 'resellers-export.json' }).waitFor();
        expect(await read.innerText()).to.include(language === 'en' ? 'File read: resellers-export.json' : 'File letto: resellers-export.json');
        expect(await page.inputValue('#bp-import-document')).to.equal(exported);
        expect(await refused.innerText()).to.equal('');
        expect(await page.getAttribute('#bp-import-file', 'aria-invalid')).to.equal(null);
        // The file changes on disk after it was chosen: the browser refuses to read it again (NotReadableError).
        writeFileSync(file, `${exported}\n\n`);
        await page.dispatchEvent('#bp-import-file', 'change');
        await refused.filter({ hasText: 'resellers-export.json' }).waitFor();
        expect(await refused.innerText()).to.include(language === 'en' ? 'could not be read' : 'Impossibile leggere');
        expect(await read.innerText(), 'the earlier success is not left standing').to.equal('');
        expect(await page.getAttribute('#bp-import-file', 'aria-invalid')).to.equal('true');
        const describedBy = (await page.getAttribute('#bp-import-file', 'aria-describedby')) ?? '';
        expect(await page.evaluate(`${JSON.stringify(describedBy)}.split(' ').filter(Boolean).map((id) => document.getElementById(id).textContent).join(' ')`)).to.include('resellers-export.json');
        await context.close();
      } finally {
        await sql(`UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'`);
      }
    }
  });

  it('every field, menu and plain button on the admin pages has an edge of 3:1 against what is behind it (WCAG 1.4.11)', async () => {
    const jane = await contactOf(JANE);
    const { context, page } = await signedIn(`${SETTINGS}/`);
    const faint: string[] = [];
    // The privileges page's fields, the contact record's portal-user block (on the host's page), the login check's filter and
    // buttons. A filled button (the accent's) is told by its fill; a plain one, on white, by its edge alone.
    for (const path of [`${SETTINGS}/profiles/1/privileges`, `/contacts/${jane}`, `${SETTINGS}/login-check`]) {
      await page.goto(`${host.url}${path}`);
      await page.evaluate(BACKDROP_SCRIPT);
      const edges = (await page.evaluate(`[...document.querySelectorAll('.bp-privileges input:not([type=hidden]):not([type=checkbox]):not([type=radio]), .bp-privileges select, .bp-contact-block select, .bp-contact-block input[type=date], .bp-admin .bp-filter input, .bp-admin button:not(.bp-primary):not(.bp-save)')]
        .filter((el) => el.getClientRects().length > 0 && !el.disabled)
        .map((el) => ({ what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[' + el.name + ']' : '') + (el.className ? '.' + el.className : ''), edge: getComputedStyle(el).borderTopColor, width: getComputedStyle(el).borderTopWidth, behind: bpBackdrop(el) }))`)) as { what: string; edge: string; width: string; behind: string }[];
      expect(edges, `controls on ${path}`).to.not.be.empty;
      for (const { what, edge, width, behind } of edges) {
        const ratio = contrastRatio(edge, behind);
        if (parseFloat(width) < 1 || ratio < 3) faint.push(`${path} ${what}: ${width} ${edge} on ${behind} = ${ratio.toFixed(2)}:1`);
      }
    }
    await context.close();
    expect([...new Set(faint.map((line) => line.replace(/\[[^\]]*\]/, '')))]).to.deep.equal([]);
  });

  for (const language of ['en', 'it'] as const) {
    it(`in ${language === 'en' ? 'English' : 'Italian'}: every page reflows at 320 px and 200 % zoom, with a title, lang, one h1 and a main`, async () => {
      await sql(`UPDATE crm_users SET language = '${language}' WHERE user_name = 'admin'`);
      // Mario locked: the login check has a row to show.
      if (language === 'en') await lock(MARIO);
      try {
        const { context, page } = await signedIn(`${SETTINGS}/`, language === 'it' ? 'it-IT' : 'en-GB');
        const pages = ['/', '/profiles/new', '/profiles/import', '/profiles/deleted', '/profiles/1', '/profiles/1/privileges', '/profiles/1/duplicate', '/login-check'];
        const titles = new Set<string>();
        const problems: string[] = [];
        for (const path of pages) {
          await page.setViewportSize(DESKTOP);
          await page.goto(`${host.url}${SETTINGS}${path}`);
          const basics = (await page.evaluate(`({ title: document.title, lang: document.documentElement.lang, h1: document.querySelectorAll('h1').length, main: document.querySelectorAll('main').length })`)) as {
            title: string;
            lang: string;
            h1: number;
            main: number;
          };
          expect(basics, path).to.include({ lang: language, h1: 1, main: 1 });
          expect(titles.has(basics.title), `a title of its own on ${path}: ${basics.title}`).to.equal(false);
          // A field that must be filled says so in its label, where the others are optional.
          const unmarked = (await page.evaluate(`[...document.querySelectorAll('.bp-admin [required]')].filter((el) => !(el.labels && [...el.labels].some((l) => l.textContent.includes(${JSON.stringify(language === 'it' ? '(obbligatorio)' : '(required)')})))).map((el) => el.name)`)) as string[];
          expect(unmarked, `required fields unmarked on ${path}`).to.deep.equal([]);
          // A hint written next to one field is read with it (aria-describedby), not only seen.
          const untied = (await page.evaluate(`[...document.querySelectorAll('.bp-admin small')].filter((hint) => {
            const fields = hint.parentElement.querySelectorAll('input:not([type=hidden]), select, textarea');
            return fields.length === 1 && !(fields[0].getAttribute('aria-describedby') || '').split(' ').includes(hint.id || '-');
          }).map((hint) => hint.textContent.trim().slice(0, 40))`)) as string[];
          expect(untied, `hints not tied to their field on ${path}`).to.deep.equal([]);
          titles.add(basics.title);
          for (const [size, viewport] of Object.entries(NARROW)) {
            await page.setViewportSize(viewport);
            await page.screenshot({ path: join(artifacts, `${language}${path.replace(/\//g, '-')}-${size}.png`), fullPage: true });
            for (const problem of await cutOff(page)) problems.push(`${path} at ${size}: ${problem}`);
            // A button does not sit glued to the field above it (a form's parts are set apart).
            const glued = (await page.evaluate(`[...document.querySelectorAll('.bp-admin form')].flatMap((form) => {
              const parts = [...form.querySelectorAll('input:not([type=hidden]), select, textarea, button')].filter((el) => el.getClientRects().length > 0);
              return parts.slice(1).filter((el, i) => {
                const above = parts[i].getBoundingClientRect(), box = el.getBoundingClientRect();
                return el.tagName === 'BUTTON' && box.top >= above.bottom - 1 && box.top - above.bottom < 4 && box.left < above.right && above.left < box.right;
              }).map((el) => 'button "' + el.textContent.trim() + '" glued to the field above it');
            })`)) as string[];
            for (const problem of glued) problems.push(`${path} at ${size}: ${problem}`);
          }
        }
        if (language === 'it') expect([...titles].join(' ')).to.include('Profilo');
        expect(problems).to.deep.equal([]);
        await context.close();
      } finally {
        await sql("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });
  }
});
