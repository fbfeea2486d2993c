/**
 * The customer portal's pages over HTTP, on the demo: home, lists (columns, search, sort,
 * paging, export), records and tickets (create, edit, comment, upload, download, resolve), and
 * the attacks — another company's records (404 on every verb, nothing changed), a hidden-field
 * canary on every page, forms without their CSRF token, and script payloads that must stay inert.
 */
import { expect } from 'chai';
import { HELD_VALUE_READS } from '../../plugin/access/portal-access.js';
import { todayIn } from '../../plugin/auth/support-period.js';
import { PortalClient, tokenIn } from '../sign-in/sign-in-fixture.js';
import { expectSecurityHeaders } from '../support/expectations.js';
import { recordStatements } from '../support/database.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { CLASSIC_SETTINGS_KEY } from '../../plugin/settings/classic-settings.js';
import { SequelizeSettingsStore } from '../../plugin/settings/settings-store.js';
import { JANE, MARIO, changeDefaultModule, recordIdsIn, signedIn, upload } from './portal-pages-kit.js';

const CANARY = 'CANARY-hidden-7f3a91';

describe('portal pages: home, lists, records, tickets @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let jane: PortalClient;
  let mario: PortalClient;
  let janeTickets: number[];
  let marioTickets: number[];

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    jane = await signedIn(test, JANE);
    mario = await signedIn(test, MARIO, 'it');
    janeTickets = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk');
    marioTickets = recordIdsIn((await mario.get('/m/HelpDesk')).html, 'HelpDesk');
  });
  after(async () => {
    await test?.stop();
  });

  const status = async (id: number) => (await test.host.records.get('HelpDesk', id))?.values.status;

  describe('signing in', () => {
    it('sends a visitor who is not signed in to the login, then back to the page asked for', async () => {
      const ticket = janeTickets[0]!;
      const anonymous = (await import('../sign-in/sign-in-fixture.js')).PortalClient;
      const visitor = new anonymous(`${test.url}/portal`);
      const first = await visitor.get(`/m/HelpDesk/${ticket}`);
      expect(first.response.status).to.equal(303);
      expect(first.response.headers.get('location')).to.equal(`/portal/login?next=%2Fm%2FHelpDesk%2F${ticket}`);
      const login = await visitor.get(`/login?next=%2Fm%2FHelpDesk%2F${ticket}`);
      expect(login.html).to.include(`name="next" value="/m/HelpDesk/${ticket}"`);
      const signed = await visitor.post('/login', { _csrf: tokenIn(login.html), email: JANE, password: 'Portal-demo-1', next: `/m/HelpDesk/${ticket}` });
      expect(signed.response.headers.get('location')).to.equal(`/portal/m/HelpDesk/${ticket}`);
      // Another site as "next" is ignored.
      const other = new anonymous(`${test.url}/portal`);
      const page = await other.get('/login');
      const away = await other.post('/login', { _csrf: tokenIn(page.html), email: JANE, password: 'Portal-demo-1', next: '//evil.example/x' });
      expect(away.response.headers.get('location')).to.equal('/portal/');
    });

    it('keeps a list’s search through the login, and a delete form through a language change', async () => {
      const anonymous = (await import('../sign-in/sign-in-fixture.js')).PortalClient;
      const visitor = new anonymous(`${test.url}/portal`);
      const first = await visitor.get('/m/HelpDesk?q=Line&sort=ticket_no&dir=asc');
      expect(first.response.headers.get('location')).to.equal(`/portal/login?next=${encodeURIComponent('/m/HelpDesk?q=Line&sort=ticket_no&dir=asc')}`);
      const login = await visitor.get(first.response.headers.get('location')!.replace('/portal', ''));
      const next = /name="next" value="([^"]+)"/.exec(login.html)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      expect(next).to.equal('/m/HelpDesk?q=Line&sort=ticket_no&dir=asc');
      const signed = await visitor.post('/login', { _csrf: tokenIn(login.html), email: JANE, password: 'Portal-demo-1', next });
      expect(signed.response.headers.get('location')).to.equal('/portal/m/HelpDesk?q=Line&sort=ticket_no&dir=asc');
      // Only the workspace's pages, whatever the query says.
      const odd = new anonymous(`${test.url}/portal`);
      const page = await odd.get('/login');
      const away = await odd.post('/login', { _csrf: tokenIn(page.html), email: JANE, password: 'Portal-demo-1', next: '/m/HelpDesk/../../admin?x=1' });
      expect(away.response.headers.get('location')).to.equal('/portal/');

      for (const returnTo of [`/m/HelpDesk/${janeTickets[0]}/delete`, '/m/HelpDesk/']) {
        const switched = await visitor.post('/language', { _csrf: tokenIn((await visitor.get('/m/HelpDesk')).html), language: 'en', returnTo });
        expect(switched.response.headers.get('location'), returnTo).to.equal(`/portal${returnTo}`);
      }
    });

    it('changes the password from the workspace: the current one is asked, other sessions end, this one stays', async () => {
      const tom = await signedIn(test, 'tom.baker@example.com');
      const elsewhere = await signedIn(test, 'tom.baker@example.com');
      const home = await tom.get('/');
      expect(home.html).to.include('href="/portal/account/password"').and.include('Change password');
      const form = await tom.get('/account/password');
      expect(form.response.status).to.equal(200);
      expect(form.html).to.include('id="bp-current-password"').and.include('id="bp-new-password"').and.include('id="bp-confirm-password"');

      const wrong = await tom.post('/account/password', { _csrf: tokenIn(form.html), currentPassword: 'Not-his-password-1', newPassword: 'Lighthouse keeper 42', confirmPassword: 'Lighthouse keeper 42' });
      expect(wrong.response.status).to.equal(403);
      expect(wrong.html).to.include('The current password is not correct.').and.match(/<input id="bp-current-password"[^>]* aria-invalid="true"[^>]* autofocus>/);
      expect(wrong.html).not.to.include('Not-his-password-1').and.not.include('Lighthouse keeper 42');
      const mismatch = await tom.post('/account/password', { _csrf: tokenIn(form.html), currentPassword: 'Portal-demo-1', newPassword: 'Lighthouse keeper 42', confirmPassword: 'Lighthouse keeper 43' });
      expect(mismatch.response.status).to.equal(422);
      expect(mismatch.html).to.include('The two new passwords are not the same.');
      const forged = await tom.post('/account/password', { _csrf: 'A'.repeat(43), currentPassword: 'Portal-demo-1', newPassword: 'Lighthouse keeper 42', confirmPassword: 'Lighthouse keeper 42' });
      expect(forged.response.status).to.equal(403);

      const changed = await tom.post('/account/password', { _csrf: tokenIn(form.html), currentPassword: 'Portal-demo-1', newPassword: 'Lighthouse keeper 42', confirmPassword: 'Lighthouse keeper 42' });
      expect(changed.response.status).to.equal(303);
      expect(changed.response.headers.get('location')).to.equal('/portal/account/password?notice=changed');
      const done = await tom.get('/account/password?notice=changed');
      expect(done.response.status).to.equal(200);
      expect(done.html).to.include('Your password was changed.');
      // The other browser is signed out; the new password signs in, the old one no longer does.
      expect((await elsewhere.get('/')).response.headers.get('location')).to.match(/^\/portal\/login/);
      const anonymous = (await import('../sign-in/sign-in-fixture.js')).PortalClient;
      const again = new anonymous(`${test.url}/portal`);
      expect((await again.signIn('tom.baker@example.com', 'Portal-demo-1')).response.status).to.equal(401);
      expect((await again.signIn('tom.baker@example.com', 'Lighthouse keeper 42')).response.status).to.equal(303);
    });

    it('takes a long text in a record form as long as its field allows, in accented letters too', async () => {
      const form = await jane.get('/m/HelpDesk/new');
      const created = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: 'Descrizione lunga', description: 'è'.repeat(65_535) });
      expect(created.response.status, created.html.slice(0, 300)).to.equal(303);
      const id = Number(/\/m\/HelpDesk\/(\d+)/.exec(created.response.headers.get('location')!)![1]);
      expect(((await test.host.records.get('HelpDesk', id))!.values.description as string).length).to.equal(65_535);
      await test.host.records.delete('HelpDesk', id); // the list tests count Jane's tickets
    });
  });

  describe('home', () => {
    it('shows the menu of the profile’s modules, the buttons in order, logout and the full-screen toggle', async () => {
      const { response, html } = await jane.get('/');
      expect(response.status).to.equal(200);
      expectSecurityHeaders(response, 'home');
      const buttons = [...html.matchAll(/class="bp-action bp-colour-(\w+)" href="([^"]+)"[^>]*>[\s\S]*?bp-action-title">([^<]+)</g)].map((m) => [m[1], m[2], m[3]]);
      expect(buttons).to.deep.equal([
        ['primary', '/portal/m/HelpDesk/new', 'New ticket'],
        ['info', '/portal/m/HelpDesk', 'My tickets'],
        ['success', '/portal/m/Invoice', 'Invoices'],
        ['secondary', '/portal/m/Faq', 'Knowledge base'],
      ]);
      const menu = [...html.matchAll(/data-menu="([^"]+)"/g)].map((m) => m[1]);
      expect(menu[0]).to.equal('home');
      expect([...menu].sort()).to.deep.equal(['home', 'module-Accounts', 'module-Contacts', 'module-Documents', 'module-Faq', 'module-HelpDesk', 'module-Invoice', 'module-Quotes']);
      expect(html).to.match(/aria-current="page"[^>]*>Home</);
      expect(html).to.include('data-fullscreen').and.include('action="/portal/logout"').and.include('Welcome, Jane Doe');
      expect(html).not.to.match(/<script>|style="/);
    });

    it('speaks Italian to Mario', async () => {
      const { html } = await mario.get('/');
      expect(html).to.include('Ti diamo il benvenuto, Mario').and.include('Esci');
      // The home buttons in Italian, where the administrator gave them an Italian text.
      expect(html).to.include('Nuovo ticket').and.include('Le fatture della tua azienda').and.not.include('Ask our support team');
      expect((await jane.get('/')).html).to.include('New ticket').and.not.include('Nuovo ticket');
    });
  });

  describe('lists', () => {
    it('shows only the profile’s columns, with sort links, a total and an export link', async () => {
      const { response, html } = await jane.get('/m/HelpDesk');
      expect(response.status).to.equal(200);
      const headers = [...html.matchAll(/<th scope="col" aria-sort="(\w+)">\s*<a class="bp-sort" href="[^"]+" title="[^"]+">([^<]+)</g)].map((m) => [m[2], m[1]]);
      expect(headers).to.deep.equal([['Ticket number', 'none'], ['Title', 'none'], ['Status', 'none'], ['Priority', 'none'], ['Contact', 'none']]);
      expect(html).to.match(/1–\d+ of \d+/);
      expect(html).to.include('href="/portal/m/HelpDesk/export.csv');
      expect(janeTickets.length).to.be.greaterThan(0);
      for (const id of marioTickets) expect(janeTickets).not.to.include(id);
    });

    it('sorts by a column (aria-sort), searches several columns at once and in the general box', async () => {
      const sorted = await jane.get('/m/HelpDesk?sort=ticket_no&dir=asc');
      expect(sorted.html).to.match(/aria-sort="ascending">\s*<a class="bp-sort"[^>]*>Ticket number/);
      const numbers = [...sorted.html.matchAll(/>(TT\d+)</g)].map((m) => m[1]!);
      expect(numbers).to.deep.equal([...numbers].sort());
      const down = await jane.get('/m/HelpDesk?sort=ticket_no&dir=desc');
      expect([...down.html.matchAll(/>(TT\d+)</g)].map((m) => m[1])).to.deep.equal([...numbers].reverse());

      const open = await jane.get('/m/HelpDesk?f_status=Open&f_priority=High');
      const rows = [...open.html.matchAll(/<tbody>([\s\S]*)<\/tbody>/g)][0]![1]!;
      expect(rows).to.include('>Open<').and.include('>High<');
      expect(rows).not.to.match(/>(Closed|In Progress|Wait For Response)</);
      expect(open.html).to.match(/<option value="Open" selected>/);

      const general = await jane.get('/m/HelpDesk?q=VPN');
      expect(general.html).to.include('VPN access');
      expect(general.html).to.match(/1–1 of 1/);
      const none = await jane.get('/m/HelpDesk?q=nothing-like-this');
      expect(none.html).to.include('No record matches the search.');
    });

    it('shows picklist values in the customer’s language and keeps the stored values in forms and filters', async () => {
      // Mario reads Italian: the CRM's labels of its stored values ("Open" → "Aperto").
      const open = await mario.get('/m/HelpDesk?f_status=Open');
      const rows = [...open.html.matchAll(/<tbody>([\s\S]*)<\/tbody>/g)][0]![1]!;
      expect(rows).to.include('>Aperto<').and.not.include('>Open<');
      expect(open.html).to.include('<option value="Open" selected>Aperto</option>').and.include('<option value="Urgent">Urgente</option>');
      const ticket = await mario.get(`/m/HelpDesk/${marioTickets[0]}`);
      expect(ticket.html).to.match(/data-status>Stato: (Aperto|In lavorazione|In attesa di risposta|Chiuso)</);
      expect(ticket.html).not.to.match(/>(Low|Normal|High|Urgent)</);
      const form = await mario.get('/m/HelpDesk/new');
      expect(form.html).to.include('<option value="High">Alta</option>');
      const created = await mario.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: 'Stampante bloccata', priority: 'High' });
      expect(created.response.status).to.equal(303);
      const id = Number(/HelpDesk\/(\d+)/.exec(created.response.headers.get('location')!)![1]);
      expect((await test.host.records.get('HelpDesk', id))!.values).to.include({ priority: 'High', status: 'Open' });
      // The general search finds a value by its label too: "aperto" is how Mario reads "Open".
      const searched = await mario.get('/m/HelpDesk?q=aperto');
      const found = [...searched.html.matchAll(/<tbody>([\s\S]*)<\/tbody>/g)][0]![1]!;
      expect(found).to.include('>Aperto<').and.not.match(/>(Chiuso|In lavorazione|In attesa di risposta)</);
      expect(recordIdsIn(searched.html, 'HelpDesk')).to.include(id);
      // Jane reads the same values in English, and her search for the Italian word finds nothing.
      expect((await jane.get('/m/HelpDesk?f_status=Open')).html).to.include('<option value="Open" selected>Open</option>');
      expect((await jane.get('/m/HelpDesk?q=aperto')).html).to.include('No record matches the search.');
    });

    it('labels a stored value the owner’s role no longer offers (shown, not offered)', async () => {
      const id = marioTickets[0]!;
      const before = (await test.host.records.get('HelpDesk', id))!.values.priority;
      const roles = (await test.host.api.database.sequelize.query('SELECT id FROM crm_roles', { type: 'SELECT' })) as { id: unknown }[];
      await test.host.records.update('HelpDesk', id, { values: { priority: 'Urgent' } });
      try {
        for (const role of roles) await test.host.registry.setPicklistRoleValues('HelpDesk', 'priority', Number(role.id), ['Low', 'Normal']);
        const page = await mario.get(`/m/HelpDesk/${id}`);
        expect(page.html).to.match(/<dt>Priorità<\/dt>\s*<dd>Urgente<\/dd>/);
        expect(page.html).not.to.match(/>Urgent</);
        const form = await mario.get('/m/HelpDesk/new');
        expect(form.html).to.include('<option value="Normal">Normale</option>').and.not.include('value="Urgent"');
        // The list's filter still offers it while a ticket of Mario's holds it, and finds that ticket by it.
        const filter = /<select id="bp-filter-priority"[\s\S]*?<\/select>/.exec((await mario.get('/m/HelpDesk')).html)?.[0] ?? '';
        expect(filter).to.include('<option value="Urgent">Urgente</option>');
        expect(recordIdsIn((await mario.get('/m/HelpDesk?f_priority=Urgent')).html, 'HelpDesk')).to.include(id);
      } finally {
        for (const role of roles) await test.host.registry.setPicklistRoleValues('HelpDesk', 'priority', Number(role.id), null);
        await test.host.records.update('HelpDesk', id, { values: { priority: before ?? null } });
      }
    });

    it('refuses a sort or a search on a field the profile does not show, without a 500', async () => {
      for (const query of ['sort=password&dir=asc', 'f_nothing=1', "sort=ticket_no;DROP TABLE x&dir=asc", 'f_description=line']) {
        const { response, html } = await jane.get(`/m/HelpDesk?${query}`);
        if (query === 'f_description=line') {
          expect(response.status, query).to.equal(200);
          continue;
        }
        expect(response.status, query).to.equal(400);
        // A column search is left out, the list searched by the rest; a sort is refused with the whole list.
        expect(html).to.include(query === 'f_nothing=1' ? 'The list cannot be searched by “nothing”' : 'This search or sort is not possible here');
      }
    });

    it('exports the list as CSV with the visible columns, and only with the export tool', async () => {
      const { response, html } = await jane.get('/m/HelpDesk/export.csv?sort=ticket_no&dir=asc');
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/csv/);
      expect(response.headers.get('content-disposition')).to.match(/^attachment/);
      const lines = html.replace(/^\uFEFF/, '').trim().split('\r\n');
      expect(lines[0]).to.equal('Ticket number,Title,Status,Priority,Contact');
      expect(lines.length - 1).to.equal(janeTickets.length);
      const quotes = await jane.get('/m/Quotes/export.csv');
      expect(quotes.response.status).to.equal(403);
    });

    it('names the exported file after the list, in the customer’s language, and the day (Ticket di assistenza 2026-12-05.csv)', async () => {
      const day = todayIn(test.host.api.regional.timeZone());
      const english = await jane.get('/m/HelpDesk/export.csv');
      expect(english.response.headers.get('content-disposition')).to.equal(`attachment; filename="Trouble Tickets ${day}.csv"; filename*=UTF-8''Trouble%20Tickets%20${day}.csv`);
      const italian = await mario.get('/m/HelpDesk/export.csv');
      expect(italian.response.headers.get('content-disposition')).to.equal(`attachment; filename="Ticket di assistenza ${day}.csv"; filename*=UTF-8''Ticket%20di%20assistenza%20${day}.csv`);
      // Separated with `;`, as Excel splits a CSV where decimals take a comma (see csv-export.ts).
      expect(italian.html.replace(/^\uFEFF/, '').split('\r\n')[0]).to.equal('Numero ticket;Titolo;Stato;Priorità;Contatto');
    });

    it('answers an unknown module as the portal’s 404', async () => {
      for (const path of ['/m/Nothing', '/m/Vendors', '/m/helpdesk', '/m/HelpDesk/abc', '/m/HelpDesk/99999']) {
        const { response, html } = await jane.get(path);
        expect(response.status, path).to.equal(404);
        expect(html).to.include('This page does not exist, or it is not available to you.');
      }
    });
  });

  describe('records', () => {
    it('shows a record with dates in the customer’s language and references as links in scope', async () => {
      const invoices = recordIdsIn((await jane.get('/m/Invoice')).html, 'Invoice');
      const { html } = await jane.get(`/m/Invoice/${invoices[0]}`);
      expect(html).to.match(/<dt>Invoice date<\/dt>\s*<dd>[A-Z][a-z]{2} \d{1,2}, \d{4}<\/dd>/);
      expect(html).to.match(/<a href="\/portal\/m\/Accounts\/\d+">Acme (Ltd|Italia Srl)<\/a>/);
      const marioInvoices = recordIdsIn((await mario.get('/m/Invoice')).html, 'Invoice');
      const italian = await mario.get(`/m/Invoice/${marioInvoices[0]}`);
      expect(italian.html).to.match(/<dt>Data fattura<\/dt>\s*<dd>\d{1,2} [a-z]{3} \d{4}<\/dd>/);
    });

    it('says a colleague’s contact is set but not shown, instead of a blank that reads as nobody', async () => {
      const [janeContact] = (await test.host.records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE } })).rows;
      const colleagues = janeTickets.length > 0 ? await Promise.all(janeTickets.map((id) => test.host.records.get('HelpDesk', id))) : [];
      const theirs = colleagues.find((t) => typeof t?.values.contact_id === 'number' && t.values.contact_id !== janeContact!.id);
      expect(theirs, 'a colleague’s ticket in Jane’s company scope').to.not.equal(undefined);
      const { html } = await jane.get(`/m/HelpDesk/${theirs!.id}`);
      expect(html).to.match(/<dt>Contact<\/dt>\s*<dd><span class="bp-muted">Not shown to you<\/span><\/dd>/);
      const colleague = await test.host.records.get('Contacts', theirs!.values.contact_id as number);
      expect(html).not.to.include(String(colleague!.values.lastname));
    });

    it('creates a ticket: a missing mandatory field is shown next to it and what was typed stays', async () => {
      const form = await jane.get('/m/HelpDesk/new');
      expect(form.html).to.match(/<label for="bp-field-ticket_title">Title <span class="bp-required"/);
      expect(form.html).to.include('<select id="bp-field-priority" name="priority"').and.include('<textarea id="bp-field-description"');
      expect(form.html).not.to.include('name="status"');
      const refused = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: '', priority: 'High', description: 'Kept text' });
      expect(refused.response.status).to.equal(422);
      expect(refused.html).to.match(/bp-field-ticket_title-error">This field is mandatory\./);
      expect(refused.html).to.include('Kept text').and.match(/<option value="High" selected>/);
      const created = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(refused.html), ticket_title: 'Pages test ticket', priority: 'High', description: 'Kept text' });
      expect(created.response.status).to.equal(303);
      const location = created.response.headers.get('location')!;
      expect(location).to.match(/^\/portal\/m\/HelpDesk\/\d+\?notice=created$/);
      const page = await jane.get(location.replace('/portal', ''));
      expect(page.html).to.include('Your ticket was created.').and.include('Pages test ticket');
      const id = Number(/HelpDesk\/(\d+)/.exec(location)![1]);
      const stored = await test.host.records.get('HelpDesk', id);
      expect(stored!.values.status).to.equal('Open');
      // The CRM gave it the next number of the tickets' series, and the page shows it.
      const numbers = (await test.host.records.query('HelpDesk', { fields: ['ticket_no'] })).rows.map((r) => Number(String(r.values.ticket_no).slice(2)));
      expect(stored!.values.ticket_no).to.match(/^TT\d+$/);
      expect(Number(String(stored!.values.ticket_no).slice(2))).to.equal(Math.max(...numbers));
      expect(page.html).to.include(String(stored!.values.ticket_no));
    });

    it('edits with optimistic locking: a stale version is refused and said', async () => {
      const id = janeTickets.find((t) => t !== undefined)!;
      const edit = await jane.get(`/m/HelpDesk/${janeTickets[janeTickets.length - 1]}/edit`);
      if (edit.response.status !== 200) throw new Error(`edit form: HTTP ${edit.response.status}`);
      const version = /name="version" value="(\d+)"/.exec(edit.html)![1]!;
      const target = Number(/action="\/portal\/m\/HelpDesk\/(\d+)\/edit"/.exec(edit.html)![1]);
      expect(edit.html).to.match(/Ticket number <span class="bp-muted">\(read-only\)/);
      const saved = await jane.post(`/m/HelpDesk/${target}/edit`, { _csrf: tokenIn(edit.html), version, ticket_title: 'Renamed from the portal', priority: 'Low' });
      expect(saved.response.status).to.equal(303);
      const stale = await jane.post(`/m/HelpDesk/${target}/edit`, { _csrf: tokenIn(edit.html), version, ticket_title: 'Second writer', priority: 'Low' });
      expect(stale.response.status).to.equal(409);
      expect(stale.html).to.include('Someone changed this record').and.include('Second writer');
      expect((await test.host.records.get('HelpDesk', target))!.values.ticket_title).to.equal('Renamed from the portal');
      // A read-only field posted anyway changes nothing.
      const fresh = await jane.get(`/m/HelpDesk/${target}/edit`);
      const sneaky = await jane.post(`/m/HelpDesk/${target}/edit`, { _csrf: tokenIn(fresh.html), version: /name="version" value="(\d+)"/.exec(fresh.html)![1]!, ticket_title: 'x', status: 'Closed', ticket_no: 'HACKED' });
      expect(sneaky.response.status).to.equal(422);
      const after = await test.host.records.get('HelpDesk', target);
      expect(after!.values.ticket_no).not.to.equal('HACKED');
      expect(after!.values.status).not.to.equal('Closed');
      expect(id).to.be.a('number');
    });
  });

  describe('tickets', () => {
    it('comments (newest first, with the count and who wrote), uploads by the picker, downloads, resolves', async () => {
      const id = janeTickets[0]!;
      let page = await jane.get(`/m/HelpDesk/${id}`);
      const count = Number(/Comments \((\d+)\)/.exec(page.html)![1]);
      expect(page.html).to.include('Return to Trouble Tickets').and.include('OK, resolved');

      const first = await jane.post(`/m/HelpDesk/${id}/comments`, { _csrf: tokenIn(page.html), body: 'First portal comment' });
      expect(first.response.status).to.equal(303);
      await jane.post(`/m/HelpDesk/${id}/comments`, { _csrf: tokenIn(page.html), body: 'Second portal comment' });
      page = await jane.get(`/m/HelpDesk/${id}`);
      expect(page.html).to.include(`Comments (${count + 2})`);
      expect(page.html.indexOf('Second portal comment')).to.be.lessThan(page.html.indexOf('First portal comment'));
      expect(page.html).to.match(/<strong>Jane Doe<\/strong> <span class="bp-badge">Customer<\/span>/);
      const empty = await jane.post(`/m/HelpDesk/${id}/comments`, { _csrf: tokenIn(page.html), body: '   ' });
      expect(empty.response.status).to.equal(422);
      expect(empty.html).to.include('Write a comment before sending it.');
      const invisible = await jane.post(`/m/HelpDesk/${id}/comments`, { _csrf: tokenIn(page.html), body: '\u200B\u200D\r\n\u2060' });
      expect(invisible.response.status).to.equal(422);
      expect(invisible.html).to.include('Write a comment before sending it.');

      const uploaded = await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents`, tokenIn(page.html), 'notes from site.txt', 'Line 2 log excerpt\n');
      expect(uploaded.response.status).to.equal(303);
      page = await jane.get(`/m/HelpDesk/${id}`);
      const href = /href="(\/portal\/m\/HelpDesk\/\d+\/documents\/\d+)"[^>]*download>notes from site\.txt</.exec(page.html)?.[1];
      expect(href, 'download link').to.be.a('string');
      const download = await jane.get(href!.replace('/portal', ''));
      expect(download.response.status).to.equal(200);
      expect(download.response.headers.get('content-disposition')).to.match(/^attachment/);
      expect(download.response.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(download.html).to.equal('Line 2 log excerpt\n');

      const html = await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents`, tokenIn(page.html), 'page.html', '<html><script>alert(1)</script></html>', 'text/html');
      expect(html.response.status).to.equal(422);
      expect(html.html).to.include('This type of file is not allowed.');
      const fake = await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents`, tokenIn(page.html), 'report.pdf', 'not a pdf at all', 'application/pdf');
      expect(fake.response.status).to.equal(422);
      expect(fake.html).to.include('does not match its type');
      const big = await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents`, tokenIn(page.html), 'big.txt', Buffer.alloc(10 * 1024 * 1024 + 10, 'a'));
      expect(big.response.status).to.equal(413);
      expect(big.html).to.include('The file is too large');

      const resolved = await jane.post(`/m/HelpDesk/${id}/resolve`, { _csrf: tokenIn(page.html) });
      expect(resolved.response.status).to.equal(303);
      expect(await status(id)).to.equal('Closed');
      page = await jane.get(resolved.response.headers.get('location')!.replace('/portal', ''));
      expect(page.html).to.include('The ticket is closed. Thank you!').and.not.include('data-resolve');
      // The demo's rule makes closed tickets read-only: no edit link, and the edit form is refused.
      expect(page.html).not.to.include(`/m/HelpDesk/${id}/edit`);
      expect((await jane.get(`/m/HelpDesk/${id}/edit`)).response.status).to.equal(403);
    });

    it('closes a ticket "OK, resolved" at once from two tabs without a conflict next to the comment form', async () => {
      const form = await jane.get('/m/HelpDesk/new');
      const created = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: 'Resolve me from two tabs' });
      const path = created.response.headers.get('location')!.replace('/portal', '').replace(/\?.*/, '');
      const token = tokenIn((await jane.get(path)).html);
      const answers = await Promise.all([1, 2, 3, 4].map(() => jane.post(`${path}/resolve`, { _csrf: token })));
      for (const answer of answers) {
        expect(answer.response.status, answer.html.match(/role="alert">[^<]*/)?.[0]).to.equal(303);
        expect(answer.response.headers.get('location')).to.match(/\?notice=resolved$/);
      }
      expect(await status(Number(path.split('/').pop()))).to.equal('Closed');
    });
  });

  describe('attacks', () => {
    it('answers another company’s ticket with the 404 of a missing one on every verb, and changes nothing', async () => {
      const foreign = marioTickets[0]!;
      const before = await test.host.records.get('HelpDesk', foreign);
      const comments = (await test.host.records.comments('HelpDesk', foreign, { includeInternal: true })).length;
      const token = tokenIn((await jane.get('/')).html);
      const missing = await jane.get('/m/HelpDesk/99999');
      const attempts = [
        await jane.get(`/m/HelpDesk/${foreign}`),
        await jane.get(`/m/HelpDesk/${foreign}/edit`),
        await jane.get(`/m/HelpDesk/${foreign}/delete`),
        await jane.post(`/m/HelpDesk/${foreign}/edit`, { _csrf: token, ticket_title: 'pwned', version: String(before!.version) }),
        await jane.post(`/m/HelpDesk/${foreign}/delete`, { _csrf: token, version: String(before!.version) }),
        await jane.post(`/m/HelpDesk/${foreign}/comments`, { _csrf: token, body: 'pwned' }),
        await jane.post(`/m/HelpDesk/${foreign}/resolve`, { _csrf: token }),
        await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${foreign}/documents`, token, 'x.txt', 'pwned'),
        await jane.get(`/m/HelpDesk/${foreign}/documents/1`),
      ];
      for (const [index, attempt] of attempts.entries()) {
        expect(attempt.response.status, `attempt ${index}`).to.equal(404);
        expect(attempt.html.replace(/value="[^"]+"/g, ''), `attempt ${index}`).to.equal(missing.html.replace(/value="[^"]+"/g, ''));
      }
      const after = await test.host.records.get('HelpDesk', foreign);
      expect(after).to.deep.equal(before);
      expect((await test.host.records.comments('HelpDesk', foreign, { includeInternal: true })).length).to.equal(comments);
      expect((await test.host.records.documents('HelpDesk', foreign)).length).to.equal((await test.host.records.documents('HelpDesk', foreign)).length);
    });

    it('refuses every form without its CSRF token, or with another customer’s, and changes nothing', async () => {
      const id = janeTickets[1]!;
      const before = await test.host.records.get('HelpDesk', id);
      const comments = (await test.host.records.comments('HelpDesk', id)).length;
      const marioToken = tokenIn((await mario.get('/')).html);
      for (const token of [undefined, marioToken, 'forged']) {
        const fields: Record<string, string> = token ? { _csrf: token } : {};
        const tries = [
          await jane.post(`/m/HelpDesk/${id}/comments`, { ...fields, body: 'csrf' }),
          await jane.post(`/m/HelpDesk/${id}/resolve`, fields),
          await jane.post(`/m/HelpDesk/${id}/edit`, { ...fields, ticket_title: 'csrf', version: String(before!.version) }),
          await jane.post('/m/HelpDesk/new', { ...fields, ticket_title: 'csrf ticket' }),
          await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents`, token ?? null, 'x.txt', 'csrf'),
        ];
        for (const attempt of tries) expect(attempt.response.status).to.equal(403);
      }
      expect(await test.host.records.get('HelpDesk', id)).to.deep.equal(before);
      expect((await test.host.records.comments('HelpDesk', id)).length).to.equal(comments);
      const list = await jane.get('/m/HelpDesk?q=csrf');
      expect(list.html).to.include('No record matches the search.');
    });

    it('keeps script payloads in a ticket title and a comment inert', async () => {
      const title = '<script>alert("t")</script><img src=x onerror=alert(1)>';
      const form = await jane.get('/m/HelpDesk/new');
      const created = await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: title, description: '"><svg onload=alert(2)>' });
      const path = created.response.headers.get('location')!.replace('/portal', '').replace(/\?.*/, '');
      const page = await jane.get(path);
      await jane.post(`${path}/comments`, { _csrf: tokenIn(page.html), body: '<script>alert("c")</script>' });
      for (const view of [await jane.get(path), await jane.get('/m/HelpDesk'), await jane.get(`${path}/edit`)]) {
        expect(view.html).not.to.include('<script>alert').and.not.include('<img src=x').and.not.include('<svg onload');
      }
      const shown = (await jane.get(path)).html;
      expect(shown).to.include('&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;').and.include('&lt;script&gt;alert(&quot;c&quot;)&lt;/script&gt;');
      expect((await jane.get('/m/HelpDesk?q=%3Cscript%3Ealert')).html).not.to.include('<script>alert');
      // A title a spreadsheet would run as a formula is exported as text.
      const again = await jane.get('/m/HelpDesk/new');
      await jane.post('/m/HelpDesk/new', { _csrf: tokenIn(again.html), ticket_title: '=HYPERLINK("http://evil.example","x")' });
      const csv = (await jane.get('/m/HelpDesk/export.csv')).html;
      expect(csv).to.include(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
      expect(csv).not.to.match(/(^|,)=HYPERLINK/m);
    });

    it('never shows a field the profile hides: not in lists, records, forms, searches, sorts or exports', async () => {
      await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, solution: 'hidden', severity: 'hidden' } }));
      for (const id of [...janeTickets]) {
        await test.host.records.update('HelpDesk', id, { values: { solution: CANARY } });
      }
      const pages = [
        '/',
        '/m/HelpDesk',
        '/m/HelpDesk?sort=solution&dir=asc',
        `/m/HelpDesk?f_solution=${CANARY.slice(0, 14)}`,
        `/m/HelpDesk?q=${CANARY.slice(0, 14)}`,
        '/m/HelpDesk/export.csv',
        `/m/HelpDesk/export.csv?f_solution=${CANARY.slice(0, 14)}`,
        '/m/HelpDesk/new',
        ...janeTickets.flatMap((id) => [`/m/HelpDesk/${id}`, `/m/HelpDesk/${id}/edit`]),
      ];
      for (const path of pages) {
        const { response, html } = await jane.get(path);
        expect(response.status, path).to.be.below(500);
        expect(html, path).not.to.include(CANARY);
        expect(html, path).not.to.match(/>Solution<|>Severity</);
      }
      expect((await jane.get(`/m/HelpDesk?f_solution=${CANARY}`)).response.status).to.equal(400);
      // Posting the hidden field changes nothing.
      const open = janeTickets[janeTickets.length - 1]!;
      const edit = await jane.get(`/m/HelpDesk/${open}/edit`);
      expect(edit.response.status).to.equal(200);
      {
        const version = /name="version" value="(\d+)"/.exec(edit.html)![1]!;
        const posted = await jane.post(`/m/HelpDesk/${open}/edit`, { _csrf: tokenIn(edit.html), version, ticket_title: 'ok', solution: 'overwritten' });
        expect(posted.response.status).to.equal(422);
        expect(posted.html).not.to.include(CANARY);
        expect((await test.host.records.get('HelpDesk', open))!.values.solution).to.equal(CANARY);
      }
    });
  });
});

describe('portal pages: deleting, the language switch, version 1 @db', function () {
  this.timeout(120_000);
  let test: TestHost;

  afterEach(async () => {
    await test?.stop();
  });

  it('deletes a record after a confirmation page, by POST with the token and the version', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, delete: true }));
    const jane = await signedIn(test, JANE);
    const ids = recordIdsIn((await jane.get('/m/HelpDesk?sort=ticket_no&dir=desc')).html, 'HelpDesk');
    const id = ids[0]!;
    const page = await jane.get(`/m/HelpDesk/${id}`);
    expect(page.html).to.include(`href="/portal/m/HelpDesk/${id}/delete"`);
    const confirm = await jane.get(`/m/HelpDesk/${id}/delete`);
    expect(confirm.response.status).to.equal(200);
    expect(confirm.html).to.include('This cannot be undone.');
    expect(await test.host.records.get('HelpDesk', id)).not.to.equal(null);
    const refused = await jane.post(`/m/HelpDesk/${id}/delete`, { version: /name="version" value="(\d+)"/.exec(confirm.html)![1]! });
    expect(refused.response.status).to.equal(403);
    const stale = await jane.post(`/m/HelpDesk/${id}/delete`, { _csrf: tokenIn(confirm.html), version: '999' });
    expect(stale.response.status).to.equal(409);
    // A version no record can have (past 32 bits, as the API refuses it): stale too, never a 500 (PostgreSQL's integer refused it).
    for (const version of ['2147483648', '99999999999', '-2147483649']) {
      const odd = await jane.post(`/m/HelpDesk/${id}/delete`, { _csrf: tokenIn(confirm.html), version });
      expect(odd.response.status, version).to.equal(409);
    }
    expect(await test.host.records.get('HelpDesk', id)).not.to.equal(null);
    const done = await jane.post(`/m/HelpDesk/${id}/delete`, { _csrf: tokenIn(confirm.html), version: /name="version" value="(\d+)"/.exec(confirm.html)![1]! });
    expect(done.response.status).to.equal(303);
    expect(done.response.headers.get('location')).to.equal('/portal/m/HelpDesk?notice=deleted');
    expect(await test.host.records.get('HelpDesk', id)).to.equal(null);
    expect((await jane.get('/m/HelpDesk?notice=deleted')).html).to.include('The record was deleted.');
    expect((await jane.get(`/m/HelpDesk/${id}`)).response.status).to.equal(404);
  });

  it('shows a form again with the one option chosen in a multi-select, when another field is refused', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    await test.host.api.modules.registerModule({
      name: 'Gadgets',
      label: { en: 'Gadgets', it: 'Gadget' },
      singularLabel: { en: 'Gadget', it: 'Gadget' },
      custom: true,
      labelField: 'gadget_name',
      fields: [
        { name: 'gadget_name', label: { en: 'Name', it: 'Nome' }, type: 'text', mandatory: true },
        { name: 'colours', label: { en: 'Colours', it: 'Colori' }, type: 'multipicklist', mandatory: false, picklistValues: ['Red', 'Green'] },
        { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
      ],
    });
    await changeDefaultModule(test, 'Gadgets', (entry) => ({ ...entry, shown: true, view: true, create: true, edit: true, scope: 'contact', fields: { gadget_name: 'readwrite', colours: 'readwrite' } }));
    const jane = await signedIn(test, JANE);
    // A browser sends one chosen option as a plain field (colours=Red), several as a repeated one.
    const form = await jane.get('/m/Gadgets/new');
    const refused = await jane.post('/m/Gadgets/new', { _csrf: tokenIn(form.html), gadget_name: '', colours: 'Red' });
    expect(refused.response.status).to.equal(422);
    expect(refused.html).to.match(/<option value="Red" selected>/);
    const made = await jane.post('/m/Gadgets/new', { _csrf: tokenIn(form.html), gadget_name: 'Lamp' });
    const id = /\/m\/Gadgets\/(\d+)/.exec(made.response.headers.get('location') ?? '')![1]!;
    const edit = await jane.get(`/m/Gadgets/${id}/edit`);
    const again = await jane.post(`/m/Gadgets/${id}/edit`, { _csrf: tokenIn(edit.html), version: /name="version" value="(\d+)"/.exec(edit.html)![1]!, gadget_name: '', colours: 'Green' });
    expect(again.response.status).to.equal(422);
    expect(again.html).to.match(/<option value="Green" selected>/);
  });

  it('switches the language from a workspace page and comes back to it', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const jane = await signedIn(test, JANE);
    const list = await jane.get('/m/HelpDesk');
    expect(list.html).to.include('name="returnTo" value="/m/HelpDesk"');
    const switched = await jane.post('/language', { _csrf: tokenIn(list.html), language: 'it', returnTo: '/m/HelpDesk' });
    expect(switched.response.headers.get('location')).to.equal('/portal/m/HelpDesk');
    const italian = await jane.get('/m/HelpDesk');
    expect(italian.html).to.include('<html lang="it">').and.include('Cerca in questo elenco').and.include('Ticket di assistenza');
    const away = await jane.post('/language', { _csrf: tokenIn(italian.html), language: 'en', returnTo: '//evil.example/' });
    expect(away.response.headers.get('location')).to.equal('/portal/login');
  });

  it('switches the language from the page that refused a stale form (403) back to the page the form came from, never off the portal', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const jane = await signedIn(test, JANE);
    const id = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk')[0]!;
    const list = 'list=q%3DLine';
    const returnTo = (html: string) => /name="returnTo" value="([^"]*)"/.exec(html)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    const stale = { _csrf: 'stale-token-from-an-old-tab' };
    const refused = {
      comment: [await jane.post(`/m/HelpDesk/${id}/comments?${list}`, { ...stale, body: 'Hello' }), `/m/HelpDesk/${id}?${list}`],
      file: [await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents`, stale._csrf, 'notes.txt', 'notes'), `/m/HelpDesk/${id}`],
      resolve: [await jane.post(`/m/HelpDesk/${id}/resolve`, stale), `/m/HelpDesk/${id}`],
      'new ticket': [await jane.post('/m/HelpDesk/new', { ...stale, ticket_title: 'Stale' }), '/m/HelpDesk/new'],
      edit: [await jane.post(`/m/HelpDesk/${id}/edit?${list}`, { ...stale, ticket_title: 'Stale' }), `/m/HelpDesk/${id}/edit?${list}`],
      password: [await jane.post('/account/password', stale), '/account/password'],
      'sign-out': [await jane.post('/logout', stale), '/'],
      language: [await jane.post('/language', { ...stale, language: 'it', returnTo: '//evil.example/' }), '/'],
    } as const;
    for (const [what, [answer, page]] of Object.entries(refused)) {
      expect(answer.response.status, what).to.equal(403);
      expect(answer.html, what).to.include('The form has expired or did not come from this site.');
      expect(returnTo(answer.html), what).to.equal(page);
      const switched = await jane.post('/language', { _csrf: tokenIn(answer.html), language: 'it', returnTo: returnTo(answer.html) });
      expect(switched.response.headers.get('location'), what).to.equal(`/portal${page}`);
      await jane.post('/language', { _csrf: tokenIn(answer.html), language: 'en', returnTo: '/' });
    }
    // Signed out, a stale sign-in form comes back to itself.
    const visitor = new PortalClient(`${test.url}/portal`, { 'accept-language': 'en' });
    const forgot = await visitor.post('/forgot-password', { ...stale, email: 'jane.doe@example.com' });
    expect(forgot.response.status).to.equal(403);
    expect(returnTo(forgot.html)).to.equal('/forgot-password');
  });

  it('switches the language from a ticket that refused a comment or a file and comes back to the ticket, its list kept, not to the home page', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const jane = await signedIn(test, JANE);
    const id = recordIdsIn((await jane.get('/m/HelpDesk')).html, 'HelpDesk')[0]!;
    const list = 'list=q%3DLine';
    const ticket = await jane.get(`/m/HelpDesk/${id}?${list}`);
    const returnTo = (html: string) => /name="returnTo" value="([^"]*)"/.exec(html)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    const comment = await jane.post(`/m/HelpDesk/${id}/comments?${list}`, { _csrf: tokenIn(ticket.html), body: '   ' });
    const file = await upload(`${test.url}/portal`, jane, `/m/HelpDesk/${id}/documents?${list}`, tokenIn(ticket.html), 'tool.exe', 'MZ', 'application/octet-stream');
    for (const [what, refused] of [['comment', comment], ['file', file]] as const) {
      expect(refused.response.status, what).to.be.within(400, 499);
      expect(returnTo(refused.html), what).to.equal(`/m/HelpDesk/${id}?${list}`);
      const switched = await jane.post('/language', { _csrf: tokenIn(refused.html), language: 'it', returnTo: returnTo(refused.html) });
      expect(switched.response.headers.get('location'), what).to.equal(`/portal/m/HelpDesk/${id}?${list}`);
    }
  });

  it('shows version 1’s classic menu: new request, my requests with a status filter, knowledge base, the other modules', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    const jane = await signedIn(test, JANE);
    const home = await jane.get('/');
    const menu = [...home.html.matchAll(/data-menu="([^"]+)"[^>]*>([^<]+)</g)].map((m) => m[2]);
    expect(menu.slice(0, 4)).to.deep.equal(['Home', 'New request', 'My requests', 'Knowledge base']);
    expect([...home.html.matchAll(/bp-action-title">([^<]+)</g)].map((m) => m[1])).to.deep.equal(['New request', 'My requests', 'Knowledge base']);
    const requests = await jane.get('/m/HelpDesk?f_status=Open');
    expect(requests.html).to.match(/<h1 id="bp-page-title" class="bp-page-title">My requests<\/h1>/);
    // Beside the search, the button the classic list has: "New request", as the menu and the form it opens say.
    expect(requests.html).to.include('<a class="bp-button bp-button-link" href="/portal/m/HelpDesk/new">New request</a>');
    expect(requests.html).to.match(/<select id="bp-filter-status"[\s\S]*?<option value="Open" selected>/);
    const rows = /<tbody>([\s\S]*)<\/tbody>/.exec(requests.html)![1]!;
    expect(rows).not.to.match(/>(Closed|In Progress|Wait For Response)</);
    const form = await jane.get('/m/HelpDesk/new');
    expect(form.html).to.match(/<h1 id="bp-page-title" class="bp-page-title">New request<\/h1>/).and.match(/data-menu="new-request" aria-current="page"/);
  });

  it('names version 1’s knowledge base as its menu does, on its list and on an answer’s way back, in English and Italian', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    for (const [client, name] of [[await signedIn(test, JANE), 'Knowledge base'], [await signedIn(test, MARIO, 'it'), 'Base di conoscenza']] as const) {
      const list = await client.get('/m/Faq');
      expect(list.html).to.match(new RegExp(`data-menu="module-Faq" aria-current="page">${name}<`));
      expect(list.html).to.include(`<h1 id="bp-page-title" class="bp-page-title">${name}</h1>`).and.include(`<title>${name} · `);
      const answer = await client.get(`/m/Faq/${recordIdsIn(list.html, 'Faq')[0]}`);
      expect(answer.html).to.match(new RegExp(`data-return-to-list>[^<]*${name}</a>`));
    }
  });

  it('says a version 1 new request was sent in the words of its menu (a request, not a ticket), in English and Italian', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    for (const [client, sent] of [
      [await signedIn(test, JANE), 'Your request was sent. Our support team will answer soon.'],
      [await signedIn(test, MARIO, 'it'), 'La tua richiesta è stata inviata. Il nostro servizio di assistenza risponderà presto.'],
    ] as const) {
      const form = await client.get('/m/HelpDesk/new');
      const created = await client.post('/m/HelpDesk/new', { _csrf: tokenIn(form.html), ticket_title: 'Classic wording request' });
      expect(created.response.status).to.equal(303);
      const page = await client.get(created.response.headers.get('location')!.replace('/portal', ''));
      expect(page.html).to.include(`<title>${sent} · `).and.match(new RegExp(`role="status"[^>]*>${sent}<`));
    }
  });

  it('says version 1’s empty My requests in the words of its menu (requests, not records), in English and Italian', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    const clients = [
      [await signedIn(test, JANE), 'No request matches the search.', 'You have no requests yet.'],
      [await signedIn(test, MARIO, 'it'), 'Nessuna richiesta corrisponde alla ricerca.', 'Non hai ancora richieste.'],
    ] as const;
    for (const [client, noMatch] of clients) {
      expect((await client.get('/m/HelpDesk?q=no-such-request-anywhere')).html).to.include(`<p class="bp-empty" role="status">${noMatch}</p>`);
    }
    const { records } = test.host.api;
    for (const ticket of (await records.query('HelpDesk', { limit: 500 })).rows) await records.delete('HelpDesk', ticket.id);
    for (const [client, , empty] of clients) {
      expect((await client.get('/m/HelpDesk')).html).to.include(`<p class="bp-empty" role="status">${empty}</p>`);
    }
  });

  it('offers in version 1’s My requests status filter a status a request holds though the settings’ user may not set it, and finds the request by it, in English and Italian', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    const sql = test.host.api.database.sequelize;
    const [user] = (await sql.query("SELECT id FROM crm_users WHERE user_name = 'admin'", { type: 'SELECT' })) as { id: unknown }[];
    await new SequelizeSettingsStore(test.host.api.database).set(CLASSIC_SETTINGS_KEY, {
      modules: ['HelpDesk'].map((module) => ({ module, active: true, viewAllRelated: false })),
      userId: Number(user!.id),
      credentialsTemplateId: null,
    });
    const roles = (await sql.query('SELECT id FROM crm_roles', { type: 'SELECT' })) as { id: unknown }[];
    for (const role of roles) await test.host.registry.setPicklistRoleValues('HelpDesk', 'status', Number(role.id), ['Open', 'In Progress']);
    for (const [client, held] of [
      [await signedIn(test, JANE), 'Wait For Response'],
      [await signedIn(test, MARIO, 'it'), 'In attesa di risposta'],
    ] as const) {
      const id = recordIdsIn((await client.get('/m/HelpDesk')).html, 'HelpDesk')[0]!;
      // Set in the CRM by a user whose role may set it.
      await test.host.records.update('HelpDesk', id, { values: { status: 'Wait For Response' } });
      const list = await client.get('/m/HelpDesk');
      const select = /<select id="bp-filter-status"[\s\S]*?<\/select>/.exec(list.html)?.[0] ?? '';
      expect(select).to.include(`<option value="Wait For Response">${held}</option>`);
      const found = await client.get('/m/HelpDesk?f_status=Wait+For+Response');
      expect(found.html).to.include(`<option value="Wait For Response" selected>${held}</option>`);
      expect(recordIdsIn(found.html, 'HelpDesk')).to.include(id);
    }
  });

  it('spends at most HELD_VALUE_READS statements on the values a list’s records hold outside the role’s options (a picklist of 30), and offers those it found', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const api = test.host.api;
    const sql = api.database.sequelize;
    const levels = Array.from({ length: 30 }, (_, i) => `L${String(i).padStart(2, '0')}`);
    await api.modules.addField('HelpDesk', { name: 'zlevel', label: { en: 'Level' }, type: 'picklist', picklistValues: levels, mandatory: false });
    await changeDefaultModule(test, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, zlevel: 'readonly' }, listColumns: ['ticket_no', 'ticket_title', 'zlevel'], tools: { ...entry.tools, search: true } }));
    for (const role of (await sql.query('SELECT id FROM crm_roles', { type: 'SELECT' })) as { id: unknown }[]) {
      await test.host.registry.setPicklistRoleValues('HelpDesk', 'zlevel', Number(role.id), ['L00']);
    }
    const jane = await signedIn(test, JANE);
    const contact = (await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: JANE }, limit: 1 })).rows[0]!;
    // Jane's tickets hold 25 values the role does not offer.
    for (const level of levels.slice(1, 26)) await api.records.create('HelpDesk', { values: { ticket_title: `At ${level}`, status: 'Open', priority: 'Normal', contact_id: contact.id, zlevel: level } });
    const statements = recordStatements(sql, (text) => /[`"]zlevel[`"] IN \(/.test(text));
    let html: string;
    try {
      html = (await jane.get('/m/HelpDesk')).html;
    } finally {
      statements.stop();
    }
    expect(statements.sql).to.have.length(HELD_VALUE_READS);
    const select = /<select id="bp-filter-zlevel"[\s\S]*?<\/select>/.exec(html)?.[0] ?? '';
    const offered = [...select.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]!);
    expect(offered[0]).to.equal('L00');
    expect(offered.slice(1)).to.have.length(HELD_VALUE_READS).and.satisfy((found: string[]) => found.every((v) => levels.slice(1, 26).includes(v)));
  });

  it('heads and titles version 1’s own contact page as its menu entry, My information, in English and Italian', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    await new SequelizeSettingsStore(test.host.api.database).set(CLASSIC_SETTINGS_KEY, {
      modules: ['HelpDesk', 'Contacts'].map((module) => ({ module, active: true, viewAllRelated: false })),
      userId: null,
      credentialsTemplateId: null,
    });
    for (const [client, name, person] of [[await signedIn(test, JANE), 'My information', 'Jane Doe'], [await signedIn(test, MARIO, 'it'), 'I miei dati', 'Mario Rossi']] as const) {
      const href = /href="\/portal(\/m\/Contacts\/\d+)" data-menu="my-information"/.exec((await client.get('/')).html)![1]!;
      const page = (await client.get(href)).html;
      expect(page).to.match(new RegExp(`data-menu="my-information" aria-current="page">${name}<`));
      expect(page).to.include(`<h1 id="bp-page-title" class="bp-page-title">${name}</h1>`).and.include(`<title>${name} · `);
      // Whose information it is stays said, under the heading.
      expect(page).to.match(new RegExp(`</h1>\\s*<p class="bp-muted" data-record-label>${person}</p>`));
    }
  });

  it('offers in version 1’s knowledge base status filter only the status customers are shown (no "Draft", which never matches), in English and Italian', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    for (const [client, any, published] of [[await signedIn(test, JANE), 'Any', 'Published'], [await signedIn(test, MARIO, 'it'), 'Qualsiasi', 'Pubblicata']] as const) {
      const list = await client.get('/m/Faq');
      const select = /<select id="bp-filter-status"[\s\S]*?<\/select>/.exec(list.html)?.[0];
      expect(select, 'the status filter').to.be.a('string');
      expect([...select!.matchAll(/<option value="([^"]*)"[^>]*>([^<]*)</g)].map((m) => [m[1], m[2]])).to.deep.equal([['', any], ['Published', published]]);
      // Asked for by hand, a draft still finds nothing.
      expect((await client.get('/m/Faq?f_status=Draft')).html).not.to.match(/href="\/portal\/m\/Faq\/\d+/);
    }
  });

  it('lists Contacts in version 1’s menu when customers see their company’s contacts, beside My information', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error', installOrigin: { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true } });
    const classic = (viewAllRelated: boolean) => ({
      modules: ['HelpDesk', 'Contacts'].map((module) => ({ module, active: true, viewAllRelated: module === 'Contacts' && viewAllRelated })),
      userId: null,
      credentialsTemplateId: null,
    });
    const store = new SequelizeSettingsStore(test.host.api.database);
    const jane = await signedIn(test, JANE);
    const menu = async () => [...(await jane.get('/')).html.matchAll(/data-menu="([^"]+)"/g)].map((m) => m[1]);
    const myInformation = async () => (await jane.get(/href="\/portal(\/m\/Contacts\/\d+)" data-menu="my-information"/.exec((await jane.get('/')).html)![1]!)).html;
    await store.set(CLASSIC_SETTINGS_KEY, classic(false));
    expect(await menu()).to.deep.equal(['home', 'new-request', 'module-HelpDesk', 'my-information']);
    // My information is a menu entry of its own: no way "back" to a Contacts list the menu does not offer.
    expect(await myInformation()).to.include('aria-current="page">My information<').and.not.include('data-return-to-list');
    await store.set(CLASSIC_SETTINGS_KEY, classic(true));
    expect(await menu()).to.deep.equal(['home', 'new-request', 'module-HelpDesk', 'module-Contacts', 'my-information']);
    expect(await myInformation()).to.match(/<a href="\/portal\/m\/Contacts" data-return-to-list>Return to Contacts<\/a>/);
    const colleagues = await jane.get('/m/Contacts');
    expect(colleagues.html).to.include('Baker');
  });
});

describe('portal pages: the Contacts module with scope "contact" @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  after(async () => {
    await test?.stop();
  });

  it('shows and lets edit only the customer’s own contact record, never a colleague’s', async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
    const jane = await signedIn(test, JANE);
    const list = await jane.get('/m/Contacts');
    const ids = recordIdsIn(list.html, 'Contacts');
    expect(ids).to.have.length(1);
    expect(list.html).to.include('jane.doe@example.com');
    // Jane's colleagues at Acme Ltd (they appear as ticket contacts in her company's tickets).
    const me = (await test.host.records.get('Contacts', ids[0]!))!;
    const colleagues = await test.host.records.query('Contacts', { where: { field: 'account_id', op: 'eq', value: me.values.account_id as number }, limit: 50 });
    const others = colleagues.rows.filter((c) => c.id !== me.id);
    expect(others.length).to.be.greaterThan(0);
    for (const colleague of others) {
      for (const path of [`/m/Contacts/${colleague.id}`, `/m/Contacts/${colleague.id}/edit`]) expect((await jane.get(path)).response.status, path).to.equal(404);
    }
    const edit = await jane.get(`/m/Contacts/${ids[0]}/edit`);
    expect(edit.response.status).to.equal(200);
    expect(edit.html).to.match(/Email <span class="bp-muted">\(read-only\)/);
  });
});
