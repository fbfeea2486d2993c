/**
 * The version 1 (classic) settings page, `/settings/business-portal/classic`: Basic (modules
 * active, order by move up / move down), Advanced (per module "View all related records?"),
 * Select user (every CRM user, inactive ones marked) and Select template. Plain forms that work
 * without JavaScript, each posting the session's CSRF token (checked by the admin router) and
 * checked by an ajv schema; a refused form answers 400 with the page and its messages in the
 * admin's language, that form showing what it sent (the others what is stored), and stores nothing. Each form carries the revision of the section it
 * shows: one rendered before someone else's save of that section answers 409 with the page as it is now, storing nothing; one rendered before a save
 * of another section is saved on top of it (as the profile privileges page does). Only installs that have version 1 (upgraded from a release with it)
 * have the page; others answer 404.
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { ModuleEligibility, PUBLIC_CATALOGUES } from '../eligibility/module-eligibility.js';
import { HostEmailTemplates, HostUsers, type CrmUser, type LanguageCode, type LocalizedText, type ModuleDefinition } from '../host-contract/index.js';
import { AdminOutcomes } from '../http/admin-outcomes.js';
import { AdminPages, crmSessionOf } from '../http/admin-pages.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type AdminRouteContribution } from '../lifecycle/contributions.js';
import { placeholderText, placeholdersMissingEach, requiredPlaceholder } from '../notifications/template-placeholders.js';
import type { ValidationProblem } from '../profiles/profile-errors.js';
import { RELATED_FIELD_PREFIX, validateSettingsForm } from './classic-forms.js';
import { ClassicSettingsError, ClassicSettingsStore, StaleClassicSettingsError, classicProblem, classicRevision, type ClassicSection, type ClassicSettings } from './classic-settings.js';
import { PortalVersions } from './portal-version.js';
import { countIn, OWNER_LIST_LIMIT, OWNER_MATCHES_SHOWN, searchChoices, searchOutcome, userSearchOf } from './crm-user-search.js';

export const CLASSIC_PATH = '/classic';

/** What the page may say after a redirect (`?done=…`, signed: plugin/http/admin-outcomes.ts): an allow-list, never free text. */
const DONE_MESSAGES: Readonly<Record<ClassicSection, MessageKey>> & Readonly<Record<string, MessageKey | undefined>> = {
  modules: 'classic.done.modules',
  advanced: 'classic.done.advanced',
  user: 'classic.done.user',
  template: 'classic.done.template',
};

function localized(text: LocalizedText, language: LanguageCode): string {
  return text[language] ?? text.en;
}

function optionalId(value: string): number | null {
  return value === '' ? null : Number(value);
}

interface PageState {
  readonly status?: number;
  readonly errors?: readonly string[];
  /** The ids of the fields the refusal is about: marked aria-invalid, the first on the page focused. */
  readonly invalid?: readonly string[];
  /** A refused form: what it sent is shown in its fields instead of what is stored (the other forms show what is stored). */
  readonly submitted?: Submitted;
}

/** What a refused form sent, read field by field as the page can show it (a value it cannot show keeps the stored one). */
interface Submitted {
  /** Basic: the modules ticked. */
  readonly active?: ReadonlySet<string>;
  /** Advanced: the "View all related records?" choices by module. */
  readonly related?: ReadonlyMap<string, boolean>;
  /** Select user / template: the id chosen (null: none / the default). */
  readonly userId?: number | null;
  readonly templateId?: number | null;
}

const ID_FIELD = /^([1-9][0-9]{0,9})?$/;

function submittedOf(form: keyof typeof DONE_MESSAGES, body: unknown): Submitted {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const id = (value: unknown) => (typeof value === 'string' && ID_FIELD.test(value) ? { value: optionalId(value) } : null);
  switch (form) {
    case 'modules': {
      const active = fields.active;
      return { active: new Set((Array.isArray(active) ? active : [active]).filter((v): v is string => typeof v === 'string')) };
    }
    case 'advanced': {
      const related = new Map<string, boolean>();
      for (const [field, value] of Object.entries(fields)) {
        if (field.startsWith(RELATED_FIELD_PREFIX) && (value === 'yes' || value === 'no')) related.set(field.slice(RELATED_FIELD_PREFIX.length), value === 'yes');
      }
      return { related };
    }
    case 'user': {
      const chosen = id(fields.userId);
      return chosen ? { userId: chosen.value } : {};
    }
    default: {
      const chosen = id(fields.templateId);
      return chosen ? { templateId: chosen.value } : {};
    }
  }
}

/**
 * The page's field a problem is about, by its id: the forms' own names (`userId`, `templateId`,
 * `related.<module>`, `active` of a module) and the stored settings' (`credentialsTemplateId`).
 * A module the page does not show has no field (its problem is in the list only).
 */
function fieldIdOf(problem: ValidationProblem): string | null {
  if (problem.path === 'userId') return 'bp-classic-user-id';
  if (problem.path === 'templateId' || problem.path === 'credentialsTemplateId') return 'bp-classic-template-id';
  if (problem.path.startsWith(RELATED_FIELD_PREFIX)) return `bp-related-${problem.path.slice(RELATED_FIELD_PREFIX.length)}`;
  if (problem.path === 'active' && typeof problem.params?.module === 'string') return `bp-active-${problem.params.module}`;
  return null;
}

/**
 * How a refusal names the field it is about, by form: the label the admin reads on the page, in
 * their language, not the form's or the stored setting's name (`credentialsTemplateId`). A field a
 * form does not have (a hand-made post) keeps its own name.
 */
const FIELD_LABELS: Readonly<Partial<Record<ClassicSection, Readonly<Record<string, MessageKey>>>>> = {
  user: { userId: 'classic.user.label' },
  template: { templateId: 'classic.template.label', credentialsTemplateId: 'classic.template.label' },
};

@injectable()
export class ClassicSettingsRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(ClassicSettingsStore) private readonly store: ClassicSettingsStore,
    @inject(PortalVersions) private readonly versions: PortalVersions,
    @inject(ModuleEligibility) private readonly eligibility: ModuleEligibility,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(HostEmailTemplates) private readonly templates: HostEmailTemplates,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(AdminOutcomes) private readonly outcomes: AdminOutcomes,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.get(CLASSIC_PATH, async (req, res) => this.page(req, res, {}));
    router.post(`${CLASSIC_PATH}/modules`, async (req, res) => this.submit(req, res, 'modules', (current) => this.modulesFrom(req.body, current)));
    router.post(`${CLASSIC_PATH}/advanced`, async (req, res) => this.submit(req, res, 'advanced', (current) => this.advancedFrom(req.body, current)));
    router.post(`${CLASSIC_PATH}/user`, async (req, res) =>
      this.submit(req, res, 'user', async (current) => ({ ...current, userId: optionalId(validateSettingsForm('user', req.body).userId) })),
    );
    router.post(`${CLASSIC_PATH}/template`, async (req, res) =>
      this.submit(req, res, 'template', async (current) => ({ ...current, credentialsTemplateId: optionalId(validateSettingsForm('template', req.body).templateId) })),
    );
  }

  /** The modules the page offers, by name: the eligible ones (stored entries of others are kept, not shown). */
  private offered(): Map<string, ModuleDefinition> {
    return new Map(this.eligibility.eligibleModules().map((m) => [m.name, m]));
  }

  private async submit(req: Request, res: Response, form: ClassicSection, change: (current: ClassicSettings) => Promise<ClassicSettings>): Promise<void> {
    if (!this.versions.choosable()) return this.notFound(req, res);
    const session = crmSessionOf(res);
    // The admin gate runs before every route: a session is always there.
    if (!session) throw new Error('Business Portal: version 1 settings change without a CRM session');
    try {
      // The revision of the section the form showed; `change` checks the form (a revision included)
      // before the store compares it. No body at all (no type, no bytes) leaves `req.body` unset: an empty form.
      const revision = (req.body as { revision?: unknown } | undefined)?.revision;
      const expected = typeof revision === 'string' ? { expected: { section: form, revision } } : {};
      await this.store.save(change, { userId: session.user.id, userName: session.user.userName }, expected);
      // A move button's value comes back, so that the page gives the keyboard back to that module's buttons.
      const move = form === 'modules' ? (req.body as { move?: unknown } | undefined)?.move : undefined;
      this.outcomes.redirect(res, `${this.settings.settingsPath}${CLASSIC_PATH}`, { done: form, ...(typeof move === 'string' ? { moved: move } : {}) });
    } catch (error) {
      const language = this.pages.language(res);
      if (error instanceof StaleClassicSettingsError) return this.page(req, res, { status: 409, errors: [this.translator.t(language, 'classic.stale')] });
      if (!(error instanceof ClassicSettingsError)) throw error;
      await this.page(req, res, {
        status: 400,
        errors: error.problems.map((p) => {
          const label = FIELD_LABELS[form]?.[p.path];
          return this.translator.t(language, p.messageKey, label === undefined ? p.params : { ...p.params, path: this.translator.t(language, label) });
        }),
        invalid: error.problems.map(fieldIdOf).filter((id): id is string => id !== null),
        submitted: submittedOf(form, req.body),
      });
    }
  }

  /** Ticks and an optional move: a move also keeps the ticks as they are in the form. */
  private async modulesFrom(body: unknown, current: ClassicSettings): Promise<ClassicSettings> {
    const form = validateSettingsForm('modules', body);
    const offered = this.offered();
    const active = new Set(form.active === undefined ? [] : typeof form.active === 'string' ? [form.active] : form.active);
    const [direction, moved] = form.move ? (form.move.split(':') as ['up' | 'down', string]) : [null, null];
    const unknown = [...active, ...(moved ? [moved] : [])].filter((name) => !offered.has(name));
    if (unknown.length > 0) throw new ClassicSettingsError(unknown.map((name) => classicProblem(moved === name ? 'move' : 'active', 'classic.validation.unknownModule', { module: name })));
    const modules = current.modules.map((entry) => (offered.has(entry.module) ? { ...entry, active: active.has(entry.module) } : entry));
    if (moved) {
      const from = modules.findIndex((m) => m.module === moved);
      // The neighbour among the offered modules: entries not shown keep their place.
      const step = direction === 'up' ? -1 : 1;
      let to = from + step;
      while (to >= 0 && to < modules.length && !offered.has(modules[to]!.module)) to += step;
      if (from >= 0 && to >= 0 && to < modules.length) [modules[from], modules[to]] = [modules[to]!, modules[from]!];
    }
    return { ...current, modules };
  }

  private async advancedFrom(body: unknown, current: ClassicSettings): Promise<ClassicSettings> {
    const form = validateSettingsForm('advanced', body);
    const offered = this.offered();
    const choices = new Map<string, boolean>();
    const problems = [];
    for (const [field, value] of Object.entries(form)) {
      if (!field.startsWith(RELATED_FIELD_PREFIX)) continue;
      const module = field.slice(RELATED_FIELD_PREFIX.length);
      if (!offered.has(module)) problems.push(classicProblem(field, 'classic.validation.unknownModule', { module }));
      // A public catalogue (FAQ, Products) is read whole by every customer: the page offers no choice, a crafted form changes nothing.
      else if (!(module in PUBLIC_CATALOGUES)) choices.set(module, value === 'yes');
    }
    if (problems.length > 0) throw new ClassicSettingsError(problems);
    return { ...current, modules: current.modules.map((entry) => (choices.has(entry.module) ? { ...entry, viewAllRelated: choices.get(entry.module)! } : entry)) };
  }

  private async notFound(req: Request, res: Response): Promise<void> {
    await this.pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'classic.notAvailable');
  }

  /**
   * The options of ids the CRM does not have: the stored one (removed since it was chosen) and a
   * refused one the admin sent. Without the stored one, a form sent back unchanged would clear it.
   */
  private goneOptions(
    language: LanguageCode,
    storedKey: MessageKey,
    sentKey: MessageKey,
    stored: number | null,
    sent: number | null | undefined,
    chosen: number | null,
    known: ReadonlySet<number>,
  ): { id: number; label: string; selected: boolean }[] {
    const options: { id: number; label: string; selected: boolean }[] = [];
    if (stored !== null && !known.has(stored)) options.push({ id: stored, label: this.translator.t(language, storedKey, { id: stored }), selected: chosen === stored });
    if (sent != null && sent !== stored && !known.has(sent)) options.push({ id: sent, label: this.translator.t(language, sentKey, { id: sent }), selected: chosen === sent });
    return options;
  }

  private async page(req: Request, res: Response, state: PageState): Promise<void> {
    if (!this.versions.choosable()) return this.notFound(req, res);
    const language = this.pages.language(res);
    const current = await this.store.read();
    const offered = this.offered();
    const rows = current.modules.filter((entry) => offered.has(entry.module));
    // Only the outcome of this admin's own save (signed for the session): never a crafted link's.
    const outcomes = this.outcomes.of(req, res);
    const outcome = outcomes?.done;
    const done = outcome === undefined ? undefined : DONE_MESSAGES[outcome];
    // After a move, the keyboard is on the moved module's same button, or on its other one where that one is now disabled (first or last).
    const [movedDirection, movedModule] = outcome === 'modules' && outcomes?.moved ? outcomes.moved.split(':') : [];
    const moveFocus = (module: string, index: number): 'up' | 'down' | null => {
      if (module !== movedModule || (movedDirection !== 'up' && movedDirection !== 'down')) return null;
      const first = index === 0;
      const last = index === rows.length - 1;
      if (movedDirection === 'up') return first ? (last ? null : 'down') : 'up';
      return last ? (first ? null : 'up') : 'down';
    };
    const templates = await this.templates.templates();
    // A refused form shows what it sent; the others, what is stored.
    const submitted = state.submitted ?? {};
    const chosenUser = submitted.userId !== undefined ? submitted.userId : current.userId;
    const allUsers = await this.users.users();
    const collator = new Intl.Collator(language);
    const byName = (a: CrmUser, b: CrmUser) => Number(b.active) - Number(a.active) || collator.compare(a.lastName, b.lastName) || collator.compare(a.userName, b.userName);
    // A CRM of many users: the chosen one and those a search names (crm-user-search.ts), not a dropdown of thousands.
    const search = allUsers.length > OWNER_LIST_LIMIT ? userSearchOf(req.query.userSearch) : null;
    const chosen = allUsers.find((user) => user.id === chosenUser);
    const found = search === null ? null : searchChoices(search, language, allUsers, [], { user: chosen, group: undefined });
    const users = found === null ? [...allUsers].sort(byName) : [...(chosen ? [chosen] : []), ...[...found.users].sort(byName).slice(0, OWNER_MATCHES_SHOWN)];
    const t = (key: MessageKey, params?: MessageParams) => this.translator.t(language, key, params);
    const userSearch =
      search === null || found === null
        ? null
        : {
            text: search,
            outcome: searchOutcome(search, found.matches, language, t, () => t('classic.user.searchHint', { users: countIn(language, allUsers.length) }), {
              none: 'classic.user.searchNone',
              all: 'classic.user.searchAll',
              some: 'classic.user.searchSome',
            }),
          };
    const chosenTemplate = submitted.templateId !== undefined ? submitted.templateId : current.credentialsTemplateId;
    // A template without the password is offered disabled (the one chosen earlier stays choosable: kept, not used).
    const password = requiredPlaceholder('registration');
    const passwordPlaceholder = password === null ? '' : placeholderText(password);
    const missing = await placeholdersMissingEach(this.templates, templates);
    const templateOptions = templates.map((template) => {
      const stored = template.id === current.credentialsTemplateId;
      const selected = template.id === chosenTemplate;
      const unfit = password !== null && (missing.get(template.id)?.has(password) ?? false);
      return {
        ...template,
        label: unfit ? this.translator.t(language, 'classic.template.unfitOption', { name: template.name, placeholder: passwordPlaceholder }) : template.name,
        selected,
        stored,
        unfit,
        // The stored choice and a refused one stay choosable (shown selected); other unfit templates are not.
        disabled: unfit && !selected && !stored,
      };
    });
    // The fields in the page's order: the first one the refusal names takes the focus (autofocus).
    const invalid = new Set(state.invalid ?? []);
    const fieldIds = [...rows.map((entry) => `bp-active-${entry.module}`), ...rows.map((entry) => `bp-related-${entry.module}`), 'bp-classic-user-id', 'bp-classic-template-id'];
    const focus = fieldIds.find((id) => invalid.has(id)) ?? null;
    const field = (id: string) => ({ invalid: invalid.has(id), autofocus: id === focus });
    const version = await this.versions.current();
    const doneText = done ? this.translator.t(language, done) : null;
    await this.pages.send(req, res, {
      template: 'admin/classic-settings',
      titleKey: 'classic.title',
      status: state.status ?? 200,
      refused: (state.errors?.length ?? 0) > 0,
      notice: doneText,
      data: {
        version,
        revisions: { modules: classicRevision(current, 'modules'), advanced: classicRevision(current, 'advanced'), user: classicRevision(current, 'user'), template: classicRevision(current, 'template') },
        inUse: version === 1,
        done: doneText,
        errors: state.errors ?? [],
        modules: rows.map((entry, index) => ({
          ...entry,
          active: submitted.active ? submitted.active.has(entry.module) : entry.active,
          viewAllRelated: submitted.related?.get(entry.module) ?? entry.viewAllRelated,
          // FAQ and Products: the question is shown disabled with the reason, as on the version 2 privileges page.
          catalogue: entry.module in PUBLIC_CATALOGUES,
          label: localized(offered.get(entry.module)!.label, language),
          position: index + 1,
          first: index === 0,
          last: index === rows.length - 1,
          // A refusal's field takes the focus first; none is there after a move, which is saved.
          focusUp: focus === null && moveFocus(entry.module, index) === 'up',
          focusDown: focus === null && moveFocus(entry.module, index) === 'down',
          activeField: field(`bp-active-${entry.module}`),
          relatedField: field(`bp-related-${entry.module}`),
        })),
        userField: field('bp-classic-user-id'),
        templateField: field('bp-classic-template-id'),
        users: users.map((user) => ({
          id: user.id,
          name: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.userName,
          userName: user.userName,
          active: user.active,
          selected: user.id === chosenUser,
        })),
        // Ids the CRM does not have (any more), offered so that the form sent back keeps them: the
        // stored choice, marked as removed (selected unless a refused form chose another), and a
        // refused id, as sent, beside its error.
        usersGone: this.goneOptions(language, 'classic.user.missingOption', 'classic.user.unknownOption', current.userId, submitted.userId, chosenUser, new Set(allUsers.map((u) => u.id))),
        templatesGone: this.goneOptions(
          language,
          'classic.template.missingOption',
          'classic.template.unknownOption',
          current.credentialsTemplateId,
          submitted.templateId,
          chosenTemplate,
          new Set(templates.map((t) => t.id)),
        ),
        userMissing: current.userId !== null && !allUsers.some((u) => u.id === current.userId),
        userSearch,
        templates: templateOptions,
        templateMissing: current.credentialsTemplateId !== null && !templates.some((t) => t.id === current.credentialsTemplateId),
        templateUnfit: templateOptions.some((option) => option.stored && option.unfit)
          ? this.translator.t(language, 'classic.template.unfit', { placeholder: passwordPlaceholder })
          : null,
      },
    });
  }
}
