import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { openDatabase, type OpenedDatabase } from '../../host/database.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { PluginMigrator } from '../../plugin/lifecycle/plugin-migrator.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';

const TABLES = ['bp_login_check_audit', 'bp_unlock_links'];
const quietLogger: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function tables(sequelize: Sequelize): Promise<string[]> {
  const names = (await sequelize.getQueryInterface().showAllTables()) as unknown[];
  return names.map((n) => (typeof n === 'string' ? n : (n as { tableName: string }).tableName)).filter((n) => TABLES.includes(n)).sort();
}

describe('login-check: unlock links and admin audit migration @db', function () {
  this.timeout(60_000);
  let scratch: ScratchDatabase;
  let db: OpenedDatabase;

  before(async () => {
    scratch = await scratchDatabase();
    db = await openDatabase(scratch.url);
  });
  after(async () => {
    await db?.sequelize.close();
    await scratch?.drop();
  });

  it('goes up, holds data, goes down completely, and up again; its DDL is safe to re-run', async () => {
    await new PluginMigrator(db.sequelize, db.dialect, `${defaultRootDir}migrations`, quietLogger).up();
    expect(await tables(db.sequelize)).to.deep.equal(TABLES);
    const migration = await import('../../migrations/20261122000300-unlock-links-and-admin-audit.js');
    const context = { sequelize: db.sequelize, queryInterface: db.sequelize.getQueryInterface(), dialect: db.dialect };
    await migration.up({ context });

    const now = new Date();
    await db.sequelize.query(
      `INSERT INTO bp_unlock_links (contact_id, token_hash, created_at, expires_at) VALUES (1, :hash, :now, :now)`,
      { replacements: { hash: 'a'.repeat(64), now } },
    );
    let duplicate: unknown = null;
    try {
      await db.sequelize.query(`INSERT INTO bp_unlock_links (contact_id, token_hash, created_at, expires_at) VALUES (2, :hash, :now, :now)`, {
        replacements: { hash: 'a'.repeat(64), now },
      });
    } catch (error) {
      duplicate = error;
    }
    expect(duplicate, 'token hashes are unique').to.be.instanceOf(Error);
    await db.sequelize.query(
      `INSERT INTO bp_login_check_audit (user_id, user_name, action, target, applied, at) VALUES (1, 'admin', 'unlock', '7', :yes, :now)`,
      { replacements: { yes: true, now } },
    );
    const [row] = await db.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_login_check_audit', { type: QueryTypes.SELECT });
    expect(Number(row!.n)).to.equal(1);

    await migration.down({ context });
    expect(await tables(db.sequelize)).to.deep.equal([]);
    await migration.down({ context });
    await migration.up({ context });
    await migration.up({ context });
    expect(await tables(db.sequelize)).to.deep.equal(TABLES);
    const [empty] = await db.sequelize.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM bp_unlock_links', { type: QueryTypes.SELECT });
    expect(Number(empty!.n)).to.equal(0);
  });
});
