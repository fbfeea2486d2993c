/**
 * Which portal interface the CRM uses: version 2 (profiles) on a fresh install; an install
 * upgraded from a release that had the version 1 (classic) portal keeps version 1 until an
 * admin switches, so that customers see no change on upgrade.
 */
import { inject, injectable } from 'inversify';
import { HostInstallation, HostLogger, type InstallOrigin } from '../host-contract/index.js';
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
  /** The version that a stored `portal.version` value (JSON text, or null when none is stored) stands for. */
  fromStored(json: string | null): PortalVersion;
  origin(): InstallOrigin;
  /** Whether admins may switch versions: only on an install upgraded from a release with version 1. */
  choosable(): boolean;
  /**
   * Stores the version customers see. Touches nothing else: the version 1 settings and the
   * version 2 profiles stay as they are, so switching back finds them again.
   */
  choose(version: PortalVersion, actor: { readonly userId: number; readonly userName: string }): Promise<void>;
}

@injectable()
export class StoredPortalVersions implements PortalVersions, LifecycleContribution {
  constructor(
    @inject(SettingsStore) private readonly settings: SettingsStore,
    @inject(HostInstallation) private readonly installation: HostInstallation,
    @inject(HostLogger) private readonly logger: HostLogger,
  ) {}

  origin(): InstallOrigin {
    return this.installation.origin();
  }

  choosable(): boolean {
    const origin = this.origin();
    return origin.kind === 'upgraded' && origin.hadPortalVersion1;
  }

  async choose(version: PortalVersion, actor: { readonly userId: number; readonly userName: string }): Promise<void> {
    if (!this.choosable()) throw new Error('Business Portal: this install has only version 2');
    const before = await this.current();
    await this.settings.set(PORTAL_VERSION_SETTING, version);
    this.logger.info('Business Portal: portal version chosen', { userId: actor.userId, userName: actor.userName, from: before, to: version });
  }

  async current(): Promise<PortalVersion> {
    return this.version(await this.settings.get(PORTAL_VERSION_SETTING));
  }

  fromStored(json: string | null): PortalVersion {
    let stored: unknown;
    try {
      stored = json === null ? undefined : JSON.parse(json);
    } catch {
      stored = undefined;
    }
    return this.version(stored);
  }

  /**
   * Only an install that has version 1 can be on it: when the host says otherwise (a later start
   * as a fresh install), customers get version 2 — never a version no admin can configure or
   * switch away from. The stored choice is kept for when the host says so again.
   */
  private version(stored: unknown): PortalVersion {
    if (!this.choosable()) return 2;
    return stored === 1 || stored === 2 ? stored : initialPortalVersion(this.origin());
  }

  /** Records the initial version once; later installs (every start) keep what is stored. */
  async onInstall(): Promise<void> {
    await this.settings.setIfMissing(PORTAL_VERSION_SETTING, initialPortalVersion(this.origin()));
  }
}
