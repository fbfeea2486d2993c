/**
 * The CSV of a list export: UTF-8 with a byte-order mark (so spreadsheets read accents), comma
 * separated, CRLF line ends, quoted where needed; a text cell that a spreadsheet would take for
 * a formula (it starts with `=`, `+`, `-`, `@`, `|`, a tab or a carriage return, also behind blanks
 * or as a full-width sign) is prefixed with `'`.
 * Numbers stay numbers: they cannot be formulas.
 * The page's export is written for the customer's spreadsheet: where their language writes decimals
 * with a comma (Italian), Excel splits a CSV on `;`, so the file is `;`-separated with decimal commas
 * (`csvFormatFor`); a `sep=` line instead would be a row of data to LibreOffice, Google Sheets and
 * pandas, and Excel drops it behind a byte-order mark. Its times are on the CRM's clock, as the page
 * shows them. The API's export stays the comma file, its times the stored instants in UTC.
 */
import type { Response } from 'express';
import type { FieldValue } from '../../host-contract/index.js';
import type { PortalAccessContext, PortalField, PortalRow } from '../../access/portal-access.js';
import { attachmentDisposition } from '../../access/upload-checks.js';
import { todayIn } from '../../auth/support-period.js';
import { wallClockOf } from '../../access/wall-clock.js';

export const CSV_BOM = '\uFEFF';
/**
 * A cell a spreadsheet would run: it starts with a tab or CR, or with `=`, `+`, `-`, `@` or a DDE
 * pipe `|` — also behind blanks (Google Sheets and LibreOffice trim them on import) and as the
 * full-width signs East Asian Excel reads as their ASCII twins (`＝`, `＋`, `－`, `＠`, `｜`).
 */
const FORMULA_START = /^(?:[\t\r]|\s*[=+\-@|\uFF1D\uFF0B\uFF0D\uFF20\uFF5C])/u;
/** What a file name cannot hold on Windows, macOS or Linux. */
const NOT_IN_FILE_NAMES = /[\\/:*?"<>|]/g;
/** Control and invisible format characters: a right-to-left override could make `.csv` read as `.exe`. */
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;

/**
 * The `Content-Disposition` of a list export, the same from the pages and the API: the list as
 * the customer reads it and the day in the CRM's time zone (`Ticket di assistenza 2026-12-05.csv`),
 * in ASCII in `filename` and whole in RFC 5987's `filename*`.
 */
export function exportDisposition(title: string, timeZone: string, now: Date = new Date()): string {
  const name = title.replace(INVISIBLE, '').replace(NOT_IN_FILE_NAMES, '-').replace(/\s+/g, ' ').trim();
  const day = todayIn(timeZone, now);
  return attachmentDisposition(`${name === '' ? day : `${name} ${day}`}.csv`);
}

/** A module's list export, named after its label in the customer's language. */
export function listExportDisposition(access: PortalAccessContext, module: string): string {
  const label = access.module(module).definition.label as Record<string, string | undefined>;
  return exportDisposition(label[access.language] || label.en || module, access.timeZone);
}

/** A file's separator, how its numbers write decimals, and on which clock its times are written. */
export interface CsvFormat {
  readonly separator: ',' | ';';
  readonly decimalComma: boolean;
  /**
   * The page's export: a datetime is written on this zone's clock (the CRM's, as the page shows
   * it), `2026-10-26 00:30` as spreadsheets read a date and time. Without it (the API's file) the
   * stored instant in UTC, `2026-10-25T23:30:00.000Z`.
   */
  readonly timeZone?: string;
}

/** The API's file (and the page's in English): comma separated, decimal points. */
export const COMMA_CSV: CsvFormat = { separator: ',', decimalComma: false };
const SEMICOLON_CSV: CsvFormat = { separator: ';', decimalComma: true };

/**
 * The file a customer's spreadsheet reads in their language: `;` and decimal commas where decimals
 * take a comma; times on the CRM's clock (`timeZone`), the page's.
 */
export function csvFormatFor(language: string, timeZone: string): CsvFormat {
  const decimal = new Intl.NumberFormat(language).formatToParts(1.5).find((part) => part.type === 'decimal')?.value;
  return { ...(decimal === ',' ? SEMICOLON_CSV : COMMA_CSV), timeZone };
}

export function csvCell(text: string, format: CsvFormat = COMMA_CSV): string {
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  // A text holding the separator is quoted: unquoted, its rest would be a cell of its own (and could start a formula).
  return /["\r\n]|^\s|\s$/.test(safe) || safe.includes(format.separator) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: readonly string[], format: CsvFormat = COMMA_CSV): string {
  return `${cells.join(format.separator)}\r\n`;
}

export interface CsvWords {
  readonly yes: string;
  readonly no: string;
}

/** The raw text of one cell: references by their label (only those in scope are resolved), lists joined, times on `timeZone`'s clock when given. */
export function cellText(field: PortalField, row: PortalRow, words: CsvWords, timeZone?: string): string {
  const value: FieldValue | undefined = row.values[field.name];
  if (field.type === 'reference') return row.references[field.name]?.label ?? '';
  if (value === null || value === undefined) return '';
  if (field.type === 'datetime' && timeZone && typeof value === 'string') return wallClockOf(value, timeZone)?.replace('T', ' ') ?? value;
  if (typeof value === 'boolean') return value ? words.yes : words.no;
  if (Array.isArray(value)) return value.join('; ');
  return String(value);
}

export function csvRow(columns: readonly PortalField[], row: PortalRow, words: CsvWords, format: CsvFormat = COMMA_CSV): string {
  return csvLine(
    columns.map((column) => {
      const value = row.values[column.name];
      if (column.type !== 'reference' && typeof value === 'number') return format.decimalComma ? String(value).replace('.', ',') : String(value);
      return csvCell(cellText(column, row, words, format.timeZone), format);
    }),
    format,
  );
}

/**
 * Writes a chunk of an export, and waits while the client reads slower than the database answers:
 * what is unread stays in the database, not in the process. False once the client has gone (the
 * export stops there, nothing more is read); a client that leaves is not a fault.
 */
export function writeChunk(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk, 'utf8')) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (open: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(open);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
