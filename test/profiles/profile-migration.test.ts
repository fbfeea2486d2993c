/**
 * The profile-privileges migration alone: down removes its columns and tables without touching
 * the rows that point at profiles (SQLite must not rebuild `bp_profiles`), and up runs again.
 */
import { resolve } from 'node:path';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { openDatabase, type OpenedDatabase } from '../../host/database.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { PluginMigrator, type PluginMigrationContext } from '../../plugin/lifecycle/plugin-migrator.js';
import * as migration from '../../migrations/20261122000400-profile-privileges.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';

const quiet: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe('profile privileges migration @db', () => {
  let scratch: ScratchDatabase;
  let db: OpenedDatabase;
  let context: PluginMigrationContext;

  before(async () => {
    scratch = await scratchDatabase();
    db = await openDatabase(scratch.url);
    context = { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect };
    await new PluginMigrator(db.sequelize, db.dialect, resolve(defaultRootDir, 'migrations'), quiet).up();
  });
  after(async () => {
    await db?.sequelize.close();
    await scratch?.drop();
  });

  const select = <T extends object>(sql: string) => db.sequelize.query<T>(sql, { type: QueryTypes.SELECT });

  it('goes down keeping profiles and the accounts that use them, then up again', async () => {
    const qi = context.queryInterface;
    const now = new Date();
    await qi.bulkInsert('bp_profiles', [{ name: 'Kept', description: '', is_default: false, created_at: now, updated_at: now, version: 1, two_factor_type: 'email' }]);
    const [profile] = await select<{ id: unknown }>("SELECT id FROM bp_profiles WHERE name = 'Kept'");
    await qi.bulkInsert('bp_portal_accounts', [
      { contact_id: 1, email: 'a@example.com', portal_enabled: true, profile_id: profile!.id, must_change_password: false, failed_attempts: 0, created_at: now, updated_at: now, version: 1 },
    ]);
    await qi.bulkInsert('bp_profile_modules', [{ profile_id: profile!.id, module: 'HelpDesk', shown: true, record_scope: 'account' }]);

    await migration.down({ context });
    await migration.down({ context });
    expect(await qi.describeTable('bp_profiles')).not.to.have.any.keys('two_factor_type', 'view_all', 'owner_kind');
    expect(await qi.tableExists('bp_profile_modules')).to.equal(false);
    expect(await qi.tableExists('bp_profile_audit')).to.equal(false);
    const [account] = await select<{ profile_id: unknown }>('SELECT profile_id FROM bp_portal_accounts WHERE contact_id = 1');
    expect(Number(account!.profile_id), 'the account keeps its profile').to.equal(Number(profile!.id));

    await migration.up({ context });
    await migration.up({ context });
    const [row] = await select<{ two_factor_type: string }>("SELECT two_factor_type FROM bp_profiles WHERE name = 'Kept'");
    expect(row?.two_factor_type, 'back with its default').to.equal('none');
    expect(await qi.tableExists('bp_profile_rules')).to.equal(true);
  });
});
