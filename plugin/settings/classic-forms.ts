/**
 * The ajv schemas of the settings forms that are not profiles: the version chooser and the four
 * forms of the version 1 page. Form fields arrive as text (`application/x-www-form-urlencoded`,
 * flat): ids are digit strings, a repeated field is an array. Refusals are translatable problems.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { schemaProblems } from '../profiles/profile-schemas.js';
import { CLASSIC_MAX_MODULES, ClassicSettingsError } from './classic-settings.js';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });

const MODULE = '[A-Za-z][A-Za-z0-9_]{0,99}';
const moduleName = { type: 'string', pattern: `^${MODULE}$` } as const;
const optionalId = { type: 'string', pattern: '^([1-9][0-9]{0,9})?$' } as const;
const csrf = { type: 'string' } as const;
/** The revision of the settings the page showed (`classicRevision`); forms without one are not checked. */
const revision = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;

/** The prefix of the advanced form's fields: `related.HelpDesk=yes`. */
export const RELATED_FIELD_PREFIX = 'related.';

export interface VersionForm {
  readonly version: '1' | '2';
}
/** Every version 1 form carries the revision of the settings it was rendered from. */
interface Revisioned {
  readonly revision?: string;
}
export interface ClassicModulesForm extends Revisioned {
  /** The modules ticked active (one value is a string, several an array, none: absent). */
  readonly active?: string | readonly string[];
  /** `up:HelpDesk` or `down:HelpDesk`: a move button was pressed. */
  readonly move?: string;
}
export type ClassicAdvancedForm = Readonly<Record<string, string>>;
export interface ClassicUserForm extends Revisioned {
  /** A CRM user id, or empty for none. */
  readonly userId: string;
}
export interface ClassicTemplateForm extends Revisioned {
  /** A host email template id, or empty for the plugin's default registration template. */
  readonly templateId: string;
}

const validators = {
  version: ajv.compile<VersionForm>({
    type: 'object',
    additionalProperties: false,
    required: ['version'],
    properties: { _csrf: csrf, version: { enum: ['1', '2'] } },
  }),
  modules: ajv.compile<ClassicModulesForm>({
    type: 'object',
    additionalProperties: false,
    properties: {
      _csrf: csrf,
      revision,
      active: { anyOf: [moduleName, { type: 'array', maxItems: CLASSIC_MAX_MODULES, uniqueItems: true, items: moduleName }] },
      move: { type: 'string', pattern: `^(up|down):${MODULE}$` },
    },
  }),
  advanced: ajv.compile<ClassicAdvancedForm>({
    type: 'object',
    additionalProperties: false,
    maxProperties: CLASSIC_MAX_MODULES + 2,
    properties: { _csrf: csrf, revision },
    patternProperties: { [`^related\\.${MODULE}$`]: { enum: ['yes', 'no'] } },
  }),
  user: ajv.compile<ClassicUserForm>({
    type: 'object',
    additionalProperties: false,
    required: ['userId'],
    properties: { _csrf: csrf, revision, userId: optionalId },
  }),
  template: ajv.compile<ClassicTemplateForm>({
    type: 'object',
    additionalProperties: false,
    required: ['templateId'],
    properties: { _csrf: csrf, revision, templateId: optionalId },
  }),
} as const;

export type SettingsFormName = keyof typeof validators;
type FormOf<F extends SettingsFormName> = (typeof validators)[F] extends ValidateFunction<infer T> ? T : never;

/** The form's fields, or a `ClassicSettingsError` with its problems. */
export function validateSettingsForm<F extends SettingsFormName>(form: F, body: unknown): FormOf<F> {
  const validate = validators[form] as unknown as ValidateFunction<FormOf<F>>;
  const value = body ?? {};
  if (validate(value)) return value;
  throw new ClassicSettingsError(schemaProblems(validate.errors));
}
