/**
 * Portal pages found wanting in a review of the demo: a Documents record offers its own file, a
 * page past a list's last shows the last, a column search on a date or an amount that cannot be
 * read says which column and how to type it, and the record page's way back keeps the list.
 */
import { expect } from 'chai';
import { tokenIn as tokenOf, type PortalClient } from '../sign-in/sign-in-fixture.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { changeDefaultModule, invoiceDate, JANE, MARIO, recordIdsIn, signedIn } from './portal-pages-kit.js';
import { changeModule, defaultProfile } from '../portal-api/api-test-kit.js';

const AGREEMENT = 'Acme Ltd - Master service agreement';

describe('portal pages: documents, paging, column searches, the way back to the list @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let mario: PortalClient;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    jane = await signedIn(test, JANE);
    mario = await signedIn(test, MARIO, 'it');
  });
  after(async () => {
    await test?.stop();
  });

  /** The id of a record by its link text on a list page. */
  const idOf = (html: string, module: string, label: string): number => {
    const match = new RegExp(`href="/portal/m/${module}/(\\d+)">${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}<`).exec(html);
    if (!match) throw new Error(`${label} is not on the list`);
    return Number(match[1]);
  };

  describe('a Documents record', () => {
    it('offers its own file for download, with a readable size', async () => {
      const list = await jane.get('/m/Documents');
      const id = idOf(list.html, 'Documents', AGREEMENT);
      const { response, html } = await jane.get(`/m/Documents/${id}`);
      expect(response.status).to.equal(200);
      const href = /<a class="bp-button bp-button-link" href="([^"]+)" download data-download[^>]*>Download the file</.exec(html)?.[1];
      expect(href, 'the download button').to.equal(`/portal/m/Documents/${id}/documents/${id}`);
      expect(html).to.match(/data-download-details>acme-master-service-agreement\.pdf, \d+(\.\d)? (B|KB)</);
      expect(html).to.match(/data-field="filesize">\s*<dt>File size<\/dt>\s*<dd>\d+(\.\d)? (B|KB)<\/dd>/);
      const file = await jane.get(href!.replace('/portal', ''));
      expect(file.response.status).to.equal(200);
      expect(file.response.headers.get('content-disposition')).to.match(/^attachment/);
      expect(file.html.startsWith('%PDF')).to.equal(true);
    });

    it('shows the size in the customer’s language, and no button where there is no file to read', async () => {
      const list = await mario.get('/m/Documents');
      const [id] = recordIdsIn(list.html, 'Documents');
      const stored = await test.host.records.get('Documents', id!);
      // A size that needs a decimal separator, and a file the store has lost.
      await test.host.records.update('Documents', id!, { values: { filesize: 1536 } }, { actor: { kind: 'system' }, expectedVersion: stored!.version });
      await test.host.api.database.sequelize.query('UPDATE mod_documents SET storage_key = NULL WHERE id = $id', { bind: { id } });
      const { response, html } = await mario.get(`/m/Documents/${id}`);
      expect(response.status).to.equal(200);
      expect(html).to.match(/data-field="filesize">\s*<dt>Dimensione file<\/dt>\s*<dd>1,5 KB<\/dd>/);
      expect(html).not.to.include('data-download');
      expect((await mario.get(`/m/Documents/${id}/documents/${id}`)).response.status).to.equal(404);
    });
  });

  describe('paging', () => {
    it('sends a page past the last to the last page, keeping the search and the sort', async () => {
      const past = await jane.get('/m/HelpDesk?page=2');
      expect(past.response.status).to.equal(303);
      expect(past.response.headers.get('location')).to.equal('/portal/m/HelpDesk');
      const { html } = await jane.get('/m/HelpDesk');
      const total = Number(/of (\d+)</.exec(html)![1]);
      expect(html).to.include(`1–${total} of ${total}`).and.include('Page 1 of 1');

      const filtered = await jane.get('/m/HelpDesk?f_status=Open&sort=ticket_no&dir=asc&page=99999');
      expect(filtered.response.status).to.equal(303);
      expect(filtered.response.headers.get('location')).to.equal('/portal/m/HelpDesk?f_status=Open&sort=ticket_no&dir=asc');
      // Nothing matches: page 2 of nothing is page 1 of nothing.
      const none = await jane.get('/m/HelpDesk?q=no-such-ticket-anywhere&page=2');
      expect(none.response.headers.get('location')).to.equal('/portal/m/HelpDesk?q=no-such-ticket-anywhere');
    });

    it('shows no range or page count above an empty list, nor above a search that matched nothing, in English and Italian', async () => {
      // A module of the customer's with no records yet.
      await test.host.api.modules.registerModule({
        name: 'Calls',
        label: { en: 'Calls', it: 'Chiamate' },
        singularLabel: { en: 'Call', it: 'Chiamata' },
        custom: true,
        labelField: 'subject',
        fields: [
          { name: 'subject', label: { en: 'Subject', it: 'Oggetto' }, type: 'text', mandatory: true },
          { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
        ],
      });
      await changeDefaultModule(test, 'Calls', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact', tools: { ...entry.tools, search: true } }));
      const paging = (html: string) => /<nav class="bp-paging"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? null;
      for (const [client, empty, noMatch] of [
        [jane, 'There are no records here yet.', 'No record matches the search.'],
        [mario, 'Non ci sono ancora record.', 'Nessun record corrisponde alla ricerca.'],
      ] as const) {
        const nothing = await client.get('/m/Calls');
        expect(nothing.response.status).to.equal(200);
        expect(paging(nothing.html), 'an empty list').to.equal(null);
        expect(nothing.html).not.to.match(/0–0|0-0/);
        expect(nothing.html).to.include(`<p class="bp-empty" role="status">${empty}</p>`);
        const searched = await client.get('/m/HelpDesk?q=no-such-ticket-anywhere');
        expect(paging(searched.html), 'a search that matched nothing').to.equal(null);
        expect(searched.html).to.include(`<p class="bp-empty" role="status">${noMatch}</p>`);
        // A list with records still says which of them it shows.
        expect(paging((await client.get('/m/HelpDesk')).html)).to.match(/1–\d+ (of|di) \d+/);
      }
    });
  });

  describe('a column some rule hides on some rows', () => {
    it('is neither sorted nor searched on the page, and a hand-made search or sort by it is refused', async () => {
      const api = test.host.api;
      await changeModule(api, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, description: 'readwrite' }, listColumns: ['ticket_no', 'ticket_title', 'description'], tools: { ...entry.tools, search: true } }));
      const profile = await defaultProfile(api);
      const rules = profile.document.rules;
      try {
        const open = await jane.get('/m/HelpDesk');
        expect(open.html).to.include('id="bp-filter-description"').and.include('sort&#x3D;description');
        await profile.save('rules', [...rules, { name: 'No description once closed', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [{ field: 'description', effect: 'hidden' }], allReadOnly: false }]);
        const { response, html } = await jane.get('/m/HelpDesk');
        expect(response.status).to.equal(200);
        expect(html).not.to.include('id="bp-filter-description"').and.not.include('sort&#x3D;description');
        expect(html).to.include('id="bp-filter-ticket_title"');
        for (const query of ['f_description=a', 'sort=description&dir=asc']) expect((await jane.get(`/m/HelpDesk?${query}`)).response.status, query).to.equal(400);
      } finally {
        await profile.save('rules', rules);
      }
    });
  });

  describe('a hand-typed column search the list does not offer', () => {
    it('is left out with a message naming it, the same for a hidden field and one that does not exist; the rest of the search is kept', async () => {
      const api = test.host.api;
      const profile = await defaultProfile(api);
      const { modules, rules } = profile.document;
      // Listed: ticket_no, ticket_title, status, description (some rule hides it on closed tickets);
      // category is visible but no list column; solution is hidden; createdtime is no field at all.
      await changeModule(api, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, description: 'readwrite', category: 'readwrite', solution: 'hidden' }, listColumns: ['ticket_no', 'ticket_title', 'status', 'description'], tools: { ...entry.tools, search: true } }));
      await profile.save('rules', [...rules, { name: 'No description once closed', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [{ field: 'description', effect: 'hidden' }], allReadOnly: false }]);
      const problem = (html: string) => /id="bp-list-problem"[^>]*>([^<]*)</.exec(html)?.[1] ?? null;
      try {
        const kept = 'f_status=Open&sort=ticket_no&dir=asc';
        const wanted = await jane.get(`/m/HelpDesk?${kept}`);
        expect(wanted.response.status).to.equal(200);
        const open = recordIdsIn(wanted.html, 'HelpDesk');
        expect(open.length, 'open tickets').to.be.greaterThan(0);
        const messages: string[] = [];
        // A visible field the list does not show is searched, as the API's filter does (it tells nothing hidden).
        const category = await jane.get(`/m/HelpDesk?f_category=no-such-category&${kept}`);
        expect(category.response.status).to.equal(200);
        expect(problem(category.html)).to.equal(null);
        expect(recordIdsIn(category.html, 'HelpDesk')).to.deep.equal([]);
        for (const field of ['solution', 'createdtime', 'description']) {
          const page = await jane.get(`/m/HelpDesk?f_${field}=a&${kept}`);
          expect(page.response.status, field).to.equal(400);
          const said = problem(page.html);
          expect(said, field).to.equal(`The list cannot be searched by “${field}”, so that part of the search was left out; the rest of it was kept.`);
          messages.push(said!.replace(field, '…'));
          expect(page.html, field).not.to.include('This search or sort is not possible here');
          // The rest of the search and the sort: the same rows, in the same order, the status still chosen.
          expect(recordIdsIn(page.html, 'HelpDesk'), field).to.deep.equal(open);
          expect(page.html, field).to.match(/<option value="Open" selected>/);
        }
        expect(new Set(messages).size, 'one answer for every field').to.equal(1);
        // Several at once: one message naming them all; in Italian.
        const both = await mario.get(`/m/HelpDesk?f_solution=a&f_nope=b&${kept}`);
        expect(both.response.status).to.equal(400);
        expect(problem(both.html)).to.equal('Non si può cercare nell’elenco per “solution”, “nope”, quindi quella parte della ricerca è stata tralasciata; il resto è stato mantenuto.');

        // The API: a 400 with the same problem for a hidden field, one that does not exist and one some rule hides.
        const apiList = async (query: string) => {
          const answer = await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/records?${query}`, { headers: { cookie: jane.cookieHeader() } });
          return { status: answer.status, body: (await answer.json()) as any };
        };
        for (const field of ['solution', 'createdtime', 'description']) {
          const answer = await apiList(`filter[status]=Open&filter[${field}]=a`);
          expect(answer.status, field).to.equal(400);
          expect(answer.body.error.code, field).to.equal('invalid_input');
          expect(answer.body.error.problems, field).to.deep.equal([{ field: `filter[${field}]`, code: 'unknown-field', message: 'There is no such field.' }]);
        }
        // A visible field the list does not show: the API filters by it (its documented filters take any visible field).
        expect((await apiList('filter[status]=Open&filter[category]=no-such-category')).status).to.equal(200);
      } finally {
        await profile.save('rules', rules);
        await profile.save('modules', modules);
      }
    });
  });

  describe('an export whose search the list cannot do', () => {
    /** The page export's answer to `query`: status, type and body. */
    const exported = async (client: PortalClient, path: string, method = 'GET') => {
      const answer = await fetch(`${test.url}/portal${path}`, { method, headers: { cookie: client.cookieHeader() }, redirect: 'manual' });
      return { status: answer.status, type: answer.headers.get('content-type') ?? '', body: await answer.text() };
    };
    const said = (html: string) => /<p role="status">([^<]*)</.exec(html)?.[1] ?? null;
    /** The link back to the list: its address (entities decoded, as a browser reads it) and its words. */
    const back = (html: string) => {
      const [href, words] = /<p><a href="([^"]+)">([^<]*)<\/a><\/p>/.exec(html)?.slice(1) ?? [];
      return href === undefined ? null : [href.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'), words];
    };
    const csvLines = (csv: string) => csv.replace(/^\uFEFF/, '').split(/\r?\n/).filter((line) => line !== '');

    it('exports nothing: a 400 page that names what could not be searched and leads back to the list (never more rows than asked for)', async () => {
      // What the customer asked for, and what the list's own export link gives for it.
      const open = await exported(jane, '/m/HelpDesk/export.csv?f_status=Open&sort=ticket_no&dir=asc');
      expect(open.status).to.equal(200);
      const all = await exported(jane, '/m/HelpDesk/export.csv?sort=ticket_no&dir=asc');
      expect(csvLines(all.body).length, 'more tickets than the open ones').to.be.greaterThan(csvLines(open.body).length);
      // A field that does not exist and one the list cannot search, typed by hand beside the status.
      for (const field of ['nothing', 'createdtime']) {
        const path = `/m/HelpDesk/export.csv?f_${field}=1&f_status=Open&sort=ticket_no&dir=asc`;
        const answer = await exported(jane, path);
        expect(answer.status, field).to.equal(400);
        expect(answer.type, field).to.match(/^text\/html/);
        expect(answer.body, field).not.to.include('\uFEFF').and.not.include('Ticket number,');
        expect(said(answer.body), field).to.equal(`The list cannot be searched by “${field}” as written, so nothing was exported: without that part of the search the file would hold more rows than asked for.`);
        expect(back(answer.body), field).to.deep.equal([`/portal/m/HelpDesk?f_${field}=1&f_status=Open&sort=ticket_no&dir=asc`, 'Open the list with this search']);
        // The list it leads to leaves that part out and says so.
        const list = await jane.get(back(answer.body)![0]!.replace('/portal', ''));
        expect(list.html, field).to.include(`The list cannot be searched by “${field}”, so that part of the search was left out`);
        // A HEAD is refused the same, without a CSV's headers.
        const head = await exported(jane, path, 'HEAD');
        expect([head.status, head.type.startsWith('text/html')], `HEAD ${field}`).to.deep.equal([400, true]);
      }
      // A value a column cannot hold, named by its column; in Italian.
      const date = await exported(mario, `/m/Invoice/export.csv?f_invoicedate=${encodeURIComponent('23/11/2026')}`);
      expect(date.status).to.equal(400);
      expect(said(date.body)).to.equal('Non si può cercare nell’elenco per “Data fattura” come scritto, quindi non è stato esportato nulla: senza quella parte della ricerca il file conterrebbe più righe di quelle richieste.');
      expect(back(date.body)).to.deep.equal(['/portal/m/Invoice?f_invoicedate=23%2F11%2F2026', 'Apri l’elenco con questa ricerca']);
      // A sort the list cannot do: nothing exported either, and the list to go back to.
      const sort = await exported(jane, '/m/HelpDesk/export.csv?f_status=Open&sort=nothing');
      expect(sort.status).to.equal(400);
      expect(said(sort.body)).to.equal('This search or sort is not possible here, so nothing was exported.');
      expect(back(sort.body)).to.deep.equal(['/portal/m/HelpDesk?f_status=Open&sort=nothing&dir=desc', 'Open the list with this search']);
      // An amount typed as the customer's language writes it is read as the list reads it.
      const amount = await exported(mario, `/m/Invoice/export.csv?f_total=${encodeURIComponent('1.900,00')}`);
      const listed = await mario.get(`/m/Invoice?f_total=${encodeURIComponent('1.900,00')}`);
      expect([amount.status, listed.response.status]).to.deep.equal([200, 200]);
      expect(recordIdsIn(listed.html, 'Invoice'), 'the invoice of 1.900,00').to.have.length(1);
      expect(csvLines(amount.body).length - 1, 'rows exported as listed').to.equal(recordIdsIn(listed.html, 'Invoice').length);
      // The API keeps its 400 in JSON.
      const api = await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/export.csv?filter[nothing]=1`, { headers: { cookie: jane.cookieHeader() } });
      expect(api.status).to.equal(400);
      expect(((await api.json()) as { error: { code: string } }).error.code).to.equal('invalid_input');
    });
  });

  describe('a sort by a visible field the list does not show', () => {
    it('sorts the page and the API by it, as documented, keeps it in the sort select, and never by a hidden field or one a rule hides', async () => {
      const api = test.host.api;
      const profile = await defaultProfile(api);
      const { modules, rules } = profile.document;
      // Listed: ticket_no, ticket_title, status, description (some rule hides it on closed tickets);
      // solution is visible but no list column; severity is hidden.
      await changeModule(api, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, description: 'readwrite', solution: 'readonly', severity: 'hidden' }, listColumns: ['ticket_no', 'ticket_title', 'status', 'description'], tools: { ...entry.tools, search: true } }));
      await profile.save('rules', [...rules, { name: 'No description once closed', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [{ field: 'description', effect: 'hidden' }], allReadOnly: false }]);
      const apiList = async (query: string) => {
        const answer = await fetch(`${test.url}/portal/api/v1/modules/HelpDesk/records?${query}`, { headers: { cookie: jane.cookieHeader() } });
        return { status: answer.status, body: (await answer.json()) as any };
      };
      try {
        // Jane's tickets, each with a solution whose order is not the list's own.
        const ids = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk');
        expect(ids.length, 'Jane’s tickets').to.be.greaterThan(2);
        const solutions = new Map(ids.map((id, at) => [id, `solution ${String.fromCharCode(97 + ((at * 7) % 26))} ${at}`]));
        for (const [id, solution] of solutions) {
          const stored = await test.host.records.get('HelpDesk', id);
          await test.host.records.update('HelpDesk', id, { values: { solution } }, { actor: { kind: 'system' }, expectedVersion: stored!.version });
        }
        const bySolution = [...solutions].sort(([, a], [, b]) => a.localeCompare(b)).map(([id]) => id);
        expect(bySolution, 'an order of its own').not.to.deep.equal(ids);

        // The page: sorted by it, and its sort select (a phone's, and what the search form sends) keeps it.
        const page = await jane.get('/m/HelpDesk?sort=solution&dir=asc');
        expect(page.response.status).to.equal(200);
        expect(recordIdsIn(page.html, 'HelpDesk')).to.deep.equal(bySolution);
        const selected = [.../<select id="bp-list-sort"[^>]*>([\s\S]*?)<\/select>/.exec(page.html)![1]!.matchAll(/<option value="([^"]+)" selected>([^<]*)</g)].map((m) => `${m[1]} ${m[2]}`);
        expect(selected, 'the sort select').to.deep.equal(['solution Solution']);
        // The API: the same order; `searchable` still names the columns alone.
        const sorted = await apiList('sort=solution&direction=asc');
        expect(sorted.status).to.equal(200);
        expect(sorted.body.rows.map((row: { id: number }) => row.id)).to.deep.equal(bySolution);
        expect(sorted.body.searchable).to.deep.equal(['ticket_no', 'ticket_title', 'status']);

        // Hidden by the profile, or by a rule on some rows: refused, page and API, the same as a field that does not exist.
        for (const field of ['severity', 'description', 'nothing']) {
          const refused = await jane.get(`/m/HelpDesk?sort=${field}&dir=asc`);
          expect(refused.response.status, field).to.equal(400);
          expect(refused.html, field).to.include('This search or sort is not possible here; the whole list is shown instead.');
          const answer = await apiList(`sort=${field}`);
          expect([answer.status, answer.body.error.problems], field).to.deep.equal([400, [{ field: 'sort', code: 'unknown-field', message: 'There is no such field.' }]]);
        }

        // The API's document says what it does: `sort` takes any visible field; `searchable` names the columns.
        const openapi = (await (await fetch(`${test.url}/portal/api/v1/openapi.json`)).json()) as any;
        const sortParameter = openapi.paths['/modules/{module}/records'].get.parameters.find((p: { name: string }) => p.name === 'sort');
        expect(sortParameter.description).to.match(/^Any visible field, not only a list column/);
        const described = (node: unknown): string[] => (node && typeof node === 'object' ? Object.entries(node).flatMap(([key, value]) => [...(key === 'searchable' && typeof value?.description === 'string' ? [value.description as string] : []), ...described(value)]) : []);
        const [searchable] = described(openapi);
        expect(searchable).to.match(/^The list columns/).and.include('also take any other visible field');
      } finally {
        await profile.save('rules', rules);
        await profile.save('modules', modules);
      }
    });
  });

  describe('column searches on dates and numbers', () => {
    const invoices = (html: string) => [...html.matchAll(/class="bp-row-link" href="[^"]+">(INV-\d+)</g)].map((m) => m[1]).sort();
    const box = (html: string, name: string) => new RegExp(`<input id="bp-filter-${name}"[^>]*>`).exec(html)?.[0] ?? '';

    it('says which column could not be read and how to type it, keeps every box, and searches by the others', async () => {
      const { response, html } = await jane.get(`/m/Invoice?f_invoicedate=${encodeURIComponent('23/11/2026')}&f_subject=${encodeURIComponent('Line 3')}`);
      expect(response.status).to.equal(400);
      expect(html).to.include('“Invoice date”: this is not a date, so that column was not searched. Type it as year-month-day, e.g. 2026-11-30.');
      expect(html).not.to.include('This search or sort is not possible here');
      // A text box: a date box holds a day only, and the browser would empty it.
      expect(box(html, 'invoicedate')).to.include('type="search"').and.include('value="23/11/2026"').and.include('aria-invalid="true"').and.include('aria-describedby="bp-list-problem"');
      expect(box(html, 'subject')).to.include('value="Line 3"').and.not.include('aria-invalid');
      expect(invoices(html)).to.deep.equal(['INV-1001', 'INV-1002']);
      expect(box(html, 'total')).to.include('inputmode="decimal"');

      const amount = await mario.get('/m/Invoice?f_total=1900+euro');
      expect(amount.response.status).to.equal(400);
      expect(amount.html).to.include('“Totale”: non è un numero, quindi quella colonna è stata esclusa dalla ricerca. Scrivi solo cifre, senza simbolo di valuta, ad es. 1250,50.');
      expect(box(amount.html, 'total')).to.include('value="1900 euro"');
    });

    it('searches a datetime column by a day, every time of it in the CRM’s time zone (Rome)', async () => {
      const api = test.host.api;
      await api.modules.registerModule({
        name: 'Visits',
        label: { en: 'Visits', it: 'Visite' },
        singularLabel: { en: 'Visit', it: 'Visita' },
        custom: true,
        labelField: 'visit_no',
        fields: [
          { name: 'visit_no', label: { en: 'Visit', it: 'Visita' }, type: 'text', mandatory: true },
          { name: 'visited_at', label: { en: 'Visited at', it: 'Visitato il' }, type: 'datetime', mandatory: false },
          { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
        ],
      });
      const janeId = (await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE }, limit: 1 })).rows[0]!.id;
      // In Rome (UTC+1 in winter): V-1 is 1 December 00:30, V-2 30 November 11:00, V-3 1 December 23:59, V-4 2 December 00:00.
      for (const [visit, at] of [['V-1', '2026-11-30T23:30:00.000Z'], ['V-2', '2026-11-30T10:00:00.000Z'], ['V-3', '2026-12-01T22:59:00.000Z'], ['V-4', '2026-12-01T23:00:00.000Z']] as const) {
        await api.records.create('Visits', { values: { visit_no: visit, visited_at: at, contact_id: janeId } });
      }
      await changeModule(api, 'Visits', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact', listColumns: ['visit_no', 'visited_at'], tools: { ...entry.tools, search: true } }));
      const visits = (html: string) => [...html.matchAll(/class="bp-row-link" href="[^"]+">(V-\d)</g)].map((m) => m[1]).sort();

      const day = await jane.get('/m/Visits?f_visited_at=2026-12-01');
      expect(day.response.status).to.equal(200);
      expect(visits(day.html)).to.deep.equal(['V-1', 'V-3']);
      expect(box(day.html, 'visited_at')).to.include('type="date"').and.include('value="2026-12-01"');
      const api2 = await fetch(`${test.url}/portal/api/v1/modules/Visits/records?filter[visited_at]=2026-11-30`, { headers: { cookie: jane.cookieHeader() } });
      expect(((await api2.json()) as { rows: { values: { visit_no: string } }[] }).rows.map((r) => r.values.visit_no)).to.deep.equal(['V-2']);
      // The calendar's last day and its first ones: no visit on them, never a 500 (the day after
      // 9999-12-31 was no day at all), and year 50 is not 1950 (Date.UTC reads years 0–99 as 19xx).
      await api.records.create('Visits', { values: { visit_no: 'V-5', visited_at: '1950-06-01T10:00:00.000Z', contact_id: janeId } });
      for (const edge of ['9999-12-31', '0000-01-01', '0050-06-01']) {
        const page = await jane.get(`/m/Visits?f_visited_at=${edge}`);
        expect(page.response.status, edge).to.equal(200);
        expect(visits(page.html), edge).to.deep.equal([]);
        const answer = await fetch(`${test.url}/portal/api/v1/modules/Visits/records?filter[visited_at]=${edge}`, { headers: { cookie: jane.cookieHeader() } });
        expect(answer.status, edge).to.equal(200);
        expect(((await answer.json()) as { total: number }).total, edge).to.equal(0);
      }
      const unreadable = await jane.get('/m/Visits?f_visited_at=tomorrow');
      expect(unreadable.response.status).to.equal(400);
      expect(unreadable.html).to.include('“Visited at”: this is neither a day nor a day and time, so that column was not searched.');
    });

    it('reads amounts as the customer’s language writes them', async () => {
      for (const typed of ['1900,00', '1.900,00', '1900', '1900.00']) {
        const { response, html } = await mario.get(`/m/Invoice?f_total=${encodeURIComponent(typed)}`);
        expect(response.status, typed).to.equal(200);
        expect(invoices(html), typed).to.deep.equal(['INV-1003']);
        expect(box(html, 'total'), typed).to.include(`value="${typed}"`);
      }
      const english = await jane.get(`/m/Invoice?f_total=${encodeURIComponent('6,225.00')}`);
      expect(english.response.status).to.equal(200);
      expect(invoices(english.html)).to.deep.equal(['INV-1001', 'INV-1002']);
      // The ISO date the calendar sends still searches.
      const day = await jane.get(`/m/Invoice?f_invoicedate=${await invoiceDate(test, 'INV-1002')}`);
      expect(invoices(day.html)).to.deep.equal(['INV-1002']);
    });
  });

  describe('the language switch', () => {
    it('comes back to a list with its search, filters, sort and page, without a one-time notice', async () => {
      const client = await signedIn(test, JANE);
      const list = await client.get('/m/HelpDesk?f_status=Open&q=line&sort=ticket_no&dir=asc&notice=deleted');
      const returnTo = /name="returnTo" value="([^"]+)"/.exec(list.html)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      expect(returnTo).to.equal('/m/HelpDesk?f_status=Open&q=line&sort=ticket_no&dir=asc');
      const switched = await client.post('/language', { _csrf: tokenOf(list.html), language: 'it', returnTo });
      expect(switched.response.headers.get('location')).to.equal('/portal/m/HelpDesk?f_status=Open&q=line&sort=ticket_no&dir=asc');
    });
  });

  describe('the way back to the list', () => {
    it('keeps the list’s search, sort and page through the record page and its forms, and only those', async () => {
      const list = await jane.get('/m/HelpDesk?f_status=Open&sort=ticket_no&dir=asc');
      const link = /class="bp-row-link" href="(\/portal\/m\/HelpDesk\/(\d+)\?list(?:=|&#x3D;)[^"]+)"/.exec(list.html);
      expect(link, 'a row link with the list').not.to.equal(null);
      const href = link![1]!.replace(/&#x3D;/g, '=');
      expect(href).to.equal(`/portal/m/HelpDesk/${link![2]}?list=${encodeURIComponent('f_status=Open&sort=ticket_no&dir=asc')}`);
      const record = await jane.get(href.replace('/portal', ''));
      const back = (html: string) => /href="([^"]+)" data-return-to-list/.exec(html)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      expect(back(record.html)).to.equal('/portal/m/HelpDesk?f_status=Open&sort=ticket_no&dir=asc');

      // "OK, resolved": one notice, not two, and the way back still knows the list.
      const action = /<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="_csrf"[^>]*>\s*<input type="hidden" name="_once"[^>]*>\s*<button[^>]*data-resolve/.exec(record.html)![1]!.replace(/&#x3D;/g, '=');
      const resolved = await jane.post(action.replace('/portal', ''), { _csrf: tokenOf(record.html) });
      expect(resolved.response.status).to.equal(303);
      const after = await jane.get(resolved.response.headers.get('location')!.replace('/portal', ''));
      expect(after.html).to.include('The ticket is closed. Thank you!').and.not.include('This ticket is closed.');
      expect(back(after.html)).to.equal('/portal/m/HelpDesk?f_status=Open&sort=ticket_no&dir=asc');
      // Opened again later, a closed ticket still says so.
      expect((await jane.get(`/m/HelpDesk/${link![2]}`)).html).to.include('This ticket is closed.');

      // Only list parameters, and only to this module's list in the portal.
      const odd = await jane.get(`/m/HelpDesk/${link![2]}?list=${encodeURIComponent('q=x&next=//evil.example&notice=deleted&f_Bad=1&page=2')}`);
      expect(back(odd.html)).to.equal('/portal/m/HelpDesk?q=x&page=2');
      expect(back((await jane.get(`/m/HelpDesk/${link![2]}?list=${encodeURIComponent('https://evil.example/')}`)).html)).to.equal('/portal/m/HelpDesk');
    });

    it('keeps the list through an edit and its save, and a delete goes back to that list', async () => {
      const listQuery = 'f_status=Open&sort=ticket_no&dir=asc';
      const carried = `list=${encodeURIComponent(listQuery)}`;
      const unescape = (text: string) => text.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      const list = await jane.get(`/m/HelpDesk?${listQuery}`);
      const id = recordIdsIn(list.html, 'HelpDesk')[0]!;
      const record = await jane.get(`/m/HelpDesk/${id}?${carried}`);
      expect(unescape(/href="([^"]+)"[^>]*>Edit</.exec(record.html)![1]!)).to.equal(`/portal/m/HelpDesk/${id}/edit?${carried}`);

      const edit = await jane.get(`/m/HelpDesk/${id}/edit?${carried}`);
      expect(edit.response.status).to.equal(200);
      expect(unescape(/<form[^>]+action="([^"]+\/edit[^"]*)"/.exec(edit.html)![1]!)).to.equal(`/portal/m/HelpDesk/${id}/edit?${carried}`);
      expect(edit.html).to.include(`href="/portal/m/HelpDesk/${id}?list&#x3D;${encodeURIComponent(listQuery)}"`);
      const version = /name="version" value="(\d+)"/.exec(edit.html)![1]!;
      const saved = await jane.post(`/m/HelpDesk/${id}/edit?${carried}`, { _csrf: tokenOf(edit.html), version, ticket_title: 'Line 3 drops calls, edited' });
      expect(saved.response.status).to.equal(303);
      expect(saved.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${id}?notice=saved&${carried}`);
      // The notice in the page at load is not announced by screen readers: the title starts with it.
      expect((await jane.get(`/m/HelpDesk/${id}?notice=saved&${carried}`)).html).to.include('<title>Your changes were saved. · Line 3 drops calls, edited · Customer portal</title>');

      await changeModule(test.host.api, 'HelpDesk', (entry) => ({ ...entry, delete: true }));
      try {
        const shown = await jane.get(`/m/HelpDesk/${id}?${carried}`);
        expect(unescape(/href="([^"]+)"[^>]*>Delete</.exec(shown.html)![1]!)).to.equal(`/portal/m/HelpDesk/${id}/delete?${carried}`);
        const confirm = await jane.get(`/m/HelpDesk/${id}/delete?${carried}`);
        expect(unescape(/<form[^>]+action="([^"]+\/delete[^"]*)"/.exec(confirm.html)![1]!)).to.equal(`/portal/m/HelpDesk/${id}/delete?${carried}`);
        const removed = await jane.post(`/m/HelpDesk/${id}/delete?${carried}`, { _csrf: tokenOf(confirm.html), version: /name="version" value="(\d+)"/.exec(confirm.html)![1]! });
        expect(removed.response.status).to.equal(303);
        expect(removed.response.headers.get('location')).to.equal(`/portal/m/HelpDesk?${listQuery}&notice=deleted`);
        const after = await jane.get(`/m/HelpDesk?${listQuery}&notice=deleted`);
        expect(after.html).to.include('The record was deleted');
        expect(after.html).to.match(/<title>The record was deleted\. · [^<]+ · Customer portal<\/title>/);
        expect(recordIdsIn(after.html, 'HelpDesk')).not.to.include(id);
      } finally {
        await changeModule(test.host.api, 'HelpDesk', (entry) => ({ ...entry, delete: false }));
      }
    });
  });
});
