/**
 * The OpenAPI 3.1 document of the portal API (`GET {portalPath}/api/v1/openapi.json`), built
 * from the route table the router is built from (and from the sign-in routes' own schema where
 * it is exported), so the document and the router cannot drift apart unnoticed: a test compares
 * every route the router answers with the document, both ways.
 */
import { loginSchema, LOGIN_PATH, LOGOUT_PATH, ME_PATH } from '../../auth/auth-routes.js';
import { changeSchema, codeSchema, FORGOT_API_PATH, forgotSchema, RESET_API_PATH, resetSchema, TWO_FACTOR_API_PATH } from '../../auth/account-api-routes.js';
import { FIRST_ACCESS_ALLOWED, PASSWORD_CHANGE_API_PATH } from '../../auth/first-access.js';
import { SESSION_COOKIE } from '../../auth/portal-sessions.js';
import { API_PREFIX } from '../../http/api-errors.js';
import type { ApiAnswer, ApiOperation, ApiParameter } from './api-route-table.js';
import { errorSchema, type JsonSchema } from './api-schemas.js';

const contactSchema = { type: 'object', required: ['contact'], properties: { contact: { type: 'object' } } } as const;
const under = (path: string): string => path.slice(API_PREFIX.length) || '/';

/** The routes of other capabilities (sign-in, account) and of the portal shell, described here. */
export const SIGN_IN_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    operationId: 'apiIndex',
    summary: 'The API’s name and version',
    tag: 'api',
    signedIn: false,
    answers: { 200: { description: 'The index', schema: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, openapi: { type: 'string', description: 'The path of this document' } } } } },
  },
  {
    method: 'post',
    path: under(LOGIN_PATH),
    operationId: 'login',
    summary: 'Signs in and sets the session cookie (the same 401 for every kind of refusal)',
    tag: 'auth',
    signedIn: false,
    body: { contentType: 'application/json', schema: loginSchema, required: true },
    answers: {
      200: { description: 'Signed in', schema: contactSchema },
      202: { description: 'A second factor is needed: `POST /auth/two-factor`', schema: { type: 'object', properties: { secondFactor: { type: 'object', properties: { method: { type: 'string' } } } } } },
      400: { description: 'Body refused (`invalid_request`)' },
      401: { description: 'Refused (`invalid_credentials`)' },
      429: { description: 'The contact was sent the most second-factor codes an hour allows (`too_many_codes`); nothing was started, try again later' },
      503: { description: 'The second factor’s code could not be mailed (`code_not_sent`); nothing was started, try again later' },
    },
  },
  {
    method: 'post',
    path: under(TWO_FACTOR_API_PATH),
    operationId: 'twoFactor',
    summary: 'The emailed code after the password',
    tag: 'auth',
    signedIn: false,
    body: { contentType: 'application/json', schema: codeSchema, required: true },
    answers: { 200: { description: 'Signed in', schema: contactSchema }, 400: { description: 'Body refused (`invalid_request`)' }, 401: { description: 'Wrong or expired code (`invalid_code`)' } },
  },
  {
    method: 'post',
    path: under(PASSWORD_CHANGE_API_PATH),
    operationId: 'changePassword',
    summary: 'Changes the signed-in customer’s password (a new session cookie)',
    tag: 'auth',
    signedIn: true,
    body: { contentType: 'application/json', schema: changeSchema, required: true },
    answers: {
      204: { description: 'Changed', contentType: null },
      400: { description: 'Body refused (`invalid_request`), or the new password refused (`password_rejected`)' },
      401: { description: 'Not signed in (`not_signed_in`)' },
      403: { description: 'The current password is wrong (`current_password_wrong`)' },
    },
  },
  {
    method: 'post',
    path: under(FORGOT_API_PATH),
    operationId: 'forgotPassword',
    summary: 'Sends a recovery link when the email belongs to a portal user (the same answer otherwise)',
    tag: 'auth',
    signedIn: false,
    body: { contentType: 'application/json', schema: forgotSchema, required: true },
    answers: {
      202: { description: 'Accepted, whatever the email', schema: { type: 'object', required: ['message'], properties: { message: { type: 'string', description: 'What to tell the customer, in their language' } } } },
      400: { description: 'Body refused (`invalid_request`)' },
    },
  },
  {
    method: 'post',
    path: under(RESET_API_PATH),
    operationId: 'resetPassword',
    summary: 'Sets a new password with a recovery link’s token',
    tag: 'auth',
    signedIn: false,
    body: { contentType: 'application/json', schema: resetSchema, required: true },
    answers: { 204: { description: 'Changed', contentType: null }, 400: { description: 'Body refused (`invalid_request`), invalid link (`invalid_link`) or password refused (`password_rejected`)' } },
  },
  {
    method: 'get',
    path: under(ME_PATH),
    operationId: 'me',
    summary: 'The signed-in customer',
    tag: 'auth',
    signedIn: true,
    answers: { 200: { description: 'The customer', schema: contactSchema }, 401: { description: 'Not signed in (`not_signed_in`)' } },
  },
  {
    method: 'post',
    path: under(LOGOUT_PATH),
    operationId: 'logout',
    summary: 'Ends the session',
    tag: 'auth',
    signedIn: false,
    answers: { 204: { description: 'Signed out', contentType: null } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    summary: 'This document',
    tag: 'api',
    signedIn: false,
    answers: { 200: { description: 'OpenAPI 3.1', schema: { type: 'object' } } },
  },
];

/** Ajv's `nullable` (OpenAPI 3.0) as JSON Schema 2020-12 says it: a `null` type. */
export function toOpenApiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApiSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  const source = schema as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) {
    if (key === 'nullable') continue;
    out[key] = key === 'properties' || key === '$defs' ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toOpenApiSchema(v)])) : toOpenApiSchema(value);
  }
  if (source.nullable === true && typeof source.type === 'string') out.type = [source.type, 'null'];
  return out;
}

function parameterOf(parameter: ApiParameter): Record<string, unknown> {
  return {
    name: parameter.name,
    in: parameter.in,
    required: parameter.in === 'path' ? true : parameter.required === true,
    ...(parameter.description ? { description: parameter.description } : {}),
    ...(parameter.deepObject ? { style: 'deepObject', explode: true } : {}),
    schema: toOpenApiSchema(parameter.schema),
  };
}

/**
 * What the shared middleware answers whatever the route table says (README, API errors): a write
 * that is not JSON, not parseable or too large; a path that is not valid percent-encoding; and,
 * for a customer who must still change the generated password, every route but the few the
 * first-access gate lets through; a signed-in route that met a module changed outside this server;
 * a route that needs the database while it does not answer (`plugin/http/database-outage.ts`).
 */
function sharedAnswers(operation: ApiOperation): Record<number, string> {
  const answers: Record<number, string> = {};
  if (operation.method !== 'get' && operation.body?.contentType !== 'multipart/form-data') {
    answers[400] = 'A body that is not JSON (`invalid_json`)';
    answers[413] = 'A body over 1 MiB (`payload_too_large`)';
    answers[415] = 'Not sent as `Content-Type: application/json`, body or not (`unsupported_media_type`)';
  }
  if (/:[A-Za-z_]+/.test(operation.path)) answers[400] = `${answers[400] ? `${answers[400]}; a` : 'A'} path that is not valid percent-encoding (\`bad_request\`)`;
  if (!FIRST_ACCESS_ALLOWED.has(`${operation.method.toUpperCase()} ${API_PREFIX}${operation.path === '/' ? '' : operation.path}`)) {
    answers[403] = 'The customer must first change the generated password (`password_change_required`)';
  }
  if (operation.signedIn) {
    answers[503] = 'A module this needs was changed on another server of the CRM a moment ago; try again after `Retry-After` seconds (`module_changing`)';
  }
  // Every route that reads or writes the portal's data (all but the index and this document).
  if (operation.path !== '/' && operation.path !== '/openapi.json') {
    const unavailable = 'The portal cannot reach its database for a moment; nothing was changed, try again after `Retry-After` seconds (`service_unavailable`)';
    answers[503] = answers[503] ? `${answers[503]}; ${unavailable.charAt(0).toLowerCase()}${unavailable.slice(1)}` : unavailable;
  }
  return answers;
}

function withSharedAnswers(operation: ApiOperation): ApiOperation['answers'] {
  const answers: Record<number, ApiAnswer> = { ...operation.answers };
  for (const [status, description] of Object.entries(sharedAnswers(operation))) {
    const existing = answers[Number(status)];
    answers[Number(status)] = existing ? { ...existing, description: `${existing.description}; ${description.charAt(0).toLowerCase()}${description.slice(1)}` } : { description };
  }
  return answers;
}

const jsonContent = (schema: JsonSchema | undefined) => ({ 'application/json': { schema: toOpenApiSchema(schema ?? { type: 'object' }) } });

/** `/modules/:module/records/:id` → `/modules/{module}/records/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z_]+)/g, '{$1}');

export function openApiDocument(operations: readonly ApiOperation[], serverUrl: string, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const path = openApiPath(operation.path);
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(withSharedAnswers(operation))) {
      const contentType = answer.contentType === undefined ? 'application/json' : answer.contentType;
      const content = Number(status) >= 400 ? jsonContent({ $ref: '#/components/schemas/Error' }) : contentType === null ? undefined : contentType === 'application/json' ? jsonContent(answer.schema) : { [contentType]: { schema: answer.schema ?? { type: 'string' } } };
      const headers = answer.headers ? Object.fromEntries(Object.entries(answer.headers).map(([name, header]) => [name, { description: header.description, schema: toOpenApiSchema(header.schema) }])) : undefined;
      responses[status] = { description: answer.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
    }
    const parameters = [...(operation.parameters ?? []), ...(operation.body?.headers ?? [])].map(parameterOf);
    (paths[path] ??= {})[operation.method] = {
      operationId: operation.operationId,
      summary: operation.summary,
      tags: [operation.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body
        ? { requestBody: { required: operation.body.required, content: { [operation.body.contentType]: { schema: toOpenApiSchema(operation.body.schema) } } } }
        : {}),
      responses,
      security: operation.signedIn ? [{ portalSession: [] }] : [],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Business Portal API',
      version,
      description:
        'The customer portal’s JSON API: the same access layer, session and permissions as the portal pages. Writes take `application/json` only (uploads: `multipart/form-data` with `X-Requested-With: business-portal`). Errors are `{"error": {"code", "message", "problems"?}}`, the message in the caller’s language. A method a path does not take is `method_not_allowed` 405, with `Allow` listing the ones it takes.',
    },
    servers: [{ url: serverUrl }],
    tags: [{ name: 'auth' }, { name: 'records' }, { name: 'tickets' }, { name: 'api' }],
    paths,
    components: {
      schemas: { Error: toOpenApiSchema(errorSchema) },
      securitySchemes: { portalSession: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } },
    },
  };
}
