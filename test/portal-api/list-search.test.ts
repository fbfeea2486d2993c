/**
 * A customer's search of a list (the general `search`, the column `filter[…]`; the pages' `q` and
 * `f_…`), on whichever database the suite runs: typed wildcards are the characters themselves,
 * the case of every letter is ignored and accents count, blanks pasted from a mail do not hide a
 * match, the search stays in the customer's scope and never reads a field the profile hides.
 */
import { expect } from 'chai';
import type { TestHost } from '../support/host.js';
import { changeModule, defaultProfile, idsWhere, JANE, MARIO, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';
import { signedIn as pageSignedIn } from '../portal-pages/portal-pages-kit.js';

describe('portal API: searching a list as a customer @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let mario: ApiClient;
  let marioIt: ApiClient;

  const JANES = ['Zq 100% done', 'Zq 50_50', 'Zq C:\\path', "Zq O'Brien", 'Zq say "hi"', 'Zq [urgent]', 'Zq a*b?', 'Zq perché', 'Zq CITTÀ', 'Zq Müller', 'Zq 🎉 party', 'Zq Mario Rossi'];
  const MARIOS = ['Zq 100% Mario', 'Zq città di Mario', 'Zq [Mario]'];

  async function ticketsOf(account: string, email: string, titles: readonly string[]): Promise<void> {
    const [accountId] = await idsWhere(t.host.api, 'Accounts', 'accountname', account);
    const [contactId] = await idsWhere(t.host.api, 'Contacts', 'email', email);
    for (const title of titles) await t.host.api.records.create('HelpDesk', { values: { ticket_title: title, status: 'Open', contact_id: contactId!, account_id: accountId! } });
  }

  async function titles(client: ApiClient, query: string): Promise<string[]> {
    const res = await client.get(`/modules/HelpDesk/records?pageSize=100&${query}`);
    expect(res.status, query).to.equal(200);
    return res.body.rows.map((r: any) => r.values.ticket_title).sort();
  }
  const search = (client: ApiClient, text: string) => titles(client, `search=${encodeURIComponent(text)}`);
  const column = (client: ApiClient, text: string) => titles(client, `filter[ticket_title]=${encodeURIComponent(text)}`);

  before(async () => {
    t = await startApiHost();
    await ticketsOf('Acme Ltd', JANE, JANES);
    await ticketsOf('Rossi SpA', 'mario.rossi@example.com', MARIOS);
    jane = await signedIn(t, JANE);
    mario = await signedIn(t, MARIO);
    marioIt = { ...mario, get: (path, headers) => mario.get(path, { 'accept-language': 'it', ...headers }) };
  });
  after(async () => t?.stop());

  it('takes %, _, \\, quotes, brackets, * and ? literally, alone or in a word, in the general and the column search', async () => {
    for (const find of [search, column]) {
      expect(await find(jane, '%')).to.deep.equal(['Zq 100% done']);
      expect(await find(jane, '0% d')).to.deep.equal(['Zq 100% done']);
      expect(await find(jane, '_')).to.deep.equal(['Zq 50_50']);
      expect(await find(jane, '\\')).to.deep.equal(['Zq C:\\path']);
      expect(await find(jane, "'")).to.deep.equal(["Zq O'Brien"]);
      expect(await find(jane, '"hi"')).to.deep.equal(['Zq say "hi"']);
      expect(await find(jane, '[urgent]')).to.deep.equal(['Zq [urgent]']);
      expect(await find(jane, ']')).to.deep.equal(['Zq [urgent]']);
      expect(await find(jane, '*')).to.deep.equal(['Zq a*b?']);
      expect(await find(jane, '?')).to.deep.equal(['Zq a*b?']);
      for (const nothing of ['%%', '%_%', '_%', '\\%', '*?*', '[a-z]', "' OR '1'='1", '%\' --']) expect(await find(jane, nothing), nothing).to.deep.equal([]);
    }
  });

  it('ignores the case of every letter and counts accents, by the value and by an option’s label', async () => {
    for (const find of [search, column]) {
      expect(await find(jane, 'zQ MARIO ROSSI')).to.deep.equal(['Zq Mario Rossi']);
      expect(await find(jane, 'città')).to.deep.equal(['Zq CITTÀ']);
      expect(await find(jane, 'MÜLLER')).to.deep.equal(['Zq Müller']);
      expect(await find(jane, 'PERCHÉ')).to.deep.equal(['Zq perché']);
      expect(await find(jane, 'perche')).to.deep.equal([]);
      expect(await find(jane, '🎉')).to.deep.equal(['Zq 🎉 party']);
      expect(await find(jane, '😀')).to.deep.equal([]);
    }
    // An Italian customer finds an option by its label, whatever its case; the stored value too.
    const open = (await mario.get('/modules/HelpDesk/records?pageSize=100&filter[status]=Open')).body.total;
    expect(open).to.be.greaterThan(0);
    for (const text of ['aperto', 'APERTO', 'Apert', 'Open', 'OPEN']) expect((await marioIt.get(`/modules/HelpDesk/records?search=${text}`)).body.total, text).to.equal(open);
  });

  it('finds what a search pasted with spaces, a tab, a no-break or a zero-width space around or inside it names', async () => {
    for (const find of [search, column]) {
      for (const text of ['  Mario Rossi  ', 'Mario  Rossi', 'Mario\tRossi', 'Mario\u00a0Rossi', 'Mario Rossi\u200b', '\u200bMario\u2060 Rossi', '\ufeffMario Rossi']) {
        expect(await find(jane, text), JSON.stringify(text)).to.deep.equal(['Zq Mario Rossi']);
      }
    }
  });

  it('never finds everything for a blank or unreadable search, nor breaks on a long one', async () => {
    const all = (await jane.get('/modules/HelpDesk/records?pageSize=100')).body.total;
    expect((await jane.get('/modules/HelpDesk/records?search=%00')).body.total).to.equal(0);
    expect((await jane.get('/modules/HelpDesk/records?filter[ticket_title]=%00')).body.total).to.equal(0);
    expect((await jane.get('/modules/HelpDesk/records?search=%25%00')).body.total).to.equal(0);
    // 200 characters at most (the API says so as a 400); a page takes the first 200.
    expect((await jane.get(`/modules/HelpDesk/records?search=${'%25'.repeat(201)}`)).status).to.equal(400);
    expect(await search(jane, '%'.repeat(200))).to.deep.equal([]);
    expect(await search(jane, '🎉'.repeat(200))).to.deep.equal([]);
    const page = await pageSignedIn(t, JANE);
    // 10,000 characters, as a hand-typed address can send (the box takes 200); Node refuses a longer address (431).
    for (const q of [`${'x'.repeat(9_000)}${'%'.repeat(300)}`, `${'🎉'.repeat(100)}${'x'.repeat(9_900)}`, `${'x'.repeat(9_990)}\u0000`]) {
      const res = await page.get(`/m/HelpDesk?q=${encodeURIComponent(q)}`);
      expect(res.response.status, `${q.length} ${encodeURIComponent(q).length}`).to.equal(200);
      expect(res.html).not.to.include('Zq ');
    }
    expect(all).to.be.greaterThan(JANES.length);
  });

  it('refuses text and wildcards typed into a number or a date column, never listing everything for them', async () => {
    const columns = (await jane.get('/modules/Invoice/records')).body.searchable;
    expect(columns).to.include.members(['invoicedate', 'total']);
    for (const field of ['invoicedate', 'total']) {
      for (const text of ['abc', '%', '_', '*', '1%', '2026-%', '\u0000', 'x\u00a0']) {
        const res = await jane.get(`/modules/Invoice/records?filter[${field}]=${encodeURIComponent(text)}`);
        expect(res.status, `${field} ${JSON.stringify(text)}`).to.equal(400);
        expect(res.body.error.problems.map((p: any) => [p.field, p.code]), text).to.deep.equal([[`filter[${field}]`, 'invalid-value']]);
      }
    }
    // A column search by an option's label is not a stored value: an exact value only (the page offers the values in a list).
    expect((await marioIt.get('/modules/HelpDesk/records?filter[status]=Aperto')).body.total).to.equal(0);
    expect((await marioIt.get('/modules/HelpDesk/records?filter[status]=open')).body.total).to.equal(0);
  });

  it('keeps a search within the customer’s scope', async () => {
    expect(await search(jane, 'Mario')).to.deep.equal(['Zq Mario Rossi']);
    expect(await search(mario, '%')).to.deep.equal(['Zq 100% Mario']);
    expect(await search(mario, 'CITTÀ')).to.deep.equal(['Zq città di Mario']);
    expect(await column(mario, '[')).to.deep.equal(['Zq [Mario]']);
    expect(await search(jane, 'zq')).to.deep.equal([...JANES].sort());
  });

  it('never searches a field the profile hides, by any route, and refuses it as a field that does not exist', async () => {
    const [accountId] = await idsWhere(t.host.api, 'Accounts', 'accountname', 'Acme Ltd');
    const [contactId] = await idsWhere(t.host.api, 'Contacts', 'email', JANE);
    await t.host.api.records.create('HelpDesk', { values: { ticket_title: 'Zq hidden priority', status: 'Open', priority: 'Urgent', contact_id: contactId!, account_id: accountId!, description: 'Kanarienvogel' } });
    const original = (await defaultProfile(t.host.api)).document.modules.find((entry) => entry.module === 'HelpDesk')!;
    const janeIt = { ...jane, get: (path: string) => jane.get(path, { 'accept-language': 'it' }) } as ApiClient;
    try {
      expect(await search(jane, 'Urgent')).to.include('Zq hidden priority');
      expect(await search(janeIt, 'urgente')).to.include('Zq hidden priority');
      await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, fields: { ...entry.fields, priority: 'hidden', description: 'hidden' } }));
      for (const text of ['Urgent', 'urgente', 'Kanarienvogel']) {
        expect(await search(jane, text), text).not.to.include('Zq hidden priority');
        expect(await search(janeIt, text), text).not.to.include('Zq hidden priority');
      }
      for (const field of ['priority', 'description']) {
        for (const value of ['Urgent', 'Kanarienvogel', 'x']) {
          const hidden = await jane.get(`/modules/HelpDesk/records?filter[${field}]=${value}`);
          const none = await jane.get(`/modules/HelpDesk/records?filter[nosuchfield]=${value}`);
          expect(hidden.status, field).to.equal(400);
          expect(hidden.text.replace(field, 'nosuchfield'), field).to.equal(none.text);
          expect((await jane.get(`/modules/HelpDesk/export.csv?filter[${field}]=${value}`)).status, field).to.equal(400);
        }
      }
      const page = await pageSignedIn(t, JANE);
      // A hand-typed column search of a hidden field is left out (the page says so): the list is the same whatever it names.
      const ids = async (query: string) => [...(await page.get(`/m/HelpDesk?${query}`)).html.matchAll(/\/portal\/m\/HelpDesk\/(\d+)/g)].map((m) => m[1]).join();
      const unfiltered = await ids('f_nosuchfield=x');
      for (const query of ['f_priority=Urgent', 'f_priority=Low', 'f_description=Kanarienvogel', 'f_description=nothing']) expect(await ids(query), query).to.equal(unfiltered);
      for (const query of ['q=Kanarienvogel', 'q=Urgent', 'q=urgente']) expect((await page.get(`/m/HelpDesk?${query}`)).html, query).not.to.include('Zq hidden priority');
    } finally {
      await changeModule(t.host.api, 'HelpDesk', () => original);
    }
  });
});
