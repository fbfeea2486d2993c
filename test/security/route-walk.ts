/**
 * Every route the plugin mounted on the host, found by walking the routers (not listed by hand),
 * so that a route added later is attacked by the same suites without anyone remembering to.
 */
import type { Router } from 'express';
import type { ReferenceHost } from '../../host/reference-host.js';
import type { WebHostHttp } from '../../host/web/host-http.js';

export interface MountedRoute {
  /** The full path, parameters replaced by `1` (e.g. `/portal/api/v1/modules/1/records`). */
  readonly path: string;
  /** The full path as the router declares it, parameters included (`/portal/m/:module/:id`). */
  readonly pattern: string;
  readonly method: string;
  /** The mount path of the router it belongs to (`/portal`, `/settings/business-portal`). */
  readonly mount: string;
}

interface RouteLayer {
  readonly route?: { readonly path: string | string[]; readonly methods: Record<string, boolean> };
  /** A router used without a path (the plugin keeps its routes in one, inside the mounted one). */
  readonly handle?: { readonly stack?: RouteLayer[] };
  readonly slash?: boolean;
}

export function mountedRoutes(host: ReferenceHost): readonly MountedRoute[] {
  const http = host.api.http as WebHostHttp;
  const routes: MountedRoute[] = [];
  const walk = (mount: string, stack: readonly RouteLayer[]) => {
    for (const layer of stack) {
      if (!layer.route) {
        if (layer.slash && layer.handle?.stack) walk(mount, layer.handle.stack);
        continue;
      }
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') routes.push({ mount, method: method.toUpperCase(), pattern: `${mount}${path}`, path: `${mount}${path.replace(/:[A-Za-z_]+/g, '1')}` });
        }
      }
    }
  };
  for (const { path: mount, router } of http.mounted()) walk(mount, (router as Router & { stack: RouteLayer[] }).stack);
  return routes;
}
