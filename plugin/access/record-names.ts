/**
 * How the portal names a record in references, titles and mails. A module's label field names it
 * (a ticket by its title); a contact is named as people are, first name then last name ("Jane
 * Doe", not "Doe"), where the CRM's Contacts module has a first-name field. Only the parts the
 * reader may see are used: the caller says which fields are readable.
 */
import type { CrmRecord, FieldValue, ModuleDefinition } from '../host-contract/index.js';
import { isEmptyValue } from './field-input.js';

/** Fields shown before a module's label field in a record's name. */
const LEADING_NAME_FIELDS: Readonly<Record<string, readonly string[]>> = { Contacts: ['firstname'] };

/** The fields that make up a record's name, in order: the leading ones the module has, then its label field. */
export function nameFields(definition: ModuleDefinition): string[] {
  const leading = (LEADING_NAME_FIELDS[definition.name] ?? []).filter((name) => name !== definition.labelField && definition.fields.some((f) => f.name === name));
  return [...leading, definition.labelField];
}

const shown = (value: FieldValue): string => (Array.isArray(value) ? value.join(', ') : String(value)).replace(/\s+/g, ' ').trim();

/**
 * A record's name from its readable name fields; `#id` when its label field is unreadable or
 * empty (a first name alone does not name a contact the reader may not otherwise identify).
 */
export function recordName(definition: ModuleDefinition, record: CrmRecord, readable: (field: string) => boolean = () => true): string {
  const label = record.values[definition.labelField];
  if (!readable(definition.labelField) || label === undefined || isEmptyValue(label)) return `#${record.id}`;
  return nameFields(definition)
    .filter(readable)
    .map((name) => record.values[name])
    .filter((value): value is FieldValue => value !== undefined && !isEmptyValue(value))
    .map(shown)
    .join(' ');
}

/** "First Last" of a contact's values, on one line; '' when both are empty. */
export function personName(values: Readonly<Record<string, FieldValue | undefined>>): string {
  return [values.firstname, values.lastname]
    .filter((part): part is string => typeof part === 'string')
    .map((part) => part.replace(/\s+/g, ' ').trim())
    .filter((part) => part !== '')
    .join(' ');
}
