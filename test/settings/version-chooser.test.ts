/**
 * The Version chooser of the Business Portal settings (SPEC 2.1): absent on a fresh install,
 * present on an install upgraded from a release with version 1; switching stores only the
 * version — the version 1 settings and the version 2 profiles stay exactly as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { readConfig } from '../../host/config.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { CLASSIC_SETTINGS_KEY } from '../../plugin/settings/classic-settings.js';
import { PORTAL_VERSION_SETTING } from '../../plugin/settings/portal-version.js';
import { adminActor, adminClient, profileService, rows, type AdminClient } from '../profiles/profile-test-kit.js';
import { apiClient, JANE, portalLogin } from '../portal-api/api-test-kit.js';
import { forgedOutcomes, unsigned } from '../support/admin-outcomes.js';
import { startSecondHost, startTestHost, type TestHost } from '../support/host.js';
import { captureInfoLogs, clerkClient, postPairs, SETTINGS, storedSetting, UPGRADED_FROM_V1, userId } from './settings-test-kit.js';

describe('settings: version chooser @db', () => {
  describe('on a fresh install', () => {
    let test: TestHost;
    let admin: AdminClient;
    before(async () => {
      test = await startTestHost();
      admin = await adminClient(test);
    });
    after(async () => {
      await test?.stop();
    });

    it('shows no chooser and no version 1 page, and refuses a version post', async () => {
      const home = await (await admin.get(`${SETTINGS}/`)).text();
      expect(home).to.include('Customers see version 2 of the portal now.');
      expect(home).not.to.include('bp-version-form');
      expect(home).not.to.include('name="version"');
      expect(home).not.to.include(`${SETTINGS}/classic`);
      expect((await admin.get(`${SETTINGS}/classic`)).status).to.equal(404);
      const post = await admin.post(`${SETTINGS}/version`, { version: '1' });
      expect(post.status).to.equal(404);
      expect(await storedSetting(test.host.api, PORTAL_VERSION_SETTING)).to.equal(2);
      expect((await admin.post(`${SETTINGS}/classic/user`, { userId: '' })).status).to.equal(404);
      expect(await storedSetting(test.host.api, CLASSIC_SETTINGS_KEY)).to.equal(undefined);
    });
  });

  describe('on an install upgraded from version 1', () => {
    let test: TestHost;
    let api: HostApi;
    let admin: AdminClient;
    before(async () => {
      test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
      api = test.host.api;
      admin = await adminClient(test);
    });
    after(async () => {
      await test?.stop();
    });

    it('shows the Version dropdown on version 1, with the link to the version 1 settings', async () => {
      const home = await (await admin.get(`${SETTINGS}/`)).text();
      expect(home).to.include('This CRM was upgraded from release 20.04, which used the version 1 (classic) portal.');
      expect(home).to.include('id="bp-version-form"');
      expect(home).to.match(/<option value="1" selected>/);
      expect(home).to.include('Customers see version 1 of the portal now.');
      // What switching keeps is read with the dropdown, not only seen under it.
      expect(home).to.match(/<select id="bp-version-select" name="version" aria-describedby="bp-version-keeps">/);
      expect(home).to.include('<small id="bp-version-keeps">Switching keeps the settings of both versions');
      expect(home).to.include(`href="${SETTINGS}/classic"`);
      expect((await admin.get(`${SETTINGS}/classic`)).status).to.equal(200);
    });

    it('says once which version customers see: on the home’s version line, and on the version 1 page only whether its settings are in use, in English and Italian', async () => {
      const count = (text: string, part: string) => text.split(part).length - 1;
      try {
        for (const [language, sees, inUse] of [
          ['en', 'Customers see version 1', 'These settings are in use: they decide what customers get.'],
          ['it', 'i clienti vedono la versione 1', 'Queste impostazioni sono in uso: decidono cosa ricevono i clienti.'],
        ] as const) {
          await api.database.sequelize.query(`UPDATE crm_users SET language = '${language}' WHERE user_name = 'admin'`);
          const home = await (await admin.get(`${SETTINGS}/`)).text();
          expect(count(home.toLowerCase(), sees.toLowerCase()), language).to.equal(1);
          const classic = await (await admin.get(`${SETTINGS}/classic`)).text();
          expect(classic.toLowerCase(), language).not.to.include(sees.toLowerCase());
          expect(classic).to.include(inUse);
        }
      } finally {
        await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });

    it('switches versions without touching either configuration, and logs who switched', async () => {
      // A version 1 configuration and a version 2 profile of their own.
      expect((await admin.post(`${SETTINGS}/classic/user`, { userId: String(await userId(api, 'paul.former')) })).status).to.equal(303);
      const modules = await postPairs(test, admin, `${SETTINGS}/classic/modules`, [['active', 'HelpDesk'], ['active', 'Documents'], ['move', 'down:HelpDesk']]);
      expect(modules.status).to.equal(303);
      const service = profileService(api);
      await service.create({ name: 'Resellers', description: 'Partners', startFrom: null }, await adminActor(api));
      const snapshot = async () => ({
        classic: await storedSetting(api, CLASSIC_SETTINGS_KEY),
        profiles: await rows(api, 'SELECT * FROM bp_profiles ORDER BY id'),
        documents: await Promise.all((await service.list()).map((p) => service.document(p.id))),
      });
      const before = await snapshot();
      expect(before.classic).to.be.an('object');

      const logs = captureInfoLogs(api);
      try {
        const toTwo = await admin.post(`${SETTINGS}/version`, { version: '2' });
        expect(toTwo.status).to.equal(303);
        expect(unsigned(toTwo.headers.get('location'))).to.equal(`${SETTINGS}/?done=version`);
        expect(await storedSetting(api, PORTAL_VERSION_SETTING)).to.equal(2);
        const page = await (await admin.get(toTwo.headers.get('location')!)).text();
        expect(page).to.include('Customers now see version 2 of the portal.');
        expect(page).to.match(/<option value="2" selected>/);
        expect(await snapshot()).to.deep.equal(before);
        // The version 1 page stays reachable and says it is not in use.
        expect(await (await admin.get(`${SETTINGS}/classic`)).text()).to.include('Customers see version 2 (profiles) now.');

        expect((await admin.post(`${SETTINGS}/version`, { version: '1' })).status).to.equal(303);
        expect(await storedSetting(api, PORTAL_VERSION_SETTING)).to.equal(1);
        expect(await snapshot()).to.deep.equal(before);
        // Back on version 1 first, so that this check cannot leave the others on version 2: the
        // notice in the page at load is not announced, the title read first starts with it.
        expect(page).to.include('<title>Customers now see version 2 of the portal. · Business Portal · Reference CRM</title>');
      } finally {
        logs.restore();
      }
      const switches = logs.lines.filter((l) => l.message === 'Business Portal: portal version chosen');
      expect(switches.map((l) => [l.fields?.userName, l.fields?.from, l.fields?.to])).to.deep.equal([
        ['admin', 1, 2],
        ['admin', 2, 1],
      ]);
    });

    it('says the version was switched only after this admin\'s own switch: never for a crafted, altered or another session\'s link', async () => {
      const switched = await admin.post(`${SETTINGS}/version`, { version: '1' });
      expect(switched.status).to.equal(303);
      const location = switched.headers.get('location')!;
      expect(await (await admin.get(location)).text()).to.include('Customers now see version 1 of the portal.');
      const other = await adminClient(test);
      const links = { ...forgedOutcomes(location, { done: 'versions' }), made: `${SETTINGS}/?done=version` };
      const shown: Record<string, boolean> = {};
      for (const [name, link] of Object.entries(links)) shown[name] = /now see version|saved\./.test(await (await admin.get(link)).text());
      shown.otherSession = (await (await other.get(location)).text()).includes('Customers now see version');
      expect(shown).to.deep.equal({ unsigned: false, madeUp: false, otherOutcome: false, extraParameter: false, made: false, otherSession: false });
    });

    it('refuses a bad version, a missing or forged CSRF token and non-admins, changing nothing', async () => {
      const bad = await admin.post(`${SETTINGS}/version`, { version: '3' });
      expect(bad.status).to.equal(400);
      const badPage = await bad.text();
      expect(badPage).to.include('version: the value must be one of 1, 2.');
      // The page again with its refusal: the title says so first, as GOV.UK's error summary does.
      expect(badPage).to.include('<title>Error: Business Portal · Reference CRM</title>');
      expect((await admin.post(`${SETTINGS}/version`, { version: '2', extra: 'x' })).status).to.equal(400);
      expect((await admin.post(`${SETTINGS}/version`, { version: '2' }, { csrf: false })).status).to.equal(403);
      expect((await admin.post(`${SETTINGS}/version`, { _csrf: 'forged', version: '2' }, { csrf: false })).status).to.equal(403);
      const clerk = await clerkClient(test);
      expect((await clerk.get(`${SETTINGS}/`)).status).to.equal(403);
      expect((await clerk.post(`${SETTINGS}/version`, { version: '2' })).status).to.equal(403);
      const anonymous = await fetch(`${test.url}${SETTINGS}/version`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ version: '2' }) });
      expect(anonymous.status).to.equal(303);
      expect(anonymous.headers.get('location')).to.match(/^\/login/);
      expect(await storedSetting(api, PORTAL_VERSION_SETTING)).to.equal(1);
    });

    it('answers in Italian for an Italian admin', async () => {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const page = await (await admin.get(`${SETTINGS}/`)).text();
        expect(page).to.include('Ora i clienti vedono la versione 1 del portale.');
        const saved = await admin.post(`${SETTINGS}/version`, { version: '1' });
        expect(await (await admin.get(saved.headers.get('location')!)).text()).to.include('<title>Ora i clienti vedono la versione 1 del portale. · Business Portal · Reference CRM</title>');
        const bad = await admin.post(`${SETTINGS}/version`, { version: '9' });
        expect(await bad.text()).to.include('version: il valore deve essere uno tra 1, 2.');
      } finally {
        await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });
  });
  describe('on an install upgraded from version 1 with no release given (INSTALL_ORIGIN=upgraded)', () => {
    let test: TestHost;
    let admin: AdminClient;
    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bp-config-'));
      let config;
      try {
        config = readConfig({ INSTALL_ORIGIN: 'upgraded' }, dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(config.installOrigin).to.deep.equal({ kind: 'upgraded', fromRelease: '', hadPortalVersion1: true });
      test = await startTestHost({ installOrigin: config.installOrigin! });
      admin = await adminClient(test);
    });
    after(async () => {
      await test?.stop();
    });

    it('says "an earlier release" in English and Italian, never an untranslated "unknown"', async () => {
      const english = await (await admin.get(`${SETTINGS}/`)).text();
      expect(english).to.include('This CRM was upgraded from an earlier release, which used the version 1 (classic) portal.');
      expect(english).not.to.match(/release (unknown|\.|,)/);
      await test.host.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
      try {
        const italian = await (await admin.get(`${SETTINGS}/`)).text();
        expect(italian).to.include('Questo CRM è stato aggiornato da una release precedente, che usava il portale versione 1 (classico).');
        expect(italian).not.to.match(/unknown|release (\.|,)/);
      } finally {
        await test.host.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
      }
    });
  });

  describe('on an install that was on version 1 and is started again as a fresh one (INSTALL_ORIGIN=fresh)', () => {
    let first: TestHost;
    let fresh: TestHost;
    before(async () => {
      first = await startTestHost({ demo: true, logLevel: 'error', installOrigin: UPGRADED_FROM_V1 });
      fresh = await startSecondHost(first, { installOrigin: { kind: 'fresh' } });
    });
    after(async () => {
      await fresh?.stop();
      await first?.stop();
    });

    it('gives customers version 2 and shows no version 1, keeping the stored choice', async () => {
      expect(await storedSetting(first.host.api, PORTAL_VERSION_SETTING)).to.equal(1);
      const admin = await adminClient(fresh, 'admin', 'Admin-demo-1');
      const home = await (await admin.get(`${SETTINGS}/`)).text();
      expect(home).to.include('Customers see version 2 of the portal now.').and.include('only version 2 (profiles) exists');
      expect(home).not.to.include('Customers see version 1');
      expect((await admin.get(`${SETTINGS}/classic`)).status).to.equal(404);
      const jane = apiClient(fresh, await portalLogin(fresh, JANE));
      expect((await jane.get('/modules')).body.version).to.equal(2);
      expect(await storedSetting(first.host.api, PORTAL_VERSION_SETTING)).to.equal(1);
    });
  });
});
