/**
 * What the portal, its API and the plugin's admin pages answer while the database does not: the
 * host reaches its PostgreSQL or MariaDB server through a TCP proxy of this test, which cuts every
 * connection (a server gone) and then lets them through again. The machine's server is never
 * touched. SQLite has no connection to cut: its failures are classified below from their shapes.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import sqlite3 from 'sqlite3';
import { sqliteStorage } from '../../host/database.js';
import { isDatabaseUnavailable, DATABASE_UNAVAILABLE_RETRY_AFTER } from '../../plugin/http/database-outage.js';
import { API, apiClient, JANE, portalLogin } from '../portal-api/api-test-kit.js';
import { serverUnderTest } from '../support/database.js';
import { crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const DEMO_ADMIN_PASSWORD = 'Admin-demo-1';
const SETTINGS = '/settings/business-portal';

/**
 * A host whose database server (the one the @db run is on) is reached through a TCP proxy of the
 * test's, to cut or stall; undefined on SQLite, which has no connection to cut.
 */
async function hostThroughProxy(options: Parameters<typeof startTestHost>[0]): Promise<{ test: TestHost; proxy: TcpProxy } | undefined> {
  const server = serverUnderTest();
  if (!server) return undefined;
  const target = new URL(server);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  const test = await startTestHost(options, (url) => {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(proxy.port);
    return through.toString();
  });
  return { test, proxy };
}

/** The host's error and warning lines (on stderr) while `run` runs. */
async function loggedDuring<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await run(), lines };
  } finally {
    process.stderr.write = write;
  }
}

describe('database outage: the portal, its API and the admin pages answer 503 and recover @db', function () {
  let test: TestHost;
  let proxy: TcpProxy;
  let customer: string;
  let admin: string;

  before(async function () {
    // A host with the demo seeded through the proxy: on PostgreSQL beside other suites, over 30 s.
    this.timeout(90_000);
    const started = await hostThroughProxy({ demo: true, logLevel: 'warn' });
    if (!started) return this.skip();
    ({ test, proxy } = started);
    customer = await portalLogin(test, JANE);
    admin = await crmLogin(test.url, 'admin', DEMO_ADMIN_PASSWORD);
  });

  after(async () => {
    proxy?.restore();
    await test?.stop();
    await proxy?.close();
  });

  afterEach(() => proxy?.restore());

  it('answers the API, a page and an admin page 503 with Retry-After in the client’s language, and logs the outage once', async () => {
    const api = apiClient(test, customer);
    expect((await api.get('/modules')).status).to.equal(200);
    proxy.cut();
    const { result, lines } = await loggedDuring(async () => ({
      apiEn: await api.get('/modules'),
      apiIt: await api.get('/modules', { 'accept-language': 'it' }),
      page: await fetch(`${test.url}/portal/`, { headers: { cookie: `${customer}; bp_lang=it` } }),
      signIn: await fetch(`${test.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: JANE, password: 'not-the-password' }) }),
      adminPage: await fetch(`${test.url}${SETTINGS}`, { headers: { cookie: admin, 'accept-language': 'it' } }),
      adminJson: await fetch(`${test.url}${SETTINGS}`, { headers: { cookie: admin, accept: 'application/json' } }),
    }));

    expect(result.apiEn.status).to.equal(503);
    expect(result.apiEn.headers.get('retry-after')).to.equal(String(DATABASE_UNAVAILABLE_RETRY_AFTER));
    expect(result.apiEn.body).to.deep.equal({
      error: { code: 'service_unavailable', message: 'The portal cannot reach its data right now: nothing was changed. Please try again in a few moments.' },
    });
    expect(result.apiIt.status).to.equal(503);
    expect(result.apiIt.body.error.message).to.match(/^Il portale non riesce a raggiungere i suoi dati/);

    expect(result.page.status).to.equal(503);
    expect(result.page.headers.get('retry-after')).to.equal(String(DATABASE_UNAVAILABLE_RETRY_AFTER));
    const page = await result.page.text();
    expect(page).to.include('<html lang="it">');
    expect(page).to.include('Il portale non è disponibile per qualche istante');
    expect(page).not.to.match(/ECONNRESET|Sequelize|at \S+ \(/);

    expect(result.signIn.status, 'a sign-in during the outage').to.equal(503);
    expect(((await result.signIn.json()) as { error: { code: string } }).error.code).to.equal('service_unavailable');

    expect(result.adminPage.status).to.equal(503);
    expect(result.adminPage.headers.get('retry-after')).to.equal(String(DATABASE_UNAVAILABLE_RETRY_AFTER));
    const adminPage = await result.adminPage.text();
    expect(adminPage, 'the admin page without the CRM’s layout').to.include('Il portale non è disponibile per qualche istante');
    expect(adminPage).not.to.match(/ECONNRESET|Sequelize|Internal error/);
    expect(result.adminJson.status).to.equal(503);
    expect(((await result.adminJson.json()) as { error: { code: string } }).error.code).to.equal('service_unavailable');

    const outage = lines.filter((line) => line.includes('the database is not answering'));
    expect(outage, lines.join('')).to.have.length(1);
    expect(lines.join(''), 'no stack per request').not.to.include('"stack"');
  });

  it('serves again once the database answers, without a restart, and counted no failed password', async () => {
    proxy.cut();
    const refused = await fetch(`${test.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: JANE, password: 'not-the-password' }) });
    expect(refused.status).to.equal(503);
    proxy.restore();

    const api = apiClient(test, customer);
    expect((await api.get('/modules')).status, 'the pool opened new connections').to.equal(200);
    expect((await fetch(`${test.url}/portal/`, { headers: { cookie: customer } })).status).to.equal(200);
    expect((await fetch(`${test.url}${SETTINGS}`, { headers: { cookie: admin } })).status).to.equal(200);
    const [account] = await test.host.api.database.sequelize.query<{ failed_attempts: unknown }>(
      'SELECT failed_attempts FROM bp_portal_accounts WHERE email = :email',
      { type: QueryTypes.SELECT, replacements: { email: JANE } },
    );
    expect(Number(account!.failed_attempts), 'the outage counted no failure').to.equal(0);
    await portalLogin(test, JANE);
  });
});

describe('database outage: a connection lost between the lockout’s reservation and its settling @db', function () {
  let test: TestHost;
  let proxy: TcpProxy;

  before(async function () {
    const started = await hostThroughProxy({ demo: true, logLevel: 'silent' });
    if (!started) return this.skip();
    ({ test, proxy } = started);
  });

  after(async () => {
    proxy?.restore();
    await test?.stop();
    await proxy?.close();
  });

  it('does not count the right password as a failure when the database blinks as the attempt is settled', async () => {
    const sequelize = test.host.api.database.sequelize;
    let blinked = false;
    const query = sequelize.query;
    sequelize.query = function (this: unknown, sql: unknown, ...rest: unknown[]) {
      if (!blinked && typeof sql === 'string' && /SET failed_attempts = 0/.test(sql)) {
        blinked = true;
        proxy.cut();
        setTimeout(() => proxy.restore(), 300);
      }
      return (query as (...args: unknown[]) => unknown).call(this, sql, ...rest);
    } as typeof sequelize.query;
    try {
      const login = await fetch(`${test.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: JANE, password: 'Portal-demo-1' }) });
      expect(blinked, 'the database blinked at the settling').to.equal(true);
      expect(login.status, 'the blink is ridden out').to.equal(200);
    } finally {
      sequelize.query = query;
      proxy.restore();
    }
    const [account] = await sequelize.query<{ failed_attempts: unknown }>('SELECT failed_attempts FROM bp_portal_accounts WHERE email = :email', {
      type: QueryTypes.SELECT,
      replacements: { email: JANE },
    });
    expect(Number(account!.failed_attempts), 'the right password counted no failure').to.equal(0);
  });
});

describe('database outage: a server that hangs is given up on after databaseWaitMs, and used again once it answers @db', function () {
  let test: TestHost;
  let proxy: TcpProxy;

  before(async function () {
    const started = await hostThroughProxy({ demo: true, logLevel: 'silent', databaseWaitMs: 700 });
    if (!started) return this.skip();
    ({ test, proxy } = started);
  });

  after(async () => {
    proxy?.restore();
    await test?.stop();
    await proxy?.close();
  });

  it('answers 503 within the wait instead of holding the request for good, then 200 once it answers', async () => {
    const cookie = await portalLogin(test, JANE);
    const api = apiClient(test, cookie);
    expect((await api.get('/modules')).status).to.equal(200);
    proxy.stall();
    for (const path of ['/modules', '/modules/HelpDesk/records']) {
      const began = Date.now();
      const stalled = await fetch(`${test.url}${API}${path}`, { headers: { cookie }, signal: AbortSignal.timeout(5000) });
      expect(stalled.status, path).to.equal(503);
      expect(((await stalled.json()) as { error: { code: string } }).error.code).to.equal('service_unavailable');
      expect(Date.now() - began, 'answered after the wait, not held').to.be.below(4000);
    }
    const page = await fetch(`${test.url}/portal/`, { headers: { cookie }, signal: AbortSignal.timeout(5000) });
    expect(page.status).to.equal(503);
    proxy.restore();
    expect((await api.get('/modules')).status, 'a connection that timed out is not used again').to.equal(200);
    expect((await api.get('/modules/HelpDesk/records')).status).to.equal(200);
  });
});

describe('database outage: /readyz, the load balancer\'s probe, answers 503 within a second of a server that hangs, one probe query at a time @db', function () {
  let test: TestHost;
  let proxy: TcpProxy;

  before(async function () {
    // The default wait (30 s): the probe's own second is what answers.
    const started = await hostThroughProxy({ logLevel: 'silent' });
    if (!started) return this.skip();
    ({ test, proxy } = started);
  });

  after(async () => {
    proxy?.restore();
    await test?.stop();
    await proxy?.close();
  });

  it('answers 503 {status: "database unavailable"} to every caller within about a second, sends one probe for them all, and 200 once the server answers', async () => {
    const readyz = () => fetch(`${test.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    expect((await readyz()).status).to.equal(200);
    // Counted as they are asked for: a query waiting for a connection to the hanging server runs no hook yet.
    const sequelize = test.host.api.database.sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> };
    const query = sequelize.query;
    const probes: string[] = [];
    sequelize.query = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string' && /^SELECT 1\b/.test(args[0])) probes.push(args[0]);
      return query.apply(this, args);
    };
    try {
      proxy.stall();
      for (let round = 0; round < 3; round++) {
        const began = Date.now();
        const answers = await Promise.all(Array.from({ length: 10 }, () => readyz()));
        expect(Date.now() - began, `round ${round}: ms until all answered`).to.be.below(2_500);
        for (const answer of answers) {
          expect(answer.status).to.equal(503);
          expect(await answer.text()).to.equal(JSON.stringify({ status: 'database unavailable' }));
        }
      }
      expect(probes.length, 'probe queries sent to the hanging server').to.equal(1);
      expect((await fetch(`${test.url}/healthz`)).status, 'healthz: the process is up').to.equal(200);
      proxy.restore();
      let status = 0;
      for (let tries = 0; tries < 20 && status !== 200; tries++) status = (await readyz()).status;
      expect(status, 'once the server answers').to.equal(200);
    } finally {
      sequelize.query = query;
    }
  });
});

describe('database outage: an SQLite file another program holds locked past the lock wait', function () {
  let test: TestHost;
  let other: sqlite3.Database | undefined;
  const exec = (sql: string) => new Promise<void>((ok, fail) => other!.exec(sql, (error) => (error ? fail(error) : ok())));

  before(async function () {
    if (serverUnderTest()) return this.skip();
    test = await startTestHost({ demo: true, logLevel: 'silent', databaseWaitMs: 400 });
  });

  after(async () => {
    if (other) await new Promise<void>((done) => other!.close(() => done()));
    await test?.stop();
  });

  it('answers a ticket create 503 within a second or two (not after ten lock waits), writes nothing, and creates it once the lock is gone', async () => {
    const api = apiClient(test, await portalLogin(test, JANE));
    const tickets = async () => (await test.host.api.records.query('HelpDesk', { limit: 1000 })).rows.length;
    const before = await tickets();
    other = new sqlite3.Database(sqliteStorage(test.host.options.databaseUrl));
    await exec('PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE; UPDATE bp_portal_accounts SET version = version');

    expect((await api.get('/modules')).status, 'reads go on beside the lock (write-ahead log)').to.equal(200);
    const began = Date.now();
    const refused = await api.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'During the lock' } });
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal(String(DATABASE_UNAVAILABLE_RETRY_AFTER));
    expect(refused.body.error.code).to.equal('service_unavailable');
    expect(Date.now() - began, 'one or two lock waits, not ten').to.be.below(3000);

    await exec('COMMIT');
    expect(await tickets(), 'nothing half-written').to.equal(before);
    const created = await api.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'After the lock' } });
    expect(created.status).to.equal(201);
    expect(await tickets()).to.equal(before + 1);
  });
});

describe('database outage: which failures mean the database is not answering', () => {
  const wrapped = (name: string, original: object) => Object.assign(new Error('wrapped'), { name, original, parent: original });

  it('knows a lost or refused connection on every dialect, and a locked or unwritable SQLite file', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { name: 'SequelizeConnectionRefusedError' }))).to.equal(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('timeout'), { name: 'SequelizeConnectionAcquireTimeoutError' }))).to.equal(true);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', new Error('Connection terminated unexpectedly')))).to.equal(true);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })))).to.equal(true);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('socket closed'), { code: 'ER_SOCKET_UNEXPECTED_CLOSE', errno: 45009, fatal: true })))).to.equal(true);
    expect(isDatabaseUnavailable(wrapped('SequelizeTimeoutError', Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' })))).to.equal(true);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('SQLITE_READONLY: attempt to write a readonly database'), { code: 'SQLITE_READONLY' })))).to.equal(true);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' })))).to.equal(true);
  });

  it('leaves a fault of the request or of the code a 500', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).to.equal(false);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('syntax error'), { code: '42601' })))).to.equal(false);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('SQLITE_ERROR: no such column: x'), { code: 'SQLITE_ERROR' })))).to.equal(false);
    expect(isDatabaseUnavailable(wrapped('SequelizeDatabaseError', Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY', errno: 1062, fatal: false })))).to.equal(false);
    expect(isDatabaseUnavailable(wrapped('SequelizeUniqueConstraintError', Object.assign(new Error('duplicate key'), { code: '23505' })))).to.equal(false);
  });
});
