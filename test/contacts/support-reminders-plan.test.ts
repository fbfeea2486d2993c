/**
 * The hourly support-reminder sweep finds the portal users whose support ends within the month by
 * an index on the end date, not by reading every portal account (a CRM has thousands, of which a
 * handful are due): `20261206700000-support-end-index`. The statement is the one the sweep really
 * sends (captured from `sequelize.query`), read back with the database's own EXPLAIN.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { addDays } from '../../plugin/contacts/support-reminders.js';
import { capturedStatements, nodesOf, planOf } from '../support/query-plans.js';
import { startContactsHost, type ContactsHost } from './contacts-fixture.js';

describe('contacts: the support-reminder sweep among thousands of portal users @db', function () {
  this.timeout(120_000);
  let h: ContactsHost;

  before(async () => {
    h = await startContactsHost();
  });
  after(async () => h?.stop());

  it('finds the accounts whose support ends within the month by their end date, reading no other account', async () => {
    const sequelize = h.api.database.sequelize;
    const dialect = h.api.database.dialect;
    const today = '2030-05-01';
    // 3,000 portal users whose support ends over ten years (one in ten with no end), none of them a real contact.
    for (let at = 0; at < 3_000; at += 500) {
      const replacements: Record<string, unknown> = { now: new Date() };
      const rows = Array.from({ length: 500 }, (_, i) => {
        const n = at + i;
        replacements[`e${i}`] = n % 10 === 0 ? null : addDays('2026-01-01', (n * 7) % 3650);
        return `(${900_000 + n}, 'bulk${n}@example.com', TRUE, :e${i}, :now, :now)`;
      });
      await sequelize.query(`INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, support_end_date, created_at, updated_at) VALUES ${rows.join(', ')}`, { replacements });
    }
    if (dialect === 'postgres') await sequelize.query('ANALYZE bp_portal_accounts');
    // ANALYZE TABLE answers with a result set (read as one, or Sequelize's MariaDB dialect trips over it).
    if (dialect === 'mariadb') await sequelize.query('ANALYZE TABLE bp_portal_accounts', { type: QueryTypes.SELECT });

    const captured = await capturedStatements(sequelize, (sql) => /^\s*SELECT\b[\s\S]*\bFROM bp_portal_accounts a\b/.test(sql), async () => {
      await h.reminders.sweep(today);
    });
    expect(captured, 'the sweep reads the accounts due').to.have.length(1);
    const statement = captured[0]!;
    const plan = await planOf(sequelize, dialect, statement);
    if (plan.dialect === 'sqlite') {
      const details = plan.details;
      expect(details.filter((detail) => /^SCAN (a|bp_portal_accounts)\b/.test(detail)), details.join('\n')).to.deep.equal([]);
    } else if (plan.dialect === 'postgres') {
      // Asked with sequential scans off (planOf): a Seq Scan left means no index serves.
      const root = plan.root;
      // Read by the end date: an index scan of another index (contact_id, for the order) reads every account too.
      const reads = nodesOf(root).filter((node) => node['Relation Name'] === 'bp_portal_accounts');
      expect(reads, JSON.stringify(root)).to.not.be.empty;
      for (const node of reads) expect(String(node['Index Cond'] ?? node['Recheck Cond'] ?? ''), JSON.stringify(node)).to.match(/support_end_date/);
    } else {
      const rows = plan.rows;
      const scans = rows.filter((row) => row.table === 'a' && row.type === 'ALL');
      expect(scans, JSON.stringify(rows)).to.deep.equal([]);
    }
  });
});
