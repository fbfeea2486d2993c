/**
 * The scope-index migration on a CRM that has its module tables already (an upgrade): down gives
 * the single-column indexes back, up makes them `(reference, modified_at)` and comments
 * `(module, record_id, created_at)`; running up again changes nothing. New tables and fields get
 * the same index from the registry. The comments' index that replaced it (comment-visibility-index),
 * the Documents table's `(created_at, id)` (document-order) and the Contacts table's name order (contact-name-order) and the catalogues' (catalogue-order) the same way.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { OpenedDatabase } from '../../host/database.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { hostMigrator } from '../../host/schema/migrate.js';
import { registryFixture, type RegistryFixture } from '../registry/registry-fixture.js';
import { runHostMigrationAgain } from '../support/database.js';

const MIGRATION = '20261123000000-scope-indexes';

/** The columns of an index, in order (empty when there is no such index). */
async function indexColumns(db: OpenedDatabase, table: string, index: string): Promise<string[]> {
  const sql = {
    sqlite: 'SELECT name AS col FROM pragma_index_info($index) ORDER BY seqno',
    postgres:
      'SELECT a.attname AS col FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid ' +
      'JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE ic.relname = $index AND t.relname = $table ' +
      'ORDER BY array_position(i.indkey::int2[], a.attnum)',
    mariadb: 'SELECT column_name AS col FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = $table AND index_name = $index ORDER BY seq_in_index',
  }[db.dialect];
  const rows = await db.sequelize.query<{ col: string }>(sql, { bind: db.dialect === 'sqlite' ? { index } : { table, index }, type: QueryTypes.SELECT });
  return rows.map((r) => r.col.toLowerCase());
}

/** Whether the index exists (an index on expressions has no column names to read back). */
async function indexExists(db: OpenedDatabase, table: string, index: string): Promise<boolean> {
  const sql = {
    sqlite: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $table AND name = $index",
    postgres: 'SELECT indexname AS name FROM pg_indexes WHERE tablename = $table AND indexname = $index',
    mariadb: 'SELECT index_name AS name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = $table AND index_name = $index',
  }[db.dialect];
  return (await db.sequelize.query(sql, { bind: { table, index }, type: QueryTypes.SELECT })).length > 0;
}

describe('scope index migration up, down, up @db', function () {
  this.timeout(60_000);
  let fx: RegistryFixture;

  before(async () => {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
  });
  after(async () => fx?.close());

  const expectIndexed = async (indexes: Record<string, [string, string]>, columns: (name: string) => string[]) => {
    for (const [name, [table, column]] of Object.entries(indexes)) expect(await indexColumns(fx.db, table, name), name).to.deep.equal(columns(column));
  };
  const references: Record<string, [string, string]> = {
    mod_helpdesk_contact_id_idx: ['mod_helpdesk', 'contact_id'],
    mod_helpdesk_account_id_idx: ['mod_helpdesk', 'account_id'],
    mod_contacts_account_id_idx: ['mod_contacts', 'account_id'],
    mod_accounts_parent_id_idx: ['mod_accounts', 'parent_id'],
    mod_invoice_account_id_idx: ['mod_invoice', 'account_id'],
  };

  it('serves the scope paths and the default order on module tables that exist already, and goes back down', async () => {
    // Fresh: the registry created the module tables after the migrations, with the composite indexes;
    // the comments' index is comment-visibility-index's, which replaced this migration's.
    await expectIndexed(references, (column) => [column, 'modified_at']);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_visible_idx')).to.deep.equal(['module', 'record_id', 'internal', 'created_at', 'id']);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_created_idx')).to.deep.equal([]);

    const migrator = hostMigrator(fx.db.sequelize, fx.db.dialect);
    await migrator.down({ to: MIGRATION });
    await expectIndexed(references, (column) => [column]);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_idx')).to.deep.equal(['module', 'record_id']);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_created_idx')).to.deep.equal([]);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_visible_idx')).to.deep.equal([]);

    // Up on existing module tables (an upgraded CRM), then once more by hand: nothing changes.
    await migrator.up();
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_visible_idx')).to.deep.equal(['module', 'record_id', 'internal', 'created_at', 'id']);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_created_idx')).to.deep.equal([]);
    await runHostMigrationAgain(MIGRATION, fx.db);
    await expectIndexed(references, (column) => [column, 'modified_at']);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_created_idx')).to.deep.equal(['module', 'record_id', 'created_at']);
    expect(await indexColumns(fx.db, 'crm_comments', 'crm_comments_record_idx')).to.deep.equal([]);
  });

  it('gives the Documents table its (created_at, id) index with the table, and on a CRM made before it (document-order)', async () => {
    const columns = () => indexColumns(fx.db, 'mod_documents', 'mod_documents_created_idx');
    expect(await columns()).to.deep.equal(['created_at', 'id']);
    const migrator = hostMigrator(fx.db.sequelize, fx.db.dialect);
    await migrator.down({ to: '20261205000000-document-order' });
    expect(await columns()).to.deep.equal([]);
    await migrator.up();
    expect(await columns()).to.deep.equal(['created_at', 'id']);
    const again = await import('../../host/migrations/20261205000000-document-order.js');
    await again.up({ context: { sequelize: fx.db.sequelize, queryInterface: fx.db.sequelize.getQueryInterface(), dialect: fx.db.dialect } });
    expect(await columns()).to.deep.equal(['created_at', 'id']);
  });

  it("gives a CRM made before it the comments' (module, record_id, internal, created_at, id) index in place of (module, record_id, created_at), and back (comment-visibility-index)", async () => {
    const visible = () => indexColumns(fx.db, 'crm_comments', 'crm_comments_record_visible_idx');
    const previous = () => indexColumns(fx.db, 'crm_comments', 'crm_comments_record_created_idx');
    const migrator = hostMigrator(fx.db.sequelize, fx.db.dialect);
    await migrator.down({ to: '20261207100000-comment-visibility-index' });
    expect([await visible(), await previous()], 'down').to.deep.equal([[], ['module', 'record_id', 'created_at']]);
    await migrator.up();
    expect([await visible(), await previous()], 'up').to.deep.equal([['module', 'record_id', 'internal', 'created_at', 'id'], []]);
    const again = await import('../../host/migrations/20261207100000-comment-visibility-index.js');
    await again.up({ context: { sequelize: fx.db.sequelize, queryInterface: fx.db.sequelize.getQueryInterface(), dialect: fx.db.dialect } });
    expect([await visible(), await previous()], 'up again').to.deep.equal([['module', 'record_id', 'internal', 'created_at', 'id'], []]);
  });

  it('gives the FAQ and Products tables their catalogue indexes with the table, and on a CRM made before them (catalogue-order); the field removed drops its index, added again gets it back', async () => {
    const faq = () => indexColumns(fx.db, 'mod_faq', 'mod_faq_catalogue_idx');
    const products = () => indexColumns(fx.db, 'mod_products', 'mod_products_catalogue_idx');
    expect([await faq(), await products()], 'with the tables').to.deep.equal([['status', 'modified_at'], ['active', 'modified_at']]);
    const migrator = hostMigrator(fx.db.sequelize, fx.db.dialect);
    await migrator.down({ to: '20261206800000-catalogue-order' });
    expect([await faq(), await products()], 'after down').to.deep.equal([[], []]);
    await migrator.up();
    expect([await faq(), await products()], 'after up').to.deep.equal([['status', 'modified_at'], ['active', 'modified_at']]);
    const again = await import('../../host/migrations/20261206800000-catalogue-order.js');
    await again.up({ context: { sequelize: fx.db.sequelize, queryInterface: fx.db.sequelize.getQueryInterface(), dialect: fx.db.dialect } });
    expect(await faq(), 'after up again').to.deep.equal(['status', 'modified_at']);
    // SQLite refuses to drop a column an index names: the field goes, and its index with it.
    const status = fx.registry.module('Faq')!.fields.find((f) => f.name === 'status')!;
    await fx.registry.removeField('Faq', 'status');
    expect(await faq(), 'without status').to.deep.equal([]);
    expect(fx.registry.module('Faq')!.fields.map((f) => f.name)).to.not.include('status');
    // A CRM without the field: the migration makes nothing (and fails on nothing).
    await again.up({ context: { sequelize: fx.db.sequelize, queryInterface: fx.db.sequelize.getQueryInterface(), dialect: fx.db.dialect } });
    expect(await faq(), 'up without the field').to.deep.equal([]);
    await fx.registry.addField('Faq', status);
    expect(await faq(), 'status added again').to.deep.equal(['status', 'modified_at']);
  });

  it('gives the Contacts table its name-order index with the table, and on a CRM made before it (contact-name-order); removing a name drops it', async function () {
    // MariaDB 10.11 indexes no expression: the migration leaves it alone.
    if (fx.db.dialect === 'mariadb') return this.skip();
    const exists = () => indexExists(fx.db, 'mod_contacts', 'mod_contacts_name_idx');
    expect(await exists(), 'with the table').to.equal(true);
    const migrator = hostMigrator(fx.db.sequelize, fx.db.dialect);
    await migrator.down({ to: '20261206300000-contact-name-order' });
    expect(await exists(), 'after down').to.equal(false);
    await migrator.up();
    expect(await exists(), 'after up').to.equal(true);
    const again = await import('../../host/migrations/20261206300000-contact-name-order.js');
    await again.up({ context: { sequelize: fx.db.sequelize, queryInterface: fx.db.sequelize.getQueryInterface(), dialect: fx.db.dialect } });
    expect(await exists(), 'after up again').to.equal(true);
    // SQLite refuses to drop a column an index names: the field goes, and the index with it.
    await fx.registry.removeField('Contacts', 'firstname');
    expect(await exists(), 'without firstname').to.equal(false);
    expect(fx.registry.module('Contacts')!.fields.map((f) => f.name)).to.not.include('firstname');
  });

  it('keeps the Contacts table changeable beside its name-order index: custom fields come and go, a name removed and added again gets the index back', async () => {
    const exists = () => indexExists(fx.db, 'mod_contacts', 'mod_contacts_name_idx');
    const indexed = fx.db.dialect !== 'mariadb';
    const contacts = () => fx.registry.module('Contacts')!.fields.map((f) => f.name);
    if (contacts().includes('firstname')) await fx.registry.removeField('Contacts', 'firstname');
    expect(await exists(), 'without firstname').to.equal(false);
    // The name removed comes back (the CLI's add-field): the page's order is indexed again.
    await fx.registry.addField('Contacts', { name: 'firstname', label: { en: 'First name', it: 'Nome' }, type: 'text', mandatory: false, maxLength: 80 });
    expect(await exists(), 'firstname added again').to.equal(indexed);
    // Custom fields beside the index: a text, a reference (with its own index); then both go.
    await fx.registry.addField('Contacts', { name: 'cf_badge', label: { en: 'Badge' }, type: 'text', mandatory: false });
    await fx.registry.addRelation({ id: 'Contacts.cf_vendor_id', kind: 'reference', module: 'Contacts', relatedModule: 'Vendors', field: 'cf_vendor_id' });
    await fx.db.sequelize.query("INSERT INTO mod_contacts (firstname, lastname, cf_badge, created_at, modified_at, version) VALUES ('Ada', 'Zeta', 'B7', '2026-12-06 00:00:00', '2026-12-06 00:00:00', 1)");
    await fx.registry.removeRelation('Contacts.cf_vendor_id');
    await fx.registry.removeField('Contacts', 'cf_badge');
    expect(contacts()).to.not.include.members(['cf_badge', 'cf_vendor_id']);
    expect(await exists(), 'after the custom fields went').to.equal(indexed);
    const rows = await fx.db.sequelize.query<{ lastname: string }>("SELECT lastname FROM mod_contacts WHERE lastname = 'Zeta'", { type: QueryTypes.SELECT });
    expect(rows.map((r) => r.lastname)).to.deep.equal(['Zeta']);
    expect(fx.logger.entries.filter((e) => e.level === 'error')).to.deep.equal([]);
  });

  it('gives a reference field added later the same index, and removes it with the field', async () => {
    await fx.registry.addRelation({ id: 'Faq.account_id', kind: 'reference', module: 'Faq', relatedModule: 'Accounts', field: 'account_id' });
    expect(await indexColumns(fx.db, 'mod_faq', 'mod_faq_account_id_idx')).to.deep.equal(['account_id', 'modified_at']);
    await fx.registry.removeRelation('Faq.account_id');
    expect(await indexColumns(fx.db, 'mod_faq', 'mod_faq_account_id_idx')).to.deep.equal([]);
  });
});
