/**
 * A contact's email changed in the CRM to one that is already another portal user's login: the
 * login refuses an email that two enabled accounts share, so following it would lock both out.
 * The changed contact's portal access is switched off instead, with nothing mailed, and the other
 * portal user goes on signing in.
 */
import { expect } from 'chai';
import { passwordIn, startContactsHost, type ContactsHost } from './contacts-fixture.js';

describe('contacts: a contact given another portal user’s email @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;

  before(async () => {
    h = await startContactsHost();
  });
  after(async () => h?.stop());

  async function enable(contactId: number, email: string): Promise<string> {
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(contactId, { portalUser: 'yes' });
    expect(saved.status, saved.html).to.equal(200);
    return passwordIn(await h.mailbox.waitFor(email, { since }));
  }

  it('switches the changed contact’s portal access off, mails nothing, and leaves the other login working', async () => {
    const first = await h.addContact({ firstname: 'First', lastname: 'Owner', email: 'shared.login@example.com' });
    const second = await h.addContact({ firstname: 'Second', lastname: 'Comer', email: 'second.comer@example.com' });
    const firstPassword = await enable(first, 'shared.login@example.com');
    const secondPassword = await enable(second, 'second.comer@example.com');
    const secondLogin = await h.portalLogin('second.comer@example.com', secondPassword);
    expect(secondLogin.status).to.equal(200);

    const since = h.mailbox.received.length;
    await h.api.records.update('Contacts', second, { values: { email: 'Shared.Login@example.com' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.mailbox.received.length, 'no access details are sent to the shared address').to.equal(since);
    const account = (await h.account(second))!;
    expect(Boolean(account.portal_enabled)).to.equal(false);
    expect(account.email, 'the login email stays as it was').to.equal('second.comer@example.com');
    expect(await h.me(secondLogin.cookie!), 'its sessions end').to.equal(401);

    expect((await h.portalLogin('shared.login@example.com', firstPassword)).status, 'the first portal user still signs in').to.equal(200);
    expect((await h.contactPage(second)).html).to.include('the contact’s new email is already another portal user’s login');
  });
});
