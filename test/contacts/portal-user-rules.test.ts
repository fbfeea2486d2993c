/**
 * Rules of the Contact block's portal-user form found by an audit of the demo host: a contact
 * cannot be given another enabled portal user's login (any case), and a former portal user
 * switched on again with empty dates starts today.
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
      expect(italian.html).to.include('mario.shared@example.com è già il login di un altro utente del portale');
    } finally {
      await h.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }

    // Once the first is switched off, the email is free for the second.
    expect((await h.savePortalUser(first, { portalUser: 'no' })).status).to.equal(200);
    const secondPassword = await enable(second, 'mario.shared@example.com');
    expect((await h.portalLogin('mario.shared@example.com', secondPassword)).status).to.equal(200);
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
