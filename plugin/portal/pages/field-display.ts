/**
 * How the portal pages edit field values: the form control of each field type, and what a form
 * input holds. How values read (`showValue`) is `i18n/field-values.ts`, shared with the mails.
 */
import type { PortalField } from '../../access/portal-access.js';
import { optionText, type ShownValue } from '../../i18n/field-values.js';
import type { LanguageCode } from '../../host-contract/index.js';
import { wallClockOf } from '../../access/wall-clock.js';

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
  /** A line under the input (a datetime box's time zone), and its id. */
  readonly hint?: string;
  readonly hintId?: string;
  /** The ids of the texts that describe the input: its error, its hint. */
  readonly describedBy?: string;
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
 * What a form input holds for a value: typed text stays as typed; stored values in the input's
 * format — a stored instant as the CRM's wall clock (`wallClockOf`), the time the record page shows.
 */
export function inputValue(field: PortalField, value: unknown, timeZone: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' && field.type === 'datetime') {
    const wall = wallClockOf(value, timeZone);
    if (wall !== null) return wall;
  }
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/**
 * How a form names the time zone its datetime boxes are in: the zone's name in the page's language
 * and its IANA id (`Central European Time (Europe/Rome)`), or the id alone where Intl knows no name.
 */
export function zoneName(timeZone: string, language: LanguageCode): string {
  const name = new Intl.DateTimeFormat(language, { timeZone, timeZoneName: 'longGeneric' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value;
  return name && !/^(GMT|UTC)/.test(name) && name !== timeZone ? `${name} (${timeZone})` : timeZone;
}

export function formControl(
  field: PortalField,
  value: unknown,
  shown: ShownValue,
  error: string | undefined,
  referenceOptions: readonly { value: string; label: string }[] | undefined,
  timeZone: string,
  /** Next to a datetime box: the time zone it is in (`records.timeZoneHint`). */
  zoneHint?: string,
): FormControl {
  const base = { name: field.name, id: `bp-field-${field.name}`, label: field.label, mandatory: field.mandatory, ...(error ? { error } : {}) };
  if (field.access !== 'readwrite') return { ...base, readOnly: true, control: 'static', value: '', shown };
  // The browser stops typing at the field's length (a save refuses more, `records.problems.tooLong`).
  const maxLength = field.maxLength !== undefined ? { maxLength: field.maxLength } : {};
  if (field.type === 'textarea') return { ...base, readOnly: false, control: 'textarea', value: inputValue(field, value, timeZone), ...maxLength };
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
  const shownValue = inputValue(field, value, timeZone);
  // A datetime with seconds: the input's default step (a minute) would refuse the value it holds.
  const step = field.type === 'datetime' && /T\d{2}:\d{2}:\d{2}/.test(shownValue) ? '1' : input.step;
  const hint = field.type === 'datetime' && zoneHint ? { hint: zoneHint, hintId: `${base.id}-zone` } : {};
  const describedBy = [error ? `${base.id}-error` : null, hint.hintId ?? null].filter((id) => id !== null).join(' ');
  return { ...base, readOnly: false, control: 'input', inputType: input.type, ...(step ? { step } : {}), value: shownValue, ...maxLength, ...hint, ...(describedBy ? { describedBy } : {}) };
}
