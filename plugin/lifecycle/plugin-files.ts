/**
 * Where the plugin's own files are (manifest, migrations, locales, templates) and what the
 * manifest says. The root is the folder that holds `manifest.json`: the repository root unless
 * the host passes `rootDir`.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginManifest, PluginOptions } from '../host-contract/index.js';
import type { PluginSettings } from './contributions.js';

export const PluginFiles = Symbol.for('business-portal.PluginFiles');
export interface PluginFiles {
  readonly rootDir: string;
  readonly migrationsDir: string;
  readonly localesDir: string;
  readonly templatesDir: string;
}

/** The repository root, two levels above this file (`plugin/lifecycle/`). */
export const defaultRootDir = fileURLToPath(new URL('../../', import.meta.url));

const localPath = /^\/[a-z0-9][a-z0-9/_-]*$/;

export function readManifest(rootDir: string): PluginManifest {
  const file = resolve(rootDir, 'manifest.json');
  let manifest: PluginManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as PluginManifest;
  } catch (error) {
    throw new Error(`Business Portal: cannot read its manifest at ${file}`, { cause: error });
  }
  // The host validates the whole manifest against its schema; here only what the plugin relies on.
  if (!manifest.id || !manifest.mount?.portal || !manifest.mount?.settings || !Array.isArray(manifest.settings)) {
    throw new Error(`Business Portal: ${file} lacks id, mount or settings`);
  }
  return manifest;
}

export function pluginFiles(rootDir: string, manifest: PluginManifest): PluginFiles {
  return {
    rootDir,
    migrationsDir: resolve(rootDir, manifest.migrations),
    localesDir: resolve(rootDir, manifest.locales),
    templatesDir: resolve(rootDir, manifest.templates),
  };
}

/** The manifest, the mount paths and the file locations from the factory's options. */
export function resolvePluginSetup(options: PluginOptions = {}): { settings: PluginSettings; files: PluginFiles } {
  const rootDir = options.rootDir ? (isAbsolute(options.rootDir) ? options.rootDir : resolve(options.rootDir)) : defaultRootDir;
  const manifest = readManifest(rootDir);
  const portalPath = normalizeMountPath(options.portalPath ?? manifest.mount.portal);
  return {
    settings: { manifest, portalPath, settingsPath: normalizeMountPath(manifest.mount.settings) },
    files: pluginFiles(rootDir, manifest),
  };
}

/** `/portal/` → `/portal`; anything that is not a plain local path is refused. */
export function normalizeMountPath(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (!localPath.test(trimmed) || trimmed.includes('//')) {
    throw new Error(`Business Portal: "${path}" is not a valid mount path (expected e.g. /portal)`);
  }
  return trimmed;
}
