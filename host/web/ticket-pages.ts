/**
 * The reference CRM's Trouble Tickets pages, for signed-in CRM users: the list (`/tickets`) and a
 * ticket (`/tickets/:id`) with its fields and its comment thread, internal comments marked, and a
 * form that adds a comment (`POST /tickets/:id/comments`, the session's CSRF token). A comment is
 * added through the host's record API (`addComment`, the user as actor), the path the contract's
 * `comment.added` event comes from: plugins react to it as to any other CRM comment (the Business
 * Portal mails the customer a public one and keeps internal ones off the portal).
 */
import express, { type Request, type Response, type Router } from 'express';
import { InvalidRecordError, RecordNotFoundError, type CrmSession, type HostModuleRegistry, type HostRecords } from '../../plugin/host-contract/index.js';
import type { CsrfTokens } from '../auth/csrf-tokens.js';
import { MAX_TEXTAREA_LENGTH, isPlainText } from '../records/field-values.js';
import { displayValue, formField, formTokenChecked, localized, pageNumber, recordId, referenceNamesOf, signedInUser } from './crm-pages.js';
import type { WebHostHttp } from './host-http.js';

export interface TicketPageDependencies {
  readonly http: WebHostHttp;
  readonly modules: HostModuleRegistry;
  readonly records: HostRecords;
  readonly csrf: CsrfTokens;
  /** The CRM's time zone: comment times are shown in it. */
  readonly timeZone: string;
}

const TICKETS = 'HelpDesk';
const TICKETS_PER_PAGE = 50;
/** The thread shows this many of the latest comments (a ticket with years of replies stays one page). */
const COMMENTS_SHOWN = 200;
/** A comment of MAX_TEXTAREA_LENGTH characters fits, percent-encoded, even when every one is a 4-byte letter. */
const commentForm = express.urlencoded({ extended: false, limit: '1200kb', parameterLimit: 10 });

/** Why a comment cannot be added, in words, or null when it can. */
function commentProblem(body: string): string | null {
  if (body === '') return 'Write a comment before adding it.';
  if (!isPlainText(body)) return 'The comment holds characters that are not text.';
  if ([...body].length > MAX_TEXTAREA_LENGTH) return `The comment is longer than ${MAX_TEXTAREA_LENGTH} characters.`;
  return null;
}

export function ticketPages(deps: TicketPageDependencies): Router {
  const { http, modules, records, csrf, timeZone } = deps;
  const router = express.Router();
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });

  async function notFound(req: Request, res: Response): Promise<void> {
    await http.sendMessage(req, res, 404, 'Not found', 'There is no such ticket.');
  }

  router.get('/tickets', async (req, res) => {
    const session = await signedInUser(http, req, res);
    if (!session) return;
    const definition = modules.module(TICKETS);
    if (!definition) {
      await http.sendMessage(req, res, 404, 'Not found', 'This CRM has no Trouble Tickets module.');
      return;
    }
    const page = pageNumber(req.query.page);
    const result = await records.query(TICKETS, {
      sort: [{ field: 'id', direction: 'desc' }],
      limit: TICKETS_PER_PAGE,
      offset: (page - 1) * TICKETS_PER_PAGE,
      withTotal: true,
      fields: ['ticket_no', 'ticket_title', 'status', 'contact_id'],
    });
    const contactField = definition.fields.filter((f) => f.name === 'contact_id');
    const names = await referenceNamesOf(modules, records, contactField, result.rows);
    const total = result.total ?? result.rows.length;
    const pages = Math.max(1, Math.ceil(total / TICKETS_PER_PAGE));
    await http.sendView(req, res, {
      title: localized(definition.label, session.user.language) || 'Trouble Tickets',
      view: 'tickets',
      data: {
        total,
        rows: result.rows.map((row) => ({
          id: row.id,
          number: row.values.ticket_no ?? '',
          title: row.values.ticket_title || `#${row.id}`,
          status: row.values.status ?? '',
          contact: contactField[0] && row.values.contact_id != null ? displayValue(contactField[0], row.values.contact_id, names) : '',
        })),
        paging: pages > 1 ? { page, pages, previous: page > 1 ? page - 1 : null, next: page < pages ? page + 1 : null } : null,
      },
    });
  });

  /** The ticket page; `form` is what a refused comment said, shown again with its error. */
  async function sendTicket(req: Request, res: Response, session: CrmSession, id: number | null, form?: { body: string; internal: boolean; error: string }): Promise<void> {
    const definition = modules.module(TICKETS);
    const ticket = id === null || !definition ? null : await records.get(TICKETS, id);
    if (!ticket || !definition) {
      await notFound(req, res);
      return;
    }
    const language = session.user.language;
    const [names, newest, count] = await Promise.all([
      referenceNamesOf(modules, records, definition.fields, [ticket]),
      records.comments(TICKETS, ticket.id, { includeInternal: true, newest: { limit: COMMENTS_SHOWN } }),
      records.commentCount(TICKETS, ticket.id, { includeInternal: true }),
    ]);
    const contactId = typeof ticket.values.contact_id === 'number' ? ticket.values.contact_id : null;
    await http.sendView(req, res, {
      title: String(ticket.values.ticket_title || `Ticket #${ticket.id}`),
      view: 'ticket',
      status: form ? 400 : 200,
      data: {
        id: ticket.id,
        fields: definition.fields.map((f) => ({
          label: localized(f.label, language),
          value: displayValue(f, ticket.values[f.name], names),
          contactPath: f.name === 'contact_id' && contactId !== null ? `/contacts/${contactId}` : null,
        })),
        comments: [...newest].reverse().map((c) => ({ id: c.id, body: c.body, internal: c.internal, author: c.authorName, at: c.createdAt, shownAt: time.format(new Date(c.createdAt)) })),
        count,
        older: count > newest.length ? count - newest.length : 0,
        csrfToken: csrf.forSession(session.sessionId),
        maxLength: MAX_TEXTAREA_LENGTH,
        form: form ?? { body: '', internal: false, error: '' },
      },
    });
  }

  router.get('/tickets/:id', async (req, res) => {
    const session = await signedInUser(http, req, res);
    if (!session) return;
    await sendTicket(req, res, session, recordId(req.params.id));
  });

  router.post('/tickets/:id/comments', commentForm, async (req, res) => {
    const session = await signedInUser(http, req, res);
    if (!session || !(await formTokenChecked(http, csrf, req, res, session))) return;
    const id = recordId(req.params.id);
    const raw = formField(req.body, 'body');
    const body = raw.trim();
    const internal = formField(req.body, 'internal') !== '';
    const problem = commentProblem(body);
    if (problem || id === null) {
      await sendTicket(req, res, session, id, { body: raw, internal, error: problem ?? '' });
      return;
    }
    try {
      const comment = await records.addComment(TICKETS, id, { body, internal }, { actor: { kind: 'user', userId: session.user.id } });
      res.redirect(303, `/tickets/${id}#comment-${comment.id}`);
    } catch (error) {
      if (error instanceof RecordNotFoundError) await notFound(req, res);
      else if (error instanceof InvalidRecordError) await sendTicket(req, res, session, id, { body: raw, internal, error: 'The comment could not be added: check what it says and try again.' });
      else throw error;
    }
  });

  return router;
}
