/**
 * Validation of module, field and relation definitions before they reach the database.
 * Every check gives a message that names what is wrong (the CLI prints it as is) and the
 * result is a normalised, frozen copy: callers can never mutate the registry's cache.
 */
import type { FieldDefinition, FieldType, LocalizedText, ModuleDefinition, RelationDefinition } from '../../plugin/host-contract/index.js';

export const MODULE_NAME = /^[A-Z][A-Za-z0-9]{1,39}$/;
export const FIELD_NAME = /^[a-z][a-z0-9_]{0,39}$/;
/** Columns every module table has besides its fields. */
export const SYSTEM_COLUMNS: readonly string[] = ['id', 'owner_kind', 'owner_id', 'created_at', 'modified_at', 'version'];
export const FIELD_TYPES: readonly FieldType[] = [
  'text', 'textarea', 'integer', 'decimal', 'currency', 'boolean', 'date', 'datetime',
  'email', 'phone', 'url', 'picklist', 'multipicklist', 'reference',
];
/** `text` columns are VARCHARs: MariaDB limits a row to 65,535 bytes, so longer texts are `textarea`s. */
export const MAX_TEXT_LENGTH = 255;
export const DEFAULT_TEXT_LENGTH = 255;
const MAX_FIELDS = 150;
const MAX_PICKLIST_VALUES = 500;

/** A definition that cannot be registered (invalid, duplicate, dangling reference…). */
export class ModuleDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleDefinitionError';
  }
}

/** A module name the registry does not know. */
export class UnknownModuleError extends Error {
  constructor(readonly module: string) {
    super(`Unknown module "${module}"`);
    this.name = 'UnknownModuleError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value.slice(0, 60)}"` : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}

export function localizedText(value: unknown, where: string): LocalizedText {
  if (!isRecord(value)) throw new ModuleDefinitionError(`${where} must be an object of texts by language, e.g. {"en": "…"}`);
  const out: Record<string, string> = {};
  for (const [language, text] of Object.entries(value)) {
    if (!/^[a-z]{2}$/.test(language)) throw new ModuleDefinitionError(`${where} has an invalid language code "${language.slice(0, 20)}"`);
    if (typeof text !== 'string' || text.trim() === '' || text.length > 200) {
      throw new ModuleDefinitionError(`${where}.${language} must be a non-empty text of at most 200 characters`);
    }
    out[language] = text;
  }
  if (!out.en) throw new ModuleDefinitionError(`${where} must have an English text ("en")`);
  return Object.freeze(out) as LocalizedText;
}

function stringList(value: unknown, where: string, max: number, maxLength: number): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new ModuleDefinitionError(`${where} must be a non-empty list`);
  if (value.length > max) throw new ModuleDefinitionError(`${where} has more than ${max} entries`);
  const seen = new Set<string>();
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.trim() === '' || entry.length > maxLength) {
      throw new ModuleDefinitionError(`${where} must hold non-empty texts of at most ${maxLength} characters (got ${describe(entry)})`);
    }
    if (seen.has(entry)) throw new ModuleDefinitionError(`${where} lists "${entry}" twice`);
    seen.add(entry);
  }
  return [...seen];
}

/** `{ value: { en, it… } }` for values of the field only. */
function picklistLabels(input: unknown, values: readonly string[], where: string): Readonly<Record<string, LocalizedText>> {
  if (!isRecord(input)) throw new ModuleDefinitionError(`${where}: "picklistLabels" must be an object of value → labels`);
  const labels: Record<string, LocalizedText> = {};
  for (const [value, label] of Object.entries(input)) {
    if (!values.includes(value)) throw new ModuleDefinitionError(`${where}: "picklistLabels" names "${value}", which is not one of its picklistValues`);
    labels[value] = localizedText(label, `${where} picklistLabels.${value}`);
  }
  return Object.freeze(labels);
}

/**
 * Checks one field. `moduleExists` answers whether a reference target is known (the module
 * being registered counts, so that `Accounts.parent_id` may point at Accounts).
 */
export function validateField(input: unknown, module: string, moduleExists: (name: string) => boolean): FieldDefinition {
  if (!isRecord(input)) throw new ModuleDefinitionError(`A field of ${module} must be an object`);
  const name = input.name;
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) {
    throw new ModuleDefinitionError(`Field name ${describe(name)} of ${module} is invalid: use a lower-case letter, then letters, digits or "_" (at most 40)`);
  }
  if (SYSTEM_COLUMNS.includes(name)) throw new ModuleDefinitionError(`Field name "${name}" of ${module} is reserved`);
  const where = `Field ${module}.${name}`;
  const type = input.type;
  if (typeof type !== 'string' || !FIELD_TYPES.includes(type as FieldType)) {
    throw new ModuleDefinitionError(`${where} has an unknown type ${describe(type)} (one of: ${FIELD_TYPES.join(', ')})`);
  }
  if (typeof input.mandatory !== 'boolean') throw new ModuleDefinitionError(`${where}: "mandatory" must be true or false`);
  const field: { -readonly [K in keyof FieldDefinition]: FieldDefinition[K] } = {
    name,
    label: localizedText(input.label, `${where} label`),
    type: type as FieldType,
    mandatory: input.mandatory,
  };

  if (input.maxLength !== undefined) {
    if (type !== 'text') throw new ModuleDefinitionError(`${where}: "maxLength" is only for text fields`);
    if (!Number.isInteger(input.maxLength) || (input.maxLength as number) < 1 || (input.maxLength as number) > MAX_TEXT_LENGTH) {
      throw new ModuleDefinitionError(`${where}: "maxLength" must be an integer from 1 to ${MAX_TEXT_LENGTH} (use a textarea for longer texts)`);
    }
    field.maxLength = input.maxLength as number;
  }

  const isPicklist = type === 'picklist' || type === 'multipicklist';
  if (isPicklist) {
    field.picklistValues = Object.freeze(stringList(input.picklistValues, `${where} picklistValues`, MAX_PICKLIST_VALUES, 255));
    if (input.picklistLabels !== undefined) field.picklistLabels = picklistLabels(input.picklistLabels, field.picklistValues, where);
  } else if (input.picklistValues !== undefined || input.picklistLabels !== undefined) {
    throw new ModuleDefinitionError(`${where}: "picklistValues" and "picklistLabels" are only for picklist fields`);
  }

  if (type === 'reference') {
    const targets = stringList(input.referenceModules, `${where} referenceModules`, 10, 40);
    for (const target of targets) {
      if (!moduleExists(target)) throw new ModuleDefinitionError(`${where} refers to the unknown module "${target}"`);
    }
    field.referenceModules = Object.freeze(targets);
  } else if (input.referenceModules !== undefined) {
    throw new ModuleDefinitionError(`${where}: "referenceModules" is only for reference fields`);
  }
  return Object.freeze(field);
}

export function validateModule(input: unknown, moduleExists: (name: string) => boolean): ModuleDefinition {
  if (!isRecord(input)) throw new ModuleDefinitionError('A module definition must be an object');
  const name = input.name;
  if (typeof name !== 'string' || !MODULE_NAME.test(name)) {
    throw new ModuleDefinitionError(`Module name ${describe(name)} is invalid: use PascalCase letters and digits, 2 to 40 characters (e.g. "Warranties")`);
  }
  if (typeof input.custom !== 'boolean') throw new ModuleDefinitionError(`Module ${name}: "custom" must be true or false`);
  if (!Array.isArray(input.fields) || input.fields.length === 0) throw new ModuleDefinitionError(`Module ${name} must have at least one field`);
  if (input.fields.length > MAX_FIELDS) throw new ModuleDefinitionError(`Module ${name} has more than ${MAX_FIELDS} fields`);
  const known = (target: string) => target === name || moduleExists(target);
  const fields = input.fields.map((field) => validateField(field, name, known));
  const names = new Set<string>();
  for (const field of fields) {
    if (names.has(field.name)) throw new ModuleDefinitionError(`Module ${name} has the field "${field.name}" twice`);
    names.add(field.name);
  }
  if (typeof input.labelField !== 'string' || !names.has(input.labelField)) {
    throw new ModuleDefinitionError(`Module ${name}: "labelField" must name one of its fields (got ${describe(input.labelField)})`);
  }
  return Object.freeze({
    name,
    label: localizedText(input.label, `Module ${name} label`),
    singularLabel: localizedText(input.singularLabel, `Module ${name} singularLabel`),
    custom: input.custom,
    labelField: input.labelField,
    fields: Object.freeze(fields),
  });
}

/** Checks the shape of a relation; whether its modules and field exist is the registry's job. */
export function validateRelationShape(input: unknown): RelationDefinition {
  if (!isRecord(input)) throw new ModuleDefinitionError('A relation must be an object');
  const { kind, module, relatedModule, field } = input;
  if (kind !== 'reference' && kind !== 'related-list') throw new ModuleDefinitionError(`Relation kind must be "reference" or "related-list" (got ${describe(kind)})`);
  if (typeof module !== 'string' || !MODULE_NAME.test(module)) throw new ModuleDefinitionError(`Relation module ${describe(module)} is not a module name`);
  if (typeof relatedModule !== 'string' || !MODULE_NAME.test(relatedModule)) {
    throw new ModuleDefinitionError(`Relation relatedModule ${describe(relatedModule)} is not a module name`);
  }
  if (kind === 'reference' && (typeof field !== 'string' || !FIELD_NAME.test(field))) {
    throw new ModuleDefinitionError(`A reference relation needs the field of ${module} that holds the id (got ${describe(field)})`);
  }
  if (kind === 'related-list' && field !== undefined) throw new ModuleDefinitionError('A related-list relation has no field');
  if (typeof input.id !== 'string') throw new ModuleDefinitionError('A relation needs an id');
  return Object.freeze({
    id: input.id,
    kind,
    module,
    relatedModule,
    ...(kind === 'reference' ? { field: field as string } : {}),
    ...(input.label !== undefined ? { label: localizedText(input.label, `Relation ${input.id} label`) } : {}),
  });
}
