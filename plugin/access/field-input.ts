/**
 * Turns what a customer sends (form strings or JSON values) into the value of a field's type,
 * or says it cannot: the same coercion for pages and the API. Dates stay `YYYY-MM-DD`; empty
 * means null.
 */
import type { FieldDefinition, FieldValue } from '../host-contract/index.js';
import { splitOffset, wallTime } from './wall-clock.js';

export const TEXT_MAX = 65535;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date-time as the instant it names, ISO 8601 in UTC; null for no real one: a real calendar day at
 * a real hour (checked as a wall time is, `wallTime`: `Date.parse` reads 30 February as 2 March and
 * 24:00 as the next day's midnight, which would store a day nobody typed), with a real offset or
 * none. Without an offset it is UTC (the API's reading), never the server's own zone; the pages read
 * a form's datetime-local box in the CRM's zone before it gets here (`wall-clock.ts`).
 */
export function instantText(text: string): string | null {
  const written = splitOffset(text);
  if (written === null || wallTime(written.local) === null) return null;
  const full = written.offsetMinutes !== null ? text : `${text}Z`;
  return Number.isNaN(Date.parse(full)) ? null : new Date(full).toISOString();
}

/**
 * What a refused value should have been, when naming it helps whoever sent it (the API's problem
 * message, a form's error): the form of the field's type, or (`max`) a text of at most that many
 * characters. `option`: only values the field offers.
 */
export type ExpectedForm = 'email' | 'url' | 'date' | 'instant' | 'integer' | 'number' | 'record-id' | 'boolean' | 'one-line' | 'text' | 'option';
export interface Refusal {
  readonly expected?: ExpectedForm;
  readonly max?: number;
}

export type Coerced = { readonly ok: true; readonly value: FieldValue } | ({ readonly ok: false } & Refusal);

/** The field types whose values are typed text, held to `textMax` characters. */
export const TYPED_TEXT: ReadonlySet<FieldDefinition['type']> = new Set(['text', 'textarea', 'email', 'phone', 'url']);

/** The most characters a text field holds: its own `maxLength`, else the column's (a textarea's, a one-line text's). */
export function textMax(field: FieldDefinition): number {
  return field.maxLength ?? (field.type === 'textarea' ? TEXT_MAX : 255);
}

/**
 * Characters no typed text holds: C0 and C1 controls (a NUL, a bell, a terminal's escape) in any
 * text; and in a one-line field (a ticket's title) a line break of any kind too, which a browser's
 * one-line box never sends but the API could: a title of two lines read in a mail's text part as
 * a second line of its own ("Customer: …"). A tab is kept, and a text of several lines keeps its
 * line breaks (CR, LF). What is around a one-line value is trimmed first, as it is stored.
 */
const CONTROL_IN_LINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/u;
const CONTROL_IN_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

const fail = (refusal: Refusal = {}): Coerced => ({ ok: false, ...refusal });
const expected = (form: ExpectedForm): Coerced => fail({ expected: form });
const ok = (value: FieldValue): Coerced => ({ ok: true, value });

/** A real calendar day written `YYYY-MM-DD`. */
export function isDateOnly(text: string): boolean {
  if (!DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

export function coerceFieldValue(field: FieldDefinition, raw: unknown): Coerced {
  if (raw === undefined || raw === null || raw === '') return ok(field.type === 'multipicklist' ? [] : field.type === 'boolean' ? false : null);
  switch (field.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return ok(raw);
      if (raw === 'on' || raw === 'true' || raw === '1' || raw === 1) return ok(true);
      if (raw === 'false' || raw === '0' || raw === 0) return ok(false);
      return expected('boolean');
    case 'integer':
    case 'decimal':
    case 'currency':
    case 'reference': {
      const form: ExpectedForm = field.type === 'reference' ? 'record-id' : field.type === 'integer' ? 'integer' : 'number';
      const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : null;
      if (text === null || !/^-?\d{1,15}(\.\d{1,6})?$/.test(text)) return expected(form);
      const value = Number(text);
      if ((field.type === 'integer' || field.type === 'reference') && !Number.isInteger(value)) return expected(form);
      if (field.type === 'reference' && value < 1) return expected(form);
      return ok(value);
    }
    case 'date':
      return typeof raw === 'string' && isDateOnly(raw.trim()) ? ok(raw.trim()) : expected('date');
    case 'datetime': {
      const instant = typeof raw === 'string' ? instantText(raw.trim()) : null;
      return instant === null ? expected('instant') : ok(instant);
    }
    case 'multipicklist': {
      const values = Array.isArray(raw) ? raw : [raw];
      if (!values.every((v): v is string => typeof v === 'string' && !longerThan(v, 1000)) || values.length > 200) return expected('option');
      return ok([...new Set(values)]);
    }
    default: {
      const form: ExpectedForm =
        field.type === 'textarea' ? 'text' : field.type === 'email' || field.type === 'url' ? field.type : field.type === 'picklist' ? 'option' : 'one-line';
      if (typeof raw !== 'string' && typeof raw !== 'number') return expected(form);
      const text = String(raw);
      const max = textMax(field);
      // A line break counts as one character, as the form's box counts it (`maxlength`), though a
      // form sends it as CR LF: a text the box took is never refused for its line breaks.
      if (longerThan(field.type === 'textarea' ? text.replace(/\r\n/g, '\n') : text, max)) return fail({ max });
      if ((field.type === 'textarea' ? CONTROL_IN_LINES : CONTROL_IN_LINE).test(field.type === 'textarea' ? text : text.trim())) return expected(form);
      if (field.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text.trim())) return expected(form);
      if (field.type === 'url' && !/^https?:\/\/\S+$/i.test(text.trim())) return expected(form);
      return ok(field.type === 'textarea' ? text : text.trim());
    }
  }
}

/**
 * Whether a text has more than `max` characters (Unicode code points, as the database's column
 * lengths count them): an emoji is one character, though two UTF-16 units in JavaScript's `length`.
 */
export function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}

/** The first `max` characters of a text, never half of an emoji (`slice` counts UTF-16 units). */
export function clipped(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  let count = 0;
  for (const character of text) {
    if (count === max) break;
    end += character.length;
    count += 1;
  }
  return text.slice(0, end);
}

/**
 * A character a person sees: not a space or line break, nor an invisible format character
 * (zero-width space and joiners, word joiner, direction marks, soft hyphen). As a JSON Schema
 * `pattern` (ajv and ECMAScript with the `u` flag) it says "not blank".
 */
export const VISIBLE_CHARACTER = '[^\\s\\p{Cf}]';
const VISIBLE = new RegExp(VISIBLE_CHARACTER, 'u');

/** A text that shows nothing: empty, spaces and line breaks, or invisible characters only. */
export function isBlankText(text: string): boolean {
  return !VISIBLE.test(text);
}

/**
 * No value: null, a list of none, or a blank text — a host stores blank text as none, so a
 * textarea (kept untrimmed) of spaces, or of zero-width spaces, does not fill a mandatory field.
 */
export function isEmptyValue(value: FieldValue | undefined): boolean {
  return value === null || value === undefined || (typeof value === 'string' && isBlankText(value)) || (Array.isArray(value) && value.length === 0);
}

/**
 * Whether a value sent for a field is the one stored: both none, the same list of values in any
 * order, a text with the same lines (a browser sends a textarea's line breaks as CRLF), or equal.
 */
export function sameValue(sent: FieldValue | undefined, stored: FieldValue | undefined): boolean {
  if (isEmptyValue(sent) || isEmptyValue(stored)) return isEmptyValue(sent) && isEmptyValue(stored);
  if (Array.isArray(sent) || Array.isArray(stored)) {
    if (!Array.isArray(sent) || !Array.isArray(stored)) return false;
    return sent.length === stored.length && sent.every((value) => stored.includes(value));
  }
  if (typeof sent === 'string' && typeof stored === 'string') return sent.replace(/\r\n?/g, '\n') === stored.replace(/\r\n?/g, '\n');
  return sent === stored;
}

/** A reference field to Contacts or Accounts: it ties a record to the customer, and the portal sets it, never the customer. */
export function isCustomerLink(field: FieldDefinition): boolean {
  return field.type === 'reference' && (field.referenceModules ?? []).some((m) => m === 'Contacts' || m === 'Accounts');
}

/**
 * A required field customers need not fill for a new record: the portal gives a required picklist
 * its first value (a ticket's status) and sets the links to the customer's contact and organization.
 */
export function filledOnCreateByThePortal(field: FieldDefinition): boolean {
  return field.type === 'picklist' || isCustomerLink(field);
}
