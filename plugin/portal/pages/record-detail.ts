/**
 * A record's page, for every module, and the comment and document routes of any record whose
 * module has those tools:
 *
 *   GET  /m/:module/:id/documents/:documentId   download of a file of that record (an attachment, never shown inline)
 *   POST /m/:module/:id/comments                 a public comment, written as the contact
 *   POST /m/:module/:id/documents                multipart upload (file picker or drag and drop)
 *   POST /m/HelpDesk/:id/resolve                 "OK, resolved": closes the ticket
 *
 * The page (`GET /m/:module/:id` is routed by the record pages): "Return to list" (to the list as
 * the customer left it, when the list's row link passed its query as `?list=`), with the
 * comments tool the comments on top with their count (newest first, who wrote and when: the
 * customer or support) and a comment form, the record's fields, with the documents tool the
 * documents on the right with an upload form. A Documents record offers its own file's download
 * (the same download route, where the document id is the record's). A ticket adds its number, its status and the
 * resolve button while it is open. A comment or a file the page refuses is said on the same page,
 * next to its form, with what was typed.
 */
import type { NextFunction, Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import multer from 'multer';
import { AccessError } from '../../access/access-errors.js';
import { clipped, isBlankText } from '../../access/field-input.js';
import { COMMENT_MAX, type PortalRecordView, type ShownDocument } from '../../access/portal-access.js';
import { ALLOWED_UPLOADS, MAX_UPLOAD_BYTES, checkUpload, downloadHeaders, sendFile, textDownload, type UploadProblem } from '../../access/upload-checks.js';
import { parseUploadBody } from '../../access/upload-body.js';
import { UPLOAD_RETRY_AFTER, UPLOADS_PER_CUSTOMER, UploadSlots } from '../../access/upload-slots.js';
import type { Comment } from '../../host-contract/index.js';
import { PORTAL_UPLOAD_BODIES, portalFormBody, requireReadableBody } from '../../http/json-body.js';
import type { MessageKey } from '../../i18n/message-keys.js';
import type { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { formatCount, formatDateTime, formatSize, optionText, shownFields } from '../../i18n/field-values.js';
import { WorkspaceFrame, formDoneAt, idParam, moduleParam, type FormDone, type WorkspaceRequest } from './workspace-frame.js';

const TICKETS = 'HelpDesk';
const DOCUMENTS = 'Documents';
const CLOSED = 'Closed';

const UPLOAD_PROBLEMS: Readonly<Record<UploadProblem, MessageKey>> = {
  empty: 'tickets.upload.empty',
  'too-large': 'tickets.upload.tooLarge',
  'type-not-allowed': 'tickets.upload.typeNotAllowed',
  'content-mismatch': 'tickets.upload.contentMismatch',
  'bad-name': 'tickets.upload.badName',
};

interface PageExtras {
  readonly commentError?: string | null;
  readonly commentText?: string;
  readonly uploadError?: string | null;
  /** The document title typed with a refused file (the file itself a browser never sends again). */
  readonly uploadTitle?: string;
  readonly status?: number;
}

/** The list parameters a record page may carry back to its list (`?list=`): search, column searches, sort, page. */
const LIST_PARAM = /^(q|sort|dir|page|f_[a-z][a-z0-9_]{0,63})$/;

/**
 * The list query a record page was opened from (`?list=` of the list's row links), rebuilt from
 * its list parameters only and short: the way back is always this module's list in the portal.
 */
export function listQueryFrom(value: unknown): string {
  if (typeof value !== 'string' || value.length > 1000) return '';
  const kept = new URLSearchParams();
  for (const [key, text] of new URLSearchParams(value)) if (LIST_PARAM.test(key) && text.length <= 200 && !kept.has(key)) kept.set(key, text);
  return kept.toString();
}

/** Comments on one page of a record. */
export const COMMENTS_PAGE = 50;
/** Documents on one page of a record. */
export const DOCUMENTS_PAGE = 50;

/** `?comments=`, `?documents=`: a page, 1 for anything that is not one (a page past the last shows none, with a link back). */
function pageNumber(value: unknown): number {
  const page = typeof value === 'string' && /^[1-9][0-9]{0,6}$/.test(value) ? Number(value) : 1;
  return page;
}

/** `list=…` of a request's checked list query, after `?` or `&`; nothing without one. */
export function listParam(req: { readonly query: Readonly<Record<string, unknown>> }, separator: '?' | '&'): string {
  const list = listQueryFrom(req.query.list);
  return list === '' ? '' : `${separator}list=${encodeURIComponent(list)}`;
}

@injectable()
export class RecordDetailPage implements PortalRouteContribution {
  // Browsers send a file's name as raw UTF-8 bytes (busboy's default reads them as latin1).
  private readonly upload = multer({ storage: multer.memoryStorage(), defParamCharset: 'utf8', limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 8 } }).single('file');

  constructor(
    @inject(WorkspaceFrame) private readonly frame: WorkspaceFrame,
    @inject(UploadSlots) private readonly slots: UploadSlots,
  ) {}

  registerPortalRoutes(router: Router): void {
    const form = portalFormBody();
    router.get('/m/:module/:id/documents/:documentId', this.frame.page((w) => this.download(w)));
    // A form sent twice (a double tap, a reload that resends) does its work once.
    router.post('/m/:module/:id/comments', form, this.frame.post(this.frame.once((w) => this.comment(w))));
    // Its form sends multipart, and nothing else is read (a form or JSON was a 400 "choose a file").
    // Nobody signed out makes the server read a file: the session is checked before the body.
    // Then whether the customer may send a file now: a slot of the process's uploads, else a 429 page.
    router.post('/m/:module/:id/documents', requireReadableBody(PORTAL_UPLOAD_BODIES), this.frame.signedInFirst(), (req, res, next) => void this.receive(req, res, next));
    router.post('/m/:module/:id/resolve', form, this.frame.post(this.frame.once((w) => this.resolve(w))));
  }

  /**
   * An upload takes one of the process's slots before a byte of its body is read, and gives it back
   * once the page is done with the file: stored, refused, failed, or cut off by the client (multer
   * then answers too). Without a slot the record page says so (429, `Retry-After`); the body is
   * never parsed, so there is no CSRF token to check — and nothing is changed.
   */
  private async receive(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const session = await this.frame.session(req, res);
      const taken = session ? this.slots.take(session.account.contactId, req) : null;
      if (!taken?.ok) {
        res.set('Retry-After', String(UPLOAD_RETRY_AFTER));
        const message: MessageKey = taken?.reason === 'customer' ? 'tickets.upload.tooManyAtOnce' : 'tickets.upload.busy';
        return await this.frame.serve(req, res, next, false, (w) => this.busy(w, message));
      }
      try {
        await this.parseUpload(req, res);
        await this.frame.serve(req, res, next, true, this.frame.once((w) => this.attach(w)));
      } finally {
        taken.slot.release();
      }
    } catch (error) {
      next(error);
    }
  }

  /**
   * Multipart parsing; a file over the limit (said as soon as the body passes it, see
   * `parseUploadBody`) or a malformed body is remembered, not thrown, for the page to explain.
   */
  private async parseUpload(req: Request, res: Response): Promise<void> {
    const error = await parseUploadBody(this.upload, req, res);
    if (error) {
      const code = (error as { code?: unknown }).code;
      res.locals.bpUploadProblem = code === 'LIMIT_FILE_SIZE' ? 'too-large' : 'malformed';
      // multer may have read the fields before it stopped: the CSRF token is among them.
      if (!req.body || typeof req.body !== 'object') req.body = {};
    }
  }

  /** An upload refused for now: the record page again (a foreign record is still the 404), saying why. */
  private async busy(w: WorkspaceRequest, message: MessageKey): Promise<void> {
    const { name, id } = this.target(w);
    const record = await w.access.record(name, id);
    if (!w.access.hasTool(name, 'documents')) throw new AccessError('not-allowed');
    await this.render(w, record, { uploadError: w.t(message, { max: formatCount(UPLOADS_PER_CUSTOMER, w.language) }), status: 429 });
  }

  private target(w: WorkspaceRequest): { name: string; id: number } {
    return { name: moduleParam(w), id: idParam(w) };
  }

  /** A file of the documents tool: only the facts the access layer shows (a hidden title, name or size is not on the page). */
  private documentRow(w: WorkspaceRequest, name: string, id: number, document: ShownDocument, timeZone: string) {
    // Named by its title, else by its file name, else by its number.
    const label = document.title ?? document.fileName ?? w.t('tickets.documents.untitled', { id: String(document.documentId) });
    const details = [
      document.title !== undefined ? document.fileName : undefined,
      document.size !== undefined ? formatSize(document.size, w.language) : undefined,
      formatDateTime(document.createdAt, w.locale, timeZone),
    ].filter((part): part is string => part !== undefined);
    return {
      title: label,
      details: details.join(' · '),
      href: this.frame.recordPath(name, id, `/documents/${document.documentId}`),
      downloadLabel: w.t('tickets.documents.download', { name: document.fileName ?? label }),
    };
  }

  /** What the download button of a Documents record says of its file: its name and size, as far as the customer may see them. */
  private fileDetails(w: WorkspaceRequest, file: ShownDocument): string | null {
    const size = file.size !== undefined ? formatSize(file.size, w.language) : undefined;
    if (file.fileName !== undefined && size !== undefined) return w.t('records.download.details', { name: file.fileName, size });
    return file.fileName ?? size ?? null;
  }

  /**
   * A Documents record's own file, when the customer may download it: the access layer decides
   * (its scope, and a stored file). Only its description is kept; the opened stream is let go.
   */
  private async ownFile(w: WorkspaceRequest, id: number): Promise<ShownDocument | null> {
    try {
      const { shown, stream } = await w.access.openDocument(id);
      stream.destroy();
      return shown;
    } catch (error) {
      if (error instanceof AccessError && error.kind === 'not-found') return null;
      throw error;
    }
  }

  private commentRow(w: WorkspaceRequest, comment: Comment, timeZone: string) {
    const customer = comment.author.kind === 'contact';
    const role = w.t(customer ? 'tickets.comments.customer' : 'tickets.comments.support');
    return {
      body: comment.body,
      author: comment.authorName || role,
      role,
      customer,
      mine: customer && comment.author.kind === 'contact' && comment.author.contactId === w.access.contactId,
      when: formatDateTime(comment.createdAt, w.locale, timeZone),
      datetime: comment.createdAt,
    };
  }

  /**
   * Links to the newer and older pages of a record's comments or documents (`part`), when there are
   * more than one page; each link keeps the list it came from and the page of the other part.
   */
  private paging(w: WorkspaceRequest, record: PortalRecordView, part: 'comments' | 'documents', pages: Readonly<Record<'comments' | 'documents', number>>, shown: number, total: number) {
    const size = part === 'comments' ? COMMENTS_PAGE : DOCUMENTS_PAGE;
    const page = pages[part];
    if (total <= size && page === 1) return null;
    const from = shown === 0 ? 0 : (page - 1) * size + 1;
    const href = (to: number) => {
      const linked = { ...pages, [part]: to };
      const query = (['comments', 'documents'] as const).filter((p) => linked[p] > 1).map((p) => `${p}=${linked[p]}`);
      const list = listParam(w.req, '?');
      if (list !== '') query.push(list.slice(1));
      return `${this.frame.recordPath(record.module, record.id)}${query.length > 0 ? `?${query.join('&')}` : ''}#bp-${part}`;
    };
    return {
      summary: w.t('portal.list.summary', { from: formatCount(from, w.language), to: formatCount(shown === 0 ? 0 : from + shown - 1, w.language), total: formatCount(total, w.language) }),
      newerHref: page > 1 ? href(Math.min(page - 1, Math.max(1, Math.ceil(total / size)))) : null,
      olderHref: page * size < total ? href(page + 1) : null,
    };
  }

  /** The record's page (called by the record pages for every module). */
  async render(w: WorkspaceRequest, record: PortalRecordView, extras: PageExtras = {}): Promise<void> {
    const name = record.module;
    const ticket = name === TICKETS;
    const options = { ...this.frame.display(w), module: name };
    const hasComments = w.access.hasTool(name, 'comments');
    const hasDocuments = w.access.hasTool(name, 'documents');
    // The newest comments first, a page at a time (`?comments=2`: the next older page): a ticket with
    // years of replies is not one page of thousands.
    // So are its files (`?documents=2`): a record with thousands of them is not read whole either.
    const pages = { comments: pageNumber(w.req.query.comments), documents: pageNumber(w.req.query.documents) };
    const commentsPage = pages.comments;
    const [commentTotal, comments, documentTotal, documents, ownFile] = await Promise.all([
      hasComments ? w.access.commentCount(name, record.id) : 0,
      hasComments ? w.access.comments(name, record.id, { limit: COMMENTS_PAGE, offset: (commentsPage - 1) * COMMENTS_PAGE }) : [],
      hasDocuments ? w.access.documentCount(name, record.id) : 0,
      hasDocuments ? w.access.documents(name, record.id, { limit: DOCUMENTS_PAGE, offset: (pages.documents - 1) * DOCUMENTS_PAGE }) : [],
      name === DOCUMENTS ? this.ownFile(w, record.id) : null,
    ]);
    const status = record.values.status;
    const statusField = ticket ? record.fields.find((f) => f.name === 'status') : undefined;
    const closed = ticket && status === CLOSED;
    const notice = w.req.query.notice;
    const notices: Record<string, MessageKey> = {
      // Version 1 says "request", as its New request entry and form do.
      created: ticket ? (w.access.policy.source.version === 1 ? 'tickets.requestSent' : 'tickets.created') : 'records.created',
      saved: 'records.saved',
      commented: 'tickets.comments.added',
      uploaded: 'tickets.upload.done',
      // The same form sent again: what the first did, done once.
      again: 'records.sentAgain',
      ...(ticket ? { resolved: 'tickets.resolved' as const } : {}),
    };
    const noticeKey = typeof notice === 'string' && Object.hasOwn(notices, notice) ? notices[notice] : undefined;
    // A ticket's title is its heading; other records show every field they may.
    const fields = shownFields(ticket ? record.fields.filter((f) => f.name !== 'ticket_title') : record.fields, record, options);
    // Back to the list as the customer left it; the forms carry it through their redirects.
    const list = listQueryFrom(w.req.query.list);
    const back = listParam(w.req, '?');
    const classicOwn = w.access.policy.source.version === 1 && name === 'Contacts' && record.id === w.access.contactId;
    // Version 1's own contact is headed and titled as its menu entry ("My information"), like its other entries; the name goes under it.
    const title = classicOwn ? w.t('portal.menu.myInformation') : record.label;
    this.frame.send(w, {
      template: 'record',
      title,
      module: name,
      ...(classicOwn ? { entry: 'my-information' } : {}),
      status: extras.status ?? 200,
      notice: noticeKey ? w.t(noticeKey) : null,
      refused: Boolean(extras.commentError || extras.uploadError),
      // A refused comment or file is shown at the address it was posted to, which has no page: a language change comes back to the record.
      ...(w.req.method === 'POST' ? { returnTo: `/m/${name}/${record.id}${back}` } : {}),
      data: {
        ticket,
        heading: title,
        subheading: classicOwn ? record.label : null,
        number: ticket && typeof record.values.ticket_no === 'string' ? record.values.ticket_no : null,
        statusText: statusField && typeof status === 'string' ? optionText(statusField, status) : null,
        closed,
        // After "OK, resolved" its notice says it already.
        closedHint: closed && noticeKey !== 'tickets.resolved',
        // Version 1's "My information" is a menu entry of its own: no way back to a Contacts list the menu does not offer.
        listHref: w.access.module(name).view && !(classicOwn && w.access.module(name).scope === 'contact') ? this.frame.path(`/m/${name}${list === '' ? '' : `?${list}`}`) : null,
        listLabel: this.frame.listLabel(w, name),
        fields,
        download: ownFile
          ? {
              href: this.frame.recordPath(name, record.id, `/documents/${ownFile.documentId}`),
              label: w.t('records.download.button'),
              details: this.fileDetails(w, ownFile),
            }
          : null,
        editHref: record.editable ? this.frame.recordPath(name, record.id, `/edit${back}`) : null,
        deleteHref: record.deletable ? this.frame.recordPath(name, record.id, `/delete${back}`) : null,
        resolveAction: record.resolvable && !closed ? this.frame.recordPath(name, record.id, `/resolve${back}`) : null,
        hasComments,
        commentsHeading: w.t('tickets.comments.heading', { count: formatCount(commentTotal, w.language) }),
        comments: comments.map((c) => this.commentRow(w, c, options.timeZone)),
        commentPaging: this.paging(w, record, 'comments', pages, comments.length, commentTotal),
        commentStart: commentTotal - (commentsPage - 1) * COMMENTS_PAGE,
        commentAction: this.frame.recordPath(name, record.id, `/comments${back}`),
        commentError: extras.commentError ?? null,
        commentText: extras.commentText ?? '',
        commentMax: COMMENT_MAX,
        hasDocuments,
        documents: documents.map((d) => this.documentRow(w, name, record.id, d, options.timeZone)),
        documentPaging: hasDocuments ? this.paging(w, record, 'documents', pages, documents.length, documentTotal) : null,
        uploadAction: this.frame.recordPath(name, record.id, `/documents${back}`),
        uploadError: extras.uploadError ?? null,
        uploadTitle: extras.uploadTitle ?? '',
        // No title box where the profile hides the Documents title or makes it read-only.
        titlesUploads: w.access.titlesUploads,
        accept: Object.keys(ALLOWED_UPLOADS).map((e) => `.${e}`).join(','),
        uploadHint: w.t('tickets.upload.hint', { types: Object.keys(ALLOWED_UPLOADS).join(', '), size: formatSize(MAX_UPLOAD_BYTES, w.language) }),
      },
    });
  }

  /** Where a post of the record page leads, and where the same post sent again does. */
  private done(w: WorkspaceRequest, name: string, id: number, notice: string, anchor = ''): FormDone {
    return formDoneAt(this.frame.recordPath(name, id), notice, `${listParam(w.req, '&')}${anchor}`);
  }

  private async comment(w: WorkspaceRequest): Promise<FormDone | void> {
    const { name, id } = this.target(w);
    const body = (w.req.body as Record<string, unknown>)?.body;
    // A form sends each line break as CR LF; the comment box (its maxlength) counted it as one character.
    const text = typeof body === 'string' ? body.replace(/\r\n?/g, '\n') : '';
    try {
      await w.access.addComment(name, id, text);
    } catch (error) {
      if (!(error instanceof AccessError) || error.kind !== 'invalid') throw error;
      const record = await w.access.record(name, id);
      // The limit as a number of the page's language (10,000 / 10.000), not as digits alone.
      const message = w.t(isBlankText(text) ? 'tickets.comments.empty' : 'tickets.comments.tooLong', { max: formatCount(COMMENT_MAX, w.language) });
      return this.render(w, record, { commentError: message, commentText: text.slice(0, COMMENT_MAX * 2), status: 422 });
    }
    return this.done(w, name, id, 'commented', '#bp-comments');
  }

  private async attach(w: WorkspaceRequest): Promise<FormDone | void> {
    const { name, id } = this.target(w);
    // Who may attach where first: a foreign or unknown record is a 404 whatever the file.
    const record = await w.access.record(name, id);
    if (!w.access.hasTool(name, 'documents')) throw new AccessError('not-allowed');
    const titleField = (w.req.body as Record<string, unknown>)?.title;
    const typedTitle = typeof titleField === 'string' ? clipped(titleField, 200) : '';
    const refused = (problem: UploadProblem | 'malformed' | 'missing', status: number) =>
      this.render(w, record, {
        uploadError: w.t(problem === 'malformed' ? 'tickets.upload.malformed' : problem === 'missing' ? 'tickets.upload.missing' : UPLOAD_PROBLEMS[problem], { size: formatSize(MAX_UPLOAD_BYTES, w.language) }),
        uploadTitle: typedTitle,
        status,
      });
    const problem = w.res.locals.bpUploadProblem as 'too-large' | 'malformed' | undefined;
    if (problem) return refused(problem, problem === 'too-large' ? 413 : 400);
    const file = w.req.file;
    if (!file) return refused('missing', 400);
    const checked = await checkUpload(file.originalname, file.buffer);
    if (!checked.ok) return refused(checked.problem, checked.problem === 'too-large' ? 413 : 422);
    const title = typeof titleField === 'string' && titleField.trim() !== '' ? clipped(titleField.trim(), 200) : checked.fileName;
    await w.access.attach(name, id, { title, fileName: checked.fileName, mimeType: checked.mimeType, content: file.buffer });
    return this.done(w, name, id, 'uploaded', '#bp-documents');
  }

  private async download(w: WorkspaceRequest): Promise<void> {
    const { name, id } = this.target(w);
    const documentId = idParam(w, 'documentId');
    // The record must be the customer's, the file one of its own (else the 404 of a missing file), and theirs to read.
    const { file, stream, downloadName, reopen } = await w.access.openRecordDocument(name, id, documentId);
    const text = await textDownload(stream, file.mimeType, file.size, reopen, w.res);
    w.res.status(200).set(downloadHeaders(downloadName, file.mimeType, file.size, text.charset));
    await sendFile(text.stream, w.res, file.size);
  }

  private async resolve(w: WorkspaceRequest): Promise<FormDone | void> {
    const { name, id } = this.target(w);
    if (name !== TICKETS) throw new AccessError('not-found');
    try {
      await w.access.resolveTicket(id, CLOSED);
    } catch (error) {
      if (error instanceof AccessError && error.kind === 'stale') return this.render(w, await w.access.record(name, id), { status: 409, commentError: w.t('records.stale') });
      throw error;
    }
    return this.done(w, name, id, 'resolved');
  }
}
