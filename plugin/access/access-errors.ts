/**
 * What the access layer refuses. A record or module out of reach is `not-found` (404 on every
 * route), never "forbidden", so ids cannot be probed; a visible record the customer may not
 * change is `not-allowed`; bad values are `invalid` with one problem per field the customer can
 * see (a hidden field and a field that does not exist give the same `unknown-field`).
 */
import type { Refusal } from './field-input.js';

export type AccessProblemCode = 'required' | 'not-writable' | 'invalid-value' | 'unknown-field' | 'not-in-scope';

export interface AccessProblem {
  readonly field: string;
  readonly code: AccessProblemCode;
  /**
   * The form the value must have, when naming it helps: a field type's (`Refusal`), or a list's
   * datetime filter (`datetime`: a day, or a time with its offset).
   */
  readonly expected?: Refusal['expected'] | 'datetime';
  /** A text longer than this many characters. */
  readonly max?: number;
}

export type AccessErrorKind = 'not-found' | 'not-allowed' | 'invalid' | 'stale';

export class AccessError extends Error {
  constructor(
    readonly kind: AccessErrorKind,
    readonly problems: readonly AccessProblem[] = [],
  ) {
    super(`Portal access: ${kind}${problems.length ? ` (${problems.map((p) => `${p.field}: ${p.code}`).join(', ')})` : ''}`);
    this.name = 'AccessError';
  }
}

export const notFound = (): AccessError => new AccessError('not-found');
export const notAllowed = (): AccessError => new AccessError('not-allowed');
/** A value refused as `invalid-value`, with what it should have been when the refusal says (`Refusal`). */
export function refused(field: string, refusal: Refusal): AccessProblem {
  return { field, code: 'invalid-value', ...(refusal.expected ? { expected: refusal.expected } : {}), ...(refusal.max !== undefined ? { max: refusal.max } : {}) };
}

export const invalid = (problems: readonly AccessProblem[]): AccessError => new AccessError('invalid', problems);

const RECORD_ID = /^[1-9]\d{0,9}$/;
/** Ids are 32-bit in every database the host supports: a larger one cannot exist. */
const MAX_RECORD_ID = 2_147_483_647;

/**
 * A record or document id of a path (pages and API alike), spelt exactly as the portal writes
 * them; anything else (`05`, `1e3`, past 32 bits) is the 404 of a missing record, so no record
 * has a second address.
 */
export function recordIdParam(text: unknown): number {
  const id = typeof text === 'string' && RECORD_ID.test(text) ? Number(text) : NaN;
  if (!(id <= MAX_RECORD_ID)) throw notFound();
  return id;
}

/** The HTTP status of each kind, the same for pages and the API. */
export const ACCESS_ERROR_STATUS: Readonly<Record<AccessErrorKind, number>> = { 'not-found': 404, 'not-allowed': 403, invalid: 422, stale: 409 };
