/**
 * An admin unlocking on "Check Business Portal login" at the same moment as the customer's next
 * failed login, as real parallel HTTP requests: whatever the order, the page tells the truth about
 * what the unlock did, the account ends in a state that agrees with it, and nothing answers 500.
 * A page of them unlocked at once, with a failed login sent in the middle of its transaction: every
 * account of the batch ends wholly unlocked (or, when the batch fails, wholly as it was), never half.
 */
import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { SequelizeUnlockLinks } from '../../plugin/auth/unlock-links.js';
import { PORTAL_PASSWORD, startLoginCheckHost, unlockTokenOf, type LoginCheckHost, unsigned } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';

describe('login-check: unlock racing the customer’s failed logins @db', function () {
  this.timeout(60_000);
  let h: LoginCheckHost;

  before(async () => {
    h = await startLoginCheckHost();
    // Kept locked throughout, so that the page always shows its unlock form (and its CSRF token).
    await h.addCustomer({ firstname: 'Kept', lastname: 'Locked', email: 'kept.locked@example.com' });
    await h.lock('kept.locked@example.com');
  });
  after(async () => {
    await h?.stop();
  });

  const state = async (contactId: number) => {
    const [row] = await h.sql<{ failed_attempts: unknown; locked_at: unknown }>('SELECT failed_attempts, locked_at FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
    return { failures: Number(row!.failed_attempts), locked: row!.locked_at !== null };
  };
  const unlocks = async (contactId: number) =>
    Number((await h.sql<{ n: unknown }>("SELECT COUNT(*) AS n FROM bp_login_history WHERE contact_id = :contactId AND event = 'unlocked'", { contactId }))[0]!.n);

  it('the sixth failed login beside the unlock: unlocked once, at most that one failure counted, the right password works', async () => {
    for (let round = 0; round < 4; round += 1) {
      const email = `sixth.${round}@example.com`;
      const id = await h.addCustomer({ firstname: 'Sixth', lastname: `Try ${round}`, email });
      await h.lock(email);
      const csrf = await h.csrf(h.admin);
      const [unlock, login] = await Promise.all([
        h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: [String(id)] }),
        h.portalLogin(email, 'Wrong-password-1'),
      ]);
      expect(unlock.status).to.equal(303);
      expect(unsigned(unlock.headers.get('location'))).to.equal(`${PAGE}?done=unlocked&count=1&skipped=0`);
      expect(login.status).to.equal(401);
      const after = await state(id);
      expect(after.locked).to.equal(false);
      expect(after.failures).to.be.at.most(1);
      expect(await unlocks(id)).to.equal(1);
      expect((await h.portalLogin(email, PORTAL_PASSWORD)).status).to.equal(200);
    }
  });

  it('a lock mail’s link made only after an admin ended that lock (the mail goes in the background) cannot unlock a later lock', async () => {
    const email = 'late.link@example.com';
    const id = await h.addCustomer({ firstname: 'Late', lastname: 'Link', email });
    await h.lock(email);
    await h.mailsSettled();
    const csrf = await h.csrf(h.admin);
    expect((await h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: [String(id)] })).status).to.equal(303);
    expect((await state(id)).locked).to.equal(false);
    // The lock listener's background work, overtaken by the unlock, makes its link only now (the
    // unlock revoked the links there were): the store it uses, on the same database.
    const late = await new SequelizeUnlockLinks(h.api.database).issue(id);

    // A later run of five failures locks the account again, with a lock mail and a link of its own.
    const mailed = h.mails.length;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a later second, as any later lock is (MariaDB keeps whole seconds)
    await h.lock(email);
    await h.mailsSettled();
    const fresh = h.mails.slice(mailed).filter((mail) => mail.contactId === id && mail.kind === 'accountLocked');
    expect(fresh).to.have.length(1);

    const get = await fetch(`${h.url}/portal/unlock?token=${late}`);
    expect(get.status, 'the late link is dead: it was made for a lock that had ended').to.equal(400);
    await get.text();
    expect((await h.post('/portal/unlock', undefined, { token: late })).status).to.equal(400);
    expect((await state(id)).locked, 'the later lock holds').to.equal(true);
    expect((await h.post('/portal/unlock', undefined, { token: unlockTokenOf(fresh[0]!) })).status, 'the later lock’s own link unlocks it').to.equal(200);
    expect((await state(id)).locked).to.equal(false);
  });

  /**
   * Runs `unlock` with a failed login of `email` sent from inside its transaction, once the unlock has
   * read the locked accounts (and, on PostgreSQL and MariaDB, holds their rows): the unlock goes on
   * when the login's first statement has started, or after a second (SQLite: the login's write waits
   * for the transaction's turn as writer). `failAt`: a statement of the unlock made to fail, as a full
   * disk would fail it. Answers both responses.
   */
  async function unlockWithFailureInside(unlock: () => Promise<Response>, email: string, failAt?: RegExp): Promise<{ unlock: Response; login: Response }> {
    const sequelize: Sequelize = h.api.database.sequelize;
    const name = `unlock-race-${Math.random().toString(36).slice(2)}`;
    let login: Promise<Response> | null = null;
    let loginStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => (loginStarted = resolve));
    // The statement's text is known only when it runs (after `beforeQuery`): its `run` is wrapped.
    sequelize.addHook('beforeQuery', name, (options, query) => {
      const statement = query as unknown as { run(sql: string, ...rest: unknown[]): Promise<unknown> };
      const run = statement.run.bind(statement);
      const inTransaction = Boolean((options as { transaction?: unknown }).transaction);
      statement.run = (sql, ...rest) => {
        if (login && !inTransaction && /failed_attempts = failed_attempts \+ 1/.test(sql)) loginStarted();
        if (failAt && inTransaction && failAt.test(sql)) return Promise.reject(new Error('the statement failed (test)'));
        return run(sql, ...rest);
      };
    });
    sequelize.addHook('afterQuery', `${name}-after`, async (options, query) => {
      const sql = String((query as unknown as { sql?: unknown }).sql ?? '');
      if (login || !(options as { transaction?: unknown }).transaction || !/^SELECT contact_id, email FROM bp_portal_accounts WHERE contact_id IN/.test(sql)) return;
      login = h.portalLogin(email, 'Wrong-password-1');
      await Promise.race([started, new Promise((resolve) => setTimeout(resolve, 1000))]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    try {
      const response = await unlock();
      expect(login, 'the unlock read the locked accounts in its transaction').not.to.equal(null);
      return { unlock: response, login: await login! };
    } finally {
      sequelize.removeHook('beforeQuery', name);
      sequelize.removeHook('afterQuery', `${name}-after`);
    }
  }

  const batchOf = async (prefix: string, size: number) => {
    const batch: { id: number; email: string }[] = [];
    for (let i = 0; i < size; i += 1) {
      const email = `${prefix}.${i}@example.com`;
      batch.push({ id: await h.addCustomer({ firstname: 'Batch', lastname: `${prefix} ${i}`, email }), email });
      await h.lock(email);
    }
    await h.mailsSettled();
    return batch;
  };
  const rowOf = async (contactId: number) => {
    const [row] = await h.sql<Record<string, unknown>>('SELECT failed_attempts, first_failed_at, locked_at FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
    return { failures: Number(row!.failed_attempts), firstFailed: row!.first_failed_at !== null, locked: row!.locked_at !== null };
  };
  const countOf = async (sql: string, contactId: number) => Number((await h.sql<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`, { contactId, target: String(contactId) }))[0]!.n);

  it('a failed login in the middle of a batch unlock: every account of the batch wholly unlocked, the failure counted after it or refused before it', async () => {
    const batch = await batchOf('mid-batch', 3);
    const target = batch[1]!;
    const csrf = await h.csrf(h.admin);
    const { unlock, login } = await unlockWithFailureInside(() => h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: batch.map((user) => String(user.id)) }), target.email);
    expect(unlock.status).to.equal(303);
    expect(unsigned(unlock.headers.get('location'))).to.equal(`${PAGE}?done=unlocked&count=3&skipped=0`);
    expect(login.status).to.equal(401);
    for (const user of batch) {
      const row = await rowOf(user.id);
      expect(row.locked, user.email).to.equal(false);
      // The count, and the time of its first failure, cleared together; only the racing login may count, once.
      expect(row.failures, user.email).to.be.at.most(user === target ? 1 : 0);
      expect(row.firstFailed, user.email).to.equal(row.failures > 0);
      expect(await countOf("bp_login_history WHERE contact_id = :contactId AND event = 'unlocked'", user.id), user.email).to.equal(1);
      expect(await countOf("bp_login_check_audit WHERE action = 'unlock' AND target = :target", user.id), user.email).to.equal(1);
      expect(await countOf('bp_unlock_links WHERE contact_id = :contactId AND used_at IS NULL AND revoked_at IS NULL', user.id), user.email).to.equal(0);
    }
    for (const user of batch) expect((await h.portalLogin(user.email, PORTAL_PASSWORD)).status, user.email).to.equal(200);
  });

  it('a batch unlock that fails after its UPDATE, with a failed login in the middle: every account of the batch still wholly locked', async () => {
    const batch = await batchOf('failed-batch', 3);
    const csrf = await h.csrf(h.admin);
    const { unlock, login } = await unlockWithFailureInside(
      () => h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: batch.map((user) => String(user.id)) }),
      batch[1]!.email,
      /^INSERT INTO bp_login_check_audit/,
    );
    expect(unlock.status).to.equal(500);
    expect(login.status).to.equal(401);
    for (const user of batch) {
      expect(await rowOf(user.id), user.email).to.deep.equal({ failures: 5, firstFailed: true, locked: true });
      expect(await countOf("bp_login_history WHERE contact_id = :contactId AND event = 'unlocked'", user.id), user.email).to.equal(0);
      expect(await countOf("bp_login_check_audit WHERE target = :target", user.id), user.email).to.equal(0);
      expect(await countOf('bp_unlock_links WHERE contact_id = :contactId AND used_at IS NULL AND revoked_at IS NULL', user.id), user.email).to.equal(1);
    }
    // The same form again, with nothing in the way: all three unlocked.
    expect(unsigned((await h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: batch.map((user) => String(user.id)) })).headers.get('location'))).to.equal(
      `${PAGE}?done=unlocked&count=3&skipped=0`,
    );
  });

  it('the fifth failed login beside the unlock: the page’s count agrees with whether the account ends locked', async () => {
    for (let round = 0; round < 4; round += 1) {
      const email = `fifth.${round}@example.com`;
      const id = await h.addCustomer({ firstname: 'Fifth', lastname: `Try ${round}`, email });
      for (let i = 0; i < 4; i += 1) expect((await h.portalLogin(email, 'Wrong-password-1')).status).to.equal(401);
      const csrf = await h.csrf(h.admin);
      const [unlock, login] = await Promise.all([
        h.post(`${PAGE}/unlock`, h.admin, { _csrf: csrf, contactId: [String(id)] }),
        h.portalLogin(email, 'Wrong-password-1'),
      ]);
      expect(unlock.status).to.equal(303);
      expect(login.status).to.equal(401);
      const unlocked = unlock.headers.get('location') === `${PAGE}?done=unlocked&count=1&skipped=0`;
      const after = await state(id);
      expect(after.locked, String(unlock.headers.get('location'))).to.equal(!unlocked);
      expect(await unlocks(id)).to.equal(unlocked ? 1 : 0);
    }
  });
});
