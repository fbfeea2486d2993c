import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { openDatabase, type OpenedDatabase } from '../../host/database.js';
import { BAN_CLIENT_AFTER_FAILURES, LOCK_AFTER_FAILURES, RESERVATIONS_STALE_AFTER_MS, type GuardedAccount } from '../../plugin/auth/lockout.js';
import { PortalAccountNotFoundError, StalePortalAccountError } from '../../plugin/auth/portal-account-store.js';
import { addYears, todayIn } from '../../plugin/auth/support-period.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { PluginMigrator } from '../../plugin/lifecycle/plugin-migrator.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';
import { PASSWORD, startAuthTestHost, type AuthTestHost } from './auth-test-host.js';

const AUTH_TABLES = ['bp_client_failures', 'bp_login_history', 'bp_portal_accounts', 'bp_sessions'];
const quietLogger: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function tables(sequelize: Sequelize): Promise<string[]> {
  const names = (await sequelize.getQueryInterface().showAllTables()) as unknown[];
  return names.map((n) => (typeof n === 'string' ? n : (n as { tableName: string }).tableName)).filter((n) => AUTH_TABLES.includes(n)).sort();
}

describe('auth: accounts migration @db', function () {
  this.timeout(60_000);
  let scratch: ScratchDatabase;
  let db: OpenedDatabase;

  before(async () => {
    scratch = await scratchDatabase();
    db = await openDatabase(scratch.url);
  });
  after(async () => {
    await db?.sequelize.close();
    await scratch?.drop();
  });

  it('goes up, holds data, goes down completely, and up again; its DDL is safe to re-run', async () => {
    const migrator = new PluginMigrator(db.sequelize, db.dialect, `${defaultRootDir}migrations`, quietLogger);
    await migrator.up();
    expect(await tables(db.sequelize)).to.deep.equal(AUTH_TABLES);

    const migration = await import('../../migrations/20261122000100-portal-accounts-and-sessions.js');
    const context = { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect };
    await migration.up({ context });

    const now = new Date();
    await db.sequelize.query(
      `INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, support_start_date, support_end_date, failed_attempts, created_at, updated_at, version)
       VALUES (1, 'a@example.com', :yes, '2026-01-01', '2026-12-31', 0, :now, :now, 1)`,
      { replacements: { yes: true, now } },
    );
    let duplicate: unknown = null;
    try {
      await db.sequelize.query(
        `INSERT INTO bp_portal_accounts (contact_id, email, created_at, updated_at) VALUES (1, 'b@example.com', :now, :now)`,
        { replacements: { now } },
      );
    } catch (error) {
      duplicate = error;
    }
    expect(duplicate, 'contact_id is unique').to.be.instanceOf(Error);
    await db.sequelize.query(
      `INSERT INTO bp_sessions (id, contact_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, remember) VALUES (:id, 1, :now, :now, :now, :now, :no)`,
      { replacements: { id: 'f'.repeat(64), now, no: false } },
    );
    await db.sequelize.query(`INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (NULL, 'x@example.com', 'failed', 'unknown_email', '::1', :now)`, {
      replacements: { now },
    });
    const [dates] = await db.sequelize.query<{ support_end_date: unknown }>('SELECT support_end_date FROM bp_portal_accounts', { type: QueryTypes.SELECT });
    expect(String(dates!.support_end_date).slice(0, 10)).to.equal('2026-12-31');

    await migration.down({ context });
    expect(await tables(db.sequelize)).to.deep.equal([]);
    await migration.down({ context });
    await migration.up({ context });
    expect(await tables(db.sequelize)).to.deep.equal(AUTH_TABLES);
    await migrator.downAll();
    expect(await tables(db.sequelize)).to.deep.equal([]);
  });
});

describe('auth: accounts, demo users and lockout @db', function () {
  this.timeout(60_000);
  let host: AuthTestHost;

  before(async () => {
    host = await startAuthTestHost();
  });
  after(async () => host?.stop());

  describe('portal account store', () => {
    it('creates, finds by lower-cased email, updates with optimistic locking, sets passwords and deletes', async () => {
      const { accounts } = host.services;
      const contactId = host.addContact({ firstname: 'Store', lastname: 'Test', email: 'x@example.com', language: 'en' });
      const created = await accounts.create({ contactId, email: '  Store.Test@Example.COM ', supportStartDate: '2026-01-01' });
      expect(created).to.include({ contactId, email: 'store.test@example.com', portalEnabled: false, hasPassword: false, mustChangePassword: true, failedAttempts: 0, version: 1 });
      expect(created.supportStartDate).to.equal('2026-01-01');
      expect(created).not.to.have.property('passwordHash');
      expect((await accounts.findByEmail('STORE.test@example.com')).map((a) => a.contactId)).to.deep.equal([contactId]);

      const updated = await accounts.update(contactId, { portalEnabled: true, language: 'it' }, { expectedVersion: 1 });
      expect(updated).to.include({ portalEnabled: true, language: 'it', version: 2 });
      let stale: unknown = null;
      try {
        await accounts.update(contactId, { language: 'en' }, { expectedVersion: 1 });
      } catch (error) {
        stale = error;
      }
      expect(stale).to.be.instanceOf(StalePortalAccountError);
      expect((await accounts.findByContactId(contactId))!.language).to.equal('it');

      await accounts.setPassword(contactId, await host.services.hasher.hash('a-new-password'), { mustChange: false });
      const withPassword = (await accounts.findByContactId(contactId))!;
      expect(withPassword).to.include({ hasPassword: true, mustChangePassword: false });
      expect(withPassword.passwordChangedAt).to.be.a('string');
      expect(await host.services.hasher.verify('a-new-password', (await accounts.passwordHash(contactId))!)).to.equal(true);

      expect(await accounts.delete(contactId)).to.equal(true);
      expect(await accounts.delete(contactId)).to.equal(false);
      let missing: unknown = null;
      try {
        await accounts.update(contactId, { language: 'en' });
      } catch (error) {
        missing = error;
      }
      expect(missing).to.be.instanceOf(PortalAccountNotFoundError);
    });
  });

  describe('demo portal users', () => {
    it('makes contacts portal users on the Default profile, from today for a year, no change required; a rerun changes nothing', async () => {
      const contactId = await host.addPortalUser({ firstname: 'Demo', lastname: 'User', email: 'Demo.User@example.com', language: 'it' });
      const first = (await host.services.accounts.findByContactId(contactId))!;
      const today = todayIn('Europe/Rome');
      expect(first).to.include({ email: 'demo.user@example.com', portalEnabled: true, mustChangePassword: false, language: 'it', supportStartDate: today, supportEndDate: addYears(today, 1) });
      const [profile] = await host.sql<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes', { yes: true });
      expect(first.profileId).to.equal(Number(profile!.id));
      const hash = await host.services.accounts.passwordHash(contactId);
      expect(await host.services.hasher.verify(PASSWORD, hash!)).to.equal(true);

      await host.services.demo.seed([{ contactId, password: PASSWORD }]);
      const again = (await host.services.accounts.findByContactId(contactId))!;
      expect(again.version).to.equal(first.version);
      expect(await host.services.accounts.passwordHash(contactId)).to.equal(hash);

      // A rerun repairs what was changed since.
      await host.services.accounts.update(contactId, { portalEnabled: false, mustChangePassword: true });
      await host.services.demo.seed([{ contactId, password: 'Another-demo-2' }]);
      const repaired = (await host.services.accounts.findByContactId(contactId))!;
      expect(repaired).to.include({ portalEnabled: true, mustChangePassword: false });
      expect(await host.services.hasher.verify('Another-demo-2', (await host.services.accounts.passwordHash(contactId))!)).to.equal(true);
    });
  });

  describe('lockout', () => {
    async function account(email: string): Promise<GuardedAccount> {
      const contactId = await host.addPortalUser({ firstname: 'L', lastname: 'Ock', email, language: 'en' });
      return (await host.services.accounts.findByContactId(contactId))!;
    }
    async function state(contactId: number): Promise<{ failed: number; locked: boolean }> {
      const [row] = await host.sql<{ failed_attempts: unknown; locked_at: unknown }>(
        'SELECT failed_attempts, locked_at FROM bp_portal_accounts WHERE contact_id = :contactId',
        { contactId },
      );
      return { failed: Number(row!.failed_attempts), locked: row!.locked_at !== null };
    }
    const wrong = async () => false;
    const right = async () => true;

    it('reads the conditional UPDATE\'s affected rows right: exactly 5 reservations pass, the 6th is refused without a check', async () => {
      const victim = await account('count@example.com');
      const checks: number[] = [];
      const outcomes = [];
      for (let i = 0; i < LOCK_AFTER_FAILURES + 2; i++) {
        outcomes.push(await host.services.lockout.guard(victim, '10.0.0.1', async () => (checks.push(i), false)));
      }
      expect(checks).to.deep.equal([0, 1, 2, 3, 4]);
      expect(outcomes.map((o) => o.kind)).to.deep.equal(['failed', 'failed', 'failed', 'failed', 'failed', 'refused', 'refused']);
      expect(outcomes[4]).to.deep.equal({ kind: 'failed', locked: true });
      expect(outcomes[5]).to.deep.equal({ kind: 'refused', reason: 'locked' });
      expect(await state(victim.contactId)).to.deep.equal({ failed: LOCK_AFTER_FAILURES, locked: true });
      const [account_] = await host.sql<{ last_failed_ip: string }>('SELECT last_failed_ip FROM bp_portal_accounts WHERE contact_id = :c', { c: victim.contactId });
      expect(account_!.last_failed_ip).to.equal('10.0.0.1');
    });

    it('a success running beside failures never clears a lock set meanwhile', async () => {
      const victim = await account('beside@example.com');
      // The right password is being checked while four wrong ones finish and lock the account.
      const outcome = await host.services.lockout.guard(victim, '10.0.0.2', async () => {
        const others = await Promise.all(Array.from({ length: 4 }, () => host.services.lockout.guard(victim, '10.0.0.3', wrong)));
        expect(others.filter((o) => o.kind === 'failed' && o.locked)).to.have.length(1);
        return true;
      });
      expect(outcome).to.deep.equal({ kind: 'refused', reason: 'locked' });
      expect(await state(victim.contactId)).to.deep.equal({ failed: LOCK_AFTER_FAILURES, locked: true });
    });

    it('reservations in flight refuse further attempts without locking', async () => {
      const victim = await account('inflight@example.com');
      let release!: () => void;
      const gate = new Promise<void>((ok) => (release = ok));
      const slow = Array.from({ length: LOCK_AFTER_FAILURES }, () => host.services.lockout.guard(victim, '10.0.0.4', async () => (await gate, true)));
      await new Promise((ok) => setTimeout(ok, 200));
      expect(await host.services.lockout.guard(victim, '10.0.0.4', right)).to.deep.equal({ kind: 'refused', reason: 'attempts_in_flight' });
      release();
      expect((await Promise.all(slow)).map((o) => o.kind)).to.deep.equal(Array(LOCK_AFTER_FAILURES).fill('passed'));
      expect(await state(victim.contactId)).to.deep.equal({ failed: 0, locked: false });
    });

    it('a check that throws counts as a failure all the way: the fifth locks, and an admin can unlock', async () => {
      const victim = await account('throws@example.com');
      const broken = async (): Promise<boolean> => {
        throw new Error('the hash worker stopped');
      };
      for (let i = 0; i < LOCK_AFTER_FAILURES; i++) {
        let thrown: unknown = null;
        await host.services.lockout.guard(victim, '10.0.0.7', broken).catch((error: unknown) => (thrown = error));
        expect(thrown).to.be.an('error');
      }
      // Counted but never locked, the account refused every attempt as "in flight" for good: no
      // lock email, nothing an admin could unlock, the right password never checked again.
      expect(await state(victim.contactId)).to.deep.equal({ failed: LOCK_AFTER_FAILURES, locked: true });
      expect(await host.services.lockout.guard(victim, '10.0.0.7', right)).to.deep.equal({ kind: 'refused', reason: 'locked' });
      expect(await host.services.lockout.unlock(victim.contactId, 42)).to.equal(true);
      expect(await host.services.lockout.guard(victim, '10.0.0.7', right)).to.deep.equal({ kind: 'passed' });
    });

    it('attempts a process reserved and never settled (it died) become a lock once stale, which an admin can lift', async () => {
      const victim = await account('died@example.com');
      // Five checks that never end: the process running them was killed mid-check.
      const hung = (): Promise<boolean> => new Promise<boolean>(() => {});
      for (let i = 0; i < LOCK_AFTER_FAILURES; i++) void host.services.lockout.guard(victim, '10.0.0.8', hung);
      for (let i = 0; i < 100 && (await state(victim.contactId)).failed < LOCK_AFTER_FAILURES; i++) await new Promise((ok) => setTimeout(ok, 20));
      // While they may still be running, a sixth attempt waits its turn, as before.
      expect(await host.services.lockout.guard(victim, '10.0.0.8', right)).to.deep.equal({ kind: 'refused', reason: 'attempts_in_flight' });
      expect(await state(victim.contactId)).to.deep.equal({ failed: LOCK_AFTER_FAILURES, locked: false });

      // Long after, nothing settled them. Before, the account refused every attempt as in flight for
      // good: not locked, so not on the locked list, no lock email, nothing an admin could unlock.
      await host.exec('UPDATE bp_portal_accounts SET reserved_at = :then WHERE contact_id = :contactId', {
        then: new Date(Date.now() - RESERVATIONS_STALE_AFTER_MS - 1_000),
        contactId: victim.contactId,
      });
      expect(await host.services.lockout.guard(victim, '10.0.0.8', right)).to.deep.equal({ kind: 'refused', reason: 'locked' });
      expect(await state(victim.contactId)).to.deep.equal({ failed: LOCK_AFTER_FAILURES, locked: true });
      const history = await host.sql<{ event: string; reason: string }>("SELECT event, reason FROM bp_login_history WHERE contact_id = :contactId AND event = 'locked'", {
        contactId: victim.contactId,
      });
      expect(history, 'the lock is recorded once').to.deep.equal([{ event: 'locked', reason: 'too_many_failures' }]);
      expect(await host.services.lockout.unlock(victim.contactId, 42)).to.equal(true);
      expect(await host.services.lockout.guard(victim, '10.0.0.8', right)).to.deep.equal({ kind: 'passed' });
    });

    it('a password before a second factor gives back only its own attempt', async () => {
      const victim = await account('twostep@example.com');
      await host.services.lockout.guard(victim, '10.0.0.5', wrong);
      await host.services.lockout.guard(victim, '10.0.0.5', wrong);
      expect(await host.services.lockout.guard(victim, '10.0.0.5', right, { completesLogin: false })).to.deep.equal({ kind: 'passed' });
      expect(await state(victim.contactId)).to.deep.equal({ failed: 2, locked: false });
      expect(await host.services.lockout.guard(victim, '10.0.0.5', right)).to.deep.equal({ kind: 'passed' });
      expect(await state(victim.contactId)).to.deep.equal({ failed: 0, locked: false });
    });

    it('unlock clears lock and count, is audit-logged, and answers false for a contact without an account', async () => {
      const victim = await account('unlock@example.com');
      for (let i = 0; i < LOCK_AFTER_FAILURES; i++) await host.services.lockout.guard(victim, '10.0.0.6', wrong);
      expect(await host.services.lockout.unlock(victim.contactId, 42)).to.equal(true);
      expect(await state(victim.contactId)).to.deep.equal({ failed: 0, locked: false });
      expect(await host.services.lockout.unlock(999_999, 42)).to.equal(false);
      const events = await host.services.history.forContact(victim.contactId);
      expect(events[0]).to.include({ event: 'unlocked', reason: 'admin_unlock by user 42' });
      expect(events.filter((e) => e.event === 'locked')).to.have.length(1);
      expect(host.test.logs.some((l) => l.message.includes('unlocked') && l.fields?.adminUserId === 42)).to.equal(true);
    });

    it(`client addresses: parallel first attempts all count, the ${BAN_CLIENT_AFTER_FAILURES}th failure bans, successes give their attempt back`, async () => {
      const { lockout } = host.services;
      const ip = '192.0.2.10';
      expect((await Promise.all(Array.from({ length: 20 }, () => lockout.reserveClient(ip)))).every(Boolean)).to.equal(true);
      const failures = async () => Number((await host.sql<{ failures: unknown }>('SELECT failures FROM bp_client_failures WHERE ip = :ip', { ip }))[0]!.failures);
      expect(await failures()).to.equal(20);
      await lockout.clientSucceeded(ip);
      expect(await failures()).to.equal(19);

      for (let i = 19; i < BAN_CLIENT_AFTER_FAILURES; i++) expect(await lockout.reserveClient(ip)).to.equal(true);
      expect(await lockout.reserveClient(ip)).to.equal(false); // at the limit, even before the ban is written
      await lockout.clientFailed(ip, 'someone@example.com');
      expect((await lockout.bannedClients()).map((b) => b.ip)).to.include(ip);
      expect(await lockout.reserveClient(ip)).to.equal(false);

      expect(await lockout.liftBan(ip, 7)).to.equal(true);
      expect(await lockout.liftBan(ip, 7)).to.equal(false);
      expect(await lockout.reserveClient(ip)).to.equal(true);
      const history = await host.sql<{ event: string; reason: string }>('SELECT event, reason FROM bp_login_history WHERE ip = :ip ORDER BY id', { ip });
      expect(history).to.deep.equal([
        { event: 'locked', reason: 'client_too_many_failures' },
        { event: 'unlocked', reason: 'admin_lifted_ban by user 7' },
      ]);
    });
  });
});
