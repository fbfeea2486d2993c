/**
 * The module registry's metadata (modules, fields, related lists, a revision counter shared by
 * every host process), role-restricted picklist values, related-list links and record comments.
 * The record tables themselves (`mod_<name>`) are created by the registry at run time.
 */
import { DataTypes, QueryTypes } from 'sequelize';
import type { HostMigrationContext } from '../schema/migrate.js';

/** MariaDB servers may default to latin1: the CRM stores any language. Ignored by the other dialects. */
const tableOptions = { charset: 'utf8mb4' };

async function exists(context: HostMigrationContext, table: string): Promise<boolean> {
  return context.queryInterface.tableExists(table);
}

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  const qi = context.queryInterface;

  if (!(await exists(context, 'crm_modules'))) {
    await qi.createTable('crm_modules', {
      name: { type: DataTypes.STRING(40), primaryKey: true },
      // Labels are LocalizedText objects stored as JSON text.
      label: { type: DataTypes.TEXT, allowNull: false },
      singular_label: { type: DataTypes.TEXT, allowNull: false },
      custom: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      label_field: { type: DataTypes.STRING(40), allowNull: false },
      // Registration order, so that every process lists modules the same way.
      seq: { type: DataTypes.INTEGER, allowNull: false },
    }, tableOptions);
  }

  if (!(await exists(context, 'crm_fields'))) {
    await qi.createTable('crm_fields', {
      module: { type: DataTypes.STRING(40), primaryKey: true },
      name: { type: DataTypes.STRING(40), primaryKey: true },
      label: { type: DataTypes.TEXT, allowNull: false },
      type: { type: DataTypes.STRING(20), allowNull: false },
      mandatory: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      max_length: { type: DataTypes.INTEGER, allowNull: true },
      picklist_values: { type: DataTypes.TEXT, allowNull: true },
      reference_modules: { type: DataTypes.TEXT, allowNull: true },
      seq: { type: DataTypes.INTEGER, allowNull: false },
    }, tableOptions);
  }

  // Only related lists are stored: reference relations are derived from the reference fields.
  if (!(await exists(context, 'crm_relations'))) {
    await qi.createTable('crm_relations', {
      id: { type: DataTypes.STRING(100), primaryKey: true },
      kind: { type: DataTypes.STRING(20), allowNull: false },
      module: { type: DataTypes.STRING(40), allowNull: false },
      related_module: { type: DataTypes.STRING(40), allowNull: false },
      label: { type: DataTypes.TEXT, allowNull: true },
      seq: { type: DataTypes.INTEGER, allowNull: false },
    }, tableOptions);
  }

  // One row (id 1): bumped by every change of the metadata so that other processes notice it.
  if (!(await exists(context, 'crm_registry_revision'))) {
    await qi.createTable('crm_registry_revision', {
      id: { type: DataTypes.INTEGER, primaryKey: true },
      revision: { type: DataTypes.INTEGER, allowNull: false },
    }, tableOptions);
  }
  const rows = await context.sequelize.query('SELECT id FROM crm_registry_revision WHERE id = 1', { type: QueryTypes.SELECT });
  if (rows.length === 0) await qi.bulkInsert('crm_registry_revision', [{ id: 1, revision: 0 }]);

  if (!(await exists(context, 'crm_picklist_roles'))) {
    await qi.createTable('crm_picklist_roles', {
      module: { type: DataTypes.STRING(40), primaryKey: true },
      field: { type: DataTypes.STRING(40), primaryKey: true },
      role_id: { type: DataTypes.INTEGER, primaryKey: true },
      value: { type: DataTypes.STRING(255), primaryKey: true },
    }, tableOptions);
  }

  if (!(await exists(context, 'crm_relation_links'))) {
    await qi.createTable('crm_relation_links', {
      relation_id: { type: DataTypes.STRING(100), primaryKey: true },
      record_id: { type: DataTypes.INTEGER, primaryKey: true },
      related_id: { type: DataTypes.INTEGER, primaryKey: true },
    }, tableOptions);
    // The primary key serves lookups from the `module` side; this one serves the other side.
    await qi.addIndex('crm_relation_links', ['relation_id', 'related_id', 'record_id'], { name: 'crm_relation_links_related_idx' });
  }

  if (!(await exists(context, 'crm_comments'))) {
    await qi.createTable('crm_comments', {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      module: { type: DataTypes.STRING(40), allowNull: false },
      record_id: { type: DataTypes.INTEGER, allowNull: false },
      body: { type: context.dialect === 'mariadb' ? DataTypes.TEXT('medium') : DataTypes.TEXT, allowNull: false },
      internal: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      author_kind: { type: DataTypes.STRING(10), allowNull: false },
      author_id: { type: DataTypes.INTEGER, allowNull: true },
      created_at: { type: DataTypes.DATE(3), allowNull: false },
    }, tableOptions);
    await qi.addIndex('crm_comments', ['module', 'record_id'], { name: 'crm_comments_record_idx' });
  }
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  // The record tables belong to the registered modules: drop them with the metadata that names them.
  if (await exists(context, 'crm_modules')) {
    const modules = await context.sequelize.query<{ name: string }>('SELECT name FROM crm_modules', { type: QueryTypes.SELECT });
    for (const { name } of modules) {
      const table = `mod_${name.toLowerCase()}`;
      if (await exists(context, table)) await qi.dropTable(table);
    }
  }
  for (const table of ['crm_comments', 'crm_relation_links', 'crm_picklist_roles', 'crm_registry_revision', 'crm_relations', 'crm_fields', 'crm_modules']) {
    if (await exists(context, table)) await qi.dropTable(table);
  }
}
