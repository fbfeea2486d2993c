/**
 * What the host tells plugins about this installation, kept in `crm_settings`: how the CRM came
 * to have them (a fresh install, or an upgrade from a release with portal version 1), which
 * licences it holds, and a secret per plugin derived from the host's secret.
 */
import { createHmac } from 'node:crypto';
import { QueryTypes, UniqueConstraintError, type Sequelize } from 'sequelize';
import type { HostInstallation, HostLicences, InstallOrigin } from '../../plugin/host-contract/index.js';

/** Licensed when the configuration names no licences. */
export const DEFAULT_LICENCES: readonly string[] = ['business-portal'];

/** Key/value settings of the host; values are stored as JSON text. */
export class HostSettingsTable {
  constructor(private readonly sequelize: Sequelize) {}

  async get<T>(name: string): Promise<T | undefined> {
    const [row] = await this.sequelize.query<{ value: string }>('SELECT value FROM crm_settings WHERE name = $name', { bind: { name }, type: QueryTypes.SELECT });
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async set(name: string, value: unknown): Promise<void> {
    const queryInterface = this.sequelize.getQueryInterface();
    const row = { value: JSON.stringify(value), updated_at: new Date() };
    try {
      await queryInterface.bulkInsert('crm_settings', [{ name, ...row }]);
    } catch (error) {
      if (!(error instanceof UniqueConstraintError)) throw error;
      await queryInterface.bulkUpdate('crm_settings', row, { name });
    }
  }
}

function isInstallOrigin(value: unknown): value is InstallOrigin {
  const origin = value as Partial<{ kind: string; fromRelease: unknown; hadPortalVersion1: unknown }> | null;
  if (origin?.kind === 'fresh') return true;
  return origin?.kind === 'upgraded' && typeof origin.fromRelease === 'string' && typeof origin.hadPortalVersion1 === 'boolean';
}

export class StoredInstallation implements HostInstallation {
  private current: InstallOrigin = Object.freeze({ kind: 'fresh' });

  constructor(
    private readonly settings: HostSettingsTable,
    private readonly hostSecret: Buffer,
  ) {}

  /**
   * The configured origin wins (and is remembered); without one, the origin remembered from an
   * earlier start, else `fresh` — remembered too, so it never changes by itself.
   */
  async load(configured?: InstallOrigin): Promise<void> {
    if (configured !== undefined && !isInstallOrigin(configured)) throw new Error('installOrigin must be { kind: "fresh" } or { kind: "upgraded", fromRelease, hadPortalVersion1 }');
    const stored = await this.settings.get<unknown>('install.origin');
    const origin = configured ?? (isInstallOrigin(stored) ? stored : { kind: 'fresh' as const });
    if (JSON.stringify(origin) !== JSON.stringify(stored)) await this.settings.set('install.origin', origin);
    this.current = Object.freeze({ ...origin });
  }

  origin(): InstallOrigin {
    return this.current;
  }

  private readonly pluginSecrets = new Map<string, Buffer>();

  /** 32 bytes, stable for as long as the host's secret is: an HMAC of the plugin id (derived once; each caller gets its own copy). */
  pluginSecret(pluginId: string): Buffer {
    let secret = this.pluginSecrets.get(pluginId);
    if (!secret) {
      secret = createHmac('sha256', this.hostSecret).update(`plugin-secret:${pluginId}`).digest();
      this.pluginSecrets.set(pluginId, secret);
    }
    return Buffer.from(secret);
  }
}

export class StoredLicences implements HostLicences {
  constructor(private readonly settings: HostSettingsTable) {}

  /** Records the licences the configuration names (they stay when a later start names none). */
  async configure(licences: readonly string[] | undefined): Promise<void> {
    if (licences !== undefined) await this.settings.set('licences', [...licences]);
  }

  async has(feature: string): Promise<boolean> {
    const licences = (await this.settings.get<string[]>('licences')) ?? DEFAULT_LICENCES;
    return licences.includes(feature);
  }
}
