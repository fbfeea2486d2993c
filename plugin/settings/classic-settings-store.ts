/**
 * The version 1 settings over the plugin's `SettingsStore`: reading merges the defaults and the
 * modules eligible now with what is stored; saving checks the shape (ajv), then — in one
 * transaction with the write — that every module is eligible (or already stored: entries of
 * modules that lost eligibility are kept, inert), that the select user and the template exist
 * (a new template also that it merges the password), and that the section the admin's form saves is
 * still the one it showed (its revision); the form's change is made on the settings as they are then,
 * so another admin's save of another section is kept. A refused save writes nothing. Each save is recorded through the host's logger (who, what).
 */
import { inject, injectable } from 'inversify';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import { ModuleEligibility } from '../eligibility/module-eligibility.js';
import { HostDatabase, HostEmailTemplates, HostLogger, HostUsers } from '../host-contract/index.js';
import { placeholderGapFor, placeholderText, TEMPLATE_GAP_MESSAGES } from '../notifications/template-placeholders.js';
import type { ValidationProblem } from '../profiles/profile-errors.js';
import {
  CLASSIC_DEFAULT_MODULES,
  CLASSIC_SETTINGS_KEY,
  ClassicSettingsError,
  StaleClassicSettingsError,
  checkClassicShape,
  classicProblem,
  classicRevision,
  isClassicSettings,
  type ClassicModuleSetting,
  type ClassicSection,
  type ClassicSettings,
  type ClassicSettingsStore,
} from './classic-settings.js';
import { SettingsStore, type SettingValue } from './settings-store.js';

/** What changed between two values, for the log line: `HelpDesk.active, order, userId`. */
export function classicChanges(before: ClassicSettings, after: ClassicSettings): string[] {
  const changes: string[] = [];
  const previous = new Map(before.modules.map((m) => [m.module, m]));
  for (const entry of after.modules) {
    const old = previous.get(entry.module);
    if (!old) changes.push(`${entry.module}.added`);
    else {
      if (old.active !== entry.active) changes.push(`${entry.module}.active=${entry.active}`);
      if (old.viewAllRelated !== entry.viewAllRelated) changes.push(`${entry.module}.viewAllRelated=${entry.viewAllRelated}`);
    }
  }
  const order = (value: ClassicSettings) => value.modules.map((m) => m.module).join(',');
  if (order(before) !== order(after)) changes.push('order');
  if (before.userId !== after.userId) changes.push(`userId=${after.userId ?? 'none'}`);
  if (before.credentialsTemplateId !== after.credentialsTemplateId) changes.push(`credentialsTemplateId=${after.credentialsTemplateId ?? 'default'}`);
  return changes;
}

type Change = (current: ClassicSettings) => ClassicSettings | Promise<ClassicSettings>;
type Expected = { readonly section: ClassicSection; readonly revision: string };

@injectable()
export class StoredClassicSettings implements ClassicSettingsStore {
  constructor(
    @inject(SettingsStore) private readonly settings: SettingsStore,
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(ModuleEligibility) private readonly eligibility: ModuleEligibility,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(HostEmailTemplates) private readonly templates: HostEmailTemplates,
    @inject(HostLogger) private readonly logger: HostLogger,
  ) {}

  async read(): Promise<ClassicSettings> {
    return this.complete(this.parse(await this.settings.get(CLASSIC_SETTINGS_KEY)));
  }

  async save(
    change: (current: ClassicSettings) => ClassicSettings | Promise<ClassicSettings>,
    actor: { userId: number; userName: string },
    options: { readonly expected?: Expected } = {},
  ): Promise<ClassicSettings> {
    const { before, after } = await this.write(change, options.expected);
    this.logger.info('Business Portal: version 1 settings saved', {
      userId: actor.userId,
      userName: actor.userName,
      changes: classicChanges(before, after).join(', ') || 'none',
    });
    return after;
  }

  /**
   * Checks and writes in one transaction. The very first save inserts the row: when another
   * process inserted it at the same moment (`isInsertCollision`: a unique violation, or MariaDB's
   * deadlock of two inserts on a deleted row's remains), the save runs once more on top of theirs.
   */
  private async write(change: Change, expected: Expected | undefined, retry = true): Promise<{ before: ClassicSettings; after: ClassicSettings }> {
    try {
      return await this.transaction(change, expected);
    } catch (error) {
      if (retry && isInsertCollision(error)) return this.write(change, expected, false);
      throw error;
    }
  }

  private async transaction(change: Change, expected: Expected | undefined): Promise<{ before: ClassicSettings; after: ClassicSettings }> {
    // Looked for before the transaction: locking a row that is not there would lock the gap where
    // it goes (MariaDB), and two first saves inserting there would deadlock. They race to insert instead.
    const stored = (await this.settings.get(CLASSIC_SETTINGS_KEY)) !== undefined;
    return this.database.sequelize.transaction(async (transaction) => {
      // The row is this save's until the commit: another save waits here, then reads this one's
      // settings — refused as stale when it is of the same section, else made on top of them.
      if (stored) await this.settings.lock(CLASSIC_SETTINGS_KEY, { transaction });
      let raw = await this.settings.get(CLASSIC_SETTINGS_KEY, { transaction });
      // A first save committed since the look above: take turns with whoever writes it next too.
      if (!stored && raw !== undefined) {
        await this.settings.lock(CLASSIC_SETTINGS_KEY, { transaction });
        raw = await this.settings.get(CLASSIC_SETTINGS_KEY, { transaction });
      }
      const before = this.complete(this.parse(raw));
      // The form is checked first (a refused form shows what was typed), on the settings as they are now.
      const value = checkClassicShape(await change(before));
      // The form's section was saved by someone else since it was shown: saving it would undo that.
      if (expected !== undefined && classicRevision(before, expected.section) !== expected.revision) throw new StaleClassicSettingsError();
      const problems = await this.problems(value, before);
      if (problems.length > 0) throw new ClassicSettingsError(problems);
      // Modules the value leaves out stay as they were (kept entries) or come in inactive (eligible ones).
      const after = this.complete({ ...value, modules: [...value.modules, ...before.modules.filter((m) => !value.modules.some((v) => v.module === m.module))] });
      // Nothing was there when this save read: it inserts, and a first save committed meanwhile
      // (which this read could not see) makes it fail and run again on top of that one, refused
      // as stale — never an UPDATE that would silently undo it.
      if (raw === undefined) await this.settings.insert(CLASSIC_SETTINGS_KEY, after as unknown as SettingValue, { transaction });
      else await this.settings.set(CLASSIC_SETTINGS_KEY, after as unknown as SettingValue, { transaction });
      return { before, after };
    });
  }

  private parse(stored: unknown): ClassicSettings | null {
    if (stored === undefined) return null;
    if (isClassicSettings(stored)) return stored;
    this.logger.warn('Business Portal: the stored version 1 settings are not valid; the defaults apply', { key: CLASSIC_SETTINGS_KEY });
    return null;
  }

  /** Stored entries in their order (kept even when no longer eligible), then every other eligible module, inactive. */
  private complete(stored: ClassicSettings | null): ClassicSettings {
    const eligible = this.eligibility.eligibleModules().map((m) => m.name);
    const modules: ClassicModuleSetting[] = [];
    const seen = new Set<string>();
    const add = (entry: ClassicModuleSetting) => {
      if (seen.has(entry.module)) return;
      seen.add(entry.module);
      modules.push({ module: entry.module, active: entry.active, viewAllRelated: entry.viewAllRelated });
    };
    if (stored) for (const entry of stored.modules) add(entry);
    else for (const name of CLASSIC_DEFAULT_MODULES) if (eligible.includes(name)) add({ module: name, active: true, viewAllRelated: false });
    for (const name of eligible) add({ module: name, active: false, viewAllRelated: false });
    return { modules, userId: stored?.userId ?? null, credentialsTemplateId: stored?.credentialsTemplateId ?? null };
  }

  private async problems(value: ClassicSettings, before: ClassicSettings): Promise<ValidationProblem[]> {
    const problems: ValidationProblem[] = [];
    const kept = new Set(before.modules.map((m) => m.module));
    const seen = new Set<string>();
    value.modules.forEach((entry, index) => {
      const path = `modules[${index}].module`;
      if (seen.has(entry.module)) problems.push(classicProblem(path, 'classic.validation.duplicateModule', { module: entry.module }));
      else if (!this.eligibility.isEligible(entry.module) && !kept.has(entry.module)) problems.push(classicProblem(path, 'classic.validation.unknownModule', { module: entry.module }));
      seen.add(entry.module);
    });
    // A user or template chosen earlier and since removed from the CRM is kept, like a module no
    // longer eligible: saving another part of the page must not fail on it (readers fall back).
    if (value.userId !== null && value.userId !== before.userId && !(await this.users.user(value.userId))) problems.push(classicProblem('userId', 'classic.validation.userMissing'));
    if (value.credentialsTemplateId !== null && value.credentialsTemplateId !== before.credentialsTemplateId) {
      const template = await this.templates.template(value.credentialsTemplateId);
      // A new choice must carry the password: without it the new portal user could never sign in.
      const missing = template ? await placeholderGapFor(this.templates, template, 'registration') : null;
      if (!template) problems.push(classicProblem('credentialsTemplateId', 'classic.validation.templateMissing'));
      else if (missing !== null) {
        problems.push(classicProblem('credentialsTemplateId', TEMPLATE_GAP_MESSAGES.registration[missing.gap], { template: template.name, placeholder: placeholderText(missing.placeholder) }));
      }
    }
    return problems;
  }
}
