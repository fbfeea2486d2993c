/**
 * Loads plugins from their `manifest.json` and runs their lifecycle, recording each plugin's
 * state in `crm_plugins`.
 *
 * Loading only reads and checks: the manifest against the contract's JSON schema, its `hostApi`
 * range against this host's contract version, then the entry module (its default export must be
 * a PluginFactory whose lifecycle carries the manifest's id). A refused plugin therefore leaves
 * nothing behind: no row, no route, no table. Then `install` → `activate` on start, and
 * `deactivate` / `uninstall({ keepData })` on request.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import semver from 'semver';
import { QueryTypes, UniqueConstraintError, type Sequelize } from 'sequelize';
import {
  HOST_API_VERSION,
  manifestSchema,
  type HostApi,
  type HostLogger,
  type PluginFactory,
  type PluginLifecycle,
  type PluginManifest,
} from '../../plugin/host-contract/index.js';

export type PluginState = 'loaded' | 'installed' | 'active' | 'inactive' | 'uninstalled';

export interface LoadedPlugin {
  readonly manifest: PluginManifest;
  /** The folder that holds the manifest. */
  readonly rootDir: string;
  readonly lifecycle: PluginLifecycle;
  readonly state: PluginState;
}

/** A plugin the host will not load; `problems` says every reason found. */
export class PluginRefusedError extends Error {
  constructor(
    readonly manifestPath: string,
    readonly problems: readonly string[],
  ) {
    super(`Plugin refused (${manifestPath}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PluginRefusedError';
  }
}

interface Entry {
  manifest: PluginManifest;
  rootDir: string;
  lifecycle: PluginLifecycle;
  state: PluginState;
}

const validateManifest = new Ajv({ allErrors: true, strict: true }).compile<PluginManifest>(manifestSchema);

function schemaProblems(): string[] {
  return (validateManifest.errors ?? []).map((error) => {
    const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : 'manifest';
    if (error.keyword === 'additionalProperties') return `${where}: unknown property "${String(error.params.additionalProperty)}"`;
    if (error.keyword === 'required') return `${where}: "${String(error.params.missingProperty)}" is missing`;
    return `${where}: ${error.message ?? 'is invalid'}`;
  });
}

/** Reads and checks a manifest; throws PluginRefusedError with every problem found. */
export function readManifest(manifestPath: string): PluginManifest {
  const path = resolve(manifestPath);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : `it is not valid JSON (${(error as Error).message})`;
    throw new PluginRefusedError(path, [`cannot read the manifest: ${reason}`]);
  }
  if (!validateManifest(parsed)) throw new PluginRefusedError(path, schemaProblems());
  const manifest = parsed;
  if (!semver.validRange(manifest.hostApi)) {
    throw new PluginRefusedError(path, [`hostApi "${manifest.hostApi}" is not a semver range (e.g. "^1.0.0")`]);
  }
  if (!semver.satisfies(HOST_API_VERSION, manifest.hostApi)) {
    throw new PluginRefusedError(path, [`the plugin needs host API ${manifest.hostApi}, but this host implements ${HOST_API_VERSION}`]);
  }
  return manifest;
}

export class PluginLoader {
  private readonly plugins = new Map<string, Entry>();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly api: HostApi,
    private readonly logger: HostLogger,
    private readonly options: { readonly portalPath?: string } = {},
  ) {}

  /** Checks the manifest and imports the entry. Writes nothing: a refused plugin leaves no trace. */
  async load(manifestPath: string): Promise<LoadedPlugin> {
    const path = resolve(manifestPath);
    const manifest = readManifest(path);
    if (this.plugins.has(manifest.id)) throw new PluginRefusedError(path, [`a plugin with id "${manifest.id}" is loaded already`]);
    const rootDir = dirname(path);
    const entryPath = resolve(rootDir, manifest.entry);
    if (!entryPath.startsWith(rootDir + sep)) throw new PluginRefusedError(path, [`entry "${manifest.entry}" is outside the plugin's folder`]);
    if (!existsSync(entryPath) || !statSync(entryPath).isFile()) throw new PluginRefusedError(path, [`entry "${manifest.entry}" does not exist`]);

    let factory: unknown;
    try {
      factory = ((await import(pathToFileURL(entryPath).href)) as { default?: unknown }).default;
    } catch (error) {
      throw new PluginRefusedError(path, [`entry "${manifest.entry}" could not be imported: ${(error as Error).message}`]);
    }
    if (typeof factory !== 'function') throw new PluginRefusedError(path, [`entry "${manifest.entry}" has no default export that is a PluginFactory function`]);
    let lifecycle: PluginLifecycle;
    try {
      lifecycle = (factory as PluginFactory)({ rootDir, ...(this.options.portalPath ? { portalPath: this.options.portalPath } : {}) });
    } catch (error) {
      throw new PluginRefusedError(path, [`the plugin's factory failed: ${(error as Error).message}`]);
    }
    const missing = (['install', 'activate', 'deactivate', 'uninstall'] as const).filter((hook) => typeof lifecycle?.[hook] !== 'function');
    if (missing.length > 0) throw new PluginRefusedError(path, [`the plugin's lifecycle lacks ${missing.join(', ')}`]);
    if (lifecycle.id !== manifest.id) throw new PluginRefusedError(path, [`the plugin calls itself "${lifecycle.id}" but its manifest says "${manifest.id}"`]);

    const entry: Entry = { manifest, rootDir, lifecycle, state: 'loaded' };
    this.plugins.set(manifest.id, entry);
    this.logger.info('Plugin loaded', { plugin: manifest.id, version: manifest.version });
    return this.view(entry);
  }

  /** Loads, installs and activates — unless an admin deactivated the plugin earlier, which is respected. */
  async start(manifestPath: string): Promise<LoadedPlugin> {
    const { manifest } = await this.load(manifestPath);
    try {
      await this.install(manifest.id);
      if (this.entry(manifest.id).state === 'installed') await this.activate(manifest.id);
    } catch (error) {
      this.plugins.delete(manifest.id);
      throw error;
    }
    return this.get(manifest.id)!;
  }

  async install(id: string): Promise<void> {
    const entry = this.entry(id);
    await entry.lifecycle.install(this.api);
    // Installing again keeps an admin's "inactive"; anything else becomes "installed".
    const state = (await this.recordedState(id)) === 'inactive' ? 'inactive' : 'installed';
    await this.record(entry, state);
    entry.state = state;
    this.logger.info('Plugin installed', { plugin: id, version: entry.manifest.version });
  }

  async activate(id: string): Promise<void> {
    const entry = this.entry(id);
    if (entry.state === 'active') return;
    if (entry.state !== 'installed' && entry.state !== 'inactive') throw new Error(`Plugin "${id}" must be installed before it is activated`);
    try {
      await entry.lifecycle.activate(this.api);
    } catch (error) {
      // Take back whatever it registered before failing.
      await entry.lifecycle.deactivate().catch((cleanup: unknown) => this.logger.error('Plugin cleanup failed', { plugin: id, error: String(cleanup) }));
      throw error;
    }
    entry.state = 'active';
    await this.record(entry, 'active');
    this.logger.info('Plugin activated', { plugin: id });
  }

  /** Deactivates and records it, so that the next start leaves the plugin inactive. */
  async deactivate(id: string): Promise<void> {
    const entry = this.entry(id);
    if (entry.state === 'active') await entry.lifecycle.deactivate();
    entry.state = 'inactive';
    await this.record(entry, 'inactive');
    this.logger.info('Plugin deactivated', { plugin: id });
  }

  /** Deactivates if needed, then uninstalls; with `keepData: false` the plugin's row goes too. */
  async uninstall(id: string, options: { readonly keepData: boolean }): Promise<void> {
    const entry = this.entry(id);
    if (entry.state === 'active') {
      await entry.lifecycle.deactivate();
      entry.state = 'inactive';
    }
    await entry.lifecycle.uninstall(this.api, { keepData: options.keepData });
    if (options.keepData) await this.record(entry, 'uninstalled');
    else await this.sequelize.query('DELETE FROM crm_plugins WHERE id = $id', { bind: { id } });
    this.plugins.delete(id);
    this.logger.info('Plugin uninstalled', { plugin: id, keepData: options.keepData });
  }

  /** Deactivates every active plugin for a shutdown; the recorded states stay, so they start again. */
  async stopAll(): Promise<void> {
    for (const entry of [...this.plugins.values()].reverse()) {
      if (entry.state !== 'active') continue;
      try {
        await entry.lifecycle.deactivate();
      } catch (error) {
        this.logger.error('Plugin failed to deactivate', { plugin: entry.manifest.id, error: error instanceof Error ? error.message : String(error) });
      }
      entry.state = 'installed';
    }
  }

  get(id: string): LoadedPlugin | undefined {
    const entry = this.plugins.get(id);
    return entry ? this.view(entry) : undefined;
  }

  list(): readonly LoadedPlugin[] {
    return [...this.plugins.values()].map((entry) => this.view(entry));
  }

  /** The state stored in `crm_plugins`, or null when the plugin has no row. */
  async recordedState(id: string): Promise<PluginState | null> {
    const [row] = await this.sequelize.query<{ state: PluginState }>('SELECT state FROM crm_plugins WHERE id = $id', { bind: { id }, type: QueryTypes.SELECT });
    return row?.state ?? null;
  }

  private entry(id: string): Entry {
    const entry = this.plugins.get(id);
    if (!entry) throw new Error(`No plugin "${id}" is loaded`);
    return entry;
  }

  private view(entry: Entry): LoadedPlugin {
    return Object.freeze({ manifest: entry.manifest, rootDir: entry.rootDir, lifecycle: entry.lifecycle, state: entry.state });
  }

  private async record(entry: Entry, state: PluginState): Promise<void> {
    const queryInterface = this.sequelize.getQueryInterface();
    const now = new Date();
    const id = entry.manifest.id;
    const changes = { version: entry.manifest.version, state, updated_at: now };
    if ((await this.recordedState(id)) !== null) {
      await queryInterface.bulkUpdate('crm_plugins', changes, { id });
      return;
    }
    try {
      await queryInterface.bulkInsert('crm_plugins', [{ id, ...changes, installed_at: now }]);
    } catch (error) {
      // Another host process recorded it first.
      if (!(error instanceof UniqueConstraintError)) throw error;
      await queryInterface.bulkUpdate('crm_plugins', changes, { id });
    }
  }
}
