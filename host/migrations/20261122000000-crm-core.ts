/**
 * The reference CRM's own tables: users, roles, groups, CRM login sessions, email templates,
 * mail accounts and the outbox, installed plugins, conditional field rules and settings.
 * Safe to re-run: every table is created only when missing, and `down` drops them all again.
 */
import { DataTypes, type ModelAttributes, type QueryInterface } from 'sequelize';
import type { DatabaseDialect } from '../../plugin/host-contract/index.js';
import type { HostMigrationContext } from '../schema/migrate.js';

const id = { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true } as const;
const createdAt = { type: DataTypes.DATE, allowNull: false } as const;
const updatedAt = { type: DataTypes.DATE, allowNull: false } as const;

function references(table: string, onDelete: 'CASCADE' | 'SET NULL') {
  return { references: { model: table, key: 'id' }, onDelete, onUpdate: 'CASCADE' } as const;
}

interface TableSpec {
  readonly name: string;
  readonly columns: ModelAttributes;
  readonly indexes?: readonly { readonly name: string; readonly fields: readonly string[]; readonly unique?: boolean }[];
}

/** In creation order; `down` drops them in reverse (dependants first). */
const tables = (dialect: DatabaseDialect): readonly TableSpec[] => [
  {
    name: 'crm_roles',
    columns: { id, name: { type: DataTypes.STRING(100), allowNull: false, unique: true }, created_at: createdAt },
  },
  {
    name: 'crm_users',
    columns: {
      id,
      user_name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      first_name: { type: DataTypes.STRING(100), allowNull: false, defaultValue: '' },
      last_name: { type: DataTypes.STRING(100), allowNull: false, defaultValue: '' },
      email: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
      // `scrypt$…` (see host/users/password-hash.ts); `!` for a user who cannot sign in.
      password_hash: { type: DataTypes.STRING(255), allowNull: false },
      active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      is_admin: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      language: { type: DataTypes.STRING(10), allowNull: false, defaultValue: 'en' },
      role_id: { type: DataTypes.INTEGER, allowNull: true, ...references('crm_roles', 'SET NULL') },
      created_at: createdAt,
      updated_at: updatedAt,
    },
  },
  {
    name: 'crm_groups',
    columns: {
      id,
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      description: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
      created_at: createdAt,
    },
  },
  {
    name: 'crm_group_members',
    columns: {
      group_id: { type: DataTypes.INTEGER, primaryKey: true, ...references('crm_groups', 'CASCADE') },
      user_id: { type: DataTypes.INTEGER, primaryKey: true, ...references('crm_users', 'CASCADE') },
    },
    indexes: [{ name: 'crm_group_members_user', fields: ['user_id'] }],
  },
  {
    // CRM login sessions. `id` is the SHA-256 of the cookie's token (the token itself is never stored);
    // times are epoch milliseconds so that every dialect compares them the same way.
    name: 'crm_sessions',
    columns: {
      id: { type: DataTypes.STRING(64), primaryKey: true },
      user_id: { type: DataTypes.INTEGER, allowNull: false, ...references('crm_users', 'CASCADE') },
      created_at: { type: DataTypes.BIGINT, allowNull: false },
      last_seen_at: { type: DataTypes.BIGINT, allowNull: false },
      expires_at: { type: DataTypes.BIGINT, allowNull: false },
    },
    indexes: [
      { name: 'crm_sessions_user', fields: ['user_id'] },
      { name: 'crm_sessions_expiry', fields: ['expires_at'] },
    ],
  },
  {
    name: 'crm_email_templates',
    columns: {
      id,
      name: { type: DataTypes.STRING(150), allowNull: false, unique: true },
      description: { type: DataTypes.STRING(500), allowNull: false, defaultValue: '' },
      module: { type: DataTypes.STRING(40), allowNull: true },
      // The version used when a template has none in the language asked for.
      default_language: { type: DataTypes.STRING(10), allowNull: false, defaultValue: 'en' },
      created_at: createdAt,
      updated_at: updatedAt,
    },
  },
  {
    name: 'crm_email_template_versions',
    columns: {
      id,
      template_id: { type: DataTypes.INTEGER, allowNull: false, ...references('crm_email_templates', 'CASCADE') },
      language: { type: DataTypes.STRING(10), allowNull: false },
      subject: { type: DataTypes.STRING(500), allowNull: false },
      html: { type: DataTypes.TEXT, allowNull: false },
      text: { type: DataTypes.TEXT, allowNull: false },
      updated_at: updatedAt,
    },
    indexes: [{ name: 'crm_email_template_versions_language', fields: ['template_id', 'language'], unique: true }],
  },
  {
    // A CRM user's own SMTP account (`via: 'user'` mail goes through it).
    name: 'crm_mail_accounts',
    columns: {
      id,
      user_id: { type: DataTypes.INTEGER, allowNull: false, unique: true, ...references('crm_users', 'CASCADE') },
      smtp_url: { type: DataTypes.STRING(500), allowNull: false },
      from_address: { type: DataTypes.STRING(255), allowNull: false },
      from_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
      created_at: createdAt,
      updated_at: updatedAt,
    },
  },
  {
    // Mail kept instead of sent when the host has no SMTP server (shown to admins at /outbox).
    name: 'crm_mail_outbox',
    columns: {
      id,
      message_id: { type: DataTypes.STRING(255), allowNull: false },
      route: { type: DataTypes.STRING(30), allowNull: false },
      from_address: { type: DataTypes.STRING(255), allowNull: false },
      from_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
      // JSON array of { address, name? }.
      to_addresses: { type: DataTypes.TEXT, allowNull: false },
      reply_to: { type: DataTypes.STRING(255), allowNull: true },
      subject: { type: DataTypes.STRING(1000), allowNull: false },
      // MariaDB's TEXT holds 64 KB; the others have no such limit (and warn about the option).
      html: { type: dialect === 'mariadb' ? DataTypes.TEXT('long') : DataTypes.TEXT, allowNull: false },
      text: { type: dialect === 'mariadb' ? DataTypes.TEXT('long') : DataTypes.TEXT, allowNull: false },
      created_at: createdAt,
    },
  },
  {
    name: 'crm_plugins',
    columns: {
      id: { type: DataTypes.STRING(64), primaryKey: true },
      version: { type: DataTypes.STRING(50), allowNull: false },
      // installed | active | inactive | uninstalled (uninstalled with its data kept)
      state: { type: DataTypes.STRING(20), allowNull: false },
      installed_at: createdAt,
      updated_at: updatedAt,
    },
  },
  {
    name: 'crm_conditional_rules',
    columns: {
      id,
      name: { type: DataTypes.STRING(150), allowNull: false, unique: true },
      module: { type: DataTypes.STRING(40), allowNull: false },
      role_ids: { type: DataTypes.JSON, allowNull: false },
      group_ids: { type: DataTypes.JSON, allowNull: false },
      conditions: { type: DataTypes.JSON, allowNull: false },
      effects: { type: DataTypes.JSON, allowNull: false },
      all_read_only: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      created_at: createdAt,
      updated_at: updatedAt,
    },
    indexes: [{ name: 'crm_conditional_rules_module', fields: ['module'] }],
  },
  {
    // Host settings as key/value pairs (install origin, licences…); values are JSON text.
    name: 'crm_settings',
    columns: {
      name: { type: DataTypes.STRING(100), primaryKey: true },
      value: { type: DataTypes.TEXT, allowNull: false },
      updated_at: updatedAt,
    },
  },
];

async function createTable(queryInterface: QueryInterface, spec: TableSpec): Promise<void> {
  if (await queryInterface.tableExists(spec.name)) return;
  await queryInterface.createTable(spec.name, spec.columns);
  for (const index of spec.indexes ?? []) {
    await queryInterface.addIndex(spec.name, [...index.fields], { name: index.name, unique: index.unique ?? false });
  }
}

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  for (const spec of tables(context.dialect)) await createTable(context.queryInterface, spec);
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  for (const spec of [...tables(context.dialect)].reverse()) await context.queryInterface.dropTable(spec.name);
}
