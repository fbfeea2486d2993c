/**
 * Errors of the portal's JSON API: `{"error": {"code": "…", "message": "…"}}`, the message in
 * the caller's language. Handlers throw `ApiError`; the final error handler answers it.
 */
import type { Response } from 'express';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** Stable and machine-readable, e.g. `invalid_json`. */
    readonly code: string,
    readonly messageKey: MessageKey,
    readonly params?: MessageParams,
  ) {
    super(`${status} ${code}`);
    this.name = 'ApiError';
  }
}

export function sendApiError(res: Response, status: number, code: string, message: string): void {
  const body: ApiErrorBody = { error: { code, message } };
  res.status(status).json(body);
}

/** The API prefix under the portal's mount path. */
export const API_PREFIX = '/api/v1';

/**
 * Whether a path under the portal is the API's. In any case, as Express routes it (`/API/v1/me`
 * reaches the API's handlers): told by the lower-case prefix only, such a path had its body checked
 * as a page's (a JSON write refused with a 415 page) and its errors and the password gate answered
 * as for a page.
 */
export function isApiPath(path: string): boolean {
  const lower = path.toLowerCase();
  return lower === API_PREFIX || lower.startsWith(`${API_PREFIX}/`);
}
