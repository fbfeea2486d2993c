/**
 * The test hosts' set-up copies (test/support/host.ts): a start on SQLite with only running options
 * begins from a copy of what a first start of the same kind wrote. The copy must be what a fresh
 * start writes — the same tables, columns, indexes and rows, the demo's files too — and each copy
 * its own database. Were it not, every suite on a copy would test another database than a new
 * installation's.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { serverUnderTest } from '../support/database.js';
import { DEMO_PORTAL_PASSWORD } from '../../host/demo/demo-data.js';
import { startTestHost, type TestHost } from '../support/host.js';

/** Every table with its schema (as SQLite stores it), its indexes and its row count. */
async function shapeOf(test: TestHost): Promise<Record<string, unknown>> {
  const { sequelize } = test.host.api.database;
  const objects = await sequelize.query<{ type: string; name: string; sql: string | null }>(
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    { type: QueryTypes.SELECT },
  );
  const shape: Record<string, unknown> = {};
  for (const object of objects) {
    const rows = object.type === 'table'
      ? (await sequelize.query<{ n: number }>(`SELECT COUNT(*) AS n FROM "${object.name}"`, { type: QueryTypes.SELECT }))[0]!.n
      : null;
    shape[`${object.type} ${object.name}`] = { sql: object.sql, rows };
  }
  return shape;
}

async function adminHash(test: TestHost): Promise<string> {
  const [row] = await test.host.api.database.sequelize.query<{ password_hash: string }>("SELECT password_hash FROM crm_users WHERE user_name = 'admin'", { type: QueryTypes.SELECT });
  return row!.password_hash;
}

function filesOf(test: TestHost): string[] {
  const dir = join(test.host.options.dataDir, 'files');
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('test hosts started from a copy of a set-up database', function () {
  this.timeout(60_000);
  const hosts: TestHost[] = [];
  before(function () {
    if (serverUnderTest()) this.skip(); // copies are made of SQLite files only
  });
  afterEach(async () => {
    for (const test of hosts.splice(0)) await test.stop();
  });

  it('hold what a fresh start writes, each in a database of its own', async () => {
    // A `reach` makes the start set its database up itself, never from a copy.
    const fresh = await startTestHost({}, (url) => url);
    const first = await startTestHost();
    const second = await startTestHost();
    hosts.push(fresh, first, second);

    expect(await shapeOf(first)).to.deep.equal(await shapeOf(fresh));
    // Copies of one set-up database: the admin's hash (its salt) is the same; a fresh start draws its own.
    expect(await adminHash(first)).to.equal(await adminHash(second));
    expect(await adminHash(fresh)).to.not.equal(await adminHash(first));
    expect(first.host.options.databaseUrl).to.not.equal(second.host.options.databaseUrl);

    // A write to one copy is not in the other.
    await first.host.api.database.sequelize.query("UPDATE crm_users SET first_name = 'Only-here' WHERE user_name = 'admin'");
    const [other] = await second.host.api.database.sequelize.query<{ first_name: string }>("SELECT first_name FROM crm_users WHERE user_name = 'admin'", { type: QueryTypes.SELECT });
    expect(other!.first_name).to.not.equal('Only-here');
  });

  it('with the demo data: the same records and files as a fresh start with it', async () => {
    const fresh = await startTestHost({ demo: true }, (url) => url);
    const copy = await startTestHost({ demo: true });
    hosts.push(fresh, copy);
    expect(await shapeOf(copy)).to.deep.equal(await shapeOf(fresh));
    expect(filesOf(copy)).to.have.length.above(0);
    expect(filesOf(copy)).to.have.length(filesOf(fresh).length);
    // The copy's customers sign in with the demo passwords (their hashes came with the copy).
    const login = await fetch(`${copy.url}/portal/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'jane.doe@example.com', password: DEMO_PORTAL_PASSWORD }),
    });
    expect(login.status).to.equal(200);
  });
});
