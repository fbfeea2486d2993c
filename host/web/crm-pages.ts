/**
 * The reference CRM's own pages: home, Settings (the entries plugins registered), the Contacts
 * list and a Contact's record page (its fields, then every block plugins registered for
 * Contacts), and the mail outbox (where an admin sends a given-up mail again or deletes it, by a
 * POST with the session's CSRF token). Anonymous visitors go to the login; admin pages answer 403
 * to other users. The guards, the form checks, the id and page parsing and the names of
 * referenced records are exported for the other CRM page routers (`ticket-pages.ts`,
 * `contact-change-pages.ts`).
 */
import express, { type Request, type Response, type Router } from 'express';
import type {
  CrmSession,
  FieldDefinition,
  FieldValue,
  HostLogger,
  HostModuleRegistry,
  HostRecordBlocks,
  HostRecords,
  HostSettingsMenu,
  LanguageCode,
  LocalizedText,
} from '../../plugin/host-contract/index.js';
import type { CsrfTokens } from '../auth/csrf-tokens.js';
import type { MailOutbox } from '../mail/mail-outbox.js';
import type { MailQueue } from '../mail/mail-queue.js';
import type { WebHostHttp } from './host-http.js';

export interface CrmPageDependencies {
  readonly http: WebHostHttp;
  readonly modules: HostModuleRegistry;
  readonly records: HostRecords;
  readonly settingsMenu: HostSettingsMenu;
  readonly recordBlocks: HostRecordBlocks;
  readonly outbox: MailOutbox;
  readonly mailQueue: MailQueue;
  /** Whether the host has a global mail server (SMTP_URL): the outbox page then keeps only what came before it. */
  readonly smtpConfigured: boolean;
  readonly csrf: CsrfTokens;
  readonly logger: HostLogger;
}

/** The outbox's two forms carry a CSRF token and nothing else. */
const formBody = express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 5 });

const CONTACTS_PER_PAGE = 50;
const sectionTitles: Record<string, LocalizedText> = {
  'customer-tools': { en: 'Customer tools', it: 'Strumenti clienti' },
};

export function localized(text: LocalizedText | undefined, language: LanguageCode): string {
  return text ? (text[language] ?? text.en) : '';
}

function sectionTitle(section: string, language: LanguageCode): string {
  const known = sectionTitles[section];
  if (known) return localized(known, language);
  const words = section.replace(/[-_.]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function displayValue(field: FieldDefinition, value: FieldValue | undefined, references: ReadonlyMap<string, string>): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.join(', ');
  if (field.type === 'boolean') return value === true ? 'Yes' : 'No';
  if (field.type === 'reference') return references.get(`${field.name}:${String(value)}`) ?? `#${String(value)}`;
  return String(value);
}

function positiveInteger(value: unknown): number | null {
  return typeof value === 'string' && /^[1-9][0-9]{0,14}$/.test(value) ? Number(value) : null;
}

/** The largest page number a list takes: its offset stays a whole number the record store accepts. */
const MAX_PAGE = 1_000_000_000;

/** `?page=`: a page number, or page 1 for anything else (text, or a number no list could reach). */
export function pageNumber(value: unknown): number {
  const page = positiveInteger(value);
  return page !== null && page <= MAX_PAGE ? page : 1;
}

/** The largest record id: the tables' id columns are 32-bit (PostgreSQL refuses a larger number with an error). */
const MAX_RECORD_ID = 2_147_483_647;

/** A record id in a path, or null (the 404 of a missing record) for anything a record cannot have. */
export function recordId(value: unknown): number | null {
  const id = positiveInteger(value);
  return id !== null && id <= MAX_RECORD_ID ? id : null;
}

/** The signed-in user, or null after sending the visitor to the login. */
export async function signedInUser(http: WebHostHttp, req: Request, res: Response): Promise<CrmSession | null> {
  const session = await http.crmSession(req);
  if (!session) res.redirect(303, http.loginUrl(req.originalUrl));
  return session;
}

/** The signed-in admin, or null after sending the visitor to the login (anonymous) or a 403 (other users). */
export async function signedInAdmin(http: WebHostHttp, req: Request, res: Response): Promise<CrmSession | null> {
  const session = await signedInUser(http, req, res);
  if (session && !session.user.isAdmin) {
    await http.sendMessage(req, res, 403, 'Not allowed', 'This page is for CRM administrators.');
    return null;
  }
  return session;
}

/** A posted form's field as text, or '' when it is missing or not text. */
export function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** Whether a posted form carries the session's CSRF token; else false after answering 403. */
export async function formTokenChecked(http: WebHostHttp, csrf: CsrfTokens, req: Request, res: Response, session: CrmSession): Promise<boolean> {
  if (csrf.verifyForSession(session.sessionId, formField(req.body, 'csrf'))) return true;
  await http.sendMessage(req, res, 403, 'Request refused', 'The form had expired. Go back, reload the page and try again.');
  return false;
}

type RecordValues = { readonly values: Readonly<Record<string, FieldValue>> };

/** Names of the records that reference fields point at, one query per referenced module. */
export async function referenceNamesOf(modules: HostModuleRegistry, records: HostRecords, fields: readonly FieldDefinition[], rows: readonly RecordValues[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const field of fields) {
    if (field.type !== 'reference') continue;
    const ids = [...new Set(rows.map((row) => row.values[field.name]).filter((v): v is number => typeof v === 'number'))];
    for (const target of field.referenceModules ?? []) {
      const definition = modules.module(target);
      if (!definition || ids.length === 0) continue;
      // A contact is named by its first and last names (its label field is the last name alone).
      const nameFields = target === 'Contacts' && definition.fields.some((f) => f.name === 'firstname') ? ['firstname', definition.labelField] : [definition.labelField];
      const page = await records.query(target, { where: { field: 'id', op: 'in', value: ids }, fields: nameFields });
      for (const row of page.rows) {
        const name = nameFields.map((name) => row.values[name]).filter((v) => v !== null && v !== undefined && v !== '').join(' ');
        names.set(`${field.name}:${row.id}`, name || `#${row.id}`);
      }
    }
  }
  return names;
}

export function crmPages(deps: CrmPageDependencies): Router {
  const { http, modules, records, settingsMenu, recordBlocks, outbox, mailQueue, smtpConfigured, csrf, logger } = deps;
  const router = express.Router();

  const signedIn = (req: Request, res: Response) => signedInUser(http, req, res);
  const admin = (req: Request, res: Response) => signedInAdmin(http, req, res);
  const referenceNames = (fields: readonly FieldDefinition[], rows: readonly RecordValues[]) => referenceNamesOf(modules, records, fields, rows);

  router.get('/', async (req, res) => {
    const session = await signedIn(req, res);
    if (!session) return;
    await http.sendView(req, res, { title: 'Home', view: 'home' });
  });

  router.get('/settings', async (req, res) => {
    const session = await admin(req, res);
    if (!session) return;
    const language = session.user.language;
    const sections = new Map<string, { title: string; entries: { label: string; description: string; path: string }[] }>();
    for (const entry of settingsMenu.entries()) {
      const section = sections.get(entry.section) ?? { title: sectionTitle(entry.section, language), entries: [] };
      section.entries.push({ label: localized(entry.label, language), description: localized(entry.description, language), path: entry.path });
      sections.set(entry.section, section);
    }
    await http.sendView(req, res, { title: 'Settings', view: 'settings', data: { sections: [...sections.values()] } });
  });

  router.get('/contacts', async (req, res) => {
    if (!(await signedIn(req, res))) return;
    const contacts = modules.module('Contacts');
    if (!contacts) {
      await http.sendMessage(req, res, 404, 'Not found', 'This CRM has no Contacts module.');
      return;
    }
    const page = pageNumber(req.query.page);
    const result = await records.query('Contacts', {
      sort: [
        { field: 'lastname', direction: 'asc' },
        { field: 'firstname', direction: 'asc' },
      ],
      limit: CONTACTS_PER_PAGE,
      offset: (page - 1) * CONTACTS_PER_PAGE,
      withTotal: true,
      fields: ['firstname', 'lastname', 'email', 'account_id'],
    });
    const accountField = contacts.fields.filter((f) => f.name === 'account_id');
    const names = await referenceNames(accountField, result.rows);
    const total = result.total ?? result.rows.length;
    const pages = Math.max(1, Math.ceil(total / CONTACTS_PER_PAGE));
    await http.sendView(req, res, {
      title: 'Contacts',
      view: 'contacts',
      data: {
        total,
        notice: req.query.deleted === '1' ? 'The contact was deleted.' : '',
        rows: result.rows.map((row) => ({
          id: row.id,
          name: [row.values.firstname, row.values.lastname].filter((v) => typeof v === 'string' && v !== '').join(' ') || `#${row.id}`,
          email: row.values.email ?? '',
          account: accountField[0] && row.values.account_id != null ? displayValue(accountField[0], row.values.account_id, names) : '',
        })),
        paging: pages > 1 ? { page, pages, previous: page > 1 ? page - 1 : null, next: page < pages ? page + 1 : null } : null,
      },
    });
  });

  router.get('/contacts/:id', async (req, res) => {
    const session = await signedIn(req, res);
    if (!session) return;
    const id = recordId(req.params.id);
    const definition = modules.module('Contacts');
    const record = id === null || !definition ? null : await records.get('Contacts', id);
    if (!record || !definition) {
      await http.sendMessage(req, res, 404, 'Not found', 'There is no such contact.');
      return;
    }
    const language = session.user.language;
    const names = await referenceNames(definition.fields, [record]);
    const blocks = [];
    for (const block of recordBlocks.blocksFor('Contacts')) {
      try {
        blocks.push({ id: block.id, title: localized(block.title, language), html: await block.render({ module: 'Contacts', recordId: record.id, session, language }), failed: false });
      } catch (error) {
        logger.error('A record block failed to render', { block: block.id, recordId: record.id, error: error instanceof Error ? error.message : String(error) });
        blocks.push({ id: block.id, title: localized(block.title, language), html: '', failed: true });
      }
    }
    const title = [record.values.firstname, record.values.lastname].filter((v) => typeof v === 'string' && v !== '').join(' ') || `Contact #${record.id}`;
    await http.sendView(req, res, {
      title,
      view: 'contact',
      data: {
        id: record.id,
        notice: req.query.saved === '1' ? 'The contact was saved.' : '',
        fields: definition.fields.map((field) => ({ label: localized(field.label, language), value: displayValue(field, record.values[field.name], names) })),
        blocks,
      },
    });
  });

  router.get('/outbox', async (req, res) => {
    const session = await admin(req, res);
    if (!session) return;
    const [messages, queued] = await Promise.all([outbox.latest(100), mailQueue.latest(100)]);
    const addresses = (to: readonly { address: string; name?: string }[]) => to.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
    await http.sendView(req, res, {
      title: 'Outbox',
      view: 'outbox',
      data: {
        messages: messages.map((m) => ({
          ...m,
          from: addresses([m.from]),
          to: addresses(m.to),
        })),
        queued: queued.map((m) => ({
          ...m,
          to: addresses(m.to),
          // A given-up mail whose link is dead (past discardAfter) would only be given up again.
          canSendAgain: m.givenUpAt !== null && (m.discardAfter === null || Date.parse(m.discardAfter) > Date.now()),
        })),
        smtpConfigured,
        csrfToken: session.sessionId ? csrf.forSession(session.sessionId) : '',
      },
    });
  });

  /** A given-up mail's "Send again" and "Delete": admins only, with the session's CSRF token; back to the outbox. */
  for (const action of ['send-again', 'delete'] as const) {
    router.post(`/outbox/queue/:id/${action}`, formBody, async (req, res) => {
      const session = await admin(req, res);
      if (!session || !(await formTokenChecked(http, csrf, req, res, session))) return;
      const id = recordId(req.params.id);
      const messageId = id === null ? null : action === 'send-again' ? await mailQueue.sendAgain(id, new Date()) : await mailQueue.removeGivenUp(id);
      // Already done (a second click), or no such given-up mail: the outbox shows how things stand.
      if (messageId !== null) {
        logger.info(action === 'send-again' ? 'Mail put back into the queue by a CRM admin' : 'Given-up mail deleted by a CRM admin', { messageId, userId: session.user.id });
      }
      res.redirect(303, '/outbox');
    });
  }

  return router;
}
