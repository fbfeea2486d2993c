/**
 * The admin pages of portal profiles, under `/settings/business-portal/profiles`: new profile,
 * the profile's page (rename, duplicate, export, audit), delete with "move contacts to",
 * import with its report of skipped items; and the JSON routes the privileges editor uses
 * (`GET …/:id/document`, `PUT …/:id/sections/:section`, CSRF token in `X-CSRF-Token`).
 *
 * Every body goes through an ajv schema first; refusals come back in the admin's language
 * (a page with the form again, or `{"error": {code, message, problems}}` for JSON).
 */
import express, { type Request, type Response, type Router } from 'express';
import { inject, injectable } from 'inversify';
import { HostEmailTemplates, HostModuleRegistry, HostUsers, type FieldDefinition, type LocalizedText } from '../host-contract/index.js';
import { AdminOutcomes } from '../http/admin-outcomes.js';
import { AdminPages, crmSessionOf } from '../http/admin-pages.js';
import { crmUserLabel } from '../http/crm-user-names.js';
import { JSON_BODY_LIMIT } from '../http/json-body.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type AdminRouteContribution } from '../lifecycle/contributions.js';
import type { AuditEntry } from '../profiles/profile-audit.js';
import { PROFILE_SECTIONS, type ProfileActor, type ProfileSection } from '../profiles/profile-document.js';
import { DEFAULT_PROFILE_DESCRIPTION } from '../profiles/profile-store.js';
import { ProfileError, ProfileValidationError, type MessageLabels } from '../profiles/profile-errors.js';
import { validateForm } from '../profiles/profile-schemas.js';
import { ProfileService, type ProfileNotice, type SkippedItem } from '../profiles/profile-service.js';
import { adminAsset } from './admin-assets.js';
import { describeAuditEntry, type AuditWords } from './profile-audit-summary.js';

/** What the profile page may say after a redirect (`?done=…`, signed: plugin/http/admin-outcomes.ts): an allow-list, never free text. */
const DONE_MESSAGES: Readonly<Record<string, MessageKey>> = {
  created: 'profiles.done.created',
  duplicated: 'profiles.done.duplicated',
  renamed: 'profiles.done.renamed',
};

const SKIPPED_MESSAGES: Readonly<Record<SkippedItem['kind'], MessageKey>> = {
  module: 'profiles.skipped.module',
  field: 'profiles.skipped.field',
  listColumn: 'profiles.skipped.listColumn',
  button: 'profiles.skipped.button',
  rule: 'profiles.skipped.rule',
  owner: 'profiles.skipped.owner',
  template: 'profiles.skipped.template',
  unfitTemplate: 'profiles.skipped.unfitTemplate',
};

/** The changes the profile page lists at a time (`?auditPage=2` for the next ones). */
const AUDIT_PAGE_SIZE = 50;

/** An export file may be larger than a form: the import and editor routes parse JSON up to this. */
const IMPORT_JSON_LIMIT = '1mb';

function profileId(req: Request): number | null {
  const raw = String(req.params.id ?? '');
  return /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : null;
}

function actorOf(res: Response): ProfileActor {
  const session = crmSessionOf(res);
  // The admin gate runs before every route: a session is always there.
  if (!session) throw new Error('Business Portal: profile change without a CRM session');
  return { userId: session.user.id, userName: session.user.userName };
}

/** `Default profile` → `default-profile`; only safe characters in a download name. */
function fileSlug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase()
      .slice(0, 60) || 'profile'
  );
}


/** Paths of the profile forms' own fields, and the label each has on the page. */
const FORM_FIELD_LABELS: Readonly<Record<string, MessageKey>> = { name: 'profiles.name', description: 'profiles.description', startFrom: 'profiles.startFrom' };
@injectable()
export class ProfileRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(ProfileService) private readonly profiles: ProfileService,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(AdminOutcomes) private readonly outcomes: AdminOutcomes,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(HostEmailTemplates) private readonly templates: HostEmailTemplates,
  ) {}

  /** The import takes the form or the export file as JSON; the privileges editor's script saves a section as JSON. */
  registerAdminJsonRoutes(router: Router): void {
    const json = express.json({ limit: JSON_BODY_LIMIT, strict: true });
    const importJson = express.json({ limit: IMPORT_JSON_LIMIT, strict: true });
    router.post('/profiles/import', importJson, async (req, res) => this.importProfile(req, res));
    router.put('/profiles/:id/sections/:section', json, async (req, res) => this.saveSectionJson(req, res));
  }

  registerAdminRoutes(router: Router): void {
    router.get('/profiles/new', async (req, res) => this.newProfilePage(req, res, {}));
    router.post('/profiles', async (req, res) => this.createProfile(req, res));
    router.get('/profiles/import', async (req, res) => this.importPage(req, res, {}));
    router.get('/profiles/deleted', async (req, res) => this.deletedPage(req, res));

    router.get('/profiles/:id', async (req, res) => this.profilePage(req, res, {}));
    router.post('/profiles/:id/rename', async (req, res) => this.renameProfile(req, res));
    router.get('/profiles/:id/duplicate', async (req, res) => this.duplicatePage(req, res, {}));
    router.post('/profiles/:id/duplicate', async (req, res) => this.duplicateProfile(req, res));
    router.get('/profiles/:id/delete', async (req, res) => this.deletePage(req, res, {}));
    router.post('/profiles/:id/delete', async (req, res) => this.deleteProfile(req, res));
    router.get('/profiles/:id/export', async (req, res) => this.exportProfile(req, res));
    router.get('/profiles/:id/changes/:entryId', async (req, res) => this.auditEntryPage(req, res));

    router.get('/profiles/:id/document', async (req, res) => this.documentJson(req, res));
  }

  /** `labels` fill placeholders with a module's or a field's label in the admin's language. */
  private t(res: Response, key: MessageKey, params?: MessageParams, labels?: MessageLabels): string {
    const language = this.pages.language(res);
    // A rule's operator reads as the editor names it ("contiene", "<"), not as its code ("contains", "lt").
    const opKey = typeof params?.op === 'string' ? `privileges.rules.ops.${params.op}` : '';
    if (opKey && this.translator.has(opKey)) params = { ...params, op: this.translator.t(language, opKey) };
    if (!labels) return this.translator.t(language, key, params);
    const texts = Object.fromEntries(Object.entries(labels).map(([name, label]) => [name, label[language] ?? label.en]));
    return this.translator.t(language, key, { ...params, ...texts });
  }

  /** Problems as sentences; a form field's path (`name`) is named by its label on the page ("Name:"). */
  private problemsOf(res: Response, error: ProfileError): string[] {
    if (!(error instanceof ProfileValidationError)) return [this.t(res, error.messageKey, error.params)];
    const language = this.pages.language(res);
    return error.problems.map((p) => {
      const label = Object.hasOwn(FORM_FIELD_LABELS, p.path) ? this.translator.t(language, FORM_FIELD_LABELS[p.path]!) : null;
      return this.t(res, p.messageKey, label === null ? p.params : { ...p.params, path: label }, p.labels);
    });
  }

  /** The form fields a refusal is about (they get aria-invalid and the focus). */
  private invalidFields(error: ProfileError): Record<string, boolean> {
    if (!(error instanceof ProfileValidationError)) return error.messageKey === 'profiles.errors.nameTaken' ? { name: true } : {};
    return Object.fromEntries(error.problems.filter((p) => Object.hasOwn(FORM_FIELD_LABELS, p.path)).map((p) => [p.path, true]));
  }

  /** The import form's fields a refusal is about: the name for a bad or taken name, the document for the rest. */
  private importInvalidFields(error: ProfileError): Record<string, boolean> {
    const paths = error instanceof ProfileValidationError ? error.problems.map((p) => p.path) : [];
    const name = error.messageKey === 'profiles.errors.nameTaken' || paths.includes('name');
    const document = !name || paths.some((path) => path !== 'name');
    return { ...(name ? { name } : {}), ...(document ? { document } : {}) };
  }

  private notices(res: Response, notices: readonly ProfileNotice[]): string[] {
    return notices.map((n) => this.t(res, n.messageKey, n.params, n.labels));
  }

  private async notFound(req: Request, res: Response): Promise<void> {
    await this.pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'profiles.errors.notFound');
  }

  private profileUrl(id: number): string {
    return `${this.settings.settingsPath}/profiles/${id}`;
  }

  // ─────────────────────────────── new profile ───────────────────────────────

  private async newProfilePage(req: Request, res: Response, state: { status?: number; errors?: string[]; values?: Record<string, unknown>; invalid?: Record<string, boolean> }): Promise<void> {
    const licensed = await this.profiles.licensed();
    const values = state.values ?? {};
    await this.pages.send(req, res, {
      template: 'admin/profiles-new',
      titleKey: 'profiles.newTitle',
      refused: (state.errors?.length ?? 0) > 0,
      status: state.status ?? (licensed ? 200 : 403),
      data: {
        licensed,
        options: (await this.profiles.list()).map((p) => ({ id: p.id, name: p.name, selected: String(p.id) === String(values.startFrom ?? '') })),
        errors: state.errors ?? [],
        values,
        invalid: state.invalid ?? {},
      },
    });
  }

  private async createProfile(req: Request, res: Response): Promise<void> {
    try {
      const form = validateForm('newProfile', req.body);
      const profile = await this.profiles.create(
        { name: form.name, description: form.description ?? '', startFrom: form.startFrom ? Number(form.startFrom) : null },
        actorOf(res),
      );
      // "Next": straight on to the new profile's privileges.
      this.outcomes.redirect(res, `${this.profileUrl(profile.id)}/privileges`, { done: 'created' });
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      await this.newProfilePage(req, res, { status: error.status, errors: this.problemsOf(res, error), values: formValues(req.body), invalid: this.invalidFields(error) });
    }
  }

  // ─────────────────────────────── profile page ───────────────────────────────

  private async profilePage(req: Request, res: Response, state: { status?: number; errors?: string[]; values?: Record<string, unknown>; invalid?: Record<string, boolean> }): Promise<void> {
    const id = profileId(req);
    if (id === null) return this.notFound(req, res);
    let document;
    try {
      document = await this.profiles.document(id);
    } catch (error) {
      if (error instanceof ProfileError && error.code === 'not_found') return this.notFound(req, res);
      throw error;
    }
    // Only the outcome of this admin's own save (signed for the session): never a crafted link's.
    const outcome = this.outcomes.of(req, res)?.done;
    const done = outcome === undefined ? undefined : DONE_MESSAGES[outcome];
    const { page: auditPage, paging: auditPaging } = this.auditPaging(req, res, await this.profiles.auditCount(id), this.profileUrl(id));
    const entries = await this.profiles.audit(id, { number: auditPage, size: AUDIT_PAGE_SIZE });
    const words = await this.auditWords(res, entries);
    const audit = entries.map((entry) => this.auditRow(res, entry, words));
    const summary = (await this.profiles.list()).find((p) => p.id === id);
    const doneText = done ? this.t(res, done) : null;
    await this.pages.send(req, res, {
      template: 'admin/profiles-edit',
      titleKey: 'profiles.profileTitle',
      titleParams: { name: document.profile.name },
      refused: (state.errors?.length ?? 0) > 0,
      status: state.status ?? 200,
      notice: doneText,
      data: {
        profile: document.profile,
        contactCount: summary?.contactCount ?? 0,
        licensed: await this.profiles.licensed(),
        done: doneText,
        errors: state.errors ?? [],
        values: state.values ?? { name: document.profile.name, description: this.shownDescription(res, document.profile) },
        invalid: state.invalid ?? {},
        flags: document.flags.length,
        shownModules: document.modules.filter((m) => m.shown).length,
        buttons: document.buttons.length,
        rules: document.rules.length,
        audit,
        auditPaging,
      },
    });
  }

  /**
   * An audit entry as the lists show it: its action and section in words, what changed in a few
   * lines, and the link to its own page (every change, and the stored values). The values
   * themselves stay off the lists: a save of modules keeps every field of each module it changed.
   */
  private auditRow(res: Response, entry: AuditEntry, words: AuditWords) {
    const { before: _before, after: _after, ...row } = entry;
    return {
      ...row,
      actionLabel: this.t(res, `profiles.audit.actions.${entry.action}` as MessageKey),
      sectionLabel: entry.section ? this.t(res, `profiles.sections.${entry.section}` as MessageKey) : '',
      changes: describeAuditEntry(entry, words, true),
      href: `${this.profileUrl(entry.profileId)}/changes/${entry.id}`,
    };
  }

  /**
   * Module and field labels in the admin's language, each module's fields indexed once; a module or
   * field gone reads as its name. Owners and templates by name, read once for the entries that name
   * some (a General or Notifications save); one gone from the CRM reads as its number.
   */
  private async auditWords(res: Response, entries: readonly AuditEntry[]): Promise<AuditWords> {
    const names = entries.some((entry) => entry.action === 'save' && (entry.section === 'general' || entry.section === 'notifications'));
    // The users and groups these entries name, each read by id: a CRM of thousands of users and
    // hundreds of groups is not read whole (nor every group's members) for a page of its audit.
    const named = { user: new Set<number>(), group: new Set<number>() };
    for (const entry of entries) {
      if (entry.action !== 'save' || entry.section !== 'general') continue;
      for (const value of [entry.before, entry.after]) {
        const owner = value !== null && typeof value === 'object' ? (value as { owner?: { kind?: unknown; id?: unknown } }).owner : undefined;
        if ((owner?.kind === 'user' || owner?.kind === 'group') && typeof owner.id === 'number' && Number.isSafeInteger(owner.id)) named[owner.kind].add(owner.id);
      }
    }
    const [users, groups, templates] = names
      ? await Promise.all([
          Promise.all([...named.user].map((id) => this.users.user(id))),
          Promise.all([...named.group].map((id) => this.users.group(id))),
          this.templates.templates(),
        ])
      : [[], [], []];
    const userNames = new Map(users.flatMap((user) => (user ? [[user.id, crmUserLabel(user)] as const] : [])));
    const groupNames = new Map(groups.flatMap((group) => (group ? [[group.id, this.t(res, 'profiles.audit.change.groupNamed', { name: group.name })] as const] : [])));
    const templateNames = new Map(templates.map((template) => [template.id, template.name]));
    const language = this.pages.language(res);
    const text = (label: LocalizedText) => label[language] ?? label.en;
    const fields = new Map<string, ReadonlyMap<string, FieldDefinition>>();
    const fieldsOf = (module: string) => {
      let known = fields.get(module);
      if (!known) fields.set(module, (known = new Map((this.registry.module(module)?.fields ?? []).map((field) => [field.name, field]))));
      return known;
    };
    return {
      t: (key, params) => this.t(res, key, params),
      moduleLabel: (module) => {
        const definition = this.registry.module(module);
        return definition ? text(definition.label) : module;
      },
      fieldLabel: (module, field) => {
        const definition = fieldsOf(module).get(field);
        return definition ? text(definition.label) : field;
      },
      ownerName: (kind, id) => (kind === 'user' ? userNames : groupNames).get(id) ?? null,
      templateName: (id) => templateNames.get(id) ?? null,
    };
  }

  /** One change of a profile (a deleted one's too): every change in words, and the values the audit keeps. */
  private async auditEntryPage(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    const rawEntry = String(req.params.entryId ?? '');
    const entry = id !== null && /^[1-9][0-9]{0,14}$/.test(rawEntry) ? await this.profiles.auditEntry(id, Number(rawEntry)) : null;
    if (!entry) return this.notFound(req, res);
    const words = await this.auditWords(res, [entry]);
    // Whether the profile is still there (else the way back is the deleted profiles' list): its row, not every profile with its users counted.
    const exists = await this.profiles.get(entry.profileId).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ProfileError && error.code === 'not_found') return false;
        throw error;
      },
    );
    await this.pages.send(req, res, {
      template: 'admin/profiles-change',
      titleKey: 'profiles.audit.entryTitle',
      titleParams: { name: entry.profileName },
      data: {
        entry: this.auditRow(res, entry, words),
        changes: describeAuditEntry(entry, words, false),
        beforeJson: entry.before === null ? '' : JSON.stringify(entry.before, null, 2),
        afterJson: entry.after === null ? '' : JSON.stringify(entry.after, null, 2),
        back: exists ? { href: this.profileUrl(entry.profileId), text: this.t(res, 'profiles.audit.backToProfile') } : { href: `${this.settings.settingsPath}/profiles/deleted`, text: this.t(res, 'profiles.deletedList.link') },
      },
    });
  }

  /**
   * The page of audit entries `?auditPage=` asks for, of `total`, and the links to the newer and
   * older ones (none when one page holds them all). Another page than there are (a link kept
   * since, a typed number) shows the first.
   */
  private auditPaging(req: Request, res: Response, total: number, url: string) {
    const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
    const asked = typeof req.query.auditPage === 'string' && /^[1-9][0-9]{0,5}$/.test(req.query.auditPage) ? Number(req.query.auditPage) : 1;
    const page = asked <= pages ? asked : 1;
    const pageUrl = (n: number) => `${url}?auditPage=${n}#bp-audit-heading`;
    const paging =
      pages > 1
        ? {
            page: this.t(res, 'profiles.audit.page', { page, pages }),
            newerHref: page > 1 ? pageUrl(page - 1) : null,
            olderHref: page < pages ? pageUrl(page + 1) : null,
          }
        : null;
    return { page, paging };
  }

  /** The deletions of profiles: the only place their audit rows can be read once their pages are gone. */
  private async deletedPage(req: Request, res: Response): Promise<void> {
    const { page, paging } = this.auditPaging(req, res, await this.profiles.deletionCount(), `${this.settings.settingsPath}/profiles/deleted`);
    const deletions = await this.profiles.deletions({ number: page, size: AUDIT_PAGE_SIZE });
    const words = await this.auditWords(res, deletions);
    const audit = deletions.map((entry) => {
      const after = entry.after as { movedContacts?: unknown; movedTo?: unknown } | null;
      const moved = after && typeof after.movedContacts === 'number' && typeof after.movedTo === 'string';
      return { ...this.auditRow(res, entry, words), moved: moved ? this.t(res, 'profiles.deletedList.moved', { count: after.movedContacts as number, target: after.movedTo as string }) : '' };
    });
    await this.pages.send(req, res, { template: 'admin/profiles-deleted-list', titleKey: 'profiles.deletedList.title', data: { audit, auditPaging: paging } });
  }

  private async renameProfile(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    if (id === null) return this.notFound(req, res);
    try {
      const form = validateForm('rename', req.body);
      const description = await this.storedDescription(id, form.description ?? '');
      await this.profiles.rename(id, { name: form.name, description, expectedVersion: Number(form.version) }, actorOf(res));
      this.outcomes.redirect(res, this.profileUrl(id), { done: 'renamed' });
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      if (error.code === 'not_found') return this.notFound(req, res);
      await this.profilePage(req, res, { status: error.status, errors: this.problemsOf(res, error), values: formValues(req.body), invalid: this.invalidFields(error) });
    }
  }

  /**
   * The seeded Default profile's description is the plugin's own text, read in each admin's language
   * until someone changes it: its form shows it so (as the profiles list does) ...
   */
  private shownDescription(res: Response, profile: { readonly isDefault: boolean; readonly description: string }): string {
    return profile.isDefault && profile.description === DEFAULT_PROFILE_DESCRIPTION ? this.t(res, 'profiles.defaultDescription') : profile.description;
  }

  /** ... and a save that leaves it as one of its translations keeps the plugin's text, not one language's copy. */
  private async storedDescription(id: number, typed: string): Promise<string> {
    const translations = Object.values(this.translator.localized('profiles.defaultDescription'));
    if (!translations.includes(typed.trim())) return typed;
    const profile = (await this.profiles.list()).find((p) => p.id === id);
    return profile?.isDefault && profile.description === DEFAULT_PROFILE_DESCRIPTION ? DEFAULT_PROFILE_DESCRIPTION : typed;
  }

  private async duplicateProfile(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    if (id === null) return this.notFound(req, res);
    try {
      const form = validateForm('duplicate', req.body);
      const copy = await this.profiles.duplicate(id, { ...(form.name ? { name: form.name } : {}) }, actorOf(res));
      this.outcomes.redirect(res, this.profileUrl(copy.id), { done: 'duplicated' });
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      if (error.code === 'not_found') return this.notFound(req, res);
      await this.duplicatePage(req, res, { status: error.status, errors: this.problemsOf(res, error), values: formValues(req.body) });
    }
  }

  /** Asks for the name of the copy (empty: the source's name with a number). */
  private async duplicatePage(req: Request, res: Response, state: { status?: number; errors?: string[]; values?: Record<string, unknown> }): Promise<void> {
    const id = profileId(req);
    const profile = id === null ? undefined : (await this.profiles.list()).find((p) => p.id === id);
    if (!profile) return this.notFound(req, res);
    const licensed = await this.profiles.licensed();
    await this.pages.send(req, res, {
      template: 'admin/profiles-duplicate',
      titleKey: 'profiles.duplicateTitle',
      titleParams: { name: profile.name },
      refused: (state.errors?.length ?? 0) > 0,
      status: state.status ?? (licensed ? 200 : 403),
      data: { profile, licensed, errors: state.errors ?? [], values: state.values ?? {} },
    });
  }

  // ──────────────────────────────────── delete ────────────────────────────────────

  private async deletePage(req: Request, res: Response, state: { status?: number; errors?: string[] }): Promise<void> {
    const id = profileId(req);
    if (id === null) return this.notFound(req, res);
    const all = await this.profiles.list();
    const profile = all.find((p) => p.id === id);
    if (!profile) return this.notFound(req, res);
    await this.pages.send(req, res, {
      template: 'admin/profiles-delete',
      titleKey: 'profiles.deleteTitle',
      titleParams: { name: profile.name },
      // For Default the page only explains that it cannot be deleted.
      refused: (state.errors?.length ?? 0) > 0,
      status: state.status ?? 200,
      data: { profile, targets: all.filter((p) => p.id !== id), errors: state.errors ?? [] },
    });
  }

  private async deleteProfile(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    if (id === null) return this.notFound(req, res);
    try {
      const form = validateForm('delete', req.body);
      const before = await this.profiles.get(id);
      const outcome = await this.profiles.delete(id, { moveTo: form.moveTo ? Number(form.moveTo) : null, expectedVersion: Number(form.version) }, actorOf(res));
      await this.pages.send(req, res, {
        template: 'admin/profiles-deleted',
        titleKey: 'profiles.deletedTitle',
        data: { name: before.name, movedContacts: outcome.movedContacts, movedTo: outcome.movedTo.name },
      });
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      if (error.code === 'not_found') return this.notFound(req, res);
      await this.deletePage(req, res, { status: error.status, errors: this.problemsOf(res, error) });
    }
  }

  // ─────────────────────────────── export / import ───────────────────────────────

  private async exportProfile(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    if (id === null) return this.notFound(req, res);
    try {
      const file = await this.profiles.exportProfile(id);
      res
        .status(200)
        .type('application/json')
        .attachment(`business-portal-profile-${fileSlug(file.profile.name)}.json`)
        .send(JSON.stringify(file, null, 2));
    } catch (error) {
      if (error instanceof ProfileError && error.code === 'not_found') return this.notFound(req, res);
      throw error;
    }
  }

  private async importPage(
    req: Request,
    res: Response,
    state: { status?: number; errors?: string[]; values?: Record<string, unknown>; invalid?: Record<string, boolean>; result?: { id: number; name: string; skipped: string[]; notices: string[] } },
  ): Promise<void> {
    const licensed = await this.profiles.licensed();
    await this.pages.send(req, res, {
      template: 'admin/profiles-import',
      titleKey: 'profiles.importTitle',
      refused: (state.errors?.length ?? 0) > 0,
      status: state.status ?? (licensed ? 200 : 403),
      // The result is a status in the page at load, which screen readers do not announce: the title starts with it.
      notice: state.result ? this.t(res, 'profiles.importedHeading', { name: state.result.name }) : null,
      data: {
        licensed,
        errors: state.errors ?? [],
        values: state.values ?? {},
        invalid: state.invalid ?? {},
        result: state.result ?? null,
        script: adminAsset(this.settings.settingsPath, 'profiles-import.js'),
      },
    });
  }

  /** A form (`document` holds the file's text, `name` optionally renames) or the file itself as JSON. */
  private async importProfile(req: Request, res: Response): Promise<void> {
    const asJson = req.is('application/json') === 'application/json';
    try {
      let file: unknown;
      let name: string | undefined;
      if (asJson) {
        file = req.body;
        name = typeof req.query.name === 'string' && req.query.name.trim() ? req.query.name : undefined;
      } else {
        const form = validateForm('import', req.body);
        name = form.name || undefined;
        try {
          file = JSON.parse(form.document);
        } catch {
          throw new ProfileValidationError([{ path: 'document', messageKey: 'profiles.validation.notJson', params: { path: 'document' } }]);
        }
      }
      const outcome = await this.profiles.importProfile(file, { ...(name ? { name } : {}) }, actorOf(res));
      const skipped = outcome.skipped.map((item) => this.t(res, SKIPPED_MESSAGES[item.kind], { name: item.name }));
      const notices = this.notices(res, outcome.notices);
      if (asJson) {
        res.status(201).json({ profile: outcome.profile, skipped: outcome.skipped.map((item, i) => ({ ...item, message: skipped[i] })), notices });
        return;
      }
      await this.importPage(req, res, { status: 201, result: { id: outcome.profile.id, name: outcome.profile.name, skipped, notices } });
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      if (asJson) return this.sendJsonError(res, error);
      await this.importPage(req, res, { status: error.status, errors: this.problemsOf(res, error), values: formValues(req.body), invalid: this.importInvalidFields(error) });
    }
  }

  // ─────────────────────────────── editor JSON API ───────────────────────────────

  private sendJsonError(res: Response, error: ProfileError): void {
    const problems = error instanceof ProfileValidationError ? error.problems.map((p) => ({ path: p.path, message: this.t(res, p.messageKey, p.params, p.labels) })) : [];
    res.status(error.status).json({ error: { code: error.code, message: this.t(res, error.messageKey, error.params), problems } });
  }

  private async documentJson(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    try {
      if (id === null) throw new ProfileError('not_found', 404, 'profiles.errors.notFound');
      res.json(await this.profiles.document(id));
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      this.sendJsonError(res, error);
    }
  }

  /** Body: `{"version": <the profile's version>, "value": <the section>}`. */
  private async saveSectionJson(req: Request, res: Response): Promise<void> {
    const id = profileId(req);
    const section = String(req.params.section) as ProfileSection;
    try {
      if (id === null || !PROFILE_SECTIONS.includes(section)) throw new ProfileError('not_found', 404, 'profiles.errors.notFound');
      const body = req.body as { version?: unknown; value?: unknown } | undefined;
      const version = body && typeof body === 'object' ? body.version : undefined;
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1 || !('value' in (body ?? {}))) {
        throw new ProfileValidationError([{ path: 'version', messageKey: 'profiles.validation.sectionBody', params: { path: 'version' } }]);
      }
      const outcome = await this.profiles.saveSection(id, section, body!.value, version, actorOf(res));
      res.json({ document: outcome.document, notices: this.notices(res, outcome.notices) });
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      this.sendJsonError(res, error);
    }
  }
}

/** The fields of a refused form, to fill it again (text values only). */
function formValues(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>)
      .filter(([key, value]) => key !== '_csrf' && typeof value === 'string')
      .map(([key, value]) => [key, value as string]),
  );
}
