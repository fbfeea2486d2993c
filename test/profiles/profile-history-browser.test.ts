/**
 * A profile's change history in a browser, on a desktop and on a 375 px phone, with JavaScript
 * off: each change told in a few lines (a label with markup shows as text), its link opens the
 * change's own page with every change and the stored values, and nothing is cut off.
 * Screenshots in test-artifacts/profile-history/.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ModulePrivileges } from '../../plugin/profiles/profile-document.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { cutOff, seriousViolations, smallTapTargets } from '../support/page-checks.js';
import { addWideModule, adminActor, profileService, SETTINGS } from './profile-test-kit.js';

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 375, height: 812 } } as const;

describe('profile change history in a browser', function () {
  this.timeout(180_000);
  let test: TestHost;
  let api: HostApi;
  let browser: Browser;
  let id: number;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('profile-history');
    test = await startTestHost({ watchRegistryMs: 0 });
    api = test.host.api;
    const service = profileService(api);
    const actor = await adminActor(api);
    await addWideModule(api, 'Wide200', 200);
    await api.modules.addField('Wide200', { name: 'sneaky', label: { en: '<script>alert(1)</script>' }, type: 'textarea', mandatory: false });
    const profile = await service.create({ name: 'Resellers', description: '', startFrom: null }, actor);
    id = profile.id;
    let document = await service.document(id);
    const wide = (entry: ModulePrivileges): ModulePrivileges =>
      entry.module === 'Wide200'
        ? { ...entry, shown: true, view: true, fields: Object.fromEntries(Object.keys(entry.fields).map((f) => [f, f === 'sneaky' ? 'hidden' : 'readonly'])), listColumns: ['title'] }
        : entry;
    document = (await service.saveSection(id, 'modules', document.modules.map(wide), document.profile.version, actor)).document;
    const button = { title: 'Claims', description: 'Your warranty claims', colour: 'info' as const, icon: 'list', action: 'list' as const, module: 'Wide200' };
    document = (await service.saveSection(id, 'buttons', [button], document.profile.version, actor)).document;
    await service.saveSection(id, 'globals', { viewAll: true, editAll: false }, document.profile.version, actor);
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  async function check(page: Page, name: string): Promise<void> {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      expect(await cutOff(page), `${name} at ${size}`).to.deep.equal([]);

      if (size === 'phone') expect(await smallTapTargets(page, { within: '.bp-admin' }), `${name} at ${size}`).to.deep.equal([]);
      expect(await seriousViolations(page, { within: '.bp-admin' }), `${name} at ${size}`).to.deep.equal([]);
      await page.screenshot({ path: join(artifacts, `${name}-${size}.png`), fullPage: true });
      await page.screenshot({ path: join(artifacts, `${name}-${size}-top.png`) });
    }
  }

  async function signedIn(javaScriptEnabled: boolean): Promise<{ page: Page; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop, javaScriptEnabled });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await signInToCrm(page, `${test.url}${SETTINGS}/profiles/${id}`);
    return { page, close: () => context.close() };
  }

  const modulesSave = (page: Page) => page.locator('tr[data-audit-action="save"]').nth(2);
  const openChange = (page: Page) => Promise.all([page.waitForURL('**/changes/*'), modulesSave(page).getByRole('link', { name: 'Every change and the stored values' }).click()]);

  it('tells each change in a few lines and opens every change and the stored values without JavaScript', async () => {
    const { page, close } = await signedIn(false);
    expect(await modulesSave(page).locator('.bp-audit-changes li').allTextContents()).to.deep.equal([
      'Wide200: Shown switched on',
      'Wide200: View switched on',
      'Wide200: field Title Read-write → Read-only, and 200 more fields changed',
      'Wide200: list columns changed',
    ]);
    expect(await page.locator('tr[data-audit-action="save"]').first().locator('li').allTextContents()).to.deep.equal(['View all switched on']);
    await openChange(page);
    const lines = await page.locator('[data-bp-changes] li').allTextContents();
    expect(lines).to.include('Wide200: field <script>alert(1)</script> Read-write → Hidden');
    expect(lines.filter((line) => line.startsWith('Wide200: list columns')), String(lines.filter((line) => !line.startsWith('Wide200: field ')))).to.deep.equal(['Wide200: list columns none → Title']);
    expect(lines.filter((line) => line.startsWith('Wide200: field '))).to.have.length(201);
    expect(await page.locator('pre').first().isVisible()).to.equal(false);
    await page.locator('summary').first().click();
    expect(await page.locator('pre').first().isVisible()).to.equal(true);
    await close();
  });

  it('fits the history and a change’s page on a desktop and a 375 px phone: nothing cut off, no small targets, no serious axe finding', async () => {
    const { page, close } = await signedIn(true);
    await check(page, '01-history');
    await page.setViewportSize(VIEWPORTS.desktop);
    await openChange(page);
    await page.locator('summary').first().click();
    await check(page, '02-change');
    await close();
  });
});
