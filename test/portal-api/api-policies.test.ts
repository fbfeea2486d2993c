/**
 * An install on portal version 1: the same API and access layer with the implicit classic
 * policy — tickets may be opened, commented and given files; every other module is read-only.
 */
import { expect } from 'chai';
import { startTestHost, type TestHost } from '../support/host.js';
import { UPGRADED_FROM_V1 } from '../settings/settings-test-kit.js';
import { API, defaultProfile, idsWhere, JANE, MARIO, PASSWORD, settingsStore, signedIn, type ApiClient } from './api-test-kit.js';

describe('portal API: version 1 and the sign-in gate @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;

  before(async () => {
    // Upgraded from a release with version 1 (only such an install has it), on version 2 until a test switches.
    t = await startTestHost({ demo: true, installOrigin: UPGRADED_FROM_V1 });
    await settingsStore(t.host.api).set('portal.version', 2);
    jane = await signedIn(t, JANE);
  });
  after(async () => t?.stop());

  it('shows the implicit policy: tickets create and comment, the rest read-only, no buttons', async () => {
    const v2 = await jane.get('/modules');
    expect(v2.body.version).to.equal(2);
    await settingsStore(t.host.api).set('portal.version', 1);
    try {
      const res = await jane.get('/modules');
      expect(res.status).to.equal(200);
      expect(res.body.version).to.equal(1);
      expect(res.body.buttons).to.deep.equal([]);
      // Version 1 has no profiles: the Default one is kept for version 2, not in force.
      expect((await jane.get('/me')).body.contact.profile).to.equal(null);
      const tickets = res.body.modules.find((m: any) => m.name === 'HelpDesk');
      expect(tickets.actions).to.deep.equal({ view: true, create: true, edit: false, delete: false });
      expect(tickets.tools).to.include({ comments: true, documents: true });
      for (const module of res.body.modules.filter((m: any) => m.name !== 'HelpDesk')) {
        expect(module.actions, module.name).to.deep.equal({ view: true, create: false, edit: false, delete: false });
        expect(module.tools.comments, module.name).to.equal(false);
      }

      const janeId = (await idsWhere(t.host.api, 'Contacts', 'email', JANE))[0]!;
      const list = await jane.get('/modules/HelpDesk/records?pageSize=100');
      expect(list.status).to.equal(200);
      for (const row of list.body.rows) expect((await t.host.api.records.get('HelpDesk', row.id))!.values.contact_id).to.equal(janeId);
      // Contacts and Accounts are not among version 1's default modules, yet the customer's own
      // name and company label their tickets' references (named, not linked).
      if (!res.body.modules.some((m: any) => m.name === 'Contacts' || m.name === 'Accounts')) {
        const acme = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
        const row = list.body.rows[0];
        expect(list.body.columns.map((c: { name: string }) => c.name)).to.include.members(['contact_id']);
        expect(row.references.contact_id).to.deep.equal({ id: janeId, module: 'Contacts', label: 'Jane Doe' });
        const record = await jane.get(`/modules/HelpDesk/records/${row.id}`);
        expect(record.body.references.account_id).to.deep.equal({ id: acme, module: 'Accounts', label: 'Acme Ltd' });
      }

      // What support fills (status, solution, number) is read-only for customers on version 1.
      const closing = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Closed by me', status: 'Closed' } });
      expect(closing.status).to.equal(422);
      expect(closing.body.error.problems.map((p: { code: string }) => p.code)).to.include('not-writable');
      const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Opened on version 1' } });
      expect(created.status, created.text).to.equal(201);
      const id = created.body.id;
      expect(created.body.editable).to.equal(false);
      const comment = await jane.send('POST', `/modules/HelpDesk/records/${id}/comments`, { body: 'A comment on version 1' });
      expect(comment.status).to.equal(201);
      const patch = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { ticket_title: 'Changed' } });
      expect(patch.status).to.equal(403);
      expect(patch.body.error.code).to.equal('not_allowed');
      expect((await t.host.api.records.get('HelpDesk', id))!.values.ticket_title).to.equal('Opened on version 1');
      for (const module of res.body.modules.filter((m: any) => m.name !== 'HelpDesk')) {
        const refused = await jane.send('POST', `/modules/${module.name}/records`, { values: {} });
        expect(refused.status, module.name).to.equal(403);
      }
      // Version 2's modules that version 1 does not offer are not found.
      if (!res.body.modules.some((m: any) => m.name === 'Invoice')) expect((await jane.get('/modules/Invoice/records')).status).to.equal(404);
    } finally {
      await settingsStore(t.host.api).set('portal.version', 2);
    }
    expect((await jane.get('/modules')).body.version).to.equal(2);
    expect((await jane.get('/me')).body.contact.profile).to.include({ name: 'Default' });
  });

  it('keeps a customer who must change their password out of every data route (the sign-in gate runs first)', async () => {
    const tom = await signedIn(t, 'tom.baker@example.com');
    expect((await tom.get('/modules')).status).to.equal(200);
    await t.host.api.database.sequelize.query('UPDATE bp_portal_accounts SET must_change_password = :yes WHERE email = :email', { replacements: { yes: true, email: 'tom.baker@example.com' } });
    const ticket = (await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'Line 2 controller reboots every night'))[0]!;
    for (const res of [await tom.get('/modules'), await tom.get('/modules/HelpDesk/records'), await tom.send('POST', `/modules/HelpDesk/records/${ticket}/comments`, { body: 'x' })]) {
      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal('password_change_required');
    }
  });

  it('signs a version 1 customer in with the password alone, whatever the kept version 2 profile asks for', async () => {
    const login = () => fetch(`${t.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: MARIO, password: PASSWORD }) });
    const profile = await defaultProfile(t.host.api);
    const general = profile.document.general;
    // An admin prepares version 2 (an emailed code) while customers are still on version 1.
    await profile.save('general', { ...general, twoFactorType: 'email' });
    await settingsStore(t.host.api).set('portal.version', 1);
    try {
      const onV1 = await login();
      expect(onV1.status, await onV1.clone().text()).to.equal(200);
      expect(onV1.headers.getSetCookie().some((c) => c.startsWith('bp_session='))).to.equal(true);
      await settingsStore(t.host.api).set('portal.version', 2);
      const onV2 = await login();
      expect(onV2.status).to.equal(202);
      expect(((await onV2.json()) as { secondFactor?: unknown }).secondFactor).to.deep.equal({ method: 'email' });
    } finally {
      await settingsStore(t.host.api).set('portal.version', 2);
      await profile.save('general', general);
    }
  });
});
