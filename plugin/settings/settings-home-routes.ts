/** `GET /settings/business-portal`: the portal version, the profiles and the portal's address. */
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import { inject, injectable } from 'inversify';
import { HostHttp, HostLicences } from '../host-contract/index.js';
import { AdminPages } from '../http/admin-pages.js';
import { PluginSettings, type AdminRouteContribution } from '../lifecycle/contributions.js';
import { PORTAL_LICENCE } from '../profiles/profile-service.js';
import { ProfileStore } from '../profiles/profile-store.js';
import { PortalVersions } from './portal-version.js';

/** The admin pages' stylesheet, served from this package under `{settingsPath}/assets`. */
export const ADMIN_ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

@injectable()
export class SettingsHomeRoutes implements AdminRouteContribution {
  constructor(
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(ProfileStore) private readonly profiles: ProfileStore,
    @inject(PortalVersions) private readonly versions: PortalVersions,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(HostLicences) private readonly licences: HostLicences,
  ) {}

  registerAdminRoutes(router: Router): void {
    router.use('/assets', express.static(ADMIN_ASSETS_DIR, { index: false, redirect: false, dotfiles: 'ignore', cacheControl: false }));
    router.get('/', async (req, res) => {
      const origin = this.versions.origin();
      await this.pages.send(req, res, {
        template: 'admin/settings-home',
        titleKey: 'settings.title',
        data: {
          version: await this.versions.current(),
          fresh: origin.kind === 'fresh',
          upgradedFromV1: origin.kind === 'upgraded' && origin.hadPortalVersion1,
          fromRelease: origin.kind === 'upgraded' ? origin.fromRelease : null,
          profiles: await this.profiles.list(),
          // Without the licence only Default exists: no new, duplicate or import (the page says why).
          licensed: await this.licences.has(PORTAL_LICENCE),
          portalUrl: this.http.publicUrl(this.settings.portalPath),
        },
      });
    });
  }
}
