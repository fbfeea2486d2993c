/**
 * A host developer's path to a portal-ready custom module, runnable against the demo:
 *
 *   npm start                                  # terminal 1: the reference host with the demo
 *   npx tsx examples/portal-ready-module.ts    # terminal 2: this script
 *
 * It registers the `MaintenancePlans` module (examples/maintenance-plans.json) with a reference field to
 * Contacts — the relation that makes a module portal-eligible — and gives the demo customer
 * Jane Doe two maintenance plans. The running host picks the change up within two seconds (no
 * restart): Maintenance plans appear in every portal profile, switched off. Turn it on in
 * Settings → Customer tools → Business Portal → Default → Privileges, and Jane sees her
 * plans (and only hers) on the portal. Running it again changes nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../host/database.js';
import { SqlRecordStore } from '../host/records/record-store.js';
import { SqlModuleRegistry } from '../host/registry/module-registry.js';
import type { HostLogger, ModuleDefinition } from '../plugin/host-contract/index.js';

const logger: HostLogger = { debug: () => undefined, info: () => undefined, warn: (m) => console.error(`warning: ${m}`), error: (m) => console.error(`error: ${m}`) };

/** A mistake of the person running the example: said in one sentence, without a stack trace. */
class ExampleError extends Error {}

const definition = JSON.parse(readFileSync(new URL('./maintenance-plans.json', import.meta.url), 'utf8')) as ModuleDefinition;
const databaseUrl = process.env.DATABASE_URL || 'sqlite:data/crm.sqlite';
const db = await openDatabase(databaseUrl);
try {
  // Without a password the URL may hold.
  const noCrm = new ExampleError(`${databaseUrl.replace(/\/\/[^/@]*@/, '//')} holds no reference CRM: start the host on it first (npm start, with the same DATABASE_URL).`);
  const registry = await SqlModuleRegistry.open(db, logger).catch(() => {
    throw noCrm;
  });
  if (!registry.module('Contacts')) throw noCrm;
  // Checked before anything is written: the example changes a demo CRM only.
  const records = new SqlRecordStore(db, registry, join('data', 'files'));
  const jane = (await records.query('Contacts', { where: { field: 'email', op: 'eq', value: 'jane.doe@example.com' }, limit: 1 })).rows[0];
  if (!jane) throw new ExampleError('The demo contact jane.doe@example.com is missing: start the host with the demo first (npm start).');
  if (!registry.module('MaintenancePlans')) await registry.registerModule(definition);
  // The relation to Contacts: a reference field. A related list (`MaintenancePlans~Accounts`) would do too.
  if (!registry.relations('MaintenancePlans').some((r) => r.relatedModule === 'Contacts' || r.module === 'Contacts')) {
    await registry.addField('MaintenancePlans', { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] });
  }

  for (const [plan_no, equipment, next_visit] of [['MP-1001', 'Laser printer LX-200', '2027-06-30'], ['MP-1002', 'Office router R9', '2027-01-31']] as const) {
    const exists = await records.count('MaintenancePlans', { field: 'plan_no', op: 'eq', value: plan_no });
    if (exists === 0) await records.create('MaintenancePlans', { values: { plan_no, equipment, next_visit, frequency: 'Quarterly', contact_id: jane.id } });
  }
  console.log('MaintenancePlans is registered with a relation to Contacts; Jane Doe has two plans.');
  console.log('Enable it for the Default profile in Settings → Customer tools → Business Portal, then sign in as jane.doe@example.com.');
} catch (error) {
  if (!(error instanceof ExampleError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await db.sequelize.close();
}
