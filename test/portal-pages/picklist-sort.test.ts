/**
 * A list sorted by a picklist column (a ticket's priority or status) comes in the picklist's own
 * order — Low, Normal, High, Urgent; Open, In Progress, Wait For Response, Closed — the same in
 * every language, not in the order of the stored texts (High, Low, Normal, Urgent) nor of the
 * labels shown. Values the picklist no longer has come after the known ones both ways; pages
 * neither repeat nor skip a ticket. The same order on the pages, their CSV export, and the JSON
 * API's list and export.
 */
import { expect } from 'chai';
import type { PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { JANE, recordIdsIn, signedIn } from './portal-pages-kit.js';
import { signedIn as apiSignedIn, type ApiClient } from '../portal-api/api-test-kit.js';

const PRIORITIES = ['Low', 'Normal', 'High', 'Urgent'];
const STATUSES = ['Open', 'In Progress', 'Wait For Response', 'Closed'];
const ITALIAN_PRIORITIES: Record<string, string> = { Bassa: 'Low', Normale: 'Normal', Alta: 'High', Urgente: 'Urgent' };
const LEGACY = 'Legacy priority';

describe('portal lists sorted by a picklist column, in the picklist order @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let janeItalian: PortalClient;
  let janeApi: ApiClient;
  /** Every ticket of Jane's list (her account's): id → stored priority and status. */
  const tickets = new Map<number, { priority: string | null; status: string; ticketNo: string }>();

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const records = test.host.records;
    const contact = (await records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE }, limit: 1 })).rows[0]!;
    const account = Number(contact.values.account_id);
    // More than a page of tickets (20), every priority several times, some empty.
    for (let i = 0; i < 26; i++) {
      const priority = i % 5 === 4 ? null : PRIORITIES[(i * 3) % 4]!;
      await records.create('HelpDesk', { values: { ticket_title: `Sorting ${i}`, contact_id: contact.id, account_id: account, status: STATUSES[(i * 7) % 3]!, priority } });
    }
    const all = await records.query('HelpDesk', { where: { field: 'account_id', op: 'eq', value: account }, fields: ['priority', 'status', 'ticket_no'], limit: 1000 });
    // A priority the picklist no longer has, from before (written past the store's checks).
    const legacy = all.rows.find((r) => r.values.status !== 'Closed')!.id;
    await test.host.api.database.sequelize.query('UPDATE mod_helpdesk SET priority = $value WHERE id = $id', { bind: { value: LEGACY, id: legacy } });
    for (const row of all.rows) {
      tickets.set(row.id, { priority: row.id === legacy ? LEGACY : (row.values.priority as string | null), status: String(row.values.status), ticketNo: String(row.values.ticket_no) });
    }
    jane = await signedIn(test, JANE);
    janeItalian = await signedIn(test, JANE, 'it');
    // Jane's contact reads English: the sign-in chose it; she picks Italian as the language menu would.
    janeItalian.cookies.set('bp_lang', 'it');
    janeApi = await apiSignedIn(test, JANE);
  });
  after(async () => {
    await test?.stop();
  });

  /** The list's expected order: empty first going up (last going down), then the picklist's order reversed or not, legacy values after, then by value, then by id. */
  function expectedIds(field: 'priority' | 'status', direction: 'asc' | 'desc'): number[] {
    const order = field === 'priority' ? PRIORITIES : STATUSES;
    const sign = direction === 'asc' ? 1 : -1;
    const rank = (value: string) => (order.includes(value) ? (direction === 'asc' ? order.indexOf(value) : order.length - 1 - order.indexOf(value)) : order.length);
    return [...tickets.entries()]
      .sort(([idA, a], [idB, b]) => {
        const [x, y] = [a[field], b[field]];
        if (x === null || y === null) return x === y ? idA - idB : sign * (x === null ? -1 : 1);
        return rank(x) - rank(y) || sign * (x.toLowerCase() < y.toLowerCase() ? -1 : x.toLowerCase() > y.toLowerCase() ? 1 : 0) || idA - idB;
      })
      .map(([id]) => id);
  }

  /** Every page of the list, its ticket ids in order, and the text of each row's cells. */
  async function pages(client: PortalClient, query: string): Promise<{ ids: number[]; cells: string[][] }> {
    const ids: number[] = [];
    const cells: string[][] = [];
    for (let page = 1; page < 20; page++) {
      const { response, html } = await client.get(`/m/HelpDesk?${query}${page > 1 ? `&page=${page}` : ''}`);
      expect(response.status).to.equal(200);
      ids.push(...recordIdsIn(html, 'HelpDesk'));
      for (const row of html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)) {
        if (!row[1]!.includes('bp-row-link')) continue;
        cells.push([...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()));
      }
      if (!html.includes('rel="next"')) break;
    }
    return { ids, cells };
  }

  it('sorts the ticket list by priority in the picklist order both ways, across pages, legacy values after the known ones', async () => {
    expect(tickets.size, 'more than one page of tickets').to.be.greaterThan(20);
    for (const direction of ['asc', 'desc'] as const) {
      const { ids } = await pages(jane, `sort=priority&dir=${direction}`);
      expect(ids.map((id) => tickets.get(id)!.priority), direction).to.deep.equal(expectedIds('priority', direction).map((id) => tickets.get(id)!.priority));
      // Ties by id: exactly the expected tickets, none repeated or skipped at the page boundary.
      expect(ids, direction).to.deep.equal(expectedIds('priority', direction));
    }
  });

  it('sorts the same in Italian, whose labels would sort otherwise (Alta, Bassa, Normale, Urgente)', async () => {
    const { ids, cells } = await pages(janeItalian, 'sort=priority&dir=asc');
    expect(cells[0]![2], 'the page is in Italian').to.be.oneOf(['Aperto', 'In lavorazione', 'In attesa di risposta', 'Chiuso']);
    expect(ids).to.deep.equal(expectedIds('priority', 'asc'));
    const shown = cells.map((row) => row[3]!).filter((label) => label in ITALIAN_PRIORITIES);
    expect(shown.map((label) => PRIORITIES.indexOf(ITALIAN_PRIORITIES[label]!))).to.deep.equal(shown.map((label) => PRIORITIES.indexOf(ITALIAN_PRIORITIES[label]!)).sort((a, b) => a - b));
    expect(new Set(shown)).to.have.keys('Bassa', 'Normale', 'Alta', 'Urgente');
    expect(cells.at(-1)![3], 'the legacy value, last').to.equal(LEGACY);
  });

  it('sorts the ticket list by status in the picklist order', async () => {
    for (const direction of ['asc', 'desc'] as const) {
      const { ids } = await pages(janeItalian, `sort=status&dir=${direction}`);
      expect(ids, direction).to.deep.equal(expectedIds('status', direction));
    }
  });

  it('exports the list as CSV in the same order', async () => {
    const { response, html } = await jane.get('/m/HelpDesk/export.csv?sort=priority&dir=desc');
    expect(response.status).to.equal(200);
    const numbers = html.replace(/^\uFEFF/, '').trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0]);
    expect(numbers).to.deep.equal(expectedIds('priority', 'desc').map((id) => tickets.get(id)!.ticketNo));
  });

  it('answers the JSON API’s list, a page at a time, and its export in the same order', async () => {
    for (const direction of ['asc', 'desc'] as const) {
      const ids: number[] = [];
      for (let page = 1; ids.length < tickets.size; page++) {
        const answer = await janeApi.get(`/modules/HelpDesk/records?sort=priority&direction=${direction}&pageSize=7&page=${page}`);
        expect(answer.status).to.equal(200);
        expect(answer.body.sort).to.deep.equal({ field: 'priority', direction });
        expect(answer.body.rows).to.not.be.empty;
        ids.push(...answer.body.rows.map((r: { id: number }) => r.id));
      }
      expect(ids, direction).to.deep.equal(expectedIds('priority', direction));
    }
    const csv = await janeApi.get('/modules/HelpDesk/export.csv?sort=status&direction=asc');
    expect(csv.status).to.equal(200);
    const numbers = csv.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0]);
    expect(numbers).to.deep.equal(expectedIds('status', 'asc').map((id) => tickets.get(id)!.ticketNo));
  });
});
