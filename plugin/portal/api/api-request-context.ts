/**
 * What every portal API handler does first and last: find the customer's access (401
 * `not_signed_in` without a session), read ids and module names strictly (404 otherwise), check
 * bodies with ajv, and turn refusals — of the access layer, of a schema, of an upload — into
 * `{"error": {"code", "message", "problems"?}}` in the caller's language, with stable codes.
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { inject, injectable } from 'inversify';
import type { ValidateFunction } from 'ajv';
import { AccessError, ACCESS_ERROR_STATUS, recordIdParam, type AccessProblem } from '../../access/access-errors.js';
import { PortalAccess, type PortalAccessContext } from '../../access/portal-access.js';
import { FormSubmissions } from '../../auth/form-submissions.js';
import type { LanguageCode } from '../../host-contract/index.js';
import { ApiError } from '../../http/api-errors.js';
import { formatCount } from '../../i18n/field-values.js';
import type { MessageKey } from '../../i18n/message-keys.js';
import { requestLanguage } from '../../i18n/request-language.js';
import { Translator } from '../../i18n/translator.js';
import { schemaProblems, type SchemaProblem } from './api-schemas.js';

const MODULE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The `Idempotency-Key` header: a Structured Field string (`"…"`), or the same characters bare; visible ASCII, at most 255. */
const IDEMPOTENCY_KEY = /^(?:"([\x20\x21\x23-\x5b\x5d-\x7e]{1,255})"|([\x21\x23-\x7e]{1,255}))$/;
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The first answer of a write sent with an `Idempotency-Key`, given again to its repeats. */
interface StoredAnswer {
  readonly status: number;
  readonly location?: string;
  readonly body: unknown;
}

export type ProblemCode = 'required' | 'not-writable' | 'invalid-value' | 'unknown-field' | 'not-in-scope';
/** A problem of the access layer (`expected`, `max`) or of a schema (`max`, `between`, `oneOf`): the message names what was wanted. */
export interface ApiProblem extends Pick<AccessProblem, 'expected' | 'max'>, Pick<SchemaProblem, 'between' | 'oneOf'> {
  readonly field: string;
  readonly code: ProblemCode;
}

const PROBLEM_MESSAGES: Readonly<Record<ProblemCode, MessageKey>> = {
  required: 'api.problems.required',
  'not-writable': 'api.problems.notWritable',
  'invalid-value': 'api.problems.invalidValue',
  'unknown-field': 'api.problems.unknownField',
  'not-in-scope': 'api.problems.notInScope',
};

const EXPECTED_MESSAGES: Readonly<Record<NonNullable<ApiProblem['expected']>, MessageKey>> = {
  datetime: 'api.problems.datetimeExpected',
  email: 'api.problems.expected.email',
  url: 'api.problems.expected.url',
  date: 'api.problems.expected.date',
  instant: 'api.problems.expected.instant',
  integer: 'api.problems.expected.integer',
  number: 'api.problems.expected.number',
  'record-id': 'api.problems.expected.recordId',
  boolean: 'api.problems.expected.boolean',
  'one-line': 'api.problems.expected.oneLine',
  text: 'api.problems.expected.text',
  option: 'api.problems.expected.option',
};

/** `invalid_input` with one problem per place: 422 for a body, 400 for a query string. */
export class ApiInputError extends Error {
  constructor(readonly problems: readonly ApiProblem[]) {
    super(`invalid input (${problems.map((p) => `${p.field}: ${p.code}`).join(', ')})`);
    this.name = 'ApiInputError';
  }
}

/** An upload the API refuses: 413 when too large, 422 otherwise (400 for a malformed body). */
export class UploadRefusedError extends Error {
  constructor(
    readonly status: 400 | 413 | 422,
    readonly messageKey: MessageKey,
  ) {
    super(`upload refused (${messageKey})`);
    this.name = 'UploadRefusedError';
  }
}

const ACCESS_CODES: Readonly<Record<AccessError['kind'], { code: string; key: MessageKey }>> = {
  'not-found': { code: 'not_found', key: 'api.errors.notFound' },
  'not-allowed': { code: 'not_allowed', key: 'api.errors.notAllowed' },
  invalid: { code: 'invalid_input', key: 'api.errors.invalidInput' },
  stale: { code: 'stale_record', key: 'api.errors.staleRecord' },
};

/** Where a problem of the access layer lies in a request: `values.x`, `sort`, `filter[x]`. */
export type ProblemPlace = (field: string) => string;
export const inValues: ProblemPlace = (field) => `values.${field}`;

@injectable()
export class ApiRequestContext {
  constructor(
    @inject(PortalAccess) private readonly access: PortalAccess,
    @inject(Translator) private readonly translator: Translator,
    @inject(FormSubmissions) private readonly submissions: FormSubmissions,
  ) {}

  /**
   * A write a client may send again safely (`Idempotency-Key`, as the IETF httpapi draft has it):
   * the first request with a key does the work; the same key with the same body — again, or at
   * the same moment — gets the first's answer (status, `Location`, body) without the work done
   * twice; the same key with another body is a 422 `idempotency_key_reused`; one still at work
   * after a wait a 409 `idempotency_key_in_use`. Keys are the customer's own: another customer's
   * request with the same key is theirs. Only a success is kept: a refusal gives the key back.
   * Without the header the write is served as ever.
   */
  async idempotent(req: Request, res: Response, customer: PortalAccessContext, action: () => Promise<void>): Promise<void> {
    const header = req.get(IDEMPOTENCY_HEADER);
    if (header === undefined) return action();
    const language = this.language(req);
    const match = IDEMPOTENCY_KEY.exec(header.trim());
    if (!match) return this.send(res, 400, 'invalid_idempotency_key', this.translator.t(language, 'api.errors.idempotencyKeyInvalid'), language);
    const key = match[1] ?? match[2]!;
    const contents = createHash('sha256').update(`${req.method} ${req.baseUrl}${req.path}\n${JSON.stringify(req.body ?? null)}`).digest('base64url');
    const claim = await this.submissions.claimKey('api', customer.contactId, key, contents);
    if (claim.kind === 'other-contents') return this.send(res, 422, 'idempotency_key_reused', this.translator.t(language, 'api.errors.idempotencyKeyReused'), language);
    if (claim.kind === 'pending') return this.send(res, 409, 'idempotency_key_in_use', this.translator.t(language, 'api.errors.idempotencyKeyInUse'), language);
    if (claim.kind === 'repeat') {
      const answer = JSON.parse(claim.outcome) as StoredAnswer;
      if (answer.location) res.location(answer.location);
      res.status(answer.status).json(answer.body);
      return;
    }
    if (claim.kind !== 'first') return action();
    let answer: StoredAnswer | null = null;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const location = res.get('Location');
      answer = { status: res.statusCode, ...(location ? { location } : {}), body };
      return json(body);
    };
    try {
      await action();
    } catch (error) {
      await claim.release();
      throw error;
    }
    const kept = answer as StoredAnswer | null;
    await (kept && kept.status >= 200 && kept.status < 300 ? claim.finish(JSON.stringify(kept)) : claim.release());
  }

  language(req: Request): LanguageCode {
    return requestLanguage(req, this.translator);
  }

  /** The signed-in customer's access, or 401 `not_signed_in`. */
  async customer(req: Request, res: Response): Promise<PortalAccessContext> {
    const context = await this.access.forRequest(req, res, this.language(req));
    if (!context) throw new ApiError(401, 'not_signed_in', 'auth.errors.notSignedIn');
    return context;
  }

  /** A record id exactly as the API writes them, else the 404 of a record that does not exist. */
  id(req: Request, name = 'id'): number {
    return recordIdParam(req.params[name]);
  }

  module(req: Request): string {
    const text = req.params.module;
    if (typeof text !== 'string' || !MODULE_NAME.test(text)) throw new AccessError('not-found');
    return text;
  }

  /** A JSON body checked by its schema (an absent body counts as `{}`). */
  body<T>(req: Request, validate: ValidateFunction<T>): T {
    const body: unknown = req.body === undefined ? {} : req.body;
    if (!validate(body)) throw new ApiInputError(schemaProblems(validate.errors));
    return body;
  }

  /**
   * Runs a handler and answers its refusals as JSON; anything else goes on to the error handler (500).
   * `invalidStatus`: 422 for a body refused, 400 for a query string (a list's filter, sort or page).
   */
  async answer(req: Request, res: Response, place: ProblemPlace, action: () => Promise<void>, invalidStatus: 400 | 422 = 422): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (res.headersSent) throw error;
      const language = this.language(req);
      if (error instanceof AccessError) {
        const { code, key } = ACCESS_CODES[error.kind];
        const problems = error.kind === 'invalid' ? error.problems.map((p) => ({ ...p, field: place(p.field) })) : undefined;
        this.send(res, error.kind === 'invalid' ? invalidStatus : ACCESS_ERROR_STATUS[error.kind], code, this.translator.t(language, key), language, problems);
        return;
      }
      if (error instanceof ApiInputError) {
        this.send(res, invalidStatus, 'invalid_input', this.translator.t(language, 'api.errors.invalidInput'), language, error.problems);
        return;
      }
      if (error instanceof UploadRefusedError) {
        this.send(res, error.status, error.status === 400 ? 'invalid_multipart' : 'upload_refused', this.translator.t(language, error.messageKey), language);
        return;
      }
      throw error;
    }
  }

  /** A problem's message: the most characters a text takes, the bounds or values it must be in, the form it must have, or what its code says. */
  private problemMessage(problem: ApiProblem, language: LanguageCode): string {
    if (problem.max !== undefined) return this.translator.t(language, 'api.problems.tooLong', { max: formatCount(problem.max, language) });
    if (problem.between) {
      const [min, max] = problem.between.map((n) => formatCount(n, language));
      return this.translator.t(language, 'api.problems.between', { min: min!, max: max! });
    }
    if (problem.oneOf) return this.translator.t(language, 'api.problems.oneOf', { values: problem.oneOf.join(', ') });
    return this.translator.t(language, problem.expected ? EXPECTED_MESSAGES[problem.expected] : PROBLEM_MESSAGES[problem.code]);
  }

  private send(res: Response, status: number, code: string, message: string, language: LanguageCode, problems?: readonly ApiProblem[]): void {
    const error: { code: string; message: string; problems?: { field: string; code: string; message: string }[] } = { code, message };
    if (problems) {
      error.problems = problems.map((p) => ({ field: p.field.slice(0, 80), code: p.code, message: this.problemMessage(p, language) }));
    }
    res.status(status).json({ error });
  }
}
