/**
 * The owner search of the privileges page (a CRM of more users and groups than one dropdown lists)
 * in headless Chromium: without JavaScript, by the keyboard alone, the admin tabs from the owner
 * dropdown to the search, types a name and presses Enter, and the dropdown lists who it found; with
 * the page's script, typing in the search is not an unsaved change of the General section, Enter
 * searches rather than saves, and the user found is chosen and saved with the keyboard.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileActor } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { OWNER_LIST_LIMIT } from '../../plugin/settings/crm-user-search.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { addCrmUsers } from '../support/crm-users.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { seriousViolations, tabTo } from '../support/page-checks.js';
import { adminActor, profileService, SETTINGS } from './profile-test-kit.js';

describe('owner search of the privileges page in a browser', function () {
  this.timeout(120_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let actor: ProfileActor;
  let browser: Browser;
  let id: number;
  let zelda: number;

  before(async function () {
    skipWithoutChromium(this);
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    actor = await adminActor(api);
    id = (await service.create({ name: 'Searched owner', description: '', startFrom: null }, actor)).id;
    await addCrmUsers(api.database.sequelize, OWNER_LIST_LIMIT + 20, (i) => ({
      userName: `agent${i}`,
      firstName: i === 42 ? 'Zelda' : 'Agent',
      lastName: i === 42 ? 'Quokka' : `Number${i}`,
    }));
    zelda = Number(((await api.database.sequelize.query("SELECT id FROM crm_users WHERE user_name = 'agent42'", { plain: true })) as { id: unknown }).id);
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  const ownerValues = (page: import('playwright-core').Page) => page.locator('#bp-owner option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));

  it('without JavaScript: Tab from the dropdown to the search, type, Enter, and the dropdown lists who was found', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await signInToCrm(page, `${test.url}${SETTINGS}/profiles/${id}/privileges`);
      expect(await ownerValues(page)).to.deep.equal(['']);
      await page.focus('#bp-owner');
      expect(await tabTo(page, '#bp-owner-search-text', 1)).to.have.length(1);
      await page.keyboard.type('quokka');
      await Promise.all([page.waitForURL(/ownerSearch=quokka#bp-general$/), page.keyboard.press('Enter')]);
      expect(await ownerValues(page)).to.deep.equal(['', `user:${zelda}`]);
      expect(await page.inputValue('#bp-owner-search-text')).to.equal('quokka');
      expect(await page.textContent('#bp-owner-search-outcome')).to.equal('1 user or group matches “quokka”.');
      expect(await tabTo(page, '#bp-owner-search-text ~ button', 3), 'the owner, the search, Find').to.have.length(3);
    } finally {
      await context.close();
    }
  });

  it('with the script: searching is not an unsaved change, Enter searches, and the user found is chosen and saved with the keyboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await signInToCrm(page, `${test.url}${SETTINGS}/profiles/${id}/privileges`);
      await page.waitForSelector('[data-bp-section="general"] [data-bp-save]');
      let saves = 0;
      page.on('request', (request) => {
        if (request.method() === 'PUT') saves += 1;
      });
      await page.focus('#bp-owner-search-text');
      await page.keyboard.type('Zelda');
      expect(await page.isHidden('[data-bp-section="general"] [data-bp-dirty]'), 'an unsaved change shown').to.equal(true);
      await Promise.all([page.waitForURL(/ownerSearch=Zelda#bp-general$/), page.keyboard.press('Enter')]);
      expect(saves, 'sections saved by the search').to.equal(0);
      await page.locator('#bp-general').screenshot({ path: join(artifactsDir('privileges'), '13-owner-search.png') });
      expect(await seriousViolations(page, { within: '#bp-general' })).to.deep.equal([]);
      await page.focus('#bp-owner');
      await page.keyboard.press('ArrowDown');
      expect(await page.inputValue('#bp-owner')).to.equal(`user:${zelda}`);
      await tabTo(page, '[data-bp-section="general"] [data-bp-save]');
      await Promise.all([page.waitForResponse((response) => response.request().method() === 'PUT' && response.status() === 200), page.keyboard.press('Enter')]);
      expect((await service.document(id)).general.owner).to.deep.equal({ kind: 'user', id: zelda });
      // Back on the page, the owner is listed and chosen without a search.
      await page.goto(`${test.url}${SETTINGS}/profiles/${id}/privileges`);
      expect(await page.inputValue('#bp-owner')).to.equal(`user:${zelda}`);
    } finally {
      await context.close();
    }
  });
});
