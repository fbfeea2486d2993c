/**
 * Builds the `AccessPolicy` of a portal account: version 2 from the account's profile (Default
 * when it has none), version 1 from the classic settings. Policies are cached per profile and
 * rebuilt when the profile's version stamp changes (a save through any host process bumps it),
 * when the registry changes (a module gains or loses eligibility) or when the portal version or
 * classic settings change: the stamp is read on every request, never a timer — with the session's
 * own row on a signed-in request (`PolicyStampColumns`), else in one small statement.
 */
import { inject, injectable, optional } from 'inversify';
import { QueryTypes } from 'sequelize';
import type { SessionCompanionColumns } from '../auth/portal-sessions.js';
import { HostDatabase, HostModuleRegistry, type ModuleDefinition } from '../host-contract/index.js';
import { BASE_PORTAL_MODULES, ModuleEligibility, PUBLIC_CATALOGUES } from '../eligibility/module-eligibility.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { toNumber } from '../lifecycle/sql-values.js';
import { effectiveFlags, type ModuleTool, type ProfileDocument } from '../profiles/profile-document.js';
import { ProfileService } from '../profiles/profile-service.js';
import { ProfileStore } from '../profiles/profile-store.js';
import { PORTAL_VERSION_SETTING, PortalVersions } from '../settings/portal-version.js';
import { allowedButtons, defaultListColumns, type AccessPolicy, type ModulePolicy, type VisibleFieldAccess } from './access-policy.js';
import { holdsDocuments } from './record-scope.js';

/** The classic (version 1) settings as the access layer reads them (bound by the settings capability). */
export interface ClassicSettingsView {
  readonly modules: readonly { readonly module: string; readonly active: boolean; readonly viewAllRelated: boolean }[];
  readonly userId: number | null;
  /** The "select template" of the access-details mail; null: the standard one. */
  readonly credentialsTemplateId: number | null;
}
export const ClassicSettingsReader = Symbol.for('business-portal.settings.ClassicSettingsStore');
export interface ClassicSettingsReader {
  read(): Promise<ClassicSettingsView>;
}

/** Version 1's modules when nothing is stored: requests, knowledge base, documents. */
const CLASSIC_DEFAULT_MODULES = ['HelpDesk', 'Faq', 'Documents'];

/** Version 1: what support fills on a ticket (number, status, solution) — customers only read them. */
const CLASSIC_TICKET_SUPPORT_FIELDS: readonly string[] = ['ticket_no', 'status', 'solution'];

const NO_TOOLS: Readonly<Record<ModuleTool, boolean>> = { comments: false, documents: false, search: false, export: false };

/** The policy stamp's values, as `stampColumns` names them. */
interface StampValues {
  readonly bp_portal_version?: unknown;
  readonly bp_own_profile_version?: unknown;
  readonly bp_default_profile_id?: unknown;
  readonly bp_default_profile_version?: unknown;
}

const STAMP_REPLACEMENTS: Readonly<Record<string, unknown>> = { bpStampSetting: PORTAL_VERSION_SETTING, bpStampYes: true };

/**
 * The policy stamp as scalar subqueries: the portal version in force, the version of the profile
 * that `profileIdSql` names, and the id and version of the Default profile. A change made by any
 * host process bumps one of them, so a cached policy is never used past its change.
 */
function stampColumns(database: HostDatabase, profileIdSql: string): string {
  // `key` is a reserved word in MariaDB: always quoted.
  const key = database.sequelize.getQueryInterface().quoteIdentifier('key');
  const defaultProfile = 'FROM bp_profiles d WHERE d.is_default = :bpStampYes ORDER BY d.id LIMIT 1';
  return `(SELECT v.value FROM bp_settings v WHERE v.${key} = :bpStampSetting) AS bp_portal_version,
    (SELECT p.version FROM bp_profiles p WHERE p.id = ${profileIdSql}) AS bp_own_profile_version,
    (SELECT d.id ${defaultProfile}) AS bp_default_profile_id,
    (SELECT d.version ${defaultProfile}) AS bp_default_profile_version`;
}

/** The policy stamp of the session's account, read with the session's row (see `SessionCompanionColumns`). */
@injectable()
export class PolicyStampColumns implements SessionCompanionColumns {
  readonly sql: string;
  readonly replacements = STAMP_REPLACEMENTS;

  constructor(@inject(HostDatabase) database: HostDatabase) {
    this.sql = stampColumns(database, 'a.profile_id');
  }
}

export const AccessPolicies = Symbol.for('business-portal.access.AccessPolicies');
export interface AccessPolicies {
  /** The policy of an account with this profile id (null: Default) under the current portal version. */
  policyFor(profileId: number | null): Promise<AccessPolicy>;
  /**
   * As `policyFor`, from the stamp read with the session's row (`PortalSessions.presentedCompanions`);
   * reads the stamp itself when the row holds none.
   */
  policyForStamp(profileId: number | null, values: Readonly<Record<string, unknown>>): Promise<AccessPolicy>;
}

@injectable()
export class CachedAccessPolicies implements AccessPolicies, LifecycleContribution {
  private readonly cache = new Map<string, AccessPolicy>();
  private registryRevision = 0;
  private unsubscribe: (() => void)[] = [];
  /** The stamp read on its own (for a session not read through `PortalSessions`), built once. */
  private readonly stampQuery: string;

  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(ModuleEligibility) private readonly eligibility: ModuleEligibility,
    @inject(ProfileService) private readonly profiles: ProfileService,
    @inject(ProfileStore) private readonly profileStore: ProfileStore,
    @inject(PortalVersions) private readonly versions: PortalVersions,
    @inject(ClassicSettingsReader) @optional() private readonly classic: ClassicSettingsReader | undefined,
  ) {
    this.stampQuery = `SELECT ${stampColumns(database, ':bpProfileId')}`;
  }

  async onActivate(): Promise<void> {
    const bump = () => {
      this.registryRevision += 1;
      this.cache.clear();
    };
    for (const event of ['module.added', 'module.removed', 'field.added', 'field.removed', 'relation.added', 'relation.removed'] as const) {
      this.unsubscribe.push(this.registry.on(event, bump));
    }
  }

  async onDeactivate(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.cache.clear();
  }

  async policyFor(profileId: number | null): Promise<AccessPolicy> {
    const [values] = await this.database.sequelize.query<StampValues>(this.stampQuery, {
      type: QueryTypes.SELECT,
      replacements: { ...STAMP_REPLACEMENTS, bpProfileId: profileId ?? 0 },
    });
    return this.policyFromStamp(profileId, values ?? {});
  }

  policyForStamp(profileId: number | null, values: Readonly<Record<string, unknown>>): Promise<AccessPolicy> {
    return 'bp_portal_version' in values ? this.policyFromStamp(profileId, values) : this.policyFor(profileId);
  }

  private async policyFromStamp(profileId: number | null, values: StampValues): Promise<AccessPolicy> {
    const version = this.versions.fromStored(typeof values.bp_portal_version === 'string' ? values.bp_portal_version : null);
    if (version === 1) return this.classicPolicy();
    // The account's own profile, or Default when it has none or its profile is gone.
    const present = (value: unknown) => value !== null && value !== undefined;
    const fallback = present(values.bp_default_profile_id)
      ? { id: toNumber(values.bp_default_profile_id), version: toNumber(values.bp_default_profile_version) }
      : await this.profileStore.defaultProfile();
    const stamp = profileId !== null && present(values.bp_own_profile_version) ? { id: profileId, version: toNumber(values.bp_own_profile_version) } : fallback;
    const key = `2:${stamp.id}`;
    const cached = this.cache.get(key);
    // Default's version too: without the licence every profile's policy is Default's.
    const fullStamp = `${stamp.version}:${fallback.version}:${this.registryRevision}`;
    if (cached && cached.source.stamp === fullStamp) return cached;
    // Without the licence only the Default profile exists (SPEC §2.3): another one a contact was
    // given while licensed stays stored, inert, until the licence is back.
    const licensed = await this.profiles.licensed();
    const document = await this.profiles.document(licensed ? stamp.id : fallback.id);
    const policy = this.profilePolicy(document, licensed, fullStamp);
    this.cache.set(key, policy);
    return policy;
  }

  private profilePolicy(document: ProfileDocument, licensed: boolean, stamp: string): AccessPolicy {
    const modules: ModulePolicy[] = [];
    for (const entry of document.modules) {
      const definition = this.registry.module(entry.module);
      if (!definition || !this.eligibility.isEligible(entry.module)) continue;
      if (!licensed && !BASE_PORTAL_MODULES.includes(entry.module)) continue;
      const flags = effectiveFlags(entry, document.globals);
      if (!flags.shown) continue;
      const catalogue = entry.module in PUBLIC_CATALOGUES;
      const fields = definition.fields
        .filter((field) => (entry.fields[field.name] ?? 'readwrite') !== 'hidden')
        .map((field) => ({ ...field, access: (entry.fields[field.name] === 'readonly' ? 'readonly' : 'readwrite') as VisibleFieldAccess }));
      const visible = new Set(fields.map((f) => f.name));
      const columns = entry.listColumns.filter((column) => visible.has(column));
      modules.push({
        definition,
        name: definition.name,
        view: flags.view,
        create: !catalogue && flags.create,
        edit: !catalogue && flags.edit,
        delete: !catalogue && flags.delete,
        scope: entry.scope,
        catalogue,
        fields,
        listColumns: columns.length > 0 ? columns : defaultListColumns(definition, visible),
        tools: { ...entry.tools, documents: entry.tools.documents && holdsDocuments(this.registry, definition.name) },
      });
    }
    return {
      source: { version: 2, profileId: document.profile.id, profileName: document.profile.name, stamp },
      modules,
      buttons: allowedButtons(document.buttons, modules),
      rules: document.rules.filter((rule) => {
        // A rule whose condition tests a field the module no longer has is inert (flagged on its
        // profile): it cannot be judged, and its fields cannot be read with the record's.
        const module = modules.find((m) => m.name === rule.module);
        return module !== undefined && rule.conditions.every((condition) => module.definition.fields.some((field) => field.name === condition.field));
      }),
      owner: document.general.owner,
      picklistUserId: document.general.owner?.kind === 'user' ? document.general.owner.id : null,
      hiddenDocumentFields: documentFieldsWith(document, 'hidden'),
      readOnlyDocumentFields: documentFieldsWith(document, 'readonly'),
      hiddenFields: Object.fromEntries(document.modules.map((entry) => [entry.module, Object.entries(entry.fields).filter(([, given]) => given === 'hidden').map(([field]) => field)])),
    };
  }

  /** Version 1: one implicit profile. Tickets may be opened, commented and given files; the rest is read-only. */
  private async classicPolicy(): Promise<AccessPolicy> {
    const settings: ClassicSettingsView = this.classic
      ? await this.classic.read()
      : { modules: CLASSIC_DEFAULT_MODULES.map((module) => ({ module, active: true, viewAllRelated: false })), userId: null, credentialsTemplateId: null };
    const modules: ModulePolicy[] = [];
    for (const setting of settings.modules) {
      if (!setting.active || !this.eligibility.isEligible(setting.module)) continue;
      const definition = this.registry.module(setting.module);
      if (!definition) continue;
      modules.push(classicModule(definition, setting.viewAllRelated, holdsDocuments(this.registry, definition.name)));
    }
    return {
      source: { version: 1, profileId: null, profileName: null, stamp: `1:${this.registryRevision}` },
      modules,
      buttons: [],
      rules: [],
      owner: settings.userId === null ? null : { kind: 'user', id: settings.userId },
      picklistUserId: settings.userId,
      // Version 1 hides no field, and its customers title the files they give tickets.
      hiddenDocumentFields: [],
      readOnlyDocumentFields: [],
      hiddenFields: {},
    };
  }
}

/** The Documents fields a profile gives `access`, whether or not Documents is on its menu. */
function documentFieldsWith(document: ProfileDocument, access: 'hidden' | 'readonly'): string[] {
  return Object.entries(document.modules.find((entry) => entry.module === 'Documents')?.fields ?? {})
    .filter(([, given]) => given === access)
    .map(([field]) => field);
}

function classicModule(definition: ModuleDefinition, viewAllRelated: boolean, documents: boolean): ModulePolicy {
  const tickets = definition.name === 'HelpDesk';
  const catalogue = definition.name in PUBLIC_CATALOGUES;
  const fields = definition.fields.map((field) => ({
    ...field,
    access: (tickets && !CLASSIC_TICKET_SUPPORT_FIELDS.includes(field.name) ? 'readwrite' : 'readonly') as VisibleFieldAccess,
  }));
  return {
    definition,
    name: definition.name,
    view: true,
    create: tickets,
    edit: false,
    delete: false,
    scope: viewAllRelated ? 'account' : 'contact',
    catalogue,
    fields,
    listColumns: defaultListColumns(definition, new Set(fields.map((f) => f.name))),
    tools: tickets ? { comments: true, documents, search: true, export: false } : { ...NO_TOOLS, search: true },
  };
}
