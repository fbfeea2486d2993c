/**
 * How a field's value reads to a customer, in the one form the portal pages and the portal's mails
 * share: dates in the customer's language as their region writes it (`formattingLocale`: `en-GB`
 * `6 Dec 2026`, `en-US` `Dec 6, 2026`), numbers in their language (Intl; date-times in the CRM's time zone),
 * booleans as Yes / No, picklist values by their labels in the customer's language (where the host
 * gives them; else as stored), references by the label the access layer resolved within scope (a
 * page links them when the customer may open the record). Every result is plain text, for
 * auto-escaping templates.
 */
import { optionText, type PortalField, type PortalRecordView, type ReferenceLabel } from '../access/portal-access.js';
import type { FieldValue, LanguageCode } from '../host-contract/index.js';
import type { Translator } from './translator.js';

export { optionText };

export interface ShownValue {
  readonly text: string;
  /** A link for references, e-mail addresses and web addresses. */
  readonly href?: string;
  /** Long texts keep their line breaks. */
  readonly long?: boolean;
  /** Not a value: a placeholder shown in a quieter style. */
  readonly muted?: boolean;
  readonly empty: boolean;
}

export interface DisplayOptions {
  readonly language: LanguageCode;
  /** The locale dates are written in: `language`, or a region of it the customer asks for (`en-GB`; `formattingLocale`). */
  readonly locale: string;
  readonly timeZone: string;
  readonly yes: string;
  readonly no: string;
  /** A reference to a record outside the customer's scope (a colleague's contact): set, but not theirs to see. */
  readonly notShown?: string;
  /** The link of a record, e.g. `/portal/m/Accounts/4`. */
  readonly recordHref: (module: string, id: number) => string;
  /** Whether the customer may open records of a module. */
  readonly opens: (module: string) => boolean;
  /** The module whose values are shown, when a page shows one module's (its file sizes read as KB / MB). */
  readonly module?: string;
}

/** Fields holding a file's size in bytes, by module. */
const FILE_SIZE_FIELDS: Readonly<Record<string, string>> = { Documents: 'filesize' };

/** A file's size for people: bytes, KB or MB (1024-based), the number in the customer's language. */
export function formatSize(bytes: number, language: string): string {
  const units = ['B', 'KB', 'MB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(language, { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)} ${units[unit]}`;
}

const EMPTY: ShownValue = { text: '', empty: true };

type FormatKind = 'date' | 'datetime' | 'integer' | 'decimal' | 'currency';
/**
 * Numbers group their thousands from four digits on (`useGrouping: 'always'`): CLDR's Italian data
 * groups only from five (`3800,00` beside `12.345,00` in one column), where Italian documents write
 * `3.800,00`.
 */
const FORMAT_OPTIONS: Readonly<Record<FormatKind, Intl.DateTimeFormatOptions & Intl.NumberFormatOptions>> = {
  date: { dateStyle: 'medium', timeZone: 'UTC' },
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
  integer: { maximumFractionDigits: 0, useGrouping: 'always' },
  decimal: { maximumFractionDigits: 6, useGrouping: 'always' },
  currency: { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: 'always' },
};

/**
 * Formatters made once per kind, locale and time zone: building an Intl formatter costs far more
 * than using one, and a list page formats every date and amount cell. Bounded: locales (a language
 * and the regions browsers name) and time zones are few; past the bound the oldest made goes, so a
 * flood of odd regions costs building their formatters and never stops the caching of the rest.
 */
const formatters = new Map<string, { format(value: Date | number): string }>();
const MAX_FORMATTERS = 1000;

function formatter(kind: FormatKind, locale: string, timeZone = 'UTC'): { format(value: Date | number): string } {
  const key = `${kind}|${locale}|${timeZone}`;
  let made = formatters.get(key);
  if (!made) {
    made = kind === 'date' || kind === 'datetime'
      ? new Intl.DateTimeFormat(locale, kind === 'datetime' ? { ...FORMAT_OPTIONS.datetime, timeZone } : FORMAT_OPTIONS.date)
      : new Intl.NumberFormat(locale, FORMAT_OPTIONS[kind]);
    if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value!);
    formatters.set(key, made);
  }
  return made;
}

/** A count or a position in the page's language (`1.234` in Italian, `1,234` in English). */
export function formatCount(value: number, language: LanguageCode): string {
  return formatter('integer', language).format(value);
}

/** A day (`2026-12-06`) as `locale` writes it: a language (`en`) or a region of it (`en-GB`, see `DisplayOptions.locale`). */
export function formatDate(value: string, locale: string): string {
  const date = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return value;
  return formatter('date', locale).format(date);
}

/** An instant as `locale` writes it, at its time in `timeZone`. */
export function formatDateTime(value: string, locale: string, timeZone: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return formatter('datetime', locale, timeZone).format(date);
}

export function showValue(field: Pick<PortalField, 'name' | 'type' | 'optionLabels'>, value: FieldValue | undefined, reference: ReferenceLabel | null | undefined, options: DisplayOptions): ShownValue {
  if (field.type === 'boolean') return { text: value === true ? options.yes : options.no, empty: false };
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return EMPTY;
  if (options.module !== undefined && FILE_SIZE_FIELDS[options.module] === field.name && field.type === 'integer' && Number.isFinite(Number(value))) {
    return { text: formatSize(Number(value), options.language), empty: false };
  }
  switch (field.type) {
    case 'date':
      return { text: formatDate(String(value), options.locale), empty: false };
    case 'datetime':
      return { text: formatDateTime(String(value), options.locale, options.timeZone), empty: false };
    case 'integer':
      return { text: formatter('integer', options.language).format(Number(value)), empty: false };
    case 'decimal':
      return { text: formatter('decimal', options.language).format(Number(value)), empty: false };
    case 'currency':
      return { text: formatter('currency', options.language).format(Number(value)), empty: false };
    case 'picklist':
      return { text: optionText(field, String(value)), empty: false };
    case 'multipicklist':
      // A form shown again holds what the browser sent: one chosen option is a plain string.
      return { text: (Array.isArray(value) ? value.map(String) : [String(value)]).map((v) => optionText(field, v)).join(', '), empty: false };
    case 'reference':
      // Only what the access layer resolved within the customer's scope; never the raw id. A record
      // out of scope is said to be there ("—" read as "nobody").
      if (!reference) return options.notShown && typeof value === 'number' ? { text: options.notShown, empty: false, muted: true } : EMPTY;
      return { text: reference.label, empty: false, ...(options.opens(reference.module) ? { href: options.recordHref(reference.module, reference.id) } : {}) };
    case 'email':
      return { text: String(value), href: `mailto:${String(value)}`, empty: false };
    case 'url':
      return /^https?:\/\//i.test(String(value)) ? { text: String(value), href: String(value), empty: false } : { text: String(value), empty: false };
    case 'textarea':
      return { text: String(value), long: true, empty: false };
    default:
      return { text: String(value), empty: false };
  }
}

/** A record's fields as its page shows them (a record's page, a ticket's). */
export function shownFields(fields: readonly PortalField[], record: Pick<PortalRecordView, 'values' | 'references'>, options: DisplayOptions) {
  return fields.map((field) => ({ label: field.label, name: field.name, shown: showValue(field, record.values[field.name], record.references[field.name], options) }));
}

/**
 * How a customer reads values in `language`, dates as `locale` writes them (the language, or a
 * region of it), the CRM's date-times in `timeZone`: the words of a checkbox and of a reference out
 * of their scope. Links nothing (a mail's values are text); a page adds its links
 * (`WorkspaceFrame.display`).
 */
export function readingOptions(translator: Pick<Translator, 't'>, language: LanguageCode, timeZone: string, locale: string = language): DisplayOptions {
  return {
    language,
    locale,
    timeZone,
    yes: translator.t(language, 'records.yes'),
    no: translator.t(language, 'records.no'),
    notShown: translator.t(language, 'records.notShown'),
    recordHref: () => '',
    opens: () => false,
  };
}
