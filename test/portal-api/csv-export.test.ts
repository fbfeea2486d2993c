/**
 * The file name of a list export, the same from the pages and the API: the list as the customer
 * reads it and the day in the CRM's time zone, safe in `Content-Disposition` — ASCII in
 * `filename`, the whole name in RFC 5987's `filename*`.
 */
import { expect } from 'chai';
import type { PortalField, PortalRow } from '../../plugin/access/portal-access.js';
import { COMMA_CSV, csvCell, csvFormatFor, csvLine, csvRow, exportDisposition } from '../../plugin/portal/api/csv-export.js';

describe('list export file name', () => {
  it('names the file after the list and the day in the CRM’s time zone', () => {
    // 22:30 UTC on 31 March is already 1 April in Rome.
    expect(exportDisposition('Ticket di assistenza', 'Europe/Rome', new Date('2026-03-31T22:30:00Z'))).to.equal(
      `attachment; filename="Ticket di assistenza 2026-04-01.csv"; filename*=UTF-8''Ticket%20di%20assistenza%202026-04-01.csv`,
    );
    expect(exportDisposition('Trouble Tickets', 'UTC', new Date('2026-03-31T22:30:00Z'))).to.equal(
      `attachment; filename="Trouble Tickets 2026-03-31.csv"; filename*=UTF-8''Trouble%20Tickets%202026-03-31.csv`,
    );
  });

  it('keeps a name with accents whole in filename* and readable in the ASCII filename', () => {
    expect(exportDisposition('Attività (aperte)', 'UTC', new Date('2026-12-05T10:00:00Z'))).to.equal(
      `attachment; filename="Attivit_ (aperte) 2026-12-05.csv"; filename*=UTF-8''Attivit%C3%A0%20%28aperte%29%202026-12-05.csv`,
    );
  });

  it('leaves out what a file name cannot hold and invisible characters that would disguise it', () => {
    // A right-to-left override (U+202E) would show `Files\u202Eexe. 2026-12-05.csv` as if it ended in `.exe`.
    const header = exportDisposition('Q/A: "Docs"\\Files\u202Eexe.\r\n', 'UTC', new Date('2026-12-05T10:00:00Z'));
    expect(header).to.equal(`attachment; filename="Q-A- -Docs--Filesexe. 2026-12-05.csv"; filename*=UTF-8''Q-A-%20-Docs--Filesexe.%202026-12-05.csv`);
    // Nothing left of the name: the day alone.
    expect(exportDisposition(' \u0007 ', 'UTC', new Date('2026-12-05T10:00:00Z'))).to.equal(`attachment; filename="2026-12-05.csv"; filename*=UTF-8''2026-12-05.csv`);
  });
});

describe('list export cells a spreadsheet would run', () => {
  it('neutralises a formula behind leading blanks, a full-width sign or a DDE pipe', () => {
    // Spreadsheets trim leading blanks (Google Sheets, LibreOffice's "trim spaces") and East Asian
    // Excel reads a full-width sign as its ASCII twin; `|` starts a DDE call in older Excel.
    const attacks = [
      ' =HYPERLINK("http://evil.example")',
      '\u00A0=1+1',
      '\u3000+1+cmd',
      '\n=1+1',
      ' \t@SUM(1)',
      '\uFF1D1+1',
      '\uFF0B1+1',
      '\uFF0D1+1',
      '\uFF20SUM(1)',
      '\uFF5Ccmd',
      "|cmd' /C calc'!A0",
    ];
    for (const text of attacks) {
      const cell = csvCell(text);
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      expect(unquoted, JSON.stringify(text)).to.equal(`'${text}`);
    }
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['Printer jammed', 'a = b', 'x-ray', 'mail@example.com', ' padded ']) {
      const cell = csvCell(text);
      expect(cell.startsWith("'") || cell.startsWith(`"'`), text).to.equal(false);
    }
  });
});

describe('list export separator in the customer’s language', () => {
  const field = (name: string, type: PortalField['type']): PortalField => ({ name, label: name, type, access: 'readwrite', mandatory: false });
  const columns = [field('title', 'text'), field('hours', 'decimal'), field('count', 'integer')];
  const row = (title: string): PortalRow => ({ id: 1, label: title, values: { title, hours: -1234.5, count: 7 }, references: {}, createdAt: '', modifiedAt: '' });
  const words = { yes: 'Sì', no: 'No' };

  it('writes `;` and decimal commas where the language writes decimals with a comma (Excel splits on `;` there)', () => {
    const italian = csvFormatFor('it', 'Europe/Rome');
    expect(italian).to.deep.equal({ separator: ';', decimalComma: true, timeZone: 'Europe/Rome' });
    expect(csvRow(columns, row('Stampante, rotta'), words, italian)).to.equal('Stampante, rotta;-1234,5;7\r\n');
    expect(csvLine(['a', 'b'], italian)).to.equal('a;b\r\n');
  });

  it('keeps the comma file in English, as the API writes it', () => {
    expect(csvFormatFor('en', 'Europe/Rome')).to.deep.equal({ ...COMMA_CSV, timeZone: 'Europe/Rome' });
    expect(csvRow(columns, row('Printer; broken'), words, COMMA_CSV)).to.equal('Printer; broken,-1234.5,7\r\n');
    expect(csvRow(columns, row('Printer, broken'), words)).to.equal('"Printer, broken",-1234.5,7\r\n');
  });

  it('quotes a text holding the separator, so that no part of it becomes a cell of its own, and still neutralises formulas', () => {
    const italian = csvFormatFor('it', 'Europe/Rome');
    // Unquoted, `;=HYPERLINK(…)` would start a new cell with a formula in a `;` file.
    expect(csvCell('x;=HYPERLINK("http://evil.example")', italian)).to.equal('"x;=HYPERLINK(""http://evil.example"")"');
    expect(csvCell('=1+1', italian)).to.equal("'=1+1");
    expect(csvRow(columns, row('@SUM(1);x'), words, italian)).to.equal(`"'@SUM(1);x";-1234,5;7\r\n`);
  });
});
