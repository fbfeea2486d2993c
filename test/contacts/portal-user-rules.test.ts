/**
 * Rules of the Contact block's portal-user form found by an audit of the demo host: a contact
 * cannot be given another enabled portal user's login (any case), a former portal user
 * switched on again with empty dates starts today, and a version 1 install has no profile to
 * choose (SPEC §3: profile is version 2 only).
 */
import { expect } from 'chai';
import { addYears, todayIn } from '../../plugin/auth/support-period.js';
import { passwordIn, startContactsHost, type ContactsHost } from './contacts-fixture.js';

describe('contacts: portal-user rules @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;
  let today: string;

  before(async () => {
    h = await startContactsHost();
    today = todayIn(h.api.regional.timeZone());
  });
  after(async () => h?.stop());

  async function enable(contactId: number, email: string, fields: Record<string, string> = {}) {
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(contactId, { portalUser: 'yes', ...fields });
    expect(saved.status, saved.html).to.equal(200);
    return passwordIn(await h.mailbox.waitFor(email, { since }));
  }

  it('refuses to make a contact a portal user with another enabled portal user’s login, whatever its case', async () => {
    const first = await h.addContact({ firstname: 'Mario', lastname: 'First', email: 'mario.shared@example.com' });
    const password = await enable(first, 'mario.shared@example.com');
    const second = await h.addContact({ firstname: 'Mario', lastname: 'Second', email: 'Mario.Shared@Example.com' });

    const since = h.mailbox.received.length;
    const refused = await h.savePortalUser(second, { portalUser: 'yes' });
    expect(refused.status).to.equal(422);
    expect(refused.html).to.include('mario.shared@example.com is already the login of another portal user');
    expect(await h.account(second), 'nothing saved').to.equal(undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'nothing sent').to.equal(since);
    expect((await h.portalLogin('mario.shared@example.com', password)).status, 'the first contact still signs in').to.equal(200);

    await h.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await h.savePortalUser(second, { portalUser: 'yes' });
      expect(italian.status).to.equal(422);
      expect(italian.html).to.include('mario.shared@example.com è già l’email di accesso di un altro utente portale');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }

    // Once the first is switched off, the email is free for the second.
    expect((await h.savePortalUser(first, { portalUser: 'no' })).status).to.equal(200);
    const secondPassword = await enable(second, 'mario.shared@example.com');
    expect((await h.portalLogin('mario.shared@example.com', secondPassword)).status).to.equal(200);
  });

  /** Deletes a contact while its deletion's listener fails (a busy database, say): its account stays behind. */
  async function deleteLeavingAccount(gone: number): Promise<void> {
    const sequelize = h.api.database.sequelize;
    sequelize.addHook('beforeQuery', 'orphan-account', (options: unknown) => {
      // Before it runs a statement has no SQL yet: the account's delete is the BULKDELETE bound to this contact.
      const { replacements, type } = options as { replacements?: Record<string, unknown>; type?: string };
      if (type === 'BULKDELETE' && replacements?.contactId === gone) throw new Error('database busy');
    });
    try {
      await h.api.records.delete('Contacts', gone);
    } finally {
      sequelize.removeHook('beforeQuery', 'orphan-account');
    }
    expect(await h.account(gone), 'left behind').not.to.equal(undefined);
  }

  it('an email held by the account of a contact no longer in the CRM is free for a portal user whose email changes to it', async () => {
    const gone = await h.addContact({ firstname: 'Gone', lastname: 'Holder', email: 'held.email@example.com' });
    await enable(gone, 'held.email@example.com');
    await deleteLeavingAccount(gone);

    // A portal user whose email changes to that address keeps the portal, with new access details.
    const moving = await h.addContact({ firstname: 'Moving', lastname: 'Holder', email: 'moving.holder@example.com' });
    await enable(moving, 'moving.holder@example.com');
    const since = h.mailbox.received.length;
    await h.api.records.update('Contacts', moving, { values: { email: 'held.email@example.com' } });
    expect(Boolean((await h.account(moving))!.portal_enabled), 'still a portal user').to.equal(true);
    const password = passwordIn(await h.mailbox.waitFor('held.email@example.com', { since }));
    expect((await h.portalLogin('held.email@example.com', password)).status).to.equal(200);
    expect(await h.account(gone), 'the account of the contact that is gone is removed').to.equal(undefined);
  });

  it('an email held by the account of a contact no longer in the CRM is free for a contact switched on', async () => {
    const gone = await h.addContact({ firstname: 'Gone', lastname: 'Again', email: 'held.again@example.com' });
    await enable(gone, 'held.again@example.com');
    await deleteLeavingAccount(gone);
    const next = await h.addContact({ firstname: 'Next', lastname: 'Holder', email: 'held.again@example.com' });
    const password = await enable(next, 'held.again@example.com');
    expect((await h.portalLogin('held.again@example.com', password)).status).to.equal(200);
    expect(await h.account(gone)).to.equal(undefined);
  });

  it('switches on only one of two contacts of one email switched on at the same moment, and mails only that one', async () => {
    const first = await h.addContact({ firstname: 'Twin', lastname: 'First', email: 'twin.shared@example.com' });
    const second = await h.addContact({ firstname: 'Twin', lastname: 'Second', email: 'twin.shared@example.com' });
    const since = h.mailbox.received.length;
    const saves = await Promise.all([h.savePortalUser(first, { portalUser: 'yes' }), h.savePortalUser(second, { portalUser: 'yes' })]);
    expect(saves.map((saved) => saved.status).sort()).to.deep.equal([200, 422]);
    const [enabled] = await h.sql<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_portal_accounts WHERE email = :email AND portal_enabled = :yes', { email: 'twin.shared@example.com', yes: true });
    expect(Number(enabled!.n), 'enabled accounts with that login').to.equal(1);
    const password = passwordIn(await h.mailbox.waitFor('twin.shared@example.com', { since }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length - since, 'access details sent').to.equal(1);
    expect((await h.portalLogin('twin.shared@example.com', password)).status, 'the contact switched on signs in').to.equal(200);
  });

  it('switches a former portal user on again from today when both dates are left empty', async () => {
    const id = await h.addContact({ firstname: 'Former', lastname: 'User', email: 'former.user@example.com' });
    await enable(id, 'former.user@example.com', { supportStartDate: '2024-01-01', supportEndDate: '2099-12-31' });
    expect((await h.savePortalUser(id, { portalUser: 'no', supportStartDate: '2024-01-01', supportEndDate: '2099-12-31' })).status).to.equal(200);
    expect(String((await h.account(id))!.support_start_date).slice(0, 10)).to.equal('2024-01-01');

    const password = await enable(id, 'former.user@example.com');
    const account = await h.account(id);
    expect(String(account!.support_start_date).slice(0, 10)).to.equal(today);
    expect(String(account!.support_end_date).slice(0, 10)).to.equal(addYears(today, 1));
    expect((await h.portalLogin('former.user@example.com', password)).status).to.equal(200);
  });
});

describe('contacts: portal-user form on a version 1 install @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;

  before(async () => {
    h = await startContactsHost({ installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
  });
  after(async () => h?.stop());

  it('offers no profile, gives a new portal user Default, and refuses another profile posted', async () => {
    const id = await h.addContact({ firstname: 'Classic', lastname: 'User', email: 'classic.user@example.com' });
    const { html } = await h.contactPage(id);
    const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
    expect(form).to.include('name="portalUser"');
    expect(form, 'no profile on version 1').not.to.include('name="profileId"');
    expect(html).not.to.include('>Profile<');

    const [defaultProfile] = await h.sql<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { yes: true });
    const now = new Date();
    await h.api.database.sequelize.query(
      'INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version) VALUES (:name, :d, :no, :now, :now, 1)',
      { replacements: { name: 'Resellers', d: '', no: false, now } },
    );
    const [other] = await h.sql<{ id: unknown }>('SELECT id FROM bp_profiles WHERE name = :name', { name: 'Resellers' });

    const since = h.mailbox.received.length;
    const refused = await h.savePortalUser(id, { portalUser: 'yes', profileId: String(other!.id) });
    expect(refused.status).to.equal(422);
    expect(refused.html).to.include('the portal uses version 1 now, which has no profiles');
    expect(await h.account(id)).to.equal(undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length).to.equal(since);

    // The form as version 1 shows it (no profile field) saves, on the Default profile.
    const body = new URLSearchParams({ _csrf: (await h.formToken(id)).token, portalUser: 'yes', supportStartDate: '', supportEndDate: '', version: '0' });
    const saved = await fetch(`${h.url}/settings/business-portal/contacts/${id}/portal-user`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: h.admin },
      body: body.toString(),
    });
    expect(saved.status, await saved.text()).to.equal(200);
    expect(Number((await h.account(id))!.profile_id)).to.equal(Number(defaultProfile!.id));
  });
});
