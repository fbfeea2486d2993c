import { expect } from 'chai';
import { hostMigrator } from '../../host/schema/migrate.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import { catalog, registryFixture, type RegistryFixture } from './registry-fixture.js';

const MIGRATION = '20261122000100-module-registry';
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
    const again = await import(`../../host/migrations/${MIGRATION}.js`);
    await again.up({ context: { sequelize: fx.db.sequelize, queryInterface: fx.db.sequelize.getQueryInterface(), dialect: fx.db.dialect } });
    const registry = await SqlModuleRegistry.open(fx.db, fx.logger);
    expect(registry.modules()).to.deep.equal([]);
    expect(registry.revision()).to.equal(0);
  });
});
