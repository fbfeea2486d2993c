/**
 * Version 1 settings forms carry the revision of the section they show: a form rendered before
 * another admin's save of the same section is refused (409) with the page as it is now, and
 * nothing is stored; a save of another section meanwhile does not make it stale (it is saved on
 * top of that one, which it keeps).
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { CLASSIC_SETTINGS_KEY, type ClassicSettings } from '../../plugin/settings/classic-settings.js';
import { adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { postPairs, SETTINGS, storedSetting, UPGRADED_FROM_V1 } from './settings-test-kit.js';

const CLASSIC = `${SETTINGS}/classic`;

describe('settings: version 1 forms rendered before another admin’s save @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;

  /** The revision a form of the page carries (the first form's by default). */
  const formRevision = (page: string, form = 'modules') => new RegExp(`action="[^"]+/classic/${form}"[\\s\\S]*?name="revision" value="([^"]+)"`).exec(page)?.[1] ?? '';
  const revision = async (form = 'modules') => formRevision(await (await admin.get(CLASSIC)).text(), form);
  const active = async () => ((await storedSetting(api, CLASSIC_SETTINGS_KEY)) as ClassicSettings).modules.filter((m) => m.active).map((m) => m.module);

  before(async () => {
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
    api = test.host.api;
    admin = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  it('refuses a stale form with a 409 and keeps the other admin’s change; a fresh one saves', async () => {
    const seen = await revision();
    expect(seen).to.match(/^[A-Za-z0-9_-]+$/);
    // Another admin activates Invoice meanwhile.
    const other = await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', await revision()], ...['HelpDesk', 'Faq', 'Documents', 'Invoice'].map((m) => ['active', m] as [string, string])]);
    expect(other.status).to.equal(303);
    expect(await active()).to.include('Invoice');
    const stored = await storedSetting(api, CLASSIC_SETTINGS_KEY);

    const stale = await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', seen], ['active', 'HelpDesk'], ['active', 'Faq'], ['active', 'Documents'], ['move', 'down:Faq']]);
    expect(stale.status).to.equal(409);
    const page = await stale.text();
    expect(page).to.include('someone else changed this part of the version 1 settings after this page was loaded');
    expect(page, 'the page shows the settings as they are now').to.match(/id="bp-active-Invoice" name="active" value="Invoice" checked>/);
    expect(await storedSetting(api, CLASSIC_SETTINGS_KEY), 'nothing stored').to.deep.equal(stored);

    const fresh = await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', await revision()], ['active', 'HelpDesk'], ['active', 'Faq'], ['active', 'Documents'], ['move', 'down:Faq']]);
    expect(fresh.status).to.equal(303);
    expect(await active()).not.to.include('Invoice');
  });

  it('saves a form of another section than the one someone else saved meanwhile, keeping their change', async () => {
    const page = await (await admin.get(CLASSIC)).text();
    const user = (await api.users.users()).find((u) => u.active)!;
    // Another admin saves Basic (Invoice on) after this page was loaded…
    const other = await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', await revision()], ...['HelpDesk', 'Faq', 'Documents', 'Invoice'].map((m) => ['active', m] as [string, string])]);
    expect(other.status).to.equal(303);
    // …this admin saves Select user and Advanced from the page loaded before.
    const chosen = await postPairs(test, admin, `${CLASSIC}/user`, [['revision', formRevision(page, 'user')], ['userId', String(user.id)]]);
    expect(chosen.status, 'another section saved meanwhile').to.equal(303);
    const advanced = await postPairs(test, admin, `${CLASSIC}/advanced`, [['revision', formRevision(page, 'advanced')], ['related.HelpDesk', 'yes']]);
    expect(advanced.status, 'another section saved meanwhile').to.equal(303);
    const now = (await storedSetting(api, CLASSIC_SETTINGS_KEY)) as ClassicSettings;
    expect(now.userId).to.equal(user.id);
    expect(now.modules.find((m) => m.module === 'HelpDesk')?.viewAllRelated).to.equal(true);
    expect(await active(), 'the other admin’s change is kept').to.include('Invoice');
    // The same page's Basic form is stale: Basic is what the other admin changed.
    const stale = await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', formRevision(page)], ['active', 'HelpDesk']]);
    expect(stale.status).to.equal(409);
    expect(await active()).to.include('Invoice');
  });

  it('puts the revision in each of the four forms', async () => {
    const page = await (await admin.get(CLASSIC)).text();
    const forms = [...page.matchAll(/<form method="post" action="[^"]+\/classic\/(\w+)"[\s\S]*?<\/form>/g)];
    expect(forms.map((m) => m[1])).to.deep.equal(['modules', 'advanced', 'user', 'template']);
    for (const form of forms) expect(form[0], form[1]).to.match(/name="revision" value="[A-Za-z0-9_-]+"/);
  });

  it('saves one of two forms sent at once from the same revision and refuses the other as stale, also for the very first save', async () => {
    for (let round = 0; round < 4; round += 1) {
      // Rounds 0 and 2 start with nothing stored: the two saves race to insert the row.
      if (round % 2 === 0) await api.database.sequelize.query('DELETE FROM bp_settings WHERE ' + api.database.sequelize.getQueryInterface().quoteIdentifier('key') + ' = :key', { replacements: { key: CLASSIC_SETTINGS_KEY } });
      // Otherwise a third state, so that each of the two forms changes something.
      else expect((await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', await revision()], ['active', 'HelpDesk']])).status).to.equal(303);
      const seen = await revision();
      const [first, second] = await Promise.all([
        postPairs(test, admin, `${CLASSIC}/modules`, [['revision', seen], ...['HelpDesk', 'Faq', 'Documents', 'Invoice'].map((m) => ['active', m] as [string, string])]),
        postPairs(test, admin, `${CLASSIC}/modules`, [['revision', seen], ...['HelpDesk', 'Faq'].map((m) => ['active', m] as [string, string])]),
      ]);
      expect([first.status, second.status].sort(), `round ${round}`).to.deep.equal([303, 409]);
      const won = first.status === 303 ? ['HelpDesk', 'Faq', 'Documents', 'Invoice'] : ['HelpDesk', 'Faq'];
      expect((await active()).sort(), `round ${round}`).to.deep.equal([...won].sort());
    }
  });
});
