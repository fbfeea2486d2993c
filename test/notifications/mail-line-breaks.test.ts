/**
 * A multi-line value (a ticket's description, a reply) keeps its lines in the HTML part of a mail,
 * whatever the template around it: an admin's own CRM template that merges it into a plain `<p>`,
 * and the plugin's own mail to the ticket's owner. The value stays text: its markup (`<script>`,
 * `<b>`) arrives escaped, only its line breaks become `<br>`. The plain-text part keeps them as they
 * are. Read from the mails a real SMTP server on loopback received.
 */
import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import { QueryTypes } from 'sequelize';
import type { CrmRecord, HostApi } from '../../plugin/host-contract/index.js';
import { addEmailTemplate, adminActor, profileService } from '../profiles/profile-test-kit.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';

const JANE = 'jane.doe@example.com';
const DESCRIPTION = 'First line\n<script>alert(1)</script>\r\n<b>bold</b>\n\nAfter a blank line';
/** DESCRIPTION as the HTML part must hold it: escaped, each line break a `<br>`. */
const DESCRIPTION_HTML = 'First line<br>&lt;script&gt;alert(1)&lt;/script&gt;<br>&lt;b&gt;bold&lt;/b&gt;<br><br>After a blank line';

describe('line breaks of multi-line values in HTML mails @db', function () {
  this.timeout(60_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;
  let jane: CrmRecord;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url });
    api = test.host.api;
    const page = await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE }, limit: 1 });
    jane = page.rows[0]!;
    // An admin's own templates, merging the values into plain paragraphs (no `white-space: pre-wrap`).
    const newTicket = await addEmailTemplate(api, { name: 'Plain new ticket', module: 'HelpDesk', subject: 'Got {{ticket.ticket_title}}', body: '{{ticket.description}}' });
    const ticketReply = await addEmailTemplate(api, { name: 'Plain reply', module: 'HelpDesk', subject: 'Reply on {{ticket.ticket_title}}', body: '{{comment.body}}' });
    const service = profileService(api);
    const [row] = await api.database.sequelize.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { type: QueryTypes.SELECT, replacements: { yes: true } });
    const document = await service.document(Number(row!.id));
    const templates = { ...document.notifications.templates, newTicket, ticketReply };
    await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, templates }, document.profile.version, await adminActor(api));
  });

  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  /** A ticket opened from the portal (the contact as actor, owned by the profile's owner). */
  async function portalTicket(title: string, description = DESCRIPTION): Promise<CrmRecord> {
    const service = profileService(api);
    const [row] = await api.database.sequelize.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { type: QueryTypes.SELECT, replacements: { yes: true } });
    const owner = (await service.document(Number(row!.id))).general.owner;
    return api.database.sequelize.transaction((transaction) =>
      api.records.create(
        'HelpDesk',
        { values: { ticket_title: title, status: 'Open', description, contact_id: jane.id, account_id: jane.values.account_id ?? null }, ...(owner ? { owner } : {}) },
        { transaction, actor: { kind: 'contact', contactId: jane.id } },
      ),
    );
  }

  const html = (mail: ParsedMail) => (typeof mail.html === 'string' ? mail.html : '');

  it('keeps the lines of a description merged into an admin’s plain paragraph, its markup escaped', async () => {
    const since = mailbox.received.length;
    await portalTicket('Lines to the customer');
    const mail = await mailbox.waitFor(JANE, { since, subject: /Lines to the customer/ });
    expect(html(mail)).to.include(`<p>${DESCRIPTION_HTML}</p>`);
    expect(html(mail)).not.to.match(/<script|<b>/);
    // The plain text keeps the value as it is, line breaks and all (CRLF as the mail's line end).
    expect((mail.text ?? '').replace(/\r\n/g, '\n')).to.include(DESCRIPTION.replace(/\r\n/g, '\n'));
  });

  it('keeps the lines of a reply merged into an admin’s plain paragraph', async () => {
    const ticket = await portalTicket('Lines of a reply');
    await mailbox.waitFor(JANE, { subject: /Lines of a reply/ });
    const since = mailbox.received.length;
    const tom = (await api.users.users()).find((u) => u.userName === 'tom.support')!;
    await api.records.addComment('HelpDesk', ticket.id, { body: DESCRIPTION, internal: false }, { actor: { kind: 'user', userId: tom.id } });
    const mail = await mailbox.waitFor(JANE, { since, subject: /Reply on Lines of a reply/ });
    expect(html(mail)).to.include(`<p>${DESCRIPTION_HTML}</p>`);
    expect(html(mail)).not.to.match(/<script|<b>/);
  });

  it('keeps the lines of the description in the plugin’s own mail to the owner', async () => {
    const service = profileService(api);
    const [row] = await api.database.sequelize.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { type: QueryTypes.SELECT, replacements: { yes: true } });
    const owner = (await service.document(Number(row!.id))).general.owner;
    expect(owner, 'the demo profile has an owner user').to.include({ kind: 'user' });
    const ownerUser = (await api.users.user(owner!.id))!;
    const since = mailbox.received.length;
    await portalTicket('Lines to the owner');
    const mail = await mailbox.waitFor(ownerUser.email, { since, subject: /Lines to the owner/ });
    expect(html(mail)).to.include(DESCRIPTION_HTML);
    expect(html(mail)).not.to.match(/<script|<b>/);
    expect((mail.text ?? '').replace(/\r\n/g, '\n')).to.include(DESCRIPTION.replace(/\r\n/g, '\n'));
  });

  it('a lone CR is a line break too, markup around it stays text, and thousands of lines grow the HTML part by the <br>s only', async () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => `line ${i} <i>"x"</i>`);
    const description = `one\rtwo<script>alert(1)</script>\r\r${lines.join('\n')}`;
    const since = mailbox.received.length;
    await portalTicket('Lone CR and many lines', description);
    const mail = await mailbox.waitFor(JANE, { since, subject: /Lone CR and many lines/ });
    const part = html(mail);
    expect(part).to.include('one<br>two&lt;script&gt;alert(1)&lt;/script&gt;<br><br>line 0 &lt;i&gt;&quot;x&quot;&lt;/i&gt;<br>line 1 ');
    expect(part).not.to.match(/<script|<i>/);
    expect((part.match(/<br>/g) ?? []).length).to.equal(2_002);
    // Each line costs its escaped text and one <br>: no more than that beside the template.
    const escaped = lines.reduce((sum, line) => sum + line.replace(/[<>]/g, '&lt;').replace(/"/g, '&quot;').length + 4, 0);
    expect(part.length).to.be.below(escaped + 20_000);
  });
});
