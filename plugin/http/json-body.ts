/** The JSON body parser of the portal: small bodies only; malformed JSON becomes a 400 in the error handler. */
import express, { type RequestHandler } from 'express';
import { ApiError } from './api-errors.js';

/**
 * 1 MiB, as Fastify's default: a long-text field holds 65,535 characters, which take up to three
 * bytes each in UTF-8 and nine once a form %-encodes them (about 590 KB), and a record's form may
 * carry more than one. A smaller limit refused text the field itself accepts, and lost it.
 */
export const JSON_BODY_LIMIT = '1mb';
export const FORM_BODY_LIMIT = '1mb';

export function jsonBody(): RequestHandler {
  return express.json({ limit: JSON_BODY_LIMIT, strict: true });
}

/** The most fields a portal page's form may send. */
export const FORM_FIELDS = 200;
/**
 * The most fields an admin form may send: the login check lists up to 500 locked portal users, one
 * checkbox each, and "Select all shown" ticks them all. A form with more is refused before any
 * handler runs (413, "more fields than any page of this site has").
 */
export const ADMIN_FORM_FIELDS = 1_000;

/** Forms (`application/x-www-form-urlencoded`), flat fields only, at most `fields` of them. */
export function formBody(fields = FORM_FIELDS): RequestHandler {
  return express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: fields });
}

/** The header (lower case, as Node gives it) that API uploads must carry, and its value. */
export const UPLOAD_HEADER = 'x-requested-with';
export const UPLOAD_HEADER_VALUE = 'business-portal';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every write to the JSON API must declare `Content-Type: application/json`, body or not (logout
 * has none) — or be a multipart upload carrying `X-Requested-With: business-portal`. A cross-site form or "simple" request cannot send that type without a CORS
 * preflight, which this API never grants: it is the API's defence against cross-site requests.
 */
export const requireJsonWrites: RequestHandler = (req, _res, next) => {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (SAFE_METHODS.has(req.method) || type === 'application/json') return next();
  // The one deliberate exception, file uploads: multipart, but only with a custom header that a
  // cross-site form cannot send and a cross-site script cannot send without a refused preflight.
  if (req.method === 'POST' && type === 'multipart/form-data') {
    if (req.headers[UPLOAD_HEADER] === UPLOAD_HEADER_VALUE) return next();
    // An upload without the header: say what it lacks (asking for JSON would mislead).
    return next(new ApiError(415, 'unsupported_media_type', 'api.upload.multipartRequired'));
  }
  next(new ApiError(415, 'unsupported_media_type', 'auth.errors.jsonRequired'));
};

/**
 * Before an API route that takes no file: multipart, which requireJsonWrites lets through for the
 * uploads, is refused as any other body that is not JSON (as the OpenAPI document says). Read as no
 * body at all, it closed a ticket. A write without a body (no bytes) is left to its route.
 */
export const refuseMultipart: RequestHandler = (req, _res, next) => {
  if (!SAFE_METHODS.has(req.method) && req.is('multipart/form-data')) return next(new ApiError(415, 'unsupported_media_type', 'auth.errors.jsonRequired'));
  next();
};

/** The bodies the portal's JSON API reads: JSON, and multipart on its uploads (see requireJsonWrites). */
export const PORTAL_API_BODIES: readonly string[] = ['application/json', 'multipart/form-data'];
/**
 * The bodies the portal's pages read: what their forms send, urlencoded, and multipart on the
 * pages that take a file. JSON is the API's: read by a page, it was an empty form that acted.
 */
export const PORTAL_PAGE_BODIES: readonly string[] = ['application/x-www-form-urlencoded', 'multipart/form-data'];
/** The body a portal page's form reads (its route's parser, see portalFormBody). */
export const PORTAL_FORM_BODIES: readonly string[] = ['application/x-www-form-urlencoded'];
/** The body a portal page that takes a file reads. */
export const PORTAL_UPLOAD_BODIES: readonly string[] = ['multipart/form-data'];
/** The bodies the admin pages read: forms and JSON (no admin page takes a file). */
export const ADMIN_BODIES: readonly string[] = ['application/x-www-form-urlencoded', 'application/json'];
/** The bodies an admin form reads: urlencoded only (JSON only on the routes that are an API, see AdminRouteContribution). */
export const ADMIN_FORM_BODIES: readonly string[] = ['application/x-www-form-urlencoded'];

/**
 * A write whose body is of a type no route of the router reads (text/plain, XML, none declared,
 * multipart on the admin pages or on a portal form, JSON on an admin form or a portal page) is refused with 415: read as an empty form
 * it went on and acted (a profile duplicated, a language switched) on data the sender never meant
 * as that. A write without a body (no bytes) is left to its route.
 */
export function requireReadableBody(readable: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const length = Number(req.headers['content-length'] ?? 0);
    const hasBody = req.headers['transfer-encoding'] !== undefined || length > 0;
    if (SAFE_METHODS.has(req.method) || !hasBody || req.is([...readable])) return next();
    next(new ApiError(415, 'unsupported_media_type', 'errors.unsupportedBody'));
  };
}

/**
 * The parser of a portal page's form: urlencoded only. A multipart body (the pages' router lets it
 * through for the uploads) is refused with 415 here: read as an empty form, it closed a ticket.
 */
export function portalFormBody(): RequestHandler {
  const readable = requireReadableBody(PORTAL_FORM_BODIES);
  const parse = formBody();
  return (req, res, next) => readable(req, res, (error?: unknown) => (error === undefined ? parse(req, res, next) : next(error)));
}
