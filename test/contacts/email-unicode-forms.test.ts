/**
 * One address, two Unicode spellings: `é` is one code point (composed, NFC, what most keyboards
 * type) or `e` and a combining accent (decomposed, NFD, what a name copied from some PDFs or
 * macOS file names holds). A customer reads the same address in both; the login compares the
 * address in one form, so that either spelling signs in, whichever the CRM's contact holds, and
 * the two spellings are one login, never two.
 */
import { expect } from 'chai';
import { up as composeLoginEmails } from '../../migrations/20261206500000-login-emails-composed.js';
import { passwordIn, startContactsHost, type ContactsHost } from './contacts-fixture.js';

const COMPOSED = 'José.Ünal@exämple.com'.normalize('NFC');
const DECOMPOSED = COMPOSED.normalize('NFD');

describe('contacts: a login email in either Unicode form @db', function () {
  this.timeout(60_000);
  let h: ContactsHost;

  before(async () => {
    h = await startContactsHost();
  });
  after(async () => h?.stop());

  async function enable(contactId: number): Promise<string> {
    const since = h.mailbox.received.length;
    const saved = await h.savePortalUser(contactId, { portalUser: 'yes' });
    expect(saved.status, saved.html).to.equal(200);
    // The mail goes to the address as the contact holds it (the mailbox's parser spells it its own way).
    for (const deadline = Date.now() + 5000; h.mailbox.received.length === since && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 25));
    const mail = h.mailbox.received[since];
    expect(mail?.subject).to.equal('Your access to the customer portal');
    return passwordIn(mail!);
  }

  it('signs in with the composed or the decomposed spelling, in any case, whichever the contact holds', async () => {
    expect(DECOMPOSED).to.not.equal(COMPOSED);
    const contact = await h.addContact({ firstname: 'José', lastname: 'Ünal', email: DECOMPOSED });
    const password = await enable(contact);
    expect((await h.account(contact))!.email, 'the login is kept composed').to.equal(COMPOSED.toLowerCase());
    for (const typed of [COMPOSED, DECOMPOSED, COMPOSED.toUpperCase(), ` ${DECOMPOSED.toLowerCase()} `]) {
      expect((await h.portalLogin(typed, password)).status, JSON.stringify(typed)).to.equal(200);
    }
  });

  it('signs in with an international domain spelled in letters or in its ASCII form (punycode), whichever the contact holds', async () => {
    for (const [held, other] of [
      ['ida.one@xn--exmple-cua.com', 'Ida.One@exämple.com'],
      ['ida.two@bücher.example', 'IDA.TWO@XN--BCHER-KVA.EXAMPLE'],
    ]) {
      const contact = await h.addContact({ firstname: 'Ida', lastname: held, email: held });
      const since = h.mailbox.received.length;
      expect((await h.savePortalUser(contact, { portalUser: 'yes' })).status).to.equal(200);
      for (const deadline = Date.now() + 5000; h.mailbox.received.length === since && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 25));
      const password = passwordIn(h.mailbox.received[since]!);
      for (const typed of [held, other]) expect((await h.portalLogin(typed, password)).status, `${held} typed as ${typed}`).to.equal(200);
    }
  });

  it('takes the other spelling of a portal user’s email as that login, not as a second one', async () => {
    const other = await h.addContact({ firstname: 'Other', lastname: 'Ünal', email: 'other.unal@example.com' });
    await h.savePortalUser(other, { portalUser: 'yes' });
    await h.mailbox.waitFor('other.unal@example.com');
    // The contact above holds the decomposed spelling; this one is given the composed.
    await h.api.records.update('Contacts', other, { values: { email: COMPOSED } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const account = (await h.account(other))!;
    expect(Boolean(account.portal_enabled), 'two enabled accounts with one address could neither sign in').to.equal(false);
    expect(account.email).to.equal('other.unal@example.com');
  });

  it('composes the logins an earlier release stored decomposed or with a punycode domain, leaving one whose new spelling is another’s', async () => {
    const stored = 'zoë.older@exämple.com'.normalize('NFC');
    const contact = await h.addContact({ firstname: 'Zoë', lastname: 'Older', email: stored });
    const password = await enable(contact);
    const clash = await h.addContact({ firstname: 'Zoë', lastname: 'Clash', email: 'zoe.clash@example.com' });
    await enable(clash);
    // As an earlier release stored them from contacts holding the decomposed spelling.
    const db = h.api.database;
    const store = (email: string, id: number) => db.sequelize.query('UPDATE bp_portal_accounts SET email = :email WHERE contact_id = :id', { replacements: { email, id } });
    await store(stored.normalize('NFD'), contact);
    await store(COMPOSED.toLowerCase().normalize('NFD'), clash);
    const version = Number((await h.account(contact))!.version);
    await composeLoginEmails({ context: { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect } });
    expect((await h.account(contact))!.email).to.equal(stored);
    expect(Number((await h.account(contact))!.version)).to.equal(version + 1);
    expect((await h.portalLogin(stored.normalize('NFD'), password)).status).to.equal(200);
    expect((await h.account(clash))!.email, 'the composed spelling is the first test’s login').to.equal(COMPOSED.toLowerCase().normalize('NFD'));
    // A domain stored in punycode is stored in letters.
    await store('zoe.clash@xn--exmple-cua.com', clash);
    await composeLoginEmails({ context: { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect } });
    expect((await h.account(clash))!.email).to.equal('zoe.clash@exämple.com');
  });
});
