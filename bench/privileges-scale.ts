/**
 * The privileges page of a large CRM, timed: `npx tsx bench/privileges-scale.ts [--modules 40] [--fields 200] [--profiles 20]`.
 *
 * Starts the reference host on a scratch database (DATABASE_URL's server, else SQLite), registers
 * `--modules` custom modules of `--fields` fields each (a reference to Contacts makes them
 * eligible), makes `--profiles` profiles with every module shown, buttons and conditional rules,
 * then measures over HTTP, as an admin's browser sends them: the privileges page, a section saved
 * (General), the modules section saved whole (every module, as the page sends it), one field's
 * access changed, and the profiles list. For each: statements sent, bytes answered, milliseconds
 * (median of `--runs`). The registry takes 150 fields at once and the others one by one: 40 × 200
 * takes about a quarter of an hour to set up on SQLite, 40 × 150 a minute.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { HostApi } from '../plugin/host-contract/index.js';
import type { ModulePrivileges, ProfileDocument } from '../plugin/profiles/profile-document.js';
import { recordStatements } from '../test/support/database.js';
import { startTestHost } from '../test/support/host.js';
import { addWideModule, adminActor, adminClient, profileService, SETTINGS } from '../test/profiles/profile-test-kit.js';

const { values } = parseArgs({
  options: {
    modules: { type: 'string', default: '40' },
    fields: { type: 'string', default: '200' },
    profiles: { type: 'string', default: '20' },
    runs: { type: 'string', default: '5' },
  },
});
const MODULES = Number(values.modules);
const FIELDS = Number(values.fields);
const PROFILES = Number(values.profiles);
const RUNS = Number(values.runs);

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

async function main() {
  const started = Date.now();
  const test = await startTestHost({ watchRegistryMs: 0 });
  const api: HostApi = test.host.api;
  try {
    for (let m = 0; m < MODULES; m += 1) await addWideModule(api, `Large${m}`, FIELDS);
    process.stderr.write(`modules registered in ${Date.now() - started} ms\n`);
    const service = profileService(api);
    const actor = await adminActor(api);
    const ids: number[] = [];
    for (let p = 0; p < PROFILES; p += 1) ids.push((await service.create({ name: `Profile ${p}`, description: '', startFrom: null }, actor)).id);
    const id = ids[0]!;
    let document: ProfileDocument = await service.document(id);
    const on = (entry: ModulePrivileges): ModulePrivileges => ({
      ...entry,
      shown: true,
      view: true,
      create: true,
      fields: Object.fromEntries(Object.keys(entry.fields).map((name, i) => [name, i % 3 === 0 ? 'readonly' : 'readwrite'])),
      listColumns: Object.keys(entry.fields).slice(0, 5),
    });
    document = (await service.saveSection(id, 'modules', document.modules.map(on), document.profile.version, actor)).document;
    const large = document.modules.filter((m) => m.module.startsWith('Large'));
    const buttons = large.slice(0, 20).map((m, i) => ({ title: `Button ${i}`, description: 'Open', colour: 'primary' as const, icon: 'list', action: 'list' as const, module: m.module }));
    document = (await service.saveSection(id, 'buttons', buttons, document.profile.version, actor)).document;
    const rules = large.slice(0, 40).map((m, i) => ({
      name: `Rule ${i}`,
      module: m.module,
      origin: { kind: 'portal' as const },
      conditions: [{ field: 'stage', op: 'eq' as const, value: 'Closed' }],
      effects: [{ field: 'field_5', effect: 'readonly' as const }],
      allReadOnly: false,
    }));
    document = (await service.saveSection(id, 'rules', rules, document.profile.version, actor)).document;
    for (const other of ids.slice(1)) await service.duplicate(id, { name: `Copy ${other}` }, actor);
    process.stderr.write(`setup done in ${Date.now() - started} ms\n`);

    const admin = await adminClient(test);
    const sequelize = api.database.sequelize;
    const path = `${SETTINGS}/profiles/${id}`;
    const measure = async (name: string, request: () => Promise<Response>) => {
      const times: number[] = [];
      let statements = 0;
      let bytes = 0;
      for (let run = 0; run < RUNS; run += 1) {
        const recorded = recordStatements(sequelize);
        const t0 = performance.now();
        const response = await request();
        const body = await response.text();
        times.push(performance.now() - t0);
        recorded.stop();
        if (!response.ok) throw new Error(`${name}: ${response.status} ${body.slice(0, 500)}`);
        statements = recorded.sql.length;
        bytes = Buffer.byteLength(body);
      }
      console.log(`${name.padEnd(34)} ${String(statements).padStart(6)} statements ${String(Math.round(bytes / 1024)).padStart(7)} KB ${String(Math.round(median(times))).padStart(6)} ms`);
    };
    const current = async () => service.document(id);
    await measure('privileges page', () => admin.get(`${path}/privileges`));
    await measure('one module’s fields (opened)', async () => admin.get(`${path}/privileges/modules/Large7?version=${(await current()).profile.version}`));
    await measure('save one section (general)', async () => {
      const d = await current();
      return admin.json('PUT', `${path}/sections/general`, { version: d.profile.version, value: d.general });
    });
    await measure('save all modules', async () => {
      const d = await current();
      return admin.json('PUT', `${path}/sections/modules`, { version: d.profile.version, value: d.modules });
    });
    let flip = false;
    await measure('change one field (whole section)', async () => {
      const d = await current();
      flip = !flip;
      const modules = d.modules.map((m) => (m.module === 'Large7' ? { ...m, fields: { ...m.fields, field_9: flip ? 'hidden' : 'readwrite' } } : m));
      return admin.json('PUT', `${path}/sections/modules`, { version: d.profile.version, value: modules });
    });
    await measure('change one field (its module only)', async () => {
      const d = await current();
      flip = !flip;
      const entry = d.modules.find((m) => m.module === 'Large7')!;
      return admin.json('PUT', `${path}/sections/modules`, { version: d.profile.version, value: [{ ...entry, fields: { ...entry.fields, field_9: flip ? 'hidden' : 'readwrite' } }] });
    });
    await measure('save rules', async () => {
      const d = await current();
      return admin.json('PUT', `${path}/sections/rules`, { version: d.profile.version, value: d.rules });
    });
    await measure('profiles list', () => admin.get(`${SETTINGS}/`));
    await measure('profile page', () => admin.get(path));
  } finally {
    await test.stop();
  }
}

await main();
