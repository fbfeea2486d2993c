/**
 * The ajv schemas of the portal API: request bodies and list queries (validated before anything
 * reaches the access layer) and the shapes of the answers (for the OpenAPI document). Written in
 * the JSON Schema subset that both ajv and OpenAPI 3.1 read, so the document shows the very
 * schemas the routes validate with.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { COMMENT_MAX, MAX_PAGE, MAX_PAGE_SIZE } from '../../access/portal-access.js';
import { TEXT_MAX, VISIBLE_CHARACTER } from '../../access/field-input.js';
import { MAX_FILE_NAME } from '../../access/upload-checks.js';

/** A field or column name as a customer may type it; unknown ones are refused later as `unknown-field`. */
export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,63}$';
export const MAX_VALUES = 200;
export const MAX_FILTERS = 50;
export const SEARCH_MAX = 200;
export const TITLE_MAX = 200;

export type JsonSchema = Readonly<Record<string, unknown>>;

export const fieldValueSchema = {
  anyOf: [
    { type: 'string', maxLength: TEXT_MAX },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    // Items are checked only in a list within its limit: ajv reports every problem (`allErrors`),
    // and 1 MB of `[1,1,…]` was half a million of them, seconds of the server's time for one request.
    { type: 'array', maxItems: 200, if: { maxItems: 200 }, then: { items: { type: 'string', maxLength: 1000 } } },
  ],
} as const;

/** Values are checked only when there are not too many (as a list's items). */
const valuesSchema = {
  type: 'object',
  maxProperties: MAX_VALUES,
  if: { maxProperties: MAX_VALUES },
  then: {
    propertyNames: { type: 'string', pattern: NAME_PATTERN },
    additionalProperties: fieldValueSchema,
  },
} as const;

export interface CreateRecordBody {
  values: Record<string, unknown>;
}
export const createRecordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['values'],
  properties: { values: valuesSchema },
} as const;

/**
 * The record's `version` as the client read it: optional on an edit or a delete since the first API
 * (clients written against it send none), so a write without it is not checked; the portal's pages
 * always send it.
 */
const VERSION_SCHEMA = {
  type: 'integer',
  minimum: 0,
  maximum: 2147483647,
  description: 'The record’s `version` as read: a record changed since is refused with 409 `stale_record`.',
} as const;

export interface UpdateRecordBody {
  values: Record<string, unknown>;
  version?: number;
}
export const updateRecordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['values'],
  properties: { values: valuesSchema, version: { ...VERSION_SCHEMA, description: `${VERSION_SCHEMA.description} Without it the change is written whatever changed meanwhile (last write wins).` } },
} as const;

export interface DeleteRecordBody {
  version?: number;
}
export const deleteRecordSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { version: { ...VERSION_SCHEMA, description: `${VERSION_SCHEMA.description} Without it the record is deleted whatever changed meanwhile.` } },
} as const;

export interface CommentBody {
  body: string;
}
export const commentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['body'],
  properties: { body: { type: 'string', minLength: 1, maxLength: COMMENT_MAX, pattern: VISIBLE_CHARACTER, description: 'Not blank: a character that shows (not only spaces, line breaks or zero-width characters)' } },
} as const;

/** A write that takes no fields: `{}` or no body at all. */
export const emptyBodySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

/** The text fields of the upload form (the file itself is the `file` part). */
export interface UploadFields {
  title?: string;
}
export const uploadFieldsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { title: { type: 'string', maxLength: TITLE_MAX } },
} as const;
/** The multipart body as the OpenAPI document shows it. */
export const uploadBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: { file: { type: 'string', contentMediaType: 'application/octet-stream', description: `At most 10 MB; name at most ${MAX_FILE_NAME} characters` }, title: uploadFieldsSchema.properties.title },
} as const;

/** A list request once its query string has been read (`filter[field]=…` gathered into `filter`). */
export interface ListQuery {
  page?: number;
  pageSize?: number;
  sort?: string;
  direction?: 'asc' | 'desc';
  search?: string;
  filter?: Record<string, string>;
}
export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    page: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
    pageSize: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE },
    sort: { type: 'string', pattern: NAME_PATTERN },
    direction: { type: 'string', enum: ['asc', 'desc'] },
    search: { type: 'string', maxLength: SEARCH_MAX },
    filter: {
      type: 'object',
      maxProperties: MAX_FILTERS,
      propertyNames: { type: 'string', pattern: NAME_PATTERN },
      additionalProperties: { type: 'string', maxLength: SEARCH_MAX },
    },
  },
} as const;

// ───────────────────────────── answers (for the document) ─────────────────────────────

/** When a record, comment or file was written or changed: always in UTC, whatever offset the CRM writes. */
const instantSchema = { type: 'string', format: 'date-time', description: 'ISO 8601 in UTC, e.g. `2026-12-05T13:37:21.927Z`' } as const;

const nameAndLabel = { type: 'object', required: ['name', 'label'], properties: { name: { type: 'string' }, label: { type: 'string' } } } as const;

export const portalFieldSchema = {
  type: 'object',
  required: ['name', 'label', 'type', 'access', 'mandatory'],
  properties: {
    name: { type: 'string' },
    label: { type: 'string' },
    type: { type: 'string' },
    access: { type: 'string', enum: ['readonly', 'readwrite'] },
    mandatory: { type: 'boolean' },
    options: { type: 'array', items: { type: 'string' } },
    filterOptions: {
      type: 'array',
      items: { type: 'string' },
      description: "On a list's searchable picklist column: the values to offer for `filter[field]` — the options, then any other value a record of the list holds (set in the CRM by a user of another role).",
    },
    optionLabels: {
      type: 'object',
      description: "Each option's text in the caller's language, where the CRM labels its values; send the option itself.",
      additionalProperties: { type: 'string' },
    },
    referenceModule: { type: 'string' },
    maxLength: { type: 'integer', minimum: 1, description: 'On a text the caller may write: the most characters (Unicode code points; a line break, CR LF or LF, counts as one) it takes; a longer one is refused with `invalid_input`.' },
  },
} as const;

const referenceSchema = {
  anyOf: [{ type: 'null' }, { type: 'object', required: ['id', 'label', 'module'], properties: { id: { type: 'integer' }, label: { type: 'string' }, module: { type: 'string' } } }],
} as const;

export const rowSchema = {
  type: 'object',
  required: ['id', 'label', 'values', 'references', 'createdAt', 'modifiedAt'],
  properties: {
    id: { type: 'integer' },
    label: { type: 'string' },
    values: { type: 'object', additionalProperties: fieldValueSchema },
    references: { type: 'object', additionalProperties: referenceSchema },
    createdAt: instantSchema,
    modifiedAt: instantSchema,
  },
} as const;

export const recordSchema = {
  type: 'object',
  required: [...rowSchema.required, 'module', 'fields', 'editable', 'deletable', 'resolvable', 'version'],
  properties: {
    ...rowSchema.properties,
    module: { type: 'string' },
    fields: { type: 'array', items: portalFieldSchema },
    editable: { type: 'boolean' },
    deletable: { type: 'boolean' },
    resolvable: { type: 'boolean', description: 'A ticket the customer may close with `POST /tickets/{id}/resolve`' },
    version: { type: 'integer' },
  },
} as const;

export const listSchema = {
  type: 'object',
  required: ['module', 'columns', 'rows', 'total', 'page', 'pageSize', 'sort', 'filters', 'search', 'searchable'],
  properties: {
    module: { type: 'string' },
    columns: { type: 'array', items: portalFieldSchema },
    rows: { type: 'array', items: rowSchema },
    total: { type: 'integer' },
    page: { type: 'integer' },
    pageSize: { type: 'integer' },
    sort: { type: 'object', properties: { field: { type: 'string' }, direction: { type: 'string', enum: ['asc', 'desc'] } } },
    filters: { type: 'object', additionalProperties: { type: 'string' } },
    search: { type: 'string' },
    searchable: { type: 'array', items: { type: 'string' }, description: 'The list columns a client may sort and filter by (a column some conditional rule hides on some records is not among them); `sort` and `filter[…]` also take any other visible field no rule hides, as the record shows it' },
  },
} as const;

export const modulesSchema = {
  type: 'object',
  required: ['version', 'modules', 'buttons'],
  properties: {
    version: { type: 'integer', enum: [1, 2] },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'label', 'singularLabel', 'actions', 'tools', 'columns'],
        properties: {
          name: { type: 'string' },
          label: { type: 'string' },
          singularLabel: { type: 'string' },
          actions: { type: 'object', properties: { view: { type: 'boolean' }, create: { type: 'boolean' }, edit: { type: 'boolean' }, delete: { type: 'boolean' } } },
          tools: { type: 'object', properties: { comments: { type: 'boolean' }, documents: { type: 'boolean' }, search: { type: 'boolean' }, export: { type: 'boolean' } } },
          columns: { type: 'array', items: nameAndLabel },
        },
      },
    },
    buttons: {
      type: 'array',
      items: {
        type: 'object',
        properties: { title: { type: 'string' }, description: { type: 'string' }, colour: { type: 'string' }, icon: { type: 'string' }, action: { type: 'string' }, module: { type: 'string' } },
      },
    },
  },
} as const;

export const fieldsSchema = { type: 'object', required: ['module', 'fields'], properties: { module: { type: 'string' }, fields: { type: 'array', items: portalFieldSchema } } } as const;

export const commentAnswerSchema = {
  type: 'object',
  required: ['id', 'body', 'author', 'createdAt'],
  properties: {
    id: { type: 'integer' },
    body: { type: 'string' },
    author: { type: 'object', required: ['kind', 'name'], properties: { kind: { type: 'string', enum: ['customer', 'support'] }, name: { type: 'string' } } },
    createdAt: instantSchema,
  },
} as const;

export const commentsSchema = {
  type: 'object',
  required: ['comments', 'count'],
  properties: {
    comments: { type: 'array', items: commentAnswerSchema },
    count: { type: 'integer', description: 'All the public comments of the record' },
    page: { type: 'integer', description: 'With `page` or `pageSize` asked for' },
    pageSize: { type: 'integer', description: 'With `page` or `pageSize` asked for' },
  },
} as const;

export const documentAnswerSchema = {
  type: 'object',
  required: ['id', 'createdAt', 'contentPath'],
  properties: {
    id: { type: 'integer' },
    title: { type: 'string', description: 'Absent where the profile, or a rule on the Documents record, hides `title`' },
    fileName: { type: 'string', description: 'Absent where the profile, or a rule on the Documents record, hides `filename`' },
    mimeType: { type: 'string', description: 'Absent where the profile, or a rule on the Documents record, hides `mimetype`' },
    size: { type: 'integer', description: 'Absent where the profile, or a rule on the Documents record, hides `filesize`' },
    createdAt: instantSchema,
    contentPath: { type: 'string', description: 'The download route of the file, relative to the API' },
  },
} as const;

export const documentsSchema = {
  type: 'object',
  required: ['documents', 'count'],
  properties: {
    documents: { type: 'array', items: documentAnswerSchema },
    count: { type: 'integer', description: 'All the files of the record' },
    page: { type: 'integer', description: 'With `page` or `pageSize` asked for' },
    pageSize: { type: 'integer', description: 'With `page` or `pageSize` asked for' },
  },
} as const;

export const resolveSchema = { type: 'object', required: ['resolved', 'record'], properties: { resolved: { type: 'boolean' }, record: recordSchema } } as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        problems: {
          type: 'array',
          items: { type: 'object', required: ['field', 'code', 'message'], properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
} as const;

// ───────────────────────────── validators ─────────────────────────────

// `verbose`: an error carries its schema, so that a problem can name an integer's bounds (`schemaProblems`).
const bodies = new Ajv({ strict: true, allErrors: true, verbose: true });
/** Query strings are text: their integers are read by `withQueryIntegers` first, nothing is coerced. */
const queries = new Ajv({ strict: true, allErrors: true, verbose: true });

/** The query parameters that are integers (a list's, and a record's comments and documents). */
const QUERY_INTEGERS: readonly string[] = ['page', 'pageSize'];
const DECIMAL_DIGITS = /^[0-9]{1,15}$/;

/**
 * A query's integers as numbers where written as the document writes integers, in decimal digits;
 * anything else stays text, which the schema refuses. Ajv's `coerceTypes` read whatever JavaScript
 * takes for a number: `0x10` was 16, `1e1` 10, ` 1`, `+1` and `1.0` 1 — a typo paged silently.
 */
export function withQueryIntegers(query: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const read: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    const number = QUERY_INTEGERS.includes(key) && typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value;
    Object.defineProperty(read, key, { value: number, enumerable: true, writable: true, configurable: true });
  }
  return read;
}

export const validateCreateRecord: ValidateFunction<CreateRecordBody> = bodies.compile<CreateRecordBody>(createRecordSchema);
export const validateUpdateRecord: ValidateFunction<UpdateRecordBody> = bodies.compile<UpdateRecordBody>(updateRecordSchema);
export const validateDeleteRecord: ValidateFunction<DeleteRecordBody> = bodies.compile<DeleteRecordBody>(deleteRecordSchema);
export const validateComment: ValidateFunction<CommentBody> = bodies.compile<CommentBody>(commentSchema);
export const validateEmptyBody: ValidateFunction<Record<string, never>> = bodies.compile<Record<string, never>>(emptyBodySchema);
export const validateUploadFields: ValidateFunction<UploadFields> = bodies.compile<UploadFields>(uploadFieldsSchema);
export const validateListQuery: ValidateFunction<ListQuery> = queries.compile<ListQuery>(listQuerySchema);

/** `GET …/comments`: all of a record's comments, or a page of them (newest first) with `page` or `pageSize`. */
export const commentsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { page: listQuerySchema.properties.page, pageSize: listQuerySchema.properties.pageSize },
} as const;
export interface CommentsQuery {
  page?: number;
  pageSize?: number;
}
export const validateCommentsQuery: ValidateFunction<CommentsQuery> = queries.compile<CommentsQuery>(commentsQuerySchema);

/** `GET …/documents`: all of a record's files, or a page of them (newest first) with `page` or `pageSize`, as comments. */
export const documentsQuerySchema = commentsQuerySchema;

export type SchemaProblemCode = 'required' | 'unknown-field' | 'invalid-value';
export interface SchemaProblem {
  readonly field: string;
  readonly code: SchemaProblemCode;
  /** A text longer than the schema's `maxLength`: that many characters at most. */
  readonly max?: number;
  /** An integer the schema bounds, refused: the least and the most it takes. */
  readonly between?: readonly [number, number];
  /** A value the schema lists (`enum`), refused: the values it takes. */
  readonly oneOf?: readonly string[];
}

/** The bounds of a bounded integer's schema (`{type: 'integer', minimum, maximum}`), or undefined. */
function integerBounds(schema: unknown): readonly [number, number] | undefined {
  const { type, minimum, maximum } = (schema ?? {}) as { type?: unknown; minimum?: unknown; maximum?: unknown };
  return type === 'integer' && typeof minimum === 'number' && typeof maximum === 'number' ? [minimum, maximum] : undefined;
}

/** `/values/ticket_title` → `values.ticket_title`; `filter` entries as `filter[name]` (how they are sent). */
function location(path: string, child?: string): string {
  const parts = path.split('/').filter((p) => p !== '').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  if (parts[0] === 'filter' && parts.length > 1) return `filter[${parts.slice(1).join('.')}]`;
  return parts.length === 0 ? 'body' : parts.join('.');
}

/** Ajv's errors as the API's problems: one per place, never the value that was sent. */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined): SchemaProblem[] {
  const problems = new Map<string, SchemaProblem>();
  for (const error of errors ?? []) {
    // A failed `if` only says that its `then` failed: that failure is reported itself.
    if (error.keyword === 'if') continue;
    let problem: SchemaProblem;
    if (error.keyword === 'additionalProperties') problem = { field: location(error.instancePath, String(error.params.additionalProperty)), code: 'unknown-field' };
    else if (error.keyword === 'required') problem = { field: location(error.instancePath, String(error.params.missingProperty)), code: 'required' };
    else if (error.keyword === 'propertyNames' || (error.keyword === 'pattern' && error.propertyName !== undefined)) {
      // The very key (`values._x`, `filter[__proto__]`), as a key that has the form of a name but no field is named.
      problem = { field: location(error.instancePath, String(error.propertyName ?? error.params.propertyName)), code: 'unknown-field' };
    } else if ((error.keyword === 'minLength' && error.params.limit === 1) || (error.keyword === 'pattern' && error.params.pattern === VISIBLE_CHARACTER)) {
      // Empty or only spaces where text is needed: missing, as an absent field is.
      problem = { field: location(error.instancePath), code: 'required' };
    } else {
      const field = location(error.instancePath);
      const between = integerBounds(error.parentSchema);
      if (error.keyword === 'maxLength') problem = { field, code: 'invalid-value', max: Number(error.params.limit) };
      else if (between) problem = { field, code: 'invalid-value', between };
      else if (error.keyword === 'enum') problem = { field, code: 'invalid-value', oneOf: (error.params.allowedValues as unknown[]).map(String) };
      else problem = { field, code: 'invalid-value' };
    }
    // A key refused by name is unknown, whatever its value's own problem (which comes second).
    if (!problems.has(problem.field) || problem.code === 'unknown-field') problems.set(problem.field, problem);
  }
  return [...problems.values()].slice(0, 50);
}
