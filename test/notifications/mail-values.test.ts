/**
 * Values in a customer's ticket mail read as the portal's ticket page shows them to that customer:
 * numbers, decimals and amounts in their language, dates and date-times (the CRM's time zone),
 * checkboxes as Yes / No, picklists by their labels — in the language of the template's version the
 * mail is written in. Read from the mail a real SMTP server on loopback received, beside the page
 * the customer opens.
 */
import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import { QueryTypes } from 'sequelize';
import type { CrmRecord, HostApi } from '../../plugin/host-contract/index.js';
import { addEmailTemplate, adminActor, profileService } from '../profiles/profile-test-kit.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { MARIO, JANE, signedIn } from '../portal-pages/portal-pages-kit.js';

/** The fields a host developer added to tickets, and what a ticket holds in them. */
const ADDED = [
  { name: 'hours', type: 'integer', value: 1234 },
  { name: 'estimate', type: 'decimal', value: 1234.5 },
  { name: 'budget', type: 'currency', value: 98765.4 },
  { name: 'due_on', type: 'date', value: '2026-03-01' },
  // 23:30 in UTC is already the next day in Rome, the CRM's time zone.
  { name: 'visit_at', type: 'datetime', value: '2026-03-01T23:30:00.000Z' },
  { name: 'onsite', type: 'boolean', value: true },
  { name: 'remote', type: 'boolean', value: false },
] as const;

const MERGED = [...ADDED.map((f) => f.name), 'priority'];

async function contactByEmail(api: HostApi, email: string): Promise<CrmRecord> {
  const page = await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email }, limit: 1 });
  if (!page.rows[0]) throw new Error(`no demo contact ${email}`);
  return page.rows[0];
}

async function defaultProfileId(api: HostApi): Promise<number> {
  const [row] = await api.database.sequelize.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { type: QueryTypes.SELECT, replacements: { yes: true } });
  return Number(row!.id);
}

/** A ticket opened from the portal, as the access layer writes it (the contact as actor). */
async function portalTicket(api: HostApi, contact: CrmRecord, values: Record<string, unknown>): Promise<CrmRecord> {
  return api.database.sequelize.transaction((transaction) =>
    api.records.create(
      'HelpDesk',
      { values: { status: 'Open', contact_id: contact.id, account_id: contact.values.account_id ?? null, ...values } as CrmRecord['values'] },
      { transaction, actor: { kind: 'contact', contactId: contact.id } },
    ),
  );
}

/** An admin's version of a template in another language. */
async function addVersion(api: HostApi, templateId: number, language: string, subject: string, body: string): Promise<void> {
  await api.database.sequelize.query('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:templateId, :language, :subject, :html, :body, :now)', {
    replacements: { templateId, language, subject, html: `<p>${body}</p>`, body, now: new Date() },
  });
}

/** `name=[value]` pairs of a mail part. */
function merged(part: string): Record<string, string> {
  return Object.fromEntries([...part.matchAll(/(\w+)=\[([^\]]*)\]/g)].map((m) => [m[1]!, m[2]!]));
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'", '#39': "'", '#x3D': '=', '#x60': '`' };
const decoded = (html: string) => html.replace(/&(amp|lt|gt|quot|#x27|#39|#x3D|#x60);/g, (_, name: string) => entities[name]!);

/** What the ticket's page shows in each field's row. */
function pageValues(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<div class="bp-field-row" data-field="(\w+)">\s*<dt>[^<]*<\/dt>\s*<dd[^>]*>(.*?)<\/dd>/gs)].map((m) => [m[1]!, decoded(m[2]!.replace(/<[^>]+>/g, ''))]),
  );
}

describe('values in ticket mails @db', function () {
  // A demo host and seven new columns: slow on a busy PostgreSQL or MariaDB.
  this.timeout(120_000);
  let mailbox: Mailbox;
  let test: TestHost;
  let api: HostApi;

  before(async () => {
    mailbox = await startMailbox();
    test = await startTestHost({ demo: true, smtpUrl: mailbox.url, timeZone: 'Europe/Rome' });
    api = test.host.api;
    for (const field of ADDED) await api.modules.addField('HelpDesk', { name: field.name, label: { en: field.name, it: field.name }, type: field.type, mandatory: false });
    const body = MERGED.map((name) => `${name}=[{{ticket.${name}}}]`).join(' ');
    const template = await addEmailTemplate(api, { name: 'Ticket values', module: 'HelpDesk', subject: 'Values {{ticket.ticket_title}}', body });
    await addVersion(api, template, 'it', `Valori {{ticket.ticket_title}}`, body);
    const service = profileService(api);
    const document = await service.document(await defaultProfileId(api));
    await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, templates: { ...document.notifications.templates, newTicket: template } }, document.profile.version, await adminActor(api));
  });

  after(async () => {
    await test?.stop();
    await mailbox?.close();
  });

  async function mailAndPage(email: string, language: string, title: string): Promise<{ mail: ParsedMail; page: Record<string, string> }> {
    const since = mailbox.received.length;
    const ticket = await portalTicket(api, await contactByEmail(api, email), { ticket_title: title, priority: 'High', ...Object.fromEntries(ADDED.map((f) => [f.name, f.value])) });
    const mail = await mailbox.waitFor(email, { since, subject: new RegExp(title) });
    const customer = await signedIn(test, email, language);
    const { response, html } = await customer.get(`/m/HelpDesk/${ticket.id}`);
    expect(response.status).to.equal(200);
    return { mail, page: pageValues(html) };
  }

  it('writes each value to an Italian customer as their Italian ticket page shows it', async () => {
    const { mail, page } = await mailAndPage(MARIO, 'it', 'Valori italiani');
    const text = merged(mail.text ?? '');
    const html = merged(decoded(typeof mail.html === 'string' ? mail.html : ''));
    // What an Italian reads, whatever the code does: grouped thousands, a decimal comma, cents on an amount.
    expect(text).to.include({ hours: '1.234', estimate: '1.234,5', budget: '98.765,40', due_on: '1 mar 2026', visit_at: '2 mar 2026, 00:30', onsite: 'Sì', remote: 'No', priority: 'Alta' });
    for (const name of MERGED) {
      expect(page[name], `the page shows ${name}`).to.be.a('string').and.not.equal('');
      expect(text[name], `${name} in the text part`).to.equal(page[name]);
      expect(html[name], `${name} in the HTML part`).to.equal(page[name]);
    }
  });

  it('writes each value to an English customer as their English ticket page shows it', async () => {
    const { mail, page } = await mailAndPage(JANE, 'en', 'English values');
    const text = merged(mail.text ?? '');
    expect(text).to.include({ hours: '1,234', estimate: '1,234.5', budget: '98,765.40', onsite: 'Yes', remote: 'No', priority: 'High' });
    for (const name of MERGED) expect(text[name], name).to.equal(page[name]);
  });

  it('writes dates as the region of the customer’s stored language does (en-GB), as their page does for that browser', async () => {
    const jane = await contactByEmail(api, JANE);
    // A host whose contacts' language names a region (the reference host's picklist holds en and it only).
    const table = test.host.registry.tableName('Contacts');
    const setLanguage = (language: string) => api.database.sequelize.query(`UPDATE ${table} SET language = :language WHERE id = :id`, { replacements: { language, id: jane.id } });
    await setLanguage('en-GB');
    try {
      const { mail, page } = await mailAndPage(JANE, 'en-GB,en;q=0.9', 'British values');
      const text = merged(mail.text ?? '');
      expect(text).to.include({ due_on: '1 Mar 2026', visit_at: '2 Mar 2026, 00:30', hours: '1,234', budget: '98,765.40', priority: 'High' });
      for (const name of MERGED) expect(text[name], name).to.equal(page[name]);
    } finally {
      await setLanguage('en');
    }
  });

  it('writes the customer’s own contact fields as their contact page shows them, identity as stored', async () => {
    await api.modules.addField('Contacts', { name: 'credit', label: { en: 'Credit', it: 'Credito' }, type: 'decimal', mandatory: false });
    await api.modules.addField('Contacts', { name: 'vip', label: { en: 'VIP', it: 'VIP' }, type: 'boolean', mandatory: false });
    await api.modules.addField('Contacts', { name: 'client_since', label: { en: 'Client since', it: 'Cliente dal' }, type: 'date', mandatory: false });
    const mario = await contactByEmail(api, MARIO);
    await api.records.update('Contacts', mario.id, { values: { credit: 2500.75, vip: true, client_since: '2019-07-15' } });
    const shown = ['credit', 'vip', 'client_since', 'account_id'];
    const body = [...shown, 'firstname', 'email', 'language'].map((name) => `${name}=[{{contact.${name}}}]`).join(' ');
    const template = await addEmailTemplate(api, { name: 'Contact values', module: 'HelpDesk', subject: 'Contact {{ticket.ticket_title}}', body });
    await addVersion(api, template, 'it', 'Contatto {{ticket.ticket_title}}', body);
    const service = profileService(api);
    const document = await service.document(await defaultProfileId(api));
    await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, templates: { ...document.notifications.templates, newTicket: template } }, document.profile.version, await adminActor(api));

    const since = mailbox.received.length;
    await portalTicket(api, mario, { ticket_title: 'Dati del contatto' });
    const mail = await mailbox.waitFor(MARIO, { since, subject: /Dati del contatto/ });
    const page = await (await signedIn(test, MARIO, 'it')).get(`/m/Contacts/${mario.id}`);
    expect(page.response.status).to.equal(200);
    const onPage = pageValues(page.html);
    const text = merged(mail.text ?? '');
    expect(text).to.include({ credit: '2.500,75', vip: 'Sì', client_since: '15 lug 2019', account_id: 'Rossi SpA' });
    for (const name of shown) expect(text[name], name).to.equal(onPage[name]);
    // What names the customer and their login, as stored.
    expect(text).to.include({ firstname: 'Mario', email: MARIO, language: 'it' });
  });

  it('writes the values in the language of the template’s version the mail is written in', async () => {
    // An English-only template for new tickets: an Italian customer's mail is in English, values too.
    const body = MERGED.map((name) => `${name}=[{{ticket.${name}}}]`).join(' ');
    const template = await addEmailTemplate(api, { name: 'English only values', module: 'HelpDesk', subject: 'Only English {{ticket.ticket_title}}', body: `Your ticket: ${body}` });
    const service = profileService(api);
    const document = await service.document(await defaultProfileId(api));
    await service.saveSection(document.profile.id, 'notifications', { ...document.notifications, templates: { ...document.notifications.templates, newTicket: template } }, document.profile.version, await adminActor(api));
    const { mail, page } = await mailAndPage(MARIO, 'it', 'Solo inglese');
    expect(mail.text).to.include('Your ticket:');
    const text = merged(mail.text ?? '');
    expect(text).to.include({ hours: '1,234', estimate: '1,234.5', budget: '98,765.40', onsite: 'Yes', remote: 'No', priority: 'High' });
    // Not as his Italian page reads: the words around them are English.
    expect(page).to.include({ estimate: '1.234,5', priority: 'Alta' });
  });
});
