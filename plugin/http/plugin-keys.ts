/**
 * Keys for the plugin's HMACs (admin CSRF tokens, portal form tokens, two-factor codes, the outcome
 * an admin page's POST sends back to it), each
 * derived from the host's secret for this plugin under its own label, so that one use's MAC is
 * never valid for another. Derived once per label and again only if the host's secret changes:
 * pages ask for a key on every request.
 */
import { createHmac } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { HostInstallation } from '../host-contract/index.js';
import { PluginSettings } from '../lifecycle/contributions.js';

export type KeyLabel = 'business-portal:csrf:v1' | 'business-portal:portal-csrf:v1' | 'business-portal:two-factor:v1' | 'business-portal:admin-outcome:v1' | 'business-portal:form-once:v1';

export const PluginKeys = Symbol.for('business-portal.http.PluginKeys');
export interface PluginKeys {
  key(label: KeyLabel): Buffer;
}

@injectable()
export class DerivedPluginKeys implements PluginKeys {
  private secret: Buffer | null = null;
  private readonly keys = new Map<KeyLabel, Buffer>();

  constructor(
    @inject(HostInstallation) private readonly installation: HostInstallation,
    @inject(PluginSettings) private readonly settings: PluginSettings,
  ) {}

  key(label: KeyLabel): Buffer {
    const secret = this.installation.pluginSecret(this.settings.manifest.id);
    if (!this.secret || !this.secret.equals(secret)) {
      this.secret = secret;
      this.keys.clear();
    }
    let key = this.keys.get(label);
    if (!key) {
      key = createHmac('sha256', secret).update(label).digest();
      this.keys.set(label, key);
    }
    return key;
  }
}
