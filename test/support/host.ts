/**
 * A reference host for one suite: a scratch database (SQLite, or a new database on the server of
 * DATABASE_URL), a temporary data folder, any free port, silent logs, the admin password
 * `Admin-test-1`, and the demo data only when asked. `stop()` closes it and drops the database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReferenceHost, type ReferenceHost, type ReferenceHostOptions } from '../../host/reference-host.js';
import { scratchDatabase } from './database.js';

export const TEST_ADMIN_PASSWORD = 'Admin-test-1';

export interface TestHost {
  readonly host: ReferenceHost;
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `reach`: the address the host is given for its scratch database, from the one the suite made
 * (through a test's proxy, say); the database is still made and dropped at the real one.
 */
export async function startTestHost(options: Partial<ReferenceHostOptions> = {}, reach: (url: string) => string = (url) => url): Promise<TestHost> {
  const database = await scratchDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-host-'));
  const cleanUp = async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let host: ReferenceHost | undefined;
  try {
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
    if (host.options.demo) {
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
