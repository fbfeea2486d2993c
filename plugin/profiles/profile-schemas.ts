/**
 * The ajv schemas of everything that changes a profile: each section of the privileges page,
 * the admin forms (new, rename, delete, duplicate, import) and the export file
 * (`schemaVersion: 1`). Ajv's errors become translatable problems (`profiles.validation.*`),
 * so the admin reads them in their own language.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { MessageParams } from '../i18n/message-keys.js';
import { VISIBLE_CHARACTER } from '../access/field-input.js';
import { BUTTON_ICON_NAMES } from './button-icons.js';
import { ProfileValidationError, type ValidationProblem } from './profile-errors.js';
import {
  BUTTON_ACTIONS,
  BUTTON_COLOURS,
  FIELD_ACCESS,
  MODULE_TOOLS,
  NOTIFICATION_KINDS,
  RECORD_SCOPES,
  RULE_EFFECTS,
  RULE_OPERATORS,
  SMTP_ACCOUNTS,
  TWO_FACTOR_TYPES,
  type ConditionalRule,
  type GeneralSection,
  type GlobalPrivileges,
  type HomeButton,
  type ModulePrivileges,
  type NotificationsSection,
  type ProfileSection,
  type RuleOrigin,
  type TwoFactorType,
  type SmtpAccount,
} from './profile-document.js';

export const EXPORT_SCHEMA_VERSION = 1;
export const EXPORT_KIND = 'business-portal-profile';

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 2000;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
formats.default(ajv, ['email', 'date-time']);

/**
 * Control characters an admin's text may not hold: every C0 character and DEL on one line (a
 * name, a title); text that may span lines (a description, a condition's value) keeps tab, line
 * feed and carriage return. A NUL or an escape in a stored name breaks SQL on some databases,
 * mail headers and pages; no admin means to type one.
 */
const CONTROL_CHARACTERS = { line: /[\u0000-\u001f\u007f]/u, lines: /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/u } as const;
export type TextKind = keyof typeof CONTROL_CHARACTERS;
ajv.addKeyword({
  keyword: 'plainText',
  type: 'string',
  schemaType: 'string',
  metaSchema: { enum: Object.keys(CONTROL_CHARACTERS) },
  error: { message: 'must not contain control characters' },
  validate: (kind: TextKind, data: string) => !CONTROL_CHARACTERS[kind].test(data),
});

/**
 * Half of a UTF-16 pair alone (JSON's `"\ud800"`; a form's bytes cannot carry one) is no
 * character: SQLite and PostgreSQL stored U+FFFD for it, MariaDB `?`, so the admin's text came
 * back changed, and differently on each database. It is refused, as the portal's records refuse it.
 */
ajv.addKeyword({
  keyword: 'wholeCharacters',
  type: 'string',
  schemaType: 'boolean',
  error: { message: 'must not contain half of a character' },
  validate: (_: boolean, data: string) => !/\p{Cs}/u.test(data),
});

/** Admin text: a string of at most `maxLength` characters with no control character (but tab and line breaks in `lines`). */
const text = (kind: TextKind, maxLength: number, options: { readonly nonBlank?: boolean } = {}) =>
  ({ type: 'string', ...(options.nonBlank ? { minLength: 1, pattern: VISIBLE_CHARACTER } : {}), maxLength, plainText: kind, wholeCharacters: true }) as const;

const moduleName = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' } as const;
const fieldName = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,99}$' } as const;
const id = { type: 'integer', minimum: 1, maximum: 2147483647 } as const;
const nullable = (schema: object) => ({ anyOf: [{ type: 'null' }, schema] });
/**
 * A list of at most `maxItems` items, whose items are checked only when there are not too many:
 * ajv reports every problem (`allErrors`), and a list far over its limit (1 MB of `{},`) would
 * otherwise be a million problems and a minute of work for one request; it is one ("at most …").
 */
const list = (maxItems: number, items: object, rest: object = {}) => ({ type: 'array', maxItems, if: { maxItems }, then: { items, ...rest } });
/** An object of at most `maxProperties` entries, whose entries are checked only when there are not too many (as `list`). */
const map = (maxProperties: number, propertyNames: object, additionalProperties: object) => ({
  type: 'object',
  maxProperties,
  if: { maxProperties },
  then: { propertyNames, additionalProperties },
});
const object = (properties: Record<string, object>, required: readonly string[] = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required: [...required],
  properties,
});

const profileName = text('line', NAME_MAX, { nonBlank: true });
const profileDescription = text('lines', DESCRIPTION_MAX);

const twoFactor = { enum: [...TWO_FACTOR_TYPES] };
const senderEmail = nullable({ type: 'string', format: 'email', maxLength: 254 });
const senderName = nullable({ ...text('line', NAME_MAX), minLength: 1 });

const generalSchema = object({
  owner: nullable(object({ kind: { enum: ['user', 'group'] }, id })),
  twoFactorType: twoFactor,
  twoFactorFallback: twoFactor,
});

const notificationsSchema = object({
  templates: object(Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, nullable(id)]))),
  smtpAccount: { enum: [...SMTP_ACCOUNTS] },
  senderEmail,
  senderName,
});

/** A saved button shows an icon of the fixed set; an export file may name another (from an older release). */
const buttonSchema = (icon: object) =>
  object(
    {
      title: text('line', NAME_MAX, { nonBlank: true }),
      description: text('line', 500),
      // A part left blank reads the button's own text (buttonText).
      translations: map(20, { pattern: '^[a-z]{2,3}(-[A-Z]{2})?$' }, object({ title: text('line', NAME_MAX), description: text('line', 500) })),
      colour: { enum: [...BUTTON_COLOURS] },
      icon,
      action: { enum: [...BUTTON_ACTIONS] },
      module: moduleName,
    },
    ['title', 'description', 'colour', 'icon', 'action', 'module'],
  );
const buttonsSchema = list(50, buttonSchema({ enum: [...BUTTON_ICON_NAMES] }));
const exportedButtonsSchema = list(50, buttonSchema({ type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,39}$' }));

const conditionValue = {
  type: ['string', 'number', 'boolean', 'null', 'array'],
  maxLength: 1000,
  plainText: 'lines',
  wholeCharacters: true,
  maxItems: 100,
  if: { maxItems: 100 },
  then: { items: text('lines', 1000) },
};
const ruleFields = {
  name: text('line', NAME_MAX, { nonBlank: true }),
  module: moduleName,
  conditions: list(20, object({ field: fieldName, op: { enum: [...RULE_OPERATORS] }, value: conditionValue }, ['field', 'op'])),
  effects: list(500, object({ field: fieldName, effect: { enum: [...RULE_EFFECTS] } })),
  allReadOnly: { type: 'boolean' },
};
const ruleSchema = object({
  ...ruleFields,
  origin: {
    oneOf: [
      object({ kind: { const: 'portal' } }),
      object({ kind: { const: 'crm' }, ruleId: id }),
      object({ kind: { const: 'profile' }, profileName }),
    ],
  },
});
const rulesSchema = list(100, ruleSchema);

const globalsSchema = object({ viewAll: { type: 'boolean' }, editAll: { type: 'boolean' } });

const moduleSchema = object(
  {
    module: moduleName,
    shown: { type: 'boolean' },
    view: { type: 'boolean' },
    create: { type: 'boolean' },
    edit: { type: 'boolean' },
    delete: { type: 'boolean' },
    scope: { enum: [...RECORD_SCOPES] },
    fields: map(500, fieldName, { enum: [...FIELD_ACCESS] }),
    listColumns: list(100, fieldName, { uniqueItems: true }),
    tools: object(Object.fromEntries(MODULE_TOOLS.map((tool) => [tool, { type: 'boolean' }]))),
  },
  ['module', 'shown', 'view', 'create', 'edit', 'delete', 'scope', 'tools'],
);
const modulesSchema = list(500, moduleSchema);

/** What a section save accepts (fields and list columns may be left out: defaults and none). */
export type ModulePrivilegesInput = Omit<ModulePrivileges, 'fields' | 'listColumns'> & {
  readonly fields?: ModulePrivileges['fields'];
  readonly listColumns?: ModulePrivileges['listColumns'];
};

export interface SectionInputs {
  readonly general: GeneralSection;
  readonly notifications: NotificationsSection;
  readonly buttons: readonly HomeButton[];
  readonly rules: readonly ConditionalRule[];
  readonly globals: GlobalPrivileges;
  readonly modules: readonly ModulePrivilegesInput[];
}

const sectionValidators: { readonly [S in ProfileSection]: ValidateFunction<SectionInputs[S]> } = {
  general: ajv.compile<GeneralSection>(generalSchema),
  notifications: ajv.compile<NotificationsSection>(notificationsSchema),
  buttons: ajv.compile<readonly HomeButton[]>(buttonsSchema),
  rules: ajv.compile<readonly ConditionalRule[]>(rulesSchema),
  globals: ajv.compile<GlobalPrivileges>(globalsSchema),
  modules: ajv.compile<readonly ModulePrivilegesInput[]>(modulesSchema),
};

// ─────────────────────────────── the export file ───────────────────────────────

/** The owner in a file: by name, so that the file means the same on another CRM. */
export type ExportedOwner = { readonly kind: 'user'; readonly userName: string } | { readonly kind: 'group'; readonly name: string };

export interface ProfileExport {
  readonly schemaVersion: typeof EXPORT_SCHEMA_VERSION;
  readonly kind: typeof EXPORT_KIND;
  readonly exportedAt: string;
  readonly profile: { readonly name: string; readonly description: string };
  readonly general: { readonly owner: ExportedOwner | null; readonly twoFactorType: TwoFactorType; readonly twoFactorFallback: TwoFactorType };
  readonly notifications: {
    /** Host email templates by name. */
    readonly templates: Readonly<Record<(typeof NOTIFICATION_KINDS)[number], string | null>>;
    readonly smtpAccount: SmtpAccount;
    readonly senderEmail: string | null;
    readonly senderName: string | null;
  };
  readonly buttons: readonly HomeButton[];
  readonly rules: readonly (Omit<ConditionalRule, 'origin'> & { readonly origin: RuleOrigin })[];
  readonly globals: GlobalPrivileges;
  readonly modules: readonly ModulePrivilegesInput[];
}

const exportSchema = object({
  schemaVersion: { const: EXPORT_SCHEMA_VERSION },
  kind: { const: EXPORT_KIND },
  exportedAt: { type: 'string', format: 'date-time' },
  profile: object({ name: profileName, description: profileDescription }),
  general: object({
    owner: nullable({
      oneOf: [
        object({ kind: { const: 'user' }, userName: { ...text('line', 191), minLength: 1 } }),
        object({ kind: { const: 'group' }, name: { ...text('line', 191), minLength: 1 } }),
      ],
    }),
    twoFactorType: twoFactor,
    twoFactorFallback: twoFactor,
  }),
  notifications: object({
    templates: object(Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, nullable({ ...text('line', 255), minLength: 1 })]))),
    smtpAccount: { enum: [...SMTP_ACCOUNTS] },
    senderEmail,
    senderName,
  }),
  buttons: exportedButtonsSchema,
  rules: rulesSchema,
  globals: globalsSchema,
  modules: modulesSchema,
});
const validateExport = ajv.compile<ProfileExport>(exportSchema);

// ──────────────────────────────── admin forms ────────────────────────────────

/** Form fields arrive as text: ids and versions are digit strings. */
const digits = { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } as const;
const csrf = { type: 'string' } as const;

export interface NewProfileForm {
  readonly name: string;
  readonly description?: string;
  /** A profile id, or empty for an empty profile. */
  readonly startFrom?: string;
}
export interface RenameForm {
  readonly name: string;
  readonly description?: string;
  readonly version: string;
}
export interface DeleteForm {
  readonly moveTo?: string;
  readonly version: string;
}
export interface DuplicateForm {
  readonly name?: string;
}
export interface ImportForm {
  readonly name?: string;
  readonly document: string;
}

const formValidators = {
  newProfile: ajv.compile<NewProfileForm>(
    object({ _csrf: csrf, name: profileName, description: profileDescription, startFrom: { anyOf: [digits, { const: '' }] } }, ['name']),
  ),
  rename: ajv.compile<RenameForm>(object({ _csrf: csrf, name: profileName, description: profileDescription, version: digits }, ['name', 'version'])),
  delete: ajv.compile<DeleteForm>(object({ _csrf: csrf, moveTo: { anyOf: [digits, { const: '' }] }, version: digits }, ['version'])),
  duplicate: ajv.compile<DuplicateForm>(object({ _csrf: csrf, name: { anyOf: [profileName, { const: '' }] } }, [])),
  import: ajv.compile<ImportForm>(object({ _csrf: csrf, name: { anyOf: [profileName, { const: '' }] }, document: { type: 'string', minLength: 1 } }, ['document'])),
} as const;

export type FormName = keyof typeof formValidators;
type FormOf<F extends FormName> = (typeof formValidators)[F] extends ValidateFunction<infer T> ? T : never;

// ─────────────────────────────── error messages ──────────────────────────────

/** `/0/fields` under the prefix `modules` → `modules[0].fields`. */
function readablePath(pointer: string, prefix: string): string {
  if (!pointer) return prefix;
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), prefix);
}

function problemOf(error: ErrorObject, prefix: string): ValidationProblem {
  const base = readablePath(error.instancePath, prefix);
  const at = (extra?: string) => {
    const path = extra ? (base ? `${base}.${extra}` : extra) : base;
    return path || '/';
  };
  const params = error.params as Record<string, unknown>;
  const p = (values: MessageParams) => values;
  switch (error.keyword) {
    case 'required':
      return { path: at(String(params.missingProperty)), messageKey: 'profiles.validation.required', params: p({ path: at(String(params.missingProperty)) }) };
    case 'additionalProperties':
      return { path: at(String(params.additionalProperty)), messageKey: 'profiles.validation.unknownProperty', params: p({ path: at(String(params.additionalProperty)) }) };
    case 'type':
      return { path: at(), messageKey: 'profiles.validation.type', params: p({ path: at(), type: String(params.type) }) };
    case 'enum':
      return { path: at(), messageKey: 'profiles.validation.oneOf', params: p({ path: at(), values: (params.allowedValues as unknown[]).map(String).join(', ') }) };
    case 'const':
      return { path: at(), messageKey: 'profiles.validation.oneOf', params: p({ path: at(), values: String(params.allowedValue) }) };
    case 'minLength':
      return Number(params.limit) === 1
        ? { path: at(), messageKey: 'profiles.validation.empty', params: p({ path: at() }) }
        : { path: at(), messageKey: 'profiles.validation.minLength', params: p({ path: at(), limit: Number(params.limit) }) };
    case 'maxLength':
      return { path: at(), messageKey: 'profiles.validation.maxLength', params: p({ path: at(), limit: Number(params.limit) }) };
    case 'maxItems':
    case 'maxProperties':
      return { path: at(), messageKey: 'profiles.validation.maxItems', params: p({ path: at(), limit: Number(params.limit) }) };
    case 'uniqueItems':
      return { path: at(), messageKey: 'profiles.validation.duplicate', params: p({ path: at() }) };
    case 'minimum':
    case 'maximum':
      return { path: at(), messageKey: 'profiles.validation.range', params: p({ path: at() }) };
    case 'format':
      return { path: at(), messageKey: params.format === 'email' ? 'profiles.validation.email' : 'profiles.validation.format', params: p({ path: at() }) };
    case 'plainText':
      return { path: at(), messageKey: 'profiles.validation.controlCharacter', params: p({ path: at() }) };
    case 'wholeCharacters':
      return { path: at(), messageKey: 'profiles.validation.halfCharacter', params: p({ path: at() }) };
    case 'pattern':
      return { path: at(), messageKey: params.pattern === VISIBLE_CHARACTER ? 'profiles.validation.empty' : 'profiles.validation.pattern', params: p({ path: at() }) };
    default:
      return { path: at(), messageKey: 'profiles.validation.invalid', params: p({ path: at() }) };
  }
}

/** The most problems one refusal lists (as the portal API's): more would only repeat themselves. */
export const MAX_PROBLEMS = 50;

/** The error of a nullable value's `null` branch: true of every value that is not null, so it says nothing. */
const isNullBranch = (error: ErrorObject) => error.keyword === 'type' && (error.params as { type?: unknown }).type === 'null';

/**
 * Ajv's errors as problems, one per place: a failed `anyOf`/`oneOf` reports each branch, which
 * says less than the branch that nearly matched, so only the first problem of a place is kept —
 * and a nullable value's "must be null" comes last, after what its other branch found wrong (a
 * sender email `support@localhost` is "not a valid email address", not "must be of type null").
 */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined, prefix = ''): ValidationProblem[] {
  const seen = new Set<string>();
  const problems: ValidationProblem[] = [];
  const all = errors ?? [];
  const ordered = [...all.filter((error) => !isNullBranch(error)), ...all.filter(isNullBranch)];
  for (const error of ordered) {
    if (problems.length >= MAX_PROBLEMS) break;
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const problem = problemOf(error, prefix);
    if (seen.has(problem.path)) continue;
    seen.add(problem.path);
    problems.push(problem);
  }
  const root = prefix || '/';
  return problems.length > 0 ? problems : [{ path: root, messageKey: 'profiles.validation.invalid', params: { path: root } }];
}

/** `prefix` names the root in messages (a section's name), e.g. `buttons[0].colour`. */
function check<T>(validate: ValidateFunction<T>, value: unknown, prefix = ''): T {
  if (validate(value)) return value;
  throw new ProfileValidationError(schemaProblems(validate.errors, prefix));
}

export function validateSection<S extends ProfileSection>(section: S, value: unknown): SectionInputs[S] {
  return check(sectionValidators[section] as ValidateFunction<SectionInputs[S]>, value, section);
}

export function validateExportFile(value: unknown): ProfileExport {
  return check(validateExport, value);
}

const validateName = ajv.compile<string>(profileName);

/** A profile name given outside a form (e.g. the import's `?name=`), by the new-profile form's rule. */
export function validateProfileName(value: unknown, path = 'name'): string {
  return check(validateName, value, path);
}

export function validateForm<F extends FormName>(form: F, body: unknown): FormOf<F> {
  return check(formValidators[form] as unknown as ValidateFunction<FormOf<F>>, body ?? {});
}
