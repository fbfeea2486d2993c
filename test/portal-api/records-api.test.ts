/**
 * The portal API's records routes against the demo host over HTTP: modules, lists, the create
 * form, create / read / update / delete, optimistic locking and the CSV export.
 */
import { expect } from 'chai';
import { todayIn } from '../../plugin/auth/support-period.js';
import type { TestHost } from '../support/host.js';
import { API, changeModule, defaultProfile, idsWhere, JANE, MARIO, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

describe('portal API: records @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let mario: ApiClient;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
    mario = await signedIn(t, MARIO);
  });
  after(async () => t?.stop());

  it('lists the customer’s modules in menu order with labels in their language, and the home buttons', async () => {
    const en = await jane.get('/modules');
    expect(en.status).to.equal(200);
    expect(en.body.version).to.equal(2);
    const tickets = en.body.modules.find((m: any) => m.name === 'HelpDesk');
    expect(tickets).to.deep.include({ label: 'Trouble Tickets', singularLabel: 'Ticket', actions: { view: true, create: true, edit: true, delete: false } });
    expect(tickets.tools).to.deep.equal({ comments: true, documents: true, search: true, export: true });
    expect(tickets.columns.map((c: any) => c.name)).to.deep.equal(['ticket_no', 'ticket_title', 'status', 'priority', 'contact_id']);
    expect(en.body.buttons.map((b: any) => b.module)).to.deep.equal(['HelpDesk', 'HelpDesk', 'Invoice', 'Faq']);
    const it = await mario.get('/modules', { 'accept-language': 'it' });
    expect(it.body.modules.find((m: any) => m.name === 'HelpDesk').label).to.equal('Ticket di assistenza');
    expect(it.body.modules.find((m: any) => m.name === 'HelpDesk').columns[1].label).to.equal('Titolo');
    // Buttons in the caller's language where the profile gives one; never the other languages' texts.
    expect(en.body.buttons[0]).to.deep.equal({ title: 'New ticket', description: 'Ask our support team for help', colour: 'primary', icon: 'plus', action: 'create', module: 'HelpDesk' });
    expect(it.body.buttons[0]).to.deep.include({ title: 'Nuovo ticket', description: 'Chiedi aiuto al nostro supporto' });
  });

  it('pages, sorts, filters and searches a list inside the customer’s scope only', async () => {
    const all = await jane.get('/modules/HelpDesk/records?sort=ticket_no&direction=asc');
    expect(all.status).to.equal(200);
    const acme = (await t.host.api.records.query('Accounts', { where: { field: 'accountname', op: 'eq', value: 'Acme Ltd' } })).rows[0]!.id;
    const expected = (await t.host.api.records.query('HelpDesk', { where: { field: 'account_id', op: 'eq', value: acme }, limit: 100 })).rows.length;
    expect(all.body.total).to.equal(expected).and.to.be.greaterThan(2);
    const numbers = all.body.rows.map((r: any) => r.values.ticket_no);
    expect(numbers).to.deep.equal([...numbers].sort());
    for (const row of all.body.rows) expect(Object.keys(row.values)).to.have.members(['ticket_no', 'ticket_title', 'status', 'priority', 'contact_id']);

    const page = await jane.get('/modules/HelpDesk/records?sort=ticket_no&direction=desc&pageSize=2&page=2');
    expect(page.body.rows.map((r: any) => r.values.ticket_no)).to.deep.equal([...numbers].reverse().slice(2, 4));
    expect(page.body.total).to.equal(expected);

    const open = await jane.get('/modules/HelpDesk/records?filter[status]=Open');
    expect(open.body.rows.length).to.be.greaterThan(0);
    for (const row of open.body.rows) expect(row.values.status).to.equal('Open');
    const both = await jane.get(`/modules/HelpDesk/records?filter[status]=Open&filter[ticket_title]=${encodeURIComponent('controller')}`);
    expect(both.body.rows.map((r: any) => r.values.ticket_title)).to.deep.equal(['Line 2 controller reboots every night']);
    const search = await jane.get('/modules/HelpDesk/records?search=vpn');
    expect(search.body.rows.map((r: any) => r.values.ticket_title)).to.deep.equal(['VPN access for remote diagnostics']);
    expect(search.body.search).to.equal('vpn');
  });

  it('labels a list’s contacts within the Contacts scope: their own in contact scope, their colleagues’ in account scope', async () => {
    const [janeId] = await idsWhere(t.host.api, 'Contacts', 'email', JANE);
    // A contact is named as people are: first name, then last name.
    const labelOf = async (id: number) => {
      const { values } = (await t.host.api.records.get('Contacts', id))!;
      return `${values.firstname} ${values.lastname}`;
    };
    const original = (await defaultProfile(t.host.api)).document.modules.find((entry) => entry.module === 'Contacts')!;
    const rowsBy = async () => {
      const list = await jane.get('/modules/HelpDesk/records?pageSize=100');
      expect(list.status).to.equal(200);
      const rows = list.body.rows.filter((row: any) => typeof row.values.contact_id === 'number');
      return { own: rows.filter((row: any) => row.values.contact_id === janeId), others: rows.filter((row: any) => row.values.contact_id !== janeId) };
    };
    try {
      await changeModule(t.host.api, 'Contacts', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact' }));
      const contactScope = await rowsBy();
      expect(contactScope.own.length, 'tickets of Jane').to.be.greaterThan(0);
      expect(contactScope.others.length, 'tickets of her colleagues').to.be.greaterThan(0);
      for (const row of contactScope.own) expect(row.references.contact_id).to.deep.equal({ id: janeId, module: 'Contacts', label: await labelOf(janeId!) });
      for (const row of contactScope.others) expect(row.references.contact_id, 'a colleague outside contact scope').to.equal(null);

      await changeModule(t.host.api, 'Contacts', (entry) => ({ ...entry, shown: true, view: true, scope: 'account' }));
      const accountScope = await rowsBy();
      for (const row of [...accountScope.own, ...accountScope.others]) {
        expect(row.references.contact_id).to.deep.equal({ id: row.values.contact_id, module: 'Contacts', label: await labelOf(row.values.contact_id) });
      }
    } finally {
      await changeModule(t.host.api, 'Contacts', () => original);
    }
  });

  it('refuses list parameters outside the allow-list with 400 invalid_input and problems in the caller’s language', async () => {
    for (const query of ['page=0', 'page=abc', 'pageSize=101', 'direction=up&sort=ticket_no', 'limit=5', 'page=1&page=2', `search=${'x'.repeat(201)}`]) {
      const res = await jane.get(`/modules/HelpDesk/records?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.code, query).to.equal('invalid_input');
      expect(res.body.error.problems, query).to.be.an('array').that.is.not.empty;
    }
    // Page numbers and sizes in decimal digits only, as the document's integers: not hex, exponents, signs, blanks or fractions.
    const ticket = (await jane.get('/modules/HelpDesk/records')).body.rows[0].id;
    // The problem names the bounds (page sizes up to 100, pages up to 100,000).
    const bounds = { page: 'A whole number from 1 to 100,000.', pageSize: 'A whole number from 1 to 100.' };
    for (const [name, value] of [['page', '0x2'], ['pageSize', '1e1'], ['page', '1.0'], ['page', ' 1'], ['pageSize', '%091'], ['page', '%2B1'], ['pageSize', '0b11'], ['pageSize', '101'], ['page', '0']] as const) {
      for (const path of ['/modules/HelpDesk/records', `/modules/HelpDesk/records/${ticket}/comments`, `/modules/HelpDesk/records/${ticket}/documents`]) {
        const res = await jane.get(`${path}?${name}=${value.replace(' ', '%20')}`);
        expect(res.status, `${path}?${name}=${value}`).to.equal(400);
        expect(res.body.error.problems, `${path}?${name}=${value}`).to.deep.equal([{ field: name, code: 'invalid-value', message: bounds[name] }]);
      }
    }
    const direction = await jane.get('/modules/HelpDesk/records?sort=ticket_no&direction=up');
    expect(direction.body.error.problems).to.deep.equal([{ field: 'direction', code: 'invalid-value', message: 'One of: asc, desc.' }]);
    const pageIt = await mario.get('/modules/HelpDesk/records?page=100001', { 'accept-language': 'it' });
    expect(pageIt.body.error.problems).to.deep.equal([{ field: 'page', code: 'invalid-value', message: 'Un numero intero da 1 a 100.000.' }]);
    expect((await jane.get('/modules/HelpDesk/records?page=1&pageSize=007')).body.pageSize).to.equal(7);
    // `filter` as a text beside `filter[…]` entries: refused, not dropped in silence (the list was filtered by the entries alone).
    for (const query of ['filter=Closed&filter[status]=Open', 'filter[status]=Open&filter=Closed']) {
      const res = await jane.get(`/modules/HelpDesk/records?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.problems, query).to.deep.equal([{ field: 'filter', code: 'invalid-value', message: 'This value is not valid here.' }]);
      const csv = await jane.get(`/modules/HelpDesk/export.csv?${query}`);
      expect(csv.status, `export ${query}`).to.equal(400);
    }
    const it = await mario.get('/modules/HelpDesk/records?sort=nope', { 'accept-language': 'it' });
    expect(it.body.error).to.deep.equal({ code: 'invalid_input', message: 'Alcuni valori non sono validi.', problems: [{ field: 'sort', code: 'unknown-field', message: 'Questo campo non esiste.' }] });
  });

  it('names the very key it refuses when a field name is not of the form of one, in a body and in a filter', async () => {
    const unknown = (field: string) => ({ field, code: 'unknown-field', message: 'There is no such field.' });
    const create = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Named key', _x: 'a', '9y': 'b' } });
    expect(create.status).to.equal(422);
    expect(create.body.error.problems).to.have.deep.members([unknown('values._x'), unknown('values.9y')]);
    const proto = await jane.send('POST', '/modules/HelpDesk/records', JSON.parse('{"values":{"ticket_title":"Named key","__proto__":{"polluted":1}}}'));
    expect(proto.status).to.equal(422);
    expect(proto.body.error.problems).to.deep.equal([unknown('values.__proto__')]);
    for (const key of ['__proto__', '_x', 'a-b']) {
      const list = await jane.get(`/modules/HelpDesk/records?filter[${encodeURIComponent(key)}]=1`);
      expect(list.status, key).to.equal(400);
      expect(list.body.error.problems, key).to.deep.equal([unknown(`filter[${key}]`)]);
    }
    expect(await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'Named key')).to.deep.equal([]);
  });

  it('gives the create form’s fields: writable ones, never link fields', async () => {
    const res = await jane.get('/modules/HelpDesk/fields');
    expect(res.status).to.equal(200);
    const byName = Object.fromEntries(res.body.fields.map((f: any) => [f.name, f]));
    expect(byName.ticket_title).to.include({ access: 'readwrite', mandatory: true });
    expect(byName.status.access).to.equal('readonly');
    expect(byName.contact_id.access).to.equal('readonly');
    expect(byName.priority.options).to.include('High');
    expect(byName.priority.optionLabels).to.deep.equal({ Low: 'Low', Normal: 'Normal', High: 'High', Urgent: 'Urgent' });
    // The values stay what the API takes; their labels follow the caller's language.
    const italian = await mario.get('/modules/HelpDesk/fields', { 'accept-language': 'it' });
    const priority = italian.body.fields.find((f: any) => f.name === 'priority');
    expect(priority.options).to.deep.equal(['Low', 'Normal', 'High', 'Urgent']);
    expect(priority.optionLabels).to.deep.equal({ Low: 'Bassa', Normal: 'Normale', High: 'Alta', Urgent: 'Urgente' });
    expect((await jane.get('/modules/Invoice/fields')).status).to.equal(403);
  });

  it('creates a ticket owned by the profile’s owner, linked to the contact and their account', async () => {
    const res = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Printer jam on line 4', priority: 'High', description: 'Since this morning.' } });
    expect(res.status).to.equal(201);
    expect(res.headers.get('location')).to.equal(`${API}/modules/HelpDesk/records/${res.body.id}`);
    expect(res.body.values).to.include({ ticket_title: 'Printer jam on line 4', priority: 'High', status: 'Open' });
    const stored = await t.host.api.records.get('HelpDesk', res.body.id);
    const janeId = (await idsWhere(t.host.api, 'Contacts', 'email', JANE))[0];
    const acme = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd'))[0];
    expect(stored!.values).to.include({ contact_id: janeId, account_id: acme });
    const owner = (await defaultProfile(t.host.api)).document.general.owner;
    expect(owner).to.not.equal(null);
    expect(stored!.owner).to.deep.equal(owner);
  });

  it('reads and updates a record, with optimistic locking (409 stale_record)', async () => {
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Locking test' } });
    const id = created.body.id;
    const read = await jane.get(`/modules/HelpDesk/records/${id}`);
    expect(read.status, `${created.status} ${created.text} ${read.text}`).to.equal(200);
    expect(read.body).to.include({ id, module: 'HelpDesk', editable: true, deletable: false });
    const version = read.body.version;
    const first = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { priority: 'Low' }, version });
    expect(first.status).to.equal(200);
    expect(first.body.values.priority).to.equal('Low');
    expect(first.body.version).to.be.greaterThan(version);
    const stale = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { priority: 'Urgent' }, version });
    expect(stale.status).to.equal(409);
    expect(stale.body.error.code).to.equal('stale_record');
    expect((await t.host.api.records.get('HelpDesk', id))!.values.priority).to.equal('Low');
    // Without `version` the write is not checked (last write wins), as the API has always documented it.
    const unchecked = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { priority: 'Urgent' } });
    expect(unchecked.status).to.equal(200);
    expect(unchecked.body.values.priority).to.equal('Urgent');
    const bad = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { priority: 'Whenever' } });
    expect(bad.status).to.equal(422);
    expect(bad.body.error.problems).to.deep.equal([{ field: 'values.priority', code: 'invalid-value', message: 'Only values the field offers, as the module’s fields (GET …/fields) list them.' }]);
    const extra = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: {}, owner: 1 });
    expect(extra.status).to.equal(422);
    expect(extra.body.error.problems[0]).to.include({ field: 'owner', code: 'unknown-field' });
  });

  it('refuses a line break or a control character in a one-line field, and control characters but line breaks and tabs in a text of several lines', async () => {
    const message = { ticket_title: 'One line of text, without line breaks or control characters.', description: 'Text without control characters (line breaks and tabs are kept).' };
    const invalid = (field: keyof typeof message) => [{ field: `values.${field}`, code: 'invalid-value', message: message[field] }];
    for (const title of ['Printer\r\nCustomer: Big Boss <boss@example.com>', 'Printer\nbroken', 'Printer\u0000', 'Printer\u0007', 'Printer\u007f', 'Printer\u0085']) {
      const refused = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: title } });
      expect(refused.status, JSON.stringify(title)).to.equal(422);
      expect(refused.body.error.problems, JSON.stringify(title)).to.deep.equal(invalid('ticket_title'));
    }
    const kept = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Printer\tbroken', description: 'Line one\r\nLine two\n\tindented' } });
    expect(kept.status).to.equal(201);
    const stored = (await t.host.api.records.get('HelpDesk', kept.body.id))!.values;
    expect(stored.ticket_title).to.equal('Printer\tbroken');
    expect(stored.description).to.equal('Line one\r\nLine two\n\tindented');
    const id: number = kept.body.id;
    for (const description of ['Bell \u0007', 'NUL \u0000', 'Escape \u001b[31m']) {
      const refused = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { description } });
      expect(refused.status, JSON.stringify(description)).to.equal(422);
      expect(refused.body.error.problems, JSON.stringify(description)).to.deep.equal(invalid('description'));
    }
    expect((await t.host.api.records.get('HelpDesk', id))!.values.description).to.equal('Line one\r\nLine two\n\tindented');
  });

  it('deletes only where the profile allows it', async () => {
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'To be deleted' } });
    const id = created.body.id;
    const refused = await jane.send('DELETE', `/modules/HelpDesk/records/${id}`);
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('not_allowed');
    await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, delete: true }));
    try {
      const stale = await jane.send('DELETE', `/modules/HelpDesk/records/${id}`, { version: 999 });
      expect(stale.status).to.equal(409);
      const done = await jane.send('DELETE', `/modules/HelpDesk/records/${id}`);
      expect(done.status).to.equal(204);
      expect(await t.host.api.records.get('HelpDesk', id)).to.equal(null);
      expect((await jane.get(`/modules/HelpDesk/records/${id}`)).status).to.equal(404);
    } finally {
      await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, delete: false }));
    }
  });

  it('exports the list as CSV: BOM, list columns only, formula cells neutralised, export tool only', async () => {
    const formula = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: '=HYPERLINK("http://evil.example","x")' } });
    expect(formula.status).to.equal(201);
    const res = await jane.get('/modules/HelpDesk/export.csv?sort=ticket_no&direction=asc');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    // Named as the pages name it: the list's title in the customer's language and the day in the CRM's time zone.
    const day = todayIn(t.host.api.regional.timeZone());
    expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="Trouble Tickets ${day}.csv"; filename*=UTF-8''Trouble%20Tickets%20${day}.csv`);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    const raw = Buffer.from(await (await fetch(`${t.url}${API}/modules/HelpDesk/export.csv`, { headers: { cookie: jane.cookie } })).arrayBuffer());
    expect([...raw.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = res.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).to.equal('Ticket number,Title,Status,Priority,Contact');
    const list = await jane.get('/modules/HelpDesk/records?pageSize=100');
    expect(lines.length - 1).to.equal(list.body.total);
    expect(res.text).to.include(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(res.text).not.to.match(/(^|,)=HYPERLINK/m);
    const filtered = await jane.get('/modules/HelpDesk/export.csv?filter[status]=Closed');
    for (const line of filtered.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n').slice(1)) expect(line).to.include(',Closed,');
    const refused = await jane.get('/modules/Quotes/export.csv');
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('not_allowed');
    const italian = await mario.get('/modules/HelpDesk/export.csv', { 'accept-language': 'it' });
    expect(italian.text.split('\r\n')[0]).to.equal('Numero ticket,Titolo,Stato,Priorità,Contatto');
    expect(italian.headers.get('content-disposition')).to.equal(`attachment; filename="Ticket di assistenza ${day}.csv"; filename*=UTF-8''Ticket%20di%20assistenza%20${day}.csv`);
    const head = await fetch(`${t.url}${API}/modules/HelpDesk/export.csv`, { method: 'HEAD', headers: { cookie: jane.cookie } });
    expect(head.headers.get('content-disposition')).to.equal(res.headers.get('content-disposition'));
  });

  it('exports a list longer than one batch in the list order, each batch read by id (no OFFSET re-reading the rows before it)', async () => {
    const [contactId] = await idsWhere(t.host.api, 'Contacts', 'email', JANE);
    for (let i = 0; i < 230; i += 1) await t.host.records.create('HelpDesk', { values: { ticket_title: `Batch ${String(i).padStart(3, '0')}`, contact_id: contactId!, status: 'Open' } });
    const sequelize = t.host.api.database.sequelize;
    const sent: string[] = [];
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = (sql, options) => {
      if (typeof sql === 'string') sent.push(sql);
      return original(sql, options);
    };
    let res: Awaited<ReturnType<ApiClient['get']>>;
    try {
      res = await jane.get('/modules/HelpDesk/export.csv?sort=ticket_title&direction=asc');
    } finally {
      (sequelize as unknown as { query: typeof original }).query = original;
    }
    expect(res.status).to.equal(200);
    const exported = res.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0]);
    const listed: string[] = [];
    for (let page = 1; ; page += 1) {
      const list = await jane.get(`/modules/HelpDesk/records?pageSize=100&page=${page}&sort=ticket_title&direction=asc`);
      listed.push(...list.body.rows.map((row: any) => row.values.ticket_no));
      if (list.body.rows.length < 100) break;
    }
    expect(listed.length).to.be.greaterThan(200);
    expect(exported).to.deep.equal(listed);
    expect(sent.filter((sql) => /mod_helpdesk/i.test(sql) && /\bOFFSET\b/i.test(sql))).to.deep.equal([]);
  });
});
