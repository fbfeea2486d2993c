/**
 * Comments, files and "OK, resolved" through the JSON API, each through the access layer (the
 * record must be in scope and the module must have the tool):
 *
 *   GET  /modules/:module/records/:id/comments            public comments, newest first, and their count
 *                                                         (all, or a page: `?page=&pageSize=`)
 *   POST /modules/:module/records/:id/comments {"body"}   → 201 a public comment written as the customer
 *   GET  /modules/:module/records/:id/documents           files, newest first, and their count
 *                                                         (all, or a page: `?page=&pageSize=`)
 *   POST /modules/:module/records/:id/documents           multipart: `file` (+ `title`), with the header
 *                                                         `X-Requested-With: business-portal` → 201
 *   GET  /documents/:id/content                           the file, always as an attachment
 *
 * A file shows no fact (title, file name, type, size) whose Documents field the customer's profile,
 * or a rule on its Documents record, hides; see `PortalAccessContext.downloadName` for its download.
 *   POST /tickets/:id/resolve                             closes the ticket → {"resolved", "record"}
 *
 * Uploads are the API's one write that is not JSON: the custom header cannot be sent cross-site
 * without a CORS preflight (which is never granted), so it defeats CSRF as JSON does.
 */
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import multer from 'multer';
import type { Comment } from '../../host-contract/index.js';
import { ApiError } from '../../http/api-errors.js';
import { UPLOAD_HEADER, UPLOAD_HEADER_VALUE } from '../../http/json-body.js';
import type { MessageKey } from '../../i18n/message-keys.js';
import { MAX_UPLOAD_BYTES, checkUpload, downloadHeaders, sendFile, textDownload, type UploadProblem } from '../../access/upload-checks.js';
import { parseUploadBody } from '../../access/upload-body.js';
import { UPLOAD_BYTES_AT_ONCE, UPLOAD_RETRY_AFTER, UPLOADS_PER_CUSTOMER, UploadSlots } from '../../access/upload-slots.js';
import { ApiInputError, ApiRequestContext, UploadRefusedError } from './api-request-context.js';
import { idParameter, idempotencyKeyParameter, moduleParameter, withIdempotencyAnswers, type ApiRoute, type ApiRouteSource } from './api-route-table.js';
import { urlQuery } from './records-api.js';
import { writeChunk } from './csv-export.js';
import { DEFAULT_PAGE_SIZE, type ShownDocument } from '../../access/portal-access.js';
import {
  commentAnswerSchema,
  commentSchema,
  commentsQuerySchema,
  commentsSchema,
  documentAnswerSchema,
  documentsQuerySchema,
  documentsSchema,
  resolveSchema,
  schemaProblems,
  uploadBodySchema,
  validateComment,
  validateCommentsQuery,
  withQueryIntegers,
  emptyBodySchema,
  validateEmptyBody,
  validateUploadFields,
} from './api-schemas.js';

const UPLOAD_MESSAGES: Readonly<Record<UploadProblem, MessageKey>> = {
  empty: 'api.upload.empty',
  'too-large': 'api.upload.tooLarge',
  'type-not-allowed': 'api.upload.typeNotAllowed',
  'content-mismatch': 'api.upload.contentMismatch',
  'bad-name': 'api.upload.badName',
};

/** Parses one `file` part into memory, counting its bytes as they arrive (413 past the limit, whatever the declared length). */
const uploadParser = multer({
  storage: multer.memoryStorage(),
  // The name as sent, so that a name with a path (`../../x.txt`) is refused rather than quietly shortened.
  preservePath: true,
  // Clients send a file's name as raw UTF-8 bytes (busboy's default reads them as latin1).
  defParamCharset: 'utf8',
  limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 4, parts: 5, fieldSize: 4096, fieldNameSize: 100, headerPairs: 50 },
}).single('file');

/** The upload's parts; a file over the limit is refused as soon as the body passes it (`parseUploadBody`). */
async function parseUpload(req: Request, res: Response): Promise<void> {
  const error = await parseUploadBody(uploadParser, req, res);
  if (!error) return;
  if (error instanceof multer.MulterError) {
    throw new UploadRefusedError(error.code === 'LIMIT_FILE_SIZE' ? 413 : 422, error.code === 'LIMIT_FILE_SIZE' ? 'api.upload.tooLarge' : 'api.upload.malformed');
  }
  throw new UploadRefusedError(400, 'api.upload.malformed');
}

const commentOf = (comment: Comment) => ({
  id: comment.id,
  body: comment.body,
  author: { kind: comment.author.kind === 'contact' ? 'customer' : 'support', name: comment.authorName },
  createdAt: comment.createdAt,
});

/** A file as the access layer shows it: a fact whose Documents field is hidden to the customer is absent. */
const documentOf = (file: ShownDocument) => ({
  id: file.documentId,
  ...(file.title !== undefined ? { title: file.title } : {}),
  ...(file.fileName !== undefined ? { fileName: file.fileName } : {}),
  ...(file.mimeType !== undefined ? { mimeType: file.mimeType } : {}),
  ...(file.size !== undefined ? { size: file.size } : {}),
  createdAt: file.createdAt,
  contentPath: `/documents/${file.documentId}/content`,
});

/**
 * The page of a record's comments or files the query asks for (`page`, `pageSize`; 400 on bad
 * values), or null for all of them.
 */
function pageAsked(req: Request): { readonly page: number; readonly pageSize: number; readonly newest: { limit: number; offset: number } } | null {
  const query: unknown = withQueryIntegers(urlQuery(req));
  if (!validateCommentsQuery(query)) throw new ApiInputError(schemaProblems(validateCommentsQuery.errors));
  if (query.page === undefined && query.pageSize === undefined) return null;
  const page = query.page ?? 1;
  const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
  return { page, pageSize, newest: { limit: pageSize, offset: (page - 1) * pageSize } };
}

/**
 * Answers `{ "<key>": [...all items...], "count": n }` as the batches are read, so that a record
 * with thousands of comments or files is never held whole, neither as rows nor as its JSON. The
 * first batch is read before any byte is sent: a refusal (scope, tool) is still a JSON error.
 */
async function streamAll<T>(res: Response, key: 'comments' | 'documents', batches: AsyncGenerator<readonly T[]>, shape: (item: T) => unknown): Promise<void> {
  let batch = await batches.next();
  res.status(200).type('application/json; charset=utf-8');
  if (!(await writeChunk(res, `{"${key}":[`))) return;
  let count = 0;
  while (!batch.done) {
    if (batch.value.length > 0) {
      if (!(await writeChunk(res, (count > 0 ? ',' : '') + batch.value.map((item) => JSON.stringify(shape(item))).join(',')))) return;
      count += batch.value.length;
    }
    batch = await batches.next();
  }
  res.end(`],"count":${count}}`);
}

@injectable()
export class TicketsApi implements ApiRouteSource {
  constructor(
    @inject(ApiRequestContext) private readonly api: ApiRequestContext,
    @inject(UploadSlots) private readonly slots: UploadSlots,
  ) {}

  routes(): readonly ApiRoute[] {
    const errors = { 401: { description: 'Not signed in (`not_signed_in`)' }, 403: { description: 'The profile does not allow it (`not_allowed`)' } };
    const notFound = { 404: { description: 'No such record (or document) in the customer’s scope (`not_found`)' } };
    const recordParameters = [moduleParameter, idParameter];
    return [
      {
        method: 'get',
        path: '/modules/:module/records/:id/comments',
        operationId: 'listComments',
        summary: 'The record’s public comments, newest first, and their count (comments tool): all of them, or a page with `page` or `pageSize`',
        tag: 'tickets',
        signedIn: true,
        parameters: [
          ...recordParameters,
          { name: 'page', in: 'query', description: 'A page of comments, newest first (1 is the newest)', schema: commentsQuerySchema.properties.page },
          { name: 'pageSize', in: 'query', description: `Comments on a page (${DEFAULT_PAGE_SIZE} when only \`page\` is given)`, schema: commentsQuerySchema.properties.pageSize },
        ],
        answers: {
          200: { description: 'The comments', schema: commentsSchema },
          400: { description: 'A page or page size out of range, or another parameter (`invalid_input`, with `problems`)' },
          ...errors,
          ...notFound,
        },
        handle: (req, res) => this.comments(req, res),
      },
      {
        method: 'post',
        path: '/modules/:module/records/:id/comments',
        operationId: 'addComment',
        summary: 'Adds a public comment written by the customer (comments tool)',
        tag: 'tickets',
        signedIn: true,
        parameters: [...recordParameters, idempotencyKeyParameter],
        body: { contentType: 'application/json', schema: commentSchema, required: true },
        answers: withIdempotencyAnswers({ 201: { description: 'The comment', schema: commentAnswerSchema }, ...errors, ...notFound, 422: { description: 'Empty or too long (`invalid_input`)' } }),
        handle: (req, res) => this.addComment(req, res),
      },
      {
        method: 'get',
        path: '/modules/:module/records/:id/documents',
        operationId: 'listDocuments',
        summary:
          'The files attached to the record, newest first, and their count (documents tool: `tools.documents` of `GET /modules`, on only where the module can hold files): all of them, or a page with `page` or `pageSize`',
        tag: 'tickets',
        signedIn: true,
        parameters: [
          ...recordParameters,
          { name: 'page', in: 'query', description: 'A page of files, newest first (1 is the newest)', schema: documentsQuerySchema.properties.page },
          { name: 'pageSize', in: 'query', description: `Files on a page (${DEFAULT_PAGE_SIZE} when only \`page\` is given)`, schema: documentsQuerySchema.properties.pageSize },
        ],
        answers: {
          200: { description: 'The files', schema: documentsSchema },
          400: { description: 'A page or page size out of range, or another parameter (`invalid_input`, with `problems`)' },
          ...errors,
          ...notFound,
        },
        handle: (req, res) => this.documents(req, res),
      },
      {
        method: 'post',
        path: '/modules/:module/records/:id/documents',
        operationId: 'uploadDocument',
        summary: `Attaches a file (at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB; PDF, images, office files, text — checked against their content) (documents tool: \`tools.documents\` of \`GET /modules\`)`,
        tag: 'tickets',
        signedIn: true,
        parameters: recordParameters,
        body: {
          contentType: 'multipart/form-data',
          schema: uploadBodySchema,
          required: true,
          headers: [{ name: UPLOAD_HEADER, in: 'header', required: true, description: `Must be \`${UPLOAD_HEADER_VALUE}\` (a cross-site form cannot send it)`, schema: { type: 'string', const: UPLOAD_HEADER_VALUE } }],
        },
        answers: {
          201: { description: 'The stored file', schema: documentAnswerSchema },
          400: { description: 'Malformed multipart body (`invalid_multipart`)' },
          ...errors,
          ...notFound,
          413: { description: 'Larger than the limit (`upload_refused`)' },
          415: { description: `Not multipart, or without \`${UPLOAD_HEADER}\` (\`unsupported_media_type\`)` },
          422: { description: 'Empty, a type that is not allowed, content that is not what the name says, a bad name (`upload_refused`); no `file` part or an unknown field (`invalid_input`, with `problems`)' },
          429: {
            description: `The customer already sends ${UPLOADS_PER_CUSTOMER} files, or the server holds ${UPLOAD_BYTES_AT_ONCE / 1024 / 1024} MB of uploads at once (\`too_many_uploads\`); answered before the body is read, nothing is stored: send it again after \`Retry-After\` seconds`,
            headers: { 'Retry-After': { description: 'Seconds to wait before sending the file again', schema: { type: 'integer', const: UPLOAD_RETRY_AFTER } } },
          },
        },
        handle: (req, res) => this.upload(req, res),
      },
      {
        method: 'get',
        path: '/documents/:id/content',
        operationId: 'downloadDocument',
        summary: 'Downloads a file the customer may read (always an attachment, never rendered)',
        tag: 'tickets',
        signedIn: true,
        parameters: [{ ...idParameter, description: 'A document id' }],
        answers: { 200: { description: 'The file, with the type it was stored with (`application/pdf`, `image/png`, `text/plain`…; `application/octet-stream` for any other)', contentType: '*/*', schema: { type: 'string' } }, 401: errors[401], ...notFound },
        handle: (req, res) => this.download(req, res),
      },
      {
        method: 'post',
        path: '/tickets/:id/resolve',
        operationId: 'resolveTicket',
        summary: '“OK, resolved”: closes the customer’s ticket',
        tag: 'tickets',
        signedIn: true,
        parameters: [{ ...idParameter, description: 'A ticket id' }],
        body: { contentType: 'application/json', schema: emptyBodySchema, required: false },
        answers: {
          200: { description: '`resolved` is false when it was closed already', schema: resolveSchema },
          ...errors,
          ...notFound,
          409: { description: 'The ticket changed in the CRM each time it was being closed, three tries (`stale_record`): read it again' },
          422: { description: 'A body with properties (`invalid_input`)' },
        },
        handle: (req, res) => this.resolve(req, res),
      },
    ];
  }

  private async comments(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, (field) => field, async () => {
      const module = this.api.module(req);
      const id = this.api.id(req);
      const asked = pageAsked(req);
      if (!asked) {
        await streamAll(res, 'comments', customer.allComments(module, id), commentOf);
        return;
      }
      // The count first: it checks the record (scope and tool) once for both.
      const count = await customer.commentCount(module, id);
      const comments = await customer.comments(module, id, asked.newest);
      res.json({ comments: comments.map(commentOf), count, page: asked.page, pageSize: asked.pageSize });
    }, 400);
  }

  private async addComment(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    // Sent again with the same Idempotency-Key, the comment is written once.
    await this.api.idempotent(req, res, customer, () => this.api.answer(req, res, (field) => field, async () => {
      const module = this.api.module(req);
      const id = this.api.id(req);
      await customer.requireRecord(module, id, 'comments');
      const body = this.api.body(req, validateComment);
      res.status(201).json(commentOf(await customer.addComment(module, id, body.body)));
    }));
  }

  private async documents(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, (field) => field, async () => {
      const module = this.api.module(req);
      const id = this.api.id(req);
      const asked = pageAsked(req);
      if (!asked) {
        await streamAll(res, 'documents', customer.allDocuments(module, id), documentOf);
        return;
      }
      // The count first: it checks the record (scope and tool) once for both.
      const count = await customer.documentCount(module, id);
      const files = await customer.documents(module, id, asked.newest);
      res.json({ documents: files.map(documentOf), count, page: asked.page, pageSize: asked.pageSize });
    }, 400);
  }

  private async upload(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, (field) => field, async () => {
      const module = this.api.module(req);
      const id = this.api.id(req);
      if (!req.is('multipart/form-data')) throw new ApiError(415, 'unsupported_media_type', 'api.upload.multipartRequired');
      // Who may attach where is settled before a byte of the file is read, and so is whether it may be sent now.
      await customer.requireRecord(module, id, 'documents');
      const taken = this.slots.take(customer.contactId, req);
      if (!taken.ok) {
        res.set('Retry-After', String(UPLOAD_RETRY_AFTER));
        throw new ApiError(429, 'too_many_uploads', taken.reason === 'customer' ? 'api.upload.tooManyAtOnce' : 'api.upload.busy', { max: UPLOADS_PER_CUSTOMER });
      }
      try {
        await parseUpload(req, res);
        const fields: unknown = { ...(req.body as Record<string, unknown> | undefined) };
        if (!validateUploadFields(fields)) throw new ApiInputError(schemaProblems(validateUploadFields.errors));
        const file = req.file;
        if (!file) throw new ApiInputError([{ field: 'file', code: 'required' }]);
        if (/[\\/]|^\.\.?$/.test(file.originalname)) throw new UploadRefusedError(422, UPLOAD_MESSAGES['bad-name']);
        const checked = await checkUpload(file.originalname, file.buffer);
        if (!checked.ok) throw new UploadRefusedError(checked.problem === 'too-large' ? 413 : 422, UPLOAD_MESSAGES[checked.problem]);
        const title = (fields.title ?? '').trim() || checked.fileName;
        const stored = await customer.attach(module, id, { title, fileName: checked.fileName, mimeType: checked.mimeType, content: file.buffer });
        res.status(201).json(documentOf(stored));
      } finally {
        // Stored, refused, failed or cut off by the client (multer answers then too): the file is let go.
        taken.slot.release();
      }
    });
  }

  private async download(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, (field) => field, async () => {
      const { file, stream, downloadName, reopen } = await customer.openDocument(this.api.id(req));
      const text = await textDownload(stream, file.mimeType, file.size, reopen, res);
      res.status(200).set(downloadHeaders(downloadName, file.mimeType, file.size, text.charset));
      await sendFile(text.stream, res, file.size);
    });
  }

  private async resolve(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, (field) => field, async () => {
      const id = this.api.id(req);
      await customer.requireRecord('HelpDesk', id);
      this.api.body(req, validateEmptyBody);
      const resolved = await customer.resolveTicket(id);
      res.json({ resolved, record: await customer.record('HelpDesk', id) });
    });
  }
}

