/**
 * Values of module fields between the contract and the database: checked and converted on the
 * way in (writes and query conditions), normalised on the way out (every dialect returns
 * booleans, decimals and dates its own way). Problems name the field, never the value.
 */
import type { DatabaseDialect, FieldDefinition, FieldType, FieldValue } from '../../plugin/host-contract/index.js';
import { DEFAULT_TEXT_LENGTH } from '../registry/module-definition-validation.js';

export const MAX_TEXTAREA_LENGTH = 100_000;
const MAX_INTEGER = 2_147_483_647;
const MIN_INTEGER = -2_147_483_648;

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/** What the database column receives, or the problem with the value. */
type Encoded = { readonly ok: true; readonly value: unknown; readonly normalized: FieldValue } | { readonly ok: false; readonly problem: string };

const ok = (value: unknown, normalized: FieldValue = value as FieldValue): Encoded => ({ ok: true, value, normalized });
const bad = (problem: string): Encoded => ({ ok: false, problem });

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\]+$/;
const PHONE = /^\+?[0-9 ()./-]{3,40}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$/i;
const BARE_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d{1,5})?([/?#]\S*)?$/i;

export function isValidDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Parses an ISO 8601 date-time (UTC when it names no zone); null when it is not one. */
export function parseDateTime(value: string): Date | null {
  const match = DATETIME.exec(value.trim());
  if (!match || !isValidDate(match[1]!)) return null;
  let zone = match[3] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const time = match[2]!.length === 5 ? `${match[2]}:00` : match[2]!;
  const date = new Date(`${match[1]}T${time}${zone.toUpperCase()}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The text a DATE(3) column receives: UTC with milliseconds (PostgreSQL's timestamptz gets the zone). */
export function dateTimeParameter(date: Date, dialect: DatabaseDialect): string {
  const text = date.toISOString().slice(0, 23).replace('T', ' ');
  return dialect === 'postgres' ? `${text}+00` : text;
}

export function booleanParameter(value: boolean, dialect: DatabaseDialect): boolean | number {
  return dialect === 'postgres' ? value : value ? 1 : 0;
}

/**
 * PostgreSQL refuses NUL characters in text, and a lone UTF-16 surrogate (JSON's `"\ud800"`) is no
 * character at all: the MariaDB connector stores it as `?`, the others as U+FFFD. Both are refused
 * everywhere alike.
 */
export function isPlainText(value: string): boolean {
  return !value.includes('\u0000') && !/\p{Cs}/u.test(value);
}

function integerOf(value: unknown): number | null {
  const number = typeof value === 'string' && /^-?\d{1,10}$/.test(value.trim()) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= MIN_INTEGER && number <= MAX_INTEGER ? number : null;
}

function decimalOf(value: unknown, places: number): number | null {
  const number = typeof value === 'string' && /^-?\d{1,14}(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || Math.abs(number) >= 1e14) return null;
  const factor = 10 ** places;
  return Math.round(number * factor) / factor;
}

function booleanOf(value: unknown): boolean | null {
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  return null;
}

function isWebAddress(value: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }
  return BARE_HOST.test(value);
}

function textLimit(field: FieldDefinition): number {
  return field.type === 'textarea' ? MAX_TEXTAREA_LENGTH : field.type === 'text' ? (field.maxLength ?? DEFAULT_TEXT_LENGTH) : 255;
}

/**
 * Checks a value written to a field and converts it for the column. Empty values (null, '', [])
 * become NULL; whether that is allowed (mandatory) is the caller's question.
 */
export function encodeFieldValue(field: FieldDefinition, value: unknown, dialect: DatabaseDialect): Encoded {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return ok(null, null);
  switch (field.type) {
    case 'text':
    case 'textarea':
    case 'phone':
    case 'email':
    case 'url':
    case 'picklist': {
      if (typeof value !== 'string' || !isPlainText(value)) return bad('must be text');
      const limit = textLimit(field);
      if ([...value].length > limit) return bad(`is longer than ${limit} characters`);
      if (field.type === 'email' && !EMAIL.test(value)) return bad('must be an email address');
      if (field.type === 'phone' && !PHONE.test(value)) return bad('must be a phone number');
      if (field.type === 'url' && !isWebAddress(value)) return bad('must be a web address (http or https)');
      if (field.type === 'picklist' && !field.picklistValues?.includes(value)) return bad('is not one of the allowed values');
      return ok(value);
    }
    case 'multipicklist': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return bad('must be a list of allowed values');
      const values = [...new Set(value as string[])];
      if (values.some((v) => !field.picklistValues?.includes(v))) return bad('is not one of the allowed values');
      return ok(JSON.stringify(values), values);
    }
    case 'integer': {
      const number = integerOf(value);
      return number === null ? bad('must be a whole number') : ok(number);
    }
    case 'reference': {
      const id = integerOf(value);
      return id === null || id < 1 ? bad('must be the id of a record') : ok(id);
    }
    case 'decimal':
    case 'currency': {
      const number = decimalOf(value, field.type === 'currency' ? 2 : 4);
      return number === null ? bad('must be a number below 100,000,000,000,000') : ok(number);
    }
    case 'boolean': {
      const flag = booleanOf(value);
      return flag === null ? bad('must be true or false') : ok(booleanParameter(flag, dialect), flag);
    }
    case 'date':
      return typeof value === 'string' && isValidDate(value) ? ok(value) : bad('must be a date (YYYY-MM-DD)');
    case 'datetime': {
      const date = typeof value === 'string' ? parseDateTime(value) : null;
      return date ? ok(dateTimeParameter(date, dialect), date.toISOString()) : bad('must be a date and time (ISO 8601)');
    }
  }
}

/** The type a query treats a column as: a field's type, or that of a system column. */
export type ColumnType = FieldType | 'id';

/**
 * Converts a value compared with a column in a condition; undefined when it cannot match
 * anything of that type (a word searched in a number column, a malformed date).
 */
export function conditionParameter(type: ColumnType, value: unknown, dialect: DatabaseDialect): unknown {
  if (typeof value === 'string' && !isPlainText(value)) return undefined;
  switch (type) {
    case 'integer':
    case 'reference':
    case 'id':
      return integerOf(value) ?? undefined;
    case 'decimal':
    case 'currency':
      return decimalOf(value, 6) ?? undefined;
    case 'boolean': {
      const flag = booleanOf(value);
      return flag === null ? undefined : booleanParameter(flag, dialect);
    }
    case 'date':
      return typeof value === 'string' && isValidDate(value) ? value : undefined;
    case 'datetime': {
      const date = typeof value === 'string' ? parseDateTime(isValidDate(value) ? `${value}T00:00:00Z` : value) : null;
      return date ? dateTimeParameter(date, dialect) : undefined;
    }
    default:
      return typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  }
}

/** Normalises a datetime as the database returned it to ISO 8601 in UTC. */
export function decodeDateTime(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  const date = parseDateTime(String(value));
  return date ? date.toISOString() : String(value);
}

function decodeDate(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  // MariaDB's connector may hand back a Date at midnight of the session's zone, which is UTC here.
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

/** Normalises a column value as the dialect returned it to the contract's representation. */
export function decodeFieldValue(field: FieldDefinition, value: unknown): FieldValue {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case 'integer':
    case 'reference':
    case 'decimal':
    case 'currency':
      return Number(value);
    case 'boolean':
      return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
    case 'date':
      return decodeDate(value);
    case 'datetime':
      return decodeDateTime(value);
    case 'multipicklist': {
      try {
        const parsed: unknown = JSON.parse(String(value));
        return Array.isArray(parsed) ? parsed.map(String) : [];
      } catch {
        return [];
      }
    }
    default:
      return String(value);
  }
}
