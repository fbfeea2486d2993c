/**
 * Two INSERTs of one key, the loser told apart from a failure (`isInsertCollision`), on the
 * database under test. On MariaDB the loser is not always a unique violation: when the key's row
 * was just deleted, both INSERTs check for the duplicate on its remains with a shared lock, then
 * each waits for the other's to write: InnoDB rolls one back as a deadlock. A save of the version 1
 * settings met that once in CI (a 500 where two forms raced to store the first value), and so could
 * every "insert, or find the winner's row" of the plugin (idempotency keys given back, the
 * migration lock's row, a client address's failure count purged and counted again).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { dialectOf, openDatabase, type OpenedDatabase } from '../../host/database.js';
import { isInsertCollision } from '../../plugin/lifecycle/insert-collision.js';
import { scratchDatabase, serverUnderTest, type ScratchDatabase } from '../support/database.js';

describe('insert races: the loser of two INSERTs of one key @db', function () {
  this.timeout(60_000);
  let scratch: ScratchDatabase;
  let db: OpenedDatabase;

  before(async function () {
    // SQLite's writers take turns: an INSERT never waits on another's lock there, it meets the row.
    if (!serverUnderTest()) this.skip();
    scratch = await scratchDatabase();
    db = await openDatabase(scratch.url);
    await db.sequelize.query('CREATE TABLE bp_race_probe (k VARCHAR(40) PRIMARY KEY, v INTEGER NOT NULL)');
  });
  after(async () => {
    await db?.sequelize.close();
    await scratch?.drop();
  });

  it('is a collision for the loser, whether a unique violation or MariaDB’s deadlock on a deleted row; the winner’s row stands', async () => {
    const { sequelize } = db;
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      await sequelize.query("INSERT INTO bp_race_probe (k, v) VALUES ('key', 0)");
      // A DELETE of the row, not yet committed: both INSERTs wait for it, on the row it leaves behind.
      const deleting = await sequelize.transaction();
      await sequelize.query("DELETE FROM bp_race_probe WHERE k = 'key'", { transaction: deleting });
      const racing = [1, 2].map((v) =>
        sequelize.query(`INSERT INTO bp_race_probe (k, v) VALUES ('key', ${v})`).then(
          () => null,
          (error: unknown) => error,
        ),
      );
      await sleep(300);
      await deleting.commit();
      const results = await Promise.all(racing);
      const lost = results.filter((error) => error !== null);
      expect(lost, `round ${round}`).to.have.length(1);
      expect(isInsertCollision(lost[0]), String(lost[0])).to.equal(true);
      outcomes.push((lost[0] as Error).name);
      const rows = await sequelize.query<{ v: unknown }>("SELECT v FROM bp_race_probe WHERE k = 'key'", { type: QueryTypes.SELECT });
      expect(rows.map((r) => Number(r.v)), `round ${round}`).to.have.length(1).and.to.satisfy((vs: number[]) => vs[0] === 1 || vs[0] === 2);
      await sequelize.query('DELETE FROM bp_race_probe');
    }
    // What each database answers the loser (so that the test shows which path it covered).
    const expected = dialectOf(scratch.url) === 'mariadb' ? 'SequelizeDatabaseError' : 'SequelizeUniqueConstraintError';
    expect(outcomes).to.deep.equal([expected, expected, expected]);
  });

  it('is no collision for another failure of a statement', async () => {
    const failed = await db.sequelize.query('INSERT INTO bp_race_probe (k) VALUES (NULL)').then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).to.be.an('error');
    expect(isInsertCollision(failed)).to.equal(false);
    expect(isInsertCollision(new Error('ER_LOCK_DEADLOCK'))).to.equal(false);
  });
});
