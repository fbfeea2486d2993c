/**
 * The privileges of a portal profile:
 * - new columns of `bp_profiles`: the General section (owner, two-factor types), the
 *   Notifications section (templates, SMTP account, sender) and the global privileges;
 * - `bp_profile_modules`: per module flags, record scope and tools;
 * - `bp_profile_fields`: per field access (hidden / readonly / readwrite);
 * - `bp_profile_list_columns`: the list-view columns of a module, in order;
 * - `bp_profile_buttons`: the quick-action buttons of the portal home, in order;
 * - `bp_profile_rules`: conditional field rules (conditions and effects as JSON);
 * - `bp_profile_audit`: every admin change to a profile, with before/after JSON. It keeps no
 *   foreign key, so the history of a deleted profile survives it.
 */
import { DataTypes, type ModelAttributeColumnOptions } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const NAME_LENGTH = 100;
const EMAIL_LENGTH = 254;

const profileColumns: Record<string, ModelAttributeColumnOptions> = {
  // The owner of records created from the portal: a CRM user or group (null: the host decides).
  owner_kind: { type: DataTypes.STRING(8), allowNull: true },
  owner_id: { type: DataTypes.INTEGER, allowNull: true },
  // 'none' | 'email' (read by the sign-in capability under exactly this name).
  two_factor_type: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'none' },
  two_factor_fallback: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'none' },
  template_registration: { type: DataTypes.INTEGER, allowNull: true },
  template_password_changed: { type: DataTypes.INTEGER, allowNull: true },
  template_password_recovery: { type: DataTypes.INTEGER, allowNull: true },
  template_new_ticket: { type: DataTypes.INTEGER, allowNull: true },
  template_ticket_reply: { type: DataTypes.INTEGER, allowNull: true },
  // 'default' (the owner's own account when the host has one) | 'global'.
  smtp_account: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'default' },
  sender_email: { type: DataTypes.STRING(EMAIL_LENGTH), allowNull: true },
  sender_name: { type: DataTypes.STRING(NAME_LENGTH), allowNull: true },
  view_all: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
  edit_all: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
};

const profileRef = {
  type: DataTypes.INTEGER,
  allowNull: false,
  references: { model: 'bp_profiles', key: 'id' },
  onDelete: 'CASCADE',
  onUpdate: 'CASCADE',
} as const;

async function addIndexOnce(context: PluginMigrationContext, table: string, name: string, fields: string[], unique: boolean): Promise<void> {
  const existing = (await context.queryInterface.showIndex(table)) as { name: string }[];
  if (existing.some((index) => index.name === name)) return;
  await context.queryInterface.addIndex(table, fields, { name, unique });
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  // MariaDB's TEXT holds 64 KB: audit values and rule JSON may need more (SQLite's and PostgreSQL's TEXT have no such limit).
  const longText = context.dialect === 'mariadb' ? DataTypes.TEXT('long') : DataTypes.TEXT;

  const present = await qi.describeTable('bp_profiles');
  for (const [column, definition] of Object.entries(profileColumns)) {
    if (!(column in present)) await qi.addColumn('bp_profiles', column, definition);
  }

  if (!(await qi.tableExists('bp_profile_modules'))) {
    await qi.createTable('bp_profile_modules', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      profile_id: profileRef,
      module: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      shown: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      can_view: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      can_create: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      can_edit: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      can_delete: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      // 'contact' | 'account' | 'account-and-subsidiaries'
      record_scope: { type: DataTypes.STRING(32), allowNull: false, defaultValue: 'contact' },
      tool_comments: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      tool_documents: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      tool_search: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      tool_export: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    });
  }
  await addIndexOnce(context, 'bp_profile_modules', 'bp_profile_modules_profile_module', ['profile_id', 'module'], true);

  if (!(await qi.tableExists('bp_profile_fields'))) {
    await qi.createTable('bp_profile_fields', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      profile_id: profileRef,
      module: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      field: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      // 'hidden' | 'readonly' | 'readwrite'
      access: { type: DataTypes.STRING(16), allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_profile_fields', 'bp_profile_fields_profile_field', ['profile_id', 'module', 'field'], true);

  if (!(await qi.tableExists('bp_profile_list_columns'))) {
    await qi.createTable('bp_profile_list_columns', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      profile_id: profileRef,
      module: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      field: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      position: { type: DataTypes.INTEGER, allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_profile_list_columns', 'bp_profile_list_columns_profile_field', ['profile_id', 'module', 'field'], true);

  if (!(await qi.tableExists('bp_profile_buttons'))) {
    await qi.createTable('bp_profile_buttons', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      profile_id: profileRef,
      position: { type: DataTypes.INTEGER, allowNull: false },
      title: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      description: { type: DataTypes.STRING(500), allowNull: false },
      colour: { type: DataTypes.STRING(16), allowNull: false },
      icon: { type: DataTypes.STRING(40), allowNull: false },
      // 'list' | 'create'
      action: { type: DataTypes.STRING(16), allowNull: false },
      module: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_profile_buttons', 'bp_profile_buttons_profile', ['profile_id', 'position'], false);

  if (!(await qi.tableExists('bp_profile_rules'))) {
    await qi.createTable('bp_profile_rules', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      profile_id: profileRef,
      position: { type: DataTypes.INTEGER, allowNull: false },
      name: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      module: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      // Where the rule came from, as JSON: {"kind":"portal"} | {"kind":"crm","ruleId":…} | {"kind":"profile",…}
      origin: { type: DataTypes.TEXT, allowNull: false },
      conditions: { type: longText, allowNull: false },
      effects: { type: longText, allowNull: false },
      all_read_only: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    });
  }
  await addIndexOnce(context, 'bp_profile_rules', 'bp_profile_rules_profile', ['profile_id', 'position'], false);

  if (!(await qi.tableExists('bp_profile_audit'))) {
    await qi.createTable('bp_profile_audit', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      profile_id: { type: DataTypes.INTEGER, allowNull: false },
      profile_name: { type: DataTypes.STRING(NAME_LENGTH), allowNull: false },
      user_id: { type: DataTypes.INTEGER, allowNull: true },
      user_name: { type: DataTypes.STRING(NAME_LENGTH), allowNull: true },
      // create | duplicate | import | rename | delete | save
      action: { type: DataTypes.STRING(16), allowNull: false },
      section: { type: DataTypes.STRING(32), allowNull: true },
      before_json: { type: longText, allowNull: true },
      after_json: { type: longText, allowNull: true },
      at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  await addIndexOnce(context, 'bp_profile_audit', 'bp_profile_audit_profile_at', ['profile_id', 'at'], false);
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  for (const table of ['bp_profile_audit', 'bp_profile_rules', 'bp_profile_buttons', 'bp_profile_list_columns', 'bp_profile_fields', 'bp_profile_modules']) {
    if (await qi.tableExists(table)) await qi.dropTable(table);
  }
  if (!(await qi.tableExists('bp_profiles'))) return;
  const present = await qi.describeTable('bp_profiles');
  for (const column of Object.keys(profileColumns).reverse()) {
    if (!(column in present)) continue;
    // Plain SQL on every dialect: Sequelize rebuilds an SQLite table to drop a column (and
    // dropping `bp_profiles` would fire the foreign keys that point at it: portal accounts
    // would lose their profile), and its MariaDB removeColumn fails on the driver's result.
    // SQLite ≥ 3.35 drops a plain column in place.
    await context.sequelize.query(`ALTER TABLE ${qi.quoteIdentifier('bp_profiles')} DROP COLUMN ${qi.quoteIdentifier(column)}`);
  }
}
