/**
 * Version 1 (classic) portal settings: which modules are active and in which order, per module
 * whether the customer also sees their company's records, the "select user" and the template of
 * the access-details mail. One implicit profile for every portal contact; the access layer reads
 * it through `ClassicSettingsStore.read()`. Stored as one JSON value (`portal.v1`) in the
 * plugin's settings table, beside — and independent of — the version 2 profiles.
 */
import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import type { ValidationProblem } from '../profiles/profile-errors.js';
import { schemaProblems } from '../profiles/profile-schemas.js';

export const CLASSIC_SETTINGS_KEY = 'portal.v1';
export interface ClassicModuleSetting {
  readonly module: string;
  readonly active: boolean;
  readonly viewAllRelated: boolean;
}
export interface ClassicSettings {
  /** In portal order. Only eligible modules are offered; stored entries of modules no longer eligible are kept. */
  readonly modules: readonly ClassicModuleSetting[];
  /** The "select user": owner of tickets from the portal, notified by email; may be inactive. Null: not chosen. */
  readonly userId: number | null;
  /** Host email template id for the access-details mail. Null: the plugin's default registration template. */
  readonly credentialsTemplateId: number | null;
}
export const ClassicSettingsStore = Symbol.for('business-portal.settings.ClassicSettingsStore');
export interface ClassicSettingsStore {
  /** Always a full value: defaults (HelpDesk, Faq, Documents active in that order; viewAllRelated false) merged with what is stored, every eligible module present. */
  read(): Promise<ClassicSettings>;
  /**
   * Applies `change` to the settings as stored (read under the row's lock) and writes the result.
   * `expected`: the section the admin's form showed and its `classicRevision`; when that section
   * differs now (someone else saved it), nothing is written and `StaleClassicSettingsError` is
   * thrown. Other sections saved meanwhile are kept: `change` works on them as they are now.
   * Left out, the save is not checked.
   */
  save(
    change: (current: ClassicSettings) => ClassicSettings | Promise<ClassicSettings>,
    actor: { userId: number; userName: string },
    options?: { readonly expected?: { readonly section: ClassicSection; readonly revision: string } },
  ): Promise<ClassicSettings>;
}

/** The four forms of the version 1 page, each saving one section of the settings. */
export type ClassicSection = 'modules' | 'advanced' | 'user' | 'template';

/** What a section's form shows and saves: Basic the modules' order and ticks, Advanced each module's choice, then the user and the template. */
function sectionOf(settings: ClassicSettings, section: ClassicSection): unknown {
  switch (section) {
    case 'modules':
      return settings.modules.map((m) => [m.module, m.active]);
    case 'advanced':
      // By name: another admin's reordering is Basic's, and leaves this form's choices as they were.
      return settings.modules.map((m) => [m.module, m.viewAllRelated]).sort(([a], [b]) => (a! < b! ? -1 : 1));
    case 'user':
      return settings.userId;
    case 'template':
      return settings.credentialsTemplateId;
  }
}

/**
 * The revision of one section of the settings, as its form carries it: a digest of what that form
 * shows, so a save of the same section by someone else (or a module that became eligible, for the
 * two module sections) gives another one, and a save of another section does not.
 */
export function classicRevision(settings: ClassicSettings, section: ClassicSection): string {
  return createHash('sha256').update(JSON.stringify([section, sectionOf(settings, section)])).digest('base64url').slice(0, 22);
}

/** A save from a form rendered before someone else's save of its section: nothing was written. */
export class StaleClassicSettingsError extends Error {
  constructor() {
    super('The version 1 settings were changed by someone else');
    this.name = 'StaleClassicSettingsError';
  }
}

/** Version 1's active modules when nothing is stored: requests, knowledge base, documents. */
export const CLASSIC_DEFAULT_MODULES: readonly string[] = ['HelpDesk', 'Faq', 'Documents'];

/** At most this many module entries (the registry has far fewer). */
export const CLASSIC_MAX_MODULES = 500;

/** A save refused: every problem found, each translatable (`classic.validation.*`, `profiles.validation.*`). */
export class ClassicSettingsError extends Error {
  constructor(readonly problems: readonly ValidationProblem[]) {
    super('Invalid version 1 settings');
    this.name = 'ClassicSettingsError';
  }
}

export function classicProblem(path: string, messageKey: MessageKey, params: MessageParams = {}): ValidationProblem {
  return { path, messageKey, params: { path, ...params } };
}

const ajv = new Ajv({ allErrors: true, strict: true });
const id = { type: 'integer', minimum: 1, maximum: 2147483647 } as const;

const classicSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['modules', 'userId', 'credentialsTemplateId'],
  properties: {
    modules: {
      type: 'array',
      maxItems: CLASSIC_MAX_MODULES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['module', 'active', 'viewAllRelated'],
        properties: {
          module: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' },
          active: { type: 'boolean' },
          viewAllRelated: { type: 'boolean' },
        },
      },
    },
    userId: { anyOf: [{ type: 'null' }, id] },
    credentialsTemplateId: { anyOf: [{ type: 'null' }, id] },
  },
} as const;

const validateClassicSettings: ValidateFunction<ClassicSettings> = ajv.compile<ClassicSettings>(classicSettingsSchema);

/** The shape of a value (not whether its modules, user and template exist): the value, or the problems. */
export function checkClassicShape(value: unknown): ClassicSettings {
  if (validateClassicSettings(value)) return value;
  throw new ClassicSettingsError(schemaProblems(validateClassicSettings.errors));
}

/** True when `value` has the shape of stored settings (a damaged value is read as nothing stored). */
export function isClassicSettings(value: unknown): value is ClassicSettings {
  return validateClassicSettings(value);
}
