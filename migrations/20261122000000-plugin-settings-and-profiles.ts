/**
 * The plugin's first tables: `bp_settings` (one JSON value per key) and `bp_profiles`
 * (the version 2 portal profiles; the Default one is seeded by the profiles capability).
 */
import { DataTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  if (!(await qi.tableExists('bp_settings'))) {
    await qi.createTable('bp_settings', {
      // 191 characters keep the primary key within MariaDB's index limit under utf8mb4.
      key: { type: DataTypes.STRING(191), allowNull: false, primaryKey: true },
      value: { type: DataTypes.TEXT, allowNull: false },
      updated_at: { type: DataTypes.DATE, allowNull: false },
    });
  }
  if (!(await qi.tableExists('bp_profiles'))) {
    await qi.createTable('bp_profiles', {
      id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      description: { type: DataTypes.TEXT, allowNull: false },
      is_default: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
      updated_at: { type: DataTypes.DATE, allowNull: false },
      version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    });
  }
}

export async function down({ context }: { context: PluginMigrationContext }): Promise<void> {
  const qi = context.queryInterface;
  if (await qi.tableExists('bp_profiles')) await qi.dropTable('bp_profiles');
  if (await qi.tableExists('bp_settings')) await qi.dropTable('bp_settings');
}
