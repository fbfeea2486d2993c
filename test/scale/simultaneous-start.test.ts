/**
 * Host processes started at the same moment on one empty database: one migrates and seeds while
 * the others wait, and every one of them starts (they used to race to create the same tables,
 * indexes and standard modules, and all but one crashed).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { createReferenceHost, type ReferenceHost } from '../../host/reference-host.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';

describe('Host processes started at once on an empty database @db', function () {
  this.timeout(120_000);
  let database: ScratchDatabase;
  const folders: string[] = [];
  const hosts: ReferenceHost[] = [];

  before(async () => {
    database = await scratchDatabase();
  });

  after(async () => {
    for (const host of hosts) await host.close();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it('all start, with the schema, the seeds and the Default profile made once', async () => {
    const sessionSecret = randomBytes(32).toString('base64url');
    const results = await Promise.allSettled(
      [1, 2, 3].map(async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'bp-host-'));
        folders.push(dataDir);
        const host = await createReferenceHost({ databaseUrl: database.url, dataDir, port: 0, logLevel: 'silent', adminPassword: 'Admin-test-1', sessionSecret, demo: false, watchRegistryMs: 0 });
        hosts.push(host);
        await host.start();
        return host;
      }),
    );
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    expect(failures).to.deep.equal([]);

    const sequelize = hosts[0]!.api.database.sequelize;
    const count = async (sql: string) => Number((await sequelize.query<{ n: unknown }>(sql, { type: QueryTypes.SELECT, replacements: { yes: true } }))[0]!.n);
    expect(await count("SELECT COUNT(*) AS n FROM crm_users WHERE user_name = 'admin'")).to.equal(1);
    expect(await count('SELECT COUNT(*) AS n FROM bp_profiles WHERE is_default = :yes')).to.equal(1);
    for (const host of hosts) expect(host.registry.module('HelpDesk'), 'each host knows the standard modules').to.not.equal(undefined);
  });
});
