/**
 * What one mass unlock costs the database: a constant number of statements, whatever the number of
 * ids (3 or 300), forged ids included. Counts, never timings: one statement per id made a page of
 * 500 cost some 2,500 statements (about 2 s on PostgreSQL), and wrote an audit row for every id a
 * forged form sent.
 */
import { expect } from 'chai';
import { recordStatements } from '../support/database.js';
import { startLoginCheckHost, type LoginCheckHost, unsigned } from './login-check-host.js';

const PAGE = '/settings/business-portal/login-check';
const UNLOCK = `${PAGE}/unlock`;

describe('login-check: the cost of a mass unlock @db', function () {
  this.timeout(180_000);
  let h: LoginCheckHost;
  let few: number[];
  let many: number[];

  before(async () => {
    h = await startLoginCheckHost();
    few = await h.addLockedInBulk(3, 'few');
    many = await h.addLockedInBulk(300, 'many');
  });
  after(async () => {
    await h?.stop();
  });

  const count = async (sql: string) => Number((await h.sql<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`))[0]!.n);

  /** The statements one unlock POST of these ids costs the server (the request's own session and CSRF reads included). */
  async function cost(ids: readonly string[]): Promise<{ statements: string[]; location: string }> {
    const token = await h.csrf(h.admin);
    // Left out: what the host does now and then whatever the request (the module registry's revision,
    // read at most once a second; the CRM session's last-seen time, written at most once a minute).
    const recorded = recordStatements(h.api.database.sequelize, (sql) => !/crm_registry_revision|^UPDATE crm_sessions /.test(sql));
    try {
      const response = await h.post(UNLOCK, h.admin, { _csrf: token, contactId: ids });
      expect(response.status).to.equal(303);
      return { statements: [...recorded.sql], location: response.headers.get('location')! };
    } finally {
      recorded.stop();
    }
  }

  it('unlocking 300 costs as many statements as unlocking 3, forged ids and all', async () => {
    // A warm-up request: whatever a session does once (its first POST) is not counted against either.
    await cost(['2147483000']);
    const small = await cost([...few.map(String), '2147483001']);
    expect(unsigned(small.location)).to.equal(`${PAGE}?done=unlocked&count=3&skipped=1`);
    const large = await cost([...many.map(String), '2147483002', '2147483003']);
    expect(unsigned(large.location)).to.equal(`${PAGE}?done=unlocked&count=300&skipped=2`);
    expect(large.statements.length, `3 ids:\n${small.statements.join('\n')}\n\n300 ids:\n${large.statements.join('\n')}`).to.equal(small.statements.length);
    // A small constant: the request's own reads, then one transaction of a few statements.
    expect(small.statements.length, small.statements.join('\n')).to.be.at.most(15);
    // Everything was done all the same: 303 unlocked, one audit entry and one history row each (none for the forged ids).
    expect(await count('bp_portal_accounts WHERE locked_at IS NOT NULL')).to.equal(0);
    expect(await count("bp_login_check_audit WHERE action = 'unlock'")).to.equal(303);
    expect(await count("bp_login_history WHERE event = 'unlocked'")).to.equal(303);
  });
});
