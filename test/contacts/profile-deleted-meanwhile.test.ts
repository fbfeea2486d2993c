/**
 * A contact's profile chosen by one admin while another deletes that profile, over real HTTP on
 * PostgreSQL and MariaDB: the contact's save is held (a second connection keeps the account's row
 * locked) after it has checked the profile, the delete commits, then the save goes on. It must be
 * refused as "the chosen profile does not exist (any more)", changing nothing, never a 500.
 */
import { expect } from 'chai';
import type { Transaction } from 'sequelize';
import { adminActor, profileService } from '../profiles/profile-test-kit.js';
import { startContactsHost, type ContactsHost } from './contacts-fixture.js';

describe('contacts: a profile deleted while a contact is being put on it @db', function () {
  this.timeout(30_000);
  let h: ContactsHost;

  before(async function () {
    h = await startContactsHost();
  });
  after(async () => {
    await h?.stop();
  });

  it('refuses the contact’s save with the unknown-profile message and leaves the account as it was', async function () {
    // SQLite has one writer: the held lock would hold the delete too, and the window cannot open.
    if (h.api.database.sequelize.getDialect() === 'sqlite') this.skip();
    const service = profileService(h.api);
    const id = await h.addContact({ firstname: 'Race', lastname: 'Contact', email: 'race.contact@example.com' });
    expect((await h.savePortalUser(id, { portalUser: 'yes' })).status).to.be.below(400);
    const before = await h.account(id);
    const doomed = await service.create({ name: 'Doomed', description: '', startFrom: null }, await adminActor(h.api));
    const { token, version } = await h.formToken(id);

    const sequelize = h.api.database.sequelize;
    const hold: Transaction = await sequelize.transaction();
    let saving: Promise<{ status: number; html: string }>;
    try {
      await sequelize.query('UPDATE bp_portal_accounts SET updated_at = updated_at WHERE contact_id = :id', { replacements: { id }, transaction: hold });
      saving = h.savePortalUser(id, { portalUser: 'yes', profileId: String(doomed.id), version }, { csrf: token });
      // The save has read the profiles and now waits for the account's row.
      await new Promise((resolve) => setTimeout(resolve, 700));
      const outcome = await service.delete(doomed.id, { moveTo: null, expectedVersion: doomed.version }, await adminActor(h.api));
      expect(outcome.movedContacts).to.equal(0);
    } finally {
      await hold.rollback();
    }
    const saved = await saving;
    expect(saved.status).to.equal(422);
    expect(saved.html).to.include('the chosen profile does not exist (any more)');
    const after = await h.account(id);
    expect(after?.['profile_id']).to.equal(before?.['profile_id']);
    expect(after?.['version']).to.equal(before?.['version']);
  });
});
