/**
 * Version 1 settings forms carry the revision of the settings they show: a form rendered before
 * another admin's save is refused (409) with the page as it is now, and nothing is stored.
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

  const revision = async () => /name="revision" value="([^"]+)"/.exec(await (await admin.get(CLASSIC)).text())?.[1] ?? '';
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
    expect(page).to.include('someone else changed the version 1 settings after this page was loaded');
    expect(page, 'the page shows the settings as they are now').to.match(/id="bp-active-Invoice" name="active" value="Invoice" checked>/);
    const staleUser = await postPairs(test, admin, `${CLASSIC}/user`, [['revision', seen], ['userId', '']]);
    expect(staleUser.status).to.equal(409);
    expect(await storedSetting(api, CLASSIC_SETTINGS_KEY), 'nothing stored').to.deep.equal(stored);

    const fresh = await postPairs(test, admin, `${CLASSIC}/modules`, [['revision', await revision()], ['active', 'HelpDesk'], ['active', 'Faq'], ['active', 'Documents'], ['move', 'down:Faq']]);
    expect(fresh.status).to.equal(303);
    expect(await active()).not.to.include('Invoice');
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
