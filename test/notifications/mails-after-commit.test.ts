/**
 * The plugin's mails sent inside a transaction (a "password changed" mail with the password it
 * stores, say) leave once that transaction has committed, through the real SMTP server on
 * loopback, and never when its COMMIT fails or it rolls back: the customer or the owner would be
 * told of a change that did not happen.
 */
import { expect } from 'chai';
import type { Transaction } from 'sequelize';
import { startContactsHost, type ContactsHost } from '../contacts/contacts-fixture.js';
import { commitRefuser } from '../support/database.js';
import { rejection } from '../support/expectations.js';

const EMAIL = 'mia.commit@example.com';

describe('plugin mails after a commit @db', function () {
  this.timeout(30_000);
  let h: ContactsHost;
  let contactId: number;
  let ownerEmail: string;
  let ownerId: number;

  before(async () => {
    h = await startContactsHost();
    contactId = await h.addContact({ firstname: 'Mia', lastname: 'Commit', email: EMAIL });
    const owner = (await h.api.users.users()).find((user) => user.active && user.email);
    ownerId = owner!.id;
    ownerEmail = owner!.email;
  });
  after(async () => {
    await h?.stop();
  });

  /** A verification-code mail to the contact and a new-ticket mail to the owner user, queued on `transaction`. */
  async function queueMails(transaction: Transaction, code: string): Promise<void> {
    expect(await h.mailer.sendToContact('twoFactorCode', contactId, { portal: { code, minutes: 10 } }, { transaction })).to.equal('queued');
    const ticket = { id: 1, ticket_no: `TT-${code}`, ticket_title: `Ticket ${code}`, status: 'Open', priority: 'Low', description: '' };
    expect(await h.mailer.sendToOwner('newTicketToOwner', { kind: 'user', id: ownerId }, contactId, { ticket, contact: { id: contactId, name: 'Mia Commit', email: EMAIL } }, { transaction })).to.equal(1);
  }

  const mailsWith = (since: number, code: string) =>
    h.mailbox.received.slice(since).filter((mail) => `${mail.subject ?? ''}\n${mail.text ?? ''}`.includes(code));

  it('sends them once the transaction has committed, not before', async () => {
    const since = h.mailbox.received.length;
    let inside = -1;
    await h.api.database.sequelize.transaction(async (transaction) => {
      await queueMails(transaction, '424242');
      await new Promise((resolve) => setTimeout(resolve, 200));
      inside = mailsWith(since, '424242').length;
    });
    expect(inside, 'nothing before the commit').to.equal(0);
    await h.mailbox.waitFor(EMAIL, { since });
    await h.mailbox.waitFor(ownerEmail, { since });
  });

  it('sends none when the COMMIT fails', async () => {
    const refuseCommit = await commitRefuser(h.api.database.sequelize);
    const since = h.mailbox.received.length;
    await rejection(
      h.api.database.sequelize.transaction(async (transaction) => {
        await queueMails(transaction, '131313');
        await refuseCommit(transaction);
      }),
    );
    // Mails sent afterwards: once they are in, those of the refused transaction would have been too.
    await h.api.database.sequelize.transaction((transaction) => queueMails(transaction, '575757'));
    await h.mailbox.waitFor(EMAIL, { since, subject: /./ });
    await h.mailbox.waitFor(ownerEmail, { since });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsWith(since, '575757').length, 'the later mails').to.equal(2);
    expect(mailsWith(since, '131313').length, 'mails of the refused transaction').to.equal(0);
  });

  it('sends none when the transaction rolls back', async () => {
    const since = h.mailbox.received.length;
    const undone = new Error('roll back');
    expect(
      await rejection(
        h.api.database.sequelize.transaction(async (transaction) => {
          await queueMails(transaction, '868686');
          throw undone;
        }),
      ),
    ).to.equal(undone);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsWith(since, '868686')).to.deep.equal([]);
  });

  it('logged no error', () => {
    expect(h.logs.filter((line) => line.level === 'error')).to.deep.equal([]);
  });
});
