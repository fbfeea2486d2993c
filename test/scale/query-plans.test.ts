/**
 * The query-plan guard: on a generated CRM (host/scale/large-data.ts, small scale) the statements
 * the host runs for the portal's reads — lists scoped to a contact, an account, an account and its
 * subsidiaries, sorted and paged with a total, with column and general searches; the subsidiary
 * walk; related lists; a record's comments and documents — are read back with the database's own
 * EXPLAIN and must not scan a large table from end to end. The statements are the ones the record
 * store really sends (captured from `sequelize.query`), with their bind values.
 *
 * PostgreSQL prefers sequential scans on small tables whatever the indexes: the check runs with
 * `enable_seqscan = off`, so a Seq Scan left in the plan means no index could serve the query.
 */
import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { QueryTypes } from 'sequelize';
import type { DatabaseDialect, RecordCondition, RecordQuery } from '../../plugin/host-contract/index.js';
import { generateLargeData, type LargeDataSummary } from '../../host/scale/large-data.js';
import { FORM_SUBMISSIONS_PURGE_STATEMENT, FORM_SUBMISSION_KEPT_MS } from '../../plugin/auth/form-submissions.js';
import { RESET_REQUESTS_PURGE_STATEMENT } from '../../plugin/auth/password-reset.js';
import { SESSION_PURGE_STATEMENTS } from '../../plugin/auth/portal-sessions.js';
import { CHALLENGES_PURGE_STATEMENT, challengesForgottenAt } from '../../plugin/auth/two-factor.js';
import { SCALE_PORTAL_PASSWORD } from '../../host/scale/large-data.js';
import { portalLogin } from '../portal-api/api-test-kit.js';
import { TEST_ADMIN_PASSWORD, crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { nodesOf, planOf, type Statement } from '../support/query-plans.js';

/** The tables a full scan of which would grow with the CRM. */
const LARGE_TABLES = ['mod_faq', 'mod_products', 'mod_helpdesk', 'crm_comments', 'mod_documents', 'mod_contacts', 'mod_accounts', 'mod_invoice', 'mod_quotes', 'crm_relation_links', 'bp_client_failures', 'bp_sessions', 'bp_reset_requests', 'bp_portal_accounts', 'bp_two_factor_challenges', 'bp_form_submissions'];
const SQL_WORDS = new Set(['where', 'on', 'left', 'inner', 'join', 'order', 'group', 'limit', 'as']);

/** `FROM t a` / `JOIN t a`: alias → table, so that plans naming aliases are understood. */
function aliases(sql: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const match of sql.matchAll(/\b(?:FROM|JOIN)\s+[`"]?(\w+)[`"]?(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    const table = match[1]!.toLowerCase();
    map.set(table, table);
    const alias = match[2]?.toLowerCase();
    if (alias && !SQL_WORDS.has(alias)) map.set(alias, table);
  }
  return map;
}

/** Whether `name` (a table or an alias of `sql`) is one of the large tables. */
function isLarge(sql: string): (name: string | undefined | null) => boolean {
  const names = aliases(sql);
  return (name) => name !== undefined && name !== null && LARGE_TABLES.includes(names.get(name.toLowerCase()) ?? name.toLowerCase());
}

/** The full scans of large tables in the plan of one statement, as readable lines (empty: none). */
async function fullScans(sequelize: Sequelize, dialect: DatabaseDialect, statement: Statement): Promise<string[]> {
  const large = isLarge(statement.sql);
  const plan = await planOf(sequelize, dialect, statement);
  if (plan.dialect === 'sqlite') {
    // `SCAN t` and `SCAN t USING [COVERING] INDEX i` both read every row of t; `SEARCH` does not,
    // unless `USING AUTOMATIC [COVERING] INDEX`: an index SQLite builds for the statement from every row of t.
    return plan.details.filter((detail) => large(/^SCAN (\w+)/.exec(detail)?.[1] ?? /^SEARCH (\w+) USING AUTOMATIC/.exec(detail)?.[1]));
  }
  if (plan.dialect === 'postgres') return nodesOf(plan.root).flatMap((node) => postgresFullScan(node, large) ?? []);
  // MariaDB: type ALL reads the table, type index reads a whole index.
  return plan.rows.filter((r) => mariadbFullScan(r, large)).map((r) => `${r.type} on ${r.table}`);
}

/** A PostgreSQL plan node that reads a large table whole, as a readable line (undefined: it does not). */
function postgresFullScan(node: Record<string, unknown>, large: (name: string) => boolean): string | undefined {
  if (node['Node Type'] === 'Seq Scan' && large(String(node['Relation Name']))) return `Seq Scan on ${String(node['Relation Name'])}`;
  // With sequential scans off, a whole index read in its order (no Index Cond) takes their place: as full a scan.
  const indexed = node['Node Type'] === 'Index Scan' || node['Node Type'] === 'Index Only Scan';
  if (indexed && node['Index Cond'] === undefined && large(String(node['Relation Name']))) return `${String(node['Node Type'])} on ${String(node['Relation Name'])} without Index Cond`;
  return undefined;
}

/** A MariaDB plan row that reads a large table whole: type ALL reads the table, type index a whole index. */
function mariadbFullScan(row: { readonly table: string | null; readonly type: string | null }, large: (name: string | null) => boolean): boolean {
  return (row.type === 'ALL' || row.type === 'index') && large(row.table);
}

/**
 * The sorts of every row of a large table in the plan of one statement (empty: none): a page of a
 * list over a whole table (no scope to narrow it) must come in index order and stop after the
 * page, not sort every row first. A sort of the rows an index found (a scope, `id IN …`) is not
 * one. SQLite's `USE TEMP B-TREE FOR [RIGHT PART OF] ORDER BY` does not name its table: it counts
 * when the statement scans a large table. PostgreSQL: a Sort or Incremental Sort above a full read
 * of a large table. MariaDB: `Using filesort` on a full read of a large table.
 */
async function fullSorts(sequelize: Sequelize, dialect: DatabaseDialect, statement: Statement): Promise<string[]> {
  const large = isLarge(statement.sql);
  const plan = await planOf(sequelize, dialect, statement);
  if (plan.dialect === 'sqlite') {
    const scansLarge = plan.details.some((detail) => large(/^SCAN (\w+)/.exec(detail)?.[1]));
    return scansLarge ? plan.details.filter((detail) => /^USE TEMP B-TREE FOR .*ORDER BY/.test(detail)) : [];
  }
  if (plan.dialect === 'postgres') {
    return nodesOf(plan.root)
      .filter((node) => node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort')
      .filter((node) => nodesOf(node).some((below) => postgresFullScan(below, large) !== undefined))
      .map((node) => `${String(node['Node Type'])} by ${JSON.stringify(node['Sort Key'])}`);
  }
  return plan.rows.filter((r) => r.Extra?.includes('Using filesort') === true && mariadbFullScan(r, large)).map((r) => `filesort on ${r.table}`);
}

describe('Query plans of the portal reads on a generated CRM @db', function () {
  this.timeout(180_000);
  let test: TestHost;
  let sequelize: Sequelize;
  let dialect: DatabaseDialect;
  let summary: LargeDataSummary;
  let contactId: number;
  let accountIds: number[];
  let ticketId: number;
  let captured: Statement[] = [];

  before(async () => {
    test = await startTestHost();
    sequelize = test.host.api.database.sequelize;
    dialect = test.host.api.database.dialect;
    summary = await generateLargeData(test.host, { seed: 7, scale: 0.01 });
    // The portal user on the largest group of accounts: account scope and subsidiaries really widen the rows.
    const login = summary.sampleLogins[0]!;
    contactId = login.contactId;
    accountIds = [login.accountId!];
    for (let frontier = [login.accountId!]; frontier.length > 0; ) {
      const page = await test.host.records.query('Accounts', { where: { field: 'parent_id', op: 'in', value: frontier }, fields: ['id'], limit: 1000 });
      frontier = page.rows.map((r) => r.id);
      accountIds.push(...frontier);
    }
    const tickets = await test.host.records.query('HelpDesk', { where: { field: 'contact_id', op: 'eq', value: contactId }, fields: ['id'], limit: 1 });
    ticketId = tickets.rows[0]!.id;
    // Every statement the store sends goes through sequelize.query: keep the SELECTs of the call under test.
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = (sql, options) => {
      const given = options as { bind?: unknown; replacements?: Record<string, unknown> } | undefined;
      if (typeof sql === 'string' && /^\s*SELECT/i.test(sql)) captured.push({ sql, bind: given?.bind, replacements: given?.replacements });
      return original(sql, options);
    };
  });

  after(async () => {
    await test?.stop();
  });

  /** Runs the read and returns the SELECTs it sent, with their bind values. */
  async function statementsOf(read: () => Promise<unknown>): Promise<Statement[]> {
    captured = [];
    await read();
    const statements = captured;
    captured = [];
    expect(statements, 'the read sent no SELECT').to.not.be.empty;
    return statements;
  }

  /** Runs the read, then checks the plan of each statement it sent. */
  async function expectNoFullScan(read: () => Promise<unknown>): Promise<void> {
    for (const statement of await statementsOf(read)) {
      const scans = await fullScans(sequelize, dialect, statement);
      expect(scans, `full scan in the plan of: ${statement.sql}`).to.deep.equal([]);
    }
  }

  const contactScope = (): RecordCondition => ({ field: 'contact_id', op: 'eq', value: contactId });
  const accountScope = (accounts: readonly number[]): RecordCondition => ({ or: [contactScope(), { field: 'account_id', op: 'in', value: [...accounts] }] });
  const listPage = (where: RecordCondition, extra: Partial<RecordQuery> = {}): RecordQuery => ({
    where,
    sort: [{ field: 'modifiedAt', direction: 'desc' }],
    limit: 20,
    offset: 0,
    withTotal: true,
    ...extra,
  });

  it('generated the small CRM it checks (accounts with subsidiaries, portal users, tickets with comments)', async () => {
    expect(summary.counts.tickets).to.equal(5000);
    expect(await test.host.records.count('HelpDesk')).to.equal(5000);
    const [row] = await sequelize.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM crm_comments', { type: QueryTypes.SELECT });
    expect(Number(row!.n)).to.equal(summary.counts.comments);
    const [portal] = await sequelize.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM bp_portal_accounts', { type: QueryTypes.SELECT });
    expect(Number(portal!.n)).to.equal(summary.counts.portalUsers);
    expect(accountIds.length, 'the sample portal user is on an account with subsidiaries').to.be.greaterThan(1);
  });

  it('the ticket list of a contact (sorted, paged, with its total)', async () => {
    await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage(contactScope())));
  });

  it('the ticket list of an account, and of an account with its subsidiaries', async () => {
    await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage(accountScope(accountIds.slice(0, 1)))));
    await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage(accountScope(accountIds), { offset: 40 })));
  });

  it('the ticket list with two column searches and a general search, sorted by another column', async () => {
    const where: RecordCondition = {
      and: [
        accountScope(accountIds),
        { field: 'status', op: 'eq', value: 'Open' },
        { field: 'ticket_title', op: 'contains', value: 'printer' },
        { or: [{ field: 'ticket_no', op: 'contains', value: 'print' }, { field: 'ticket_title', op: 'contains', value: 'print' }, { field: 'priority', op: 'contains', value: 'print' }] },
      ],
    };
    await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage(where, { sort: [{ field: 'ticket_no', direction: 'asc' }] })));
    await expectNoFullScan(() => test.host.records.count('HelpDesk', where));
  });

  it('the ticket list sorted by a picklist in its own order (1.5.0), both ways: the scope still from an index, then a sort', async () => {
    for (const direction of ['asc', 'desc'] as const) {
      const sort = [{ field: 'priority', direction, picklistOrder: true }] as const;
      await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage(contactScope(), { sort })));
      await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage(accountScope(accountIds), { sort, offset: 20 })));
    }
  });

  it('the subsidiaries of an account, and the contacts, invoices and quotes of the scope', async () => {
    await expectNoFullScan(() => test.host.records.query('Accounts', { where: { field: 'parent_id', op: 'in', value: accountIds.slice(0, 1) }, fields: ['id'], limit: 1000 }));
    const contacts: RecordCondition = { or: [{ field: 'id', op: 'in', value: [contactId] }, { field: 'account_id', op: 'in', value: accountIds }] };
    await expectNoFullScan(() => test.host.records.query('Contacts', listPage(contacts)));
    await expectNoFullScan(() => test.host.records.query('Contacts', listPage({ and: [contacts, { field: 'lastname', op: 'contains', value: 'ross' }] })));
    await expectNoFullScan(() => test.host.records.query('Invoice', listPage(accountScope(accountIds))));
    await expectNoFullScan(() => test.host.records.query('Quotes', listPage(accountScope(accountIds))));
  });

  it('the public catalogues: the published FAQ entries and the active products, newest first, paged with their total', async () => {
    await expectNoFullScan(() => test.host.records.query('Faq', listPage({ field: 'status', op: 'eq', value: 'Published' })));
    await expectNoFullScan(() => test.host.records.query('Products', listPage({ field: 'active', op: 'eq', value: true }, { offset: 20 })));
  });

  it('the documents of the scope (related lists with contacts and accounts)', async () => {
    const where: RecordCondition = {
      or: [
        { linkedThrough: 'Documents~Contacts', ids: [contactId] },
        { linkedThrough: 'Documents~Accounts', ids: accountIds },
      ],
    };
    await expectNoFullScan(() => test.host.records.query('Documents', listPage(where)));
  });

  it("a ticket's comments, comment count, documents (a page of them, their count) and related list in both directions", async () => {
    await expectNoFullScan(() => test.host.records.comments('HelpDesk', ticketId));
    await expectNoFullScan(() => test.host.records.comments('HelpDesk', ticketId, { includeInternal: true }));
    await expectNoFullScan(() => test.host.records.comments('HelpDesk', ticketId, { newest: { limit: 50, offset: 50 } }));
    await expectNoFullScan(() => test.host.records.commentCount('HelpDesk', ticketId));
    await expectNoFullScan(() => test.host.records.documents('HelpDesk', ticketId));
    await expectNoFullScan(() => test.host.records.documents('HelpDesk', ticketId, { newest: { limit: 50, offset: 50 } }));
    await expectNoFullScan(() => test.host.records.documentCount('HelpDesk', ticketId));
    await expectNoFullScan(() => test.host.records.query('Documents', listPage({ linkedThrough: 'Documents~HelpDesk', ids: [ticketId] })));
    await expectNoFullScan(() => test.host.records.relatedIds('Documents~HelpDesk', 'HelpDesk', ticketId));
    const [link] = await sequelize.query<{ record_id: number | string }>("SELECT record_id FROM crm_relation_links WHERE relation_id = 'Documents~HelpDesk' ORDER BY record_id", {
      type: QueryTypes.SELECT,
    });
    await expectNoFullScan(() => test.host.records.relatedIds('Documents~HelpDesk', 'Documents', Number(link!.record_id)));
    await expectNoFullScan(() => test.host.records.query('HelpDesk', listPage({ linkedThrough: 'Documents~HelpDesk', ids: [Number(link!.record_id)] })));
  });

  it("the portal's comment count and a page of the newest comments come from one index, not the ticket's rows (an old ticket has thousands)", async () => {
    // The count reads the index alone (no row of crm_comments: `internal` is in it), and the page
    // comes in the index's order (no sort of every public comment of the ticket before the 50).
    const [count] = await statementsOf(() => test.host.records.commentCount('HelpDesk', ticketId));
    const countPlan = await planOf(sequelize, dialect, count!);
    if (countPlan.dialect === 'sqlite') expect(countPlan.details.join('\n'), count!.sql).to.match(/USING COVERING INDEX/);
    else if (countPlan.dialect === 'postgres') expect(nodesOf(countPlan.root).map((node) => node['Node Type']), count!.sql).to.include('Index Only Scan');
    // MariaDB: "Using index" alone (not "Using index condition", which still reads the rows).
    else expect((countPlan.rows.find((row) => row.table === 'crm_comments')?.Extra ?? '').split(/;\s*/), count!.sql).to.include('Using index');

    const [page] = await statementsOf(() => test.host.records.comments('HelpDesk', ticketId, { newest: { limit: 50, offset: 0 } }));
    const pagePlan = await planOf(sequelize, dialect, page!);
    if (pagePlan.dialect === 'sqlite') expect(pagePlan.details.filter((detail) => /TEMP B-TREE/.test(detail)), page!.sql).to.deep.equal([]);
    else if (pagePlan.dialect === 'postgres') expect(nodesOf(pagePlan.root).map((node) => node['Node Type']), page!.sql).to.not.include.members(['Sort', 'Incremental Sort']);
    else expect(pagePlan.rows.filter((row) => row.Extra?.includes('filesort')).map((row) => row.table), page!.sql).to.deep.equal([]);
  });

  it("the portal's pages as the customer opens them: home, each list in the menu sorted by each column, the next page, the export, a record", async () => {
    const cookie = await portalLogin(test, summary.sampleLogins[0]!.email, SCALE_PORTAL_PASSWORD);
    const page = async (path: string): Promise<string> => {
      let html = '';
      await expectNoFullScan(async () => {
        const response = await fetch(`${test.url}${path}`, { headers: { cookie }, redirect: 'manual' });
        expect(response.status, path).to.equal(200);
        html = await response.text();
      });
      return html;
    };
    const links = (html: string, prefix: string) => [...new Set([...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=')))].filter((h) => h.startsWith(prefix));
    const lists = links(await page('/portal/'), '/portal/m/').filter((h) => /^\/portal\/m\/\w+$/.test(h));
    expect(lists).to.include.members(['/portal/m/HelpDesk', '/portal/m/Accounts', '/portal/m/Contacts', '/portal/m/Invoice', '/portal/m/Quotes', '/portal/m/Documents']);
    for (const list of lists) {
      const html = await page(list);
      const sorted = links(html, `${list}?`).filter((h) => h.includes('sort='));
      const records = links(html, `${list}/`).filter((h) => /^\/portal\/m\/\w+\/\d+/.test(h));
      expect(sorted, `${list}: sort links`).to.not.be.empty;
      for (const href of sorted) await page(href);
      if (records.length > 0) await page(records[0]!);
    }
    // Searches as the list's form sends them: general, a picklist's select, a text column, together and sorted; then the API's reference filter.
    for (const query of ['q=printer', 'f_status=Open', 'f_ticket_title=print&f_priority=High&sort=ticket_title&dir=asc', 'q=TT1&f_status=Closed&sort=status&dir=desc&page=2']) {
      await page(`/portal/m/HelpDesk?${query}`);
    }
    await page(`/portal/api/v1/modules/HelpDesk/records?filter%5Bcontact_id%5D=${contactId}&sort=priority&direction=desc`);
    await page('/portal/api/v1/modules/Invoice/records?search=contract&sort=total&direction=desc');
    // The export reads the ids of the whole list, then its rows in batches (scope AND id IN …).
    const csv = await page('/portal/m/HelpDesk/export.csv');
    expect(csv.split('\n').length).to.be.greaterThan(20);
  });

  it("a CRM contact's page with its Business Portal section, and the Business Portal settings (profiles with their users' count)", async () => {
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    for (const [path, shown] of [
      [`/contacts/${contactId}`, summary.sampleLogins[0]!.email],
      ['/settings/business-portal/', 'Default'],
    ] as const) {
      await expectNoFullScan(async () => {
        const response = await fetch(`${test.url}${path}`, { headers: { cookie: admin } });
        expect(response.status, path).to.equal(200);
        expect(await response.text(), path).to.include(shown);
      });
    }
  });

  it("the reference host's Contacts page (every contact by last name, first name, a page with the total): read in index order, no sort of every contact", async function () {
    // MariaDB 10.11 indexes no expression (the order is on LOWER(lastname)…): there the page still sorts.
    if (dialect === 'mariadb') return this.skip();
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    for (const [path, shown] of [
      ['/contacts', `${summary.counts.contacts} contacts`],
      ['/contacts?page=3', 'Page 3 of'],
    ] as const) {
      const statements = await statementsOf(async () => {
        const response = await fetch(`${test.url}${path}`, { headers: { cookie: admin } });
        expect(response.status, path).to.equal(200);
        expect(await response.text(), path).to.include(shown);
      });
      const page = statements.filter((s) => /\bFROM\s+\W?mod_contacts\b/i.test(s.sql) && /\bORDER BY\b/i.test(s.sql));
      expect(page, `${path}: the page's SELECT of contacts`).to.have.length(1);
      for (const statement of statements) {
        const sorts = await fullSorts(sequelize, dialect, statement);
        expect(sorts, `sort of every row in the plan of: ${statement.sql}`).to.deep.equal([]);
      }
    }
  });

  it('the Check Business Portal login page (locked and failing users, banned client addresses), also filtered', async () => {
    // Every address that ever failed a login keeps its row; the banned ones are a handful of them.
    const rows = Array.from({ length: 500 }, (_, i) => `('198.51.${Math.floor(i / 250)}.${i % 250}', ${i < 3 ? 100 : 1}, ${i < 3 ? ':at' : 'NULL'}, :at)`);
    await sequelize.query(`INSERT INTO bp_client_failures (ip, failures, banned_at, last_failed_at) VALUES ${rows.join(', ')}`, { replacements: { at: new Date() } });
    // Among the portal users (one per ten contacts), one locked and one failing: the lists show a few of many.
    const [locked, failing] = summary.sampleLogins.slice(1, 3);
    await sequelize.query('UPDATE bp_portal_accounts SET failed_attempts = 5, first_failed_at = :at, last_failed_at = :at, locked_at = :at WHERE contact_id = :id', {
      replacements: { at: new Date(), id: locked!.contactId },
    });
    await sequelize.query('UPDATE bp_portal_accounts SET failed_attempts = 2, first_failed_at = :at, last_failed_at = :at WHERE contact_id = :id', {
      replacements: { at: new Date(), id: failing!.contactId },
    });
    const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
    for (const [query, shown] of [
      ['', ['198.51.0.2', locked!.email, failing!.email]],
      [`?q=${encodeURIComponent(failing!.email.split('.')[0]!)}`, [failing!.email]],
    ] as const) {
      await expectNoFullScan(async () => {
        const response = await fetch(`${test.url}/settings/business-portal/login-check${query}`, { headers: { cookie: admin } });
        expect(response.status).to.equal(200);
        const html = await response.text();
        for (const text of shown) expect(html, query).to.include(text);
      });
    }
  });

  it('the purge of portal sessions, which keeps rotated-away remember-me tokens until their family ends', async () => {
    // Remembered sessions, each with the tokens its rotations replaced, and a few plain ones.
    const now = Date.now();
    const rows = Array.from({ length: 600 }, (_, i) => {
      const remember = i % 10 !== 0;
      const idle = new Date(now + (remember && i % 3 !== 0 ? -60_000 : 30 * 60_000));
      return { id: `purge-plan-${String(i).padStart(4, '0')}`, family: `purge-plan-${String(i - (i % 3)).padStart(4, '0')}`, remember, idle, replaced: remember && i % 3 !== 2 ? idle : null };
    });
    for (const row of rows) {
      await sequelize.query(
        `INSERT INTO bp_sessions (id, family_id, contact_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, remember, replaced_at)
          VALUES (:id, :family, :contactId, :created, :created, :idle, :absolute, :remember, :replaced)`,
        { replacements: { ...row, contactId, created: new Date(now - 60 * 60_000), absolute: new Date(now + 24 * 60 * 60_000) } },
      );
    }
    for (const sql of SESSION_PURGE_STATEMENTS) {
      const scans = await fullScans(sequelize, dialect, { sql, replacements: { now: new Date(), no: false } });
      expect(scans, `full scan in the plan of: ${sql}`).to.deep.equal([]);
    }
  });

  it('the purge of forgot-password requests past the hour their limits count them in', async () => {
    // Many addresses and clients, a few of them past the hour. (With a large share of the rows to
    // delete, MariaDB's cost model reads the whole table rather than the index: the table then
    // holds little more than an hour of requests. What is checked is that an index serves it.)
    const now = Date.now();
    const rows = Array.from({ length: 600 }, (_, i) => `('person${i}@example.com', '198.51.${Math.floor(i / 250)}.${i % 250}', ${i % 20 === 0 ? ':old' : ':recent'})`);
    await sequelize.query(`INSERT INTO bp_reset_requests (email, ip, at) VALUES ${rows.join(', ')}`, {
      replacements: { recent: new Date(now - 20 * 60_000), old: new Date(now - 70 * 60_000) },
    });
    const scans = await fullScans(sequelize, dialect, { sql: RESET_REQUESTS_PURGE_STATEMENT, replacements: { forgotten: new Date(now - 60 * 60_000) } });
    expect(scans, `full scan in the plan of: ${RESET_REQUESTS_PURGE_STATEMENT}`).to.deep.equal([]);
  });

  it('the purge of second-factor challenges past the hour the limit on codes counts them in', async () => {
    // Challenges of many contacts, a few of them past the hour (see the forgot-password purge above on MariaDB's cost model).
    const now = Date.now();
    const rows = Array.from(
      { length: 600 },
      (_, i) => `('purge-challenge-${String(i).padStart(4, '0')}', ${i + 1}, 'email', 'x', :no, 0, ${i % 20 === 0 ? ':oldCreated, :oldExpires' : ':recentCreated, :recentExpires'}, NULL, '198.51.100.7')`,
    );
    await sequelize.query(
      `INSERT INTO bp_two_factor_challenges (id, contact_id, method, code_hash, remember, attempts, created_at, expires_at, used_at, ip) VALUES ${rows.join(', ')}`,
      {
        replacements: {
          no: false,
          oldCreated: new Date(now - 70 * 60_000),
          oldExpires: new Date(now - 60 * 60_000),
          recentCreated: new Date(now - 20 * 60_000),
          recentExpires: new Date(now - 10 * 60_000),
        },
      },
    );
    const scans = await fullScans(sequelize, dialect, { sql: CHALLENGES_PURGE_STATEMENT, replacements: { forgotten: challengesForgottenAt(new Date(now)) } });
    expect(scans, `full scan in the plan of: ${CHALLENGES_PURGE_STATEMENT}`).to.deep.equal([]);
  });

  it('the purge of portal form posts past the day their repeats are recognised in', async () => {
    // Posts of many customers, a few of them past the day (see the forgot-password purge above on MariaDB's cost model).
    const now = Date.now();
    const rows = Array.from({ length: 600 }, (_, i) => `('purge-form-${String(i).padStart(4, '0')}', ${i + 1}, NULL, ${i % 20 === 0 ? ':old' : ':recent'})`);
    await sequelize.query(`INSERT INTO bp_form_submissions (submission_key, contact_id, outcome, created_at) VALUES ${rows.join(', ')}`, {
      replacements: { recent: new Date(now - 60 * 60_000), old: new Date(now - FORM_SUBMISSION_KEPT_MS - 60 * 60_000) },
    });
    const scans = await fullScans(sequelize, dialect, { sql: FORM_SUBMISSIONS_PURGE_STATEMENT, replacements: { forgotten: new Date(now - FORM_SUBMISSION_KEPT_MS) } });
    expect(scans, `full scan in the plan of: ${FORM_SUBMISSIONS_PURGE_STATEMENT}`).to.deep.equal([]);
  });

  it('adding a comment reads back the new comment alone, not the ticket\'s others', async () => {
    const before = await test.host.records.comments('HelpDesk', ticketId, { includeInternal: true });
    expect(before.length, 'the ticket has comments already').to.be.greaterThan(0);
    const read: { sql: string; rows: number }[] = [];
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = async (sql, options) => {
      const result = await original(sql, options);
      if (typeof sql === 'string' && /^\s*SELECT/i.test(sql) && /\bcrm_comments\b/.test(sql)) read.push({ sql, rows: Array.isArray(result) ? result.length : -1 });
      return result;
    };
    try {
      await expectNoFullScan(() => test.host.records.addComment('HelpDesk', ticketId, { body: 'One more', internal: false }, { actor: { kind: 'contact', contactId } }));
    } finally {
      (sequelize as unknown as { query: typeof original }).query = original;
    }
    expect(read.map((r) => r.rows), 'rows of crm_comments read back').to.deep.equal([1]);
  });
});
