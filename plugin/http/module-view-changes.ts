/**
 * The window after the module registry changed outside this process (another server of the CRM,
 * the host's command-line tool) and before this process's view of it has caught up: a removed
 * field's column or a removed module's table is already gone, and a read built from the old view
 * fails in the database. Every request of the portal and of the plugin's admin pages goes through
 * `moduleViewRecovery`: such a failure asks the host to re-sync its view once
 * (`HostModuleRegistry.sync`, contract 1.7.0) and runs a read (GET, HEAD) again from the new view;
 * what still fails, and a write, is answered 503 with `Retry-After` ("this part of the portal is
 * being changed"; on an admin page, "a module of the CRM was changed a moment ago") instead of a 500.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { DatabaseError } from 'sequelize';
import semver from 'semver';
import { UnknownFieldError, type HostLogger, type HostModuleRegistry } from '../host-contract/index.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { ApiError } from './api-errors.js';

/** Seconds a client is asked to wait: a host picks up such a change within a couple of seconds. */
export const MODULE_CHANGE_RETRY_AFTER = 2;

/** What the 503 says: its page's title and its sentence. */
export interface ModuleChangingMessages {
  readonly titleKey: MessageKey;
  readonly messageKey: MessageKey;
}

/** The portal's words: the customer is told that this part of the portal is being changed. */
export const PORTAL_MODULE_CHANGING: ModuleChangingMessages = { titleKey: 'errors.moduleChangingTitle', messageKey: 'errors.moduleChanging' };
/** The admin pages' words: the CRM admin is told that a module of the CRM was just changed, and that nothing was. */
export const ADMIN_MODULE_CHANGING: ModuleChangingMessages = { titleKey: 'errors.moduleChangingAdminTitle', messageKey: 'errors.moduleChangingAdmin' };

/** A read the database refused because a module's column or table is gone: answered 503. */
export class ModuleViewChangingError extends ApiError {
  readonly titleKey: MessageKey;
  readonly retryAfter = MODULE_CHANGE_RETRY_AFTER;

  constructor(
    readonly original: unknown,
    messages: ModuleChangingMessages = PORTAL_MODULE_CHANGING,
  ) {
    super(503, 'module_changing', messages.messageKey);
    this.titleKey = messages.titleKey;
    this.name = 'ModuleViewChangingError';
  }
}

interface DriverError {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly message?: unknown;
  /** MariaDB's message without the statement (its `message` goes on with the SQL, which names every table). */
  readonly text?: unknown;
}

/**
 * Whether the database's complaint names one of the plugin's own tables (`bp_*`, ARCHITECTURE.md):
 * those come from the plugin's migrations, not from the module registry, so no re-sync brings them
 * back — a missing one is a fault of this server (a 500), not a module being changed.
 */
function namesPluginTable(driver: DriverError): boolean {
  const said = typeof driver.text === 'string' ? driver.text : typeof driver.message === 'string' ? driver.message.split('\nsql:')[0]! : '';
  // The table's own name, not its database's or schema's: MariaDB says `Table 'bp_test_1.crm_x' doesn't exist`.
  const names = said.replace(/(['"`])[^'"`.\s]*\./g, '$1');
  return /(^|[^a-z0-9_$])bp_[a-z0-9_$]+/i.test(names);
}

/**
 * Whether a failure means that the database no longer matches the module view the query was built
 * from: a column or table that does not exist (SQLite "no such column/table", PostgreSQL 42703 and
 * 42P01, MariaDB 1054 and 1146), or a field the host's own view no longer has (`UnknownFieldError`:
 * the plugin names only fields of the registry, so its view is the older one). Not when what is
 * missing is one of the plugin's own tables (`namesPluginTable`).
 */
export function isModuleViewMismatch(error: unknown): boolean {
  if (error instanceof UnknownFieldError) return true;
  const named = typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'SequelizeDatabaseError';
  if (!(error instanceof DatabaseError) && !named) return false;
  const driver = ((error as DatabaseError).original ?? (error as DatabaseError).parent ?? {}) as DriverError;
  if (namesPluginTable(driver)) return false;
  const code = driver.code;
  if (code === 'SQLITE_ERROR') return typeof driver.message === 'string' && /\bno such (column|table)\b/i.test(driver.message);
  if (code === '42703' || code === '42P01') return true;
  return driver.errno === 1054 || driver.errno === 1146 || code === 'ER_BAD_FIELD_ERROR' || code === 'ER_NO_SUCH_TABLE';
}

const READS = new Set(['GET', 'HEAD']);

/** The recovery's two handlers: `note` goes before the routes, `retry` (an error handler) right after them. */
export interface ModuleViewRecovery {
  readonly note: RequestHandler;
  readonly retry: ErrorRequestHandler;
}

/**
 * The recovery around `routes`. The per-request values the first run left in `res.locals` (the
 * customer's access, built from the old view; the admin's CRM session) are dropped before the
 * second run. `hostApiVersion`: the host's contract version (`sync` is asked of 1.7.0 and later
 * only). `messages`: what the 503 says (the portal's words unless given).
 */
export function moduleViewRecovery(
  routes: Router,
  registry: HostModuleRegistry,
  logger: HostLogger,
  hostApiVersion: string | undefined,
  messages: ModuleChangingMessages = PORTAL_MODULE_CHANGING,
): ModuleViewRecovery {
  const canSync = hostApiVersion !== undefined && semver.valid(hostApiVersion) !== null && semver.gte(hostApiVersion, '1.7.0') && typeof registry.sync === 'function';
  /** The `res.locals` keys a request had before the routes ran. */
  const localsBefore = new WeakMap<Response, ReadonlySet<string>>();

  const resync = async (): Promise<boolean> => {
    if (!canSync) return false;
    try {
      await registry.sync!();
      return true;
    } catch (error) {
      logger.warn('Business Portal: the module registry could not re-sync', { error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  };

  const note: RequestHandler = (_req, res, next) => {
    localsBefore.set(res, new Set(Object.keys(res.locals)));
    next();
  };

  const retry: ErrorRequestHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!isModuleViewMismatch(error)) return next(error);
    logger.warn('Business Portal: a request met a module changed outside this process', {
      method: req.method,
      path: req.originalUrl.split('?')[0],
      error: error instanceof Error ? error.message : String(error),
    });
    void resync().then((synced) => {
      if (!synced || !READS.has(req.method) || res.headersSent) return next(new ModuleViewChangingError(error, messages));
      const before = localsBefore.get(res) ?? new Set<string>();
      for (const key of Object.keys(res.locals)) if (!before.has(key)) delete res.locals[key];
      routes(req, res, (again?: unknown) => next(isModuleViewMismatch(again) ? new ModuleViewChangingError(again, messages) : again));
    });
  };

  return { note, retry };
}
