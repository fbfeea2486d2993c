/**
 * The full document of a portal profile, one typed value per section of its privileges page.
 * The lists of allowed values are the single source of the ajv schemas and of the pages.
 */
import type { ComparisonOperator, FieldValue, OwnerRef } from '../host-contract/index.js';
import type { PortalProfile } from './profile-store.js';
import { isBlankText } from '../access/field-input.js';

/**
 * Two-factor types: an extension point. A new type (an authenticator app, SMS) is added here,
 * then taught to the sign-in capability; stored values outside the list read as `none`.
 */
export const TWO_FACTOR_TYPES = ['none', 'email'] as const;
export type TwoFactorType = (typeof TWO_FACTOR_TYPES)[number];

export const NOTIFICATION_KINDS = ['registration', 'passwordChanged', 'passwordRecovery', 'newTicket', 'ticketReply'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const SMTP_ACCOUNTS = ['default', 'global'] as const;
export type SmtpAccount = (typeof SMTP_ACCOUNTS)[number];

export const BUTTON_COLOURS = ['primary', 'secondary', 'success', 'danger', 'warning', 'info'] as const;
export type ButtonColour = (typeof BUTTON_COLOURS)[number];

export const BUTTON_ACTIONS = ['list', 'create'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export const RECORD_SCOPES = ['contact', 'account', 'account-and-subsidiaries'] as const;
export type RecordScope = (typeof RECORD_SCOPES)[number];

export const FIELD_ACCESS = ['hidden', 'readonly', 'readwrite'] as const;
export type FieldAccess = (typeof FIELD_ACCESS)[number];
/** The access of a field the profile has no row for. */
export const DEFAULT_FIELD_ACCESS: FieldAccess = 'readwrite';

export const RULE_EFFECTS = ['hidden', 'readonly', 'mandatory'] as const;
export type RuleEffect = (typeof RULE_EFFECTS)[number];

export const RULE_OPERATORS: readonly ComparisonOperator[] = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'startsWith', 'isNull', 'notNull'];

export const MODULE_TOOLS = ['comments', 'documents', 'search', 'export'] as const;
export type ModuleTool = (typeof MODULE_TOOLS)[number];

export const PROFILE_SECTIONS = ['general', 'notifications', 'buttons', 'rules', 'globals', 'modules'] as const;
export type ProfileSection = (typeof PROFILE_SECTIONS)[number];

export interface GeneralSection {
  /** The CRM user or group that records created from the portal are assigned to (null: not set). */
  readonly owner: OwnerRef | null;
  readonly twoFactorType: TwoFactorType;
  /** Used when the primary type cannot be (e.g. no email); `none` when there is no fallback. */
  readonly twoFactorFallback: TwoFactorType;
}

export interface NotificationsSection {
  /** Host email template ids per notification (null: none chosen). */
  readonly templates: Readonly<Record<NotificationKind, number | null>>;
  readonly smtpAccount: SmtpAccount;
  readonly senderEmail: string | null;
  readonly senderName: string | null;
}

/** A button's text in one language. */
export interface ButtonText {
  readonly title: string;
  readonly description: string;
}

export interface HomeButton {
  /** The text every customer reads whose language has no translation below (the CRM's default language). */
  readonly title: string;
  readonly description: string;
  /** Optional: the text in other languages of the CRM, by language code (`it`). */
  readonly translations?: Readonly<Record<string, ButtonText>>;
  readonly colour: ButtonColour;
  /** An icon name of the portal's icon set, e.g. `ticket`. */
  readonly icon: string;
  readonly action: ButtonAction;
  readonly module: string;
}

/**
 * A button's text in `language`: each part its translation there, else the button's own (a part
 * left blank too — spaces or invisible characters only, such as a pasted zero-width space, would
 * show a button without a title).
 */
export function buttonText(button: HomeButton, language: string): ButtonText {
  const translated = button.translations && Object.hasOwn(button.translations, language) ? button.translations[language] : undefined;
  const part = (text: string | undefined, own: string) => (text === undefined || isBlankText(text) ? own : text.trim());
  return { title: part(translated?.title, button.title), description: part(translated?.description, button.description) };
}

export type RuleOrigin =
  | { readonly kind: 'portal' }
  | { readonly kind: 'crm'; readonly ruleId: number }
  | { readonly kind: 'profile'; readonly profileName: string };

export interface RuleCondition {
  readonly field: string;
  readonly op: ComparisonOperator;
  readonly value?: FieldValue;
}

export interface ConditionalRule {
  readonly name: string;
  readonly module: string;
  readonly origin: RuleOrigin;
  /** All must hold. */
  readonly conditions: readonly RuleCondition[];
  readonly effects: readonly { readonly field: string; readonly effect: RuleEffect }[];
  /** The whole record is read-only while the conditions hold. */
  readonly allReadOnly: boolean;
}

export interface GlobalPrivileges {
  /** Widens View to every eligible module (never the record scope). */
  readonly viewAll: boolean;
  /** Widens Create/Edit to every eligible module (never the record scope). */
  readonly editAll: boolean;
}

export interface ModulePrivileges {
  readonly module: string;
  readonly shown: boolean;
  readonly view: boolean;
  /** Always false for Accounts: customers never create organisations from the portal. */
  readonly create: boolean;
  readonly edit: boolean;
  readonly delete: boolean;
  readonly scope: RecordScope;
  /** Every field of the module → its access. */
  readonly fields: Readonly<Record<string, FieldAccess>>;
  /** The list-view columns, in order (never a hidden field). */
  readonly listColumns: readonly string[];
  readonly tools: Readonly<Record<ModuleTool, boolean>>;
}

export interface ProfileSections {
  readonly general: GeneralSection;
  readonly notifications: NotificationsSection;
  readonly buttons: readonly HomeButton[];
  readonly rules: readonly ConditionalRule[];
  readonly globals: GlobalPrivileges;
  /** One entry per module that is portal-eligible now. */
  readonly modules: readonly ModulePrivileges[];
}

/** A button or rule that points at a module or field the profile no longer allows. */
export interface ProfileFlag {
  readonly section: 'buttons' | 'rules';
  readonly index: number;
  readonly reason: 'module-not-allowed' | 'create-not-allowed' | 'field-missing';
  readonly module: string;
  readonly field?: string;
}

export interface ProfileDocument extends ProfileSections {
  readonly profile: PortalProfile;
  readonly flags: readonly ProfileFlag[];
}

/** Who changes a profile: the signed-in CRM admin. */
export interface ProfileActor {
  readonly userId: number;
  readonly userName: string;
}

export function emptyModulePrivileges(module: string, fields: readonly string[]): ModulePrivileges {
  return {
    module,
    shown: false,
    view: false,
    create: false,
    edit: false,
    delete: false,
    scope: 'contact',
    fields: Object.fromEntries(fields.map((field) => [field, DEFAULT_FIELD_ACCESS])),
    listColumns: [],
    tools: { comments: false, documents: false, search: false, export: false },
  };
}

/** What a module entry really allows once the global privileges widen its flags (never its scope). */
export interface EffectiveFlags {
  readonly shown: boolean;
  readonly view: boolean;
  readonly create: boolean;
  readonly edit: boolean;
  readonly delete: boolean;
}

/**
 * View all widens Shown and View; Edit all widens Shown, Create and Edit. Accounts can never be
 * created from the portal, whatever the flags say. The one rule the profile pages, the flags and
 * the portal's access layer all follow.
 */
export function effectiveFlags(entry: ModulePrivileges, globals: GlobalPrivileges): EffectiveFlags {
  return {
    shown: entry.shown || globals.viewAll || globals.editAll,
    view: entry.view || globals.viewAll,
    create: entry.module !== 'Accounts' && (entry.create || globals.editAll),
    edit: entry.edit || globals.editAll,
    delete: entry.delete,
  };
}
