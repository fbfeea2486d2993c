/**
 * The plugin's lifecycle as a state machine:
 *
 *   created ──install──▶ installed ──activate──▶ active ──deactivate──▶ inactive
 *                          ▲  │                    ▲                     │  │
 *                          │  └──────uninstall──┐  └──────activate───────┘  │
 *                          │                    ▼                           │
 *                          └─────install─── uninstalled ◀───uninstall───────┘
 *
 * `install` is allowed again whenever the plugin is not active (it only runs what is pending,
 * so a second one is a no-op); anything else out of order throws `LifecycleOrderError`, and
 * so does a call made while another transition is still running.
 */
import type { Container, ContainerModule, ServiceIdentifier } from 'inversify';
import type { HostApi, PluginLifecycle, PluginOptions, Unsubscribe } from '../host-contract/index.js';
import { PluginRouters } from '../http/plugin-routers.js';
import { Translator } from '../i18n/translator.js';
import { DeactivationDeadline } from './background-work.js';
import type { MessageKey } from '../i18n/message-keys.js';
import { AdminRouteContribution, LifecycleContribution, PluginSettings, PortalRouteContribution } from './contributions.js';
import { createPluginContainer } from './plugin-container.js';
import { resolvePluginSetup, type PluginFiles } from './plugin-files.js';
import { PluginMigrator, type MigrationRun } from './plugin-migrator.js';

export type LifecycleState = 'created' | 'installed' | 'active' | 'inactive' | 'uninstalled';
type Transition = 'install' | 'activate' | 'deactivate' | 'uninstall' | 'seedDemo';

const allowedFrom: Readonly<Record<Transition, readonly LifecycleState[]>> = {
  install: ['created', 'installed', 'inactive', 'uninstalled'],
  activate: ['installed', 'inactive'],
  deactivate: ['active'],
  uninstall: ['installed', 'inactive'],
  seedDemo: ['installed', 'active', 'inactive'],
};

const ORDER = 'install → activate → deactivate → (activate again | uninstall)';

export class LifecycleOrderError extends Error {
  constructor(
    readonly transition: string,
    readonly state: LifecycleState,
    reason?: string,
  ) {
    super(`Business Portal: cannot ${transition} ${reason ?? `in state "${state}"`}. The order is ${ORDER}.`);
    this.name = 'LifecycleOrderError';
  }
}

/** Makes demo contacts portal users; bound by the auth capability. */
export interface DemoSeeder {
  seed(customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void>;
}

export interface LifecycleComposition {
  /** The capability modules, in the order their hooks and routes run. */
  readonly modules: readonly ContainerModule[];
  /** The token of the service `seedDemo` delegates to (none: `seedDemo` refuses). */
  readonly demoSeeder?: ServiceIdentifier<DemoSeeder>;
}

interface Activation {
  readonly unsubscribes: Unsubscribe[];
  readonly activated: LifecycleContribution[];
}

export class BusinessPortalLifecycle implements PluginLifecycle {
  readonly id: string;
  private readonly settings: PluginSettings;
  private readonly files: PluginFiles;
  private current: LifecycleState = 'created';
  private running: Transition | null = null;
  private host: HostApi | null = null;
  private container: Container | null = null;
  private activation: Activation | null = null;

  constructor(
    options: PluginOptions | undefined,
    private readonly composition: LifecycleComposition,
  ) {
    const setup = resolvePluginSetup(options);
    this.settings = setup.settings;
    this.files = setup.files;
    this.id = setup.settings.manifest.id;
  }

  get state(): LifecycleState {
    return this.current;
  }

  async install(host: HostApi): Promise<void> {
    await this.transition('install', host, async () => {
      const container = this.containerFor(host);
      const migrator = this.migrator(host);
      const run = await migrator.up();
      try {
        for (const contribution of this.all<LifecycleContribution>(container, LifecycleContribution)) await contribution.onInstall?.();
      } catch (error) {
        // A hook failed after this install ran migrations: leave the database as it was.
        await this.revertFreshInstall(migrator, run);
        throw error;
      }
      this.current = 'installed';
    });
  }

  async activate(host: HostApi): Promise<void> {
    await this.transition('activate', host, async () => {
      const container = this.container!;
      const routers = container.get<PluginRouters>(PluginRouters);
      const portal = routers.portal(this.all<PortalRouteContribution>(container, PortalRouteContribution));
      const admin = routers.admin(this.all<AdminRouteContribution>(container, AdminRouteContribution));
      const activation: Activation = { unsubscribes: [], activated: [] };
      try {
        activation.unsubscribes.push(host.http.mount(this.settings.portalPath, portal));
        activation.unsubscribes.push(host.http.mount(this.settings.settingsPath, admin));
        const translator = container.get<Translator>(Translator);
        for (const entry of this.settings.manifest.settings) {
          const labelKey = entry.labelKey as MessageKey;
          const descriptionKey = `${entry.labelKey}Description`;
          activation.unsubscribes.push(
            host.settingsMenu.register({
              id: entry.id,
              section: entry.section,
              labelKey: entry.labelKey,
              label: translator.localized(labelKey),
              ...(translator.has(descriptionKey) ? { description: translator.localized(descriptionKey) } : {}),
              path: entry.path,
              adminOnly: entry.adminOnly,
            }),
          );
        }
        for (const contribution of this.all<LifecycleContribution>(container, LifecycleContribution)) {
          await contribution.onActivate?.();
          activation.activated.push(contribution);
        }
      } catch (error) {
        await this.undo(activation);
        throw error;
      }
      this.activation = activation;
      this.current = 'active';
    });
  }

  async deactivate(): Promise<void> {
    await this.transition('deactivate', null, async () => {
      const activation = this.activation!;
      this.activation = null;
      this.current = 'inactive';
      await this.undo(activation, true);
    });
  }

  async uninstall(host: HostApi, options: { readonly keepData: boolean }): Promise<void> {
    await this.transition('uninstall', host, async () => {
      if (!options.keepData) await this.migrator(host).downAll();
      this.current = 'uninstalled';
      this.container = null;
      this.host = null;
    });
  }

  async seedDemo(host: HostApi, customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void> {
    await this.transition('seedDemo', host, async () => {
      const token = this.composition.demoSeeder;
      if (!token) throw new Error('Business Portal: this build has no demo seeder');
      await this.container!.get<DemoSeeder>(token).seed(customers);
    });
  }

  private async transition(name: Transition, host: HostApi | null, run: () => Promise<void>): Promise<void> {
    if (this.running) throw new LifecycleOrderError(name, this.current, `while ${this.running} is still running`);
    if (!allowedFrom[name].includes(this.current)) throw new LifecycleOrderError(name, this.current);
    if (host && this.host && host !== this.host) {
      throw new LifecycleOrderError(name, this.current, 'with another host than the one it was installed with');
    }
    this.running = name;
    try {
      await run();
    } finally {
      this.running = null;
    }
  }

  private containerFor(host: HostApi): Container {
    if (!this.container) {
      this.container = createPluginContainer(host, { settings: this.settings, files: this.files }, this.composition.modules);
      this.host = host;
    }
    return this.container;
  }

  private migrator(host: HostApi): PluginMigrator {
    return new PluginMigrator(host.database.sequelize, host.database.dialect, this.files.migrationsDir, host.logger);
  }

  private all<T>(container: Container, token: ServiceIdentifier<T>): T[] {
    return container.getAll<T>(token, { optional: true });
  }

  private async revertFreshInstall(migrator: PluginMigrator, run: MigrationRun): Promise<void> {
    await migrator.revert(run);
    if (this.current === 'created' || this.current === 'uninstalled') {
      this.container = null;
      this.host = null;
    }
  }

  /**
   * Unmounts the routers and unregisters the menu entries (newest first), then runs the
   * `onDeactivate` hooks in reverse, one after the other, under one deadline for them all
   * (`DeactivationDeadline`): the waits for background work in the hooks end by it together, so
   * several stuck runs cost one bound, not one each. Every step runs even if one fails; the first
   * failure is rethrown at the end when `rethrow` is set (else it is only logged).
   */
  private async undo(activation: Activation, rethrow = false): Promise<void> {
    const failures: unknown[] = [];
    for (const unsubscribe of [...activation.unsubscribes].reverse()) {
      try {
        unsubscribe();
      } catch (error) {
        failures.push(error);
      }
    }
    const deadline = this.container!.get<DeactivationDeadline>(DeactivationDeadline);
    deadline.begin();
    for (const contribution of [...activation.activated].reverse()) {
      try {
        await contribution.onDeactivate?.();
      } catch (error) {
        failures.push(error);
      }
    }
    deadline.end();
    for (const failure of failures) {
      this.host?.logger.error('Business Portal: deactivation step failed', { error: failure instanceof Error ? failure.message : String(failure) });
    }
    if (rethrow && failures.length > 0) throw failures[0];
  }
}
