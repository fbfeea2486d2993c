/**
 * The plugin's admin tables on a phone (375 × 812), in headless Chromium on the demo: the profiles
 * list and the modules the portal cannot offer stack their rows into cards, each value under its
 * column's name, as the Check Business Portal login page's tables do, in English and Italian;
 * nothing hides behind a sideways scroll. Screenshots go to `test-artifacts/admin-phone-tables/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { smallTapTargets } from '../support/page-checks.js';

const PHONE = { width: 375, height: 812 };
const SETTINGS = '/settings/business-portal';

describe('admin tables on a phone in a browser', function () {
  this.timeout(120_000);
  let host: TestHost;
  let browser: Browser;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('admin-phone-tables');
    host = await startTestHost({ demo: true });
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await host?.stop();
  });

  for (const language of ['en', 'it'] as const) {
    it(`in ${language === 'en' ? 'English' : 'Italian'}: the settings page's tables stack into cards, each value under its column's name`, async () => {
      await host.host.api.database.sequelize.query(`UPDATE crm_users SET language = '${language}' WHERE user_name = 'admin'`, { type: QueryTypes.UPDATE });
      const context = await browser.newContext({ locale: language === 'it' ? 'it-IT' : 'en-GB', viewport: PHONE });
      try {
        const page = await context.newPage();
        await signInToCrm(page, `${host.url}${SETTINGS}/`, DEMO_ADMIN_PASSWORD);
        await page.screenshot({ path: join(artifacts, `${language}-settings.png`), fullPage: true });
        expect(await page.locator('.bp-admin table').count(), 'the demo shows both tables').to.equal(2);
        const look = (await page.evaluate(`[...document.querySelectorAll('.bp-admin .bp-table-wrap')].map((wrap) => {
          const table = wrap.querySelector('table');
          const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
          const unlabelled = [...table.querySelectorAll('tbody tr')].flatMap((row) => [...row.children].filter((cell, i) => {
            if (cell.matches('th[scope=row]')) return false;
            const label = getComputedStyle(cell, '::before').content;
            return label !== JSON.stringify(headers[i]);
          }).map((cell) => cell.textContent.trim().slice(0, 30)));
          return { table: table.className, hidden: wrap.scrollWidth - wrap.clientWidth, unlabelled };
        })`)) as { table: string; hidden: number; unlabelled: string[] }[];
        for (const table of look) expect(table, table.table).to.deep.include({ hidden: 0, unlabelled: [] });
        expect(await smallTapTargets(page, { within: '.bp-admin' }), 'tap targets under 40 px').to.deep.equal([]);
      } finally {
        await context.close();
        await host.host.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'", { type: QueryTypes.UPDATE });
      }
    });
  }
});
