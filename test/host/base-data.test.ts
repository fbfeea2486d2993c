import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { DataTypes, QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { ConfigError, loadOrCreateSecret, readConfig } from '../../host/config.js';
import sqlite3 from 'sqlite3';
import { openDatabase, SQLITE_LOCK_WAIT_MS, SQLITE_PREPARED_READS, SqliteWriterTurns } from '../../host/database.js';
import { createReferenceHost, type ReferenceHostOptions } from '../../host/reference-host.js';
import { hostMigrator, SetupLockBusyError, SetupLockLostError, withSetupLock } from '../../host/schema/migrate.js';
import { verifyPassword } from '../../host/users/password-hash.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';
import { rejection } from '../support/expectations.js';
import { TEST_ADMIN_PASSWORD } from '../support/host.js';

interface TracedConnection {
  all(sql: string, ...rest: unknown[]): unknown;
}

/** node-sqlite3's statements as they run and end: which statement object ran which SQL, which were finalized. */
function watchStatements() {
  const prototype = sqlite3.Statement.prototype as unknown as Record<'all' | 'finalize', (this: { sql: string }, ...args: unknown[]) => unknown>;
  const { all, finalize } = prototype;
  const runs: { readonly statement: object; readonly sql: string }[] = [];
  const finalized = new Set<object>();
  prototype.all = function (...args) {
    runs.push({ statement: this, sql: this.sql });
    return all.apply(this, args);
  };
  prototype.finalize = function (...args) {
    finalized.add(this);
    return finalize.apply(this, args);
  };
  return {
    runs,
    finalized,
    of: (sql: string) => runs.filter((run) => run.sql === sql).map((run) => run.statement),
    stop() {
      prototype.all = all;
      prototype.finalize = finalize;
    },
  };
}

const CORE_TABLES = [
  'crm_conditional_rules',
  'crm_email_template_versions',
  'crm_email_templates',
  'crm_group_members',
  'crm_groups',
  'crm_mail_accounts',
  'crm_mail_outbox',
  'crm_plugins',
  'crm_roles',
  'crm_sessions',
  'crm_settings',
  'crm_users',
];

async function tableNames(sequelize: Sequelize): Promise<string[]> {
  return ((await sequelize.getQueryInterface().showAllTables()) as unknown[]).map((t) => (typeof t === 'string' ? t : (t as { tableName: string }).tableName));
}

async function counts(sequelize: Sequelize): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of ['crm_users', 'crm_roles', 'crm_groups', 'crm_group_members', 'crm_email_templates', 'crm_email_template_versions', 'crm_conditional_rules']) {
    const [row] = await sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`, { type: QueryTypes.SELECT });
    result[table] = Number(row!.n);
  }
  return result;
}

describe('reference host base data @db', () => {
  let database: ScratchDatabase;
  let dataDir: string;

  beforeEach(async () => {
    database = await scratchDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'bp-host-'));
  });
  afterEach(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const options = (more: Partial<ReferenceHostOptions> = {}): ReferenceHostOptions => ({
    databaseUrl: database.url,
    dataDir,
    logLevel: 'silent',
    pluginManifests: [],
    adminPassword: TEST_ADMIN_PASSWORD,
    ...more,
  });

  it('seeds users (inactive ones included), roles, groups and CRM rules, once', async () => {
    const host = await createReferenceHost(options({ installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true }, licences: [] }));
    let before: Record<string, number>;
    try {
      await host.start();
      const api = host.api;
      const users = await api.users.users();
      expect(users.map((u) => u.userName)).to.include.members(['admin', 'sara.support', 'tom.support', 'lisa.sales', 'paul.former']);
      expect(users.find((u) => u.userName === 'admin')).to.include({ isAdmin: true, active: true });
      expect(users.find((u) => u.userName === 'paul.former')).to.include({ isAdmin: false, active: false });
      const roles = await api.users.roles();
      expect(roles.map((r) => r.name)).to.deep.equal(['Administrator', 'Support', 'Sales']);
      const support = (await api.users.groups()).find((g) => g.name === 'Support team')!;
      const ids = (...names: string[]) => names.map((name) => users.find((u) => u.userName === name)!.id);
      expect(support.memberIds).to.have.members(ids('sara.support', 'tom.support', 'paul.former'));
      expect(await api.users.group(support.id)).to.deep.equal(support);
      expect(await api.users.user(ids('paul.former')[0]!)).to.include({ active: false });

      const [blocked] = await api.conditionalRules.rules('Accounts');
      expect(blocked).to.deep.include({ module: 'Accounts', allReadOnly: true, roleIds: [], groupIds: [], conditions: [{ field: 'status', op: 'eq', value: 'Blocked' }] });
      const helpDesk = await api.conditionalRules.rules('HelpDesk');
      expect(helpDesk.find((r) => r.effects.some((e) => e.field === 'solution'))?.effects).to.deep.equal([{ field: 'solution', effect: 'readonly' }]);
      expect(helpDesk.find((r) => r.roleIds.length > 0)?.roleIds).to.deep.equal([roles.find((r) => r.name === 'Support')!.id]);

      expect(api.installation.origin()).to.deep.equal({ kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true });
      expect(api.installation.pluginSecret('business-portal')).to.have.length(32);
      expect(api.installation.pluginSecret('business-portal').equals(api.installation.pluginSecret('other'))).to.equal(false);
      expect(await api.licences.has('business-portal'), 'licences: [] holds none').to.equal(false);
      expect(api.regional.languages().map((l) => l.code)).to.deep.equal(['en', 'it']);
      expect(api.regional.defaultLanguage()).to.equal('en');
      expect(api.regional.timeZone()).to.equal('Europe/Rome');
      before = await counts(api.database.sequelize);
    } finally {
      await host.close();
    }

    // A restart with other options: nothing seeded twice, the remembered origin and licences kept.
    const again = await createReferenceHost(options({ adminPassword: 'Another-password-1' }));
    try {
      await again.start();
      expect(await counts(again.api.database.sequelize)).to.deep.equal(before);
      expect(again.api.installation.origin().kind).to.equal('upgraded');
      expect(await again.api.licences.has('business-portal')).to.equal(false);
      const [admin] = await again.api.database.sequelize.query<{ password_hash: string }>("SELECT password_hash FROM crm_users WHERE user_name = 'admin'", { type: QueryTypes.SELECT });
      expect(await verifyPassword(TEST_ADMIN_PASSWORD, admin!.password_hash), 'the first password stays').to.equal(true);
    } finally {
      await again.close();
    }
  });

  it('licenses the Business Portal and reports a fresh install by default; a generated admin password is shown once', async () => {
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
    const host = await createReferenceHost(options({ adminPassword: undefined }));
    try {
      await host.start();
    } finally {
      process.stdout.write = write;
    }
    try {
      expect(host.api.installation.origin()).to.deep.equal({ kind: 'fresh' });
      expect(await host.api.licences.has('business-portal')).to.equal(true);
      const password = /user "admin", password "([^"]+)"/.exec(written.join(''))?.[1];
      expect(password).to.be.a('string').with.length.greaterThan(15);
      const [admin] = await host.api.database.sequelize.query<{ password_hash: string }>("SELECT password_hash FROM crm_users WHERE user_name = 'admin'", { type: QueryTypes.SELECT });
      expect(admin!.password_hash).to.match(/^scrypt\$/).and.not.to.include(password!);
      expect(await verifyPassword(password!, admin!.password_hash)).to.equal(true);
      // Staff users have no usable password outside the demo.
      const [staff] = await host.api.database.sequelize.query<{ password_hash: string }>("SELECT password_hash FROM crm_users WHERE user_name = 'tom.support'", { type: QueryTypes.SELECT });
      expect(staff!.password_hash).to.equal('!');
    } finally {
      await host.close();
    }
  });

  it('migrates the core tables up, down and up again', async () => {
    const db = await openDatabase(database.url);
    try {
      const migrator = hostMigrator(db.sequelize, db.dialect);
      await migrator.up();
      expect(await tableNames(db.sequelize)).to.include.members(CORE_TABLES);
      await db.sequelize.getQueryInterface().bulkInsert('crm_roles', [{ name: 'Auditor', created_at: new Date() }]);
      await migrator.down({ to: 0 });
      expect((await tableNames(db.sequelize)).filter((t) => CORE_TABLES.includes(t))).to.deep.equal([]);
      await migrator.up();
      expect(await tableNames(db.sequelize)).to.include.members(CORE_TABLES);
      expect(await db.sequelize.query('SELECT name FROM crm_roles', { type: QueryTypes.SELECT })).to.deep.equal([]);
    } finally {
      await db.sequelize.close();
    }
  });
});

describe('reference host setup lock @db', () => {
  it('tells a start that waited too long for another process what to do, in one sentence', async function () {
    this.timeout(30_000);
    const database = await scratchDatabase();
    const db = await openDatabase(database.url);
    let release: () => void = () => undefined;
    try {
      const holding = withSetupLock(db.sequelize, () => new Promise<void>((resolve) => (release = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const refused = await rejection(withSetupLock(db.sequelize, async () => undefined, { waitMs: 300 }));
      expect(refused).to.be.instanceOf(SetupLockBusyError);
      expect((refused as Error).message).to.match(/^Another host process has been setting up this database for over 0\.3 s \(a row of crm_setup_lock\): let it finish and start again; if none is running, one that was killed left the row, which a start takes over once it is 60 s old$/);
      release();
      await holding;
    } finally {
      release();
      await db.sequelize.close();
      await database.drop();
    }
  });

  it('takes over a lock left by a start that was killed (no refresh for a minute), never a live one however long it runs', async function () {
    this.timeout(60_000);
    const database = await scratchDatabase();
    const first = await openDatabase(database.url);
    const second = await openDatabase(database.url);
    try {
      await withSetupLock(first.sequelize, async () => undefined);
      // A start killed with kill -9 leaves its row; it stops being refreshed.
      const leave = (ageMs: number) => second.sequelize.getQueryInterface().bulkInsert('crm_setup_lock', [{ id: 1, owner: 'killed-process', locked_at: new Date(Date.now() - ageMs) }]);
      await leave(30_000);
      expect(await rejection(withSetupLock(first.sequelize, async () => undefined, { waitMs: 300 })), 'a lock refreshed 30 s ago').to.be.instanceOf(SetupLockBusyError);
      await second.sequelize.query('DELETE FROM crm_setup_lock');
      await leave(62_000);
      const started = Date.now();
      let ran = false;
      await withSetupLock(first.sequelize, async () => void (ran = true), { waitMs: 5_000 });
      expect(ran).to.equal(true);
      expect(Date.now() - started, 'ms to take the stale lock over').to.be.below(3_000);

      // A live start refreshes its row: one that sets up for several stale times keeps the lock, and the next start waits for it.
      const staleAfterMs = first.dialect === 'mariadb' ? 2_500 : 600;
      const events: string[] = [];
      const holding = withSetupLock(
        first.sequelize,
        async () => {
          events.push('first in');
          await new Promise((resolve) => setTimeout(resolve, staleAfterMs * 4));
          events.push('first out');
        },
        { staleAfterMs },
      );
      while (!events.includes('first in')) await new Promise((resolve) => setTimeout(resolve, 10));
      await withSetupLock(second.sequelize, async () => void events.push('second in'), { staleAfterMs, waitMs: staleAfterMs * 10 });
      await holding;
      expect(events).to.deep.equal(['first in', 'first out', 'second in']);

      // A start whose lock was taken over meanwhile (it stalled past the stale time) fails, in one sentence, rather than going on as if alone.
      const overtaken = await rejection(
        withSetupLock(first.sequelize, async () => {
          await second.sequelize.query("UPDATE crm_setup_lock SET owner = 'other-process' WHERE id = 1");
          await new Promise((resolve) => setTimeout(resolve, staleAfterMs));
        }, { staleAfterMs }),
      );
      expect(overtaken).to.be.instanceOf(SetupLockLostError);
      expect(overtaken.message).to.match(/^This host process lost the setup lock of this database \(a row of crm_setup_lock\): .*; it stopped: start it again$/);
    } finally {
      await first.sequelize.close();
      await second.sequelize.close();
      await database.drop();
    }
  });
});

describe('reference host configuration', () => {
  it('reads the environment with its defaults, and keeps a generated secret in data/secret (0600)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-config-'));
    try {
      const config = readConfig({}, dir);
      expect(config).to.deep.include({ databaseUrl: 'sqlite:data/crm.sqlite', port: 3000, demo: true, logLevel: 'info' });
      expect(statSync(join(dir, 'secret')).mode & 0o777).to.equal(0o600);
      expect(loadOrCreateSecret(dir)).to.equal(config.sessionSecret);
      expect(readConfig({ DEMO: '0', PORT: '8080', TZ_CRM: 'Europe/London', SMTP_URL: 'smtp://mail:25' }, dir)).to.deep.include({ demo: false, port: 8080, timeZone: 'Europe/London', smtpUrl: 'smtp://mail:25' });
      expect(readConfig({ INSTALL_ORIGIN: 'upgraded:20.04', LICENCES: '' }, dir)).to.deep.include({
        installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true },
        licences: [],
      });
      expect(() => readConfig({ INSTALL_ORIGIN: 'sideways' }, dir)).to.throw(/INSTALL_ORIGIN/);
      expect(() => readConfig({ PORT: 'eighty' }, dir)).to.throw(/PORT/);
      expect(() => readConfig({ LOG_LEVEL: 'loud' }, dir)).to.throw(/LOG_LEVEL/);
      expect(() => readConfig({ BASE_URL: 'javascript:alert(1)' }, dir)).to.throw(/BASE_URL/);
      // Mistakes an operator easily makes are a ConfigError (one sentence, no stack trace) before anything starts.
      const refused = (env: NodeJS.ProcessEnv, message: RegExp) => expect(() => readConfig(env, dir)).to.throw(ConfigError, message);
      refused({ DATABASE_URL: 'data/crm.sqlite' }, /DATABASE_URL must start with sqlite:.*got "data\/crm\.sqlite"/);
      refused({ DATABASE_URL: 'mongodb://user:secret@db/crm' }, /got "mongodb:"/);
      expect(() => readConfig({ DATABASE_URL: 'mongodb://user:secret@db/crm' }, dir)).to.throw(ConfigError).that.satisfies((e: Error) => !e.message.includes('secret'));
      refused({ TZ_CRM: 'Mars/Base' }, /TZ_CRM/);
      refused({ PORTAL_PATH: '/Kunden' }, /PORTAL_PATH must be a local path of lower-case/);
      refused({ PORTAL_PATH: '/settings' }, /PORTAL_PATH must not take the CRM's own \/settings/);
      refused({ PORTAL_PATH: '/login/portal' }, /\/login/);
      refused({ PORTAL_PATH: '/tickets' }, /PORTAL_PATH must not take the CRM's own \/tickets/);
      refused({ LICENCES: 'business-portal;reports' }, /LICENCES/);
      expect(readConfig({ PORTAL_PATH: '/kunden/portal', LICENCES: ' business-portal , reports ', TZ_CRM: 'America/New_York', DATABASE_URL: 'postgres://u@h/db' }, dir)).to.deep.include({
        portalPath: '/kunden/portal',
        licences: ['business-portal', 'reports'],
        timeZone: 'America/New_York',
        databaseUrl: 'postgres://u@h/db',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps its files, the generated secret and the default SQLite database in DATA_DIR (absolute, or relative to the working directory), created if missing, readable only by its owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-config-'));
    try {
      const dataDir = join(dir, 'srv', 'crm-data');
      const config = readConfig({ DATA_DIR: dataDir }, join(dir, 'default'));
      expect(config).to.deep.include({ dataDir, databaseUrl: `sqlite:${join(dataDir, 'crm.sqlite')}` });
      expect(statSync(dataDir).mode & 0o777, 'the folder it created').to.equal(0o700);
      expect(statSync(join(dataDir, 'secret')).mode & 0o777).to.equal(0o600);
      expect(loadOrCreateSecret(dataDir)).to.equal(config.sessionSecret);
      expect(existsSync(join(dir, 'default')), 'the default folder').to.equal(false);
      // Relative to the working directory, as DATABASE_URL's sqlite: path is.
      expect(readConfig({ DATA_DIR: relative(process.cwd(), dataDir) }, join(dir, 'default'))).to.deep.include({ dataDir, sessionSecret: config.sessionSecret });
      // DATABASE_URL, when given, is where the database is; DATA_DIR keeps the files.
      expect(readConfig({ DATA_DIR: dataDir, DATABASE_URL: 'sqlite:crm.sqlite' }, join(dir, 'default'))).to.deep.include({ dataDir, databaseUrl: 'sqlite:crm.sqlite' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a DATA_DIR that is a file or cannot be written, in one sentence, before anything starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-config-'));
    try {
      const file = join(dir, 'notes.txt');
      writeFileSync(file, 'not a folder\n');
      const refused = (env: NodeJS.ProcessEnv, message: RegExp) => expect(() => readConfig({ SESSION_SECRET: 'x'.repeat(40), ...env }, join(dir, 'default')), JSON.stringify(env)).to.throw(ConfigError, message);
      refused({ DATA_DIR: file }, /^DATA_DIR must be a folder this user may write: ".*notes\.txt" is a file$/);
      refused({ DATA_DIR: join(file, 'data') }, /^DATA_DIR must be a folder this user may write: ".*notes\.txt\/data" could not be created \(ENOTDIR\)$/);
      // A folder this user may not write (root may write any folder with its permissions: /proc takes no file).
      refused({ DATA_DIR: '/proc' }, /^DATA_DIR must be a folder this user may write: "\/proc" cannot be written \(E[A-Z]+\)$/);
      // Also when a database server keeps the data and SESSION_SECRET is given: uploaded files go there.
      refused({ DATA_DIR: file, DATABASE_URL: 'postgres://u@h/db' }, /is a file/);
      expect(existsSync(join(dir, 'default')), 'the default folder').to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses, before anything starts, the URLs and paths an operator mistypes (never repeating a password)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-config-'));
    try {
      const refused = (env: NodeJS.ProcessEnv, message: RegExp) =>
        expect(() => readConfig(env, dir), JSON.stringify(env)).to.throw(ConfigError, message).that.satisfies((e: Error) => !/secret|hunter2/.test(e.message));
      // A server URL that is no URL (a port with a letter in it) failed in the driver with a stack trace.
      refused({ DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:54x32/crm' }, /^DATABASE_URL is not a valid postgres:\/\/ URL/);
      refused({ DATABASE_URL: 'mariadb://root:hunter2@' }, /^DATABASE_URL is not a valid mariadb:\/\/ URL/);
      // Without a database name MariaDB connected to none, and the first migration failed with a stack trace.
      refused({ DATABASE_URL: 'mariadb://root:hunter2@127.0.0.1:3306' }, /^DATABASE_URL must name the database.*mariadb:\/\/user@host:3306\/crm/);
      refused({ DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:5432/' }, /^DATABASE_URL must name the database/);
      refused({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/crm/extra' }, /^DATABASE_URL must name the database/);
      // An SMTP URL the mailer cannot read started the host, and every mail failed later.
      refused({ SMTP_URL: 'smtp://user:hunter2@mail.example.com:25x25' }, /^SMTP_URL is not a valid URL.*smtp:\/\/user:pass@mail\.example\.com:587/);
      refused({ SMTP_URL: 'smtp://' }, /^SMTP_URL is not a valid URL/);
      refused({ SMTP_URL: 'smpt://mail.example.com' }, /^SMTP_URL must start with smtp:\/\/ or smtps:\/\/ \(got "smpt:"\)/);
      // The host serves at the root of its address: links in mails under a path led nowhere.
      refused({ BASE_URL: 'https://crm.example.com/crm' }, /^BASE_URL must be an address without a path.*such as https:\/\/crm\.example\.com \(got "https:\/\/crm\.example\.com\/crm"\)/);
      refused({ BASE_URL: 'https://crm.example.com/?x=1' }, /^BASE_URL must be an address without a path/);
      refused({ BASE_URL: 'https://user:secret@crm.example.com' }, /^BASE_URL must be an address without a path/);
      // A trailing slash made the portal's links /portal//login.
      refused({ PORTAL_PATH: '/portal/' }, /^PORTAL_PATH must not end with "\/" \(got "\/portal\/"\); write \/portal$/);
      refused({ PORTAL_PATH: '/kunden//portal' }, /^PORTAL_PATH must be a local path/);
      // A typo in DEMO switched the demo on (known admin and customer passwords) on a CRM meant to run without it.
      refused({ DEMO: 'flase' }, /^DEMO must be 1 or 0 \(also true\/false, yes\/no, on\/off\) \(got "flase"\)$/);
      expect(readConfig({ DEMO: 'OFF' }, dir).demo).to.equal(false);
      expect(readConfig({ DEMO: 'yes' }, dir).demo).to.equal(true);
      // What is fine stays fine: a trailing slash on BASE_URL, a port on it, a postgresql:// or mysql:// URL.
      expect(readConfig({ BASE_URL: 'https://crm.example.com:8443/', SMTP_URL: 'smtps://u:p@mail.example.com:465?connectionTimeout=30000', DATABASE_URL: 'postgresql://u:p@db.example.com/crm' }, dir)).to.deep.include({
        baseUrl: 'https://crm.example.com:8443',
        smtpUrl: 'smtps://u:p@mail.example.com:465?connectionTimeout=30000',
        databaseUrl: 'postgresql://u:p@db.example.com/crm',
      });
      expect(readConfig({ DATABASE_URL: 'mysql://root@127.0.0.1/crm' }, dir).databaseUrl).to.equal('mysql://root@127.0.0.1/crm');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reference host SQLite connections', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bp-sqlite-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('configures every connection, a transaction\'s own included: write-ahead log, a 10 s lock wait, foreign keys', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'crm.sqlite')}`);
    try {
      const read = async (pragma: string, transaction?: Transaction) =>
        Object.values((await sequelize.query<Record<string, unknown>>(`PRAGMA ${pragma}`, { type: QueryTypes.SELECT, transaction }))[0]!)[0];
      const expected = { journal_mode: 'wal', busy_timeout: 10000, synchronous: 1, foreign_keys: 1 };
      const plain = { journal_mode: await read('journal_mode'), busy_timeout: await read('busy_timeout'), synchronous: await read('synchronous'), foreign_keys: await read('foreign_keys') };
      expect(plain).to.deep.equal(expected);
      await sequelize.transaction(async (transaction) => {
        const inside = { journal_mode: await read('journal_mode', transaction), busy_timeout: await read('busy_timeout', transaction), synchronous: await read('synchronous', transaction), foreign_keys: await read('foreign_keys', transaction) };
        expect(inside).to.deep.equal(expected);
      });
    } finally {
      await sequelize.close();
    }
  });

  it('switches a new file to the write-ahead log while another process is writing its first transaction', async () => {
    const file = join(dir, 'new.sqlite');
    // Another process writes the brand-new file (still in rollback-journal mode) and holds its write lock.
    const other = new sqlite3.Database(file);
    const exec = (sql: string) => new Promise<void>((ok, fail) => other.exec(sql, (error) => (error ? fail(error) : ok())));
    try {
      await exec(`PRAGMA busy_timeout = ${SQLITE_LOCK_WAIT_MS}; BEGIN IMMEDIATE; CREATE TABLE first_notes (id INTEGER PRIMARY KEY)`);
      // SQLite answered SQLITE_BUSY at once here, without waiting (busy_timeout) for the lock.
      const opening = openDatabase(`sqlite:${file}`);
      opening.catch(() => undefined); // awaited below, after the other process commits
      await new Promise((resolve) => setTimeout(resolve, 300));
      await exec('COMMIT');
      const { sequelize } = await opening;
      try {
        const [mode] = await sequelize.query<{ journal_mode: string }>('PRAGMA journal_mode', { type: QueryTypes.SELECT });
        expect(mode!.journal_mode).to.equal('wal');
        expect(await sequelize.query('SELECT id FROM first_notes', { type: QueryTypes.SELECT })).to.deep.equal([]);
      } finally {
        await sequelize.close();
      }
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('runs a raw SELECT as one statement, and still converts the columns of model instances', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'types.sqlite')}`);
    try {
      const Note = sequelize.define('Note', { written: DataTypes.DATE, done: DataTypes.BOOLEAN }, { tableName: 'typed_notes', timestamps: false });
      await Note.sync();
      await Note.create({ written: new Date('2026-12-03T08:00:00Z'), done: true });
      // Quiet, statements run on the first connection: note what Sequelize asks it to run.
      const manager = (sequelize as unknown as { connectionManager: { getConnection(o: object): Promise<TracedConnection>; releaseConnection(c: TracedConnection): void } }).connectionManager;
      const connection = await manager.getConnection({});
      manager.releaseConnection(connection);
      const executed: string[] = [];
      const all = connection.all.bind(connection);
      connection.all = (sql: string, ...rest: unknown[]) => {
        executed.push(sql);
        return all(sql, ...rest);
      };

      const rows = await sequelize.query<{ done: number }>('SELECT done FROM `typed_notes`', { type: QueryTypes.SELECT });
      expect(rows).to.deep.equal([{ done: 1 }]);
      expect(executed).to.deep.equal(['SELECT done FROM `typed_notes`']);

      executed.length = 0;
      const [note] = await Note.findAll();
      expect(note!.get('written')).to.be.an.instanceOf(Date);
      expect((note!.get('written') as Date).toISOString()).to.equal('2026-12-03T08:00:00.000Z');
      expect(note!.get('done')).to.equal(true);
      expect(executed.some((sql) => /^PRAGMA table_info/i.test(sql)), executed.join('\n')).to.equal(true);
    } finally {
      await sequelize.close();
    }
  });

  it('formats no stack for a statement that succeeded; a failed one keeps the caller\'s stack, and the formatter is put back', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'stacks.sqlite')}`);
    const errors = Error as { prepareStackTrace?: (error: Error, frames: NodeJS.CallSite[]) => unknown };
    const before = errors.prepareStackTrace;
    let formatted = 0;
    // Stands for the formatter tsx installs (source maps): counts the stacks it is asked for.
    const counting = (error: Error, frames: NodeJS.CallSite[]): unknown => {
      formatted += 1;
      return before ? before(error, frames) : `${String(error)}${frames.map((frame) => `\n    at ${String(frame)}`).join('')}`;
    };
    errors.prepareStackTrace = counting;
    try {
      await sequelize.query('CREATE TABLE stacked (id INTEGER PRIMARY KEY, name TEXT)');
      await sequelize.query("INSERT INTO stacked (name) VALUES ('a')");
      await sequelize.query('SELECT name FROM stacked', { type: QueryTypes.SELECT });
      await sequelize.transaction(async (transaction) => {
        await sequelize.query("UPDATE stacked SET name = 'b'", { transaction });
      });
      expect(formatted, 'stacks formatted for statements that succeeded').to.equal(0);
      expect(errors.prepareStackTrace).to.equal(counting);

      const error = await rejection(sequelize.query('SELECT id FROM nowhere'));
      expect(formatted, 'the failed statement\'s stack').to.be.greaterThan(0);
      expect((error as Error).message).to.match(/no such table: nowhere/);
      expect(String((error as Error).stack)).to.match(/base-data\.test\.ts:\d+/);
      expect(errors.prepareStackTrace).to.equal(counting);
    } finally {
      errors.prepareStackTrace = before;
      await sequelize.close();
    }
  });

  it('prepares a read once per connection and runs it again from there; a read that fails is not kept', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'prepared.sqlite')}`);
    const watch = watchStatements();
    try {
      await sequelize.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
      await sequelize.query("INSERT INTO notes (body) VALUES ('first'), ('second')");
      const byId = 'SELECT body FROM notes WHERE id = $id';
      const read = (id: number) => sequelize.query<{ body: string }>(byId, { type: QueryTypes.SELECT, bind: { id } });
      // Quiet, one after the other: all on the first connection, each with its own values.
      expect(await read(1)).to.deep.equal([{ body: 'first' }]);
      expect(await read(2)).to.deep.equal([{ body: 'second' }]);
      expect(await read(3)).to.deep.equal([]);
      const [kept, ...again] = watch.of(byId);
      expect(again).to.have.length(2);
      expect(again.every((statement) => statement === kept)).to.equal(true);
      expect(watch.finalized.has(kept!)).to.equal(false);

      // A read SQLite cannot prepare: the same clear error every time, nothing kept, the connection unharmed.
      const broken = 'SELECT nope FROM notes';
      for (let attempt = 0; attempt < 2; attempt++) {
        expect((await rejection(sequelize.query(broken, { type: QueryTypes.SELECT }))).message).to.match(/no such column: nope/);
      }
      // A transaction's statements may run at once on its connection: each run is answered, a failed prepare's too.
      await sequelize.transaction(async (transaction) => {
        const twice = await Promise.all([broken, broken, byId, byId].map((sql, i) => sequelize.query(sql, { type: QueryTypes.SELECT, bind: { id: i - 1 }, transaction }).then(() => 'read', (error: Error) => error.message)));
        expect(twice).to.have.length(4);
        expect(twice.slice(0, 2)).to.satisfy((messages: string[]) => messages.every((m) => /no such column: nope/.test(m)));
        expect(twice.slice(2)).to.deep.equal(['read', 'read']);
      });
      // A read that fails while it runs (malformed JSON): dropped, and the next run prepares afresh.
      const parse = 'SELECT json($doc) AS doc';
      expect((await rejection(sequelize.query(parse, { type: QueryTypes.SELECT, bind: { doc: '{' } }))).message).to.match(/malformed JSON/);
      expect(await sequelize.query(parse, { type: QueryTypes.SELECT, bind: { doc: '{ }' } })).to.deep.equal([{ doc: '{}' }]);
      const [failed, fresh] = watch.of(parse);
      expect(fresh).to.not.equal(failed);
      expect(watch.finalized.has(failed!)).to.equal(true);
      expect(await read(2)).to.deep.equal([{ body: 'second' }]);
    } finally {
      watch.stop();
      await sequelize.close();
    }
  });

  it('keeps at most a bounded number of reads per connection, and closes after finalizing them all', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'bounded.sqlite')}`);
    const watch = watchStatements();
    try {
      const sql = (n: number) => `SELECT ${n} AS n`;
      for (let n = 0; n < SQLITE_PREPARED_READS + 5; n++) {
        expect(await sequelize.query(sql(n), { type: QueryTypes.SELECT })).to.deep.equal([{ n }]);
      }
      // The least recently used went first; the first read, run again, is prepared anew.
      const oldest = watch.of(sql(0))[0]!;
      const newest = watch.of(sql(SQLITE_PREPARED_READS + 4))[0]!;
      expect(watch.finalized.has(oldest)).to.equal(true);
      expect(watch.finalized.has(newest)).to.equal(false);
      const ran = Array.from({ length: SQLITE_PREPARED_READS + 5 }, (_, n) => watch.of(sql(n))[0]!);
      expect(ran.filter((statement) => watch.finalized.has(statement))).to.deep.equal(ran.slice(0, 5));
      await sequelize.query(sql(0), { type: QueryTypes.SELECT });
      expect(watch.of(sql(0))[1]).to.not.equal(oldest);
    } finally {
      await sequelize.close();
      watch.stop();
    }
    // SQLite refuses to close a connection with statements left open: close() finalized them first.
    expect(watch.runs.every((run) => watch.finalized.has(run.statement))).to.equal(true);
  });

  it('a kept read holds nothing: a write elsewhere is seen, the write-ahead log empties, the table can change or go', async () => {
    const file = join(dir, 'held.sqlite');
    const { sequelize } = await openDatabase(`sqlite:${file}`);
    // Another host process on the same file.
    const other = await openDatabase(`sqlite:${file}`);
    try {
      await sequelize.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
      await sequelize.query("INSERT INTO notes (body) VALUES ('first')");
      const count = 'SELECT COUNT(*) AS n FROM notes';
      const everywhere = async () =>
        (await Promise.all(Array.from({ length: 8 }, () => sequelize.query<{ n: number }>(count, { type: QueryTypes.SELECT })))).map((rows) => Number(rows[0]!.n));
      expect(await everywhere()).to.deep.equal(Array(8).fill(1));
      await other.sequelize.query("INSERT INTO notes (body) VALUES ('second')");
      expect(await everywhere()).to.deep.equal(Array(8).fill(2));

      // No connection holds a read: a full checkpoint empties the log.
      const [checkpoint] = await other.sequelize.query<{ busy: number }>('PRAGMA wal_checkpoint(TRUNCATE)', { type: QueryTypes.SELECT });
      expect(checkpoint!.busy).to.equal(0);
      expect(statSync(`${file}-wal`).size).to.equal(0);

      // A kept `SELECT *` follows a new column; a dropped table is a clear error, not a stale answer.
      const everything = 'SELECT * FROM notes ORDER BY id';
      expect(await sequelize.query(everything, { type: QueryTypes.SELECT })).to.deep.equal([{ id: 1, body: 'first' }, { id: 2, body: 'second' }]);
      await other.sequelize.query('ALTER TABLE notes ADD COLUMN tag TEXT');
      expect(await sequelize.query(everything, { type: QueryTypes.SELECT })).to.deep.equal([{ id: 1, body: 'first', tag: null }, { id: 2, body: 'second', tag: null }]);
      await sequelize.query('DROP TABLE notes');
      expect((await rejection(sequelize.query(everything, { type: QueryTypes.SELECT }))).message).to.match(/no such table: notes/);
    } finally {
      await other.sequelize.close();
      await sequelize.close();
    }
  });

  it('lets writers wait for their turn without holding a thread: the process goes on, and all write in arrival order', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'turns.sqlite')}`);
    try {
      await sequelize.query('CREATE TABLE turns (id INTEGER PRIMARY KEY, who TEXT)');
      const started = Date.now();
      // A transaction holds the write lock while eight single writes and six transactions arrive.
      const holder = await sequelize.transaction();
      await sequelize.query("INSERT INTO turns (who) VALUES ('holder')", { transaction: holder });
      const writes = [
        ...Array.from({ length: 8 }, (_, i) => sequelize.query(`INSERT INTO turns (who) VALUES ('single ${i}')`)),
        ...Array.from({ length: 6 }, (_, i) =>
          sequelize.transaction(async (transaction) => {
            await sequelize.query(`INSERT INTO turns (who) VALUES ('transaction ${i}')`, { transaction });
            await sequelize.query(`UPDATE turns SET who = who || ' done' WHERE who = 'transaction ${i}'`, { transaction });
          }),
        ),
      ];
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Waiting in SQLite's busy handler, four writers took libuv's four threads: no file read, no
      // statement, not even the holder's COMMIT ran until their 10 s wait ran out.
      expect(await readFile(join(dir, 'turns.sqlite'))).to.be.instanceOf(Buffer);
      const [seen] = await sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM turns', { type: QueryTypes.SELECT });
      expect(Number(seen!.n), 'a read does not wait for the writers').to.equal(0);
      await holder.commit();
      await Promise.all(writes);
      expect(Date.now() - started, 'nobody waited for the lock wait to run out').to.be.below(SQLITE_LOCK_WAIT_MS / 2);
      const rows = await sequelize.query<{ who: string }>('SELECT who FROM turns ORDER BY id', { type: QueryTypes.SELECT });
      expect(rows.map((r) => r.who)).to.deep.equal([
        'holder',
        ...Array.from({ length: 8 }, (_, i) => `single ${i}`),
        ...Array.from({ length: 6 }, (_, i) => `transaction ${i} done`),
      ]);
    } finally {
      await sequelize.close();
    }
  });

  it('runs a write in its turn on the writer\'s own connection: it does not wait behind long reads for one', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'writer.sqlite')}`);
    try {
      await sequelize.query('CREATE TABLE marks (id INTEGER PRIMARY KEY)');
      const finished: string[] = [];
      // Long reads on every statement connection, then a write.
      const reads = Array.from({ length: 4 }, () =>
        sequelize
          .query('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) SELECT COUNT(*) AS c FROM n', { type: QueryTypes.SELECT })
          .then(() => finished.push('read')),
      );
      const write = sequelize.query('INSERT INTO marks (id) VALUES (1)').then(() => finished.push('write'));
      await Promise.all([...reads, write]);
      expect(finished[0]).to.equal('write');
    } finally {
      await sequelize.close();
    }
  });

  it('gives the writer\'s turn first come first served, and fails a wait that outlasts the lock wait as SQLite would', async () => {
    const turns = new SqliteWriterTurns(100);
    const order: string[] = [];
    const first = await turns.take();
    const second = turns.take().then((giveBack) => (order.push('second'), giveBack));
    const third = turns.take().then((giveBack) => (order.push('third'), giveBack));
    first();
    first(); // giving a turn back twice gives away nobody else's
    const secondBack = await second;
    expect(order).to.deep.equal(['second']);
    secondBack();
    const thirdBack = await third;
    expect(order).to.deep.equal(['second', 'third']);
    const late = await rejection(turns.take().then(() => undefined));
    expect(late.message).to.equal('SQLITE_BUSY: database is locked');
    expect((late as Error & { code?: string }).code).to.equal('SQLITE_BUSY');
    thirdBack();
    (await turns.take())(); // free again, at once
  });

  it('rolls back a transaction whose COMMIT fails and gives its turn back: the next write does not wait', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'refused.sqlite')}`);
    try {
      await sequelize.query('CREATE TABLE parents (id INTEGER PRIMARY KEY)');
      await sequelize.query('CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)');
      // The foreign key is checked at COMMIT, which SQLite refuses, leaving the transaction open on its connection.
      const refused = await rejection(
        sequelize.transaction(async (transaction) => {
          await sequelize.query('INSERT INTO parents (id) VALUES (1)', { transaction });
          await sequelize.query('INSERT INTO children (parent_id) VALUES (999)', { transaction });
        }),
      );
      expect(refused.message).to.include('FOREIGN KEY constraint failed');
      const started = Date.now();
      await sequelize.query('INSERT INTO parents (id) VALUES (2)');
      await sequelize.transaction(async (transaction) => sequelize.query('INSERT INTO parents (id) VALUES (3)', { transaction }));
      expect(Date.now() - started, 'nobody waited for the lock wait to run out').to.be.below(SQLITE_LOCK_WAIT_MS / 2);
      const rows = await sequelize.query<{ id: number }>('SELECT id FROM parents ORDER BY id', { type: QueryTypes.SELECT });
      expect(rows.map((r) => Number(r.id)), 'the refused transaction left nothing').to.deep.equal([2, 3]);
      expect(await sequelize.query('SELECT id FROM children', { type: QueryTypes.SELECT })).to.deep.equal([]);
    } finally {
      await sequelize.close();
    }
  });

  it('answers a quick statement while a long one runs, and every connection sees what was committed', async () => {
    const { sequelize } = await openDatabase(`sqlite:${join(dir, 'crm.sqlite')}`);
    try {
      await sequelize.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
      const finished: string[] = [];
      // A read that takes a while (a few hundred milliseconds), and a one-row read started after it.
      const long = sequelize
        .query('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT COUNT(*) AS c FROM n', { type: QueryTypes.SELECT })
        .then(() => finished.push('long'));
      const quick = sequelize.query('SELECT 1 AS one', { type: QueryTypes.SELECT }).then(() => finished.push('quick'));
      // A write while the long read runs, then reads on every connection at once.
      await sequelize.query("INSERT INTO notes (body) VALUES ('written')");
      const reads = await Promise.all(Array.from({ length: 8 }, () => sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM notes', { type: QueryTypes.SELECT })));
      await Promise.all([long, quick]);
      expect(finished).to.deep.equal(['quick', 'long']);
      expect(reads.map((rows) => Number(rows[0]!.n))).to.deep.equal(Array(8).fill(1));
    } finally {
      await sequelize.close();
    }
  });
});
