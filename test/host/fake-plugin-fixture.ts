/**
 * A tiny plugin written to a temporary folder for the host's tests: its manifest, and an entry
 * (plain ESM, no imports) that creates a table at install, mounts a route, a settings entry and
 * a Contacts block at activation, and drops its table when uninstalled without keeping data.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FAKE_PLUGIN_ID = 'fake-plugin';
export const FAKE_TABLE = 'bp_fake_items';
export const FAKE_ROUTE = '/fake-plugin';

const entry = `
let registrations = [];
globalThis.fakePluginImports = (globalThis.fakePluginImports ?? 0) + 1;
export default function createFakePlugin(options) {
  return {
    id: ${JSON.stringify(FAKE_PLUGIN_ID)},
    async install(host) {
      const qi = host.database.sequelize.getQueryInterface();
      if (!(await qi.tableExists(${JSON.stringify(FAKE_TABLE)}))) {
        await qi.createTable(${JSON.stringify(FAKE_TABLE)}, { id: { type: 'INTEGER', primaryKey: true } });
      }
    },
    async activate(host) {
      registrations.push(host.http.mount(${JSON.stringify(FAKE_ROUTE)}, (req, res) => res.type('text').send('fake plugin at ' + options.rootDir.length)));
      registrations.push(host.settingsMenu.register({ id: 'fake.settings', section: 'customer-tools', labelKey: 'fake', label: { en: 'Fake <tool>', it: 'Strumento <finto>' }, path: '/fake-plugin', adminOnly: true }));
      registrations.push(host.recordBlocks.register({ id: 'fake.block', module: 'Contacts', title: { en: 'Fake block' }, order: 1,
        render: async (context) => '<p class="fake-block">record ' + context.recordId + ' for ' + context.session.user.userName + '</p>' }));
    },
    async deactivate() {
      for (const unregister of registrations.splice(0)) unregister();
    },
    async uninstall(host, { keepData }) {
      if (!keepData) await host.database.sequelize.getQueryInterface().dropTable(${JSON.stringify(FAKE_TABLE)});
    },
  };
}
`;

export interface FakeManifestChanges {
  readonly [key: string]: unknown;
}

/** Writes the fake plugin to a new folder; `changes` alter its manifest (a `undefined` value removes the key). */
export function writeFakePlugin(changes: FakeManifestChanges = {}, options: { readonly withEntry?: boolean } = {}): { readonly dir: string; readonly manifest: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bp-fake-plugin-'));
  const manifest: Record<string, unknown> = {
    id: FAKE_PLUGIN_ID,
    name: 'Fake plugin',
    version: '1.2.3',
    description: 'A plugin for the host tests',
    hostApi: '^1.0.0',
    entry: 'index.mjs',
    settings: [],
    mount: { portal: FAKE_ROUTE, settings: '/settings/fake-plugin' },
    migrations: 'migrations',
    locales: 'locales',
    templates: 'templates',
  };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete manifest[key];
    else manifest[key] = value;
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  if (options.withEntry ?? true) writeFileSync(join(dir, 'index.mjs'), entry);
  return { dir, manifest: join(dir, 'manifest.json') };
}
