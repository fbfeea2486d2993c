/**
 * Builds the plugin's two routers around the capabilities' route contributions: the shared
 * front (security headers, no caching, body parsing, the admin gate and CSRF check) and the
 * shared back (404s of their own and the final error handler).
 */
import express, { type Router } from 'express';
import { inject, injectable } from 'inversify';
import { HostHttp, HostLogger } from '../host-contract/index.js';
import { Translator } from '../i18n/translator.js';
import type { AdminRouteContribution, PortalRouteContribution } from '../lifecycle/contributions.js';
import { requireCrmAdmin, requireCsrfToken } from './admin-access.js';
import { AdminPages } from './admin-pages.js';
import { API_PREFIX } from './api-errors.js';
import { CsrfTokens } from './csrf.js';
import { adminErrorHandler, adminNotFound, apiNotFound, portalErrorHandler, portalNotFound } from './error-handlers.js';
import { ADMIN_BODIES, ADMIN_FORM_BODIES, formBody, jsonBody, PORTAL_BODIES, requireJsonWrites, requireReadableBody } from './json-body.js';
import { PageRenderer } from './page-renderer.js';
import { noStore, securityHeaders } from './security-headers.js';

export const PluginRouters = Symbol.for('business-portal.PluginRouters');
export interface PluginRouters {
  portal(contributions: readonly PortalRouteContribution[]): Router;
  admin(contributions: readonly AdminRouteContribution[]): Router;
}

@injectable()
export class ExpressPluginRouters implements PluginRouters {
  constructor(
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(Translator) private readonly translator: Translator,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(CsrfTokens) private readonly csrf: CsrfTokens,
  ) {}

  portal(contributions: readonly PortalRouteContribution[]): Router {
    const router = express.Router();
    router.use(securityHeaders(), noStore, jsonBody());
    router.use(API_PREFIX, requireJsonWrites);
    router.use(requireReadableBody(PORTAL_BODIES));
    for (const contribution of contributions) contribution.registerPortalRoutes(router);
    router.use(API_PREFIX, apiNotFound(this.translator));
    router.use(portalNotFound(this.translator, this.renderer));
    router.use(portalErrorHandler(this.logger, this.translator, this.renderer));
    return router;
  }

  admin(contributions: readonly AdminRouteContribution[]): Router {
    const router = express.Router();
    router.use(securityHeaders(), noStore);
    router.use(requireCrmAdmin(this.http, this.pages, this.translator));
    router.use(requireReadableBody(ADMIN_BODIES), formBody(), requireCsrfToken(this.csrf, this.pages, this.translator));
    for (const contribution of contributions) contribution.registerAdminJsonRoutes?.(router);
    // A JSON body that no JSON route took is not a form: read as an empty one, it acted on nothing ticked.
    router.use(requireReadableBody(ADMIN_FORM_BODIES));
    for (const contribution of contributions) contribution.registerAdminRoutes(router);
    router.use(adminNotFound(this.pages, this.translator));
    router.use(adminErrorHandler(this.logger, this.pages, this.translator));
    return router;
  }
}
