/**
 * How the portal pages show and edit field values: dates and numbers in the customer's
 * language (Intl), booleans as Yes / No, picklist values by their labels in the customer's language
 * (where the host gives them; else as stored), references as links to the
 * record when the customer may open it (the access layer resolved its label within scope), and
 * the form control of each field type. Every result is plain text for auto-escaping templates.
 */
import { optionText, type PortalField, type PortalRecordView, type ReferenceLabel } from '../../access/portal-access.js';

export { optionText };
import type { FieldValue, LanguageCode } from '../../host-contract/index.js';

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
 * Formatters made once per kind, language and time zone: building an Intl formatter costs far more
 * than using one, and a list page formats every date and amount cell. Bounded (languages and time
 * zones are few; a flood of odd ones only stops the caching).
 */
const formatters = new Map<string, { format(value: Date | number): string }>();

function formatter(kind: FormatKind, language: LanguageCode, timeZone = 'UTC'): { format(value: Date | number): string } {
  const key = `${kind}|${language}|${timeZone}`;
  let made = formatters.get(key);
  if (!made) {
    made = kind === 'date' || kind === 'datetime'
      ? new Intl.DateTimeFormat(language, kind === 'datetime' ? { ...FORMAT_OPTIONS.datetime, timeZone } : FORMAT_OPTIONS.date)
      : new Intl.NumberFormat(language, FORMAT_OPTIONS[kind]);
    if (formatters.size < 500) formatters.set(key, made);
  }
  return made;
}

/** A count or a position in the page's language (`1.234` in Italian, `1,234` in English). */
export function formatCount(value: number, language: LanguageCode): string {
  return formatter('integer', language).format(value);
}

export function formatDate(value: string, language: LanguageCode): string {
  const date = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return value;
  return formatter('date', language).format(date);
}

export function formatDateTime(value: string, language: LanguageCode, timeZone: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return formatter('datetime', language, timeZone).format(date);
}

export function showValue(field: Pick<PortalField, 'name' | 'type' | 'optionLabels'>, value: FieldValue | undefined, reference: ReferenceLabel | null | undefined, options: DisplayOptions): ShownValue {
  if (field.type === 'boolean') return { text: value === true ? options.yes : options.no, empty: false };
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return EMPTY;
  if (options.module !== undefined && FILE_SIZE_FIELDS[options.module] === field.name && field.type === 'integer' && Number.isFinite(Number(value))) {
    return { text: formatSize(Number(value), options.language), empty: false };
  }
  switch (field.type) {
    case 'date':
      return { text: formatDate(String(value), options.language), empty: false };
    case 'datetime':
      return { text: formatDateTime(String(value), options.language, options.timeZone), empty: false };
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

export interface FormControl {
  readonly name: string;
  readonly id: string;
  readonly label: string;
  readonly mandatory: boolean;
  readonly readOnly: boolean;
  /** `input`, `textarea`, `select`, `checkbox`, or `static` (read-only: shown, not editable). */
  readonly control: 'input' | 'textarea' | 'select' | 'checkbox' | 'static';
  readonly inputType?: string;
  readonly step?: string;
  readonly multiple?: boolean;
  readonly value: string;
  readonly checked?: boolean;
  readonly options?: readonly { readonly value: string; readonly label: string; readonly selected: boolean }[];
  readonly shown?: ShownValue;
  readonly error?: string;
  readonly maxLength?: number;
}

const INPUT_TYPES: Partial<Record<PortalField['type'], { type: string; step?: string }>> = {
  text: { type: 'text' },
  email: { type: 'email' },
  phone: { type: 'tel' },
  url: { type: 'url' },
  integer: { type: 'number', step: '1' },
  decimal: { type: 'number', step: 'any' },
  currency: { type: 'number', step: '0.01' },
  date: { type: 'date' },
  datetime: { type: 'datetime-local' },
};

/**
 * A stored instant as a `datetime-local` input holds it (in UTC, see README): `YYYY-MM-DDTHH:MM`,
 * with `:SS` when it has seconds, so that saving the form unchanged keeps the instant. Null for
 * what is not a date-time with an offset (typed text shown again stays as typed).
 */
function datetimeInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  return iso.slice(17, 19) === '00' ? iso.slice(0, 16) : iso.slice(0, 19);
}

/** What a form input holds for a value: typed text stays as typed; stored values in the input's format. */
export function inputValue(field: PortalField, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' && field.type === 'datetime') {
    const utc = datetimeInput(value);
    if (utc !== null) return utc;
  }
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

export function formControl(
  field: PortalField,
  value: unknown,
  shown: ShownValue,
  error: string | undefined,
  referenceOptions: readonly { value: string; label: string }[] | undefined,
): FormControl {
  const base = { name: field.name, id: `bp-field-${field.name}`, label: field.label, mandatory: field.mandatory, ...(error ? { error } : {}) };
  if (field.access !== 'readwrite') return { ...base, readOnly: true, control: 'static', value: '', shown };
  if (field.type === 'textarea') return { ...base, readOnly: false, control: 'textarea', value: inputValue(field, value) };
  if (field.type === 'boolean') return { ...base, readOnly: false, control: 'checkbox', value: 'on', checked: value === true || value === 'on' || value === 'true' };
  if (field.type === 'picklist' || field.type === 'multipicklist') {
    const chosen = new Set(Array.isArray(value) ? value.map(String) : value === null || value === undefined ? [] : [String(value)]);
    const values = [...(field.options ?? [])];
    // A stored value the owner no longer sees stays selectable so that an edit does not clear it silently.
    for (const v of chosen) if (v !== '' && !values.includes(v)) values.push(v);
    const options = values.map((v) => ({ value: v, label: optionText(field, v), selected: chosen.has(v) }));
    return { ...base, readOnly: false, control: 'select', multiple: field.type === 'multipicklist', value: '', options: field.type === 'picklist' ? [{ value: '', label: '—', selected: chosen.size === 0 }, ...options] : options };
  }
  if (field.type === 'reference') {
    if (!referenceOptions) return { ...base, readOnly: true, control: 'static', value: '', shown };
    const current = value === null || value === undefined ? '' : String(value);
    return {
      ...base,
      readOnly: false,
      control: 'select',
      value: '',
      options: [{ value: '', label: '—', selected: current === '' }, ...referenceOptions.map((o) => ({ ...o, selected: o.value === current }))],
    };
  }
  const input = INPUT_TYPES[field.type] ?? { type: 'text' };
  const shownValue = inputValue(field, value);
  // A datetime with seconds: the input's default step (a minute) would refuse the value it holds.
  const step = field.type === 'datetime' && /T\d{2}:\d{2}:\d{2}/.test(shownValue) ? '1' : input.step;
  return { ...base, readOnly: false, control: 'input', inputType: input.type, ...(step ? { step } : {}), value: shownValue };
}
