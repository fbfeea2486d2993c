/**
 * The last portal login a CRM contact's page shows is read from the history's index alone, not by
 * reading every history row of the contact: a contact whose login was tried thousands of times (the
 * history keeps every refusal) would cost a read of all of them on each view of their page
 * (`20261206600000-login-history-last-login-index`). The statement is the one the page really sends
 * (captured from `sequelize.query`), read back with the database's own EXPLAIN.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { capturedStatements, nodesOf, planOf } from '../support/query-plans.js';
import { startContactsHost, type ContactsHost } from './contacts-fixture.js';

describe('contacts: the last login on a contact page with a long login history @db', function () {
  this.timeout(120_000);
  let h: ContactsHost;

  before(async () => {
    h = await startContactsHost();
  });
  after(async () => h?.stop());

  it("finds the last login by the contact and the event in an index: no read of the contact's other history rows", async () => {
    const sequelize = h.api.database.sequelize;
    const dialect = h.api.database.dialect;
    const contactId = await h.addContact({ firstname: 'Many', lastname: 'Refusals', email: 'many.refusals@example.com' });
    const other = await h.addContact({ firstname: 'Other', lastname: 'Contact', email: 'other.contact@example.com' });
    // One login a year ago, then 3,000 refused tries (another contact has history too).
    const start = Date.now() - 365 * 86_400_000;
    await sequelize.query(`INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES (:contactId, 'many.refusals@example.com', 'login', NULL, '192.0.2.1', :at)`, {
      replacements: { contactId, at: new Date(start) },
    });
    for (let batch = 0; batch < 6; batch++) {
      const rows = Array.from({ length: 500 }, (_, i) => `(${i % 10 === 0 ? other : contactId}, 'many.refusals@example.com', 'failed', 'wrong_password', '192.0.2.2', :at${i % 2})`);
      await sequelize.query(`INSERT INTO bp_login_history (contact_id, email, event, reason, ip, at) VALUES ${rows.join(', ')}`, {
        replacements: { at0: new Date(start + (batch + 1) * 60_000), at1: new Date(start + (batch + 1) * 60_000 + 1) },
      });
    }
    if (dialect === 'postgres') await sequelize.query('ANALYZE bp_login_history');
    // ANALYZE TABLE answers with a result set (read as one, or Sequelize's MariaDB dialect trips over it).
    if (dialect === 'mariadb') await sequelize.query('ANALYZE TABLE bp_login_history', { type: QueryTypes.SELECT });

    const captured = await capturedStatements(sequelize, (sql) => /\bMAX\(at\)/i.test(sql) && /\bbp_login_history\b/.test(sql), async () => {
      const { status, html } = await h.contactPage(contactId);
      expect(status).to.equal(200);
      expect(html).to.include('id="bp-contact-portal-user"');
    });
    expect(captured, 'the page reads the last login').to.have.length(1);
    const statement = captured[0]!;
    const plan = await planOf(sequelize, dialect, statement);
    if (plan.dialect === 'sqlite') {
      const details = plan.details;
      expect(details.join('\n')).to.match(/COVERING INDEX \w+ \(contact_id=\? AND event=\?/);
    } else if (plan.dialect === 'postgres') {
      // Asked with sequential scans off (planOf): a Seq Scan left means no index serves.
      const root = plan.root;
      const reads = nodesOf(root).filter((node) => node['Relation Name'] === 'bp_login_history');
      expect(reads, JSON.stringify(root)).to.not.be.empty;
      for (const node of reads) {
        expect(String(node['Index Cond'] ?? ''), JSON.stringify(node)).to.match(/event/);
        expect(node.Filter, JSON.stringify(node)).to.equal(undefined);
      }
    } else {
      // MariaDB answers MAX() from the index's end ("Select tables optimized away") or reads the index by both columns.
      const rows = plan.rows;
      for (const row of rows) expect(row.Extra === 'Select tables optimized away' || Number(row.rows) <= 10, JSON.stringify(row)).to.equal(true);
    }
  });
});
