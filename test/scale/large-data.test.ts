/**
 * The data generator is deterministic: the same seed gives the same CRM, row for row, in two
 * fresh databases; another seed gives another. Small scale, so that it runs in seconds.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { generateLargeData, type LargeDataSummary } from '../../host/scale/large-data.js';
import { startTestHost } from '../support/host.js';

/** The generated rows of every table the generator fills (the portal users without their hash and dates). */
const DUMPS: Record<string, string> = {
  accounts: 'SELECT * FROM mod_accounts ORDER BY id',
  contacts: 'SELECT * FROM mod_contacts ORDER BY id',
  tickets: 'SELECT * FROM mod_helpdesk ORDER BY id',
  comments: 'SELECT module, record_id, body, internal, author_kind, author_id, created_at FROM crm_comments ORDER BY id',
  documents: 'SELECT * FROM mod_documents ORDER BY id',
  links: 'SELECT * FROM crm_relation_links ORDER BY relation_id, record_id, related_id',
  invoices: 'SELECT * FROM mod_invoice ORDER BY id',
  quotes: 'SELECT * FROM mod_quotes ORDER BY id',
  portalUsers: 'SELECT contact_id, email, language FROM bp_portal_accounts ORDER BY contact_id',
};

async function generated(seed: number): Promise<{ summary: LargeDataSummary; rows: Record<string, unknown[]> }> {
  const test = await startTestHost();
  try {
    const summary = await generateLargeData(test.host, { seed, scale: 0.002 });
    const sequelize = test.host.api.database.sequelize;
    const rows: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(DUMPS)) rows[name] = await sequelize.query(sql, { type: QueryTypes.SELECT });
    return { summary, rows };
  } finally {
    await test.stop();
  }
}

describe('The large-data generator @db', function () {
  this.timeout(120_000);

  it('gives the same CRM for the same seed, and another for another seed', async () => {
    const first = await generated(42);
    const again = await generated(42);
    const other = await generated(43);
    expect(first.summary.counts).to.deep.include({ accounts: 10, contacts: 100, portalUsers: 10, tickets: 1000, comments: 4000, documents: 400 });
    for (const [name, rows] of Object.entries(first.rows)) {
      expect(rows.length, name).to.be.greaterThan(0);
      expect(again.rows[name], name).to.deep.equal(rows);
      expect(other.rows[name], name).to.have.length(rows.length);
    }
    expect(again.summary.sampleLogins).to.deep.equal(first.summary.sampleLogins);
    for (const name of ['accounts', 'contacts', 'tickets', 'comments', 'documents']) expect(other.rows[name], `${name} of another seed`).to.not.deep.equal(first.rows[name]);
  });
});
