/**
 * Portal profiles as the admin pages (and the privileges editor) change them: the full typed
 * document of a profile, read whole and saved one section at a time, with the rules the
 * server enforces whatever a page sends:
 * - Accounts can never be created from the portal (the flag is switched off, with a notice);
 * - a field the profile hides is removed from the list columns (with a notice naming it);
 * - a button or rule that points at a module or field the profile no longer allows is flagged; one
 *   that became so while stored (its module lost its relation to Contacts / Accounts, say) is
 *   kept, inert, when the section is saved again with it unchanged; a new or changed one is refused;
 * - a notification template must merge what its kind needs (the password of the access details,
 *   the link of password recovery): a new choice without it is refused;
 * - a save that leaves customers unable to create what Create allows (a required field hidden or
 *   read-only), or creating records with no owner, goes through with a warning;
 * - without the host's `business-portal` licence only the Default profile exists (new,
 *   duplicate and import are refused) and only the base modules can be enabled.
 *
 * Every write runs in one transaction with optimistic locking on the profile's `version` (a
 * stale version is refused as "changed by someone else") and writes its audit row (who, when,
 * before/after) in the same transaction: a failed save changes nothing.
 */
import { inject, injectable, optional } from 'inversify';
import { QueryTypes, UniqueConstraintError, type Transaction } from 'sequelize';
import {
  HostConditionalRules,
  HostRegional,
  HostDatabase,
  HostEmailTemplates,
  HostLicences,
  HostModuleRegistry,
  HostUsers,
  type FieldDefinition,
  type FieldValue,
  type LocalizedText,
  type ModuleDefinition,
  type OwnerRef,
} from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { coerceFieldValue, filledOnCreateByThePortal, isDateOnly } from '../access/field-input.js';
import { BASE_PORTAL_MODULES, ModuleEligibility, PUBLIC_CATALOGUES } from '../eligibility/module-eligibility.js';
import { toNumber } from '../lifecycle/sql-values.js';
import { conditionWithInstants } from '../conditionals/datetime-rule-values.js';
import { fieldsMerged, missingPlaceholderFor, placeholderGapFor, placeholderText, STANDARD_TEMPLATE_NAMES, TEMPLATE_GAP_MESSAGES } from '../notifications/template-placeholders.js';
import { BUTTON_ICONS, FALLBACK_ICON } from './button-icons.js';
import { ProfileAudit, type AuditEntry } from './profile-audit.js';
import {
  DEFAULT_FIELD_ACCESS,
  NOTIFICATION_KINDS,
  effectiveFlags,
  emptyModulePrivileges,
  type ConditionalRule,
  type FieldAccess,
  type GeneralSection,
  type GlobalPrivileges,
  type HomeButton,
  type ModulePrivileges,
  type NotificationKind,
  type NotificationsSection,
  type ProfileActor,
  type ProfileDocument,
  type ProfileFlag,
  type ProfileSection,
  type ProfileSections,
  type RuleCondition,
} from './profile-document.js';
import {
  ProfileError,
  ProfileValidationError,
  licenceRequired,
  nameTaken,
  profileNotFound,
  staleProfile,
  type MessageLabels,
  type ValidationProblem,
} from './profile-errors.js';
import {
  EXPORT_KIND,
  EXPORT_SCHEMA_VERSION,
  validateExportFile,
  validateProfileName,
  validateSection,
  type ExportedOwner,
  type ModulePrivilegesInput,
  type ProfileExport,
  type SectionInputs,
} from './profile-schemas.js';
import { ProfileSectionsStore, type StoredSections } from './profile-sections-store.js';
import { ProfileStore, type PortalProfile, type ProfileSummary } from './profile-store.js';

/** The module whose records the customer's ticket mails merge as `{{ticket.*}}`, and those mails. */
const TICKET_MAIL_MODULE = 'HelpDesk';
const TICKET_MAIL_KINDS = ['newTicket', 'ticketReply'] as const;

/** The host licence that unlocks profiles beyond Default and modules beyond the base set. */
export const PORTAL_LICENCE = 'business-portal';

/** Something the admin is told after a save that went through (a value the server changed). */
export interface ProfileNotice {
  readonly messageKey: MessageKey;
  readonly params?: MessageParams;
  /** Placeholders filled with a label in the reader's language (a module, a field). */
  readonly labels?: MessageLabels;
}

export interface SaveOutcome {
  readonly document: ProfileDocument;
  readonly notices: readonly ProfileNotice[];
}

export type SkippedKind = 'module' | 'field' | 'listColumn' | 'button' | 'rule' | 'owner' | 'template' | 'unfitTemplate';
/** A part of an imported file this host cannot take (a module or field it lacks…). */
export interface SkippedItem {
  readonly kind: SkippedKind;
  readonly name: string;
}

export interface ImportOutcome {
  readonly profile: PortalProfile;
  readonly skipped: readonly SkippedItem[];
  readonly notices: readonly ProfileNotice[];
}

export interface DeleteOutcome {
  readonly movedContacts: number;
  readonly movedTo: PortalProfile;
}

export const ProfileService = Symbol.for('business-portal.ProfileService');
export interface ProfileService {
  /** Whether the host holds the Business Portal licence. */
  licensed(): Promise<boolean>;
  list(): Promise<readonly ProfileSummary[]>;
  get(id: number): Promise<PortalProfile>;
  /** The full document: every section, one module entry per eligible module, and the flags. */
  document(id: number): Promise<ProfileDocument>;
  /** A new profile, empty or a copy of every section of `startFrom`. */
  create(input: { readonly name: string; readonly description: string; readonly startFrom: number | null }, actor: ProfileActor): Promise<PortalProfile>;
  /** A copy of every section; the name defaults to the source's with a number. */
  duplicate(id: number, input: { readonly name?: string }, actor: ProfileActor): Promise<PortalProfile>;
  rename(id: number, input: { readonly name: string; readonly description: string; readonly expectedVersion: number }, actor: ProfileActor): Promise<PortalProfile>;
  /** Moves the profile's contacts to `moveTo` (Default when null), then deletes it. Default cannot be deleted. */
  delete(id: number, input: { readonly moveTo: number | null; readonly expectedVersion: number }, actor: ProfileActor): Promise<DeleteOutcome>;
  /** Validates (ajv, then the server rules) and saves one section. */
  saveSection<S extends ProfileSection>(id: number, section: S, value: unknown, expectedVersion: number, actor: ProfileActor): Promise<SaveOutcome>;
  exportProfile(id: number): Promise<ProfileExport>;
  /** Creates a profile from an export file; what this host lacks is skipped and listed. */
  importProfile(file: unknown, options: { readonly name?: string }, actor: ProfileActor): Promise<ImportOutcome>;
  /** The profile's changes, newest first: the `page.number`th page (from 1) of `page.size` changes; the newest 200 without it. */
  audit(id: number, page?: { readonly number: number; readonly size: number }): Promise<readonly AuditEntry[]>;
  /** One change of the profile (a deleted one's too), with its before and after values; null when it has none of that id. */
  auditEntry(id: number, entryId: number): Promise<AuditEntry | null>;
  /** How many changes of the profile are recorded. */
  auditCount(id: number): Promise<number>;
  /** The deletions of profiles, newest first, a page as `audit`'s. */
  deletions(page: { readonly number: number; readonly size: number }): Promise<readonly AuditEntry[]>;
  deletionCount(): Promise<number>;
}

/** Collects what a check finds: problems refuse a save; an import skips the item instead. */
class Findings {
  readonly problems: ValidationProblem[] = [];
  readonly skipped: SkippedItem[] = [];
  readonly notices: ProfileNotice[] = [];

  constructor(readonly lenient: boolean) {}

  reject(path: string, messageKey: MessageKey, params: MessageParams, skipped: SkippedItem, labels?: MessageLabels): void {
    if (this.lenient) this.skipped.push(skipped);
    else this.problems.push({ path, messageKey, params: { path, ...params }, ...(labels ? { labels } : {}) });
  }

  /** A problem that no import can skip past. */
  refuse(path: string, messageKey: MessageKey, params: MessageParams = {}): void {
    this.problems.push({ path, messageKey, params: { path, ...params } });
  }

  throwIfProblems(): void {
    if (this.problems.length > 0) throw new ProfileValidationError(this.problems);
  }
}

interface Effective {
  readonly shown: boolean;
  readonly view: boolean;
  readonly create: boolean;
}

const trimmed = (text: string | undefined): string => (text ?? '').trim();

/**
 * A profile name as names are compared, as an administrator reads them: compatibility forms read as
 * their letters (NFKC: full-width `Ｄefault` is `Default`, the ligature `ﬃ` is `ffi`) and
 * case-folded the same way whatever the locale or the database (upper then lower case, so that `ß`
 * and `SS` compare equal too; composed again after the folding). Accents still count: `Café` is not `Cafe`.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

@injectable()
export class DatabaseProfileService implements ProfileService {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(ProfileStore) private readonly profiles: ProfileStore,
    @inject(ProfileSectionsStore) private readonly sections: ProfileSectionsStore,
    @inject(ProfileAudit) private readonly auditLog: ProfileAudit,
    @inject(ModuleEligibility) private readonly eligibility: ModuleEligibility,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(HostLicences) private readonly licences: HostLicences,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(HostEmailTemplates) private readonly templates: HostEmailTemplates,
    /** To check that a rule's CRM origin exists (without it, CRM origins are taken as they are). */
    @inject(HostConditionalRules) @optional() private readonly crmRules?: HostConditionalRules,
    /** To check a button's translations name languages of the CRM (without it, any language is kept). */
    @inject(HostRegional) @optional() private readonly regional?: HostRegional,
  ) {}

  private get sequelize() {
    return this.database.sequelize;
  }

  licensed(): Promise<boolean> {
    return this.licences.has(PORTAL_LICENCE);
  }

  list(): Promise<readonly ProfileSummary[]> {
    return this.profiles.list();
  }

  async get(id: number): Promise<PortalProfile> {
    const profile = await this.profiles.get(id);
    if (!profile) throw profileNotFound();
    return profile;
  }

  async document(id: number): Promise<ProfileDocument> {
    const profile = await this.get(id);
    const stored = await this.sections.read(id);
    if (!stored) throw profileNotFound();
    return this.assemble(profile, stored, await this.licensed());
  }

  // ───────────────────────────── create, copy, rename, delete ─────────────────────────────

  async create(input: { readonly name: string; readonly description: string; readonly startFrom: number | null }, actor: ProfileActor): Promise<PortalProfile> {
    if (!(await this.licensed())) throw licenceRequired();
    const startFromMissing = () => new ProfileValidationError([{ path: 'startFrom', messageKey: 'profiles.validation.startFromMissing', params: { path: 'startFrom' } }]);
    let source: PortalProfile | null = null;
    if (input.startFrom !== null) {
      source = await this.profiles.get(input.startFrom);
      if (!source) throw startFromMissing();
    }
    const from = source;
    return this.insertProfile(trimmed(input.name), trimmed(input.description), actor, 'create', async (profile, transaction) => {
      if (from) {
        // Checked again under the profiles' lock: a source deleted meanwhile would leave an empty profile.
        if (!(await this.profiles.get(from.id, { transaction }))) throw startFromMissing();
        await this.sections.copy(from.id, profile.id, transaction);
      }
      return { startFrom: from?.name ?? null };
    });
  }

  async duplicate(id: number, input: { readonly name?: string }, actor: ProfileActor): Promise<PortalProfile> {
    if (!(await this.licensed())) throw licenceRequired();
    const source = await this.get(id);
    const name = trimmed(input.name) || (await this.freeName(source.name));
    return this.insertProfile(name, source.description, actor, 'duplicate', async (profile, transaction) => {
      // Checked again under the profiles' lock: a source deleted meanwhile would leave an empty copy.
      if (!(await this.profiles.get(source.id, { transaction }))) throw profileNotFound();
      await this.sections.copy(source.id, profile.id, transaction);
      return { startFrom: source.name };
    });
  }

  async rename(id: number, input: { readonly name: string; readonly description: string; readonly expectedVersion: number }, actor: ProfileActor): Promise<PortalProfile> {
    const current = await this.get(id);
    const name = trimmed(input.name);
    const description = trimmed(input.description);
    try {
      await this.sequelize.transaction(async (transaction) => {
        await this.claimName(name, id, transaction, current.name);
        await this.bumpVersion(id, input.expectedVersion, transaction);
        // Admin text travels as bind parameters, never inside the SQL.
        await this.sequelize.query('UPDATE bp_profiles SET name = $name, description = $description WHERE id = $id', {
          bind: { id, name, description },
          transaction,
        });
        await this.auditLog.record(
          {
            profileId: id,
            profileName: name,
            actor,
            action: 'rename',
            before: { name: current.name, description: current.description },
            after: { name, description },
          },
          transaction,
        );
      });
    } catch (error) {
      if (error instanceof UniqueConstraintError) throw nameTaken(name);
      throw error;
    }
    return this.get(id);
  }

  async delete(id: number, input: { readonly moveTo: number | null; readonly expectedVersion: number }, actor: ProfileActor): Promise<DeleteOutcome> {
    const profile = await this.get(id);
    if (profile.isDefault) throw new ProfileError('default_undeletable', 400, 'profiles.errors.defaultUndeletable');
    const target = input.moveTo === null ? await this.profiles.defaultProfile() : await this.profiles.get(input.moveTo);
    if (!target || target.id === id) {
      throw new ProfileValidationError([{ path: 'moveTo', messageKey: 'profiles.validation.moveToInvalid', params: { path: 'moveTo' } }]);
    }
    const before = await this.exportProfile(id);
    const movedContacts = await this.sequelize.transaction(async (transaction) => {
      // Deletes take turns: another admin may be deleting the profile the contacts move to, and
      // contacts moved onto it then fell to no profile (PostgreSQL) or hit its key (a 500 on MariaDB).
      await this.lockProfiles(transaction);
      await this.bumpVersion(id, input.expectedVersion, transaction);
      if (!(await this.profiles.get(target.id, { transaction }))) {
        throw new ProfileValidationError([{ path: 'moveTo', messageKey: 'profiles.validation.moveToInvalid', params: { path: 'moveTo' } }]);
      }
      const moved = toNumber(
        await this.sequelize.query(
          `UPDATE bp_portal_accounts SET profile_id = :target, updated_at = :now, version = version + 1 WHERE profile_id = :id`,
          { type: QueryTypes.BULKUPDATE, replacements: { id, target: target.id, now: new Date() }, transaction },
        ),
      );
      await this.sections.removeAll(id, transaction);
      await this.sequelize.query('DELETE FROM bp_profiles WHERE id = :id', { replacements: { id }, transaction });
      await this.auditLog.record(
        { profileId: id, profileName: profile.name, actor, action: 'delete', before, after: { movedContacts: moved, movedTo: target.name } },
        transaction,
      );
      return moved;
    });
    return { movedContacts, movedTo: target };
  }

  // ─────────────────────────────────── sections ───────────────────────────────────

  async saveSection<S extends ProfileSection>(id: number, section: S, value: unknown, expectedVersion: number, actor: ProfileActor): Promise<SaveOutcome> {
    const input = validateSection(section, value);
    const current = await this.document(id);
    if (current.profile.version !== expectedVersion) throw staleProfile();
    const licensed = await this.licensed();
    const findings = new Findings(false);
    const next = await this.cleanSection(section, input, current, licensed, findings);
    findings.throwIfProblems();

    const { before, after } = auditValues(section, current, next);
    await this.sequelize.transaction(async (transaction) => {
      await this.bumpVersion(id, expectedVersion, transaction);
      await this.writeSection(id, section, next, transaction);
      await this.auditLog.record({ profileId: id, profileName: current.profile.name, actor, action: 'save', section, before, after }, transaction);
    });

    const document = await this.document(id);
    const notices = [...findings.notices, ...this.creationWarnings(section, document, licensed), ...this.ruleLeakWarnings(section, document), ...(await this.hiddenInMailWarnings(section, document))];
    if (document.flags.length > 0) notices.push({ messageKey: 'profiles.notices.flagged', params: { count: document.flags.length } });
    return { document, notices };
  }

  /**
   * After a rules or modules save: a rule whose condition tests a field the profile hides lets
   * customers infer that field's value from what the rule does to the fields they see (a category
   * read-only on exactly the "Critical" tickets tells which are critical). A warning, not a
   * refusal: an administrator may mean it (an internal flag that locks a record).
   * And a rule that makes mandatory a field the profile hides or makes read-only: customers cannot
   * fill it, so the portal never asks for it (the access layer checks only what they may write),
   * and the admin who meant to require it is told so rather than left to find records without it.
   */
  private ruleLeakWarnings(section: ProfileSection, document: ProfileDocument): ProfileNotice[] {
    if (section !== 'rules' && section !== 'modules') return [];
    const notices: ProfileNotice[] = [];
    for (const rule of document.rules) {
      const entry = document.modules.find((m) => m.module === rule.module);
      const definition = this.registry.module(rule.module);
      if (!entry || !definition) continue;
      for (const name of new Set(rule.conditions.map((condition) => condition.field))) {
        const field = definition.fields.find((f) => f.name === name);
        if (!field || (entry.fields[name] ?? DEFAULT_FIELD_ACCESS) !== 'hidden') continue;
        notices.push({ messageKey: 'profiles.notices.ruleTestsHiddenField', params: { rule: rule.name }, labels: { module: definition.label, field: field.label } });
      }
      for (const name of new Set(rule.effects.filter((effect) => effect.effect === 'mandatory').map((effect) => effect.field))) {
        const field = definition.fields.find((f) => f.name === name);
        if (!field || (entry.fields[name] ?? DEFAULT_FIELD_ACCESS) === 'readwrite') continue;
        notices.push({ messageKey: 'profiles.notices.ruleMandatoryNotWritable', params: { rule: rule.name }, labels: { module: definition.label, field: field.label } });
      }
    }
    return notices;
  }

  /**
   * After a notifications or modules save: a ticket mail to the customer (new ticket, reply) whose
   * template — the one chosen, else the host's standard one — merges a ticket field the profile
   * hides. The mail leaves the value out, as the portal does (an empty "status" in a sentence), and
   * the admin is told so: show the field, or choose a template without it.
   */
  private async hiddenInMailWarnings(section: ProfileSection, document: ProfileDocument): Promise<ProfileNotice[]> {
    if (section !== 'notifications' && section !== 'modules') return [];
    const entry = document.modules.find((m) => m.module === TICKET_MAIL_MODULE);
    const definition = this.registry.module(TICKET_MAIL_MODULE);
    if (!entry || !definition) return [];
    const hidden = definition.fields.filter((field) => (entry.fields[field.name] ?? DEFAULT_FIELD_ACCESS) === 'hidden');
    if (hidden.length === 0) return [];
    const all = await this.templates.templates();
    const notices: ProfileNotice[] = [];
    const seen = new Set<number>();
    for (const kind of TICKET_MAIL_KINDS) {
      const id = document.notifications.templates[kind];
      // A chosen template since deleted from the CRM: the standard one is sent meanwhile.
      const template = (id === null ? undefined : all.find((t) => t.id === id)) ?? all.find((t) => t.name === STANDARD_TEMPLATE_NAMES[kind]);
      if (!template || seen.has(template.id)) continue;
      seen.add(template.id);
      const merged = await fieldsMerged(this.templates, template, 'ticket', hidden.map((field) => field.name));
      for (const field of hidden) {
        if (merged.has(field.name)) notices.push({ messageKey: 'profiles.notices.templateMergesHiddenField', params: { template: template.name }, labels: { module: definition.label, field: field.label } });
      }
    }
    return notices;
  }

  /**
   * What a save leaves customers unable to do while Create says they may, told as warnings (the
   * save stands: the admin may be half-way through a change):
   * - after a modules or globals save, a required field of a module customers may create in that
   *   the profile hides or makes read-only (the CRM would refuse every new record) — but not a
   *   required picklist or a reference to Contacts / Accounts: the portal fills those itself
   *   (its first value; the customer's contact and organization), as the access layer does;
   * - after a general, modules or globals save, no owner while some module allows Create: the
   *   records get no owner and no one is mailed about them.
   */
  private creationWarnings(section: ProfileSection, document: ProfileDocument, licensed: boolean): ProfileNotice[] {
    if (section !== 'general' && section !== 'modules' && section !== 'globals') return [];
    const effective = this.effective(document.modules, document.globals, licensed);
    const creatable = document.modules.flatMap((entry) => {
      const access = effective.get(entry.module);
      const definition = this.registry.module(entry.module);
      // Public catalogues (FAQ) are read-only on the portal whatever the flags say.
      return access?.shown && access.create && definition && !(entry.module in PUBLIC_CATALOGUES) ? [{ entry, definition }] : [];
    });
    const notices: ProfileNotice[] = [];
    if (section !== 'general') {
      for (const { entry, definition } of creatable) {
        for (const field of definition.fields) {
          if (!field.mandatory || filledOnCreateByThePortal(field)) continue;
          const access = entry.fields[field.name] ?? DEFAULT_FIELD_ACCESS;
          if (access === 'readwrite') continue;
          notices.push({
            messageKey: access === 'hidden' ? 'profiles.notices.requiredFieldHidden' : 'profiles.notices.requiredFieldReadOnly',
            labels: { module: definition.label, field: field.label },
          });
        }
      }
    }
    if (document.general.owner === null && creatable.length > 0) {
      notices.push({ messageKey: 'profiles.notices.ownerNotSet', labels: { modules: joinedLabels(creatable.map(({ definition }) => definition.label)) } });
    }
    return notices;
  }

  /** Checks a section against the server rules and answers what will be stored. */
  private async cleanSection(section: ProfileSection, input: SectionInputs[ProfileSection], current: ProfileSections, licensed: boolean, findings: Findings): Promise<ProfileSections[ProfileSection]> {
    switch (section) {
      case 'general':
        return (await this.cleanGeneral(input as GeneralSection, current.general, findings));
      case 'notifications':
        return (await this.cleanNotifications(input as NotificationsSection, current.notifications, findings));
      case 'globals':
        return input as GlobalPrivileges;
      case 'modules':
        return this.cleanModules(input as readonly ModulePrivilegesInput[], current.modules, licensed, findings);
      case 'buttons':
        return this.cleanButtons(input as readonly HomeButton[], current.modules, current.globals, licensed, findings, current.buttons);
      case 'rules':
        return this.cleanRules(input as readonly ConditionalRule[], findings, current.rules);
      default:
        throw new Error(`Unknown profile section ${String(section)}`);
    }
  }

  private async writeSection(id: number, section: ProfileSection, value: ProfileSections[ProfileSection], transaction: Transaction): Promise<void> {
    switch (section) {
      case 'general':
        return this.sections.writeGeneral(id, value as GeneralSection, transaction);
      case 'notifications':
        return this.sections.writeNotifications(id, value as NotificationsSection, transaction);
      case 'globals':
        return this.sections.writeGlobals(id, value as GlobalPrivileges, transaction);
      case 'modules':
        return this.sections.writeModules(id, value as readonly ModulePrivileges[], transaction);
      case 'buttons':
        return this.sections.writeButtons(id, value as readonly HomeButton[], transaction);
      case 'rules':
        return this.sections.writeRules(id, value as readonly ConditionalRule[], transaction);
    }
  }

  /**
   * The owner exists — or is the stored one sent back unchanged: a user or group removed from the
   * CRM since it was chosen is kept (the page offers it, marked), so that saving the two-factor
   * choices does not silently clear it; no one is mailed about new records meanwhile.
   */
  private async cleanGeneral(general: GeneralSection, stored: GeneralSection, findings: Findings): Promise<GeneralSection> {
    const unchanged = general.owner !== null && stored.owner !== null && general.owner.kind === stored.owner.kind && general.owner.id === stored.owner.id;
    if (general.owner && !unchanged) {
      const exists = general.owner.kind === 'user' ? await this.users.user(general.owner.id) : await this.users.group(general.owner.id);
      if (!exists) findings.refuse('general.owner', 'profiles.validation.ownerMissing');
    }
    checkTwoFactor(general, findings);
    return general;
  }

  /**
   * Each chosen template exists, and a new choice merges what its kind needs (the access details'
   * password, password recovery's link). A stored choice sent back unchanged is kept even when it
   * lacks it (chosen before this check) or was removed from the CRM since (the page offers it,
   * marked): the mail falls back to the standard template meanwhile.
   */
  private async cleanNotifications(notifications: NotificationsSection, stored: NotificationsSection, findings: Findings): Promise<NotificationsSection> {
    for (const kind of NOTIFICATION_KINDS) {
      const templateId = notifications.templates[kind];
      // None, or the stored choice kept as it is (even removed from the CRM, or lacking what its kind needs).
      if (templateId === null || templateId === stored.templates[kind]) continue;
      const path = `notifications.templates.${kind}`;
      const template = await this.templates.template(templateId);
      if (!template) {
        findings.refuse(path, 'profiles.validation.templateMissing');
        continue;
      }
      const missing = await placeholderGapFor(this.templates, template, kind);
      if (missing === null) continue;
      findings.refuse(path, TEMPLATE_GAP_MESSAGES[kind === 'registration' ? 'registration' : 'passwordRecovery'][missing.gap], {
        template: template.name,
        placeholder: placeholderText(missing.placeholder),
      });
    }
    return notifications;
  }

  /**
   * Per-module privileges: only eligible modules, only their fields; without the licence only
   * the base modules may be switched on. Accounts never get Create; a hidden field leaves the
   * list columns. A module left out of the input keeps what it has; fields left out keep theirs.
   */
  private cleanModules(input: readonly ModulePrivilegesInput[], current: readonly ModulePrivileges[], licensed: boolean, findings: Findings): ModulePrivileges[] {
    const seen = new Set<string>();
    const cleaned: ModulePrivileges[] = [];
    const removedColumns: LocalizedText[] = [];
    input.forEach((entry, index) => {
      const at = `modules[${index}]`;
      if (seen.has(entry.module)) {
        findings.reject(`${at}.module`, 'profiles.validation.duplicateModule', { module: entry.module }, { kind: 'module', name: entry.module });
        return;
      }
      seen.add(entry.module);
      const definition = this.registry.module(entry.module);
      if (!definition || !this.eligibility.isEligible(entry.module)) {
        findings.reject(`${at}.module`, 'profiles.validation.moduleNotEligible', { module: entry.module }, { kind: 'module', name: entry.module });
        return;
      }
      const enabled = entry.shown || entry.view || entry.create || entry.edit || entry.delete;
      if (!licensed && enabled && !BASE_PORTAL_MODULES.includes(entry.module)) {
        findings.reject(`${at}.module`, 'profiles.validation.licenceModule', { module: entry.module }, { kind: 'module', name: entry.module });
        return;
      }
      const fieldNames = new Set(definition.fields.map((f) => f.name));
      const base = current.find((m) => m.module === entry.module) ?? emptyModulePrivileges(entry.module, [...fieldNames]);
      const fields: Record<string, FieldAccess> = {};
      for (const name of fieldNames) fields[name] = base.fields[name] ?? DEFAULT_FIELD_ACCESS;
      for (const [name, access] of Object.entries(entry.fields ?? {})) {
        if (fieldNames.has(name)) fields[name] = access;
        else findings.reject(`${at}.fields.${name}`, 'profiles.validation.unknownField', { module: entry.module, field: name }, { kind: 'field', name: `${entry.module}.${name}` });
      }
      const listColumns: string[] = [];
      for (const [position, name] of (entry.listColumns ?? base.listColumns).entries()) {
        if (!fieldNames.has(name)) {
          findings.reject(`${at}.listColumns[${position}]`, 'profiles.validation.unknownField', { module: entry.module, field: name }, { kind: 'listColumn', name: `${entry.module}.${name}` });
        } else if (fields[name] === 'hidden') {
          removedColumns.push(fieldPath(definition.label, definition.fields.find((f) => f.name === name)?.label ?? { en: name }));
        } else {
          listColumns.push(name);
        }
      }
      let create = entry.create;
      if (entry.module === 'Accounts' && create) {
        create = false;
        findings.notices.push({ messageKey: 'profiles.notices.accountsNoCreate' });
      }
      cleaned.push({ ...entry, create, fields, listColumns, tools: { ...entry.tools } });
    });
    if (removedColumns.length > 0) findings.notices.push({ messageKey: 'profiles.notices.hiddenColumnsRemoved', labels: { columns: joinedLabels(removedColumns) } });
    return cleaned;
  }

  /**
   * Buttons may only open a module the profile shows and views, and create where it may create.
   * A `stored` button that is already inert for the same reason (its module lost its relation to
   * Contacts, Create was switched off…) and comes back unchanged is kept, still flagged: the spec
   * keeps such items, and reordering the other buttons must not fail on it.
   */
  private cleanButtons(
    buttons: readonly HomeButton[],
    modules: readonly ModulePrivileges[],
    globals: GlobalPrivileges,
    licensed: boolean,
    findings: Findings,
    stored: readonly HomeButton[] = [],
  ): HomeButton[] {
    buttons = this.knownLanguages(buttons, findings);
    const effective = this.effective(modules, globals, licensed);
    const inert = new UnchangedItems(stored.flatMap((button) => {
      const reason = buttonProblem(button, effective);
      return reason ? [{ item: button, reason }] : [];
    }));
    return buttons.filter((button, index) => {
      const reason = buttonProblem(button, effective);
      if (!reason || inert.take(button, reason)) return true;
      const key: MessageKey = reason === 'create-not-allowed' ? 'profiles.validation.buttonCreateNotAllowed' : 'profiles.validation.buttonModuleNotAllowed';
      findings.reject(`buttons[${index}].module`, key, { button: button.title, module: button.module }, { kind: 'button', name: button.title }, { module: this.moduleLabel(button.module) });
      return false;
    });
  }

  /** Translations only in the CRM's languages: a save naming another is refused, an import drops it. */
  private knownLanguages(buttons: readonly HomeButton[], findings: Findings): readonly HomeButton[] {
    const languages = this.regional ? new Set(this.regional.languages().map((language) => language.code)) : null;
    if (!languages) return buttons;
    return buttons.map((button, index) => {
      const codes = Object.keys(button.translations ?? {});
      const unknown = codes.filter((code) => !languages.has(code));
      if (unknown.length === 0) return button;
      if (!findings.lenient) findings.refuse(`buttons[${index}].translations.${unknown[0]}`, 'profiles.validation.buttonLanguage', { button: button.title, language: unknown[0]! });
      return { ...button, translations: Object.fromEntries(Object.entries(button.translations ?? {}).filter(([code]) => languages.has(code))) };
    });
  }

  /** A module's label in every language the host gives, or its name when the host has no such module. */
  private moduleLabel(name: string): LocalizedText {
    return this.registry.module(name)?.label ?? { en: name };
  }

  /**
   * Rules name an eligible module and only its fields, and do something (a field effect or all
   * fields read-only); each condition's value suits its operator. An origin that names a CRM rule
   * or a profile that does not exist becomes `portal`, with a notice: the rule is kept as the
   * portal-only copy it is, and no badge claims a source that is not there.
   */
  private async cleanRules(rules: readonly ConditionalRule[], findings: Findings, stored: readonly ConditionalRule[] = []): Promise<ConditionalRule[]> {
    const origins = await this.knownOrigins(rules);
    const dropped: string[] = [];
    // A stored rule whose module or field went away is kept, inert, while it comes back unchanged.
    const inert = new UnchangedItems(stored.flatMap((rule) => {
      const reason = this.ruleTargetProblem(rule);
      return reason ? [{ item: rule, reason }] : [];
    }));
    // A datetime's value is stored as the instant it names in the CRM's zone (`datetime-rule-values.ts`).
    const timeZone = this.regional?.timeZone() ?? 'UTC';
    const instants = new Map<ConditionalRule, ConditionalRule>();
    const cleaned = rules.filter((rule, index) => {
      const at = `rules[${index}]`;
      const skip = { kind: 'rule', name: rule.name } as const;
      const target = this.ruleTargetProblem(rule);
      if (target && inert.take(rule, target)) return true;
      const definition = this.registry.module(rule.module);
      if (!definition || !this.eligibility.isEligible(rule.module)) {
        findings.reject(`${at}.module`, 'profiles.validation.ruleModuleNotEligible', { rule: rule.name, module: rule.module }, skip, { module: this.moduleLabel(rule.module) });
        return false;
      }
      const fieldNames = new Set(definition.fields.map((f) => f.name));
      const missing = [...rule.conditions.map((c, i) => ({ field: c.field, path: `${at}.conditions[${i}].field` })), ...rule.effects.map((e, i) => ({ field: e.field, path: `${at}.effects[${i}].field` }))].find(
        (ref) => !fieldNames.has(ref.field),
      );
      if (missing) {
        findings.reject(missing.path, 'profiles.validation.unknownField', { module: rule.module, field: missing.field }, skip);
        return false;
      }
      if (rule.effects.length === 0 && !rule.allReadOnly) {
        findings.reject(`${at}.effects`, 'profiles.validation.ruleWithoutEffect', {}, skip);
        return false;
      }
      for (const [position, condition] of rule.conditions.entries()) {
        const problem = conditionValueProblem(condition);
        if (problem) {
          findings.reject(`${at}.conditions[${position}].value`, problem, { op: condition.op }, skip);
          return false;
        }
        const field = definition.fields.find((f) => f.name === condition.field)!;
        const typeProblem = conditionTypeProblem(condition, field);
        if (typeProblem) {
          findings.reject(`${at}.conditions[${position}].value`, typeProblem, { field: condition.field }, skip, { field: field.label });
          return false;
        }
      }
      const conditions: RuleCondition[] = [];
      for (const [position, condition] of rule.conditions.entries()) {
        const field = definition.fields.find((f) => f.name === condition.field)!;
        const read = conditionWithInstants(condition, field, timeZone);
        if ('refused' in read) {
          const key = read.reason === 'nonexistent' ? 'profiles.validation.ruleValueNonexistentTime' : 'profiles.validation.ruleValueDateTime';
          findings.reject(`${at}.conditions[${position}].value`, key, { field: condition.field, value: read.refused, zone: timeZone }, skip, { field: field.label });
          return false;
        }
        conditions.push(read.condition);
      }
      instants.set(rule, { ...rule, conditions });
      return true;
    });
    const result = cleaned.map((kept) => {
      const rule = instants.get(kept) ?? kept;
      if (origins.has(rule.origin)) return rule;
      dropped.push(rule.name);
      return { ...rule, origin: { kind: 'portal' } as const };
    });
    if (dropped.length > 0) findings.notices.push({ messageKey: 'profiles.notices.ruleOriginsDropped', params: { rules: dropped.join(', ') } });
    return result;
  }

  /** Why a rule cannot apply on this host (its module is not portal-eligible, or lacks a field it names), or null. */
  private ruleTargetProblem(rule: ConditionalRule): 'module' | 'field' | null {
    const definition = this.registry.module(rule.module);
    if (!definition || !this.eligibility.isEligible(rule.module)) return 'module';
    const names = new Set(definition.fields.map((f) => f.name));
    return [...rule.conditions, ...rule.effects].every((ref) => names.has(ref.field)) ? null : 'field';
  }

  /** Which of the rules' origins name something that exists: `portal`, a CRM rule of the host, a profile. */
  private async knownOrigins(rules: readonly ConditionalRule[]): Promise<{ has(origin: ConditionalRule['origin']): boolean }> {
    const needsCrm = this.crmRules !== undefined && rules.some((rule) => rule.origin.kind === 'crm');
    const needsProfiles = rules.some((rule) => rule.origin.kind === 'profile');
    const crmIds = needsCrm ? new Set((await this.crmRules!.rules()).map((rule) => rule.id)) : null;
    const profileNames = needsProfiles ? new Set((await this.profiles.list()).map((profile) => profile.name)) : null;
    return {
      has: (origin) => {
        if (origin.kind === 'crm') return crmIds === null || crmIds.has(origin.ruleId);
        if (origin.kind === 'profile') return profileNames!.has(origin.profileName);
        return true;
      },
    };
  }

  // ───────────────────────────────── export / import ─────────────────────────────────

  async exportProfile(id: number): Promise<ProfileExport> {
    const document = await this.document(id);
    const [owner, templates] = await Promise.all([this.exportedOwner(document.general.owner), this.templateNames()]);
    return {
      schemaVersion: EXPORT_SCHEMA_VERSION,
      kind: EXPORT_KIND,
      exportedAt: new Date().toISOString(),
      profile: { name: document.profile.name, description: document.profile.description },
      general: { owner, twoFactorType: document.general.twoFactorType, twoFactorFallback: document.general.twoFactorFallback },
      notifications: {
        templates: Object.fromEntries(NOTIFICATION_KINDS.map((kind) => {
          const templateId = document.notifications.templates[kind];
          return [kind, templateId === null ? null : (templates.byId.get(templateId) ?? null)];
        })) as Record<NotificationKind, string | null>,
        smtpAccount: document.notifications.smtpAccount,
        senderEmail: document.notifications.senderEmail,
        senderName: document.notifications.senderName,
      },
      buttons: document.buttons,
      rules: document.rules,
      globals: document.globals,
      modules: document.modules,
    };
  }

  async importProfile(file: unknown, options: { readonly name?: string }, actor: ProfileActor): Promise<ImportOutcome> {
    const data = validateExportFile(file);
    if (!(await this.licensed())) throw licenceRequired();
    // A name given with the file follows the new-profile form's rule (length, no control character).
    const name = trimmed(options.name) ? validateProfileName(options.name).trim() : data.profile.name.trim();
    const findings = new Findings(true);

    // Owner and templates by name: ids differ from one CRM to another.
    let owner: OwnerRef | null = null;
    const exportedOwner = data.general.owner;
    if (exportedOwner) {
      if (exportedOwner.kind === 'user') {
        const user = (await this.users.users()).find((u) => u.userName === exportedOwner.userName);
        if (user) owner = { kind: 'user', id: user.id };
        else findings.skipped.push({ kind: 'owner', name: exportedOwner.userName });
      } else {
        const group = (await this.users.groups()).find((g) => g.name === exportedOwner.name);
        if (group) owner = { kind: 'group', id: group.id };
        else findings.skipped.push({ kind: 'owner', name: exportedOwner.name });
      }
    }
    const general: GeneralSection = { owner, twoFactorType: data.general.twoFactorType, twoFactorFallback: data.general.twoFactorFallback };
    checkTwoFactor(general, findings);

    const templates = await this.templateNames();
    const templateIds = {} as Record<NotificationKind, number | null>;
    for (const kind of NOTIFICATION_KINDS) {
      const templateName = data.notifications.templates[kind];
      let templateId = templateName === null ? null : (templates.byName.get(templateName) ?? null);
      if (templateName !== null && templateId === null) findings.skipped.push({ kind: 'template', name: templateName });
      // A template of the same name here may lack what this notification must carry (the password,
      // the reset link): the standard template is used instead, as the editor would insist.
      const template = templateId === null ? undefined : await this.templates.template(templateId);
      if (templateName !== null && template && (await missingPlaceholderFor(this.templates, template, kind)) !== null) {
        findings.skipped.push({ kind: 'unfitTemplate', name: templateName });
        templateId = null;
      }
      templateIds[kind] = templateId;
    }
    const notifications: NotificationsSection = {
      templates: templateIds,
      smtpAccount: data.notifications.smtpAccount,
      senderEmail: data.notifications.senderEmail,
      senderName: data.notifications.senderName,
    };

    // An import is refused without the licence (above): every eligible module may be enabled.
    const licensed = true;
    const empty = this.eligibility.eligibleModules().map((m) => emptyModulePrivileges(m.name, m.fields.map((f) => f.name)));
    const modules = this.cleanModules(data.modules, empty, licensed, findings);
    const allModules = empty.map((m) => modules.find((c) => c.module === m.module) ?? m);
    const buttons = this.cleanButtons(data.buttons.map((button) => withKnownIcon(button, findings)), allModules, data.globals, licensed, findings);
    const rules = await this.cleanRules(data.rules, findings);
    findings.throwIfProblems();

    const sections: ProfileSections = { general, notifications, buttons, rules, globals: data.globals, modules };
    const profile = await this.insertProfile(name, data.profile.description.trim(), actor, 'import', async (created, transaction) => {
      await this.sections.writeGeneral(created.id, general, transaction);
      await this.sections.writeNotifications(created.id, notifications, transaction);
      await this.sections.writeGlobals(created.id, data.globals, transaction);
      await this.sections.writeModules(created.id, modules, transaction);
      await this.sections.writeButtons(created.id, buttons, transaction);
      await this.sections.writeRules(created.id, rules, transaction);
      return { ...sections, skipped: findings.skipped };
    });
    return { profile, skipped: findings.skipped, notices: findings.notices };
  }

  audit(id: number, page = { number: 1, size: 200 }): Promise<readonly AuditEntry[]> {
    return this.auditLog.list(id, page.size, (page.number - 1) * page.size);
  }

  auditEntry(id: number, entryId: number): Promise<AuditEntry | null> {
    return this.auditLog.get(id, entryId);
  }

  auditCount(id: number): Promise<number> {
    return this.auditLog.count(id);
  }

  deletions(page: { readonly number: number; readonly size: number }): Promise<readonly AuditEntry[]> {
    return this.auditLog.deletions(page.size, (page.number - 1) * page.size);
  }

  deletionCount(): Promise<number> {
    return this.auditLog.deletionCount();
  }

  // ──────────────────────────────────── pieces ────────────────────────────────────

  private assemble(profile: PortalProfile, stored: StoredSections, licensed: boolean): ProfileDocument {
    const modules = this.eligibility.eligibleModules().map((definition) => moduleEntry(definition, stored));
    const sections: ProfileSections = { ...stored, modules };
    return { profile, ...sections, flags: this.flags(sections, licensed) };
  }

  /** Buttons and rules that point at a module or field the profile no longer allows. */
  private flags(sections: ProfileSections, licensed: boolean): ProfileFlag[] {
    const effective = this.effective(sections.modules, sections.globals, licensed);
    const flags: ProfileFlag[] = [];
    sections.buttons.forEach((button, index) => {
      const reason = buttonProblem(button, effective);
      if (reason) flags.push({ section: 'buttons', index, reason, module: button.module });
    });
    sections.rules.forEach((rule, index) => {
      const definition = this.registry.module(rule.module);
      if (!definition || !effective.get(rule.module)?.shown) {
        flags.push({ section: 'rules', index, reason: 'module-not-allowed', module: rule.module });
        return;
      }
      const names = new Set(definition.fields.map((f) => f.name));
      const missing = [...rule.conditions.map((c) => c.field), ...rule.effects.map((e) => e.field)].find((field) => !names.has(field));
      if (missing) flags.push({ section: 'rules', index, reason: 'field-missing', module: rule.module, field: missing });
    });
    return flags;
  }

  /** What the profile really allows per eligible module: the global privileges widen the flags. */
  private effective(modules: readonly ModulePrivileges[], globals: GlobalPrivileges, licensed: boolean): Map<string, Effective> {
    const result = new Map<string, Effective>();
    for (const entry of modules) {
      if (!this.eligibility.isEligible(entry.module)) continue;
      if (!licensed && !BASE_PORTAL_MODULES.includes(entry.module)) continue;
      const flags = effectiveFlags(entry, globals);
      // Public catalogues (FAQ) are read-only on the portal whatever the flags say.
      result.set(entry.module, { shown: flags.shown, view: flags.view, create: flags.create && !(entry.module in PUBLIC_CATALOGUES) });
    }
    return result;
  }

  /**
   * Inserts a profile and runs `fill` in the same transaction, then writes the audit row with
   * what `fill` answers as the "after" value.
   */
  private async insertProfile(
    name: string,
    description: string,
    actor: ProfileActor,
    action: 'create' | 'duplicate' | 'import',
    fill: (profile: PortalProfile, transaction: Transaction) => Promise<unknown>,
  ): Promise<PortalProfile> {
    let id = 0;
    try {
      await this.sequelize.transaction(async (transaction) => {
        await this.claimName(name, undefined, transaction);
        const now = new Date();
        await this.sequelize.query(
          `INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version) VALUES (:name, :description, :no, :now, :now, 1)`,
          { type: QueryTypes.INSERT, replacements: { name, description, no: false, now }, transaction },
        );
        const [row] = await this.sequelize.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE name = $name', {
          type: QueryTypes.SELECT,
          bind: { name },
          transaction,
        });
        id = toNumber(row?.id);
        const created = await this.profiles.get(id, { transaction });
        if (!created) throw new Error('Business Portal: the new profile cannot be read back');
        const after = await fill(created, transaction);
        await this.auditLog.record(
          { profileId: id, profileName: name, actor, action, after: { name, description, ...(after as object) } },
          transaction,
        );
      });
    } catch (error) {
      if (error instanceof UniqueConstraintError) throw nameTaken(name);
      throw error;
    }
    return this.get(id);
  }

  /** Bumps the version only when it is still the one the admin saw; else someone else changed it. */
  private async bumpVersion(id: number, expectedVersion: number, transaction: Transaction): Promise<void> {
    const matched = toNumber(
      await this.sequelize.query('UPDATE bp_profiles SET version = version + 1, updated_at = :now WHERE id = :id AND version = :expectedVersion', {
        type: QueryTypes.BULKUPDATE,
        replacements: { id, expectedVersion, now: new Date() },
        transaction,
      }),
    );
    if (matched === 1) return;
    const [row] = await this.sequelize.query('SELECT id FROM bp_profiles WHERE id = :id', { type: QueryTypes.SELECT, replacements: { id }, transaction });
    throw row ? staleProfile() : profileNotFound();
  }

  /**
   * Names are unique whatever their case, compared here rather than in SQL: SQLite's LOWER folds
   * ASCII letters only, so `Ünïcødé` and `üNÏCØDÉ` passed there. Profiles are few.
   */
  private async nameInUse(name: string, exceptId?: number, transaction?: Transaction): Promise<boolean> {
    const rows = await this.sequelize.query<{ id: unknown; name: unknown }>('SELECT id, name FROM bp_profiles', { type: QueryTypes.SELECT, transaction });
    const key = nameKey(name);
    return rows.some((row) => toNumber(row.id) !== exceptId && nameKey(String(row.name)) === key);
  }

  /**
   * The lock that creates, renames and deletes take turns on: the Default profile's row (always
   * there), taken first in the transaction, before the profile's own row (its version check), so
   * that every writer takes the two in the same order.
   */
  private async lockProfiles(transaction: Transaction): Promise<void> {
    await this.sequelize.query('UPDATE bp_profiles SET is_default = is_default WHERE is_default = :yes', {
      type: QueryTypes.BULKUPDATE,
      replacements: { yes: true },
      transaction,
    });
  }

  /**
   * Checks the name again inside the writing transaction, under the profiles' lock: the unique key
   * on `name` compares case-sensitively on PostgreSQL and SQLite, so two admins creating or
   * renaming to `Sales` and `SALES` at once both passed the check made before the transaction.
   */
  private async claimName(name: string, exceptId: number | undefined, transaction: Transaction, held?: string): Promise<void> {
    await this.lockProfiles(transaction);
    // A profile keeping its name as names are compared claims nothing new: one stored beside a
    // look-alike before names were compared this way can still have its description changed.
    if (held !== undefined && nameKey(held) === nameKey(name)) return;
    if (await this.nameInUse(name, exceptId, transaction)) throw nameTaken(name);
  }

  /** `Name 2`, `Name 3`… : the first free one (kept within the name's length limit). */
  private async freeName(base: string): Promise<string> {
    for (let n = 2; n < 1000; n += 1) {
      const suffix = ` ${n}`;
      const candidate = `${base.slice(0, 100 - suffix.length)}${suffix}`;
      if (!(await this.nameInUse(candidate))) return candidate;
    }
    throw nameTaken(base);
  }

  private async exportedOwner(owner: OwnerRef | null): Promise<ExportedOwner | null> {
    if (!owner) return null;
    if (owner.kind === 'user') {
      const user = await this.users.user(owner.id);
      return user ? { kind: 'user', userName: user.userName } : null;
    }
    const group = await this.users.group(owner.id);
    return group ? { kind: 'group', name: group.name } : null;
  }

  private async templateNames(): Promise<{ byId: Map<number, string>; byName: Map<string, number> }> {
    const all = await this.templates.templates();
    return { byId: new Map(all.map((t) => [t.id, t.name])), byName: new Map(all.map((t) => [t.name, t.id])) };
  }
}

/**
 * Stored items (buttons, rules) that are inert for a reason, each usable once: an item sent back
 * equal to one of them, for the same reason, is that stored item unchanged (wherever it moved).
 */
class UnchangedItems<T> {
  private readonly pool: { key: string; reason: string }[];

  constructor(items: readonly { readonly item: T; readonly reason: string }[]) {
    this.pool = items.map(({ item, reason }) => ({ key: canonical(item), reason }));
  }

  take(item: T, reason: string): boolean {
    const key = canonical(item);
    const index = this.pool.findIndex((entry) => entry.key === key && entry.reason === reason);
    if (index < 0) return false;
    this.pool.splice(index, 1);
    return true;
  }
}

/** Labels joined with commas, language by language (English where one lacks the language). */
/** Labels joined by `separator` in every language any of them has (English where one lacks it). */
function joinedLabels(labels: readonly LocalizedText[], separator = ', '): LocalizedText {
  const languages = new Set(labels.flatMap((label) => Object.keys(label)));
  const joined: Record<string, string> = { en: labels.map((label) => label.en).join(separator) };
  for (const language of languages) joined[language] = labels.map((label) => label[language] ?? label.en).join(separator);
  return joined as LocalizedText;
}

/** "Tickets › Status", in every language either label has. */
const fieldPath = (module: LocalizedText, field: LocalizedText): LocalizedText => joinedLabels([module, field], ' › ');

function checkTwoFactor(general: GeneralSection, findings: Findings): void {
  if (general.twoFactorType === 'none' && general.twoFactorFallback !== 'none') findings.refuse('general.twoFactorFallback', 'profiles.validation.fallbackWithoutType');
  else if (general.twoFactorType !== 'none' && general.twoFactorFallback === general.twoFactorType) findings.refuse('general.twoFactorFallback', 'profiles.validation.fallbackSameAsType');
}

/** A button of an export file whose icon this portal lacks shows the fallback icon (it would be drawn so anyway). */
function withKnownIcon(button: HomeButton, findings: Findings): HomeButton {
  if (Object.hasOwn(BUTTON_ICONS, button.icon)) return button;
  findings.notices.push({ messageKey: 'profiles.notices.iconReplaced', params: { button: button.title, icon: button.icon, fallback: FALLBACK_ICON } });
  return { ...button, icon: FALLBACK_ICON };
}

/**
 * What is wrong with a condition's value for its operator, or null: `in` takes a list; the
 * ordering operators a number, a date or a text; `contains` and `startsWith` a text; `eq` and
 * `ne` one value of any kind; `isNull` and `notNull` none (a value given is ignored).
 */
function conditionValueProblem(condition: RuleCondition): MessageKey | null {
  const { op, value } = condition;
  switch (op) {
    case 'isNull':
    case 'notNull':
      return null;
    case 'in':
      return Array.isArray(value) ? null : 'profiles.validation.ruleValue';
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return typeof value === 'number' || typeof value === 'string' ? null : 'profiles.validation.ruleValueOrdered';
    case 'contains':
    case 'startsWith':
      return typeof value === 'string' ? null : 'profiles.validation.ruleValueText';
    default:
      return value === undefined || Array.isArray(value) ? 'profiles.validation.ruleValue' : null;
  }
}

/**
 * What is wrong with a condition's value for its field, or null: a number field compares with
 * numbers, a date field with days written `YYYY-MM-DD` (compared as text, another way of writing
 * them would never match as meant), a checkbox with true or false. Other fields take any text.
 */
function conditionTypeProblem(condition: RuleCondition, field: FieldDefinition): MessageKey | null {
  if (condition.op === 'isNull' || condition.op === 'notNull' || condition.op === 'contains' || condition.op === 'startsWith') return null;
  const values = Array.isArray(condition.value) ? condition.value : [condition.value];
  const fits = (value: FieldValue | undefined): boolean => {
    if (value === null || value === undefined) return true;
    switch (field.type) {
      case 'integer':
      case 'decimal':
      case 'currency':
      case 'reference':
        return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()));
      case 'date':
        return typeof value === 'string' && isDateOnly(value);
      case 'datetime':
        return typeof value === 'string' && (isDateOnly(value) || coerceFieldValue(field, value).ok);
      case 'boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false' || value === 1 || value === 0;
      default:
        return true;
    }
  };
  if (values.every(fits)) return null;
  if (field.type === 'boolean') return 'profiles.validation.ruleValueBoolean';
  if (field.type === 'datetime') return 'profiles.validation.ruleValueDateTime';
  return field.type === 'date' ? 'profiles.validation.ruleValueDate' : 'profiles.validation.ruleValueNumber';
}

function buttonProblem(button: HomeButton, effective: ReadonlyMap<string, Effective>): ProfileFlag['reason'] | null {
  const access = effective.get(button.module);
  if (!access || !access.shown || !access.view) return 'module-not-allowed';
  if (button.action === 'create' && !access.create) return 'create-not-allowed';
  return null;
}

/** The entry of an eligible module: what is stored, with every field of the host's module. */
function moduleEntry(definition: ModuleDefinition, stored: StoredSections): ModulePrivileges {
  const entry = stored.modules.get(definition.name);
  const empty = emptyModulePrivileges(definition.name, definition.fields.map((f) => f.name));
  if (!entry) return empty;
  const fields = Object.fromEntries(definition.fields.map((f) => [f.name, entry.fields.get(f.name) ?? DEFAULT_FIELD_ACCESS])) as Record<string, FieldAccess>;
  return {
    ...entry,
    fields,
    listColumns: entry.listColumns.filter((column) => column in fields && fields[column] !== 'hidden'),
  };
}

/** The audit's before/after of a section save; for modules only the entries that changed. */
function auditValues(section: ProfileSection, current: ProfileSections, next: ProfileSections[ProfileSection]): { before: unknown; after: unknown } {
  if (section !== 'modules') return { before: current[section], after: next };
  const changed = (next as readonly ModulePrivileges[]).filter((entry) => {
    const old = current.modules.find((m) => m.module === entry.module);
    return canonical(old) !== canonical(entry);
  });
  return {
    before: changed.map((entry) => current.modules.find((m) => m.module === entry.module) ?? null),
    after: changed,
  };
}

/** JSON with object keys sorted, to compare values built in different orders. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))) : item,
  );
}
