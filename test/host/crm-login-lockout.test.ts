/**
 * The reference CRM's own login (`POST /login`) locks a CRM user after five consecutive failed
 * sign-ins (SPEC §5: "as CRM users are"), counted in the database so that host processes share
 * the count, and answers a locked user, an unknown user name and a wrong password alike.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { openDatabase } from '../../host/database.js';
import { hostMigrator } from '../../host/schema/migrate.js';
import { LOCK_AFTER_FAILED_LOGINS } from '../../host/users/login-lockout.js';
import { SqlUserDirectory } from '../../host/users/user-directory.js';
import { runHostMigrationAgain, scratchDatabase } from '../support/database.js';
import { TEST_ADMIN_PASSWORD, crmLoginForm, startSecondHost, startTestHost, type TestHost } from '../support/host.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'Staff-test-password-1';
/** How long the second host keeps a user locked: long enough for a loaded machine to lock and check, short enough to wait for. */
const SHORT_LOCK_MS = 4000;

/** Runs `host/cli.ts` as `npm run host` does, against the suite's database. */
function cli(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'host/cli.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: url } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr: stderr.replace(/^\(sequelize\) Warning:.*\n>> Check:.*\n/gm, '') });
    });
  });
}

/** Counts the scrypt runs of this process (the hosts run in it) while `run` runs: the cost of a password check. */
async function scryptRuns<T>(run: () => Promise<T>): Promise<{ result: T; runs: number[] }> {
  const original = crypto.scrypt;
  const runs: number[] = [];
  crypto.scrypt = ((...args: Parameters<typeof crypto.scrypt>) => {
    const options = args.length === 5 ? (args[3] as crypto.ScryptOptions) : {};
    runs.push(options.N ?? 16384);
    return (original as (...a: unknown[]) => void)(...args);
  }) as typeof crypto.scrypt;
  syncBuiltinESMExports();
  try {
    return { result: await run(), runs };
  } finally {
    crypto.scrypt = original;
    syncBuiltinESMExports();
  }
}

/**
 * What a client can see of an answer. The form's token and cookie values differ each time, and
 * the form gives back the user name typed (so the length differs too): they are left out.
 */
async function observable(response: Response) {
  const token = /name="csrf" value="([^"]*)"/.exec(await response.clone().text())?.[1] ?? '';
  const headers = [...response.headers.entries()]
    .filter(([name]) => !['date', 'etag', 'set-cookie', 'content-length'].includes(name))
    .sort(([a], [b]) => a.localeCompare(b));
  const cookies = response.headers.getSetCookie().map((c) => c.replace(/=[^;]*/, '=…'));
  return { status: response.status, headers, cookies, body: (await response.text()).replaceAll(token, '…').replace(/(name="userName"[^>]*value=")[^"]*"/, '$1…"') };
}

describe('host: the CRM login locks a user after five failed sign-ins @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let short: TestHost;
  let sequelize: Sequelize;

  before(async () => {
    test = await startTestHost();
    short = await startSecondHost(test, { crmLockMs: SHORT_LOCK_MS });
    sequelize = test.host.api.database.sequelize;
    const users = new SqlUserDirectory(sequelize);
    for (const user of ['sara.support', 'tom.support', 'lisa.sales']) await users.setPassword(user, PASSWORD);
  });
  after(async () => {
    await short?.stop();
    await test?.stop();
  });

  async function signIn(url: string, userName: string, password: string): Promise<Response> {
    const form = await crmLoginForm(url);
    return fetch(`${url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
      body: new URLSearchParams({ csrf: form.token, userName, password, returnTo: '/' }).toString(),
    });
  }

  async function state(userName: string): Promise<{ failures: number; locked: boolean }> {
    const [row] = await sequelize.query<{ failed_logins: unknown; locked_at: unknown }>('SELECT failed_logins, locked_at FROM crm_users WHERE user_name = :userName', {
      type: QueryTypes.SELECT,
      replacements: { userName },
    });
    return { failures: Number(row!.failed_logins), locked: row!.locked_at !== null };
  }

  it('six wrong passwords, then the right one is refused with the same answer as a wrong one, at the cost of one password check each', async () => {
    const wrong: Awaited<ReturnType<typeof observable>>[] = [];
    for (let i = 0; i < 6; i += 1) wrong.push(await observable(await signIn(test.url, 'tom.support', `wrong password ${i}`)));
    expect(wrong[0]!.status).to.equal(401);
    expect(wrong[0]!.body).to.include('Wrong user name or password.');
    expect(wrong[0]!.cookies.some((c) => c.startsWith('crm_sid='))).to.equal(false);
    for (const answer of wrong) expect(answer).to.deep.equal(wrong[0]);
    expect(await state('tom.support')).to.deep.equal({ failures: LOCK_AFTER_FAILED_LOGINS, locked: true });

    const { result, runs } = await scryptRuns(async () => observable(await signIn(test.url, 'tom.support', PASSWORD)));
    expect(result).to.deep.equal(wrong[0]);
    const { runs: wrongRuns } = await scryptRuns(() => signIn(test.url, 'sara.support', 'another wrong password'));
    expect(runs, 'a locked user costs one check, as a wrong password').to.deep.equal(wrongRuns).and.to.have.length(1);
    // And on the other host process, which shares the count.
    expect(await observable(await signIn(short.url, 'tom.support', PASSWORD))).to.deep.equal(wrong[0]);
  });

  it('an unknown user name answers as a wrong password does, and as a locked user, hashing included', async () => {
    const wrong = await scryptRuns(async () => observable(await signIn(test.url, 'sara.support', 'wrong password')));
    const unknown = await scryptRuns(async () => observable(await signIn(test.url, 'nobody.here', 'wrong password')));
    const locked = await scryptRuns(async () => observable(await signIn(test.url, 'tom.support', 'wrong password')));
    expect(unknown.result).to.deep.equal(wrong.result);
    expect(locked.result).to.deep.equal(wrong.result);
    expect(unknown.runs).to.deep.equal(wrong.runs).and.to.have.length(1);
    expect(locked.runs).to.deep.equal(wrong.runs);
  });

  it('a successful sign-in resets the count: four failures, success, four failures, success', async () => {
    await sequelize.query("UPDATE crm_users SET failed_logins = 0 WHERE user_name = 'sara.support'");
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < LOCK_AFTER_FAILED_LOGINS - 1; i += 1) expect((await signIn(test.url, 'sara.support', 'wrong')).status).to.equal(401);
      expect(await state('sara.support')).to.deep.equal({ failures: LOCK_AFTER_FAILED_LOGINS - 1, locked: false });
      expect((await signIn(round === 0 ? test.url : short.url, 'sara.support', PASSWORD)).status, `round ${round}`).to.equal(303);
      expect(await state('sara.support')).to.deep.equal({ failures: 0, locked: false });
    }
  });

  it('twenty wrong passwords at once, on two host processes, lock the user at exactly five; each still costs a check', async () => {
    const { result: answers, runs } = await scryptRuns(() =>
      Promise.all(Array.from({ length: 20 }, (_, i) => signIn(i % 2 === 0 ? test.url : short.url, 'lisa.sales', `wrong ${i}`).then((r) => r.status))),
    );
    expect(answers).to.deep.equal(Array.from({ length: 20 }, () => 401));
    expect(runs).to.have.length(20);
    expect(await state('lisa.sales')).to.deep.equal({ failures: LOCK_AFTER_FAILED_LOGINS, locked: true });
    expect((await signIn(test.url, 'lisa.sales', PASSWORD)).status).to.equal(401);
  });

  it('the lock lifts by itself after the lock time: the right password then signs in, with a fresh count', async () => {
    await sequelize.query("UPDATE crm_users SET failed_logins = 0, locked_at = NULL WHERE user_name = 'sara.support'");
    for (let i = 0; i < LOCK_AFTER_FAILED_LOGINS; i += 1) await signIn(short.url, 'sara.support', 'wrong');
    const lockedAt = Date.now();
    expect(await state('sara.support')).to.deep.equal({ failures: LOCK_AFTER_FAILED_LOGINS, locked: true });
    expect((await signIn(short.url, 'sara.support', PASSWORD)).status, 'still locked').to.equal(401);
    expect(Date.now() - lockedAt, 'the check above ran within the lock time').to.be.below(SHORT_LOCK_MS);
    await new Promise((resolve) => setTimeout(resolve, SHORT_LOCK_MS - (Date.now() - lockedAt) + 200));
    expect((await signIn(short.url, 'sara.support', PASSWORD)).status).to.equal(303);
    expect(await state('sara.support')).to.deep.equal({ failures: 0, locked: false });
    // The host with the default 15 minutes still holds its own locks (tom's, from the first test).
    expect((await signIn(test.url, 'tom.support', PASSWORD)).status).to.equal(401);
  });

  it('npm run host -- unlock-user <userName> unlocks a locked user (the only admin too); an unknown name is an error', async function () {
    for (let i = 0; i < LOCK_AFTER_FAILED_LOGINS; i += 1) await signIn(test.url, 'admin', 'wrong');
    expect((await signIn(test.url, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(401);

    const url = test.host.options.databaseUrl;
    const unlocked = await cli(url, 'unlock-user', 'admin');
    expect(unlocked).to.deep.include({ code: 0, stderr: '' });
    expect(unlocked.stdout.trim()).to.equal('Unlocked CRM user admin.');
    expect(await state('admin')).to.deep.equal({ failures: 0, locked: false });
    expect((await signIn(test.url, 'admin', TEST_ADMIN_PASSWORD)).status).to.equal(303);

    await signIn(test.url, 'admin', 'wrong');
    const notLocked = await cli(url, 'unlock-user', 'admin');
    expect(notLocked).to.deep.include({ code: 0, stderr: '' });
    expect(notLocked.stdout.trim()).to.equal('CRM user admin was not locked; its count of failed sign-ins is cleared.');
    expect(await state('admin')).to.deep.equal({ failures: 0, locked: false });

    const unknown = await cli(url, 'unlock-user', 'nobody.here');
    expect(unknown).to.deep.include({ code: 1, stdout: '' });
    expect(unknown.stderr.trim()).to.equal('Error: No CRM user named "nobody.here"');
    expect((await cli(url, 'unlock-user')).code, 'no user name').to.equal(1);
  });
});

describe('the CRM user lockout migration @db', function () {
  this.timeout(60_000);
  const MIGRATION = '20261207300000-crm-user-lockout';

  it('gives the users of an upgraded CRM a count of zero and no lock, goes down and up again, and is safe to re-run', async () => {
    const database = await scratchDatabase();
    const db = await openDatabase(database.url);
    try {
      const qi = db.sequelize.getQueryInterface();
      const migrator = hostMigrator(db.sequelize, db.dialect);
      const all = (await migrator.pending()).map((m) => m.name);
      expect(all).to.include(MIGRATION);
      await migrator.up({ to: all[all.indexOf(MIGRATION) - 1]! });
      await qi.bulkInsert('crm_users', [{ user_name: 'old.user', password_hash: '!', created_at: new Date(), updated_at: new Date() }]);
      await migrator.up();
      const users = () => db.sequelize.query<Record<string, unknown>>("SELECT failed_logins, failed_at, locked_at FROM crm_users WHERE user_name = 'old.user'", { type: QueryTypes.SELECT });
      expect((await users()).map((row) => ({ ...row, failed_logins: Number(row.failed_logins) }))).to.deep.equal([{ failed_logins: 0, failed_at: null, locked_at: null }]);

      await migrator.down({ to: MIGRATION });
      const columns = Object.keys(await qi.describeTable('crm_users'));
      for (const column of ['failed_logins', 'failed_at', 'locked_at']) expect(columns).not.to.include(column);
      expect(columns).to.include('user_name');
      expect(await db.sequelize.query("SELECT user_name FROM crm_users WHERE user_name = 'old.user'", { type: QueryTypes.SELECT })).to.have.length(1);
      await migrator.up();
      await runHostMigrationAgain(MIGRATION, db);
      expect(await users()).to.have.length(1);
    } finally {
      await db.sequelize.close();
      await database.drop();
    }
  });
});
