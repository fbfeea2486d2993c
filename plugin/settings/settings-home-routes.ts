/**
 * `GET /settings/business-portal`: the portal version (with the Version chooser on installs
 * upgraded from a release with version 1), the profiles, the modules that are not portal-eligible
 * and why, and the portal's address. `POST /version` switches the version customers see.
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { ModuleEligibility, type NotEligibleReason } from '../eligibility/module-eligibility.js';
import { HostHttp, HostLicences } from '../host-contract/index.js';
import { AdminOutcomes } from '../http/admin-outcomes.js';
import { AdminPages, crmSessionOf } from '../http/admin-pages.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { Translator } from '../i18n/translator.js';
import { PluginSettings, type AdminRouteContribution } from '../lifecycle/contributions.js';
import { PORTAL_LICENCE } from '../profiles/profile-service.js';
import { DEFAULT_PROFILE_DESCRIPTION, ProfileStore } from '../profiles/profile-store.js';
import { validateSettingsForm } from './classic-forms.js';
import { ADMIN_ASSETS, ADMIN_ASSETS_PATH } from './admin-assets.js';
import { ClassicSettingsError } from './classic-settings.js';
import { CLASSIC_PATH } from './classic-settings-routes.js';
import { PortalVersions } from './portal-version.js';

const REASONS: Readonly<Record<NotEligibleReason, MessageKey>> = {
  'no-customer-relation': 'eligibility.reasons.noCustomerRelation',
  'multi-target-reference-only': 'eligibility.reasons.multiTargetReferenceOnly',
  'unknown-module': 'eligibility.reasons.unknownModule',
};

/** A link the host gives may only be a local path or an http(s) URL (never `javascript:` and the like). */
export function safeHostLink(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 2000) return null;
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

@injectable()
export class SettingsHomeRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(ProfileStore) private readonly profiles: ProfileStore,
    @inject(PortalVersions) private readonly versions: PortalVersions,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostLicences) private readonly licences: HostLicences,
    @inject(ModuleEligibility) private readonly eligibility: ModuleEligibility,
    @inject(Translator) private readonly translator: Translator,
    @inject(AdminOutcomes) private readonly outcomes: AdminOutcomes,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.use(ADMIN_ASSETS_PATH, ADMIN_ASSETS.routes());
    router.get('/', async (req, res) => this.home(req, res, {}));
    router.post('/version', async (req, res) => this.chooseVersion(req, res));
  }

  private async home(req: Request, res: Response, state: { status?: number; errors?: readonly string[] }): Promise<void> {
    const origin = this.versions.origin();
    const language = this.pages.language(res);
    const version = await this.versions.current();
    const licensed = await this.licences.has(PORTAL_LICENCE);
    // Only the outcome of this admin's own switch (signed for the session): never a crafted link's.
    const done = this.outcomes.of(req, res)?.done === 'version' ? this.translator.t(language, 'classic.version.saved', { version }) : null;
    await this.pages.send(req, res, {
      template: 'admin/settings-home',
      titleKey: 'settings.title',
      status: state.status ?? 200,
      refused: (state.errors?.length ?? 0) > 0,
      notice: done,
      data: {
        version,
        onVersion1: version === 1,
        chooser: this.versions.choosable(),
        done,
        errors: state.errors ?? [],
        classicPath: CLASSIC_PATH,
        fresh: origin.kind === 'fresh',
        upgradedFromV1: origin.kind === 'upgraded' && origin.hadPortalVersion1,
        // Empty when the host does not know the release: the page then says "an earlier release".
        fromRelease: origin.kind === 'upgraded' && origin.fromRelease.trim() !== '' ? origin.fromRelease : null,
        profiles: (await this.profiles.list()).map((profile) => ({
          ...profile,
          // Without the licence the others stay stored but every contact uses Default.
          inert: !licensed && !profile.isDefault,
          // The seeded Default profile's description is the plugin's own text: read in the admin's language until changed.
          description: profile.isDefault && profile.description === DEFAULT_PROFILE_DESCRIPTION ? this.translator.t(language, 'profiles.defaultDescription') : profile.description,
          // "Default (Default)" says nothing twice: the badge only where the name is another.
          defaultBadge: profile.isDefault && profile.name.trim().toLowerCase() !== this.translator.t(language, 'profiles.default').toLowerCase(),
        })),
        // Without the licence only Default exists: no new, duplicate or import (the page says why).
        licensed,
        portalUrl: this.http.publicUrl(this.settings.portalPath),
        notEligible: this.eligibility.notEligible().map(({ module, reason }) => ({
          name: module.name,
          label: module.label[language] ?? module.label.en,
          reason: this.translator.t(language, REASONS[reason]),
          // Optional in the contract (1.1.0): hosts without a relations page give no link.
          relationsUrl: safeHostLink(this.http.moduleRelationsUrl?.(module.name)),
        })),
      },
    });
  }

  private async chooseVersion(req: Request, res: Response): Promise<void> {
    if (!this.versions.choosable()) {
      await this.pages.sendMessage(req, res, 404, 'errors.notFoundTitle', 'classic.version.notChoosable');
      return;
    }
    const session = crmSessionOf(res);
    // The admin gate runs before every route: a session is always there.
    if (!session) throw new Error('Business Portal: version change without a CRM session');
    try {
      const form = validateSettingsForm('version', req.body);
      await this.versions.choose(form.version === '1' ? 1 : 2, { userId: session.user.id, userName: session.user.userName });
      this.outcomes.redirect(res, `${this.settings.settingsPath}/`, { done: 'version' });
    } catch (error) {
      if (!(error instanceof ClassicSettingsError)) throw error;
      const language = this.pages.language(res);
      await this.home(req, res, { status: 400, errors: error.problems.map((p) => this.translator.t(language, p.messageKey, p.params)) });
    }
  }
}
