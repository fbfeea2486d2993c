/**
 * Attacks on the portal API of the demo host, over HTTP: other companies' ids on every verb,
 * hidden-field canaries, sorting and filtering by hidden fields, read-only and link fields,
 * record scope, injection through search and sort, XSS payloads, no session, and property-based
 * requests (fast-check) that never get a 500 nor a row out of scope.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { TestHost } from '../support/host.js';
import { API, apiClient, changeModule, idsWhere, JANE, MARIO, signedIn, startApiHost, type Answer, type ApiClient } from './api-test-kit.js';

const MISSING = 2_147_483_000;

/** A URL cannot carry half a UTF-16 pair (encodeURIComponent throws): its bytes are sent raw instead. */
const wellFormed = (text: string) => text.replace(/\p{Cs}/gu, '\uFFFD');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const CANARY = 'CANARY-7f3a9c';

/**
 * A list's query string, as a customer could type it: its parameters (the API's and the pages')
 * and any others, as arrays and objects, with odd numbers, any code point and raw bytes.
 */
function listQuery(): fc.Arbitrary<string> {
  const key = fc.oneof(
    fc.constantFrom('page', 'pageSize', 'sort', 'direction', 'search', 'dir', 'f_ticket_title', 'f_status', 'notice', 'filter[status]', 'filter[ticket_title]', 'filter[solution]', 'filter[]', 'filter[contact_id]', 'filter[createdAt]'),
    // Arrays and objects as a query parser would read them, and the parameters nested.
    fc.constantFrom('page[]', 'pageSize[0]', 'sort[a]', 'search[]', 'filter', 'filter[status][]', 'filter[status][a]', 'filter[__proto__]', '__proto__[page]', 'constructor[prototype]'),
    fc.string({ maxLength: 12 }),
    fc.string({ maxLength: 12, unit: 'binary' }).map(wellFormed),
  );
  const value = fc.oneof(
    fc.constantFrom('', '0', '1', '-1', '100', '101', '1e3', 'asc', 'desc', 'ticket_title', 'status', 'createdAt', 'solution', '%', '_', "'", '"; DROP TABLE mod_helpdesk; --', 'Open', '\u0000'),
    // Numbers JavaScript reads oddly: past a double, negative zero, not a number, past any integer column.
    fc.constantFrom('1e309', '-1e309', '-0', '0.0', 'NaN', 'Infinity', '-Infinity', '0x10', '1_000', ' 1', '1 ', '9007199254740993', '2147483648', '-2147483649', '99999999999999999999', '1.5', '١'),
    fc.string({ maxLength: 40 }),
    // Any code point, NUL and the other controls among them.
    fc.string({ maxLength: 40, unit: 'binary' }).map(wellFormed),
    fc.integer().map(String),
    fc.double().map(String),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  );
  // Raw query text: broken percent-encoding and the bytes of a lone surrogate or of no UTF-8 at all.
  const rawPart = fc.constantFrom('page=%', 'search=%E0%A4%A', 'search=%ED%A0%80', 'search=%FF%FE', 'filter[ticket_title]=%ED%A0%80', 'sort=%00', 'pageSize=1&pageSize=2', 'page=1&page=1', '&&', '=', '=1', 'filter%5Bstatus%5D=Open');
  return fc.array(fc.oneof(fc.tuple(key, value).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`), rawPart), { maxLength: 5 }).map((pairs) => pairs.join('&'));
}

describe('portal API: attacks @db', function () {
  this.timeout(300_000);
  let t: TestHost;
  let jane: ApiClient;
  let mario: ApiClient;

  before(async () => {
    t = await startApiHost();
    jane = await signedIn(t, JANE);
    mario = await signedIn(t, MARIO);
  });
  after(async () => t?.stop());

  /** Every id of a module a customer can list (through the API itself). */
  async function visibleIds(client: ApiClient, module: string): Promise<number[]> {
    const ids: number[] = [];
    for (let page = 1; ; page += 1) {
      const res = await client.get(`/modules/${module}/records?pageSize=100&page=${page}`);
      expect(res.status, `${module} list`).to.equal(200);
      ids.push(...res.body.rows.map((r: any) => r.id));
      if (ids.length >= res.body.total || res.body.rows.length === 0) return ids;
    }
  }

  async function recordState(module: string, id: number): Promise<string> {
    const record = await t.host.api.records.get(module, id);
    const comments = await t.host.api.records.commentCount(module, id, { includeInternal: true });
    const documents = (await t.host.api.records.documents(module, id)).length;
    return JSON.stringify({ version: record?.version, values: record?.values, comments, documents });
  }

  function expectSameRefusal(foreign: Answer, missing: Answer, what: string): void {
    expect(foreign.status, `${what}: ${foreign.text}`).to.equal(404);
    expect(foreign.text, what).to.equal(missing.text);
    expect(foreign.body.error.code, what).to.equal('not_found');
  }

  it('answers another company’s ids on every verb exactly like ids that do not exist, and changes nothing', async () => {
    const verbs: [string, (id: number, module: string) => Promise<Answer>][] = [
      ['GET record', (id, m) => jane.get(`/modules/${m}/records/${id}`)],
      ['PATCH', (id, m) => jane.send('PATCH', `/modules/${m}/records/${id}`, { values: { ticket_title: 'pwned' } })],
      ['PATCH empty', (id, m) => jane.send('PATCH', `/modules/${m}/records/${id}`, { values: {} })],
      ['DELETE', (id, m) => jane.send('DELETE', `/modules/${m}/records/${id}`)],
      ['GET comments', (id, m) => jane.get(`/modules/${m}/records/${id}/comments`)],
      ['POST comment', (id, m) => jane.send('POST', `/modules/${m}/records/${id}/comments`, { body: 'pwned' })],
      ['GET documents', (id, m) => jane.get(`/modules/${m}/records/${id}/documents`)],
      ['POST document', (id, m) => jane.upload(`/modules/${m}/records/${id}/documents`, { name: 'x.pdf', content: PDF })],
    ];
    let checked = 0;
    for (const module of ['HelpDesk', 'Invoice', 'Quotes', 'Documents', 'Accounts', 'Contacts']) {
      const theirs = await visibleIds(mario, module);
      const mine = new Set(await visibleIds(jane, module));
      const foreign = theirs.filter((id) => !mine.has(id));
      expect(foreign.length, `${module}: Mario has records Jane cannot see`).to.be.greaterThan(0);
      for (const id of foreign.slice(0, 2)) {
        const before = await recordState(module, id);
        for (const [verb, request] of verbs) {
          expectSameRefusal(await request(id, module), await request(MISSING, module), `${verb} ${module}/${id}`);
          checked += 1;
        }
        expect(await recordState(module, id), `${module}/${id} unchanged`).to.equal(before);
      }
    }
    // "OK, resolved" and downloads.
    const ticket = (await visibleIds(mario, 'HelpDesk'))[0]!;
    const before = await recordState('HelpDesk', ticket);
    expectSameRefusal(await jane.send('POST', `/tickets/${ticket}/resolve`), await jane.send('POST', `/tickets/${MISSING}/resolve`), 'resolve');
    expect(await recordState('HelpDesk', ticket)).to.equal(before);
    const marioDocuments = await mario.get(`/modules/HelpDesk/records/${ticket}/documents`);
    const upload = await mario.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'rossi.pdf', content: PDF });
    expect(upload.status).to.equal(201);
    expect(marioDocuments.status).to.equal(200);
    expectSameRefusal(await jane.get(upload.body.contentPath), await jane.get(`/documents/${MISSING}/content`), 'download');
    expect((await mario.get(upload.body.contentPath)).status).to.equal(200); // control: the owner can
    expect(checked).to.be.greaterThan(40);
  });

  it('lists, counts and exports only the customer’s rows, and follows the profile’s scope (contact / account / subsidiaries)', async () => {
    const acme = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
    const acmeItalia = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Italia Srl'))[0]!;
    const janeId = (await idsWhere(t.host.api, 'Contacts', 'email', JANE))[0]!;
    // Invoices: account and subsidiaries (the demo) → Acme Ltd's and Acme Italia's.
    const invoices = await jane.get('/modules/Invoice/records?pageSize=100');
    const accountOf = async (id: number) => (await t.host.api.records.get('Invoice', id))!.values.account_id;
    const accounts = new Set(await Promise.all(invoices.body.rows.map((r: any) => accountOf(r.id))));
    expect([...accounts]).to.have.members([acme, acmeItalia]);
    await changeModule(t.host.api, 'Invoice', (entry) => ({ ...entry, scope: 'account' }));
    const own = await jane.get('/modules/Invoice/records?pageSize=100');
    expect(new Set(await Promise.all(own.body.rows.map((r: any) => accountOf(r.id))))).to.deep.equal(new Set([acme]));
    expect(own.body.total).to.be.lessThan(invoices.body.total);
    const subsidiaryInvoice = invoices.body.rows.find((r: any) => !own.body.rows.some((o: any) => o.id === r.id)).id;
    expect((await jane.get(`/modules/Invoice/records/${subsidiaryInvoice}`)).status).to.equal(404);
    await changeModule(t.host.api, 'Invoice', (entry) => ({ ...entry, scope: 'account-and-subsidiaries' }));
    expect((await jane.get(`/modules/Invoice/records/${subsidiaryInvoice}`)).status).to.equal(200);

    // Tickets: account (the demo) → every Acme ticket; contact → Jane's only.
    const all = await visibleIds(jane, 'HelpDesk');
    await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, scope: 'contact' }));
    try {
      const hers = await jane.get('/modules/HelpDesk/records?pageSize=100');
      expect(hers.body.total).to.be.lessThan(all.length).and.to.equal(hers.body.rows.length);
      for (const row of hers.body.rows) expect((await t.host.api.records.get('HelpDesk', row.id))!.values.contact_id).to.equal(janeId);
      const colleagues = all.filter((id) => !hers.body.rows.some((r: any) => r.id === id));
      expect(colleagues.length).to.be.greaterThan(0);
      expectSameRefusal(await jane.get(`/modules/HelpDesk/records/${colleagues[0]}`), await jane.get(`/modules/HelpDesk/records/${MISSING}`), 'colleague’s ticket');
      const csv = await jane.get('/modules/HelpDesk/export.csv');
      expect(csv.text.trimEnd().split('\r\n').length - 1).to.equal(hers.body.total);
    } finally {
      await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, scope: 'account' }));
    }
  });

  it('never lets a hidden field’s canary out, and treats hidden fields exactly like fields that do not exist', async () => {
    await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, solution: 'hidden', description: 'hidden' } }));
    let first = 0;
    try {
      const acme = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
      const tickets = (await t.host.api.records.query('HelpDesk', { where: { field: 'account_id', op: 'eq', value: acme }, limit: 100 })).rows;
      for (const ticket of tickets) await t.host.api.records.update('HelpDesk', ticket.id, { values: { solution: `${CANARY} solution`, description: `${CANARY} description` } });
      first = tickets[0]!.id;
      const answers: Answer[] = [
        await jane.get('/modules'),
        await jane.get('/modules/HelpDesk/records?pageSize=100'),
        await jane.get(`/modules/HelpDesk/records?search=${CANARY}`),
        await jane.get('/modules/HelpDesk/records?sort=ticket_title&direction=desc'),
        await jane.get('/modules/HelpDesk/fields'),
        await jane.get('/modules/HelpDesk/export.csv'),
        await jane.get(`/modules/HelpDesk/export.csv?search=${CANARY}`),
        await jane.get('/openapi.json'),
      ];
      for (const ticket of tickets) {
        answers.push(await jane.get(`/modules/HelpDesk/records/${ticket.id}`));
        answers.push(await jane.get(`/modules/HelpDesk/records/${ticket.id}/comments`));
        answers.push(await jane.get(`/modules/HelpDesk/records/${ticket.id}/documents`));
      }
      const record = await jane.get(`/modules/HelpDesk/records/${first}`);
      expect(record.status).to.equal(200);
      expect(Object.keys(record.body.values)).not.to.include.members(['solution']);
      expect(record.body.fields.map((f: any) => f.name)).not.to.include('description');
      expect((await jane.get(`/modules/HelpDesk/records?search=${CANARY}`)).body.total).to.equal(0);

      // Sort and filter: a hidden field is refused exactly like one that does not exist.
      for (const [hidden, none] of [
        ['sort=solution', 'sort=nosuchfield'],
        ['sort=description&direction=asc', 'sort=nosuchfield&direction=asc'],
      ]) {
        const a = await jane.get(`/modules/HelpDesk/records?${hidden}`);
        const b = await jane.get(`/modules/HelpDesk/records?${none}`);
        expect(a.status, hidden).to.equal(400);
        expect(a.text, hidden).to.equal(b.text);
        expect(a.body.error.problems[0].code).to.equal('unknown-field');
        answers.push(a, await jane.get(`/modules/HelpDesk/export.csv?${hidden}`));
      }
      const filter = await jane.get(`/modules/HelpDesk/records?filter[solution]=${CANARY}`);
      const nothing = await jane.get(`/modules/HelpDesk/records?filter[nosuchfield]=${CANARY}`);
      expect(filter.status).to.equal(400);
      expect(filter.text.replace('solution', 'X')).to.equal(nothing.text.replace('nosuchfield', 'X'));
      expect(filter.body.error.problems).to.deep.equal([{ field: 'filter[solution]', code: 'unknown-field', message: 'There is no such field.' }]);
      answers.push(filter, await jane.get(`/modules/HelpDesk/export.csv?filter[description]=${CANARY.slice(0, 6)}`));

      // Writing a hidden field: refused like an unknown one; the database keeps the canary.
      const write = await jane.send('PATCH', `/modules/HelpDesk/records/${first}`, { values: { solution: 'overwritten' } });
      const unknown = await jane.send('PATCH', `/modules/HelpDesk/records/${first}`, { values: { nosuchfield: 'overwritten' } });
      expect(write.status).to.equal(422);
      expect(write.text.replace('solution', 'X')).to.equal(unknown.text.replace('nosuchfield', 'X'));
      const create = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'hidden write', description: 'sneaky' } });
      expect(create.status).to.equal(422);
      answers.push(write, create);
      expect((await t.host.api.records.get('HelpDesk', first))!.values.solution).to.equal(`${CANARY} solution`);

      for (const answer of answers) {
        // A list echoes the customer's own search and filters: that is their input, not the field's value.
        const shown = answer.body && typeof answer.body === 'object' && 'search' in answer.body ? JSON.stringify({ ...answer.body, search: '', filters: {} }) : answer.text;
        expect(shown, shown.slice(0, 120)).not.to.include(CANARY);
      }
    } finally {
      await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, solution: 'readonly', description: 'readwrite' } }));
    }
    expect((await jane.get(`/modules/HelpDesk/records/${first}`)).text).to.include(CANARY); // control: visible again, it shows
  });

  it('refuses read-only fields, link fields and identity sent in a body; never creates Accounts', async () => {
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Field attacks' } });
    const id = created.body.id;
    const marioId = (await idsWhere(t.host.api, 'Contacts', 'email', MARIO))[0]!;
    const rossi = (await idsWhere(t.host.api, 'Accounts', 'accountname', 'Rossi SpA'))[0]!;
    const before = await recordState('HelpDesk', id);
    for (const [values, field] of [
      [{ status: 'Closed' }, 'status'],
      [{ ticket_no: 'TT9999' }, 'ticket_no'],
      [{ contact_id: marioId }, 'contact_id'],
      [{ account_id: rossi }, 'account_id'],
    ] as const) {
      const res = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values });
      expect(res.status, field).to.equal(422);
      expect(res.body.error.problems, field).to.deep.include({ field: `values.${field}`, code: 'not-writable', message: 'This field cannot be changed.' });
    }
    expect(await recordState('HelpDesk', id)).to.equal(before);
    const count = await t.host.api.records.count('HelpDesk');
    const foreignLink = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'for Mario', contact_id: marioId, account_id: rossi } });
    expect(foreignLink.status).to.equal(422);
    expect(await t.host.api.records.count('HelpDesk')).to.equal(count);
    const identity = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'x' }, contactId: marioId, owner: { kind: 'user', id: 1 } });
    expect(identity.status).to.equal(422);
    expect(identity.body.error.problems.map((p: any) => p.field)).to.have.members(['contactId', 'owner']);
    const accounts = await t.host.api.records.count('Accounts');
    const account = await jane.send('POST', '/modules/Accounts/records', { values: { accountname: 'Evil Corp' } });
    expect(account.status).to.equal(403);
    expect(account.body.error.code).to.equal('not_allowed');
    expect(await t.host.api.records.count('Accounts')).to.equal(accounts);
    // Their own contact: editable, but not the read-only email.
    const janeId = (await idsWhere(t.host.api, 'Contacts', 'email', JANE))[0]!;
    const email = await jane.send('PATCH', `/modules/Contacts/records/${janeId}`, { values: { email: 'attacker@example.com' } });
    expect(email.status).to.equal(422);
    const phone = await jane.send('PATCH', `/modules/Contacts/records/${janeId}`, { values: { phone: '+44 20 7946 0999' } });
    expect(phone.status, phone.text).to.equal(200);
    expect((await t.host.api.records.get('Contacts', janeId))!.values.email).to.equal(JANE);
  });

  it('keeps SQL-shaped and LIKE-wildcard input harmless in search, filters and sort', async () => {
    for (const title of ['100% broken', 'under_score case', 'O\'Brien "quoted"']) {
      expect((await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: title } })).status).to.equal(201);
    }
    const titles = async (query: string) => {
      const res = await jane.get(`/modules/HelpDesk/records?pageSize=100&${query}`);
      expect(res.status, query).to.equal(200);
      return res.body.rows.map((r: any) => r.values.ticket_title);
    };
    expect(await titles(`search=${encodeURIComponent('%')}`)).to.deep.equal(['100% broken']);
    expect(await titles(`search=${encodeURIComponent('_')}`)).to.deep.equal(['under_score case']);
    expect(await titles(`search=${encodeURIComponent("O'Brien")}`)).to.deep.equal(['O\'Brien "quoted"']);
    expect(await titles(`filter[ticket_title]=${encodeURIComponent('%_%')}`)).to.deep.equal([]);
    expect(await titles(`search=${encodeURIComponent("' OR '1'='1")}`)).to.deep.equal([]);
    expect(await titles(`search=${encodeURIComponent('"; DROP TABLE mod_helpdesk; --')}`)).to.deep.equal([]);
    expect(await titles(`filter[status]=${encodeURIComponent("Open' OR 1=1 --")}`)).to.deep.equal([]);
    for (const sort of ['ticket_title;DROP TABLE x', 'ticket_title desc', '1', "ticket_title'", '(select 1)']) {
      const res = await jane.get(`/modules/HelpDesk/records?sort=${encodeURIComponent(sort)}`);
      expect(res.status, sort).to.equal(400);
      expect(res.text).not.to.match(/select|sqlite|syntax/i);
    }
    expect((await jane.get('/modules/HelpDesk/records?sort=ticket_title&direction=' + encodeURIComponent('desc; DROP'))).status).to.equal(400);
    expect(await t.host.api.records.count('HelpDesk')).to.be.greaterThan(0);
  });

  it('stores script payloads as plain strings and returns them as JSON, never as markup', async () => {
    const payload = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: payload, description: `"><svg onload=alert(3)>` } });
    expect(created.status).to.equal(201);
    const read = await jane.get(`/modules/HelpDesk/records/${created.body.id}`);
    expect(read.headers.get('content-type')).to.match(/^application\/json/);
    expect(read.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(read.body.values.ticket_title).to.equal(payload);
    const comment = await jane.send('POST', `/modules/HelpDesk/records/${created.body.id}/comments`, { body: payload });
    expect(comment.body.body).to.equal(payload);
    const search = await jane.get(`/modules/HelpDesk/records?search=${encodeURIComponent('<script>')}`);
    expect(search.body.rows.map((r: any) => r.id)).to.deep.equal([created.body.id]);
    expect(search.headers.get('content-type')).to.match(/^application\/json/);
    const upload = await jane.upload(`/modules/HelpDesk/records/${created.body.id}/documents`, { name: '<img src=x onerror=alert(1)>.pdf', content: PDF });
    expect(upload.status, upload.text).to.equal(201);
    expect(upload.body.fileName).to.equal('img src=x onerror=alert(1).pdf');
    const download = await fetch(`${t.url}${API}${upload.body.contentPath}`, { headers: { cookie: jane.cookie } });
    expect(download.headers.get('content-disposition')).to.match(/^attachment; filename="img src=x onerror=alert\(1\)\.pdf"/);
  });

  it('answers 400, never 500, to a path parameter that is not valid percent-encoding; 415 to a body in a charset it does not read', async () => {
    const tickets = await visibleIds(jane, 'HelpDesk');
    const paths = ['/modules/HelpDesk/records/%E0%A4%A', '/modules/%E0%A4%A/records', '/documents/%E0/content', `/modules/HelpDesk/records/${tickets[0]}/comments%ff`];
    for (const cookie of [jane.cookie, '']) {
      for (const path of paths) {
        const res = await fetch(`${t.url}${API}${path}`, { headers: cookie ? { cookie } : {} });
        expect(res.status, `${path} ${cookie ? 'signed in' : 'signed out'}`).to.be.oneOf([400, 404]);
        if (res.status === 400) expect(((await res.json()) as any).error.code, path).to.equal('bad_request');
      }
    }
    for (const page of ['/m/%E0%A4%A', `/m/HelpDesk/%E0`, `/m/HelpDesk/${tickets[0]}/documents/%E0`]) {
      const res = await fetch(`${t.url}/portal${page}`, { headers: { cookie: jane.cookie } });
      expect(res.status, page).to.equal(400);
      expect(await res.text(), page).to.include('The request is not valid').and.not.include('URIError');
    }
    const latin1 = await fetch(`${t.url}${API}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json; charset=iso-8859-1' }, body: '{}' });
    expect(latin1.status).to.equal(415);
    const refused = ((await latin1.json()) as any).error;
    expect(refused.code).to.equal('unsupported_media_type');
    // Said as what it is (not "The request is not valid."), in the caller's language: a client can fix it.
    const said: Record<string, string> = {};
    for (const language of ['en', 'it']) {
      const shapes: Record<string, string>[] = [{ 'content-type': 'application/json; charset=iso-8859-1' }, { 'content-type': 'application/json', 'content-encoding': 'x-squeeze' }];
      for (const headers of shapes) {
        const res = await fetch(`${t.url}${API}/modules/HelpDesk/records`, { method: 'POST', headers: { ...headers, cookie: jane.cookie, 'accept-language': language }, body: '{"values":{"ticket_title":"Latin"}}' });
        expect(res.status, JSON.stringify(headers)).to.equal(415);
        const error = ((await res.json()) as any).error;
        expect(error.code).to.equal('unsupported_media_type');
        expect(error.message, language).to.include('UTF-8');
        said[language] ??= error.message;
        expect(error.message).to.equal(said[language]);
      }
    }
    expect(said.it).to.not.equal(said.en);
    expect(await idsWhere(t.host.api, 'HelpDesk', 'ticket_title', 'Latin')).to.deep.equal([]);
  });

  it('keeps an uploaded file’s non-ASCII name as the customer’s computer gave it', async () => {
    const [ticket] = await visibleIds(jane, 'HelpDesk');
    const upload = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'preventivo_città_€.pdf', content: PDF });
    expect(upload.status, upload.text).to.equal(201);
    expect(upload.body.fileName).to.equal('preventivo_città_€.pdf');
    const download = await fetch(`${t.url}${API}${upload.body.contentPath}`, { headers: { cookie: jane.cookie } });
    expect(download.headers.get('content-disposition')).to.include(`filename*=UTF-8''${encodeURIComponent('preventivo_città_€.pdf')}`);
  });

  it('drops the direction overrides that make a file name read as another ("inv\u202Efdp.txt" shows as "invtxt.pdf")', async () => {
    const [ticket] = await visibleIds(jane, 'HelpDesk');
    const upload = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'inv\u202Efdp\u2066\u200F.txt', content: Buffer.from('plain text') });
    expect(upload.status, upload.text).to.equal(201);
    expect(upload.body.fileName).to.equal('invfdp.txt');
    // Every character Unicode counts as a bidi control, the Arabic letter mark (U+061C) too.
    const marked = await jane.upload(`/modules/HelpDesk/records/${ticket}/documents`, { name: 'fattura\u061C 2026\u061C.txt', content: Buffer.from('plain text') });
    expect(marked.status, marked.text).to.equal(201);
    expect(marked.body.fileName).to.equal('fattura 2026.txt');
  });

  it('counts lengths in characters, as the database does: an emoji is one, not two', async () => {
    // A ticket title holds 255 characters; 255 emoji are 510 UTF-16 units.
    const title = '🎉'.repeat(255);
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: title } });
    expect(created.status, created.text.slice(0, 300)).to.equal(201);
    expect((await t.host.api.records.get('HelpDesk', created.body.id))!.values.ticket_title).to.equal(title);
    expect((await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: `${title}🎉` } })).status).to.equal(422);
    const comment = await jane.send('POST', `/modules/HelpDesk/records/${created.body.id}/comments`, { body: '😀'.repeat(10_000) });
    expect(comment.status, comment.text.slice(0, 300)).to.equal(201);
    expect((await jane.send('POST', `/modules/HelpDesk/records/${created.body.id}/comments`, { body: '😀'.repeat(10_001) })).status).to.equal(422);
  });

  it('refuses text with a lone surrogate as it refuses a NUL byte, on every database alike (MariaDB stored "?", the others U+FFFD)', async () => {
    const [ticket] = await visibleIds(jane, 'HelpDesk');
    const before = await recordState('HelpDesk', ticket!);
    const count = await t.host.api.records.count('HelpDesk');
    // JSON's escapes are the one way to send one: a form's or a URL's bytes decode to U+FFFD.
    const post = (path: string, body: string, method = 'POST') =>
      fetch(`${t.url}${API}${path}`, { method, headers: { cookie: jane.cookie, 'content-type': 'application/json' }, body }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
    for (const text of ['\\ud800', 'x\\udfffy', '\\udc00\\ud800']) {
      const created = await post('/modules/HelpDesk/records', `{"values":{"ticket_title":"${text}","description":"${text}"}}`);
      expect(created.status, text).to.equal(422);
      expect(created.body.error.problems.map((p: any) => [p.field, p.code]), text).to.deep.equal([['values.ticket_title', 'invalid-value'], ['values.description', 'invalid-value']]);
      expect((await post(`/modules/HelpDesk/records/${ticket}`, `{"values":{"ticket_title":"${text}"}}`, 'PATCH')).status, text).to.equal(422);
      expect((await post(`/modules/HelpDesk/records/${ticket}/comments`, `{"body":"${text}"}`)).status, text).to.equal(422);
    }
    expect(await t.host.api.records.count('HelpDesk')).to.equal(count);
    expect(await recordState('HelpDesk', ticket!)).to.equal(before);
    // A pair is a character like any other.
    const emoji = await post('/modules/HelpDesk/records', '{"values":{"ticket_title":"\\ud83c\\udf89 party"}}');
    expect(emoji.status).to.equal(201);
    expect(emoji.body.values.ticket_title).to.equal('🎉 party');
  });

  it('refuses a list or a set of values far over its limit as one problem, not one per entry (1 MB of them held the server for seconds)', async () => {
    const before = (await jane.get('/modules/HelpDesk/records')).body.total;
    const cases: [string, string][] = [
      [`{"values":{"ticket_title":[${Array(400_000).fill('1').join(',')}]}}`, 'values.ticket_title'],
      [`{"values":{${Array.from({ length: 60_000 }, (_, i) => `"f${i}":{}`).join(',')}}}`, 'values'],
    ];
    for (const [body, field] of cases) {
      const res = await fetch(`${t.url}${API}/modules/HelpDesk/records`, { method: 'POST', headers: { cookie: jane.cookie, 'content-type': 'application/json' }, body });
      expect(res.status, field).to.equal(422);
      const answer = (await res.json()) as { error: { code: string; problems: { field: string; code: string }[] } };
      expect(answer.error.code).to.equal('invalid_input');
      expect(answer.error.problems.map((p) => [p.field, p.code]), field).to.deep.equal([[field, 'invalid-value']]);
    }
    // Within the limits every entry is still checked.
    const within = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Fine', category: [1, 'two'] } });
    expect(within.status).to.equal(422);
    expect(within.body.error.problems.map((p: { field: string }) => p.field)).to.deep.equal(['values.category', 'values.category.0']);
    expect((await jane.get('/modules/HelpDesk/records')).body.total).to.equal(before);
  });

  it('takes a long text as long as its field allows, in accented letters too', async () => {
    const description = 'è'.repeat(65_535);
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Molto lungo', description } });
    expect(created.status, created.text.slice(0, 300)).to.equal(201);
    expect(((await t.host.api.records.get('HelpDesk', created.body.id))!.values.description as string).length).to.equal(65_535);
    const tooLong = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Troppo lungo', description: `${description}è` } });
    expect(tooLong.status).to.equal(422);
  });

  it('answers 401 not_signed_in on every signed-in route without a session (or with a forged one)', async () => {
    const document = (await jane.get('/openapi.json')).body;
    let checked = 0;
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        if (operation.security.length === 0 || !['records', 'tickets'].includes(operation.tags[0])) continue;
        const concrete = path.replace('{module}', 'HelpDesk').replace('{id}', '1');
        for (const client of [apiClient(t), apiClient(t, 'bp_session=forged-session-id-000000000000000000000')]) {
          const res = method === 'get' ? await client.get(concrete) : await client.send(method.toUpperCase(), concrete, {});
          expect(res.status, `${method} ${path}`).to.equal(401);
          expect(res.body.error.code, `${method} ${path}`).to.equal('not_signed_in');
          checked += 1;
        }
      }
    }
    expect(checked).to.equal(2 * 14);
  });

  it('never answers 500 nor a foreign row to arbitrary list queries (fast-check)', async () => {
    const mine = new Set(await visibleIds(jane, 'HelpDesk'));
    await fc.assert(
      fc.asyncProperty(listQuery(), fc.constantFrom('HelpDesk', 'Invoice', 'Nope', 'helpdesk'), async (query, module) => {
        const res = await jane.get(`/modules/${module}/records?${query}`);
        expect(res.status, query).to.be.oneOf([200, 400, 403, 404]);
        expect(res.headers.get('content-type'), query).to.match(/^application\/json/);
        if (res.status !== 200) expect(res.body.error.code).to.be.oneOf(['not_allowed', 'not_found', 'invalid_input']);
        else if (module === 'HelpDesk') for (const row of res.body.rows) expect(mine.has(row.id), `row ${row.id}`).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });

  it('answers the portal’s list pages and exports below 500, as a page in the customer’s language or a file, to arbitrary queries (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(listQuery(), fc.constantFrom('HelpDesk', 'Invoice', 'Nope'), fc.constantFrom('', '/export.csv'), async (query, module, file) => {
        const res = await fetch(`${t.url}/portal/m/${module}${file}?${query}`, { headers: { cookie: jane.cookie }, redirect: 'manual' });
        const text = await res.text();
        const type = res.headers.get('content-type') ?? '';
        expect(res.status, query).to.be.below(500);
        expect(text, query).not.to.match(/\n\s+at |node:internal|Sequelize\w*Error|SQLITE_|TypeError|RangeError|URIError/);
        if (res.status === 303) expect(res.headers.get('location'), query).to.match(/^\/portal\//);
        else if (type.startsWith('text/html')) expect(text, query).to.match(/<html lang="[a-z]{2}"/);
        else expect(type, query).to.match(/^text\/csv/);
      }),
      { numRuns: 200 },
    );
  });

  it('never answers 500 to arbitrary ids, module names and write bodies (fast-check)', async () => {
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Fuzz target' } });
    const target = created.body.id;
    const json = fc.jsonValue({ maxDepth: 3 });
    // Values JSON.stringify never writes, put into the body's text where a value goes.
    const rawValue = fc.constantFrom('1e309', '-1e309', '-0', '-0.0', '1e-400', '9007199254740993', '99999999999999999999', '"NaN"', '"Infinity"', '"-0"', '"1e309"', '"\\ud800"', '"x\\udfff"', '"\\u0000"', '"\\u001b[31m"', '"\\u202e"', `"${'a'.repeat(1_000_000)}"`, `${'['.repeat(2000)}${']'.repeat(2000)}`, `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`);
    const text = (body: unknown) => JSON.stringify(body) ?? '';
    const valueNames = fc.constantFrom('ticket_title', 'priority', 'description', 'status', 'contact_id', 'nope', '__proto__', 'constructor');
    const rawBody = fc.oneof(
      rawValue,
      fc.tuple(valueNames, rawValue).map(([field, value]) => `{"values":{"${field}":${value}}}`),
      fc.tuple(valueNames, rawValue).map(([field, value]) => `{"values":{"ticket_title":"Fuzz","${field}":${value}},"version":${value}}`),
      rawValue.map((value) => `{"body":${value}}`),
      // The same key twice: the last one is what JSON.parse keeps.
      fc.tuple(valueNames, rawValue).map(([field, value]) => `{"values":{"${field}":"x","${field}":${value}},"values":{"${field}":"y"}}`),
    );
    await fc.assert(
      fc.asyncProperty(
        // The record the customer may write, often: there the bodies reach the checks of its fields.
        fc.oneof({ arbitrary: fc.constant(String(target)), weight: 3 }, fc.string({ maxLength: 14 }), fc.string({ maxLength: 8, unit: 'binary' }).map(wellFormed), fc.constantFrom('1', '0', '01', '-1', '-0', '2147483648', '9999999999', '99999999999999999999', '1e309', 'NaN', 'Infinity', '1.5', '1e3', ' 1', '١')),
        fc.oneof({ arbitrary: fc.constant('HelpDesk'), weight: 3 }, fc.constantFrom('HelpDesk', 'Accounts', 'Contacts', 'Faq', 'Nope', 'HelpDesk.csv'), fc.string({ maxLength: 10 })),
        fc.oneof(
          json.map(text),
          fc.record({ values: fc.dictionary(valueNames, json) }).map(text),
          fc.record({ values: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))), version: fc.integer() }).map(text),
          fc.record({ values: fc.dictionary(fc.string({ maxLength: 8, unit: 'binary' }), fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.boolean(), fc.constant(null))), version: fc.double() }).map(text),
          rawBody,
        ),
        async (id, module, body) => {
          const path = `/modules/${encodeURIComponent(module)}/records/${encodeURIComponent(id)}`;
          const send = async (method: string, to: string) => {
            const res = await fetch(`${t.url}${API}${to}`, { method, redirect: 'manual', headers: { cookie: jane.cookie, 'content-type': 'application/json' }, body });
            const answer = await res.text();
            return { status: res.status, body: answer === '' ? null : (JSON.parse(answer) as { error?: { code?: unknown } }) };
          };
          for (const request of [() => jane.get(path), () => send('PATCH', path), () => send('POST', `${path}/comments`)]) {
            const before = await recordState('HelpDesk', target);
            const res = await request();
            expect(res.status, `${path} ${body.slice(0, 80)}`).to.be.below(500);
            expect(res.body?.error?.code ?? 'ok').to.be.a('string');
            // A refusal changed nothing of the record.
            if (res.status >= 400) expect(await recordState('HelpDesk', target), `${path} ${body.slice(0, 80)}`).to.equal(before);
          }
        },
      ),
      { numRuns: 150 },
    );
    const other = (await visibleIds(mario, 'HelpDesk'))[0]!;
    expect((await t.host.api.records.get('HelpDesk', other))!.values.ticket_title).not.to.equal('pwned');
  });
});
