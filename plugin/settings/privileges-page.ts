/**
 * The privileges page of a portal profile, `GET /settings/business-portal/profiles/:id/privileges`:
 * every section of SPEC 2.3 (General, Notifications, Home buttons, Conditionals, Global
 * privileges, Privileges per module) rendered server-side with its current values, one form per
 * section. `assets/privileges.js` saves each form on its own through the JSON route of
 * `profile-routes.ts` (`PUT …/sections/:section`) and shows the server's notices and problems.
 *
 * A page of its own rather than a part of the profile page: the editor is long, the profile
 * page stays a short summary (rename, tools, audit), and "Next" from a new profile can land here.
 *
 * Its scripts and SortableJS are the admin assets (`admin-assets.ts`), from the package.
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import {
  HostConditionalRules,
  HostEmailTemplates,
  HostModuleRegistry,
  HostRegional,
  HostUsers,
  type CrmConditionalRule,
  type CrmGroup,
  type CrmUser,
  type FieldDefinition,
  type LanguageCode,
  type LocalizedText,
  type ModuleDefinition,
} from '../host-contract/index.js';
import { PageRenderer } from '../http/page-renderer.js';
import { AdminOutcomes } from '../http/admin-outcomes.js';
import { AdminPages } from '../http/admin-pages.js';
import { crmUserLabel } from '../http/crm-user-names.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type AdminRouteContribution } from '../lifecycle/contributions.js';
import { holdsDocuments } from '../access/record-scope.js';
import { placeholderText, placeholdersMissingEach, requiredPlaceholder, STANDARD_TEMPLATE_NAMES } from '../notifications/template-placeholders.js';
import { BASE_PORTAL_MODULES, PUBLIC_CATALOGUES } from '../eligibility/module-eligibility.js';
import { wallClockOf, wallClockWithOffset } from '../access/wall-clock.js';
import { BUTTON_ICONS, BUTTON_ICON_NAMES, buttonIcon } from '../profiles/button-icons.js';
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
  effectiveFlags,
  type ConditionalRule,
  type HomeButton,
  type ModulePrivileges,
  type ProfileDocument,
  type ProfileFlag,
  type RecordScope,
} from '../profiles/profile-document.js';
import { ProfileError } from '../profiles/profile-errors.js';
import { ProfileService } from '../profiles/profile-service.js';
import { adminAsset } from './admin-assets.js';
import { countIn, OWNER_LIST_LIMIT, OWNER_MATCHES_SHOWN, searchChoices, searchOutcome, userSearchOf } from './crm-user-search.js';

/** Locale keys are letters and digits only: a record scope's key. */
const SCOPE_KEYS: Readonly<Record<RecordScope, MessageKey>> = {
  contact: 'privileges.modules.scopes.contact',
  account: 'privileges.modules.scopes.account',
  'account-and-subsidiaries': 'privileges.modules.scopes.accountAndSubsidiaries',
};

const FLAG_KEYS: Readonly<Record<ProfileFlag['reason'], MessageKey>> = {
  'module-not-allowed': 'privileges.flags.moduleNotAllowed',
  'create-not-allowed': 'privileges.flags.createNotAllowed',
  'field-missing': 'privileges.flags.fieldMissing',
};

/** A module with more fields than this gets a filter above its list of fields. */
const FIELD_FILTER_FROM = 15;

function profileId(req: Request): number | null {
  const raw = String(req.params.id ?? '');
  return /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : null;
}

/**
 * The names of `languages` as words of a sentence in `inLanguage` (`inglese`, `Italian`): the CRM's
 * menu names each language in itself (`English`, `Italiano`), which reads wrong inside another
 * language's text. A language Intl does not know keeps the CRM's name. Once a page: Intl builds
 * each `DisplayNames` from its locale data (about a millisecond), and made anew for every button
 * and language they were most of the buttons section's time.
 */
function languageNames(languages: readonly { readonly code: LanguageCode; readonly name: string }[], inLanguage: LanguageCode): Map<LanguageCode, string> {
  let names: Intl.DisplayNames | null = null;
  try {
    names = new Intl.DisplayNames([inLanguage], { type: 'language', fallback: 'none' });
  } catch {
    // An admin language Intl does not know: the CRM's names.
  }
  return new Map(
    languages.map((language) => {
      let name: string | undefined;
      try {
        name = names?.of(language.code);
      } catch {
        // A code Intl refuses: the CRM's name.
      }
      return [language.code, name ?? language.name];
    }),
  );
}

function localized(text: LocalizedText | undefined, language: LanguageCode, fallback: string): string {
  if (!text) return fallback;
  return text[language] ?? text.en ?? fallback;
}

interface Option {
  readonly value: string;
  readonly label: string;
  readonly selected: boolean;
}

@injectable()
export class PrivilegesPage implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(ProfileService) private readonly profiles: ProfileService,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(HostEmailTemplates) private readonly templates: HostEmailTemplates,
    @inject(HostConditionalRules) private readonly crmRules: HostConditionalRules,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(AdminOutcomes) private readonly outcomes: AdminOutcomes,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.get('/profiles/:id/privileges', async (req, res) => this.page(req, res));
    router.get('/profiles/:id/privileges/modules/:module', async (req, res) => this.moduleFields(req, res));
  }

  /** The profile the path names, or null when the id is malformed or no such profile exists. */
  private async documentOf(req: Request): Promise<ProfileDocument | null> {
    const id = profileId(req);
    if (id === null) return null;
    try {
      return await this.profiles.document(id);
    } catch (error) {
      if (error instanceof ProfileError && error.code === 'not_found') return null;
      throw error;
    }
  }

  /**
   * One module's fields and list columns (`admin/privileges-module-fields`), as the page draws them:
   * what its script asks for when the module's part is opened. `?version=` is the profile's version
   * the page holds: a profile saved since answers 409 `stale` (the page catches up first), so that
   * fields drawn beside the rest of the page are of the same revision. An unknown profile or a
   * module it has no entry for answers 404.
   */
  private async moduleFields(req: Request, res: Response): Promise<void> {
    const language = this.pages.language(res);
    const t = (key: MessageKey, params?: MessageParams) => this.translator.t(language, key, params);
    const refuse = (status: number, code: string, key: MessageKey) => {
      res.status(status).json({ error: { code, message: t(key) } });
    };
    const document = await this.documentOf(req);
    if (!document) return refuse(404, 'not_found', 'profiles.errors.notFound');
    const entry = document.modules.find((m) => m.module === String(req.params.module ?? ''));
    if (!entry) return refuse(404, 'not_found', 'privileges.modules.notFound');
    const version = req.query.version;
    if (version !== undefined && String(version) !== String(document.profile.version)) return refuse(409, 'stale', 'privileges.staleSection');
    const licensed = await this.profiles.licensed();
    const definitions = new Map(this.registry.modules().map((m) => [m.name, m]));
    const html = this.renderer.render('admin/privileges-module-fields', language, this.moduleFieldsView(entry, definitions, licensed, language, t));
    res.set('cache-control', 'no-store').type('html').send(html);
  }

  private async page(req: Request, res: Response): Promise<void> {
    const document = await this.documentOf(req);
    if (!document) {
      await this.pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'profiles.errors.notFound');
      return;
    }
    const language = this.pages.language(res);
    const t = (key: MessageKey, params?: MessageParams) => this.translator.t(language, key, params);
    const licensed = await this.profiles.licensed();
    const definitions = new Map(this.registry.modules().map((m) => [m.name, m]));
    const moduleLabel = (name: string) => localized(definitions.get(name)?.label, language, name);
    const fieldOf = (module: string, field: string) => definitions.get(module)?.fields.find((f) => f.name === field);
    const fieldLabel = (module: string, field: string) => localized(fieldOf(module, field)?.label, language, field);
    const flagText = (flag: ProfileFlag) => t(FLAG_KEYS[flag.reason], { module: moduleLabel(flag.module), field: flag.field ? fieldLabel(flag.module, flag.field) : '' });
    // A rule's condition on a picklist reads its values by their labels (`Stato = Chiuso`); a value without one reads as stored.
    // A datetime's value (an instant) reads as the CRM's wall clock, as it is typed there.
    const valueLabel = (module: string, field: string, value: string) => {
      const definition = fieldOf(module, field);
      if (definition?.type === 'datetime') return wallClockOf(value, this.regional.timeZone()) ?? value;
      // A checkbox's true and false read Yes and No, as the rule form offers them.
      if (definition?.type === 'boolean' && (value === 'true' || value === 'false')) return t(value === 'true' ? 'records.yes' : 'records.no');
      return localized(definition?.picklistLabels?.[value], language, value);
    };
    // The rule editor gets a datetime's instant on the same clock with its offset: saved unchanged it
    // names the same instant (the repeated hour's second time too), and shows no UTC time to "correct".
    const editorValue = (module: string, field: string, value: string) =>
      fieldOf(module, field)?.type === 'datetime' ? (wallClockWithOffset(value, this.regional.timeZone()) ?? value) : value;

    const data = {
      profile: document.profile,
      licensed,
      base: `${this.settings.settingsPath}/profiles/${document.profile.id}`,
      icons: BUTTON_ICON_NAMES.map((name) => ({ name, path: BUTTON_ICONS[name] })),
      general: await this.generalView(document, t, language, userSearchOf(req.query.ownerSearch)),
      notifications: await this.notificationsView(document, t),
      buttons: this.buttonsView(document, licensed, language, t, moduleLabel, flagText),
      rules: await this.rulesView(document, t, moduleLabel, fieldLabel, valueLabel, editorValue, flagText),
      globals: document.globals,
      modules: this.modulesView(document, licensed, definitions, language, t, typeof req.query.fields === 'string' ? req.query.fields : null),
      ops: RULE_OPERATORS.map((op) => ({ value: op, label: t(`privileges.rules.ops.${op}`) })),
      effectOptions: RULE_EFFECTS.map((effect) => ({ value: effect, label: t(`privileges.rules.effectLabels.${effect}`) })),
      context: JSON.stringify(this.clientContext(document, definitions, language, t)),
      assets: {
        stylesheet: adminAsset(this.settings.settingsPath, 'privileges.css'),
        sortable: adminAsset(this.settings.settingsPath, 'vendor/sortable.min.js'),
        script: adminAsset(this.settings.settingsPath, 'privileges.js'),
      },
      // Only the New profile form's "Next" lands here with a message (an allow-list, never free text),
      // signed for this admin's session (plugin/http/admin-outcomes.ts): never a crafted link's.
      done: this.outcomes.of(req, res)?.done === 'created' ? t('profiles.done.created') : null,
    };
    await this.pages.send(req, res, {
      template: 'admin/privileges',
      titleKey: 'privileges.title',
      titleParams: { name: document.profile.name },
      notice: data.done,
      data,
    });
  }

  private async generalView(document: ProfileDocument, t: (key: MessageKey, params?: MessageParams) => string, language: LanguageCode, search: string) {
    const owner = document.general.owner;
    const [users, groups] = await Promise.all([this.users.users(), this.users.groups()]);
    const collator = new Intl.Collator(language);
    const byName = (a: { label: string }, b: { label: string }) => collator.compare(a.label, b.label);
    const twoFactor = (current: string) =>
      TWO_FACTOR_TYPES.map((type) => ({ value: type, label: t(`privileges.twoFactor.${type}`), selected: type === current }));
    const userOption = (user: CrmUser) => {
      const label = crmUserLabel(user);
      return {
        value: `user:${user.id}`,
        label: user.active ? label : t('privileges.general.inactive', { name: label }),
        inactive: !user.active,
        selected: owner?.kind === 'user' && owner.id === user.id,
      };
    };
    const groupOption = (group: CrmGroup) => ({ value: `group:${group.id}`, label: group.name, selected: owner?.kind === 'group' && owner.id === group.id });
    const chosenUser = owner?.kind === 'user' ? users.find((u) => u.id === owner.id) : undefined;
    const chosenGroup = owner?.kind === 'group' ? groups.find((g) => g.id === owner.id) : undefined;
    // A user or group removed from the CRM since it was chosen: offered as stored, marked, so that
    // saving the section keeps it (not "Not set": that would clear it).
    const ownerGone =
      owner !== null && !chosenUser && !chosenGroup
        ? { value: `${owner.kind}:${owner.id}`, label: t(owner.kind === 'user' ? 'privileges.general.ownerUserGone' : 'privileges.general.ownerGroupGone', { id: owner.id }) }
        : null;
    const common = { ownerNone: owner === null, ownerGone, twoFactorType: twoFactor(document.general.twoFactorType), twoFactorFallback: twoFactor(document.general.twoFactorFallback) };
    if (users.length + groups.length <= OWNER_LIST_LIMIT) {
      return { ...common, users: users.map(userOption).sort(byName), groups: groups.map(groupOption).sort(byName), search: null };
    }
    // A large CRM: the chosen owner, and the users and groups the search names (the dropdown of
    // 5,000 users was 400 KB of the page, and no one scrolls it).
    const found = searchChoices(search, language, users, groups, { user: chosenUser, group: chosenGroup });
    const matches = found.matches;
    const shownUsers = found.users.map(userOption).sort(byName).slice(0, OWNER_MATCHES_SHOWN);
    const shownGroups = found.groups.map(groupOption).sort(byName).slice(0, Math.max(0, OWNER_MATCHES_SHOWN - shownUsers.length));
    const outcome = searchOutcome(
      search,
      matches,
      language,
      t,
      () => t('privileges.general.ownerSearchHint', { users: countIn(language, users.length), groups: countIn(language, groups.length) }),
      { none: 'privileges.general.ownerSearchNone', all: 'privileges.general.ownerSearchAll', some: 'privileges.general.ownerSearchSome' },
    );
    return {
      ...common,
      chosen: chosenUser ? userOption(chosenUser) : chosenGroup ? groupOption(chosenGroup) : null,
      users: shownUsers,
      groups: shownGroups,
      search: { text: search, outcome },
    };
  }

  private async notificationsView(document: ProfileDocument, t: (key: MessageKey, params?: MessageParams) => string) {
    const templates = [...(await this.templates.templates())].sort((a, b) => a.name.localeCompare(b.name));
    // What each template lacks of what some kinds need (the password, the reset link): such a template is offered disabled for them.
    const missing = await placeholdersMissingEach(this.templates, templates);
    const current = document.notifications;
    return {
      kinds: NOTIFICATION_KINDS.map((kind) => {
        const chosen = current.templates[kind];
        const required = requiredPlaceholder(kind);
        const lacks = (id: number) => required !== null && (missing.get(id)?.has(required) ?? false);
        // No choice (or a deleted one) sends the CRM's standard template of the kind, when it has one.
        const standard = templates.find((template) => template.name === STANDARD_TEMPLATE_NAMES[kind]);
        const placeholder = required === null ? '' : placeholderText(required);
        return {
          kind,
          label: t(`privileges.notifications.kinds.${kind}`),
          noneSelected: chosen === null,
          fallbackLabel: t(standard ? 'privileges.notifications.templateStandard' : 'privileges.notifications.templateNone'),
          standardHint: standard ? t('privileges.notifications.templateStandardHint', { name: standard.name }) : null,
          missing: chosen !== null && !templates.some((template) => template.id === chosen),
          // A template removed from the CRM since it was chosen: offered as stored, marked, so that saving the section keeps it.
          gone: chosen !== null && !templates.some((template) => template.id === chosen) ? { value: String(chosen), label: t('privileges.notifications.templateGoneOption', { id: chosen }) } : null,
          // A choice stored before templates were checked: kept (the standard template is sent meanwhile).
          unfit: chosen !== null && lacks(chosen) ? t('privileges.notifications.templateUnfit', { placeholder }) : null,
          options: templates.map((template) => {
            const unfit = lacks(template.id);
            const selected = template.id === chosen;
            return {
              value: String(template.id),
              label: unfit ? t('privileges.notifications.templateUnfitOption', { name: template.name, placeholder }) : template.name,
              selected,
              // The stored choice stays enabled: a disabled option is not sent, and saving the rest must keep it.
              disabled: unfit && !selected,
            };
          }),
        };
      }),
      smtp: SMTP_ACCOUNTS.map((account) => ({
        value: account,
        label: t(`privileges.notifications.smtp.${account}`),
        help: t(`privileges.notifications.smtp.${account}Help`),
        checked: account === current.smtpAccount,
      })),
      senderEmail: current.senderEmail ?? '',
      senderName: current.senderName ?? '',
    };
  }

  /** The modules a button may open (shown and viewed), each saying whether "create" is allowed there. */
  private buttonTargets(document: ProfileDocument, licensed: boolean) {
    return document.modules
      .filter((entry) => licensed || BASE_PORTAL_MODULES.includes(entry.module))
      .map((entry) => ({ module: entry.module, flags: effectiveFlags(entry, document.globals) }))
      .filter(({ flags }) => flags.shown && flags.view);
  }

  private buttonsView(
    document: ProfileDocument,
    licensed: boolean,
    adminLanguage: LanguageCode,
    t: (key: MessageKey, params?: MessageParams) => string,
    moduleLabel: (name: string) => string,
    flagText: (flag: ProfileFlag) => string,
  ) {
    const targets = this.buttonTargets(document, licensed);
    // A button's title and description are what every customer reads; the CRM's other languages may have their own.
    const languages = this.regional.languages();
    const defaultLanguage = this.regional.defaultLanguage();
    const others = languages.filter((language) => language.code !== defaultLanguage);
    const names = languageNames(languages, adminLanguage);
    const named = (code: LanguageCode) => names.get(code) ?? code;
    const options = (button: HomeButton | null) => ({
      translations: others.map((language) => ({
        code: language.code,
        titleLabel: t('privileges.buttons.titleIn', { language: named(language.code) }),
        descriptionLabel: t('privileges.buttons.descriptionIn', { language: named(language.code) }),
        title: button?.translations?.[language.code]?.title ?? '',
        description: button?.translations?.[language.code]?.description ?? '',
      })),
      defaultLanguage: named(defaultLanguage),
      colours: BUTTON_COLOURS.map((colour) => ({ value: colour, label: t(`privileges.buttons.colours.${colour}`), selected: colour === (button?.colour ?? 'primary') })),
      iconOptions: BUTTON_ICON_NAMES.map((icon) => ({ value: icon, label: t(`privileges.buttons.icons.${icon}`), selected: icon === (button ? buttonIcon(button.icon) : 'ticket') })),
      actions: BUTTON_ACTIONS.map((action) => ({ value: action, label: t(`privileges.buttons.actions.${action}`), selected: action === (button?.action ?? 'list') })),
      moduleOptions: [
        ...targets.map(({ module, flags }) => ({ value: module, label: moduleLabel(module), canCreate: flags.create && !(module in PUBLIC_CATALOGUES), selected: module === button?.module })),
        // A module the button points at that is no longer allowed stays choosable (and flagged).
        ...(button && !targets.some((target) => target.module === button.module)
          ? [{ value: button.module, label: t('privileges.buttons.moduleNotAllowed', { module: moduleLabel(button.module) }), canCreate: false, selected: true }]
          : []),
      ],
    });
    return {
      noTargets: targets.length === 0,
      items: document.buttons.map((button, index) => ({
        ...button,
        index,
        shownIcon: buttonIcon(button.icon),
        flags: document.flags.filter((flag) => flag.section === 'buttons' && flag.index === index).map(flagText),
        ...options(button),
      })),
      blank: { title: '', description: '', colour: 'primary', shownIcon: 'ticket', ...options(null) },
    };
  }

  private async rulesView(
    document: ProfileDocument,
    t: (key: MessageKey, params?: MessageParams) => string,
    moduleLabel: (name: string) => string,
    fieldLabel: (module: string, field: string) => string,
    valueLabel: (module: string, field: string, value: string) => string,
    editorValue: (module: string, field: string, value: string) => string,
    flagText: (flag: ProfileFlag) => string,
  ) {
    const forEditor = (rule: ConditionalRule): ConditionalRule => ({
      ...rule,
      conditions: rule.conditions.map((c) => {
        const edited = (value: unknown) => (typeof value === 'string' ? editorValue(rule.module, c.field, value) : value);
        return c.value === undefined ? c : { ...c, value: (Array.isArray(c.value) ? c.value.map(edited) : edited(c.value)) as typeof c.value };
      }),
    });
    const describe = (rule: Omit<ConditionalRule, 'origin'>) => ({
      conditions: rule.conditions.map((c) => {
        const shown = (value: unknown) => valueLabel(rule.module, c.field, String(value ?? ''));
        const value = c.op === 'isNull' || c.op === 'notNull' ? '' : Array.isArray(c.value) ? c.value.map(shown).join(', ') : shown(c.value);
        return `${fieldLabel(rule.module, c.field)} ${t(`privileges.rules.ops.${c.op}`)}${value ? ` ${value}` : ''}`;
      }),
      effects: [
        ...(rule.allReadOnly ? [t('privileges.rules.everything')] : []),
        ...rule.effects.map((e) => `${fieldLabel(rule.module, e.field)}: ${t(`privileges.rules.effectLabels.${e.effect}`)}`),
      ],
    });
    const origin = (rule: ConditionalRule) =>
      rule.origin.kind === 'profile' ? t('privileges.rules.origins.profile', { name: rule.origin.profileName }) : t(`privileges.rules.origins.${rule.origin.kind}`);
    const crmRules = await this.crmRules.rules();
    const otherProfiles = (await this.profiles.list()).filter((p) => p.id !== document.profile.id);
    const eligible = new Set(document.modules.map((m) => m.module));
    const firstShown = document.modules.find((m) => effectiveFlags(m, document.globals).shown)?.module;
    return {
      items: document.rules.map((rule, index) => ({
        name: rule.name,
        moduleLabel: moduleLabel(rule.module),
        origin: origin(rule),
        originKind: rule.origin.kind,
        ...describe(rule),
        flags: document.flags.filter((flag) => flag.section === 'rules' && flag.index === index).map(flagText),
        json: JSON.stringify(forEditor(rule)),
      })),
      crm: crmRules.map((rule: CrmConditionalRule) => ({
        id: rule.id,
        name: rule.name,
        moduleLabel: moduleLabel(rule.module),
        eligible: eligible.has(rule.module),
        ...describe(rule),
        json: JSON.stringify(fromCrmRule(rule)),
      })),
      otherProfiles: otherProfiles.map((p) => ({ id: p.id, name: p.name })),
      // The new-rule form starts on the first module the profile shows.
      modules: document.modules
        .map((m) => ({ value: m.module, label: moduleLabel(m.module), selected: m.module === firstShown }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    };
  }

  private modulesView(
    document: ProfileDocument,
    licensed: boolean,
    definitions: ReadonlyMap<string, ModuleDefinition>,
    language: LanguageCode,
    t: (key: MessageKey, params?: MessageParams) => string,
    fieldsOf: string | null,
  ) {
    const scopeLabels = RECORD_SCOPES.map((scope) => ({ scope, label: t(SCOPE_KEYS[scope]) }));
    const toolLabels = MODULE_TOOLS.map((tool) => ({ tool, label: t(`privileges.modules.toolNames.${tool}`) }));
    return document.modules.map((entry) => {
      const definition = definitions.get(entry.module);
      const locked = !licensed && !BASE_PORTAL_MODULES.includes(entry.module);
      const isAccounts = entry.module === 'Accounts';
      return {
        module: entry.module,
        label: localized(definition?.label, language, entry.module),
        locked,
        isAccounts,
        catalogue: entry.module in PUBLIC_CATALOGUES,
        shown: entry.shown,
        view: entry.view,
        create: entry.create && !isAccounts,
        edit: entry.edit,
        delete: entry.delete,
        scopes: scopeLabels.map(({ scope, label }) => ({ value: scope, label, selected: scope === entry.scope })),
        // A module's fields are drawn when its part is opened (the page of 40 modules of 150 fields was
        // 3.6 MB); without JavaScript, the module `?fields=` names has them drawn in the page.
        fieldsView: entry.module === fieldsOf ? this.moduleFieldsView(entry, definitions, licensed, language, t) : null,
        // The documents tool needs a Documents related list to attach files to: without one it is kept but not in force.
        tools: toolLabels.map(({ tool, label }) => ({ tool, label, checked: entry.tools[tool], unavailable: tool === 'documents' && !holdsDocuments(this.registry, entry.module) })),
      };
    });
  }

  /** A module's fields and list columns (`admin/privileges-module-fields`), and what the rule form needs of its fields. */
  private moduleFieldsView(
    entry: ModulePrivileges,
    definitions: ReadonlyMap<string, ModuleDefinition>,
    licensed: boolean,
    language: LanguageCode,
    t: (key: MessageKey, params?: MessageParams) => string,
  ) {
    const definition = definitions.get(entry.module);
    const fields: readonly FieldDefinition[] = definition?.fields ?? [];
    const labels = new Map(fields.map((f) => [f.name, localized(f.label, language, f.name)]));
    const fieldLabel = (field: string) => labels.get(field) ?? field;
    // The same few option labels on every field: translated once.
    const accessLabels = FIELD_ACCESS.map((access) => ({ access, label: t(`privileges.modules.access.${access}`) }));
    return {
      module: entry.module,
      locked: !licensed && !BASE_PORTAL_MODULES.includes(entry.module),
      // A long list gets a filter above it: 200 fields are a dozen screens on a phone.
      manyFields: fields.length > FIELD_FILTER_FROM,
      fields: fields.map((field) => ({
        name: field.name,
        label: fieldLabel(field.name),
        mandatory: field.mandatory,
        options: accessLabels.map(({ access, label }) => ({ value: access, label, selected: entry.fields[field.name] === access })),
      })),
      columns: entry.listColumns.map((column) => ({ name: column, label: fieldLabel(column) })),
      available: fields
        .filter((field) => !entry.listColumns.includes(field.name) && entry.fields[field.name] !== 'hidden')
        .map((field) => ({ name: field.name, label: fieldLabel(field.name) })),
      info: JSON.stringify(fieldsInfo(fields, language, { yes: t('records.yes'), no: t('records.no') })),
    };
  }

  /** What the script needs beyond the forms: the modules' labels and its texts. */
  private clientContext(document: ProfileDocument, definitions: ReadonlyMap<string, ModuleDefinition>, language: LanguageCode, t: (key: MessageKey, params?: MessageParams) => string) {
    const options = (values: readonly string[], key: (value: string) => MessageKey): Option[] => values.map((value) => ({ value, label: t(key(value)), selected: false }));
    return {
      modules: Object.fromEntries(
        document.modules.map((entry) => {
          const definition = definitions.get(entry.module);
          return [
            entry.module,
            {
              // Its fields come with the module's part of the page (`data-bp-module-info`), when asked for.
              label: localized(definition?.label, language, entry.module),
            },
          ];
        }),
      ),
      ops: options(RULE_OPERATORS, (op) => `privileges.rules.ops.${op}` as MessageKey),
      effects: options(RULE_EFFECTS, (effect) => `privileges.rules.effectLabels.${effect}` as MessageKey),
      texts: {
        saving: t('privileges.saving'),
        saved: t('privileges.saved'),
        unsaved: t('privileges.unsaved'),
        networkError: t('privileges.networkError'),
        reload: t('privileges.reload'),
        staleSection: t('privileges.staleSection'),
        moved: t('privileges.moved'),
        fieldsShown: t('privileges.modules.fieldsShown'),
        fieldsFailed: t('privileges.modules.fieldsFailed'),
        fieldsLoading: t('privileges.modules.fieldsLoading'),
        removed: t('privileges.removed'),
        everything: t('privileges.rules.everything'),
        originPortal: t('privileges.rules.origins.portal'),
        originCrm: t('privileges.rules.origins.crm'),
        originProfile: t('privileges.rules.origins.profile'),
        ruleAdded: t('privileges.rules.ruleAdded'),
        ruleUpdated: t('privileges.rules.ruleUpdated'),
        addHeading: t('privileges.rules.addHeading'),
        addHint: t('privileges.rules.addHint'),
        addRule: t('privileges.rules.addRule'),
        editHeading: t('privileges.rules.editHeading'),
        editHint: t('privileges.rules.editHint'),
        updateRule: t('privileges.rules.updateRule'),
        ruleIncomplete: t('privileges.rules.incomplete'),
        imported: t('privileges.rules.imported'),
        importFailed: t('privileges.rules.importFailed'),
        newButton: t('privileges.buttons.newTitle'),
      },
    };
  }
}

/** What the rule form needs of a module's fields: names, labels, types, a picklist's values with their labels. */
function fieldsInfo(fields: readonly FieldDefinition[], language: LanguageCode, words: { readonly yes: string; readonly no: string }) {
  return fields.map((field) => ({
    name: field.name,
    label: localized(field.label, language, field.name),
    type: field.type,
    // A picklist's values with their labels, and a checkbox's true and false as Yes and No: offered
    // by the rule form, read by the rules it adds.
    ...(field.picklistValues
      ? { options: field.picklistValues.map((value) => ({ value, label: localized(field.picklistLabels?.[value], language, value) })) }
      : field.type === 'boolean'
        ? { options: [{ value: 'true', label: words.yes }, { value: 'false', label: words.no }] }
        : {}),
  }));
}

/** A CRM rule as a rule of this profile (origin `crm`: it keeps the CRM rule's id). */
export function fromCrmRule(rule: CrmConditionalRule): ConditionalRule {
  return {
    name: rule.name,
    module: rule.module,
    origin: { kind: 'crm', ruleId: rule.id },
    conditions: rule.conditions.map((c) => ({ field: c.field, op: c.op, ...(c.value === undefined ? {} : { value: c.value }) })),
    effects: rule.effects.map((e) => ({ field: e.field, effect: e.effect })),
    allReadOnly: rule.allReadOnly,
  };
}
