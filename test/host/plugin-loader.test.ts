import { rmSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { HOST_API_VERSION } from '../../plugin/host-contract/index.js';
import { QueryTypes } from 'sequelize';
import { PluginRefusedError, readManifest } from '../../host/plugins/plugin-loader.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { FAKE_PLUGIN_ID, FAKE_ROUTE, FAKE_TABLE, writeFakePlugin } from './fake-plugin-fixture.js';

declare global {
  var fakePluginImports: number | undefined;
}

describe('plugin loader @db', () => {
  let test: TestHost;
  const folders: string[] = [];

  before(async () => {
    test = await startTestHost({ pluginManifests: [] });
  });
  after(async () => {
    await test?.stop();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  const fake = (...args: Parameters<typeof writeFakePlugin>) => {
    const written = writeFakePlugin(...args);
    folders.push(written.dir);
    return written;
  };
  const tables = async () => ((await test.host.api.database.sequelize.getQueryInterface().showAllTables()) as unknown[]).map((t) => (typeof t === 'string' ? t : (t as { tableName: string }).tableName)).sort();
  const pluginRows = () => test.host.api.database.sequelize.query<{ id: string; state: string; version: string }>('SELECT id, state, version FROM crm_plugins', { type: QueryTypes.SELECT });
  const status = async (path: string) => (await fetch(`${test.url}${path}`, { redirect: 'manual' })).status;

  /** Loads a manifest that must be refused, and checks that it left nothing behind. */
  async function expectRefusedWithoutTrace(manifest: string, reason: RegExp): Promise<void> {
    const tablesBefore = await tables();
    const importsBefore = globalThis.fakePluginImports ?? 0;
    let refusal: unknown;
    try {
      await test.host.plugins.start(manifest);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).to.be.instanceOf(PluginRefusedError);
    expect((refusal as Error).message).to.match(reason);
    expect(globalThis.fakePluginImports ?? 0, 'the entry was never imported').to.equal(importsBefore);
    expect(await pluginRows()).to.deep.equal([]);
    expect(await tables()).to.deep.equal(tablesBefore);
    expect(test.host.plugins.list()).to.deep.equal([]);
    expect(test.host.api.settingsMenu.entries()).to.deep.equal([]);
    expect(await status(FAKE_ROUTE)).to.equal(404);
  }

  it('refuses a manifest that breaks the JSON schema, listing every problem', async () => {
    const { manifest } = fake({ id: 'Not An Id', entry: undefined, extra: true });
    await expectRefusedWithoutTrace(manifest, /id: must match pattern/);
    expect(() => readManifest(manifest))
      .to.throw(PluginRefusedError, /"entry" is missing/)
      .and.to.match(/unknown property "extra"/);
  });

  it('refuses a manifest that is not JSON', async () => {
    const { manifest } = fake();
    writeFileSync(manifest, '{ "id": ');
    await expectRefusedWithoutTrace(manifest, /not valid JSON/);
  });

  it('refuses a plugin built for another host API version', async () => {
    const { manifest } = fake({ hostApi: '^2.0.0' });
    await expectRefusedWithoutTrace(manifest, new RegExp(`needs host API \\^2\\.0\\.0, but this host implements ${HOST_API_VERSION.replace(/\./g, '\\.')}`));
    expect(() => readManifest(fake({ hostApi: 'soon' }).manifest)).to.throw(PluginRefusedError, /not a semver range/);
  });

  it('refuses a manifest whose entry is missing', async () => {
    const { manifest } = fake({}, { withEntry: false });
    await expectRefusedWithoutTrace(manifest, /entry "index\.mjs" does not exist/);
  });

  it('runs the lifecycle and records each state: install → activate, deactivate, uninstall', async () => {
    const { manifest } = fake();
    const loaded = await test.host.plugins.start(manifest);
    expect(loaded.state).to.equal('active');
    expect(await pluginRows()).to.deep.equal([{ id: FAKE_PLUGIN_ID, state: 'active', version: '1.2.3' }]);
    expect(await tables()).to.include(FAKE_TABLE);
    expect(await status(FAKE_ROUTE)).to.equal(200);
    expect(test.host.api.settingsMenu.entries().map((e) => e.id)).to.deep.equal(['fake.settings']);

    await test.host.plugins.deactivate(FAKE_PLUGIN_ID);
    expect(await test.host.plugins.recordedState(FAKE_PLUGIN_ID)).to.equal('inactive');
    expect(await status(FAKE_ROUTE), 'its route is gone').to.equal(404);
    expect(test.host.api.settingsMenu.entries()).to.deep.equal([]);
    expect(test.host.api.recordBlocks.blocksFor('Contacts')).to.deep.equal([]);

    await test.host.plugins.activate(FAKE_PLUGIN_ID);
    expect(await status(FAKE_ROUTE)).to.equal(200);

    // Uninstalling an active plugin deactivates it first; without keepData nothing is left.
    await test.host.plugins.uninstall(FAKE_PLUGIN_ID, { keepData: false });
    expect(await status(FAKE_ROUTE)).to.equal(404);
    expect(await pluginRows()).to.deep.equal([]);
    expect(await tables()).not.to.include(FAKE_TABLE);
    expect(test.host.plugins.get(FAKE_PLUGIN_ID)).to.equal(undefined);
  });

  it('keeps an admin’s deactivation across a restart, and the data when asked to', async () => {
    const { manifest } = fake();
    await test.host.plugins.start(manifest);
    await test.host.plugins.deactivate(FAKE_PLUGIN_ID);
    await test.host.plugins.uninstall(FAKE_PLUGIN_ID, { keepData: true });
    expect(await pluginRows()).to.deep.equal([{ id: FAKE_PLUGIN_ID, state: 'uninstalled', version: '1.2.3' }]);
    expect(await tables()).to.include(FAKE_TABLE);

    // Installed again, then deactivated by an admin: the next start installs it but leaves it off.
    await test.host.plugins.start(fake().manifest);
    await test.host.plugins.deactivate(FAKE_PLUGIN_ID);
    await test.host.plugins.stopAll();
    await test.host.plugins.uninstall(FAKE_PLUGIN_ID, { keepData: true });
    await test.host.api.database.sequelize.query("UPDATE crm_plugins SET state = 'inactive' WHERE id = $id", { bind: { id: FAKE_PLUGIN_ID } });
    const again = await test.host.plugins.start(fake().manifest);
    expect(again.state).to.equal('inactive');
    expect(await status(FAKE_ROUTE)).to.equal(404);
    await test.host.plugins.uninstall(FAKE_PLUGIN_ID, { keepData: false });
  });
});
