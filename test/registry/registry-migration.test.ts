import { expect } from 'chai';
import { hostMigrator } from '../../host/schema/migrate.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { catalog, registryFixture, type RegistryFixture } from './registry-fixture.js';
import { runHostMigrationAgain } from '../support/database.js';

const MIGRATION = '20261122000100-module-registry';
const LABELS_MIGRATION = '20261204100000-picklist-labels';
const TABLES = ['crm_modules', 'crm_fields', 'crm_relations', 'crm_registry_revision', 'crm_picklist_roles', 'crm_relation_links', 'crm_comments'];

describe('module registry migration up, down, up @db', function () {
  let fx: RegistryFixture;

  before(async function () {
    fx = await registryFixture();
  });
  after(async () => fx?.close());

  it('creates its tables, drops them with the module tables, and creates them again', async function () {
    for (const table of TABLES) expect(await catalog.tableExists(fx.db, table), table).to.equal(true);
    await fx.registry.registerModule({
      name: 'Notes',
      label: { en: 'Notes' },
      singularLabel: { en: 'Note' },
      custom: true,
      labelField: 'title',
      fields: [{ name: 'title', label: { en: 'Title' }, type: 'text', mandatory: true }],
    });
    expect(await catalog.tableExists(fx.db, 'mod_notes')).to.equal(true);

    const migrator = hostMigrator(fx.db.sequelize, fx.db.dialect);
    await migrator.down({ to: MIGRATION });
    for (const table of [...TABLES, 'mod_notes']) expect(await catalog.tableExists(fx.db, table), table).to.equal(false);
    // The CRM core tables of the earlier migration stay.
    expect(await catalog.tableExists(fx.db, 'crm_users')).to.equal(true);

    await migrator.up();
    // Running it again changes nothing (every step checks first).
    await runHostMigrationAgain(MIGRATION, fx.db);
    const registry = await SqlModuleRegistry.open(fx.db, fx.logger);
    expect(registry.modules()).to.deep.equal([]);
    expect(registry.revision()).to.equal(0);
  });
});

describe('picklist labels migration (contract 1.2.0) @db', function () {
  let fx: RegistryFixture;

  before(async function () {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
  });
  after(async () => fx?.close());

  it('gives a database made before it the standard labels, keeps a developer’s own, and running processes read them', async function () {
    const { sequelize } = fx.db;
    const context = { sequelize, queryInterface: sequelize.getQueryInterface(), dialect: fx.db.dialect };
    // As before the migration: the standard fields without labels; one field labelled by a developer.
    await sequelize.query("UPDATE crm_fields SET picklist_labels = NULL WHERE module = 'HelpDesk'");
    const own = JSON.stringify({ Low: { en: 'Can wait', it: 'Può attendere' } });
    await sequelize.query("UPDATE crm_fields SET picklist_labels = $own WHERE module = 'HelpDesk' AND name = 'priority'", { bind: { own } });
    const other = await SqlModuleRegistry.open(fx.db, fx.logger);
    expect(other.module('HelpDesk')!.fields.find((f) => f.name === 'status')!.picklistLabels).to.equal(undefined);

    const migration = await import(`../../host/migrations/${LABELS_MIGRATION}.js`);
    await migration.up({ context });
    await migration.up({ context });
    expect(await other.sync()).to.equal(true);
    const fields = other.module('HelpDesk')!.fields;
    expect(fields.find((f) => f.name === 'status')!.picklistLabels).to.deep.include({ 'Wait For Response': { en: 'Wait For Response', it: 'In attesa di risposta' } });
    expect(fields.find((f) => f.name === 'priority')!.picklistLabels).to.deep.equal({ Low: { en: 'Can wait', it: 'Può attendere' } });
  });
});
