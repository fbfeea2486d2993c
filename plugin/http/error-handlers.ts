/**
 * The last handlers of the plugin's routers: 404s of their own, and a final error handler that
 * answers client errors plainly, a database that does not answer with a 503 and `Retry-After`
 * (logged once per outage, `database-outage.ts`), and everything else with a generic 500 — never
 * a stack trace or SQL, which go to the host's log instead.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { HostLogger, LanguageCode } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { requestLanguage } from '../i18n/request-language.js';
import type { Translator } from '../i18n/translator.js';
import { portalAsset } from '../portal/portal-shell-routes.js';
import { sendAdminJsonError, wantsJson } from './admin-access.js';
import { crmSessionOf, type AdminPages } from './admin-pages.js';
import { ApiError, isApiPath, sendApiError } from './api-errors.js';
import { DATABASE_UNAVAILABLE, isDatabaseUnavailable, type DatabaseOutageLog } from './database-outage.js';
import type { PageRenderer } from './page-renderer.js';

interface ClientError {
  readonly status: number;
  readonly code: string;
  readonly messageKey: MessageKey;
  readonly params?: MessageParams;
  /** The page's title (else the one of a bad request). */
  readonly titleKey?: MessageKey;
  /** Seconds for `Retry-After` (a 503 of a passing state). */
  readonly retryAfter?: number;
}

/** What a client can be told about an error, or null for a server fault. */
export function clientErrorOf(error: unknown): ClientError | null {
  if (error instanceof ApiError) return error;
  if (typeof error !== 'object' || error === null) return null;
  const { type, status, expose } = error as { type?: unknown; status?: unknown; expose?: unknown };
  if (type === 'entity.parse.failed') return { status: 400, code: 'invalid_json', messageKey: 'errors.invalidJson' };
  if (type === 'entity.too.large') return { status: 413, code: 'payload_too_large', messageKey: 'errors.payloadTooLarge' };
  // A form of more fields than the parser takes (a forged one: no page has that many).
  if (type === 'parameters.too.many') return { status: 413, code: 'bad_request', messageKey: 'errors.tooManyFields' };
  // The router's own: a path parameter that is not valid percent-encoding (`/m/%E0%A4%A`).
  const undecodable = error instanceof URIError && status === 400;
  if (typeof status === 'number' && status >= 400 && status < 500 && (expose === true || undecodable)) {
    // A body in a charset or encoding the parsers do not read is 415, as a wrong content type is, and
    // says so: "The request is not valid" left the client to guess what to change.
    if (status === 415) return { status, code: 'unsupported_media_type', messageKey: 'errors.unsupportedEncoding' };
    return { status, code: 'bad_request', messageKey: 'errors.badRequest' };
  }
  return null;
}

/**
 * What the error handlers answer and log: a client error as it is (not logged), a database that
 * does not answer as a 503 (logged once per outage), anything else a fault (logged with its stack).
 */
function answerOf(error: unknown, logger: HostLogger, outages: DatabaseOutageLog, req: Request): ClientError | null {
  const client = clientErrorOf(error);
  if (client) return client;
  if (isDatabaseUnavailable(error)) {
    outages.note(req, error);
    return DATABASE_UNAVAILABLE;
  }
  logFault(logger, req, error);
  return null;
}

function logFault(logger: HostLogger, req: Request, error: unknown): void {
  logger.error('Business Portal: request failed', {
    method: req.method,
    // The path only: a query string may hold tokens.
    path: req.originalUrl.split('?')[0],
    error: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
}

/** A response that already started cannot change its status: cut it short instead. */
function abandon(res: Response): void {
  res.destroy();
}

/** `{portalPath}/api/v1/*` routes that nobody answered. */
export function apiNotFound(translator: Translator): RequestHandler {
  return (req, res) => sendApiError(res, 404, 'not_found', translator.t(requestLanguage(req, translator), 'errors.apiNotFound'));
}

function sendPortalMessage(req: Request, res: Response, status: number, titleKey: MessageKey, messageKey: MessageKey, translator: Translator, renderer: PageRenderer): void {
  const language = requestLanguage(req, translator);
  res
    .status(status)
    .type('html')
    .send(
      renderer.render('portal/message', language, {
        title: translator.t(language, titleKey),
        message: translator.t(language, messageKey),
        // Every page sent here is an error: its title starts with "Error:", which a screen reader says first.
        refused: true,
        assets: { icon: portalAsset(req.baseUrl, 'favicon.svg'), stylesheet: portalAsset(req.baseUrl, 'portal.css') },
        portalHome: `${req.baseUrl}/`,
      }),
    );
}

/** Any other portal path nobody answered. */
export function portalNotFound(translator: Translator, renderer: PageRenderer): RequestHandler {
  return (req, res) => sendPortalMessage(req, res, 404, 'errors.notFoundTitle', 'errors.notFound', translator, renderer);
}

export function portalErrorHandler(logger: HostLogger, translator: Translator, renderer: PageRenderer, outages: DatabaseOutageLog): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const client = answerOf(error, logger, outages, req);
    if (res.headersSent) return abandon(res);
    const status = client?.status ?? 500;
    if (client?.retryAfter !== undefined) res.set('Retry-After', String(client.retryAfter));
    if (isApiPath(req.path)) {
      const language = requestLanguage(req, translator);
      const message = translator.t(language, client?.messageKey ?? 'errors.serverError', client?.params);
      sendApiError(res, status, client?.code ?? 'internal_error', message);
      return;
    }
    try {
      sendPortalMessage(req, res, status, client ? (client.titleKey ?? 'errors.badRequestTitle') : 'errors.serverErrorTitle', client?.messageKey ?? 'errors.serverError', translator, renderer);
    } catch (renderError) {
      logFault(logger, req, renderError);
      res.status(status).type('text').send(client ? 'Bad request' : 'Internal error');
    }
  };
}

export function adminNotFound(pages: AdminPages, translator: Translator): RequestHandler {
  return async (req, res) => {
    if (wantsJson(req)) return sendAdminJsonError(res, pages, translator, 404, 'not_found', 'errors.notFound');
    await pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'errors.notFound');
  };
}

/** Admin errors as a page, or as `{"error": {code, message}}` for a request that speaks JSON. */
export function adminErrorHandler(logger: HostLogger, pages: AdminPages, translator: Translator, outages: DatabaseOutageLog): ErrorRequestHandler {
  return async (error: unknown, req, res, _next) => {
    const client = answerOf(error, logger, outages, req);
    if (res.headersSent) return abandon(res);
    if (client?.retryAfter !== undefined) res.set('Retry-After', String(client.retryAfter));
    if (wantsJson(req)) return sendAdminJsonError(res, pages, translator, client?.status ?? 500, client?.code ?? 'internal_error', client?.messageKey ?? 'errors.serverError', client?.params);
    const status = client?.status ?? 500;
    const titleKey = client ? (client.titleKey ?? 'errors.badRequestTitle') : 'errors.serverErrorTitle';
    const messageKey = client?.messageKey ?? 'errors.serverError';
    try {
      await pages.sendMessage(req, res, status, titleKey, messageKey);
    } catch (renderError) {
      // The CRM's layout needs the database too: while it does not answer, the page is a bare one
      // that still says what happened, in the admin's language, with its status.
      if (!isDatabaseUnavailable(renderError)) logFault(logger, req, renderError);
      // The admin's language when their session was read, else their browser's.
      const language = crmSessionOf(res) ? pages.language(res) : translator.pickLanguage(req.headers['accept-language'], undefined);
      if (!res.headersSent) sendBareMessage(res, status, language, translator.t(language, titleKey), translator.t(language, messageKey), translator);
    }
  };
}

/** A page of its own (no layout, no assets): the title and the sentence. */
function sendBareMessage(res: Response, status: number, language: LanguageCode, title: string, message: string, translator: Translator): void {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html>\n<html lang="${escape(language)}">\n<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escape(`${translator.t(language, 'errors.refusedTitle')} ${title}`)}</title></head>\n` +
        `<body><main role="alert"><h1>${escape(title)}</h1><p>${escape(message)}</p></main></body>\n</html>\n`,
    );
}
