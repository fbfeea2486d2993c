import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import createBusinessPortal from '../../plugin/index.js';
import { LifecycleOrderError } from '../../plugin/lifecycle/plugin-lifecycle.js';
import { corePlugin, startPluginTestHost, type PluginTestHost } from './plugin-test-host.js';

const bpTables = (names: string[]) => names.filter((n) => n.startsWith('bp_'));

describe('plugin lifecycle @db', () => {
  let t: PluginTestHost;

  beforeEach(async () => {
    t = await startPluginTestHost();
  });
  afterEach(async () => {
    await t.stop();
  });

  async function countRows(table: string): Promise<number> {
    const [row] = await t.host.database.sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`, { type: QueryTypes.SELECT });
    return Number(row!.n);
  }

  it('refuses every step out of order with a clear error', async () => {
    const plugin = corePlugin();
    await expectOrderError(plugin.activate(t.host), /cannot activate in state "created"/);
    await expectOrderError(plugin.deactivate(), /cannot deactivate/);
    await expectOrderError(plugin.uninstall(t.host, { keepData: true }), /cannot uninstall/);

    await plugin.install(t.host);
    await expectOrderError(plugin.deactivate(), /cannot deactivate in state "installed"/);

    await plugin.activate(t.host);
    expect(plugin.state).to.equal('active');
    await expectOrderError(plugin.activate(t.host), /cannot activate in state "active"/);
    await expectOrderError(plugin.install(t.host), /cannot install in state "active"/);
    await expectOrderError(plugin.uninstall(t.host, { keepData: true }), /cannot uninstall in state "active"/);

    await plugin.deactivate();
    await expectOrderError(plugin.deactivate(), /cannot deactivate in state "inactive"/);
    await plugin.activate(t.host);
    await plugin.deactivate();
    await plugin.uninstall(t.host, { keepData: true });
    expect(plugin.state).to.equal('uninstalled');
    await expectOrderError(plugin.activate(t.host), /cannot activate in state "uninstalled"/);
  });

  it('refuses a second transition while one is running', async () => {
    const plugin = corePlugin();
    const first = plugin.install(t.host);
    await expectOrderError(plugin.install(t.host), /while install is still running/);
    await first;
    expect(plugin.state).to.equal('installed');
  });

  it('installs the tables and the Default profile, and a second install changes nothing', async () => {
    const plugin = corePlugin();
    await plugin.install(t.host);
    expect(bpTables(await t.tableNames())).to.include.members(['bp_migrations', 'bp_profiles', 'bp_settings', 'bp_portal_accounts']);
    const migrations = await countRows('bp_migrations');
    expect(migrations).to.be.greaterThan(0);
    expect(await countRows('bp_profiles')).to.equal(1);
    expect(await countRows('bp_settings')).to.equal(1);

    await plugin.install(t.host);
    // A new instance (the host restarting) installs again too.
    await corePlugin().install(t.host);
    expect(await countRows('bp_migrations')).to.equal(migrations);
    expect(await countRows('bp_profiles')).to.equal(1);
    expect(await countRows('bp_settings')).to.equal(1);
  });

  it('mounts its routers and menu entries on activate and removes them on deactivate', async () => {
    const plugin = corePlugin();
    await plugin.install(t.host);
    await plugin.activate(t.host);

    const entries = t.menuEntries();
    expect(entries.map((e) => e.id)).to.deep.equal(['business-portal.profiles', 'business-portal.login-check']);
    expect(entries[0]!.label).to.deep.include({ en: 'Business Portal', it: 'Business Portal' });
    expect(entries[1]!.label).to.deep.include({ en: 'Check Business Portal login', it: 'Controllo login Business Portal' });
    expect(entries[1]).to.include({ path: '/settings/business-portal/login-check', section: 'customer-tools', adminOnly: true });
    expect(entries[1]!.description?.en).to.be.a('string').and.not.empty;
    expect((await fetch(`${t.url}/portal/api/v1`)).status).to.equal(200);

    await plugin.deactivate();
    expect(t.menuEntries()).to.deep.equal([]);
    const after = await fetch(`${t.url}/portal/api/v1`);
    expect(after.status).to.equal(404);
    expect(await after.text()).to.equal('host 404');

    await plugin.activate(t.host);
    expect((await fetch(`${t.url}/portal/api/v1`)).status).to.equal(200);
    expect(t.menuEntries()).to.have.length(2);
    await plugin.deactivate();
  });

  it('mounts the portal at the configured path', async () => {
    const plugin = corePlugin({ portalPath: '/customers/' });
    await plugin.install(t.host);
    await plugin.activate(t.host);
    expect((await fetch(`${t.url}/customers/api/v1`)).status).to.equal(200);
    expect(await (await fetch(`${t.url}/portal/api/v1`)).text()).to.equal('host 404');
    await plugin.deactivate();
  });

  it('uninstall with keepData keeps the tables and their rows; a reinstall finds them', async () => {
    const plugin = corePlugin();
    await plugin.install(t.host);
    await t.host.database.sequelize.query(
      `INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version) VALUES ('Resellers', 'kept', :no, :now, :now, 1)`,
      { replacements: { no: false, now: new Date() } },
    );
    await plugin.activate(t.host);
    await plugin.deactivate();
    const before = bpTables(await t.tableNames());
    expect(before).to.include.members(['bp_migrations', 'bp_profiles', 'bp_settings']);
    await plugin.uninstall(t.host, { keepData: true });
    expect(bpTables(await t.tableNames())).to.deep.equal(before);

    await plugin.install(t.host);
    expect(await countRows('bp_profiles')).to.equal(2);
  });

  it('uninstall without keepData drops every bp_ table, the migration table too', async () => {
    const plugin = corePlugin();
    await plugin.install(t.host);
    await plugin.activate(t.host);
    await plugin.deactivate();
    await plugin.uninstall(t.host, { keepData: false });
    expect(bpTables(await t.tableNames())).to.deep.equal([]);

    // And it can be installed again from nothing.
    await plugin.install(t.host);
    expect(await countRows('bp_profiles')).to.equal(1);
  });

  it('the public entry composes every capability behind the shared shell, and uninstalls cleanly', async () => {
    const plugin = createBusinessPortal();
    expect(plugin.id).to.equal('business-portal');
    await plugin.install(t.host);
    await plugin.activate(t.host);
    // The auth capability's login route sits behind the shell: its headers, its JSON errors.
    const res = await fetch(`${t.url}/portal/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'not-the-password' }),
    });
    expect(res.status).to.equal(401);
    expect(res.headers.get('content-security-policy')).to.include("object-src 'none'");
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(((await res.json()) as { error: { code: string } }).error.code).to.be.a('string');
    await plugin.deactivate();
    await plugin.uninstall(t.host, { keepData: false });
    expect(bpTables(await t.tableNames())).to.deep.equal([]);
  });

  it('seedDemo needs a demo seeder and an installed plugin', async () => {
    const plugin = corePlugin();
    await expectOrderError(plugin.seedDemo(t.host, []), /cannot seedDemo in state "created"/);
    await plugin.install(t.host);
    let error: unknown;
    try {
      await plugin.seedDemo(t.host, []);
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/no demo seeder/);
  });
});

async function expectOrderError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a LifecycleOrderError').to.be.instanceOf(LifecycleOrderError);
  expect((error as Error).message).to.match(message);
}
