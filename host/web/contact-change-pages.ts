/**
 * Editing and deleting a contact from the reference CRM, for CRM admins: `/contacts/:id/edit` (the
 * names and the email) and `/contacts/:id/delete` (a confirmation, then the deletion). Both forms
 * carry the session's CSRF token and the version of the record they were made from, so a change
 * someone else saved meanwhile is never overwritten or deleted unseen. The writes go through the
 * host's record API as the admin, which raises the contract's `record.updated` / `record.deleted`
 * events: plugins react as to any CRM change (the Business Portal sends a new email the access
 * details; a deleted contact loses its portal account and sessions). Values are checked by the
 * record store; what it refuses is shown next to the form, in words, and nothing is saved.
 */
import express, { type Request, type Response, type Router } from 'express';
import {
  InvalidRecordError,
  RecordNotFoundError,
  StaleRecordError,
  type CrmRecord,
  type CrmSession,
  type FieldDefinition,
  type HostModuleRegistry,
  type HostRecords,
} from '../../plugin/host-contract/index.js';
import type { CsrfTokens } from '../auth/csrf-tokens.js';
import { formField, formTokenChecked, localized, recordId, signedInAdmin } from './crm-pages.js';
import type { WebHostHttp } from './host-http.js';

export interface ContactChangePageDependencies {
  readonly http: WebHostHttp;
  readonly modules: HostModuleRegistry;
  readonly records: HostRecords;
  readonly csrf: CsrfTokens;
}

const CONTACTS = 'Contacts';
/** The fields the edit form offers, in its order (those the Contacts module has). */
const EDITABLE = ['firstname', 'lastname', 'email'] as const;
const contactForm = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 10 });

/** The record store's problem with a value, said to the admin. */
function problemText(problem: string): string {
  if (problem === 'is mandatory') return 'this field is required.';
  if (problem === 'must be an email address') return 'enter an email address such as name@example.com.';
  if (problem === 'must be text') return 'it holds characters that are not text.';
  const longer = /^is longer than (\d+) characters$/.exec(problem);
  if (longer) return `at most ${longer[1]} characters.`;
  return `${problem}.`;
}

function contactName(record: CrmRecord): string {
  return [record.values.firstname, record.values.lastname].filter((v) => typeof v === 'string' && v !== '').join(' ') || `Contact #${record.id}`;
}

export function contactChangePages(deps: ContactChangePageDependencies): Router {
  const { http, modules, records, csrf } = deps;
  const router = express.Router();

  /** The contact of the path, or null after answering 404. */
  async function contactOf(req: Request, res: Response): Promise<{ record: CrmRecord; fields: readonly FieldDefinition[] } | null> {
    const id = recordId(req.params.id);
    const definition = modules.module(CONTACTS);
    const record = id === null || !definition ? null : await records.get(CONTACTS, id);
    if (!record || !definition) {
      await http.sendMessage(req, res, 404, 'Not found', 'There is no such contact.');
      return null;
    }
    const fields = EDITABLE.map((name) => definition.fields.find((f) => f.name === name)).filter((f): f is FieldDefinition => f !== undefined);
    return { record, fields };
  }

  /** The version the form was made from, or null after answering 400 (a form this CRM did not make). */
  async function formVersion(req: Request, res: Response): Promise<number | null> {
    const version = formField(req.body, 'version');
    if (/^[1-9][0-9]{0,9}$/.test(version)) return Number(version);
    await http.sendMessage(req, res, 400, 'Bad request', 'The form is incomplete. Go back, reload the page and try again.');
    return null;
  }

  /** A posted form's admin, contact and version, or null after answering (403, 404, 400). */
  async function postedForm(req: Request, res: Response): Promise<{ session: CrmSession; contact: { record: CrmRecord; fields: readonly FieldDefinition[] }; version: number } | null> {
    const session = await signedInAdmin(http, req, res);
    if (!session || !(await formTokenChecked(http, csrf, req, res, session))) return null;
    const contact = await contactOf(req, res);
    if (!contact) return null;
    const version = await formVersion(req, res);
    return version === null ? null : { session, contact, version };
  }

  async function sendEditForm(
    req: Request,
    res: Response,
    session: CrmSession,
    contact: { record: CrmRecord; fields: readonly FieldDefinition[] },
    options: { status?: number; values?: Record<string, string>; version?: number; errors?: Map<string, string>; message?: string } = {},
  ): Promise<void> {
    const language = session.user.language;
    const errors = options.errors ?? new Map<string, string>();
    await http.sendView(req, res, {
      title: `Edit ${contactName(contact.record)}`,
      view: 'contact-edit',
      status: options.status ?? 200,
      data: {
        id: contact.record.id,
        version: options.version ?? contact.record.version,
        csrfToken: csrf.forSession(session.sessionId),
        message: options.message ?? '',
        errors: [...errors.values()],
        fields: contact.fields.map((f) => {
          const stored = contact.record.values[f.name];
          return {
            name: f.name,
            label: localized(f.label, language),
            type: f.type === 'email' ? 'email' : 'text',
            required: f.mandatory,
            maxLength: f.type === 'email' ? 255 : (f.maxLength ?? 255),
            value: options.values?.[f.name] ?? (typeof stored === 'string' ? stored : ''),
            error: errors.get(f.name) ?? '',
          };
        }),
      },
    });
  }

  router.get('/contacts/:id/edit', async (req, res) => {
    const session = await signedInAdmin(http, req, res);
    if (!session) return;
    const contact = await contactOf(req, res);
    if (contact) await sendEditForm(req, res, session, contact);
  });

  router.post('/contacts/:id/edit', contactForm, async (req, res) => {
    const form = await postedForm(req, res);
    if (!form) return;
    const { session, contact, version } = form;
    const typed = Object.fromEntries(contact.fields.map((f) => [f.name, formField(req.body, f.name)]));
    const values = Object.fromEntries(contact.fields.map((f) => [f.name, typed[f.name]!.trim()]));
    try {
      await records.update(CONTACTS, contact.record.id, { values }, { expectedVersion: version, actor: { kind: 'user', userId: session.user.id } });
      res.redirect(303, `/contacts/${contact.record.id}?saved=1`);
    } catch (error) {
      if (error instanceof InvalidRecordError) {
        const language = session.user.language;
        const errors = new Map<string, string>();
        for (const { field: name, problem } of error.problems) {
          const definition = contact.fields.find((f) => f.name === name);
          if (definition && !errors.has(name)) errors.set(name, `${localized(definition.label, language)}: ${problemText(problem)}`);
        }
        if (errors.size === 0) errors.set('', 'The contact could not be saved: check the values and try again.');
        await sendEditForm(req, res, session, contact, { status: 400, values: typed, version, errors });
      } else if (error instanceof StaleRecordError) {
        // The form again with what the admin typed and the version now stored: saving it again replaces the other change.
        await sendEditForm(req, res, session, contact, {
          status: 409,
          values: typed,
          message: 'Someone else changed this contact meanwhile. Check the values below (what you typed), and save again to replace their change, or open the contact to see it.',
        });
      } else if (error instanceof RecordNotFoundError) {
        await http.sendMessage(req, res, 404, 'Not found', 'There is no such contact: it was deleted meanwhile.');
      } else {
        throw error;
      }
    }
  });

  router.get('/contacts/:id/delete', async (req, res) => {
    const session = await signedInAdmin(http, req, res);
    if (!session) return;
    const contact = await contactOf(req, res);
    if (!contact) return;
    await http.sendView(req, res, {
      title: `Delete ${contactName(contact.record)}?`,
      view: 'contact-delete',
      data: { id: contact.record.id, version: contact.record.version, csrfToken: csrf.forSession(session.sessionId), email: contact.record.values.email ?? '' },
    });
  });

  router.post('/contacts/:id/delete', contactForm, async (req, res) => {
    const form = await postedForm(req, res);
    if (!form) return;
    const { session, contact, version } = form;
    try {
      await records.delete(CONTACTS, contact.record.id, { expectedVersion: version, actor: { kind: 'user', userId: session.user.id } });
      res.redirect(303, '/contacts?deleted=1');
    } catch (error) {
      if (error instanceof StaleRecordError) {
        await http.sendMessage(req, res, 409, 'Not deleted', 'Someone else changed this contact after you opened the confirmation. Open the contact, check it, and delete it again if you still mean to.');
      } else if (error instanceof RecordNotFoundError) {
        await http.sendMessage(req, res, 404, 'Not found', 'There is no such contact: it was deleted meanwhile.');
      } else {
        throw error;
      }
    }
  });

  return router;
}
