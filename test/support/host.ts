/**
 * A reference host for one suite: a scratch database (SQLite, or a new database on the server of
 * DATABASE_URL), a temporary data folder, any free port, silent logs, the admin password
 * `Admin-test-1`, and the demo data only when asked. `stop()` closes it and drops the database.
 * On SQLite the database is usually a copy of one set up before in the same process (`setUpCopy`).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createReferenceHost, type ReferenceHost, type ReferenceHostOptions } from '../../host/reference-host.js';
import { scratchDatabase, serverUnderTest } from './database.js';

export const TEST_ADMIN_PASSWORD = 'Admin-test-1';

export interface TestHost {
  readonly host: ReferenceHost;
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Options that only say how a host runs, not what its first start writes to a new database.
 * A start with no other options (but `demo` and `timeZone`) on SQLite begins from a copy of a
 * set-up database (see `setUpCopy`).
 */
const RUNNING_OPTIONS: ReadonlySet<string> = new Set<keyof ReferenceHostOptions>([
  'port', 'baseUrl', 'smtpUrl', 'sessionSecret', 'logLevel', 'watchRegistryMs', 'databaseWaitMs', 'shutdownGraceMs', 'mailRetryMs', 'crmLockMs',
]);

/** A database a first start (with the demo data, if asked) left, closed, and that start's data folder (the demo's files). */
interface SetUpDatabase {
  readonly databaseDir: string;
  readonly dataDir: string;
}

const SET_UP = Symbol.for('business-portal.test.set-up-databases');
const setUpDatabases = ((globalThis as { [SET_UP]?: Map<string, Promise<SetUpDatabase>> })[SET_UP] ??= new Map());

/**
 * A new SQLite database that is what a first start with `options` writes (host and plugin
 * migrations, base users, standard modules, templates and rules, the plugin installed; the demo
 * data when asked), as a copy: the first such start in this test process is done for real and its
 * database kept. It saves the same migrations and seeding again on every start (0.4 s of CPU; 1 s
 * with the demo data; some 250 starts a run). Only keys derived from the session secret are not
 * stored, so a copy works with any secret. Kept per day: the demo's dates count from the day it
 * was made. Null where the database is not SQLite or `options` say more than how the host runs.
 */
async function setUpCopy(options: Partial<ReferenceHostOptions>): Promise<SetUpDatabase | null> {
  if (serverUnderTest()) return null;
  const { demo = false, timeZone, ...rest } = options;
  if (Object.keys(rest).some((name) => !RUNNING_OPTIONS.has(name))) return null;
  const key = JSON.stringify({ demo, timeZone, day: new Date().toDateString() });
  let setUp = setUpDatabases.get(key);
  if (!setUp) {
    setUp = (async () => {
      const first = await startHost({ demo, ...(timeZone ? { timeZone } : {}) }, (url) => url, null);
      const databaseDir = dirname(sqliteFile(first.host.options.databaseUrl));
      const dataDir = first.host.options.dataDir;
      await first.host.close();
      process.once('exit', () => {
        rmSync(databaseDir, { recursive: true, force: true });
        rmSync(dataDir, { recursive: true, force: true });
      });
      return { databaseDir, dataDir };
    })();
    setUpDatabases.set(key, setUp);
    setUp.catch(() => setUpDatabases.delete(key));
  }
  return setUp;
}

/**
 * Makes, if not made yet, the set-up database that `startTestHost(options)` copies: a test that
 * watches what a start does (the timers it sets, say) calls it first, so that it sees its own
 * start only and not that first, real one as well.
 */
export async function prepareTestHost(options: Partial<ReferenceHostOptions> = {}): Promise<void> {
  await setUpCopy(options);
}

/**
 * `reach`: the address the host is given for its scratch database, from the one the suite made
 * (through a test's proxy, say); the database is still made and dropped at the real one, and
 * set up by this start (never a copy).
 */
export async function startTestHost(options: Partial<ReferenceHostOptions> = {}, reach?: (url: string) => string): Promise<TestHost> {
  const copy = reach ? null : await setUpCopy(options);
  return startHost(options, reach ?? ((url) => url), copy);
}

const sqliteFile = (url: string): string => url.slice('sqlite:'.length);

async function startHost(options: Partial<ReferenceHostOptions>, reach: (url: string) => string, copy: SetUpDatabase | null): Promise<TestHost> {
  const database = await scratchDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-host-'));
  const cleanUp = async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let host: ReferenceHost | undefined;
  try {
    if (copy) {
      // The database file with its write-ahead log, if the closed host left one, and the files.
      const databaseDir = dirname(sqliteFile(database.url));
      for (const name of readdirSync(copy.databaseDir)) copyFileSync(join(copy.databaseDir, name), join(databaseDir, name));
      cpSync(copy.dataDir, dataDir, { recursive: true });
    }
    host = await createReferenceHost({
      databaseUrl: reach(database.url),
      dataDir,
      port: 0,
      logLevel: 'silent',
      adminPassword: TEST_ADMIN_PASSWORD,
      sessionSecret: randomBytes(32).toString('base64url'),
      demo: false,
      ...options,
    });
    await host.start();
    if (host.options.demo && !copy) {
      const { seedDemoData } = await import('../../host/demo/demo-data.js');
      await seedDemoData(host);
    }
    const { url } = await host.listen(0);
    const started = host;
    let stopped = false;
    return {
      host: started,
      url,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await started.close();
        } finally {
          await cleanUp();
        }
      },
    };
  } catch (error) {
    await host?.close().catch(() => undefined);
    await cleanUp();
    throw error;
  }
}

function cookiesOf(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const at = pair!.indexOf('=');
    if (at > 0) cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim());
  }
  return cookies;
}

/** The login form's CSRF token and the cookie that goes with it. */
export async function crmLoginForm(url: string): Promise<{ readonly token: string; readonly cookie: string }> {
  const response = await fetch(`${url}/login`, { redirect: 'manual' });
  const html = await response.text();
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  const cookie = cookiesOf(response).get('crm_login_csrf');
  if (response.status !== 200 || !token || !cookie) throw new Error(`The CRM login form did not load (HTTP ${response.status})`);
  return { token, cookie: `crm_login_csrf=${cookie}` };
}

/** Signs a CRM user in through the login form; returns the `Cookie` header of their session. */
export async function crmLogin(url: string, userName: string, password: string): Promise<string> {
  const form = await crmLoginForm(url);
  const response = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    body: new URLSearchParams({ csrf: form.token, userName, password, returnTo: '/' }).toString(),
  });
  const session = cookiesOf(response).get('crm_sid');
  if (response.status !== 303 || !session) throw new Error(`CRM login of "${userName}" failed (HTTP ${response.status})`);
  return `crm_sid=${session}`;
}

/**
 * A second host process on the database of `first` (as a second server of one CRM would be):
 * its own data folder and port, the same tables. Stopping it leaves the database to `first`.
 */
export async function startSecondHost(first: TestHost, options: Partial<ReferenceHostOptions> = {}): Promise<TestHost> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-host-'));
  const host = await createReferenceHost({ ...first.host.options, dataDir, port: 0, demo: false, ...options });
  try {
    await host.start();
    const { url } = await host.listen(0);
    let stopped = false;
    return {
      host,
      url,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await host.close();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await host.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
