/**
 * The portal API as a declarative table: each route names its method, path, parameters, body
 * schema and answers next to its handler. The router is built from the table and so is the
 * OpenAPI document, so a route cannot exist undocumented (and the test checks both ways).
 */
import type { Request, RequestHandler, Response } from 'express';
import type { JsonSchema } from './api-schemas.js';

export type ApiMethod = 'get' | 'post' | 'patch' | 'delete';

export interface ApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required?: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
  /** OpenAPI `style: deepObject` for `filter[field]=…`. */
  readonly deepObject?: boolean;
}

export interface ApiAnswer {
  readonly description: string;
  /** `application/json` unless said otherwise; none for an empty answer. */
  readonly contentType?: string | null;
  readonly schema?: JsonSchema;
  /** Response headers worth documenting (`Retry-After` of a 429). */
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
}

export interface ApiOperation {
  readonly method: ApiMethod;
  /** Under the API prefix, in Express form: `/modules/:module/records/:id`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** Whether the route needs a portal session (401 `not_signed_in` without one). */
  readonly signedIn: boolean;
  readonly parameters?: readonly ApiParameter[];
  readonly body?: { readonly contentType: 'application/json' | 'multipart/form-data'; readonly schema: JsonSchema; readonly required: boolean; readonly headers?: readonly ApiParameter[] };
  readonly answers: Readonly<Record<number, ApiAnswer>>;
}

export interface ApiRoute extends ApiOperation {
  /** Runs before the handler (e.g. the multipart parser). */
  readonly before?: readonly RequestHandler[];
  handle(req: Request, res: Response): Promise<void>;
}

/** The routes a capability adds to the API. */
export interface ApiRouteSource {
  routes(): readonly ApiRoute[];
}

export const moduleParameter: ApiParameter = { name: 'module', in: 'path', required: true, description: 'A module of the customer’s portal, e.g. `HelpDesk`', schema: { type: 'string' } };
export const idParameter: ApiParameter = { name: 'id', in: 'path', required: true, description: 'A record id (`^[1-9][0-9]{0,9}$`; anything else is 404)', schema: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } };

/** The optional `Idempotency-Key` of a write a client may send again (see `ApiRequestContext.idempotent`). */
export const idempotencyKeyParameter: ApiParameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'A key the client chooses for this write (1–255 visible ASCII characters, bare or as a Structured Field string `"…"`; a UUID does). Sent again with the same key and body, the write is not done twice: the first answer comes back (status, `Location`, body). Kept for a day; the customer’s own.',
  schema: { type: 'string', minLength: 1, maxLength: 257 },
};

/** A write's answers with those an `Idempotency-Key` adds (a 422 it already has keeps its description, with the key's case added). */
export function withIdempotencyAnswers(answers: Readonly<Record<number, ApiAnswer>>): Readonly<Record<number, ApiAnswer>> {
  const reused = 'the `Idempotency-Key` was sent before with another body (`idempotency_key_reused`)';
  return {
    ...answers,
    400: { description: answers[400] ? `${answers[400].description}; or an \`Idempotency-Key\` that is not one (\`invalid_idempotency_key\`)` : 'An `Idempotency-Key` that is not one (`invalid_idempotency_key`)' },
    409: { description: 'A request with this `Idempotency-Key` is still being handled (`idempotency_key_in_use`)' },
    422: { ...answers[422], description: answers[422] ? `${answers[422].description}; or ${reused}` : `${reused[0]!.toUpperCase()}${reused.slice(1)}` },
  };
}
