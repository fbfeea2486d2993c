/**
 * Sessions, remember-me rotation and reset links raced by two host processes on one database. As
 * in login-during-password-change.test.ts, one side is held at a chosen statement (a `beforeQuery`
 * or `afterQuery` hook on its own connection pool) while the other side runs to the end, then let
 * go: what SECURITY.md asks holds whatever the order.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { hashToken } from '../../plugin/auth/portal-sessions.js';
import { startSecondHost, startTestHost, type TestHost } from '../support/host.js';

const API = '/portal/api/v1';
const JANE = 'jane.doe@example.com';
const MARIO = 'mario.rossi@example.com';
const PASSWORD = 'Portal-demo-1';
const HOUR = 60 * 60 * 1000;

type Replacements = Record<string, unknown> | undefined;

/**
 * Holds the first statement of `sequelize` that `matches` (before it runs, or after it ran) until
 * `release()`; `reached` settles when it is held.
 */
function holdAt(sequelize: Sequelize, when: 'beforeQuery' | 'afterQuery', matches: (replacements: Replacements, sql: string) => boolean) {
  let reached!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let done = false;
  const name = `session-races-${randomBytes(4).toString('hex')}`;
  sequelize.addHook(when, name, async (options: unknown, query: unknown) => {
    const replacements = (options as { replacements?: Replacements }).replacements;
    if (done || !matches(replacements, String((query as { sql?: unknown }).sql ?? ''))) return;
    done = true;
    reached();
    await released;
  });
  return {
    reached: held,
    release() {
      release();
      sequelize.removeHook(when, name);
    },
  };
}

function cookieOf(response: Response): string | null {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('bp_session='));
  const value = header?.split(';')[0];
  return value && value !== 'bp_session=' ? value : null;
}

async function login(url: string, email: string, password: string, remember = false): Promise<string> {
  const response = await fetch(`${url}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, remember }),
  });
  await response.arrayBuffer();
  expect(response.status, `login of ${email}`).to.equal(200);
  return cookieOf(response)!;
}

async function me(url: string, cookie: string): Promise<number> {
  const response = await fetch(`${url}${API}/me`, { headers: { cookie } });
  await response.arrayBuffer();
  return response.status;
}

function post(url: string, path: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(`${url}${API}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

describe('auth: sessions and reset links raced by two host processes @db', function () {
  this.timeout(90_000);
  let first: TestHost;
  let second: TestHost;
  let sequelize: Sequelize;
  const original = new Map<number, string>();

  const sql = <T extends object>(query: string, replacements: Record<string, unknown> = {}) =>
    sequelize.query<T>(query, { type: QueryTypes.SELECT, replacements });
  const exec = async (query: string, replacements: Record<string, unknown> = {}) => void (await sequelize.query(query, { replacements }));
  const contactIdOf = async (email: string) =>
    Number((await sql<{ contact_id: unknown }>('SELECT contact_id FROM bp_portal_accounts WHERE email = :email', { email }))[0]!.contact_id);

  /** A remembered session whose idle window lapsed two hours ago: its next request rotates it. */
  async function lapsedRememberedSession(email: string): Promise<string> {
    const cookie = await login(first.url, email, PASSWORD, true);
    const past = new Date(Date.now() - 2 * HOUR);
    await exec('UPDATE bp_sessions SET last_seen_at = :past, idle_expires_at = :past WHERE id = :id', { past, id: hashToken(cookie.slice('bp_session='.length)) });
    return cookie;
  }

  /** Holds the second host's rotation between marking the old token replaced and storing its successor (before it locks anything for that). */
  function holdRotation() {
    return holdAt(second.host.api.database.sequelize, 'afterQuery', (r, statement) => r !== undefined && 'graceEnd' in r && /^\s*UPDATE\s+bp_sessions/i.test(statement));
  }

  /**
   * Runs `end` (which ends the family on the second process) while a rotation of `live` — as
   * portal-sessions.ts runs it on another process: marked replaced, then its successor stored
   * only while its row is there, a locking read; but without the account's row that
   * portal-sessions.ts holds around it, as for a session whose account is gone — has stored the
   * successor but not committed yet: the DELETE begins while the successor is not there for it
   * to see. Answers `end`'s status and the successor's cookie.
   */
  async function endWhileSuccessorUncommitted(live: string, end: () => Promise<number>): Promise<{ status: number; next: string }> {
    const next = randomBytes(32).toString('base64url');
    const now = new Date();
    await exec('UPDATE bp_sessions SET replaced_at = :now, idle_expires_at = :grace WHERE id = :live', { now, grace: new Date(now.getTime() + 60_000), live });
    const transaction = await sequelize.transaction();
    const deleting = holdAt(second.host.api.database.sequelize, 'beforeQuery', (r) => r !== undefined && Object.keys(r).sort().join() === 'familyId,id');
    let ending: Promise<number>;
    try {
      await sequelize.query(
        `INSERT INTO bp_sessions (id, family_id, contact_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, remember, ip, user_agent)
          SELECT :id, family_id, contact_id, created_at, :now, :idle, absolute_expires_at, remember, NULL, NULL FROM bp_sessions WHERE id = :live
          ${sequelize.getDialect() === 'postgres' ? 'FOR SHARE' : 'LOCK IN SHARE MODE'}`,
        { transaction, replacements: { id: hashToken(next), now, idle: new Date(now.getTime() + 30 * 60_000), live } },
      );
      ending = end();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the family was never ended')), 10_000)));
      await Promise.race([deleting.reached, late]).finally(() => clearTimeout(timer));
      deleting.release();
      await new Promise((resolve) => setTimeout(resolve, 500)); // the DELETE now waits for the live token's row
      await transaction.commit();
    } catch (error) {
      deleting.release();
      await transaction.rollback();
      throw error;
    }
    return { status: await ending, next: `bp_session=${next}` };
  }

  /**
   * A lapsed remembered session (as `lapsedRememberedSession`) whose token hashes above every
   * other: a successor's row, wherever its random id falls, goes in before it in every index of
   * the table, into a gap that a DELETE waiting at this row has already passed (and, on MariaDB, locked).
   */
  async function lastLapsedRememberedSession(email: string): Promise<string> {
    const cookie = await lapsedRememberedSession(email);
    let token: string;
    do token = randomBytes(32).toString('base64url');
    while (!hashToken(token).startsWith('fff'));
    const id = hashToken(token);
    await exec('UPDATE bp_sessions SET id = :id, family_id = :id WHERE id = :old', { id, old: hashToken(cookie.slice('bp_session='.length)) });
    return `bp_session=${token}`;
  }

  /**
   * How many of this database's connections wait for a lock. MariaDB's INNODB_TRX leaves out, now
   * and then, a transaction that waits for its first lock: there a statement running for a quarter
   * of a second counts too (this file's own statements take milliseconds).
   */
  async function lockWaiters(): Promise<number> {
    const [row] = await sql<{ n: unknown }>(
      sequelize.getDialect() === 'postgres'
        ? "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        : `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST p
            WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID() AND p.COMMAND = 'Query'
              AND (p.TIME_MS > 250 OR p.ID IN (SELECT t.trx_mysql_thread_id FROM information_schema.INNODB_TRX t WHERE t.trx_state = 'LOCK WAIT'))`,
    );
    return Number(row!.n);
  }

  /** Resolves once `count` connections wait for a lock, or `done` settled first; rejects after 10 s. */
  async function untilWaiting(count: number, done?: Promise<unknown>): Promise<void> {
    let settled = false;
    void done?.finally(() => (settled = true)).catch(() => undefined);
    const until = Date.now() + 10_000;
    while (!settled && (await lockWaiters()) < count) {
      if (Date.now() > until) throw new Error(`never ${count} connections waiting for a lock`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Runs `end` on the first process while a rotation on the second is inside the statement that
   * stores its successor: the old token's row read and locked, the successor about to go in. A
   * trigger (of this test's database only) makes that statement wait at a gate row this test holds
   * locked; once `end` waits for a lock too, the gate opens. Answers the rotation's answer and `end`'s status.
   */
  async function endDuringSuccessorStatement(cookie: string, end: () => Promise<number>): Promise<{ rotated: Response; status: number }> {
    const postgres = sequelize.getDialect() === 'postgres';
    await exec('CREATE TABLE bp_test_gate (id INTEGER PRIMARY KEY)');
    try {
      await exec('INSERT INTO bp_test_gate (id) VALUES (1)');
      if (postgres) {
        await exec(`CREATE FUNCTION bp_test_gate_wait() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.family_id <> NEW.id THEN PERFORM 1 FROM bp_test_gate FOR SHARE; END IF; RETURN NEW; END $$`);
        await exec('CREATE TRIGGER bp_test_gate_wait BEFORE INSERT ON bp_sessions FOR EACH ROW EXECUTE FUNCTION bp_test_gate_wait()');
      } else {
        await exec(`CREATE TRIGGER bp_test_gate_wait BEFORE INSERT ON bp_sessions FOR EACH ROW BEGIN DECLARE g INT;
          IF NEW.family_id <> NEW.id THEN SELECT id INTO g FROM bp_test_gate WHERE id = 1 LOCK IN SHARE MODE; END IF; END`);
      }
      const gate = await sequelize.transaction();
      let rotating: Promise<Response> | undefined;
      let ending: Promise<number> | undefined;
      try {
        await sequelize.query('SELECT id FROM bp_test_gate FOR UPDATE', { type: QueryTypes.SELECT, transaction: gate });
        rotating = fetch(`${second.url}${API}/me`, { headers: { cookie } });
        await untilWaiting(1, rotating); // the rotation, at the gate
        ending = end();
        await untilWaiting(2, ending); // `end`, behind the rotation
      } finally {
        await gate.commit();
      }
      const rotated = await rotating;
      await rotated.arrayBuffer();
      return { rotated, status: await ending };
    } finally {
      await exec('DROP TRIGGER bp_test_gate_wait' + (postgres ? ' ON bp_sessions' : ''));
      if (postgres) await exec('DROP FUNCTION bp_test_gate_wait()');
      await exec('DROP TABLE bp_test_gate');
    }
  }

  /** A reset link of `email`, as the forgot-password mail would carry it. */
  async function resetLink(email: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    await exec(
      'INSERT INTO bp_reset_tokens (contact_id, token_hash, created_at, expires_at, used_at, ip) VALUES (:contactId, :hash, :now, :expires, NULL, :ip)',
      { contactId: await contactIdOf(email), hash: hashToken(token), now, expires: new Date(now.getTime() + 30 * 60_000), ip: '127.0.0.1' },
    );
    return token;
  }

  /** Holds the second host's reset completion right after it spent its link, before it writes the password. */
  function holdResetAfterSpending() {
    return holdAt(second.host.api.database.sequelize, 'afterQuery', (_r, statement) => /UPDATE\s+bp_reset_tokens\s+SET\s+used_at/i.test(statement));
  }

  before(async () => {
    first = await startTestHost({ demo: true });
    second = await startSecondHost(first);
    sequelize = first.host.api.database.sequelize;
    for (const row of await sql<{ contact_id: unknown; password_hash: string }>('SELECT contact_id, password_hash FROM bp_portal_accounts')) {
      original.set(Number(row.contact_id), row.password_hash);
    }
  });

  afterEach(async () => {
    // Every test starts from the demo passwords, unlocked, without sessions or links.
    for (const [contactId, hash] of original) {
      await exec(
        'UPDATE bp_portal_accounts SET password_hash = :hash, failed_attempts = 0, first_failed_at = NULL, locked_at = NULL, portal_enabled = :yes WHERE contact_id = :contactId',
        { hash, contactId, yes: true },
      );
    }
    await exec('DELETE FROM bp_sessions');
    await exec('DELETE FROM bp_reset_tokens');
    await exec('DELETE FROM bp_client_failures');
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  describe('remember-me rotation', () => {
    it('a logout on one process while another rotates the same token leaves no live successor', async () => {
      const cookie = await lapsedRememberedSession(JANE);
      const hold = holdRotation();
      let rotating: Promise<Response>;
      try {
        rotating = fetch(`${second.url}${API}/me`, { headers: { cookie } });
        await hold.reached;
        const logout = await post(first.url, '/auth/logout', {}, cookie);
        expect(logout.status).to.equal(204);
      } finally {
        hold.release();
      }
      const answered = await rotating;
      await answered.arrayBuffer();
      const successor = cookieOf(answered);
      if (successor) expect(await me(first.url, successor), 'the token rotated during the logout works after it').to.equal(401);
      expect(await me(first.url, cookie)).to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(JANE) })).to.have.length(0);
    });

    it('a password change on one process while another rotates a remembered token of the account ends the successor too', async () => {
      const owner = await login(first.url, MARIO, PASSWORD);
      const stolen = await lapsedRememberedSession(MARIO);
      const hold = holdRotation();
      let rotating: Promise<Response>;
      try {
        rotating = fetch(`${second.url}${API}/me`, { headers: { cookie: stolen } });
        await hold.reached;
        const change = await post(first.url, '/auth/password', { currentPassword: PASSWORD, newPassword: 'A-much-newer-passphrase-42' }, owner);
        expect(change.status).to.equal(204);
      } finally {
        hold.release();
      }
      const answered = await rotating;
      await answered.arrayBuffer();
      const successor = cookieOf(answered);
      if (successor) expect(await me(first.url, successor), 'the token rotated during the password change works after it').to.equal(401);
      expect(await me(second.url, stolen)).to.equal(401);
    });

    it('a rotation that stores its successor while a password change has ended the sessions but not yet committed leaves none', async () => {
      const owner = await login(first.url, MARIO, PASSWORD);
      const stolen = await lapsedRememberedSession(MARIO);
      const rotation = holdRotation();
      const change = holdAt(sequelize, 'afterQuery', (_r, statement) => /DELETE\s+FROM\s+bp_sessions\s+WHERE\s+contact_id/i.test(statement));
      let rotating: Promise<Response>;
      let changing: Promise<Response>;
      try {
        rotating = fetch(`${second.url}${API}/me`, { headers: { cookie: stolen } });
        await rotation.reached;
        changing = post(first.url, '/auth/password', { currentPassword: PASSWORD, newPassword: 'A-much-newer-passphrase-42' }, owner);
        await change.reached; // the change's transaction has deleted the sessions, and holds
        rotation.release();
        // The successor's statement must wait for that transaction rather than read past its delete.
        await Promise.race([rotating, new Promise((resolve) => setTimeout(resolve, 500))]);
      } finally {
        rotation.release();
        change.release();
      }
      expect((await changing).status).to.equal(204);
      const answered = await rotating;
      await answered.arrayBuffer();
      const successor = cookieOf(answered);
      if (successor) expect(await me(first.url, successor), 'the successor stored beside the uncommitted change works after it').to.equal(401);
    });

    it('a lock or a portal switch-off during a rotation: the successor is refused at its next request', async () => {
      for (const lockWith of ['locked_at = :now', 'portal_enabled = :no']) {
        const cookie = await lapsedRememberedSession(JANE);
        const hold = holdRotation();
        let rotating: Promise<Response>;
        try {
          rotating = fetch(`${second.url}${API}/me`, { headers: { cookie } });
          await hold.reached;
          await exec(`UPDATE bp_portal_accounts SET ${lockWith} WHERE email = :email`, { now: new Date(), no: false, email: JANE });
        } finally {
          hold.release();
        }
        const answered = await rotating;
        await answered.arrayBuffer();
        const successor = cookieOf(answered);
        if (successor) expect(await me(first.url, successor), lockWith).to.equal(401);
        expect(await me(first.url, cookie), lockWith).to.equal(401);
        await exec('UPDATE bp_portal_accounts SET locked_at = NULL, portal_enabled = :yes WHERE email = :email', { yes: true, email: JANE });
      }
    });

    it('a logout while a rotation of its token stores the successor (not yet committed): that one ends too', async function () {
      if (sequelize.getDialect() === 'sqlite') return this.skip();
      const cookie = await lapsedRememberedSession(MARIO);
      const logout = async () => {
        const response = await post(second.url, '/auth/logout', {}, cookie);
        await response.arrayBuffer();
        return response.status;
      };
      const { status, next } = await endWhileSuccessorUncommitted(hashToken(cookie.slice('bp_session='.length)), logout);
      expect(status).to.equal(204);
      expect(await me(first.url, next), 'the successor stored during the logout').to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(MARIO) })).to.have.length(0);
    });

    it('a password change that begins while a rotation stores its successor ends the successor too, and both are answered', async function () {
      if (sequelize.getDialect() === 'sqlite') return this.skip(); // SQLite's writers take turns: no statement runs beside another's
      const owner = await login(first.url, MARIO, PASSWORD);
      const stolen = await lastLapsedRememberedSession(MARIO);
      const change = async () => {
        const response = await post(first.url, '/auth/password', { currentPassword: PASSWORD, newPassword: 'A-much-newer-passphrase-42' }, owner);
        await response.arrayBuffer();
        return response.status;
      };
      const { rotated, status } = await endDuringSuccessorStatement(stolen, change);
      expect(status, 'the password change').to.equal(204);
      expect(rotated.status, 'the rotating request').to.be.oneOf([200, 401]);
      const successor = cookieOf(rotated);
      if (successor) expect(await me(first.url, successor), 'the successor stored during the password change works after it').to.equal(401);
      expect(await me(first.url, stolen)).to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(MARIO) }), 'only the changing browser\'s new session').to.have.length(1);
    });

    it('a logout that begins while a rotation of its token stores the successor ends the successor too, and both are answered', async function () {
      if (sequelize.getDialect() === 'sqlite') return this.skip();
      const cookie = await lastLapsedRememberedSession(JANE);
      const logout = async () => {
        const response = await post(first.url, '/auth/logout', {}, cookie);
        await response.arrayBuffer();
        return response.status;
      };
      const { rotated, status } = await endDuringSuccessorStatement(cookie, logout);
      expect(status, 'the logout').to.equal(204);
      expect(rotated.status, 'the rotating request').to.be.oneOf([200, 401]);
      const successor = cookieOf(rotated);
      if (successor) expect(await me(first.url, successor), 'the successor stored during the logout works after it').to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(JANE) })).to.have.length(0);
    });

    it('one remembered token replayed in parallel on both processes yields one successor, no second family', async () => {
      const cookie = await lapsedRememberedSession(JANE);
      const answers = await Promise.all([first.url, second.url, first.url, second.url].map((url) => fetch(`${url}${API}/me`, { headers: { cookie } })));
      await Promise.all(answers.map((a) => a.arrayBuffer()));
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200]);
      expect(answers.map(cookieOf).filter((c) => c !== null)).to.have.length(1);
      const family = hashToken(cookie.slice('bp_session='.length));
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(JANE) })).to.have.length(2);
      expect(await sql('SELECT id FROM bp_sessions WHERE family_id = :family', { family })).to.have.length(2);
    });
  });

  describe('theft detection (a rotated-away token replayed after its grace window)', () => {
    /** A remembered session rotated once: the copied token, past its grace window, and its live successor. */
    async function copiedAndRotated(email: string): Promise<{ copied: string; successor: string }> {
      const copied = await lapsedRememberedSession(email);
      const rotated = await fetch(`${first.url}${API}/me`, { headers: { cookie: copied } });
      await rotated.arrayBuffer();
      expect(rotated.status).to.equal(200);
      const successor = cookieOf(rotated)!;
      await exec('UPDATE bp_sessions SET idle_expires_at = :past WHERE id = :id', { past: new Date(Date.now() - 1000), id: hashToken(copied.slice('bp_session='.length)) });
      return { copied, successor };
    }
    const revocations = async (email: string) =>
      sql("SELECT id FROM bp_login_history WHERE contact_id = :c AND event = 'revoked' AND reason = 'token_replayed'", { c: await contactIdOf(email) });

    afterEach(async () => exec("DELETE FROM bp_login_history WHERE event = 'revoked'"));

    it('replayed on both processes at once: the family ends once, one history entry', async () => {
      const { copied, successor } = await copiedAndRotated(JANE);
      const answers = await Promise.all([first.url, second.url, first.url, second.url].map((url) => fetch(`${url}${API}/me`, { headers: { cookie: copied } })));
      await Promise.all(answers.map((a) => a.arrayBuffer()));
      expect(answers.map((a) => a.status)).to.deep.equal([401, 401, 401, 401]);
      expect(await me(second.url, successor)).to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(JANE) })).to.have.length(0);
      expect(await revocations(JANE)).to.have.length(1);
    });

    it('replayed on one process while the other rotates the live successor: no successor survives', async () => {
      const { copied, successor } = await copiedAndRotated(JANE);
      await exec('UPDATE bp_sessions SET last_seen_at = :past, idle_expires_at = :past WHERE id = :id', {
        past: new Date(Date.now() - 2 * HOUR),
        id: hashToken(successor.slice('bp_session='.length)),
      });
      const hold = holdRotation();
      let rotating: Promise<Response>;
      try {
        rotating = fetch(`${second.url}${API}/me`, { headers: { cookie: successor } });
        await hold.reached;
        expect(await me(first.url, copied)).to.equal(401);
      } finally {
        hold.release();
      }
      const answered = await rotating;
      await answered.arrayBuffer();
      const next = cookieOf(answered);
      if (next) expect(await me(first.url, next), 'the token rotated while the family ended works after it').to.equal(401);
      expect(await me(first.url, successor)).to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(JANE) })).to.have.length(0);
      expect(await revocations(JANE)).to.have.length(1);
    });

    it('replayed while a rotation of the live successor stores its own successor (not yet committed): that one ends too', async function () {
      if (sequelize.getDialect() === 'sqlite') return this.skip(); // SQLite's writers take turns: no statement runs beside another's
      const { copied, successor } = await copiedAndRotated(JANE);
      const { status, next } = await endWhileSuccessorUncommitted(hashToken(successor.slice('bp_session='.length)), () => me(second.url, copied));
      expect(status).to.equal(401);
      expect(await me(first.url, next), 'the successor stored while the family ended').to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE contact_id = :c', { c: await contactIdOf(JANE) })).to.have.length(0);
      expect(await revocations(JANE)).to.have.length(1);
    });

    it('within its grace window the rotated-away token still answers on the other process, and nothing ends', async () => {
      const cookie = await lapsedRememberedSession(MARIO);
      const rotated = await fetch(`${first.url}${API}/me`, { headers: { cookie } });
      await rotated.arrayBuffer();
      const successor = cookieOf(rotated)!;
      const late = await fetch(`${second.url}${API}/me`, { headers: { cookie } });
      await late.arrayBuffer();
      expect(late.status).to.equal(200);
      expect(cookieOf(late)).to.equal(null);
      expect(await me(second.url, successor)).to.equal(200);
      expect(await revocations(MARIO)).to.have.length(0);
    });
  });

  describe('reset links', () => {
    it('one link used twice at once, on both processes: one new password, the other refused', async () => {
      const token = await resetLink(JANE);
      const answers = await Promise.all([
        post(first.url, '/auth/reset', { token, newPassword: 'First-passphrase-of-jane-1' }),
        post(second.url, '/auth/reset', { token, newPassword: 'Second-passphrase-of-jane-2' }),
      ]);
      await Promise.all(answers.map((a) => a.arrayBuffer()));
      expect(answers.map((a) => a.status).sort()).to.deep.equal([204, 400]);
    });

    it('a link spent just before a password change does not set its password after the change', async () => {
      const owner = await login(first.url, MARIO, PASSWORD);
      const token = await resetLink(MARIO);
      const hold = holdResetAfterSpending();
      let resetting: Promise<Response>;
      try {
        resetting = post(second.url, '/auth/reset', { token, newPassword: 'The-attackers-passphrase-9' });
        await hold.reached;
        const change = await post(first.url, '/auth/password', { currentPassword: PASSWORD, newPassword: 'The-owners-new-passphrase-3' }, owner);
        expect(change.status).to.equal(204);
      } finally {
        hold.release();
      }
      const reset = await resetting;
      await reset.arrayBuffer();
      expect(reset.status, 'the link made before the change still set a password after it').to.equal(400);
      const loginWith = async (password: string) => (await post(first.url, '/auth/login', { email: MARIO, password })).status;
      expect(await loginWith('The-owners-new-passphrase-3')).to.equal(200);
      expect(await loginWith('The-attackers-passphrase-9')).to.equal(401);
    });

    it('two links of one account used at the same moment: the first change kills the other link', async () => {
      const held = await resetLink(JANE);
      const other = await resetLink(JANE);
      const hold = holdResetAfterSpending();
      let resetting: Promise<Response>;
      try {
        resetting = post(second.url, '/auth/reset', { token: held, newPassword: 'Held-passphrase-of-jane-4' });
        await hold.reached;
        const quick = await post(first.url, '/auth/reset', { token: other, newPassword: 'Quick-passphrase-of-jane-5' });
        expect(quick.status).to.equal(204);
      } finally {
        hold.release();
      }
      const late = await resetting;
      await late.arrayBuffer();
      expect(late.status, 'a link outlived the password change of another link').to.equal(400);
      expect((await post(first.url, '/auth/login', { email: JANE, password: 'Quick-passphrase-of-jane-5' })).status).to.equal(200);
    });

    it('refuses a link once the account is locked or its portal switched off, and leaves the password alone', async () => {
      for (const lockWith of ['locked_at = :now', 'portal_enabled = :no']) {
        const token = await resetLink(JANE);
        await exec(`UPDATE bp_portal_accounts SET ${lockWith} WHERE email = :email`, { now: new Date(), no: false, email: JANE });
        const response = await post(second.url, '/auth/reset', { token, newPassword: 'Locked-out-passphrase-6' });
        expect(response.status, lockWith).to.equal(400);
        await exec('UPDATE bp_portal_accounts SET locked_at = NULL, failed_attempts = 0, portal_enabled = :yes WHERE email = :email', { yes: true, email: JANE });
        expect((await post(first.url, '/auth/login', { email: JANE, password: PASSWORD })).status, lockWith).to.equal(200);
      }
    });
  });

  describe('logout while a request of the session is in flight', () => {
    it('the in-flight request is answered; nothing it writes brings the session back', async () => {
      const cookie = await login(first.url, JANE, PASSWORD);
      const id = hashToken(cookie.slice('bp_session='.length));
      // Old enough that the request rolls the idle window forward (a write after the logout).
      await exec('UPDATE bp_sessions SET last_seen_at = :past WHERE id = :id', { past: new Date(Date.now() - 5 * 60_000), id });
      const hold = holdAt(second.host.api.database.sequelize, 'beforeQuery', (r) => r?.id === id && 'idleExpiresAt' in r);
      let inFlight: Promise<Response>;
      try {
        inFlight = fetch(`${second.url}${API}/me`, { headers: { cookie } });
        await hold.reached;
        expect((await post(first.url, '/auth/logout', {}, cookie)).status).to.equal(204);
      } finally {
        hold.release();
      }
      const answered = await inFlight;
      await answered.arrayBuffer();
      expect(cookieOf(answered)).to.equal(null);
      expect(await me(first.url, cookie)).to.equal(401);
      expect(await sql('SELECT id FROM bp_sessions WHERE id = :id', { id })).to.have.length(0);
    });
  });
});
