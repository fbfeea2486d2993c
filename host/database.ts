/** Opens the host's Sequelize connection from a `DATABASE_URL` (`sqlite:path`, `postgres://…`, `mariadb://…`). */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Sequelize } from 'sequelize';
import sqlite3 from 'sqlite3';
import type { DatabaseDialect } from '../plugin/host-contract/index.js';

export interface OpenedDatabase {
  readonly sequelize: Sequelize;
  readonly dialect: DatabaseDialect;
}

export function dialectOf(url: string): DatabaseDialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('mariadb://') || url.startsWith('mysql://')) return 'mariadb';
  // Only the scheme is repeated (a URL may hold a password); a value without one is a path.
  const given = url.includes(':') ? `${url.split(':')[0]}:` : url;
  throw new Error(`DATABASE_URL must start with sqlite:, postgres:// or mariadb:// (got "${given}"; an SQLite file is sqlite:<path>)`);
}

/**
 * How the host uses SQLite through Sequelize, whose SQLite dialect keeps one connection for all
 * statements (plus one per transaction) and never runs `afterConnect` hooks. Its `getConnection`
 * and `releaseConnection` (and, for writes, `query`) are wrapped so that:
 *
 * - every connection is configured once, before its first statement: wait up to 10 s for a lock
 *   instead of failing, write-ahead logging (readers do not wait for a writer, one sync per
 *   checkpoint rather than per commit), foreign keys;
 * - statements run in node-sqlite3's default parallel mode. Sequelize starts each one in
 *   serialized mode, where it waits until the statement before it has finished *and that one's
 *   callback has run on the main thread*, so the database idled while JavaScript rendered a page.
 *   A caller's own statements stay in order because callers await them;
 * - statements outside transactions run on a few connections to the same file, one statement per
 *   connection at a time (a quiet host uses one). On a single shared connection a long read held
 *   SQLite's connection mutex, which node-sqlite3 also takes *on the main thread* to finalize
 *   every statement: the whole process waited for the slowest query. Committed writes are seen by
 *   every connection's next statement (write-ahead log). In-memory databases keep one connection:
 *   each would be its own database;
 * - writers take turns in JavaScript (`SqliteWriterTurns` below) rather than in SQLite's lock
 *   wait, which holds a thread of libuv's pool for as long as it waits.
 */
/** How long a statement waits for another's write lock before it fails with SQLITE_BUSY. */
export const SQLITE_LOCK_WAIT_MS = 10_000;
/** Connections for statements outside transactions: as many as libuv runs statements at once by default. */
export const SQLITE_STATEMENT_CONNECTIONS = 4;

interface SqliteConnection {
  exec(sql: string, callback: (error: Error | null) => void): void;
  run(sql: string, ...rest: unknown[]): unknown;
  serialize(callback?: () => void): void;
  parallelize(callback?: () => void): void;
  all(sql: string, ...rest: unknown[]): unknown;
  close(callback?: (error: Error | null) => void): void;
}

/**
 * Sets the connection up before its first statement: the lock wait first, then write-ahead
 * logging, then the rest. On a file still in rollback-journal mode (a new, empty one), the switch
 * to WAL reads the header under a shared lock, then takes the write lock to change it. SQLite
 * never calls the busy handler for that second lock: "If SQLite determines that invoking the busy
 * handler could result in a deadlock, it will go ahead and return SQLITE_BUSY to the application
 * instead of invoking the busy handler" (https://sqlite.org/c3ref/busy_handler.html: a lock held
 * for reading, promoted while another connection holds the write lock; `sqlite3BtreeSetVersion`
 * in btree.c). So a host process started alongside another on a new file failed at once with
 * SQLITE_BUSY, busy_timeout notwithstanding. Only that switch is tried again, until the lock wait
 * runs out: the failed attempt released its read lock, and the next one usually finds the file
 * switched by the other connection already.
 */
async function configureSqliteConnection(connection: SqliteConnection, lockWaitMs: number): Promise<void> {
  const exec = (sql: string) => new Promise<void>((ok, fail) => connection.exec(sql, (error) => (error ? fail(error) : ok())));
  await exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(lockWaitMs))}`);
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      await exec('PRAGMA journal_mode = WAL');
      break;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      await new Promise((retry) => setTimeout(retry, 5 + Math.floor(Math.random() * 20)));
    }
  }
  await exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
}

/** node-sqlite3's statement constructor (its typings omit the arguments): prepares `sql` on the connection. */
const PreparedStatement = sqlite3.Statement as unknown as new (
  connection: SqliteConnection,
  sql: string,
  prepared: (error: Error | null) => void,
) => sqlite3.Statement;

/** Prepared reads kept per connection (least recently used first out). */
export const SQLITE_PREPARED_READS = 64;
const READ = /^\s*(SELECT|WITH)\b/i;

/**
 * Keeps the connection's prepared statements for reads (`SELECT`, `WITH`; Sequelize runs them
 * with `all`) by their SQL: node-sqlite3's `Database#all` prepares a statement, runs it and
 * finalizes it, three jobs on libuv's thread pool, each a wake-up of a pool thread and a callback
 * on the main thread, and SQLite parses and plans the SQL every time. A kept statement is one
 * job. It is safe to keep: `all` steps the statement to its end, which ends its read (SQLite
 * holds no snapshot or lock for a finished statement), and `Statement#all` resets and binds again
 * before it runs. A statement that fails is finalized and dropped (a schema change SQLite could
 * not re-prepare for, say); all are finalized before the connection closes (SQLite refuses to
 * close a connection with statements open).
 */
function keepPreparedReads(connection: SqliteConnection, size: number): void {
  /** A kept statement, and until its prepare has answered the callbacks of the runs queued on it. */
  interface Kept {
    readonly statement: sqlite3.Statement;
    waiting: ((error: Error) => void)[] | null;
  }
  const kept = new Map<string, Kept>();
  const allOnce = connection.all.bind(connection) as (...args: unknown[]) => unknown;
  const drop = (sql: string, entry: Kept): void => {
    if (kept.get(sql) !== entry) return;
    kept.delete(sql);
    entry.statement.finalize();
  };
  const prepare = (sql: string): Kept => {
    const entry: Kept = {
      // node-sqlite3 answers a failed prepare only here, and drops the runs queued on the statement unanswered.
      statement: new PreparedStatement(connection, sql, (error) => {
        const waiting = entry.waiting ?? [];
        entry.waiting = null;
        if (!error) return;
        if (kept.get(sql) === entry) kept.delete(sql);
        for (const fail of waiting) fail(error);
      }),
      waiting: [],
    };
    if (kept.size >= size) {
      const [oldest, old] = kept.entries().next().value!;
      drop(oldest, old);
    }
    return entry;
  };
  connection.all = function all(sql: string, ...rest: unknown[]): unknown {
    const callback = rest[rest.length - 1];
    // Only reads, in the shape Sequelize runs them: (sql, parameters, callback).
    if (rest.length !== 2 || typeof callback !== 'function' || !READ.test(sql)) return allOnce(sql, ...rest);
    const done = callback as (this: unknown, error: Error | null, rows?: unknown[]) => void;
    const entry = kept.get(sql) ?? prepare(sql);
    kept.delete(sql);
    kept.set(sql, entry); // the most recently used last
    entry.waiting?.push((error) => done.call(entry.statement, error));
    entry.statement.all(rest[0], function (this: unknown, error: Error | null, rows?: unknown[]) {
      if (error) drop(sql, entry);
      done.call(this, error, rows);
    });
    return connection;
  };
  const close = connection.close.bind(connection);
  connection.close = (callback?: (error: Error | null) => void) => {
    const open = [...kept.values()];
    kept.clear();
    void Promise.all(open.map(({ statement }) => new Promise<void>((finalized) => statement.finalize(() => finalized())))).then(() => close(callback));
  };
}

/** A stack that is thrown away: its first line (`Error: message`) only, no frames to format. */
function discardedStack(error: Error): string {
  return Error.prototype.toString.call(error);
}

/**
 * Sequelize's SQLite dialect makes an Error before every statement and reads its `stack` when
 * the statement answers, to give a failed statement's error the caller's stack; a statement that
 * succeeded throws it away. Under tsx (`npm start`, the tests) stacks are source-mapped, and each
 * read mapped ten frames through the source maps: a fifth of the CPU of a test file's process,
 * more than the portal's own code (and, unmapped, still a few per cent of a page's). So the answer
 * of a statement that succeeded is handled with a formatter that writes the stack's first line
 * only; a failed one keeps the whole, mapped stack. `Error.prepareStackTrace` is swapped only for
 * that synchronous callback (stacks are formatted when first read: only one read in it is
 * affected), then put back as it was.
 */
function unusedStacksUnformatted(connection: SqliteConnection): void {
  const errors = Error as { prepareStackTrace?: (error: Error, frames: NodeJS.CallSite[]) => unknown };
  for (const method of ['all', 'run', 'exec'] as const) {
    const original = connection[method].bind(connection) as (...args: unknown[]) => unknown;
    connection[method] = function (sql: string, ...rest: unknown[]): unknown {
      const callback = rest[rest.length - 1];
      if (typeof callback === 'function') {
        rest[rest.length - 1] = function (this: unknown, error: Error | null, ...results: unknown[]): unknown {
          if (error) return callback.call(this, error, ...results);
          const prepare = errors.prepareStackTrace;
          errors.prepareStackTrace = discardedStack;
          try {
            return callback.call(this, error, ...results);
          } finally {
            errors.prepareStackTrace = prepare;
          }
        };
      }
      return original(sql, ...rest);
    } as SqliteConnection[typeof method];
  }
}

/**
 * The process's turn to write to its SQLite database, taken in JavaScript. SQLite lets one
 * connection write at a time; the others wait for the lock inside SQLite's busy handler, which
 * sleeps on one of libuv's four thread-pool threads. Four writers waiting took every thread, so
 * the transaction holding the lock could not run its next statement (nor could any read or file
 * read of the process) until the waits timed out after 10 s: six tickets created at once took
 * 10 s. Writers now queue here, first come first served, and SQLite's own wait is left for other
 * processes on the same file. A transaction holds the turn from its connection to its release
 * (after COMMIT or ROLLBACK), a write outside transactions for its one statement.
 */
export class SqliteWriterTurns {
  private writing = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly waitMs: number = SQLITE_LOCK_WAIT_MS) {}

  /** Waits for the turn (at most `waitMs`, then fails as SQLite would) and answers how to give it back. */
  take(): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.writing = true;
        let given = false;
        resolve(() => {
          if (given) return;
          given = true;
          this.next();
        });
      };
      if (!this.writing) return grant();
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY', errno: 5 }));
      }, this.waitMs);
      const waiter = () => {
        clearTimeout(timer);
        grant();
      };
      this.waiting.push(waiter);
    });
  }

  private next(): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter();
    else this.writing = false;
  }
}

/** Marks the query options of a write outside transactions that holds the writer's turn. */
const WRITE_IN_TURN = Symbol('business-portal.sqlite.writeInTurn');

/**
 * A statement outside transactions that writes (anything but a read) waits for the writer's turn,
 * then runs on the writer's own connection: it never waits for a statement connection behind
 * reads while it holds the turn, and a waiting writer holds no connection.
 */
function takeTurnsToWrite(sequelize: Sequelize, turns: SqliteWriterTurns): void {
  type Options = { transaction?: unknown; [WRITE_IN_TURN]?: true };
  const query = sequelize.query.bind(sequelize) as (sql: unknown, options?: Options) => Promise<unknown>;
  const write = async (sql: unknown, options?: Options): Promise<unknown> => {
    const text = typeof sql === 'string' ? sql : (sql as { query?: unknown } | null)?.query;
    if (options?.transaction || typeof text !== 'string' || READ.test(text)) return query(sql, options);
    const giveBack = await turns.take();
    try {
      return await query(sql, { ...options, [WRITE_IN_TURN]: true });
    } finally {
      giveBack();
    }
  };
  sequelize.query = write as unknown as Sequelize['query'];
}

interface SqliteConnectionManager {
  getConnection(options?: { uuid?: string }): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection, force?: boolean): unknown;
  destroyConnection(connection: SqliteConnection): Promise<void>;
}

function configureSqliteConnections(sequelize: Sequelize, storage: string, lockWaitMs: number): void {
  const manager = (sequelize as unknown as { connectionManager: SqliteConnectionManager }).connectionManager;
  const getConnection = manager.getConnection.bind(manager);
  const releaseConnection = manager.releaseConnection.bind(manager);
  const configured = new WeakMap<SqliteConnection, Promise<void>>();
  const open = async (options?: { uuid?: string }): Promise<SqliteConnection> => {
    const connection = await getConnection(options);
    let ready = configured.get(connection);
    if (!ready) {
      ready = configureSqliteConnection(connection, lockWaitMs);
      configured.set(connection, ready);
      connection.serialize = (callback?: () => void) => connection.parallelize(callback);
      keepPreparedReads(connection, SQLITE_PREPARED_READS);
      unusedStacksUnformatted(connection);
    }
    await ready;
    return connection;
  };
  // An in-memory database has one connection, transactions included: nothing waits for a lock.
  const turns = storage === ':memory:' ? null : new SqliteWriterTurns(lockWaitMs);
  const turnOf = new WeakMap<SqliteConnection, () => void>();
  if (turns) takeTurnsToWrite(sequelize, turns);
  const slots = storage === ':memory:' ? 1 : SQLITE_STATEMENT_CONNECTIONS;
  // Each statement has a connection to itself, from its start until Sequelize releases it (after
  // node-sqlite3 finalized it); when all are taken, the next statement waits for the first freed.
  const idle = Array.from({ length: slots }, (_, slot) => slot);
  const waiting: ((slot: number) => void)[] = [];
  const slotOf = new WeakMap<SqliteConnection, number>();
  const take = (): Promise<number> => {
    const slot = idle.shift();
    return slot !== undefined ? Promise.resolve(slot) : new Promise((resolve) => waiting.push(resolve));
  };
  const give = (slot: number): void => {
    const next = waiting.shift();
    if (next) return next(slot);
    idle.push(slot);
    idle.sort((a, b) => a - b); // the lowest first: a quiet host keeps using one connection
  };
  manager.getConnection = async (options?: { uuid?: string }) => {
    // A transaction's connection (its own uuid, opened and closed by Sequelize) waits for the writer's turn.
    if (options?.uuid && options.uuid !== 'default') {
      if (!turns) return open(options);
      const giveBack = await turns.take();
      try {
        const connection = await open(options);
        turnOf.set(connection, giveBack);
        return connection;
      } catch (error) {
        giveBack();
        throw error;
      }
    }
    if (turns && (options as Record<symbol, unknown> | undefined)?.[WRITE_IN_TURN]) return open({ uuid: 'default:writer' });
    const slot = await take();
    try {
      // Sequelize keeps every connection it opened under its uuid, and closes them all on close().
      const connection = await open(slot === 0 ? options : { uuid: `default:${slot}` });
      slotOf.set(connection, slot);
      return connection;
    } catch (error) {
      give(slot);
      throw error;
    }
  };
  manager.releaseConnection = (connection: SqliteConnection, force?: boolean) => {
    const slot = slotOf.get(connection);
    if (slot !== undefined) give(slot);
    const giveBack = turnOf.get(connection);
    if (giveBack) {
      turnOf.delete(connection);
      giveBack();
    }
    return releaseConnection(connection, force);
  };
  // A transaction whose COMMIT failed (a deferred foreign key, say) is still open on its connection,
  // holding SQLite's write lock, and Sequelize "destroys" the connection through a pool the SQLite
  // dialect never uses: nothing was closed and the writer's turn was never given back, so every
  // later write failed with SQLITE_BUSY. Closing the connection rolls the transaction back; an
  // in-memory database's one connection is the database, so there it is rolled back instead.
  manager.destroyConnection = async (connection: SqliteConnection) => {
    if (storage === ':memory:') await new Promise<void>((done) => connection.exec('ROLLBACK', () => done()));
    else manager.releaseConnection(connection, true);
  };
}

/**
 * Sequelize's SQLite dialect reads `PRAGMA table_info` of the table named after ``FROM `…` `` before
 * every SELECT, a statement of its own each time (nothing is kept), to convert the columns of model
 * instances. A raw SELECT (every hand-written query, and a model's with `raw: true`) never uses what
 * it read, so it doubled the statements of the host and of the portal. An empty `tableNames` is the
 * query option that tells the dialect it has no tables to read.
 */
function skipColumnTypeReadsOfRawSelects(sequelize: Sequelize): void {
  sequelize.addHook('beforeQuery', (_options, query) => {
    const options = (query as unknown as { options: { raw?: boolean; tableNames?: string[] } }).options;
    if (options.raw && options.tableNames === undefined) options.tableNames = [];
  });
}

/**
 * Sequelize tries a statement that failed with SQLITE_BUSY again, up to ten times: for the
 * SQLITE_BUSY that SQLite answers at once, without its lock wait (see `configureSqliteConnection`).
 * But a statement whose lock wait ran out (another program holding the file's write lock) was
 * tried ten times too, each waiting the full 10 s: a ticket created then was answered after
 * 104 s. A statement is now tried again only while its first try began less than the lock wait
 * ago, so it fails after one to two lock waits, and the request is answered 503.
 */
function retrySqliteBusyWithinTheLockWait(sequelize: Sequelize, lockWaitMs: number): void {
  const query = sequelize.query.bind(sequelize) as (sql: unknown, options?: Record<string, unknown>) => Promise<unknown>;
  const busy = (error: unknown) => /SQLITE_BUSY/.test(String((error as Error | null)?.message ?? error));
  sequelize.query = ((sql: unknown, options?: Record<string, unknown>) => {
    const began = Date.now();
    // A function (not a class): retry-as-promised calls it with the error.
    const withinTheWait = (error: unknown) => busy(error) && Date.now() - began < lockWaitMs;
    return query(sql, { ...options, retry: { max: 10, ...(options?.retry as object | undefined), match: [withinTheWait] } });
  }) as unknown as Sequelize['query'];
}

/** The file an `sqlite:` URL names, as an absolute path (or `:memory:`). */
export function sqliteStorage(url: string): string {
  const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return path === ':memory:' ? path : resolve(path);
}

/**
 * How long the reference host waits for a PostgreSQL or MariaDB server (a new connection, a free
 * one of the pool, a statement's answer) before the statement fails: a server that hangs, or a
 * network that holds packets, otherwise held each request open for good (no driver gives up on
 * its own). The request is then answered 503 (`plugin/http/database-outage.ts`).
 */
export const DATABASE_WAIT_MS = 30_000;

/**
 * node-postgres answers a statement that passed `query_timeout` with an error, but keeps its
 * connection in the pool with the statement still under way on it: every later statement queued
 * behind it and timed out too, until the server answered. Such a connection is closed instead
 * (the pool then drops it and opens a new one).
 */
function closePostgresConnectionsThatTimedOut(sequelize: Sequelize): void {
  type PgConnection = { query: (...args: unknown[]) => Promise<unknown>; _invalid?: boolean; connection?: { stream?: { destroy(): void } } };
  const manager = (sequelize as unknown as { connectionManager: { connect(config: unknown): Promise<PgConnection> } }).connectionManager;
  const connect = manager.connect.bind(manager);
  manager.connect = async (config: unknown) => {
    const connection = await connect(config);
    const query = connection.query.bind(connection);
    connection.query = async (...args: unknown[]) => {
      try {
        return await query(...args);
      } catch (error) {
        if ((error as Error | null)?.message === 'Query read timeout') {
          connection._invalid = true;
          connection.connection?.stream?.destroy();
        }
        throw error;
      }
    };
    return connection;
  };
}

/**
 * `waitMs`: how long to wait for a database server (see `DATABASE_WAIT_MS`); without it a
 * statement may take as long as it takes (the command-line tool's migrations), and a new
 * connection is given up on after 10 s. On SQLite, the lock wait (`SQLITE_LOCK_WAIT_MS` without it).
 */
export async function openDatabase(url: string, options: { logging?: boolean; waitMs?: number } = {}): Promise<OpenedDatabase> {
  const dialect = dialectOf(url);
  const logging = options.logging ? (sql: string) => console.log(sql) : false;
  let sequelize: Sequelize;
  if (dialect === 'sqlite') {
    const storage = sqliteStorage(url);
    if (storage !== ':memory:') mkdirSync(dirname(storage), { recursive: true });
    const lockWaitMs = options.waitMs ?? SQLITE_LOCK_WAIT_MS;
    sequelize = new Sequelize({
      dialect: 'sqlite',
      storage,
      logging,
      // Several writers (transactions, a second host process) wait for the lock instead of failing at once.
      retry: { max: 10, match: [/SQLITE_BUSY/] },
    });
    retrySqliteBusyWithinTheLockWait(sequelize, lockWaitMs);
    configureSqliteConnections(sequelize, storage, lockWaitMs);
    skipColumnTypeReadsOfRawSelects(sequelize);
  } else {
    const normalized = url.replace(/^mysql:\/\//, 'mariadb://').replace(/^postgresql:\/\//, 'postgres://');
    const connectMs = options.waitMs ?? 10_000;
    const statementMs = options.waitMs ?? 0;
    sequelize = new Sequelize(normalized, {
      dialect,
      logging,
      pool: { max: 10, min: 0, idle: 10_000, ...(options.waitMs === undefined ? {} : { acquire: options.waitMs }) },
      ...(dialect === 'mariadb'
        ? { dialectOptions: { timezone: '+00:00', connectTimeout: connectMs, ...(statementMs ? { socketTimeout: statementMs } : {}) }, timezone: '+00:00' }
        : { dialectOptions: { connectionTimeoutMillis: connectMs, ...(statementMs ? { query_timeout: statementMs } : {}) } }),
    });
    if (dialect === 'postgres') closePostgresConnectionsThatTimedOut(sequelize);
  }
  await sequelize.authenticate();
  return { sequelize, dialect };
}
