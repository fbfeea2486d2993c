/**
 * In headless Chromium with JavaScript switched off (the forms must work without it): an admin of
 * an install upgraded from version 1 opens the settings, sees the Version dropdown and the list of
 * modules that are not eligible, opens the version 1 settings, moves Tickets down, switches FAQ off,
 * picks an inactive user, then switches customers to version 2 and back; a refused choice puts the
 * keyboard on the field concerned (the page has no script: the test's own checks need JavaScript
 * there). A stored user and template since removed from the CRM stay chosen, marked, on a phone,
 * and saving their forms unchanged keeps them. On a phone the tables of both pages stack into cards,
 * nothing past the screen's edge. Screenshots of each page go to `test-artifacts/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { CLASSIC_SETTINGS_KEY, type ClassicSettings } from '../../plugin/settings/classic-settings.js';
import { PORTAL_VERSION_SETTING } from '../../plugin/settings/portal-version.js';
import { addEmailTemplate, deleteEmailTemplate } from '../profiles/profile-test-kit.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { autofocused, smallTapTargets, tabTo, waitUntilTrue } from '../support/page-checks.js';
import { SETTINGS, storedSetting, UPGRADED_FROM_V1, userId } from './settings-test-kit.js';

describe('version 1 settings in the browser, without JavaScript', function () {
  this.timeout(90_000);
  let test: TestHost | undefined;
  let browser: Browser | undefined;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
    browser = await sharedChromium();
    artifacts = artifactsDir();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  it('moves, ticks, picks a user and switches versions with plain forms', async () => {
    const api = test!.host.api;
    await api.modules.registerModule({
      name: 'Boats',
      label: { en: 'Boats', it: 'Barche' },
      singularLabel: { en: 'Boat', it: 'Barca' },
      custom: true,
      labelField: 'boat_name',
      fields: [{ name: 'boat_name', label: { en: 'Name', it: 'Nome' }, type: 'text', mandatory: true }],
    });
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await signInToCrm(page, `${test!.url}${SETTINGS}/`);
    expect(await page.locator('#bp-version-select').inputValue()).to.equal('1');
    expect(await page.locator('tr[data-not-eligible="Boats"]').innerText()).to.include('No relation to Contacts or Accounts');
    await page.screenshot({ path: join(artifacts, 'settings-home-upgraded.png'), fullPage: true });

    await Promise.all([page.waitForURL(`**${SETTINGS}/classic`), page.click('a[data-classic-link]')]);
    await page.screenshot({ path: join(artifacts, 'settings-classic.png'), fullPage: true });
    // A move button's name holds the words it shows (WCAG 2.5.3, label in name), then the module.
    const moveDown = page.locator('button[value="down:HelpDesk"]');
    const shown = (await moveDown.innerText()).replace('↓', '').trim();
    expect(shown).to.equal('Move down');
    expect(await moveDown.getAttribute('aria-label')).to.match(new RegExp(`^${shown} `));
    await page.uncheck('#bp-active-Faq');
    await Promise.all([page.waitForURL(/done=modules/), page.click('button[value="down:HelpDesk"]')]);
    const rows = await page.locator('table.bp-classic-modules tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-module')));
    expect(rows.slice(0, 3)).to.deep.equal(['Faq', 'HelpDesk', 'Documents']);
    expect(await page.locator('#bp-active-Faq').isChecked()).to.equal(false);

    const paul = await userId(api, 'paul.former');
    await page.selectOption('#bp-classic-user-id', String(paul));
    await Promise.all([page.waitForURL(/done=user/), page.click('form[action$="/classic/user"] button[type="submit"]')]);
    expect(await page.locator('.bp-done').innerText()).to.include('The user was saved.');
    await page.screenshot({ path: join(artifacts, 'settings-classic-saved.png'), fullPage: true });

    const saved = (await storedSetting(api, CLASSIC_SETTINGS_KEY)) as ClassicSettings;
    expect(saved.userId).to.equal(paul);
    expect(saved.modules.find((m) => m.module === 'Faq')!.active).to.equal(false);

    await page.goto(`${test!.url}${SETTINGS}/`);
    await page.selectOption('#bp-version-select', '2');
    await Promise.all([page.waitForURL(/done=version/), page.click('#bp-version-form button[type="submit"]')]);
    expect(await page.locator('.bp-done').innerText()).to.include('Customers now see version 2 of the portal.');
    expect(await storedSetting(api, PORTAL_VERSION_SETTING)).to.equal(2);
    expect(await storedSetting(api, CLASSIC_SETTINGS_KEY)).to.deep.equal(saved);
    await page.screenshot({ path: join(artifacts, 'settings-home-version-2.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${test!.url}${SETTINGS}/classic`);
    await page.screenshot({ path: join(artifacts, 'settings-classic-phone.png'), fullPage: true });
    await context.close();
  });

  it('fits the settings and version 1 tables on a phone in Italian: no control is left beyond the screen’s edge', async () => {
    const api = test!.host.api;
    // A module without a relation to Contacts: the settings page lists it among those it cannot offer.
    await api.modules.registerModule({
      name: 'Lighthouses',
      label: { en: 'Lighthouses', it: 'Fari' },
      singularLabel: { en: 'Lighthouse', it: 'Faro' },
      custom: true,
      labelField: 'lighthouse_name',
      fields: [{ name: 'lighthouse_name', label: { en: 'Name', it: 'Nome' }, type: 'text', mandatory: true }],
    });
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    const context = await browser!.newContext({ viewport: { width: 320, height: 640 }, locale: 'it-IT', javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
      const problems: string[] = [];
      for (const path of ['/classic', '/']) {
        await page.goto(`${test!.url}${SETTINGS}${path}`);
        for (const width of [320, 360, 390]) {
          await page.setViewportSize({ width, height: 640 });
          await page.screenshot({ path: join(artifacts, `settings${path === '/' ? '-home' : '-classic'}-it-${width}.png`), fullPage: true });
          // A table wider than the phone scrolls sideways inside its box, where nothing shows that
          // there is more: the move buttons, descriptions and links past the edge went unseen.
          const hidden = (await page.evaluate(`[...document.querySelectorAll('.bp-admin table')].flatMap((table) => {
            const box = table.parentElement.getBoundingClientRect();
            return [...table.querySelectorAll('th, td, button, a, input:not([type=hidden]), select')]
              // Headers of a table stacked into cards are there for screen readers only (a 1 px clip).
              .filter((el) => !(el.closest('thead') && el.closest('thead').getBoundingClientRect().width <= 1))
              .filter((el) => el.getClientRects().length > 0 && el.getBoundingClientRect().right > Math.min(box.right, document.documentElement.clientWidth) + 1)
              .map((el) => table.className + ' ' + el.tagName.toLowerCase() + ' "' + (el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30) + '"');
          })`)) as string[];
          for (const problem of new Set(hidden)) problems.push(`${path} at ${width} px: ${problem} beyond the edge`);
        }
      }
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('gives every control of the version 1 page a thumb’s size on a phone: the ticks and the way back', async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
      // A module's tick is tapped through its name (its label): a 24 px line was easy to miss, as was the link back.
      expect(await smallTapTargets(page, { within: '.bp-admin' }), 'tap targets under 40 px').to.deep.equal([]);
      const name = page.locator('label[for="bp-active-Faq"]');
      const ticked = await page.locator('#bp-active-Faq').isChecked();
      await name.scrollIntoViewIfNeeded();
      const box = (await name.boundingBox())!;
      // The bottom edge of the name's target, well below its text, still ticks.
      await page.mouse.click(box.x + box.width / 2, box.y + box.height - 2);
      expect(await page.locator('#bp-active-Faq').isChecked()).to.equal(!ticked);
      await page.screenshot({ path: join(artifacts, 'settings-classic-phone-targets.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('puts the keyboard on the field a refusal names: aria-invalid, described by the list of problems', async () => {
    const api = test!.host.api;
    const chosen = await addEmailTemplate(api, { name: 'Classic access soon without password', module: 'Contacts', subject: 'Access', body: 'Password: {{portal.password}}' });
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
    // While the page is open, someone takes the password out of the template the admin is about to choose.
    await api.database.sequelize.query("UPDATE crm_email_template_versions SET html = '<p>Welcome</p>', text = 'Welcome' WHERE template_id = :id", { replacements: { id: chosen } });
    await page.focus('#bp-classic-template-id');
    await page.selectOption('#bp-classic-template-id', String(chosen));
    await tabTo(page, 'form[action$="/classic/template"] button[type="submit"]', 3);
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    expect(await page.locator('.bp-errors').innerText()).to.include('does not contain the password');
    expect(await autofocused(page), 'focus on the field concerned').to.equal('bp-classic-template-id');
    const select = page.locator('#bp-classic-template-id');
    expect(await select.getAttribute('aria-invalid')).to.equal('true');
    expect((await select.getAttribute('aria-describedby'))?.split(' ')).to.include('bp-errors-list');
    expect(await page.locator('#bp-errors-list').innerText()).to.include('does not contain the password');
    expect(await page.locator('[aria-invalid]').count(), 'only the field concerned').to.equal(1);
    await context.close();
  });

  it('says the question of each "View all related records?" dropdown to a keyboard user, not only its module', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
    await tabTo(page, '#bp-related-HelpDesk', 200);
    // What a screen reader says on reaching it by Tab: its name (the module) and its description.
    const described = (await page.evaluate(`(() => {
      const el = document.activeElement;
      const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      return { name: [...el.labels].map((l) => l.textContent.trim()).join(' '), description: ids.map((id) => document.getElementById(id)?.textContent.trim() ?? '').join(' ') };
    })()`)) as { name: string; description: string };
    expect(described).to.deep.equal({ name: 'Trouble Tickets', description: 'View all related records?' });
    await context.close();
  });

  it('shows "View all related records?" of the public catalogues (FAQ, Products) disabled, saying why, as the version 2 privileges page does', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
    await page.locator('#bp-classic-advanced').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifacts, 'settings-classic-catalogues.png'), fullPage: true });
    const described = async (selector: string) => (await page.evaluate(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      return { disabled: el.disabled, description: ids.map((id) => document.getElementById(id)?.textContent.trim() ?? '').join(' ') };
    })()`)) as { disabled: boolean; description: string };
    for (const module of ['Faq', 'Products']) {
      expect(await described(`#bp-related-${module}`), module).to.deep.equal({ disabled: true, description: 'View all related records? A public catalogue: every customer reads all of it, whatever their company.' });
      expect(await page.locator(`table.bp-classic-advanced tr[data-module="${module}"]`).innerText(), module).to.include('A public catalogue');
    }
    expect(await described('#bp-related-HelpDesk')).to.deep.equal({ disabled: false, description: 'View all related records?' });
    await context.close();
  });

  it('keeps the keyboard on the module moved: the same move button again, or the other one once it reaches the end', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
    const order = () => page.locator('table.bp-classic-modules tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-module')!));
    // The browser moves focus to the autofocus button in a rendering step that may come after the
    // load event (a loaded machine, the full suite): read it once it has come (`autofocused`).
    const focusedMove = async () => {
      await waitUntilTrue(page, 'document.activeElement && document.activeElement.name === "move"').catch(() => undefined);
      return page.evaluate('document.activeElement && document.activeElement.name === "move" ? document.activeElement.value : null');
    };
    const rows = await order();
    const second = rows[rows.length - 2]!;
    await tabTo(page, `button[value="down:${second}"]`, 200);
    await Promise.all([page.waitForURL(/done=modules/), page.keyboard.press('Enter')]);
    expect((await order()).at(-1)).to.equal(second);
    // Now last, it cannot go further down: the keyboard is on its way back up.
    expect(await focusedMove(), 'focus after moving to the end').to.equal(`up:${second}`);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    expect((await order()).at(-2)).to.equal(second);
    expect(await focusedMove(), 'focus after moving up').to.equal(`up:${second}`);
    await context.close();
  });

  it('keeps a stored user and template removed from the CRM chosen, marked, when their forms are saved unchanged on a phone', async () => {
    const api = test!.host.api;
    const gone = await addEmailTemplate(api, { name: 'Classic access deleted later', module: 'Contacts', subject: 'Access', body: 'Password: {{portal.password}}' });
    const key = api.database.sequelize.getQueryInterface().quoteIdentifier('key');
    const current = (await storedSetting(api, CLASSIC_SETTINGS_KEY)) as ClassicSettings;
    await api.database.sequelize.query(`UPDATE bp_settings SET value = :value WHERE ${key} = :key`, {
      replacements: { key: CLASSIC_SETTINGS_KEY, value: JSON.stringify({ ...current, userId: 987654, credentialsTemplateId: gone }) },
    });
    await deleteEmailTemplate(api, gone);
    const before = await storedSetting(api, CLASSIC_SETTINGS_KEY);
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await signInToCrm(page, `${test!.url}${SETTINGS}/classic`);
    const chosen = async (select: string) => page.locator(`${select} option:checked`).innerText();
    expect(await chosen('#bp-classic-user-id')).to.equal('User no. 987654 — no longer in the CRM');
    expect(await chosen('#bp-classic-template-id')).to.equal(`Template no. ${gone} — no longer in the CRM`);
    expect(await page.locator('#bp-classic-user-missing').innerText()).to.include('The chosen user no longer exists in the CRM');
    // The two sections in view: each dropdown shows its removed choice under its warning.
    await page.locator('#bp-classic-user').evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(artifacts, 'settings-classic-gone-choices-phone.png') });

    await Promise.all([page.waitForURL(/done=user/), page.click('form[action$="/classic/user"] button[type="submit"]')]);
    await Promise.all([page.waitForURL(/done=template/), page.click('form[action$="/classic/template"] button[type="submit"]')]);
    expect(await storedSetting(api, CLASSIC_SETTINGS_KEY), 'both kept').to.deep.equal(before);
    expect(await chosen('#bp-classic-user-id')).to.equal('User no. 987654 — no longer in the CRM');
    expect(await page.locator('#bp-classic-template-missing').innerText()).to.include('The chosen template no longer exists in the CRM');
    await context.close();
  });
});
