/**
 * The plugin's shell through the real reference host (loaded through the plugin's public entry):
 * install and uninstall against its database, the admin gate, and the security headers on
 * portal and admin responses, errors included.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { hashPassword } from '../../host/users/password-hash.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import createBusinessPortal from '../../plugin/index.js';
import { crmLogin, startTestHost } from '../support/host.js';
import { expectSecurityHeaders } from '../support/expectations.js';

type TestHost = Awaited<ReturnType<typeof startTestHost>>;

const ADMIN_PASSWORD = 'Admin-test-1';
const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-password-1';

async function bpTables(api: HostApi): Promise<string[]> {
  const names = (await api.database.sequelize.getQueryInterface().showAllTables()) as unknown[];
  return names
    .map((n) => (typeof n === 'string' ? n : (n as { tableName: string }).tableName))
    .filter((n) => n.startsWith('bp_'))
    .sort();
}

async function count(api: HostApi, table: string): Promise<number> {
  const [row] = await api.database.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`, { type: QueryTypes.SELECT });
  return Number(row!.n);
}

describe('plugin shell through the reference host @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: string;
  let clerk: string;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    // Staff users have no password outside the demo: give one to a non-admin for these tests.
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
    admin = await crmLogin(test.url, 'admin', ADMIN_PASSWORD);
    clerk = await crmLogin(test.url, CLERK, CLERK_PASSWORD);
  });
  after(async () => {
    await test?.stop();
  });

  const get = (path: string, cookie?: string) => fetch(`${test.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  it('has installed the plugin: its tables, the Default profile, its menu entries', async () => {
    expect(await bpTables(api)).to.include.members(['bp_migrations', 'bp_profiles', 'bp_settings', 'bp_portal_accounts']);
    const [row] = await api.database.sequelize.query<{ name: string }>('SELECT name FROM bp_profiles WHERE name = :name', {
      type: QueryTypes.SELECT,
      replacements: { name: 'Default' },
    });
    expect(row?.name).to.equal('Default');
    expect(api.settingsMenu.entries().map((e) => e.path)).to.include.members(['/settings/business-portal', '/settings/business-portal/login-check']);
  });

  it('installing again (a restart) changes nothing', async () => {
    const before = { migrations: await count(api, 'bp_migrations'), profiles: await count(api, 'bp_profiles'), settings: await count(api, 'bp_settings') };
    const again = createBusinessPortal();
    await again.install(api);
    await again.install(api);
    expect({ migrations: await count(api, 'bp_migrations'), profiles: await count(api, 'bp_profiles'), settings: await count(api, 'bp_settings') }).to.deep.equal(before);
  });

  for (const path of ['/settings/business-portal', '/settings/business-portal/login-check']) {
    it(`guards ${path}: anonymous → login, non-admin → 403, admin → 200`, async () => {
      const anonymous = await get(path);
      expect([302, 303]).to.include(anonymous.status);
      expect(anonymous.headers.get('location')).to.match(new RegExp(`^/login\\?returnTo=${encodeURIComponent(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      expectSecurityHeaders(anonymous, `anonymous ${path}`, ["default-src 'self'"]);

      const refused = await get(path, clerk);
      expect(refused.status).to.equal(403);
      expectSecurityHeaders(refused, `403 ${path}`);

      const page = await get(path, admin);
      expect(page.status).to.equal(200);
      expectSecurityHeaders(page, `admin ${path}`);
      const html = await page.text();
      expect(html).to.include(path.endsWith('login-check') ? 'Check Business Portal login' : 'Version 2');
    });
  }

  it('shows the version, the Default profile and the portal address to an admin', async () => {
    const html = await (await get('/settings/business-portal', admin)).text();
    expect(html).to.include('Version 2');
    expect(html).to.match(/<td[^>]*>Default<\/td>\s*<td[^>]*>The profile of every portal contact that has no other one\.<\/td>/);
    expect(html).to.include(api.http.publicUrl('/portal'));
  });

  it('sets the security headers on portal responses, 404s and errors included', async () => {
    const index = await get('/portal/api/v1');
    expect(index.status).to.equal(200);
    expect(await index.json()).to.deep.equal({ name: 'Business Portal API', version: '1', openapi: '/portal/api/v1/openapi.json' });
    expectSecurityHeaders(index, 'API index');

    const missing = await get('/portal/api/v1/no/such/route');
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).to.equal('not_found');
    expectSecurityHeaders(missing, 'API 404');

    const malformed = await fetch(`${test.url}/portal/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    expect(malformed.status).to.equal(400);
    expectSecurityHeaders(malformed, 'API 400');

    const page404 = await get('/portal/no-such-page');
    expect(page404.status).to.equal(404);
    expectSecurityHeaders(page404, 'portal 404');

    const admin404 = await get('/settings/business-portal/no-such-page', admin);
    expect(admin404.status).to.equal(404);
    expectSecurityHeaders(admin404, 'admin 404');
  });
});

describe('plugin uninstall through the reference host @db', () => {
  let test: TestHost;

  beforeEach(async () => {
    test = await startTestHost();
  });
  afterEach(async () => {
    await test?.stop();
  });

  it('keeps every table and row with keepData, and drops every bp_ table without', async () => {
    const api = test.host.api;
    // A second instance of the plugin, never activated, owns the same tables as the host's.
    const plugin = createBusinessPortal();
    await plugin.install(api);
    const tables = await bpTables(api);
    const profiles = await count(api, 'bp_profiles');

    await plugin.uninstall(api, { keepData: true });
    expect(await bpTables(api)).to.deep.equal(tables);
    expect(await count(api, 'bp_profiles')).to.equal(profiles);

    await plugin.install(api);
    await plugin.uninstall(api, { keepData: false });
    expect(await bpTables(api)).to.deep.equal([]);
  });
});
