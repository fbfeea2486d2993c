/**
 * Ticket notifications against the running demo host with a real SMTP server on loopback: a
 * ticket from the portal mails the customer and the owner, a CRM user's public comment mails the
 * customer, internal comments and the customer's own never do, hidden fields never reach a
 * customer's mail, Italian contacts and users read Italian, and a failing SMTP server breaks
 * nothing. Tickets are created as the portal's access layer creates them (one transaction, the
 * contact as actor, the profile's owner), which is the event the notifications listen to.
 */
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { QueryTypes } from 'sequelize';
import type { CrmRecord, HostApi, OwnerRef } from '../../plugin/host-contract/index.js';
import { addEmailTemplate, adminActor, profileService } from '../profiles/profile-test-kit.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { commitRefuser } from '../support/database.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { startRefusingSmtp, type ScriptedSmtp } from '../support/scripted-smtp.js';
import { rejection } from '../support/expectations.js';

const JANE = 'jane.doe@example.com';
const MARIO = 'mario.rossi@example.com';

async function rows<T extends object>(api: HostApi, sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  return api.database.sequelize.query<T>(sql, { type: QueryTypes.SELECT, replacements });
}

async function contactByEmail(api: HostApi, email: string): Promise<CrmRecord> {
  const page = await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email }, limit: 1 });
  if (!page.rows[0]) throw new Error(`no demo contact ${email}`);
  return page.rows[0];
}

async function defaultProfileId(api: HostApi): Promise<number> {
  const [row] = await rows<{ id: unknown }>(api, 'SELECT id FROM bp_profiles WHERE is_default = :yes', { yes: true });
  return Number(row!.id);
}

async function profileOwner(api: HostApi): Promise<OwnerRef | null> {
  return (await profileService(api).document(await defaultProfileId(api))).general.owner;
}

/** A ticket opened from the portal: what `PortalAccessContext.create` writes, as the contact, owned by the profile's owner. */
async function portalTicket(api: HostApi, contact: CrmRecord, values: Record<string, string> = {}): Promise<CrmRecord> {
  const owner = await profileOwner(api);
  return api.database.sequelize.transaction((transaction) =>
    api.records.create(
      'HelpDesk',
      {
        values: { ticket_title: 'Printer on fire', status: 'Open', contact_id: contact.id, account_id: contact.values.account_id ?? null, ...values },
        ...(owner ? { owner } : {}),
      },
      { transaction, actor: { kind: 'contact', contactId: contact.id } },
    ),
  );
}

/** `portalTicket` in a transaction whose COMMIT the database refuses: the ticket never lands. */
async function refusedPortalTicket(api: HostApi, contact: CrmRecord, title: string): Promise<void> {
  const refuseCommit = await commitRefuser(api.database.sequelize);
  const owner = await profileOwner(api);
  await rejection(
    api.database.sequelize.transaction(async (transaction) => {
      await api.records.create(
        'HelpDesk',
        { values: { ticket_title: title, status: 'Open', contact_id: contact.id, account_id: contact.values.account_id ?? null }, ...(owner ? { owner } : {}) },
        { transaction, actor: { kind: 'contact', contactId: contact.id } },
      );
      await refuseCommit(transaction);
    }),
  );
}

async function userId(api: HostApi, userName: string): Promise<number> {
  const user = (await api.users.users()).find((u) => u.userName === userName);
  if (!user) throw new Error(`no user ${userName}`);
  return user.id;
}

const recipients = (mail: ParsedMail): string[] =>
  (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));

const everything = (mail: ParsedMail): string => `${mail.subject ?? ''}\n${mail.text ?? ''}\n${typeof mail.html === 'string' ? mail.html : ''}`;

/** Waits a moment and answers the mails to `to` that arrived after `since`. */
async function mailsTo(mailbox: Mailbox, to: string, since: number, settleMs = 300): Promise<ParsedMail[]> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return mailbox.received.slice(since).filter((mail) => recipients(mail).includes(to.toLowerCase()));
}

/**
 * Waits for every notification started so far to be decided and sent: the plugin's deactivation
 * waits for its mails under way, then it is activated again. A test that changes what a customer
 * may see around an event restores it only after this, or the notification (which runs apart from
 * the write) could be decided on the restored state.
 */
async function notificationsSettled(test: TestHost): Promise<void> {
  await test.host.plugins.deactivate('business-portal');
  await test.host.plugins.activate('business-portal');
}

async function saveGeneralOwner(api: HostApi, owner: OwnerRef): Promise<void> {
  const service = profileService(api);
  const document = await service.document(await defaultProfileId(api));
  await service.saveSection(document.profile.id, 'general', { ...document.general, owner }, document.profile.version, await adminActor(api));
}

describe('ticket notifications @db', function () {
  this.timeout(30_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;
  let jane: CrmRecord;
  let mario: CrmRecord;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
    api = test.host.api;
    jane = await contactByEmail(api, JANE);
    mario = await contactByEmail(api, MARIO);
  });

  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  describe('a ticket opened from the portal', () => {
    it('mails the customer (the new-ticket template, their language) and the owner user (theirs)', async () => {
      const owner = await profileOwner(api);
      expect(owner, 'the demo profile has an owner user').to.include({ kind: 'user' });
      const ownerUser = (await api.users.user(owner!.id))!;
      const since = mailbox.received.length;
      const ticket = await portalTicket(api, jane, { ticket_title: 'Printer <b>on fire</b>', description: 'Smoke everywhere' });

      const customer = await mailbox.waitFor(JANE, { since });
      expect(customer.subject).to.include('Printer <b>on fire</b>');
      expect(customer.text).to.include('Dear Jane,');
      expect(customer.text).to.include('we received your request');
      // A link to the ticket itself, not to the portal's login page.
      expect(customer.html).to.match(new RegExp(`<a href="http://[^"]+/portal/m/HelpDesk/${ticket.id}">`));
      expect(customer.html).to.include('Printer &lt;b&gt;on fire&lt;/b&gt;');
      expect(customer.html).not.to.include('<b>on fire</b>');

      const toOwner = await mailbox.waitFor(ownerUser.email, { since });
      const italian = ownerUser.language === 'it';
      expect(toOwner.subject).to.equal(`${italian ? 'Nuovo ticket dal portale clienti' : 'New ticket from the customer portal'}: Printer <b>on fire</b>`);
      expect(toOwner.text).to.include(italian ? 'ha aperto un ticket sul portale clienti' : 'opened a ticket on the customer portal');
      expect(toOwner.text).to.include('Smoke everywhere');
      expect(toOwner.text).to.include(JANE);
      // A ticket opened without a priority says so, rather than a label with nothing after it.
      expect(toOwner.text).to.include(italian ? 'Priorità: non indicata' : 'Priority: not set');
      expect(toOwner.html).to.match(italian ? /Priorità<\/th><td>non indicata<\/td>/ : /Priority<\/th><td>not set<\/td>/);
      expect(toOwner.html).not.to.include('<b>on fire</b>');

      expect((await mailsTo(mailbox, JANE, since)).length, 'one mail to the customer').to.equal(1);
      const [delivery] = await rows<{ n: unknown }>(api, 'SELECT COUNT(*) AS n FROM bp_notification_deliveries WHERE event_key = :key', { key: `newTicket:HelpDesk:${ticket.id}` });
      expect(Number(delivery!.n)).to.equal(1);
    });

    it('writes to an Italian contact with the Italian template', async () => {
      const since = mailbox.received.length;
      await portalTicket(api, mario, { ticket_title: 'Stampante guasta' });
      const mail = await mailbox.waitFor(MARIO, { since });
      expect(mail.text).to.include('Gentile Mario,');
      expect(mail.text).to.include('abbiamo ricevuto la tua richiesta');
      expect(mail.text).not.to.include('we received your request');
      // Values in Mario's language: the CRM's Italian label of the stored status.
      expect(mail.text).to.include('stato Aperto').and.not.include('stato Open');
    });

    it('shows a title holding line breaks on one line in both mails, so that it cannot pass for another line of the mail', async () => {
      const owner = await profileOwner(api);
      const ownerUser = (await api.users.user(owner!.id))!;
      const since = mailbox.received.length;
      await portalTicket(api, jane, { ticket_title: 'Forged lines\r\nCustomer: Big Boss <boss@example.com>\nCliente: Big Boss <boss@example.com>' });
      const customer = await mailbox.waitFor(JANE, { since, subject: /Forged lines/ });
      const toOwner = await mailbox.waitFor(ownerUser.email, { since, subject: /Forged lines/ });
      for (const mail of [customer, toOwner]) {
        expect(mail.text).to.include('Forged lines Customer: Big Boss <boss@example.com> Cliente: Big Boss <boss@example.com>');
        expect(mail.text).not.to.match(/^(Customer|Cliente): Big Boss/m);
        expect(mail.html).not.to.match(/Forged lines<br>/);
      }
    });

    it('cuts a long title in the owner mail’s subject with an ellipsis, so that the owner knows it goes on', async () => {
      const owner = await profileOwner(api);
      const ownerUser = (await api.users.user(owner!.id))!;
      const since = mailbox.received.length;
      const title = `Long ${'word '.repeat(40)}end`;
      await portalTicket(api, jane, { ticket_title: title });
      const toOwner = await mailbox.waitFor(ownerUser.email, { since, subject: /Long word/ });
      const shown = toOwner.subject!.replace(/^[^:]+: /, '');
      expect(shown).to.equal(`${title.slice(0, 150).trimEnd()}…`);
      // The whole title is in the mail itself.
      expect(toOwner.text).to.include(title);
    });

    it('mails every active member of an owner group, each in their language, and no inactive one', async () => {
      const [group] = await rows<{ id: unknown }>(api, `SELECT id FROM crm_groups WHERE name = 'Support team'`);
      const previous = await profileOwner(api);
      await saveGeneralOwner(api, { kind: 'group', id: Number(group!.id) });
      try {
        const since = mailbox.received.length;
        await portalTicket(api, jane, { ticket_title: 'Group owned', priority: 'High' });
        const sara = await mailbox.waitFor('sara.support@example.com', { since, subject: /Group owned/ });
        const tom = await mailbox.waitFor('tom.support@example.com', { since, subject: /Group owned/ });
        expect(sara.subject).to.equal('Nuovo ticket dal portale clienti: Group owned');
        expect(tom.subject).to.equal('New ticket from the customer portal: Group owned');
        // Picklist values read in each owner's language (the CRM's labels), not as stored.
        expect(sara.text).to.include('Stato: Aperto').and.include('Priorità: Alta').and.not.include('Open');
        expect(sara.html).to.include('<td>Aperto</td>');
        expect(tom.text).to.include('Status: Open').and.include('Priority: High');
        expect(await mailsTo(mailbox, 'paul.former@example.com', since), 'inactive member').to.have.length(0);
      } finally {
        if (previous) await saveGeneralOwner(api, previous);
      }
    });

    it('reads an owner group’s members alone, not every user of a CRM of thousands, for each mail', async () => {
      const [group] = await rows<{ id: unknown }>(api, `SELECT id FROM crm_groups WHERE name = 'Support team'`);
      const sequelize = api.database.sequelize;
      for (let at = 0; at < 3_000; at += 500) {
        const users = Array.from({ length: 500 }, (_, i) => `('bulk.user${at + i}', 'Bulk', 'User ${at + i}', 'bulk${at + i}@example.com', '!', :now, :now)`);
        await sequelize.query(`INSERT INTO crm_users (user_name, first_name, last_name, email, password_hash, created_at, updated_at) VALUES ${users.join(', ')}`, { replacements: { now: new Date() } });
      }
      const previous = await profileOwner(api);
      await saveGeneralOwner(api, { kind: 'group', id: Number(group!.id) });
      const read: number[] = [];
      const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
      (sequelize as unknown as { query: typeof original }).query = async (sql, options) => {
        const result = await original(sql, options);
        if (typeof sql === 'string' && /^\s*SELECT\b[\s\S]*\bFROM crm_users\b/i.test(sql) && Array.isArray(result)) read.push(result.length);
        return result;
      };
      try {
        const since = mailbox.received.length;
        await portalTicket(api, jane, { ticket_title: 'Group owned among thousands' });
        await mailbox.waitFor('sara.support@example.com', { since, subject: /Group owned among thousands/ });
        await mailbox.waitFor('tom.support@example.com', { since, subject: /Group owned among thousands/ });
        expect(await mailsTo(mailbox, 'paul.former@example.com', since), 'inactive member').to.have.length(0);
        expect(read.length, 'user reads').to.be.greaterThan(0);
        expect(Math.max(...read), `rows of crm_users per statement: ${read.join(', ')}`).to.be.at.most(1);
      } finally {
        (sequelize as unknown as { query: typeof original }).query = original;
        if (previous) await saveGeneralOwner(api, previous);
        await sequelize.query(`DELETE FROM crm_users WHERE user_name LIKE 'bulk.user%'`);
      }
    });

    it('greets an owner user without a first name as a colleague, never as a customer', async () => {
      const sara = await userId(api, 'sara.support');
      const previous = await profileOwner(api);
      await api.database.sequelize.query(`UPDATE crm_users SET first_name = '' WHERE id = :sara`, { replacements: { sara } });
      await saveGeneralOwner(api, { kind: 'user', id: sara });
      try {
        const since = mailbox.received.length;
        await portalTicket(api, jane, { ticket_title: 'Nameless owner' });
        const mail = await mailbox.waitFor('sara.support@example.com', { since, subject: /Nameless owner/ });
        expect(mail.text).to.match(/^Buongiorno,\n/);
        expect(mail.html).to.match(/<body[^>]*>\s*<p>Buongiorno,<\/p>/);
        expect(everything(mail)).not.to.include('Gentile');
      } finally {
        await api.database.sequelize.query(`UPDATE crm_users SET first_name = 'Sara' WHERE id = :sara`, { replacements: { sara } });
        if (previous) await saveGeneralOwner(api, previous);
      }
    });

    it('mails nobody for a ticket a CRM user opens', async () => {
      const since = mailbox.received.length;
      await api.records.create('HelpDesk', { values: { ticket_title: 'Opened by support', status: 'Open', contact_id: jane.id } }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
      // A portal ticket afterwards: once its mail is in, the first event was long handled.
      const sentinel = await portalTicket(api, jane, { ticket_title: 'Sentinel one' });
      await mailbox.waitFor(JANE, { since, subject: /Sentinel one/ });
      // The CRM numbered the portal's ticket, and the mail names it.
      expect(sentinel.values.ticket_no).to.match(/^TT\d+$/);
      expect((await mailsTo(mailbox, JANE, since, 0)).map((m) => m.subject)).to.deep.equal([`Ticket ${sentinel.values.ticket_no}: Sentinel one`]);
    });

    it('mails nobody for a ticket whose COMMIT fails', async () => {
      const since = mailbox.received.length;
      await refusedPortalTicket(api, jane, 'Never opened');
      expect(await api.records.count('HelpDesk', { field: 'ticket_title', op: 'eq', value: 'Never opened' }), 'the ticket did not land').to.equal(0);
      // A portal ticket afterwards (it may get the refused one's id): once its mail is in, the first's would have been too.
      await portalTicket(api, jane, { ticket_title: 'Sentinel two' });
      await mailbox.waitFor(JANE, { since, subject: /Sentinel two/ });
      expect(mailbox.received.slice(since).map((m) => m.subject).filter((subject) => subject?.includes('Never opened'))).to.deep.equal([]);
    });
  });

  describe('replies', () => {
    let ticket: CrmRecord;
    before(async () => {
      ticket = await portalTicket(api, jane, { ticket_title: 'Needs an answer' });
      await mailbox.waitFor(JANE, { subject: /Needs an answer/ });
    });

    it('mails the customer the comment of a CRM user', async () => {
      const since = mailbox.received.length;
      await api.records.addComment('HelpDesk', ticket.id, { body: 'Turn it off and on <i>again</i>', internal: false }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
      const mail = await mailbox.waitFor(JANE, { since });
      expect(mail.subject).to.equal(`New reply on ticket ${ticket.values.ticket_no}`);
      expect(mail.text).to.include('Turn it off and on <i>again</i>');
      expect(mail.text).to.include('Tom Walker');
      expect(mail.text).to.include('Needs an answer');
      expect(mail.html).to.include('Turn it off and on &lt;i&gt;again&lt;/i&gt;');
    });

    it('keeps the lines of a multi-line reply in the HTML part too', async () => {
      const since = mailbox.received.length;
      await api.records.addComment('HelpDesk', ticket.id, { body: 'Step one\nStep two\nStep three', internal: false }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
      const mail = await mailbox.waitFor(JANE, { since });
      expect(mail.text).to.include('Step one\nStep two\nStep three');
      // An HTML paragraph folds its line breaks into spaces: each is a `<br>` there.
      expect(mail.html).to.match(/<p style="white-space: pre-wrap">Step one<br>Step two<br>Step three<\/p>/);
    });

    it('never mails an internal comment nor the customer’s own comment', async () => {
      const since = mailbox.received.length;
      const tom = await userId(api, 'tom.support');
      await api.records.addComment('HelpDesk', ticket.id, { body: 'INTERNAL-ONLY-NOTE', internal: true }, { actor: { kind: 'user', userId: tom } });
      await api.records.addComment('HelpDesk', ticket.id, { body: 'CUSTOMER-OWN-WORDS', internal: false }, { actor: { kind: 'contact', contactId: jane.id } });
      await api.records.addComment('HelpDesk', ticket.id, { body: 'sentinel reply', internal: false }, { actor: { kind: 'user', userId: tom } });
      await mailbox.waitFor(JANE, { since });
      const mails = await mailsTo(mailbox, JANE, since);
      expect(mails).to.have.length(1);
      expect(mails[0]!.text).to.include('sentinel reply');
      for (const mail of mailbox.received.slice(since)) {
        expect(everything(mail)).not.to.include('INTERNAL-ONLY-NOTE');
        expect(everything(mail)).not.to.include('CUSTOMER-OWN-WORDS');
      }
    });

    it('mails nobody when the ticket’s contact has the portal switched off', async () => {
      await api.database.sequelize.query('UPDATE bp_portal_accounts SET portal_enabled = :no WHERE contact_id = :id', { replacements: { no: false, id: mario.id } });
      try {
        const marioTicket = await api.records.create('HelpDesk', { values: { ticket_title: 'Off portal', status: 'Open', contact_id: mario.id } }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
        const since = mailbox.received.length;
        const tom = await userId(api, 'tom.support');
        await api.records.addComment('HelpDesk', marioTicket.id, { body: 'Nobody reads this', internal: false }, { actor: { kind: 'user', userId: tom } });
        await api.records.addComment('HelpDesk', ticket.id, { body: 'sentinel for mario', internal: false }, { actor: { kind: 'user', userId: tom } });
        await mailbox.waitFor(JANE, { since, subject: /New reply/ });
        await notificationsSettled(test);
        expect(await mailsTo(mailbox, MARIO, since)).to.have.length(0);
      } finally {
        await api.database.sequelize.query('UPDATE bp_portal_accounts SET portal_enabled = :yes WHERE contact_id = :id', { replacements: { yes: true, id: mario.id } });
      }
    });

    it('mails no reply on a ticket whose comments the customer’s profile does not show', async () => {
      const service = profileService(api);
      const id = await defaultProfileId(api);
      const actor = await adminActor(api);
      const withComments = async (on: boolean) => {
        const document = await service.document(id);
        const modules = document.modules.map((m) => (m.module === 'HelpDesk' ? { ...m, tools: { ...m.tools, comments: on } } : m));
        await service.saveSection(id, 'modules', modules, document.profile.version, actor);
      };
      const since = mailbox.received.length;
      const tom = await userId(api, 'tom.support');
      await withComments(false);
      try {
        await api.records.addComment('HelpDesk', ticket.id, { body: 'NOT-SHOWN-ON-THE-PORTAL', internal: false }, { actor: { kind: 'user', userId: tom } });
        // Decided while the tool is off, as a reply written then is: not on the restored profile.
        await notificationsSettled(test);
      } finally {
        await withComments(true);
      }
      await api.records.addComment('HelpDesk', ticket.id, { body: 'sentinel with the tool', internal: false }, { actor: { kind: 'user', userId: tom } });
      await mailbox.waitFor(JANE, { since, subject: /New reply/ });
      const mails = await mailsTo(mailbox, JANE, since);
      expect(mails.map((m) => m.text ?? '').join('\n')).not.to.include('NOT-SHOWN-ON-THE-PORTAL');
      expect(mails).to.have.length(1);
    });

    it('sends an event delivered twice only once', async () => {
      const since = mailbox.received.length;
      const comment = await api.records.addComment('HelpDesk', ticket.id, { body: 'said once', internal: false }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
      await mailbox.waitFor(JANE, { since, subject: /New reply/ });
      // A host with at-least-once delivery would hand the same event over again.
      const redeliver = (test.host.records as unknown as { events: { emit(event: string, payload: unknown): Promise<void> } }).events;
      await redeliver.emit('comment.added', { comment });
      await Promise.all([redeliver.emit('comment.added', { comment }), redeliver.emit('comment.added', { comment })]);
      expect((await mailsTo(mailbox, JANE, since, 500)).filter((m) => (m.text ?? '').includes('said once'))).to.have.length(1);
    });
  });

  describe('the profile’s SMTP account and sender', () => {
    let own: Mailbox;
    let ownerId: number;

    async function saveNotifications(changes: Record<string, unknown>): Promise<void> {
      const service = profileService(api);
      const document = await service.document(await defaultProfileId(api));
      await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, ...changes }, document.profile.version, await adminActor(api));
    }

    before(async () => {
      own = await startMailbox();
      const owner = await profileOwner(api);
      ownerId = owner!.id;
      const now = new Date();
      // The owner user's own mail account: Default sends through it.
      await api.database.sequelize.query(
        'INSERT INTO crm_mail_accounts (user_id, smtp_url, from_address, from_name, created_at, updated_at) VALUES (:user, :url, :from, :name, :now, :now)',
        { replacements: { user: ownerId, url: own.url, from: 'owner-own@example.com', name: 'Owner Own', now } },
      );
    });

    after(async () => {
      await api.database.sequelize.query('DELETE FROM crm_mail_accounts WHERE user_id = :user', { replacements: { user: ownerId } });
      await saveNotifications({ smtpAccount: 'default', senderEmail: null, senderName: null });
      await own.close();
    });

    it('Default sends through the owner user’s own account, with the profile’s sender when it has one', async () => {
      await saveNotifications({ smtpAccount: 'default', senderEmail: null, senderName: null });
      let since = own.received.length;
      await portalTicket(api, jane, { ticket_title: 'Through the owner account' });
      const viaOwner = await own.waitFor(JANE, { since, subject: /Through the owner account/ });
      expect(viaOwner.from?.value[0]?.address).to.equal('owner-own@example.com');

      await saveNotifications({ senderEmail: 'helpdesk@example.com', senderName: 'Acme Help Desk' });
      since = own.received.length;
      await portalTicket(api, jane, { ticket_title: 'With the profile sender' });
      const withSender = await own.waitFor(JANE, { since, subject: /With the profile sender/ });
      expect(withSender.from?.value[0]).to.include({ address: 'helpdesk@example.com', name: 'Acme Help Desk' });
    });

    it('sends with a sender name the form takes (100 characters) that is longer than the mailer takes (150 UTF-16 units)', async () => {
      // 100 emoji are 100 characters to the form and 200 units to the host's mailer.
      await saveNotifications({ smtpAccount: 'global', senderEmail: 'helpdesk@example.com', senderName: '🛠'.repeat(100) });
      const since = mailbox.received.length;
      await portalTicket(api, jane, { ticket_title: 'With a long sender name' });
      const mail = await mailbox.waitFor(JANE, { since, subject: /With a long sender name/ });
      expect(mail.from?.value[0]?.address).to.equal('helpdesk@example.com');
      expect(mail.from?.value[0]?.name).to.equal('🛠'.repeat(75));
    });

    it('Global always sends through the host’s global server', async () => {
      await saveNotifications({ smtpAccount: 'global', senderEmail: null, senderName: null });
      const since = mailbox.received.length;
      const ownSince = own.received.length;
      await portalTicket(api, jane, { ticket_title: 'Through the global server' });
      await mailbox.waitFor(JANE, { since, subject: /Through the global server/ });
      expect((await mailsTo(own, JANE, ownSince)).length, 'nothing through the owner account').to.equal(0);
    });
  });

  describe('hidden fields (canaries)', () => {
    const CANARY_SOLUTION = 'CANARY-HIDDEN-SOLUTION-7f3a';
    const CANARY_RULE = 'CANARY-RULE-HIDDEN-DESCRIPTION-91b2';

    before(async () => {
      // The profile's own templates for new tickets and replies, which ask for the hidden fields by name.
      const ids: Record<string, number> = {};
      for (const [kind, subject] of [
        ['newTicket', 'Canary new {{ticket.ticket_title}} {{ticket.solution}}'],
        ['ticketReply', 'Canary reply {{ticket.ticket_title}} {{ticket.solution}}'],
      ] as const) {
        const body = 'solution=[{{ticket.solution}}] description=[{{ticket.description}}] title=[{{ticket.ticket_title}}] comment=[{{comment.body}}]';
        ids[kind] = await addEmailTemplate(api, { name: `Canary ${kind}`, module: 'HelpDesk', subject, body });
      }
      const service = profileService(api);
      const actor = await adminActor(api);
      let document = await service.document(await defaultProfileId(api));
      document = (
        await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, templates: { ...document.notifications.templates, newTicket: ids.newTicket, ticketReply: ids.ticketReply } }, document.profile.version, actor)
      ).document;
      const modules = document.modules.map((entry) => (entry.module === 'HelpDesk' ? { ...entry, fields: { ...entry.fields, solution: 'hidden' } } : entry));
      document = (await service.saveSection(document.profile.id, 'modules', modules, document.profile.version, actor)).document;
      const rule = {
        name: 'Urgent tickets hide their description',
        module: 'HelpDesk',
        origin: { kind: 'portal' },
        conditions: [{ field: 'priority', op: 'eq', value: 'Urgent' }],
        effects: [{ field: 'description', effect: 'hidden' }],
        allReadOnly: false,
      };
      await service.saveSection(document.profile.id, 'rules', [...document.rules, rule], document.profile.version, actor);
    });

    it('never puts a profile-hidden or rule-hidden field in the customer’s new-ticket or reply mail', async () => {
      const since = mailbox.received.length;
      const ticket = await portalTicket(api, jane, { ticket_title: 'Canary ticket', solution: CANARY_SOLUTION, description: CANARY_RULE, priority: 'Urgent' });
      const created = await mailbox.waitFor(JANE, { since, subject: /^Canary new/ });
      expect(created.subject?.trim()).to.equal('Canary new Canary ticket');
      expect(created.text).to.include('title=[Canary ticket]');
      expect(created.text).to.include('solution=[]');
      expect(created.text).to.include('description=[]');

      await api.records.addComment('HelpDesk', ticket.id, { body: 'We looked at it', internal: false }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
      const reply = await mailbox.waitFor(JANE, { since, subject: /^Canary reply/ });
      expect(reply.text).to.include('comment=[We looked at it]');

      for (const mail of [created, reply]) {
        expect(everything(mail)).not.to.include(CANARY_SOLUTION);
        expect(everything(mail)).not.to.include(CANARY_RULE);
      }
      // The owner, a CRM user, sees the ticket as the CRM does (the canary proves the values were there to leak).
      const owner = (await api.users.user((await profileOwner(api))!.id))!;
      const toOwner = await mailbox.waitFor(owner.email, { since, subject: /Canary ticket/ });
      expect(toOwner.text).to.include(CANARY_RULE);
    });

    it('never puts a field the profile hides on the customer’s own contact record in their mail', async () => {
      const CANARY_CONTACT = 'CANARY-CONTACT-DESCRIPTION-5d0c';
      await api.records.update('Contacts', jane.id, { values: { description: CANARY_CONTACT } });
      const templateId = await addEmailTemplate(api, {
        name: 'Canary contact fields',
        module: 'HelpDesk',
        subject: 'Canary contact {{ticket.ticket_title}} {{contact.description}}',
        body: 'name=[{{contact.firstname}} {{contact.lastname}}] email=[{{contact.email}}] phone=[{{contact.phone}}] description=[{{contact.description}}]',
      });
      const service = profileService(api);
      const actor = await adminActor(api);
      let document = await service.document(await defaultProfileId(api));
      document = (
        await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, templates: { ...document.notifications.templates, newTicket: templateId } }, document.profile.version, actor)
      ).document;
      const modules = document.modules.map((entry) => (entry.module === 'Contacts' ? { ...entry, fields: { ...entry.fields, description: 'hidden' } } : entry));
      await service.saveSection(document.profile.id, 'modules', modules, document.profile.version, actor);

      const since = mailbox.received.length;
      await portalTicket(api, jane, { ticket_title: 'Contact canary' });
      const mail = await mailbox.waitFor(JANE, { since, subject: /^Canary contact/ });
      expect(everything(mail)).not.to.include(CANARY_CONTACT);
      expect(mail.text).to.include('description=[]');
      // What names the customer and the fields the profile shows them are still merged.
      expect(mail.text).to.include(`name=[Jane Doe] email=[${JANE}]`);
      expect(mail.text).to.match(/phone=\[\S+/);
    });
  });
});

describe('ticket notifications with a failing SMTP server @db', function () {
  this.timeout(30_000);
  let test: TestHost;
  let smtp: ScriptedSmtp;

  before(async () => {
    smtp = await startRefusingSmtp(550, 'Mailbox unavailable');
    test = await startTestHost({ demo: true, smtpUrl: smtp.url });
  });

  after(async () => {
    await test?.stop();
    await smtp?.close();
  });

  it('still creates the ticket and still records comments; the host keeps serving', async () => {
    const api = test.host.api;
    const jane = await contactByEmail(api, JANE);
    const ticket = await portalTicket(api, jane, { ticket_title: 'Created despite the mail server' });
    expect(await api.records.get('HelpDesk', ticket.id)).to.include({ id: ticket.id });
    const comment = await api.records.addComment('HelpDesk', ticket.id, { body: 'Reply nobody receives', internal: false }, { actor: { kind: 'user', userId: await userId(api, 'tom.support') } });
    expect(comment.id).to.be.a('number');

    const deadline = Date.now() + 10_000;
    while (smtp.attempts < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(smtp.attempts, 'customer, owner and reply mails were tried').to.be.at.least(3);
    expect((await fetch(`${test.url}/healthz`)).status).to.equal(200);
    expect(await api.records.get('HelpDesk', ticket.id)).to.include({ id: ticket.id });
  });
});

describe('ticket notifications with a mail server that refuses one owner’s address @db', function () {
  this.timeout(30_000);
  let test: TestHost;
  let server: SMTPServer;
  let refused = '';
  const accepted: string[] = [];

  before(async () => {
    // A mail server that refuses one recipient (a mailbox that is full or gone) and takes the rest.
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        callback(address.address === refused ? Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }) : undefined);
      },
      onData(stream, session, callback) {
        simpleParser(stream).then(() => {
          accepted.push(...session.envelope.rcptTo.map((to) => to.address));
          callback();
        }, callback);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    test = await startTestHost({ demo: true, smtpUrl: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}` });
    const [group] = await rows<{ id: unknown }>(test.host.api, `SELECT id FROM crm_groups WHERE name = 'Support team'`);
    await saveGeneralOwner(test.host.api, { kind: 'group', id: Number(group!.id) });
  });

  after(async () => {
    await test?.stop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('still mails the other members of the owner group', async () => {
    const api = test.host.api;
    const jane = await contactByEmail(api, JANE);
    // Each member refused in turn: whichever the group lists first, the other is still told.
    for (const [refuse, told] of [['sara.support@example.com', 'tom.support@example.com'], ['tom.support@example.com', 'sara.support@example.com']] as const) {
      refused = refuse;
      accepted.length = 0;
      await portalTicket(api, jane, { ticket_title: `Refused ${refuse}` });
      for (let waited = 0; !accepted.includes(told) && waited < 5000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(accepted, `${told} while ${refuse} is refused`).to.include(told).and.include(JANE);
    }
  });
});

describe('ticket notifications behind a proxy, and long names @db', function () {
  this.timeout(30_000);
  let mailbox: Mailbox;
  let test: TestHost;

  before(async () => {
    mailbox = await startMailbox();
    // A CRM behind a proxy that serves it under /crm, with the portal moved to /support.
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url, baseUrl: 'https://crm.example.test/crm', portalPath: '/support' });
  });

  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  it('links the customer to BASE_URL + PORTAL_PATH, the path of BASE_URL kept', async () => {
    const api = test.host.api;
    const ticket = await portalTicket(api, await contactByEmail(api, JANE), { ticket_title: 'Behind a proxy' });
    const mail = await mailbox.waitFor(JANE, { subject: /Behind a proxy/ });
    expect(mail.text).to.include(`https://crm.example.test/crm/support/m/HelpDesk/${ticket.id}`);
    expect(mail.html).to.include(`href="https://crm.example.test/crm/support/m/HelpDesk/${ticket.id}"`);
    expect(api.http.publicUrl('/support/reset-password?token=abc')).to.equal('https://crm.example.test/crm/support/reset-password?token=abc');
  });

  it('mails a customer whose name is long in characters outside the BMP (two UTF-16 units each)', async () => {
    const api = test.host.api;
    const mario = await contactByEmail(api, MARIO);
    // 80 characters each, the most the CRM takes: 161 characters, 321 UTF-16 units.
    await api.records.update('Contacts', mario.id, { values: { firstname: '𝓜'.repeat(80), lastname: '𝓡'.repeat(80) } });
    const since = mailbox.received.length;
    await portalTicket(api, mario, { ticket_title: 'Astral name' });
    const mail = await mailbox.waitFor(MARIO, { since, subject: /Astral name/ });
    const name = (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.name ?? '';
    expect(name.startsWith('𝓜'.repeat(75)), name).to.equal(true);
    expect(name.length).to.be.at.most(150);
  });
});
