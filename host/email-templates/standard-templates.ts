/**
 * The CRM's standard email templates, in English and Italian: the five the Business Portal uses
 * (access details, password changed, password recovery, new ticket, ticket reply) and two
 * ordinary CRM ones. Seeded on every start; a template or a language version that exists is left
 * as the admin edited it.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import { insertOnce } from '../users/base-users.js';
import { toNumber } from '../schema/row-values.js';

interface TemplateVersion {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

interface StandardTemplate {
  readonly name: string;
  readonly description: string;
  readonly module: string | null;
  readonly versions: Readonly<Record<'en' | 'it', TemplateVersion>>;
}

/** The names the portal templates are seeded under (a plugin may look them up by name). */
export const PORTAL_TEMPLATE_NAMES = {
  registration: 'Customer portal: access details',
  passwordChanged: 'Customer portal: password changed',
  passwordRecovery: 'Customer portal: password recovery',
  newTicket: 'Customer portal: new ticket',
  ticketReply: 'Customer portal: reply to a ticket',
} as const;

/** A paragraph, or one that keeps the line breaks of what it merges (a comment someone typed). */
type Paragraph = string | { readonly lines: string };

function version(subject: string, paragraphs: readonly Paragraph[]): TemplateVersion {
  const html = (p: Paragraph) => (typeof p === 'string' ? `<p>${p}</p>` : `<p style="white-space: pre-wrap">${p.lines}</p>`);
  const text = (p: Paragraph) => (typeof p === 'string' ? p : p.lines).replace(/<br>/g, '\n').replace(/<[^>]+>/g, '');
  return { subject, html: paragraphs.map(html).join('\n'), text: paragraphs.map(text).join('\n\n') };
}

/** The greeting of a portal mail: by first name, or without one for a contact who has none (never "Dear ,"). */
const DEAR = {
  en: '{{#if contact.firstname}}Dear {{contact.firstname}},{{else}}Dear customer,{{/if}}',
  it: '{{#if contact.firstname}}Gentile {{contact.firstname}},{{else}}Gentile cliente,{{/if}}',
} as const;

export const STANDARD_TEMPLATES: readonly StandardTemplate[] = [
  {
    name: PORTAL_TEMPLATE_NAMES.registration,
    description: 'Sent when a contact becomes a portal user: the portal address and the access details.',
    module: 'Contacts',
    versions: {
      en: version('Your access to the customer portal', [
        DEAR.en,
        'you can now use our customer portal at <a href="{{portal.url}}">{{portal.url}}</a>.',
        'Email: {{portal.email}}<br>Password: {{portal.password}}',
        'You will be asked to choose a new password the first time you sign in.',
      ]),
      it: version('Il tuo accesso al portale clienti', [
        DEAR.it,
        'da oggi puoi usare il nostro portale clienti all’indirizzo <a href="{{portal.url}}">{{portal.url}}</a>.',
        'Email: {{portal.email}}<br>Password: {{portal.password}}',
        'Al primo accesso ti verrà chiesto di scegliere una nuova password.',
      ]),
    },
  },
  {
    name: PORTAL_TEMPLATE_NAMES.passwordChanged,
    description: 'Sent after a portal user changed their password.',
    module: 'Contacts',
    versions: {
      en: version('Your portal password was changed', [
        DEAR.en,
        'the password of your customer portal account ({{portal.email}}) was changed.',
        'If you did not change it, reset it at <a href="{{portal.url}}">{{portal.url}}</a> and tell us at once.',
      ]),
      it: version('La password del portale è stata cambiata', [
        DEAR.it,
        'la password del tuo account sul portale clienti ({{portal.email}}) è stata cambiata.',
        'Se non hai cambiato tu la password, reimpostala su <a href="{{portal.url}}">{{portal.url}}</a> e avvisaci subito.',
      ]),
    },
  },
  {
    name: PORTAL_TEMPLATE_NAMES.passwordRecovery,
    description: 'Sent when a portal user asks to reset a forgotten password: a link that works once.',
    module: 'Contacts',
    versions: {
      en: version('Reset your portal password', [
        DEAR.en,
        'to choose a new password for the customer portal, open this link: <a href="{{portal.resetUrl}}">{{portal.resetUrl}}</a>',
        'The link works once and for {{portal.minutes}} minutes. If you did not ask for it, ignore this message.',
      ]),
      it: version('Reimposta la password del portale', [
        DEAR.it,
        'per scegliere una nuova password del portale clienti apri questo link: <a href="{{portal.resetUrl}}">{{portal.resetUrl}}</a>',
        'Il link funziona una sola volta ed è valido per {{portal.minutes}} minuti. Se non l’hai richiesto, ignora questo messaggio.',
      ]),
    },
  },
  {
    name: PORTAL_TEMPLATE_NAMES.newTicket,
    description: 'Sent to the customer when a ticket is opened.',
    module: 'HelpDesk',
    versions: {
      en: version('Ticket {{ticket.ticket_no}}: {{ticket.ticket_title}}', [
        DEAR.en,
        'we received your request “<strong>{{ticket.ticket_title}}</strong>” (ticket {{ticket.ticket_no}}, status {{ticket.status}}).',
        'Follow it on the customer portal: <a href="{{ticket.url}}">{{ticket.url}}</a>',
      ]),
      it: version('Ticket {{ticket.ticket_no}}: {{ticket.ticket_title}}', [
        DEAR.it,
        'abbiamo ricevuto la tua richiesta “<strong>{{ticket.ticket_title}}</strong>” (ticket {{ticket.ticket_no}}, stato {{ticket.status}}).',
        'Puoi seguirla sul portale clienti: <a href="{{ticket.url}}">{{ticket.url}}</a>',
      ]),
    },
  },
  {
    name: PORTAL_TEMPLATE_NAMES.ticketReply,
    description: 'Sent to the customer when a CRM user replies to their ticket.',
    module: 'HelpDesk',
    versions: {
      en: version('New reply on ticket {{ticket.ticket_no}}', [
        DEAR.en,
        '{{comment.author}} replied to your ticket <strong>{{ticket.ticket_title}}</strong>:',
        { lines: '{{comment.body}}' },
        'Answer on the customer portal: <a href="{{ticket.url}}">{{ticket.url}}</a>',
      ]),
      it: version('Nuova risposta al ticket {{ticket.ticket_no}}', [
        DEAR.it,
        '{{comment.author}} ha risposto al tuo ticket <strong>{{ticket.ticket_title}}</strong>:',
        { lines: '{{comment.body}}' },
        'Rispondi sul portale clienti: <a href="{{ticket.url}}">{{ticket.url}}</a>',
      ]),
    },
  },
  {
    name: 'Follow-up after a meeting',
    description: 'A thank-you note after meeting a contact.',
    module: 'Contacts',
    versions: {
      en: version('Thank you for meeting us', ['Dear {{contact.firstname}} {{contact.lastname}},', 'thank you for your time today. We will be in touch shortly.']),
      it: version('Grazie per l’incontro', ['Gentile {{contact.firstname}} {{contact.lastname}},', 'grazie per il tempo che ci hai dedicato oggi. Ti ricontatteremo a breve.']),
    },
  },
  {
    name: 'Invoice payment reminder',
    description: 'Reminds a customer of an unpaid invoice.',
    module: 'Invoice',
    versions: {
      en: version('Reminder: invoice {{invoice.invoice_no}}', ['Dear customer,', 'invoice {{invoice.invoice_no}} of {{invoice.total}} is still unpaid. Please settle it at your earliest convenience.']),
      it: version('Promemoria: fattura {{invoice.invoice_no}}', ['Gentile cliente,', 'la fattura {{invoice.invoice_no}} di {{invoice.total}} risulta ancora da saldare. Ti preghiamo di provvedere appena possibile.']),
    },
  },
];

export async function seedStandardTemplates(sequelize: Sequelize): Promise<void> {
  const now = new Date();
  for (const template of STANDARD_TEMPLATES) {
    const find = () =>
      sequelize.query<{ id: unknown }>('SELECT id FROM crm_email_templates WHERE name = $name', { bind: { name: template.name }, type: QueryTypes.SELECT });
    let [row] = await find();
    if (!row) {
      await insertOnce(sequelize, 'crm_email_templates', {
        name: template.name,
        description: template.description,
        module: template.module,
        default_language: 'en',
        created_at: now,
        updated_at: now,
      });
      [row] = await find();
    }
    if (!row) continue;
    const templateId = toNumber(row.id);
    const have = new Set(
      (
        await sequelize.query<{ language: string }>('SELECT language FROM crm_email_template_versions WHERE template_id = $templateId', {
          bind: { templateId },
          type: QueryTypes.SELECT,
        })
      ).map((v) => v.language),
    );
    for (const [language, content] of Object.entries(template.versions)) {
      if (have.has(language)) continue;
      await insertOnce(sequelize, 'crm_email_template_versions', { template_id: templateId, language, ...content, updated_at: now });
    }
  }
}
