/**
 * The database not answering (a server that is down, restarting or out of connections, a network
 * that drops or stalls, an SQLite file locked by another program past the lock wait, a disk that
 * refuses to write), or the host's file storage refusing an upload's write (a full disk, a folder
 * made read-only or replaced): a passing state, not a fault of the request. The portal, its API
 * and the plugin's admin pages answer it 503 with `Retry-After` ("the portal is unavailable for a
 * moment") rather than a 500, and the log says so once per outage, without a stack per request
 * (`DatabaseOutageLog`). Nothing was changed: a transaction the outage cut is rolled back by the
 * database, and the host's document store removes what it wrote of a file it could not finish.
 */
import type { Request } from 'express';
import type { HostLogger } from '../host-contract/index.js';
import type { MessageKey } from '../i18n/message-keys.js';

/** Seconds a client is asked to wait before it tries again. */
export const DATABASE_UNAVAILABLE_RETRY_AFTER = 10;

/** What the 503 says: the page's title and its sentence, in the client's language. */
export const DATABASE_UNAVAILABLE: {
  readonly status: 503;
  readonly code: 'service_unavailable';
  readonly titleKey: MessageKey;
  readonly messageKey: MessageKey;
  readonly retryAfter: number;
} = { status: 503, code: 'service_unavailable', titleKey: 'errors.unavailableTitle', messageKey: 'errors.unavailable', retryAfter: DATABASE_UNAVAILABLE_RETRY_AFTER };

/** Sequelize's errors of a connection that could not be made, was lost, or was not given in time. */
const CONNECTION_ERRORS = new Set([
  'SequelizeConnectionError',
  'SequelizeConnectionRefusedError',
  'SequelizeConnectionTimedOutError',
  'SequelizeConnectionAcquireTimeoutError',
  'SequelizeHostNotFoundError',
  'SequelizeHostNotReachableError',
  'SequelizeInvalidConnectionError',
  // SQLite's SQLITE_BUSY once the lock wait (and Sequelize's tries) ran out.
  'SequelizeTimeoutError',
]);

/** Node's own socket errors, as a driver passes them on. */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

interface DriverError {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly fatal?: unknown;
  readonly message?: unknown;
  readonly original?: unknown;
  readonly parent?: unknown;
  readonly cause?: unknown;
}

function saysUnavailable(error: DriverError): boolean {
  if (typeof error.name === 'string' && CONNECTION_ERRORS.has(error.name)) return true;
  const code = typeof error.code === 'string' ? error.code : '';
  if (SOCKET_CODES.has(code)) return true;
  // SQLite: locked past the wait, a disk or file that refuses to read or write.
  if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/.test(code)) return true;
  // PostgreSQL: connection exceptions (class 08), shutting down or starting (57P01–57P03),
  // out of connections, memory or disk (class 53).
  if (/^(08[0-9A-Z]{3}|57P0[1-3]|53[0-9A-Z]{3})$/.test(code)) return true;
  // node-postgres names a connection it lost without a code.
  if (typeof error.message === 'string' && /^(Connection terminated|Client has encountered a connection error|Connection terminated unexpectedly|Query read timeout)/.test(error.message)) return true;
  // MariaDB's connector marks a lost connection fatal; 1040 too many connections, 1053 shutting
  // down, 2006 and 2013 gone away, 45009 and 45012 socket closed or connection timed out.
  if (error.fatal === true && code !== 'ER_ACCESS_DENIED_ERROR') return true;
  return [1040, 1053, 2006, 2013, 45009, 45012, 45028].includes(Number(error.errno));
}

/** File-system refusals of a write: full, read-only, not allowed, not a folder, failing. */
const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'EIO', 'EMFILE', 'ENFILE']);

/** Node's error of a file operation (it names the path) that the disk or its folder refused. */
function storageRefused(error: DriverError & { path?: unknown; syscall?: unknown }): boolean {
  return typeof error.path === 'string' && typeof error.syscall === 'string' && STORAGE_CODES.has(String(error.code));
}

export type Unavailable = 'database' | 'storage';

/** What did not answer, if `error` (or what it wraps, a few levels down) says so. */
export function unavailableOf(error: unknown): Unavailable | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const driver = current as DriverError;
    if (saysUnavailable(driver)) return 'database';
    if (storageRefused(driver)) return 'storage';
    current = driver.original ?? driver.parent ?? driver.cause;
  }
  return null;
}

/** Whether `error` means that the database did not answer, or the file storage refused a write. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailableOf(error) !== null;
}

/** How long one outage's log line stands for the refusals that follow it. */
export const OUTAGE_LOG_QUIET_MS = 60_000;

/**
 * Logs an outage once: the first refused request says what the database answered (its message,
 * no stack); the refusals in the next `quietMs` are only counted, and the next line after that
 * says how many there were. One instance is shared by the portal's and the admin pages' handlers.
 */
export class DatabaseOutageLog {
  /** Per kind: a full disk is said even while the database's outage is being counted. */
  private readonly quietUntil = new Map<Unavailable, number>();
  private readonly refusedSince = new Map<Unavailable, number>();

  constructor(
    private readonly logger: HostLogger,
    private readonly quietMs: number = OUTAGE_LOG_QUIET_MS,
    private readonly now: () => number = Date.now,
  ) {}

  note(req: Request, error: unknown, kind: Unavailable = unavailableOf(error) ?? 'database'): void {
    const now = this.now();
    const refused = this.refusedSince.get(kind) ?? 0;
    if (now < (this.quietUntil.get(kind) ?? 0)) {
      this.refusedSince.set(kind, refused + 1);
      return;
    }
    const message =
      kind === 'storage'
        ? 'Business Portal: the file storage refuses to write; uploads are answered 503 until it takes them'
        : 'Business Portal: the database is not answering; requests are answered 503 until it does';
    this.logger.error(message, {
      method: req.method,
      // The path only: a query string may hold tokens.
      path: req.originalUrl.split('?')[0],
      error: error instanceof Error ? error.message : String(error),
      ...(refused > 0 ? { refusedSinceLastLine: refused } : {}),
    });
    this.quietUntil.set(kind, now + this.quietMs);
    this.refusedSince.set(kind, 0);
  }
}
