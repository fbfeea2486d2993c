import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { basename, join, resolve } from 'node:path';
import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { openDatabase, type OpenedDatabase } from '../../host/database.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { DatabaseLockout } from '../../plugin/auth/lockout.js';
import type { LoginHistory } from '../../plugin/auth/login-history.js';
import { plainAddress } from '../../plugin/auth/client-address.js';
import { MIGRATION_TABLE, PluginMigrator } from '../../plugin/lifecycle/plugin-migrator.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';

const realMigrations = resolve(defaultRootDir, 'migrations');

const quietLogger: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function bpTables(sequelize: Sequelize): Promise<string[]> {
  const names = (await sequelize.getQueryInterface().showAllTables()) as unknown[];
  return names
    .map((n) => (typeof n === 'string' ? n : (n as { tableName: string }).tableName))
    .filter((n) => n.startsWith('bp_'))
    .sort();
}

type Rows = Record<string, unknown>[];

/**
 * What the plugin's tables look like, per table: columns (type, nullability, default, collation),
 * indexes with their columns, foreign keys. The migration bookkeeping tables are left out.
 */
async function schemaOf(sequelize: Sequelize, dialect: string): Promise<Record<string, unknown>> {
  const rows = (sql: string, replacements: Record<string, unknown> = {}) => sequelize.query<Record<string, unknown>>(sql, { type: QueryTypes.SELECT, replacements });
  const values = (list: Rows) => list.map((row) => Object.values(row));
  const schema: Record<string, unknown> = {};
  for (const t of await bpTables(sequelize)) {
    if (t === MIGRATION_TABLE || t === 'bp_migration_lock') continue;
    if (dialect === 'sqlite') {
      const indexes: unknown[] = [];
      for (const index of (await rows(`PRAGMA index_list(\`${t}\`)`)).sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
        const columns = (await rows(`PRAGMA index_info(\`${index.name}\`)`)).map((c) => c.name);
        indexes.push([String(index.name).startsWith('sqlite_autoindex') ? 'autoindex' : index.name, index.unique, columns]);
      }
      schema[t] = { columns: values(await rows(`PRAGMA table_info(\`${t}\`)`)), indexes, keys: values(await rows(`PRAGMA foreign_key_list(\`${t}\`)`)) };
    } else if (dialect === 'postgres') {
      schema[t] = {
        columns: values(await rows(`SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, collation_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t ORDER BY column_name`, { t })),
        indexes: values(await rows(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = :t ORDER BY indexname`, { t })),
        keys: values(await rows(`SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname = :t ORDER BY c.conname`, { t })),
      };
    } else {
      schema[t] = {
        columns: values(await rows(`SELECT column_name, column_type, is_nullable, column_default, collation_name, extra FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = :t ORDER BY ordinal_position`, { t })),
        indexes: values(await rows(`SELECT index_name, non_unique, seq_in_index, column_name, sub_part FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = :t ORDER BY index_name, seq_in_index`, { t })),
        keys: values(await rows(`SELECT k.constraint_name, k.column_name, k.referenced_table_name, k.referenced_column_name, r.update_rule, r.delete_rule FROM information_schema.key_column_usage k JOIN information_schema.referential_constraints r ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name WHERE k.table_schema = DATABASE() AND k.table_name = :t ORDER BY k.constraint_name`, { t })),
      };
    }
  }
  return schema;
}

async function insertProfile(sequelize: Sequelize, name: string): Promise<void> {
  await sequelize.query(
    `INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version) VALUES (:name, '', :no, :now, :now, 1)`,
    { replacements: { name, no: false, now: new Date() } },
  );
}

async function profileNames(sequelize: Sequelize): Promise<string[]> {
  const rows = await sequelize.query<{ name: string }>('SELECT name FROM bp_profiles ORDER BY name', { type: QueryTypes.SELECT });
  return rows.map((r) => r.name);
}

/** A migrations folder with the real migrations (those older than `before`, if given) and, optionally, a failing one after them. */
function migrationsFolder(withFailing: boolean, before?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bp-migrations-'));
  // The copies import `sequelize`: let them resolve the project's packages.
  symlinkSync(resolve(defaultRootDir, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const folder = join(dir, 'migrations');
  cpSync(realMigrations, folder, { recursive: true, filter: (source) => before === undefined || basename(source) < before || source === realMigrations });
  if (withFailing) {
    writeFileSync(
      join(folder, '29991231235959-fails-half-way.ts'),
      `import { DataTypes } from 'sequelize';
export async function up({ context }) {
  await context.queryInterface.createTable('bp_half_done', { id: { type: DataTypes.INTEGER, primaryKey: true } });
  throw new Error('boom in the middle');
}
export async function down({ context }) {
  if (await context.queryInterface.tableExists('bp_half_done')) await context.queryInterface.dropTable('bp_half_done');
}
`,
    );
  }
  return folder;
}

describe('plugin migrations @db', () => {
  let scratch: ScratchDatabase;
  let db: OpenedDatabase;
  const folders: string[] = [];

  beforeEach(async () => {
    scratch = await scratchDatabase();
    db = await openDatabase(scratch.url);
  });
  afterEach(async () => {
    await db.sequelize.close();
    await scratch.drop();
    for (const folder of folders.splice(0)) rmSync(resolve(folder, '..'), { recursive: true, force: true });
  });

  it('go up, down and up again, with rows surviving a re-run and gone after down', async () => {
    const migrator = new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger);
    const files = readdirSync(realMigrations).filter((f) => /^\d{14}-.*\.ts$/.test(f));
    expect(await migrator.pending()).to.have.length(files.length);
    // Asking creates nothing: another process installing meanwhile must find the database as it was.
    expect(await bpTables(db.sequelize), 'tables after pending()').to.deep.equal([]);

    const first = await migrator.up();
    expect(first.ran).to.have.length(files.length);
    expect(await bpTables(db.sequelize)).to.include.members(['bp_migrations', 'bp_profiles', 'bp_settings']);
    await insertProfile(db.sequelize, 'Resellers');
    await db.sequelize.query(`INSERT INTO bp_settings (${db.sequelize.getQueryInterface().quoteIdentifier('key')}, value, updated_at) VALUES ('a.b', '1', :now)`, {
      replacements: { now: new Date() },
    });

    // Nothing pending: a second up runs nothing and the rows stay.
    expect((await migrator.up()).ran).to.deep.equal([]);
    expect(await profileNames(db.sequelize)).to.deep.equal(['Resellers']);

    // The profile name is unique.
    let duplicate: unknown;
    try {
      await insertProfile(db.sequelize, 'Resellers');
    } catch (error) {
      duplicate = error;
    }
    expect(duplicate, 'a second profile with the same name').to.be.instanceOf(Error);

    await migrator.downAll();
    expect(await bpTables(db.sequelize)).to.deep.equal([]);

    await migrator.up();
    expect(await bpTables(db.sequelize)).to.include.members(['bp_migrations', 'bp_profiles', 'bp_settings']);
    expect(await profileNames(db.sequelize)).to.deep.equal([]);
    expect(await migrator.executed()).to.have.length(files.length);
  });

  it('run once when two host processes install at the same moment', async () => {
    const second = await openDatabase(scratch.url);
    try {
      const results = await Promise.all([
        new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger).up(),
        new PluginMigrator(second.sequelize, second.dialect, realMigrations, quietLogger).up(),
      ]);
      const files = readdirSync(realMigrations).filter((f) => /^\d{14}-.*\.ts$/.test(f));
      // One process ran every migration, the other found nothing pending.
      expect(results.map((r) => r.ran.length).sort()).to.deep.equal([0, files.length]);
      const recorded = await db.sequelize.query<{ name: string }>(`SELECT name FROM ${MIGRATION_TABLE}`, { type: QueryTypes.SELECT });
      expect(recorded).to.have.length(files.length);
      expect(await bpTables(db.sequelize)).to.include.members(['bp_profiles', 'bp_settings']);
    } finally {
      await second.sequelize.close();
    }
  });

  it('down is safe to re-run and up is safe over tables that already exist', async () => {
    const { up, down } = (await import('../../migrations/20261122000000-plugin-settings-and-profiles.js')) as {
      up: (p: unknown) => Promise<void>;
      down: (p: unknown) => Promise<void>;
    };
    const context = { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect };
    await up({ context });
    await insertProfile(db.sequelize, 'Kept');
    await up({ context });
    expect(await profileNames(db.sequelize)).to.deep.equal(['Kept']);
    await down({ context });
    await down({ context });
    expect(await bpTables(db.sequelize)).to.deep.equal([]);
  });

  it('a failing migration on a fresh install leaves no bp_ table behind', async () => {
    const folder = migrationsFolder(true);
    folders.push(folder);
    const migrator = new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger);
    let error: unknown;
    try {
      await migrator.up();
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/29991231235959-fails-half-way failed: boom in the middle/);
    expect(await bpTables(db.sequelize)).to.deep.equal([]);
  });

  it('a failing migration on an upgrade reverts only what that upgrade ran', async () => {
    await new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger).up();
    await insertProfile(db.sequelize, 'Existing');

    const folder = migrationsFolder(true);
    folders.push(folder);
    let error: unknown;
    try {
      await new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger).up();
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
    expect(await bpTables(db.sequelize)).to.include.members([MIGRATION_TABLE, 'bp_profiles', 'bp_settings']);
    expect(await bpTables(db.sequelize)).not.to.include('bp_half_done');
    expect(await profileNames(db.sequelize)).to.deep.equal(['Existing']);
  });

  it('moves IPv4-mapped client addresses to plain IPv4, merging failure counts and keeping bans', async () => {
    await new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger).up();
    const at = (iso: string) => new Date(iso);
    const rows: [string, number, Date | null, Date | null][] = [
      ['::ffff:192.0.2.1', 100, at('2026-11-01T10:00:00Z'), at('2026-11-01T10:00:00Z')], // banned, alone
      ['::ffff:192.0.2.2', 3, at('2026-11-02T08:00:00Z'), at('2026-11-04T10:00:00Z')], // merged with the plain row below
      ['192.0.2.2', 98, at('2026-11-03T09:00:00Z'), at('2026-11-03T09:00:00Z')],
      ['::ffff:abcd:1', 2, null, at('2026-11-04T10:00:00Z')], // not IPv4: left alone
    ];
    for (const [ip, failures, bannedAt, lastFailedAt] of rows) {
      await db.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, :failures, :bannedAt, :lastFailedAt)', {
        replacements: { ip, failures, bannedAt, lastFailedAt },
      });
    }
    await db.sequelize.query(
      `INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, must_change_password, failed_attempts, last_failed_ip, created_at, updated_at, version)
       VALUES (7, 'x@example.com', :yes, :no, 2, '::ffff:198.51.100.9', :now, :now, 1)`,
      { replacements: { yes: true, no: false, now: new Date() } },
    );
    const migration = (await import('../../migrations/20261203000000-plain-ipv4-client-addresses.js')) as { up(p: { context: unknown }): Promise<void> };
    await migration.up({ context: { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect } });
    const after = await db.sequelize.query<{ ip: string; failures: unknown; banned_at: unknown; last_failed_at: unknown }>(
      'SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures ORDER BY ip',
      { type: QueryTypes.SELECT },
    );
    // A Date (PostgreSQL, MariaDB) or SQLite's text, `2026-11-01 10:00:00.000 +00:00`.
    const iso = (value: unknown) => (value === null ? null : (value instanceof Date ? value : new Date(String(value).replace(' ', 'T').replace(' ', ''))).toISOString());
    expect(after.map((r) => [r.ip, Number(r.failures), iso(r.banned_at), iso(r.last_failed_at)])).to.deep.equal([
      ['192.0.2.1', 100, '2026-11-01T10:00:00.000Z', '2026-11-01T10:00:00.000Z'],
      ['192.0.2.2', 101, '2026-11-02T08:00:00.000Z', '2026-11-04T10:00:00.000Z'], // the earlier ban, the later failure
      ['::ffff:abcd:1', 2, null, '2026-11-04T10:00:00.000Z'],
    ]);
    const [account] = await db.sequelize.query<{ last_failed_ip: string }>('SELECT last_failed_ip FROM bp_portal_accounts', { type: QueryTypes.SELECT });
    expect(account!.last_failed_ip).to.equal('198.51.100.9');
  });

  it('an upgrade keeps every ban and failure count, whatever spelling the client address was recorded in', async () => {
    // An install from before client addresses were recorded in one form: any spelling a proxy passed on.
    const folder = migrationsFolder(false, '20261203000000');
    folders.push(folder);
    await new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger).up();
    const banned = new Date('2026-11-01T10:00:00Z');
    const rows: [string, number, Date | null][] = [
      ['2001:DB8::1', 100, banned], // upper case
      ['2001:db8:0:0::2', 60, null], // not RFC 5952, merged with the canonical row below
      ['2001:db8::2', 40, banned],
      ['::ffff:c000:0203', 100, banned], // IPv4-mapped, in hex
      ['::FFFF:192.0.2.4', 100, banned], // IPv4-mapped, upper case
      ['192.0.2.5', 3, null],
    ];
    for (const [ip, failures, bannedAt] of rows) {
      await db.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, :failures, :bannedAt, :bannedAt)', {
        replacements: { ip, failures, bannedAt },
      });
    }
    await db.sequelize.query(
      `INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, must_change_password, failed_attempts, last_failed_ip, created_at, updated_at, version)
       VALUES (7, 'x@example.com', :yes, :no, 2, '2001:DB8:0::7', :now, :now, 1)`,
      { replacements: { yes: true, no: false, now: new Date() } },
    );

    await new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger).up();

    const after = await db.sequelize.query<{ ip: string; failures: unknown; banned_at: unknown }>('SELECT ip, failures, banned_at FROM bp_client_failures', {
      type: QueryTypes.SELECT,
    });
    // IPv6 clients are counted by their /64 since 20261205100000: both addresses are one client.
    expect(after.map((r) => [r.ip, Number(r.failures), r.banned_at !== null]).sort()).to.deep.equal([
      ['192.0.2.3', 100, true],
      ['192.0.2.4', 100, true],
      ['192.0.2.5', 3, false],
      ['2001:db8::/64', 200, true],
    ]);
    // The lockout, given the address as the portal now records it, still refuses each banned client.
    const lockout = new DatabaseLockout(db, {} as LoginHistory, quietLogger);
    for (const ip of ['2001:db8::1', '2001:DB8:0::2', '::ffff:192.0.2.3', '::ffff:192.0.2.4']) {
      expect(await lockout.reserveClient(plainAddress(ip)), ip).to.equal(false);
    }
    const [account] = await db.sequelize.query<{ last_failed_ip: string }>('SELECT last_failed_ip FROM bp_portal_accounts', { type: QueryTypes.SELECT });
    expect(account!.last_failed_ip).to.equal('2001:db8::7');
  });

  it('an upgrade counts the IPv6 addresses of one /64 as one client, keeping every ban and failure', async () => {
    const folder = migrationsFolder(false, '20261205100000');
    folders.push(folder);
    await new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger).up();
    const at = (iso: string) => new Date(iso);
    const rows: [string, number, Date | null, Date | null][] = [
      ['2001:db8:1:2::1', 100, at('2026-11-03T09:00:00Z'), at('2026-11-03T09:00:00Z')], // banned
      ['2001:db8:1:2:aaaa::7', 30, null, at('2026-11-04T10:00:00Z')], // its /64: merged, the ban kept
      ['2001:db8:1:3::1', 4, null, at('2026-11-02T10:00:00Z')], // another /64, alone
      ['192.0.2.9', 7, null, at('2026-11-02T10:00:00Z')], // IPv4: as it is
    ];
    for (const [ip, failures, bannedAt, lastFailedAt] of rows) {
      await db.sequelize.query('INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES (:ip, :failures, :bannedAt, :lastFailedAt)', {
        replacements: { ip, failures, bannedAt, lastFailedAt },
      });
    }
    const recently = new Date(Date.now() - 10 * 60_000);
    for (const ip of ['2001:db8:5:6::1', '2001:db8:5:6::2', '198.51.100.1']) {
      await db.sequelize.query('INSERT INTO bp_reset_requests (email, ip, at) VALUES (:email, :ip, :at)', { replacements: { email: 'a@example.com', ip, at: recently } });
    }

    await new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger).up();

    const after = await db.sequelize.query<{ ip: string; failures: unknown; banned_at: unknown; last_failed_at: unknown }>(
      'SELECT ip, failures, banned_at, last_failed_at FROM bp_client_failures',
      { type: QueryTypes.SELECT },
    );
    const iso = (value: unknown) => (value === null ? null : (value instanceof Date ? value : new Date(String(value).replace(' ', 'T').replace(' ', ''))).toISOString());
    expect(after.map((r) => [r.ip, Number(r.failures), iso(r.banned_at), iso(r.last_failed_at)]).sort()).to.deep.equal([
      ['192.0.2.9', 7, null, '2026-11-02T10:00:00.000Z'],
      ['2001:db8:1:2::/64', 130, '2026-11-03T09:00:00.000Z', '2026-11-04T10:00:00.000Z'],
      ['2001:db8:1:3::/64', 4, null, '2026-11-02T10:00:00.000Z'],
    ]);
    const requests = await db.sequelize.query<{ ip: string }>('SELECT ip FROM bp_reset_requests', { type: QueryTypes.SELECT });
    expect(requests.map((r) => r.ip).sort()).to.deep.equal(['198.51.100.1', '2001:db8:5:6::/64', '2001:db8:5:6::/64']);
    // Any address of the banned /64 is refused.
    const lockout = new DatabaseLockout(db, {} as LoginHistory, quietLogger);
    expect(await lockout.reserveClient('2001:db8:1:2:ffff::1')).to.equal(false);
    expect(await lockout.reserveClient('2001:db8:1:3::9')).to.equal(true);
  });

  it('an upgrade keeps the open sessions, each counted as opened with the password alone', async () => {
    const folder = migrationsFolder(false, '20261205400000');
    folders.push(folder);
    await new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger).up();
    const now = new Date();
    await db.sequelize.query(
      `INSERT INTO bp_sessions (id, family_id, contact_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, remember)
       VALUES ('open-before-upgrade', 'open-before-upgrade', 7, :now, :now, :later, :later, :no)`,
      { replacements: { now, later: new Date(now.getTime() + 60_000), no: false } },
    );
    await new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger).up();
    const rows = await db.sequelize.query<{ id: string; second_factor: unknown }>('SELECT id, second_factor FROM bp_sessions', { type: QueryTypes.SELECT });
    expect(rows).to.deep.equal([{ id: 'open-before-upgrade', second_factor: null }]);
  });

  it('every down undoes its own up exactly, and up again gives the same schema (a database with its own default collation)', async function () {
    this.timeout(120_000);
    // MariaDB: a collation other than the server's default, as a CRM's database may have.
    if (db.dialect === 'mariadb') await db.sequelize.query('ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    const context = { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect };
    const files = readdirSync(realMigrations).filter((f) => /^\d{14}-.*\.ts$/.test(f)).sort();
    const migrations = await Promise.all(files.map(async (f) => (await import(pathToFileURL(join(realMigrations, f)).href)) as { up(p: unknown): Promise<void>; down(p: unknown): Promise<void> }));
    const before = [await schemaOf(db.sequelize, db.dialect)];
    for (const migration of migrations) {
      await migration.up({ context });
      before.push(await schemaOf(db.sequelize, db.dialect));
    }
    const complete = before[before.length - 1];
    for (let i = migrations.length - 1; i >= 0; i--) {
      await migrations[i]!.down({ context });
      expect(await schemaOf(db.sequelize, db.dialect), `after the down of ${files[i]}`).to.deep.equal(before[i]);
    }
    const migrator = new PluginMigrator(db.sequelize, db.dialect, realMigrations, quietLogger);
    await migrator.up();
    expect(await schemaOf(db.sequelize, db.dialect), 'the migrator up').to.deep.equal(complete);
    await migrator.downAll();
    expect(await bpTables(db.sequelize)).to.deep.equal([]);
    await migrator.up();
    expect(await schemaOf(db.sequelize, db.dialect), 'up again after down').to.deep.equal(complete);
  });

  it('a failing upgrade reverts what it ran, not a newer migration an earlier install ran before its older one', async () => {
    const folder = migrationsFolder(false);
    folders.push(folder);
    const migration = (name: string, table: string, fails = false) =>
      writeFileSync(
        join(folder, name),
        `import { DataTypes } from 'sequelize';
export async function up({ context }) {
  await context.queryInterface.createTable('${table}', { id: { type: DataTypes.INTEGER, primaryKey: true } });${fails ? "\n  throw new Error('boom');" : ''}
}
export async function down({ context }) {
  if (await context.queryInterface.tableExists('${table}')) await context.queryInterface.dropTable('${table}');
}
`,
      );
    migration('29990101000000-release-two.ts', 'bp_release_two');
    await new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger).up();
    await db.sequelize.query('INSERT INTO bp_release_two (id) VALUES (1)');

    // The next upgrade brings a hotfix with an older timestamp, then a migration that fails.
    migration('29980101000000-hotfix.ts', 'bp_hotfix');
    migration('29990201000000-fails.ts', 'bp_fails', true);
    let error: unknown;
    try {
      await new PluginMigrator(db.sequelize, db.dialect, folder, quietLogger).up();
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/29990201000000-fails failed: boom/);
    const tables = await bpTables(db.sequelize);
    expect(tables, 'what the upgrade ran is reverted').not.to.include.any.members(['bp_hotfix', 'bp_fails']);
    expect(tables, 'what the earlier install ran stays').to.include('bp_release_two');
    const rows = await db.sequelize.query('SELECT id FROM bp_release_two', { type: QueryTypes.SELECT });
    expect(rows).to.have.length(1);
    const recorded = await db.sequelize.query<{ name: string }>(`SELECT name FROM ${MIGRATION_TABLE}`, { type: QueryTypes.SELECT });
    expect(recorded.map((r) => r.name)).to.include('29990101000000-release-two').and.not.to.include('29980101000000-hotfix');
  });
});
