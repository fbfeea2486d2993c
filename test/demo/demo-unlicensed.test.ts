/**
 * The demo on a CRM without the Business Portal licence (`LICENCES=` empty): the host starts and
 * serves, and the demo's Default profile enables only the modules the licence allows (the base
 * set), with no button to a module it does not show.
 */
import { expect } from 'chai';
import { BASE_PORTAL_MODULES } from '../../plugin/eligibility/module-eligibility.js';
import { DEMO_PORTAL_PASSWORD } from '../../host/demo/demo-data.js';
import { StoredLicences } from '../../host/plugins/installation-settings.js';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { JANE, signedIn } from '../portal-api/api-test-kit.js';
import { adminActor, adminClient, profileService, SETTINGS } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';

describe('Demo data without the Business Portal licence @db', function () {
  let test: TestHost;

  before(async function () {
    test = await startTestHost({ demo: true, licences: [] });
  });
  after(async function () {
    await test?.stop();
  });

  it('starts, serves healthz and seeds a Default profile with only the base modules', async function () {
    expect(await test.host.api.licences.has('business-portal')).to.equal(false);
    expect((await fetch(`${test.url}/healthz`)).status).to.equal(200);

    const service = profileService(test.host.api);
    const defaultProfile = (await service.list()).find((p) => p.isDefault)!;
    const document = await service.document(defaultProfile.id);
    const shown = document.modules.filter((m) => m.shown).map((m) => m.module);
    expect(shown).to.include.members(['HelpDesk', 'Faq', 'Documents']);
    expect(shown.every((module) => BASE_PORTAL_MODULES.includes(module)), shown.join(', ')).to.equal(true);
    expect(document.buttons.map((b) => b.module).every((module) => shown.includes(module))).to.equal(true);
    expect(document.buttons.length).to.be.greaterThan(0);
    expect(document.flags).to.deep.equal([]);

    const login = await fetch(`${test.url}/portal/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email: 'jane.doe@example.com', password: DEMO_PORTAL_PASSWORD }),
    });
    expect(login.status).to.equal(200);
  });

  it('puts every contact on Default: a profile given while licensed stays stored, inert (its fields, its second factor), and the settings page says so', async function () {
    const api = test.host.api;
    const licences = api.licences as StoredLicences;
    const service = profileService(api);
    const actor = await adminActor(api);
    // While the CRM held the licence, Jane was given a profile that hides the ticket title.
    await licences.configure(['business-portal']);
    let other;
    try {
      other = await service.create({ name: 'Title hidden', description: '', startFrom: (await service.list()).find((p) => p.isDefault)!.id }, actor);
      const document = await service.document(other.id);
      const modules = document.modules.map((m) => (m.module === 'HelpDesk' ? { ...m, fields: { ...m.fields, ticket_title: 'hidden' as const }, listColumns: m.listColumns.filter((c) => c !== 'ticket_title') } : m));
      await service.saveSection(other.id, 'modules', modules, document.profile.version, actor);
      // … and asks for an emailed code at sign-in, which Default does not.
      const saved = await service.document(other.id);
      await service.saveSection(other.id, 'general', { ...saved.general, twoFactorType: 'email' }, saved.profile.version, actor);
      await api.database.sequelize.query('UPDATE bp_portal_accounts SET profile_id = :id WHERE email = :email', { replacements: { id: other.id, email: JANE } });
    } finally {
      await licences.configure([]);
    }

    // Default's sign-in (the password alone), not the inert profile's second factor.
    const jane = await signedIn(test, JANE);
    const me = await jane.get('/me');
    expect(me.body.contact.profile.name).to.equal('Default');
    const fields = await jane.get('/modules/HelpDesk/fields');
    expect(fields.status).to.equal(200);
    expect(JSON.stringify(fields.body)).to.include('"ticket_title"');
    const list = await jane.get('/modules/HelpDesk/records');
    expect(list.body.rows.length).to.be.greaterThan(0);
    expect(list.body.rows[0].values).to.have.property('ticket_title');

    const admin = await adminClient(test, 'admin', DEMO_ADMIN_PASSWORD);
    const home = await (await admin.get(`${SETTINGS}/`)).text();
    expect(home).to.match(new RegExp(`<tr data-profile-id="${other.id}">[\\s\\S]*?Title hidden <span class="bp-badge bp-inert">\\(not in force without the licence: its contacts use Default\\)</span>`));
  });
});
