/**
 * The admin pages' static files, served from this package under `{settingsPath}/assets` (never a
 * CDN): this folder's stylesheets and scripts, and SortableJS's minified build from the installed
 * package as `vendor/sortable.min.js` (the privileges page's drag and drop).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PackageAssets } from '../http/package-assets.js';

const require = createRequire(import.meta.url);

export const ADMIN_ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
/** SortableJS's minified build, resolved from the installed package. */
export const SORTABLE_FILE = require.resolve('sortablejs/Sortable.min.js');

/** Under the admin router's `/assets`. */
export const ADMIN_ASSETS_PATH = '/assets';
export const ADMIN_ASSETS = new PackageAssets(ADMIN_ASSETS_DIR, { 'vendor/sortable.min.js': SORTABLE_FILE });

/** The address of an admin asset (`admin.css`, `vendor/sortable.min.js`…) for admin pages under `settingsPath`, with its version. */
export function adminAsset(settingsPath: string, name: string): string {
  return ADMIN_ASSETS.href(`${settingsPath}${ADMIN_ASSETS_PATH}`, name);
}
