/**
 * The customer's modules and records through the JSON API — every answer comes from the access
 * layer (`PortalAccessContext`), so the API shows and changes exactly what the pages do:
 *
 *   GET    /modules                                   the portal's modules and home buttons
 *   GET    /modules/:module/records?page&pageSize&sort&direction&search&filter[field]=…
 *   GET    /modules/:module/fields                    the create form's fields
 *   POST   /modules/:module/records      {"values"}   → 201 the record
 *   GET    /modules/:module/records/:id
 *   PATCH  /modules/:module/records/:id  {"values", "version"?}  (409 stale_record on a stale version)
 *   DELETE /modules/:module/records/:id  {"version"?} → 204
 *   GET    /modules/:module/export.csv?…               the list as CSV (export tool)
 */
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import type { ListRequest, PortalAccessContext } from '../../access/portal-access.js';
import type { LanguageCode, LocalizedText } from '../../host-contract/index.js';
import { API_PREFIX } from '../../http/api-errors.js';
import { buttonText } from '../../profiles/profile-document.js';
import { Translator } from '../../i18n/translator.js';
import { ApiInputError, ApiRequestContext, inValues, type ApiProblem, type ProblemPlace } from './api-request-context.js';
import { idParameter, idempotencyKeyParameter, moduleParameter, withIdempotencyAnswers, type ApiParameter, type ApiRoute, type ApiRouteSource } from './api-route-table.js';
import {
  createRecordSchema,
  deleteRecordSchema,
  fieldsSchema,
  listQuerySchema,
  listSchema,
  modulesSchema,
  recordSchema,
  schemaProblems,
  updateRecordSchema,
  validateCreateRecord,
  validateDeleteRecord,
  validateListQuery,
  validateUpdateRecord,
  withQueryIntegers,
  type ListQuery,
} from './api-schemas.js';
import { CSV_BOM, csvCell, csvLine, csvRow, listExportDisposition, writeChunk } from './csv-export.js';

const FILTER_KEY = /^filter\[([^\]]*)\]$/;

const localized = (text: LocalizedText, language: LanguageCode): string => (text as Record<string, string>)[language] ?? text.en;

export const listParameters: readonly ApiParameter[] = [
  { name: 'page', in: 'query', schema: listQuerySchema.properties.page },
  { name: 'pageSize', in: 'query', schema: listQuerySchema.properties.pageSize },
  { name: 'sort', in: 'query', description: 'Any visible field, not only a list column (one some conditional rule hides on some records is refused: the order would tell its values), `createdAt` or `modifiedAt`. A picklist sorts in the order of its options, the same in every language, values it no longer has last (by value on a CRM whose host contract is older than 1.5.0)', schema: listQuerySchema.properties.sort },
  { name: 'direction', in: 'query', schema: listQuerySchema.properties.direction },
  { name: 'search', in: 'query', description: 'Any searchable list column contains it (search tool)', schema: listQuerySchema.properties.search },
  { name: 'filter', in: 'query', deepObject: true, description: '`filter[field]=text` (search tool): the field contains (or, for picklists, equals) the text; a date or number field equals it; a datetime field takes a day, `YYYY-MM-DD` (every time of that day in the CRM time zone), or a date and time with its UTC offset or `Z` (`2026-10-25T02:30+02:00`, `2026-10-25T00:30:15Z`: every time within what is written, the minute, the second or the millisecond); a time without an offset is refused (400 `invalid_input`, the problem naming the forms taken); a reference equals a record id; several at once', schema: listQuerySchema.properties.filter },
];

/**
 * The query string as the URL itself has it (whatever query parser the host configured), one
 * text per key; a key sent twice is refused. Keys are own data properties (`__proto__` included).
 * Only the query is parsed, against a base of ours: a request line may carry the whole URL
 * (`GET http://a:99999/portal/… HTTP/1.1`), whose authority the URL parser may refuse (a 500).
 */
export function urlQuery(req: Request): Record<string, string> {
  const at = req.originalUrl.indexOf('?');
  const params = new URL(at < 0 ? '' : req.originalUrl.slice(at), 'http://portal.invalid/').searchParams;
  const raw: Record<string, string> = {};
  const seen = new Set<string>();
  const problems: ApiProblem[] = [];
  for (const [key, value] of params) {
    if (seen.has(key)) {
      problems.push({ field: key, code: 'invalid-value' });
      continue;
    }
    seen.add(key);
    Object.defineProperty(raw, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (problems.length > 0) throw new ApiInputError(problems);
  return raw;
}

/**
 * Reads a list query from the URL (`urlQuery`): `filter[field]=…` entries are gathered, the rest
 * is left to ajv.
 */
export function readListQuery(req: Request): { query: ListQuery; request: ListRequest; place: ProblemPlace } {
  const raw: Record<string, unknown> = {};
  const filter: Record<string, string> = {};
  for (const [key, value] of Object.entries(urlQuery(req))) {
    const match = FILTER_KEY.exec(key);
    Object.defineProperty(match ? filter : raw, match ? match[1]! : key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (Object.keys(filter).length > 0) {
    // `filter=…` as a text beside the entries is no filter: refused, never overwritten by them (and so dropped).
    if (Object.hasOwn(raw, 'filter')) throw new ApiInputError([{ field: 'filter', code: 'invalid-value' }]);
    raw.filter = filter;
  }
  const candidate: unknown = withQueryIntegers(raw);
  if (!validateListQuery(candidate)) throw new ApiInputError(schemaProblems(validateListQuery.errors));
  const query: ListQuery = candidate;
  const request: ListRequest = {
    ...(query.filter ? { filters: query.filter } : {}),
    ...(query.search !== undefined ? { search: query.search } : {}),
    ...(query.sort !== undefined ? { sort: { field: query.sort, direction: query.direction ?? 'asc' } } : {}),
    ...(query.page !== undefined ? { page: query.page } : {}),
    ...(query.pageSize !== undefined ? { pageSize: query.pageSize } : {}),
  };
  const filtered = new Set(Object.keys(query.filter ?? {}));
  return { query, request, place: (field) => (filtered.has(field) ? `filter[${field}]` : 'sort') };
}

@injectable()
export class RecordsApi implements ApiRouteSource {
  constructor(
    @inject(ApiRequestContext) private readonly api: ApiRequestContext,
    @inject(Translator) private readonly translator: Translator,
  ) {}

  routes(): readonly ApiRoute[] {
    const errors = { 401: { description: 'Not signed in (`not_signed_in`)' } };
    const notFound = { 404: { description: 'No such module or record in the customer’s scope (`not_found`)' } };
    const invalidInput = { 422: { description: 'The input is refused (`invalid_input`, with `problems`)' } };
    const badQuery = { 400: { description: 'A filter, search, sort, direction or page the list does not take: an unknown or hidden field, or a value of the wrong form (`invalid_input`, with `problems`)' } };
    const notAllowed = { 403: { description: 'The profile does not allow it (`not_allowed`)' } };
    return [
      {
        method: 'get',
        path: '/modules',
        operationId: 'listModules',
        summary: 'The customer’s modules (in menu order) and home buttons',
        tag: 'records',
        signedIn: true,
        answers: { 200: { description: 'The modules', schema: modulesSchema }, ...errors },
        handle: (req, res) => this.modules(req, res),
      },
      {
        method: 'get',
        path: '/modules/:module/records',
        operationId: 'listRecords',
        summary: 'A page of the module’s records in the customer’s scope (list columns only)',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter, ...listParameters],
        answers: { 200: { description: 'The list', schema: listSchema }, ...errors, ...notAllowed, ...notFound, ...badQuery },
        handle: (req, res) => this.list(req, res),
      },
      {
        method: 'get',
        path: '/modules/:module/fields',
        operationId: 'createFormFields',
        summary: 'The fields of the module’s create form',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter],
        answers: { 200: { description: 'The fields', schema: fieldsSchema }, ...errors, ...notAllowed, ...notFound },
        handle: (req, res) => this.fields(req, res),
      },
      {
        method: 'post',
        path: '/modules/:module/records',
        operationId: 'createRecord',
        summary: 'Creates a record, owned by the profile’s owner (none if the CRM no longer has that user or group) and linked to the customer (and their account)',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter, idempotencyKeyParameter],
        body: { contentType: 'application/json', schema: createRecordSchema, required: true },
        answers: withIdempotencyAnswers({ 201: { description: 'The record', schema: recordSchema }, ...errors, ...notAllowed, ...notFound, ...invalidInput }),
        handle: (req, res) => this.create(req, res),
      },
      {
        method: 'get',
        path: '/modules/:module/records/:id',
        operationId: 'getRecord',
        summary: 'One record: its visible fields with their state after conditional rules. A Documents record’s own file is at `GET /documents/{id}/content`, with the same id',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter, idParameter],
        answers: { 200: { description: 'The record', schema: recordSchema }, ...errors, ...notFound },
        handle: (req, res) => this.record(req, res),
      },
      {
        method: 'patch',
        path: '/modules/:module/records/:id',
        operationId: 'updateRecord',
        summary: 'Changes writable fields; with `version`, refused when someone changed the record meanwhile',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter, idParameter],
        body: { contentType: 'application/json', schema: updateRecordSchema, required: true },
        answers: {
          200: { description: 'The record', schema: recordSchema },
          ...errors,
          ...notAllowed,
          ...notFound,
          409: { description: 'The record changed since `version` (`stale_record`)' },
          ...invalidInput,
        },
        handle: (req, res) => this.update(req, res),
      },
      {
        method: 'delete',
        path: '/modules/:module/records/:id',
        operationId: 'deleteRecord',
        summary: 'Deletes a record (delete privilege)',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter, idParameter],
        body: { contentType: 'application/json', schema: deleteRecordSchema, required: false },
        answers: { 204: { description: 'Deleted', contentType: null }, ...errors, ...notAllowed, ...notFound, 409: { description: 'Stale `version` (`stale_record`)' }, ...invalidInput },
        handle: (req, res) => this.remove(req, res),
      },
      {
        method: 'get',
        path: '/modules/:module/export.csv',
        operationId: 'exportRecords',
        summary: 'Every record of the list (same query as the list) as CSV, visible list columns only (export tool)',
        tag: 'records',
        signedIn: true,
        parameters: [moduleParameter, ...listParameters.filter((p) => p.name !== 'page' && p.name !== 'pageSize')],
        answers: { 200: { description: 'UTF-8 CSV with a byte-order mark', contentType: 'text/csv', schema: { type: 'string' } }, ...errors, ...notAllowed, ...notFound, ...badQuery },
        handle: (req, res) => this.export(req, res),
      },
    ];
  }

  private async modules(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    const language = customer.language;
    res.json({
      version: customer.policy.source.version,
      modules: customer.modules.map((module) => ({
        name: module.name,
        label: localized(module.definition.label, language),
        singularLabel: localized(module.definition.singularLabel, language),
        actions: { view: module.view, create: module.create, edit: module.edit, delete: module.delete },
        tools: module.view ? { ...module.tools } : { comments: false, documents: false, search: false, export: false },
        columns: module.view
          ? module.listColumns.flatMap((name) => {
              const field = module.fields.find((f) => f.name === name);
              return field ? [{ name, label: localized(field.label, language) }] : [];
            })
          : [],
      })),
      buttons: customer.policy.buttons.map((b) => ({ ...buttonText(b, customer.language), colour: b.colour, icon: b.icon, action: b.action, module: b.module })),
    });
  }

  private async list(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    let place: ProblemPlace = inValues;
    await this.api.answer(req, res, (field) => place(field), async () => {
      const module = this.api.module(req);
      const read = readListQuery(req);
      place = read.place;
      res.json(await customer.list(module, read.request));
    }, 400);
  }

  private async fields(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, inValues, async () => {
      const module = this.api.module(req);
      res.json({ module, fields: await customer.formFields(module) });
    });
  }

  private async create(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    // Sent again with the same Idempotency-Key (a retry after a lost answer), the record is made once.
    await this.api.idempotent(req, res, customer, () => this.api.answer(req, res, inValues, async () => {
      const module = this.api.module(req);
      customer.module(module);
      const body = this.api.body(req, validateCreateRecord);
      const record = await customer.create(module, body.values);
      res.status(201).location(`${req.baseUrl}${API_PREFIX}/modules/${module}/records/${record.id}`).json(record);
    }));
  }

  private async record(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, inValues, async () => {
      res.json(await customer.record(this.api.module(req), this.api.id(req)));
    });
  }

  private async update(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, inValues, async () => {
      const module = this.api.module(req);
      const id = this.api.id(req);
      // Out of scope is 404 before anything about the body is said.
      await customer.requireRecord(module, id);
      const body = this.api.body(req, validateUpdateRecord);
      res.json(await customer.update(module, id, body.values, body.version));
    });
  }

  private async remove(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    await this.api.answer(req, res, inValues, async () => {
      const module = this.api.module(req);
      const id = this.api.id(req);
      await customer.requireRecord(module, id);
      const body = this.api.body(req, validateDeleteRecord);
      await customer.remove(module, id, body.version);
      res.status(204).end();
    });
  }

  private async export(req: Request, res: Response): Promise<void> {
    const customer = await this.api.customer(req, res);
    let place: ProblemPlace = inValues;
    await this.api.answer(req, res, (field) => place(field), async () => {
      const module = this.api.module(req);
      const read = readListQuery(req);
      place = read.place;
      if (read.query.page !== undefined || read.query.pageSize !== undefined) {
        throw new ApiInputError([{ field: read.query.page !== undefined ? 'page' : 'pageSize', code: 'unknown-field' }]);
      }
      await this.streamCsv(customer, module, read.request, res);
    }, 400);
  }

  /** The first batch is read before any byte is sent, so a refusal is still a JSON error; then batch by batch. */
  private async streamCsv(customer: PortalAccessContext, module: string, request: ListRequest, res: Response): Promise<void> {
    // Named as the page's export is (after the checks: the module is the customer's): the list's title in their language and the day.
    const headers = () => ({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': listExportDisposition(customer, module) });
    // HEAD: the GET's refusals and headers, without reading the rows (Node drops a HEAD's body, not its work).
    if (res.req.method === 'HEAD') {
      await customer.checkExport(module, request);
      res.status(200).set(headers()).end();
      return;
    }
    const batches = customer.exportRows(module, request);
    let batch = await batches.next();
    const words = { yes: this.translator.t(customer.language, 'api.csv.yes'), no: this.translator.t(customer.language, 'api.csv.no') };
    res.status(200).set(headers());
    const columns = batch.done ? [] : batch.value.columns;
    if (!(await writeChunk(res, CSV_BOM + csvLine(columns.map((c) => csvCell(c.label)))))) return;
    while (!batch.done) {
      const lines = batch.value.rows.map((row) => csvRow(columns, row, words)).join('');
      if (lines !== '' && !(await writeChunk(res, lines))) return;
      batch = await batches.next();
    }
    res.end();
  }
}
