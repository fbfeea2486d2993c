/**
 * Which portal interface the CRM uses: version 2 (profiles) on a fresh install; an install
 * upgraded from a release that had the version 1 (classic) portal keeps version 1 until an
 * admin switches, so that customers see no change on upgrade.
 */
import { inject, injectable } from 'inversify';
import { HostInstallation, type InstallOrigin } from '../host-contract/index.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { SettingsStore } from './settings-store.js';

export const PORTAL_VERSION_SETTING = 'portal.version';
export type PortalVersion = 1 | 2;

export function initialPortalVersion(origin: InstallOrigin): PortalVersion {
  return origin.kind === 'upgraded' && origin.hadPortalVersion1 ? 1 : 2;
}

export const PortalVersions = Symbol.for('business-portal.PortalVersions');
export interface PortalVersions {
  current(): Promise<PortalVersion>;
  origin(): InstallOrigin;
}

@injectable()
export class StoredPortalVersions implements PortalVersions, LifecycleContribution {
  constructor(
    @inject(SettingsStore) private readonly settings: SettingsStore,
    @inject(HostInstallation) private readonly installation: HostInstallation,
  ) {}

  origin(): InstallOrigin {
    return this.installation.origin();
  }

  async current(): Promise<PortalVersion> {
    const stored = await this.settings.get(PORTAL_VERSION_SETTING);
    return stored === 1 || stored === 2 ? stored : initialPortalVersion(this.origin());
  }

  /** Records the initial version once; later installs (every start) keep what is stored. */
  async onInstall(): Promise<void> {
    await this.settings.setIfMissing(PORTAL_VERSION_SETTING, initialPortalVersion(this.origin()));
  }
}
