/**
 * The portal's own routes: the API index (`GET {portalPath}/api/v1`: name, version and the
 * address of the OpenAPI document) and the plugin's static
 * assets under `{portalPath}/assets`, served from this package (never a CDN).
 */
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { injectable } from 'inversify';
import { API_PREFIX } from '../http/api-errors.js';
import { PackageAssets } from '../http/package-assets.js';
import type { PortalRouteContribution } from '../lifecycle/contributions.js';

export const PORTAL_ASSETS = new PackageAssets(fileURLToPath(new URL('./assets/', import.meta.url)));
const PORTAL_ASSETS_PATH = '/assets';

/** The address of a file of the portal's assets (`portal.css`…) for a portal mounted at `portalPath`, with its version. */
export function portalAsset(portalPath: string, name: string): string {
  return PORTAL_ASSETS.href(`${portalPath}${PORTAL_ASSETS_PATH}`, name);
}

export interface ApiIndex {
  readonly name: string;
  readonly version: string;
}

export const API_INDEX: ApiIndex = { name: 'Business Portal API', version: '1' };

/** The index also says where the API's OpenAPI document is (an absolute path, under wherever the portal is mounted). */
export const OPENAPI_PATH = `${API_PREFIX}/openapi.json`;

@injectable()
export class PortalShellRoutes implements PortalRouteContribution {
  registerPortalRoutes(router: Router): void {
    router.get(API_PREFIX, (req, res) => {
      res.json({ ...API_INDEX, openapi: `${req.baseUrl}${OPENAPI_PATH}` });
    });
    router.use(PORTAL_ASSETS_PATH, PORTAL_ASSETS.routes());
  }
}
