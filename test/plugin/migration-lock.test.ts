/**
 * The lock that keeps migration runs of several host processes apart. A stale time of a few
 * hundred milliseconds stands in for the real minute, so that runs "longer than the stale
 * time" (index builds on a big CRM) fit in a test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { dialectOf, openDatabase, type OpenedDatabase } from '../../host/database.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { MIGRATION_TABLE, PluginMigrator } from '../../plugin/lifecycle/plugin-migrator.js';
import { LOCK_TABLE, MigrationLockLost, STALE_AFTER_MS, withMigrationLock } from '../../plugin/lifecycle/migration-lock.js';
import { recordStatements, scratchDatabase, serverUnderTest, type ScratchDatabase } from '../support/database.js';

/**
 * The stale time standing in for a minute. MariaDB keeps `locked_at` (a DATETIME) to the whole
 * second, so a lock there can look up to a second older than it is: a longer one, well above that.
 */
const server = serverUnderTest();
const STALE_MS = server && dialectOf(server) === 'mariadb' ? 2_500 : 600;

async function until(check: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** Runs `run` while this process's clock reads `aheadMs` later than the machine's (a second machine whose clock is off). */
async function withClockAhead<T>(aheadMs: number, run: () => Promise<T>): Promise<T> {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + aheadMs);
      else super(...(args as [number]));
    }
    static override now(): number {
      return RealDate.now() + aheadMs;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
  try {
    return await run();
  } finally {
    globalThis.Date = RealDate;
  }
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return null;
}

describe('migration lock @db', function () {
  this.timeout(60_000);
  let scratch: ScratchDatabase;
  let first: OpenedDatabase;
  let second: OpenedDatabase;

  beforeEach(async () => {
    scratch = await scratchDatabase();
    // Two host processes on the same database: one connection each.
    first = await openDatabase(scratch.url);
    second = await openDatabase(scratch.url);
  });
  afterEach(async () => {
    await first.sequelize.close();
    await second.sequelize.close();
    await scratch.drop();
  });

  it('gives up at its deadline when the lock table keeps disappearing under it', async () => {
    // Another process uninstalling the plugin again and again: the table is gone at every try.
    const sequelize = first.sequelize;
    const query = sequelize.query.bind(sequelize) as (...args: unknown[]) => Promise<unknown>;
    (sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith(`INSERT INTO ${LOCK_TABLE}`)) await second.sequelize.getQueryInterface().dropTable(LOCK_TABLE);
      return query(...args);
    };
    try {
      const started = Date.now();
      const failure = await failureOf(withMigrationLock(sequelize, async () => 'ran', { staleAfterMs: STALE_MS, waitMs: 300 }));
      expect(String(failure)).to.match(/keeps disappearing/);
      expect(Date.now() - started, 'ms until it gave up').to.be.below(10_000);
    } finally {
      delete (sequelize as unknown as { query?: unknown }).query;
    }
  });

  it('is never taken over while its holder is alive, however long the run lasts', async () => {
    const events: string[] = [];
    const running = withMigrationLock(
      first.sequelize,
      async () => {
        events.push('first in');
        await sleep(STALE_MS * 4);
        events.push('first out');
      },
      { staleAfterMs: STALE_MS },
    );
    await until(() => events.includes('first in'), 'the first run to hold the lock');
    const waiting = withMigrationLock(second.sequelize, async () => void events.push('second in'), { staleAfterMs: STALE_MS, waitMs: STALE_MS * 10 });
    await Promise.all([running, waiting]);
    expect(events).to.deep.equal(['first in', 'first out', 'second in']);
  });

  it("compares a lock's age on the database's clock: a process whose clock runs an hour ahead waits for a live holder", async () => {
    const events: string[] = [];
    let finishFirst = () => {};
    const firstRunEnds = new Promise<void>((ok) => (finishFirst = ok));
    const running = withMigrationLock(
      first.sequelize,
      async () => {
        events.push('first in');
        await firstRunEnds;
        events.push('first out');
      },
      { staleAfterMs: STALE_MS },
    );
    await until(() => events.includes('first in'), 'the first run to hold the lock');
    const refused = await withClockAhead(60 * 60_000, () => failureOf(withMigrationLock(second.sequelize, async () => void events.push('second in'), { staleAfterMs: STALE_MS, waitMs: 300 })));
    expect(String(refused), 'the second process, whose clock is an hour ahead').to.match(/another process has been migrating the database for too long/);
    finishFirst();
    await running;
    expect(events).to.deep.equal(['first in', 'first out']);
  });

  it('by default takes over a lock not refreshed for a minute (a holder killed with kill -9), never one refreshed half a minute ago', async () => {
    expect(STALE_AFTER_MS, 'the default stale time').to.equal(60_000);
    const leave = (ageMs: number) => second.sequelize.getQueryInterface().bulkInsert(LOCK_TABLE, [{ id: 1, owner: 'killed-process', locked_at: new Date(Date.now() - ageMs) }]);
    await withMigrationLock(first.sequelize, async () => undefined);
    await leave(30_000);
    expect(String(await failureOf(withMigrationLock(first.sequelize, async () => 'ran', { waitMs: 300 }))), 'a lock refreshed 30 s ago').to.match(/for too long/);
    await second.sequelize.query(`DELETE FROM ${LOCK_TABLE}`);
    await leave(STALE_AFTER_MS + 2_000);
    const started = Date.now();
    expect(await withMigrationLock(first.sequelize, async () => 'ran', { waitMs: 5_000 })).to.equal('ran');
    expect(Date.now() - started, 'ms to take the stale lock over').to.be.below(3_000);
  });

  it('on SQLite, keeps its lock through a write of its own that outlasts the stale time (an index build), though its refreshes must wait for it', async function () {
    if (first.dialect !== 'sqlite') return this.skip();
    // SQLite has one writer at a time: the refreshes wait for the run's own long write, and fail after the lock wait.
    const migrating = await openDatabase(scratch.url, { waitMs: 100 });
    try {
      const result = await withMigrationLock(
        migrating.sequelize,
        async (lock) => {
          await migrating.sequelize.transaction(async (transaction) => {
            await migrating.sequelize.query('CREATE TABLE bp_lock_test_long (id INTEGER)', { transaction });
            await sleep(STALE_MS * 3);
          });
          lock.assertHeld();
          return 'built';
        },
        { staleAfterMs: STALE_MS },
      );
      expect(result).to.equal('built');
    } finally {
      await migrating.sequelize.close();
    }
  });

  it('is taken over once its holder has died, and the holder, if it wakes up, fails', async () => {
    const dying = await openDatabase(scratch.url);
    const events: string[] = [];
    let finishFirst = () => {};
    const firstRunEnds = new Promise<void>((ok) => (finishFirst = ok));
    const running = withMigrationLock(
      dying.sequelize,
      async () => {
        events.push('first in');
        await firstRunEnds;
      },
      { staleAfterMs: STALE_MS },
    );
    const firstOutcome = failureOf(running);
    await until(() => events.includes('first in'), 'the first run to hold the lock');
    // The first process loses its database for good: its lock is no longer refreshed.
    await dying.sequelize.close();
    const diedAt = Date.now();
    let secondInAt = 0;
    await withMigrationLock(second.sequelize, async () => void (secondInAt = Date.now()), { staleAfterMs: STALE_MS, waitMs: STALE_MS * 10 });
    expect(secondInAt - diedAt, 'the second process waited for the lock to go stale').to.be.at.least(STALE_MS / 4);

    finishFirst();
    expect(await firstOutcome, 'the first run, whose lock was taken over').to.be.instanceOf(MigrationLockLost);
  });

  it('tells its holder when the lock was taken over, so that the run stops instead of going on', async () => {
    const steps: number[] = [];
    const running = withMigrationLock(
      first.sequelize,
      async (lock) => {
        for (let step = 0; step < 20; step++) {
          lock.assertHeld();
          steps.push(step);
          if (step === 2) {
            // Another process takes the lock over (as if this one had been suspended past the stale time).
            await second.sequelize.query(`UPDATE ${LOCK_TABLE} SET owner = 'other-process' WHERE id = 1`);
          }
          await sleep(STALE_MS / 4);
        }
        return 'finished';
      },
      { staleAfterMs: STALE_MS },
    );
    const failure = await failureOf(running);
    expect(failure).to.be.instanceOf(MigrationLockLost);
    expect(steps.length, 'steps run after the takeover').to.be.within(3, 10);
    // The other process's lock is left alone.
    const rows = await second.sequelize.query<{ owner: string }>(`SELECT owner FROM ${LOCK_TABLE}`, { type: QueryTypes.SELECT });
    expect(rows.map((r) => r.owner)).to.deep.equal(['other-process']);
  });

  it('a run that returns after its lock was taken over fails too', async () => {
    const running = withMigrationLock(
      first.sequelize,
      async () => {
        await second.sequelize.query(`UPDATE ${LOCK_TABLE} SET owner = 'other-process' WHERE id = 1`);
        await sleep(STALE_MS);
        return 'finished';
      },
      { staleAfterMs: STALE_MS },
    );
    expect(await failureOf(running)).to.be.instanceOf(MigrationLockLost);
  });

  it('refreshes its lock while the run lasts, and stops refreshing when the run ends, succeeded or failed', async () => {
    const recorded = recordStatements(first.sequelize, (sql) => sql.includes(LOCK_TABLE));
    const lockStatements = recorded.sql;
    try {
      const lockedAt = async () => {
        const [row] = await second.sequelize.query<{ locked_at: string | Date }>(`SELECT locked_at FROM ${LOCK_TABLE}`, { type: QueryTypes.SELECT });
        return new Date(row!.locked_at).getTime();
      };
      await withMigrationLock(
        first.sequelize,
        async () => {
          const takenAt = await lockedAt();
          await sleep(STALE_MS * 1.5);
          expect(await lockedAt(), 'locked_at after a while').to.be.above(takenAt);
        },
        { staleAfterMs: STALE_MS },
      );
      const failure = await failureOf(
        withMigrationLock(
          first.sequelize,
          async () => {
            await sleep(STALE_MS);
            throw new Error('boom');
          },
          { staleAfterMs: STALE_MS },
        ),
      );
      expect((failure as Error).message).to.equal('boom');
      const afterBoth = lockStatements.length;
      await sleep(STALE_MS);
      expect(lockStatements.slice(afterBoth), 'statements on the lock after both runs ended').to.deep.equal([]);
      // Released both times.
      expect(await first.sequelize.query(`SELECT owner FROM ${LOCK_TABLE}`, { type: QueryTypes.SELECT })).to.deep.equal([]);
    } finally {
      recorded.stop();
    }
  });

  it('never keeps the process from exiting', async () => {
    // A host process that migrates, then shuts down (one run is still waiting on something when it does).
    const dir = mkdtempSync(join(tmpdir(), 'bp-lock-exit-'));
    try {
      const script = join(dir, 'host-process.mts');
      const from = (file: string) => JSON.stringify(pathToFileURL(resolve(defaultRootDir, file)).href);
      writeFileSync(
        script,
        `import { openDatabase } from ${from('host/database.js')};
import { withMigrationLock } from ${from('plugin/lifecycle/migration-lock.js')};
const db = await openDatabase(process.env.LOCK_TEST_URL!);
const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
await withMigrationLock(db.sequelize, () => pause(${STALE_MS}), { staleAfterMs: ${STALE_MS} });
await withMigrationLock(db.sequelize, async () => { await pause(${STALE_MS}); throw new Error('boom'); }, { staleAfterMs: ${STALE_MS} }).catch(() => {});
await new Promise<void>((entered) => void withMigrationLock(db.sequelize, () => { entered(); return new Promise(() => {}); }).catch(() => {}));
await db.sequelize.close();
console.log('closed');
`,
      );
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const outcome = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((done) =>
        execFile(process.execPath, ['--import', tsx, script], { cwd: defaultRootDir, timeout: 15_000, env: { ...process.env, LOCK_TEST_URL: scratch.url } }, (error, stdout, stderr) =>
          done({ error, stdout, stderr }),
        ),
      );
      expect(outcome.stderr).to.equal('');
      expect(outcome.error, 'the process exited by itself').to.equal(null);
      expect(outcome.stdout).to.equal('closed\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a migrator whose lock was taken over runs no further migration and reverts nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-lock-migrations-'));
    try {
      writeFileSync(
        join(dir, '20990101000000-slow-index-build.ts'),
        `export async function up({ context }) {
  await context.sequelize.query('CREATE TABLE bp_lock_test_a (id INTEGER)');
  // Meanwhile another process takes the lock over (this one was suspended past the stale time).
  await context.sequelize.query("UPDATE ${LOCK_TABLE} SET owner = 'other-process' WHERE id = 1");
  await new Promise((ok) => setTimeout(ok, ${STALE_MS}));
}
export async function down({ context }) {
  await context.sequelize.query('DROP TABLE IF EXISTS bp_lock_test_a');
}
`,
      );
      writeFileSync(
        join(dir, '20990101000100-next-step.ts'),
        `export async function up({ context }) {
  await context.sequelize.query('CREATE TABLE bp_lock_test_b (id INTEGER)');
}
export async function down({ context }) {
  await context.sequelize.query('DROP TABLE IF EXISTS bp_lock_test_b');
}
`,
      );
      const errors: string[] = [];
      const logger: HostLogger = { debug() {}, info() {}, warn() {}, error: (message) => void errors.push(message) };
      const migrator = new PluginMigrator(first.sequelize, first.dialect, dir, logger, { staleAfterMs: STALE_MS });
      expect(await failureOf(migrator.up())).to.be.instanceOf(MigrationLockLost);

      const qi = second.sequelize.getQueryInterface();
      expect(await qi.tableExists('bp_lock_test_b'), 'the next migration ran').to.equal(false);
      expect(await qi.tableExists('bp_lock_test_a'), 'the finished migration was reverted').to.equal(true);
      const recorded = await second.sequelize.query<{ name: string }>(`SELECT name FROM ${MIGRATION_TABLE}`, { type: QueryTypes.SELECT });
      expect(recorded.map((r) => r.name)).to.deep.equal(['20990101000000-slow-index-build']);
      const owners = await second.sequelize.query<{ owner: string }>(`SELECT owner FROM ${LOCK_TABLE}`, { type: QueryTypes.SELECT });
      expect(owners.map((r) => r.owner), "the other process's lock").to.deep.equal(['other-process']);
      expect(errors).to.deep.equal(['Business Portal: another process took over the migration lock; stopped without reverting']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a revert that drops the lock table never drops it under a fresh install starting in another process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-lock-revert-'));
    try {
      writeFileSync(
        join(dir, '20990101000000-first-table.ts'),
        `export async function up({ context }) {
  await context.sequelize.query('CREATE TABLE bp_lock_test_a (id INTEGER)');
}
export async function down({ context }) {
  await context.sequelize.query('DROP TABLE IF EXISTS bp_lock_test_a');
}
`,
      );
      const errors: string[] = [];
      const logger: HostLogger = { debug() {}, info() {}, warn() {}, error: (message) => void errors.push(message) };
      const reverting = new PluginMigrator(first.sequelize, first.dialect, dir, logger, { staleAfterMs: STALE_MS });
      const installing = new PluginMigrator(second.sequelize, second.dialect, dir, logger, { staleAfterMs: STALE_MS, waitMs: STALE_MS * 10 });
      // The first process installed, then a later install step failed: it reverts its fresh install.
      const run = await reverting.up();
      expect(run.createdTable).to.equal(true);

      // The moment the revert has undone the migration table, the second process starts a fresh
      // install: it has found the lock table, and is asking for the lock (it clears a stale one first).
      let asking = false;
      second.sequelize.addHook('afterQuery', 'asking-for-lock', (_options, query) => {
        if (String((query as unknown as { sql?: unknown }).sql).startsWith(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND locked_at <`)) asking = true;
      });
      let install: Promise<unknown> | null = null;
      first.sequelize.addHook('afterQuery', 'second-starts', async (_options, query) => {
        const sql = String((query as unknown as { sql?: unknown }).sql);
        if (install || !/^DROP TABLE/i.test(sql) || !sql.includes(MIGRATION_TABLE)) return;
        install = failureOf(installing.up());
        await until(() => asking, 'the second process to ask for the lock');
      });
      try {
        await reverting.revert(run);
        expect(install, 'the second install started').to.not.equal(null);
        expect(await install, 'the second install').to.equal(null);
      } finally {
        first.sequelize.removeHook('afterQuery', 'second-starts');
        second.sequelize.removeHook('afterQuery', 'asking-for-lock');
      }
      expect(errors).to.deep.equal([]);
      const qi = second.sequelize.getQueryInterface();
      expect(await qi.tableExists('bp_lock_test_a'), "the second install's table").to.equal(true);
      const recorded = await second.sequelize.query<{ name: string }>(`SELECT name FROM ${MIGRATION_TABLE}`, { type: QueryTypes.SELECT });
      expect(recorded.map((r) => r.name)).to.deep.equal(['20990101000000-first-table']);
      expect(await second.sequelize.query(`SELECT owner FROM ${LOCK_TABLE}`, { type: QueryTypes.SELECT }), 'released').to.deep.equal([]);

      // Alone, an uninstall, and a revert of a fresh install, still leave nothing behind, the lock table included.
      await installing.downAll();
      expect(await qi.tableExists(LOCK_TABLE), 'the lock table after an uninstall').to.equal(false);
      await reverting.revert(await reverting.up());
      expect(await qi.tableExists(LOCK_TABLE), 'the lock table after a revert').to.equal(false);
      expect(await qi.tableExists(MIGRATION_TABLE)).to.equal(false);
      expect(await qi.tableExists('bp_lock_test_a')).to.equal(false);
      expect(errors).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
