/**
 * A lock that keeps one kind of run (migrations, a host's setup) to one process at a time across
 * every process that shares the database: a row (id 1) in its own table is the lock. The plugin's
 * migration lock (`migration-lock.ts`) is one; the reference host's setup lock is another.
 *
 * A holder refreshes its row's `locked_at` every quarter of the stale time; a row not refreshed
 * for the stale time (60 s by default) was left by a process that died (`kill -9`, a machine that
 * went down), and the next process to ask takes it over. Ages are measured on one clock, the
 * database's (`CURRENT_TIMESTAMP` or its dialect's equivalent, written and compared in the same
 * SQL): each process's own clock would let a machine whose clock runs ahead take over a live lock.
 *
 * Why 60 s and a refresh every 15 s: a start after a killed holder goes on within a minute, while
 * a live holder has four refreshes per stale time, each a one-row UPDATE on a table nothing else
 * writes, so only a database it cannot reach for half a minute (or a process suspended that long)
 * loses it. A run that outlasts the stale time (index builds on a big CRM take minutes) keeps its
 * lock as long as it refreshes. If a refresh finds the lock is no longer its own (the process was
 * suspended, or lost the database, for longer than the stale time, and another took over), the run
 * must not go on beside the new holder: `assertHeld` throws from then on, and `withTableLock` fails
 * even when the run itself returned.
 */
import { randomUUID } from 'node:crypto';
import { DataTypes, QueryTypes, type Sequelize } from 'sequelize';
import { isInsertCollision } from './insert-collision.js';

/** How long a lock goes unrefreshed before it is taken over as left by a dead process. */
export const LOCK_STALE_AFTER_MS = 60_000;
/** How long a start waits for another's lock: longer than the stale time, so that a lock its holder left when it died is taken over, not given up on. */
export const LOCK_WAIT_MS = LOCK_STALE_AFTER_MS + 30_000;

/** What a run holding the lock sees of it. */
export interface HeldTableLock {
  /** Whether another process has taken the lock over: the run must stop. */
  readonly lost: boolean;
  /** Throws the lock's `lostError` when the lock was taken over: call it before each step. */
  assertHeld(): void;
}

export interface TableLockOptions {
  /** How long to wait for another process's lock before giving up (default `LOCK_WAIT_MS`). */
  readonly waitMs?: number;
  /** How old (unrefreshed) a lock must be to be taken over as left by a dead process (default `LOCK_STALE_AFTER_MS`). */
  readonly staleAfterMs?: number;
}

/** One lock: its table, and the errors that tell its callers what happened. */
export interface TableLockKind {
  readonly table: string;
  /** Another process held the lock for all of `waitMs`. */
  busyError(waitMs: number): Error;
  /** Another process took the lock over while this one held it. */
  lostError(): Error;
  /** The lock table was dropped at every try (another process keeps dropping it). */
  goneError?(): Error;
}

/**
 * SQL for the database's clock, in the form `locked_at` holds, and for "that clock `staleAfterMs`
 * ago". SQLite keeps DATE as text ('YYYY-MM-DD HH:MM:SS.SSS +00:00', as Sequelize writes it),
 * which compares as time in that one form; PostgreSQL as a timestamp with time zone; MariaDB as a
 * DATETIME in UTC (Sequelize's), to the whole second: a lock there can look up to a second older.
 */
function databaseClock(sequelize: Sequelize): { readonly now: string; stale(staleAfterMs: number): string } {
  const ms = (value: number) => Math.max(0, Math.floor(value));
  switch (sequelize.getDialect()) {
    case 'sqlite':
      return {
        now: "strftime('%Y-%m-%d %H:%M:%f +00:00', 'now')",
        stale: (staleAfterMs) => `strftime('%Y-%m-%d %H:%M:%f +00:00', 'now', '-${(ms(staleAfterMs) / 1000).toFixed(3)} seconds')`,
      };
    case 'postgres':
      return { now: 'CURRENT_TIMESTAMP', stale: (staleAfterMs) => `CURRENT_TIMESTAMP - INTERVAL '${ms(staleAfterMs)} milliseconds'` };
    default:
      return { now: 'UTC_TIMESTAMP(3)', stale: (staleAfterMs) => `UTC_TIMESTAMP(3) - INTERVAL ${ms(staleAfterMs) * 1000} MICROSECOND` };
  }
}

async function ensureLockTable(sequelize: Sequelize, table: string): Promise<void> {
  const qi = sequelize.getQueryInterface();
  if (await qi.tableExists(table)) return;
  try {
    await qi.createTable(table, {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
      owner: { type: DataTypes.STRING(36), allowNull: false },
      locked_at: { type: DataTypes.DATE, allowNull: false },
    });
  } catch (error) {
    // Another process created it at the same moment.
    if (!(await qi.tableExists(table))) throw error;
  }
}

/**
 * Refreshes the lock's `locked_at` every quarter of the stale time, one refresh at a time, until
 * stopped. A refresh that finds another owner marks the lock lost; so does a failed refresh once
 * the last good one is half the stale time old (this process's own clock, measuring its own
 * wait): from then on another process may find the lock stale. Except on SQLite when the file is
 * busy: one writer at a time, so a write that outlasts the stale time (the run's own index build)
 * keeps every other process from taking the lock over as it keeps the refresh waiting; the refresh
 * is tried again at once, to be first in line when that write ends, and only its read-back of the
 * owner can find the lock lost. The timer is unref'd: it never keeps the process alive.
 */
class Heartbeat implements HeldTableLock {
  lost = false;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The last refresh found the SQLite file busy: the next one goes at once. */
  private busy = false;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly kind: TableLockKind,
    private readonly owner: string,
    private readonly staleAfterMs: number,
    /** When `locked_at` was last set by this process, on this process's clock (when it sent the statement). */
    private refreshedAt: number,
  ) {
    this.schedule();
  }

  assertHeld(): void {
    if (this.lost) throw this.kind.lostError();
  }

  private schedule(): void {
    if (this.stopped || this.lost) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => this.schedule());
    }, this.busy ? 1 : Math.max(1, Math.floor(this.staleAfterMs / 4)));
    this.timer.unref();
  }

  /** Refreshes the lock once, or finds it lost. */
  async beat(): Promise<void> {
    const table = this.kind.table;
    try {
      const sent = Date.now();
      await this.sequelize.query(`UPDATE ${table} SET locked_at = ${databaseClock(this.sequelize).now} WHERE id = 1 AND owner = :owner`, {
        type: QueryTypes.UPDATE,
        replacements: { owner: this.owner },
      });
      // Affected-row counts differ between dialects: read the owner back instead.
      const rows = await this.sequelize.query<{ owner: string }>(`SELECT owner FROM ${table} WHERE id = 1`, { type: QueryTypes.SELECT });
      this.busy = false;
      if (rows[0]?.owner === this.owner) this.refreshedAt = sent;
      else this.lost = true;
    } catch (error) {
      this.busy = this.sequelize.getDialect() === 'sqlite' && /SQLITE_BUSY/.test(`${String(error)} ${String((error as { parent?: unknown }).parent ?? '')}`);
      if (!this.busy && Date.now() - this.refreshedAt >= this.staleAfterMs / 2) this.lost = true;
    }
  }

  /** Stops refreshing, and waits for a refresh under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
  }
}

/**
 * Runs `run` holding the lock of `kind`. `dropTableWhen` is asked after the run (succeeded or
 * failed) while the lock is still this process's: when it answers true, the lock table is dropped,
 * the lock with it, instead of the lock being released. Only then: dropped after the release, the
 * table could be another process's lock by that time. A process waiting for the lock creates it
 * again.
 */
export async function withTableLock<T>(
  sequelize: Sequelize,
  kind: TableLockKind,
  run: (lock: HeldTableLock) => Promise<T>,
  options: TableLockOptions = {},
  dropTableWhen?: () => Promise<boolean>,
): Promise<T> {
  const { waitMs = LOCK_WAIT_MS, staleAfterMs = LOCK_STALE_AFTER_MS } = options;
  const { table } = kind;
  const clock = databaseClock(sequelize);
  await ensureLockTable(sequelize, table);
  const owner = randomUUID();
  const deadline = Date.now() + waitMs;
  let takenAt: number;
  for (;;) {
    takenAt = Date.now();
    try {
      await sequelize.query(`DELETE FROM ${table} WHERE id = 1 AND locked_at < ${clock.stale(staleAfterMs)}`, { type: QueryTypes.DELETE });
      takenAt = Date.now();
      await sequelize.query(`INSERT INTO ${table} (id, owner, locked_at) VALUES (1, :owner, ${clock.now})`, {
        type: QueryTypes.INSERT,
        replacements: { owner },
      });
      break;
    } catch (error) {
      if (!isInsertCollision(error)) {
        // The holder we waited for was the last one: it dropped the table with its lock. Create it again.
        if (await sequelize.getQueryInterface().tableExists(table)) throw error;
        if (Date.now() > deadline) throw kind.goneError?.() ?? error;
        await ensureLockTable(sequelize, table);
        continue;
      }
      if (Date.now() > deadline) throw kind.busyError(waitMs);
      await new Promise((ok) => setTimeout(ok, 50 + Math.floor(Math.random() * 100)));
    }
  }
  const heartbeat = new Heartbeat(sequelize, kind, owner, staleAfterMs, takenAt);
  let result: T;
  try {
    result = await run(heartbeat);
  } catch (error) {
    await heartbeat.stop();
    // The run's own error says what went wrong; a lock that could not be released goes stale.
    await (async () => {
      if (dropTableWhen) {
        await heartbeat.beat();
        if (!heartbeat.lost && (await dropTableWhen())) return dropLockTable(sequelize, table);
      }
      await release(sequelize, table, owner);
    })().catch(() => {});
    throw error;
  }
  await heartbeat.stop();
  // Was the lock this process's to the end of the run? If not, the run was not alone: it fails.
  await heartbeat.beat();
  heartbeat.assertHeld();
  if (dropTableWhen && (await dropTableWhen())) await dropLockTable(sequelize, table);
  else await release(sequelize, table, owner);
  return result;
}

async function release(sequelize: Sequelize, table: string, owner: string): Promise<void> {
  await sequelize.query(`DELETE FROM ${table} WHERE id = 1 AND owner = :owner`, { type: QueryTypes.DELETE, replacements: { owner } });
}

/** Drops the lock table, and the lock with it: only by its holder (see `withTableLock`). */
async function dropLockTable(sequelize: Sequelize, table: string): Promise<void> {
  const qi = sequelize.getQueryInterface();
  if (await qi.tableExists(table)) await qi.dropTable(table);
}
