/**
 * The owner of tickets customers open, once the CRM no longer has it: a version 2 profile's owner
 * (a user or a group) or version 1's select user, deleted in the CRM after it was chosen. A
 * ticket opened on the portal (API or page) is not assigned to the missing id — no one in the CRM
 * would ever see it — but as if no owner were chosen (the host's default), the host's log warns
 * naming the profile, and the customer is still mailed. An inactive user still exists (SPEC 2.2:
 * a disabled user may be chosen) and stays the owner. Pages that create nothing never look the
 * owner up. Real host database, real SMTP server on loopback.
 */
import { expect } from 'chai';
import type { CrmRecord, HostApi, HostUsers, LogFields, OwnerRef } from '../../plugin/host-contract/index.js';
import { passwordIn } from '../contacts/contacts-fixture.js';
import { signedIn as pageClient } from '../portal-pages/portal-pages-kit.js';
import { adminActor, adminClient, profileService, rows } from '../profiles/profile-test-kit.js';
import { enablePortalUser, captureLogs, SETTINGS, UPGRADED_FROM_V1 } from '../settings/settings-test-kit.js';
import { startMailbox, tokenIn, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { apiClient, JANE, portalLogin, signedIn, type ApiClient } from './api-test-kit.js';

/** A CRM user added for one test, as the CRM's user administration would. */
async function addUser(api: HostApi, userName: string, options: { active?: boolean } = {}): Promise<number> {
  const now = new Date();
  await api.database.sequelize.getQueryInterface().bulkInsert('crm_users', [
    { user_name: userName, first_name: userName, last_name: 'Owner', email: `${userName}@example.com`, password_hash: '!', active: options.active ?? true, is_admin: false, language: 'en', created_at: now, updated_at: now },
  ]);
  const [row] = await rows<{ id: unknown }>(api, 'SELECT id FROM crm_users WHERE user_name = :userName', { userName });
  return Number(row!.id);
}

/** Deletes a CRM user (and their group memberships), as the CRM's user administration would. */
async function deleteUser(api: HostApi, id: number): Promise<void> {
  await api.database.sequelize.query('DELETE FROM crm_group_members WHERE user_id = :id', { replacements: { id } });
  await api.database.sequelize.query('DELETE FROM crm_users WHERE id = :id', { replacements: { id } });
  expect(await api.users.user(id), 'the user is gone from the CRM').to.equal(null);
}

async function addGroup(api: HostApi, name: string, memberIds: readonly number[]): Promise<number> {
  await api.database.sequelize.getQueryInterface().bulkInsert('crm_groups', [{ name, description: '', created_at: new Date() }]);
  const [row] = await rows<{ id: unknown }>(api, 'SELECT id FROM crm_groups WHERE name = :name', { name });
  const id = Number(row!.id);
  for (const userId of memberIds) await api.database.sequelize.getQueryInterface().bulkInsert('crm_group_members', [{ group_id: id, user_id: userId }]);
  return id;
}

async function deleteGroup(api: HostApi, id: number): Promise<void> {
  await api.database.sequelize.query('DELETE FROM crm_group_members WHERE group_id = :id', { replacements: { id } });
  await api.database.sequelize.query('DELETE FROM crm_groups WHERE id = :id', { replacements: { id } });
  expect(await api.users.group(id), 'the group is gone from the CRM').to.equal(null);
}

async function ticketTitled(api: HostApi, title: string): Promise<CrmRecord> {
  const ticket = (await api.records.query('HelpDesk', { where: { field: 'ticket_title', op: 'eq', value: title }, limit: 1 })).rows[0];
  if (!ticket) throw new Error(`no ticket "${title}"`);
  return ticket;
}

/** Counts the host's user and group look-ups while `work` runs. */
async function lookupsDuring(api: HostApi, work: () => Promise<void>): Promise<number> {
  const users = api.users as { -readonly [K in keyof HostUsers]: HostUsers[K] };
  const { user, group } = users;
  let count = 0;
  users.user = (id) => (count++, user.call(api.users, id));
  users.group = (id) => (count++, group.call(api.users, id));
  try {
    await work();
  } finally {
    users.user = user;
    users.group = group;
  }
  return count;
}

/** The fields of the one warning about an owner the CRM no longer has. */
function goneOwnerWarning(lines: readonly { message: string; fields?: LogFields }[]): LogFields {
  const found = lines.filter((line) => /owner/i.test(line.message) && /no longer/i.test(line.message));
  expect(found, JSON.stringify(lines)).to.have.length(1);
  return found[0]!.fields ?? {};
}

describe('portal: tickets whose configured owner the CRM no longer has @db', function () {
  this.timeout(60_000);
  let mailbox: Mailbox;

  before(async () => {
    mailbox = await startMailbox();
  });
  after(async () => {
    await mailbox?.close();
  });

  describe('version 2: the profile’s owner', () => {
    let test: TestHost;
    let api: HostApi;
    let jane: ApiClient;
    let profileId: number;

    const setOwner = async (owner: OwnerRef | null) => {
      const service = profileService(api);
      const document = await service.document(profileId);
      await service.saveSection(profileId, 'general', { ...document.general, owner }, document.profile.version, await adminActor(api));
    };
    const open = async (title: string): Promise<CrmRecord> => {
      const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: title } });
      expect(created.status, created.text).to.equal(201);
      return (await api.records.get('HelpDesk', created.body.id))!;
    };

    before(async () => {
      test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
      api = test.host.api;
      jane = await signedIn(test, JANE);
      const [account] = await rows<{ profile_id: unknown }>(api, 'SELECT a.profile_id FROM bp_portal_accounts a WHERE a.email = :email', { email: JANE });
      profileId = Number(account!.profile_id);
    });
    after(async () => {
      await test?.stop();
    });

    it('assigns the ticket as if no owner were chosen when the owner user was deleted, warns naming the profile, and still mails the customer', async () => {
      await setOwner(null);
      const unowned = await open('Opened with no owner chosen');

      const olga = await addUser(api, 'olga.gone');
      await setOwner({ kind: 'user', id: olga });
      expect((await open('Opened while Olga is there')).owner, 'an existing owner still owns').to.deep.equal({ kind: 'user', id: olga });
      await mailbox.waitFor('olga.gone@example.com', { subject: /Opened while Olga is there/ });

      await deleteUser(api, olga);
      const warnings = captureLogs(api, 'warn');
      try {
        const since = mailbox.received.length;
        const ticket = await open('Opened after Olga left');
        expect(ticket.owner, 'not the deleted user').not.to.deep.equal({ kind: 'user', id: olga });
        expect(ticket.owner, 'as with no owner chosen').to.deep.equal(unowned.owner);
        expect(goneOwnerWarning(warnings.lines)).to.include({ profileVersion: 2, profileId, profileName: 'Default', ownerKind: 'user', ownerId: olga, module: 'HelpDesk' });
        // The customer hears of their ticket as usual.
        await mailbox.waitFor(JANE, { since, subject: /Opened after Olga left/ });
      } finally {
        warnings.restore();
      }
    });

    it('does the same for an owner group deleted from the CRM, through the portal’s page', async () => {
      const member = await addUser(api, 'gina.member');
      const group = await addGroup(api, 'Night shift', [member]);
      await setOwner({ kind: 'group', id: group });
      expect((await open('Opened for the night shift')).owner).to.deep.equal({ kind: 'group', id: group });
      await mailbox.waitFor('gina.member@example.com', { subject: /Opened for the night shift/ });

      await deleteGroup(api, group);
      const warnings = captureLogs(api, 'warn');
      try {
        const page = await pageClient(test, JANE);
        const form = await page.get('/m/HelpDesk/new');
        const posted = await page.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: 'Opened after the night shift ended' });
        expect(posted.response.status, posted.html).to.equal(303);
        const ticket = await ticketTitled(api, 'Opened after the night shift ended');
        expect(ticket.owner).to.equal(null);
        expect(goneOwnerWarning(warnings.lines)).to.include({ profileVersion: 2, profileId, ownerKind: 'group', ownerId: group, module: 'HelpDesk' });
      } finally {
        warnings.restore();
      }
    });

    it('keeps an inactive owner user: they still exist in the CRM (SPEC 2.2), and are mailed', async () => {
      const ivan = await addUser(api, 'ivan.inactive', { active: false });
      await setOwner({ kind: 'user', id: ivan });
      const since = mailbox.received.length;
      expect((await open('Opened for an inactive owner')).owner).to.deep.equal({ kind: 'user', id: ivan });
      await mailbox.waitFor('ivan.inactive@example.com', { since, subject: /Opened for an inactive owner/ });
    });

    it('looks the owner up only when a record is created, never on pages that create nothing', async () => {
      const olive = await addUser(api, 'olive.owner');
      await setOwner({ kind: 'user', id: olive });
      const page = await pageClient(test, JANE);
      const reads = await lookupsDuring(api, async () => {
        for (const path of ['/modules', '/modules/HelpDesk/records', '/modules/HelpDesk/fields']) expect((await jane.get(path)).status, path).to.equal(200);
        for (const path of ['/', '/m/HelpDesk', '/m/HelpDesk/new']) expect((await page.get(path)).response.status, path).to.equal(200);
      });
      expect(reads).to.equal(0);
    });
  });

  describe('version 1: the select user', () => {
    let test: TestHost;
    let api: HostApi;

    before(async () => {
      test = await startTestHost({ installOrigin: UPGRADED_FROM_V1, smtpUrl: mailbox.url });
      api = test.host.api;
    });
    after(async () => {
      await test?.stop();
    });

    it('assigns a ticket as if no user were chosen once the select user was deleted, and warns', async () => {
      const admin = await adminClient(test);
      const contactId = (await api.records.create('Contacts', { values: { firstname: 'Vera', lastname: 'Classic', email: 'vera.classic@example.com', language: 'en' } })).id;
      const password = passwordIn(await enablePortalUser(test.url, admin, contactId, mailbox, 'vera.classic@example.com'));
      await api.database.sequelize.query('UPDATE bp_portal_accounts SET must_change_password = :no WHERE contact_id = :id', { replacements: { no: false, id: contactId } });
      const vera = apiClient(test, await portalLogin(test, 'vera.classic@example.com', password));
      const open = async (title: string): Promise<CrmRecord> => {
        const created = await vera.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: title } });
        expect(created.status, created.text).to.equal(201);
        return (await api.records.get('HelpDesk', created.body.id))!;
      };
      const unowned = await open('Classic, no user chosen');

      const sam = await addUser(api, 'sam.select');
      const chosen = await admin.post(`${SETTINGS}/classic/user`, { userId: String(sam) });
      expect(chosen.status, /role="alert"[\s\S]{0,400}/.exec(await chosen.text())?.[0]).to.equal(303);
      expect((await open('Classic, Sam is there')).owner).to.deep.equal({ kind: 'user', id: sam });

      await deleteUser(api, sam);
      const warnings = captureLogs(api, 'warn');
      try {
        const since = mailbox.received.length;
        const ticket = await open('Classic, after Sam left');
        expect(ticket.owner).not.to.deep.equal({ kind: 'user', id: sam });
        expect(ticket.owner).to.deep.equal(unowned.owner);
        expect(goneOwnerWarning(warnings.lines)).to.include({ profileVersion: 1, profileId: null, ownerKind: 'user', ownerId: sam, module: 'HelpDesk' });
        await mailbox.waitFor('vera.classic@example.com', { since, subject: /Classic, after Sam left/ });
      } finally {
        warnings.restore();
      }
    });
  });
});
