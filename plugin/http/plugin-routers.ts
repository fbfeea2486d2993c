/**
 * Builds the plugin's two routers around the capabilities' route contributions: the shared
 * front (security headers, no caching, body parsing, the admin gate and CSRF check) and the
 * shared back (404s of their own and the final error handler).
 */
import express, { type RequestHandler, type Router } from 'express';
import { inject, injectable, optional } from 'inversify';
import { HostHttp, HostLogger, HostModuleRegistry } from '../host-contract/index.js';
import { Translator } from '../i18n/translator.js';
import { HostApiVersion, type AdminRouteContribution, type PortalRouteContribution } from '../lifecycle/contributions.js';
import { requireCrmAdmin, requireCsrfToken } from './admin-access.js';
import { AdminPages } from './admin-pages.js';
import { API_PREFIX, isApiPath } from './api-errors.js';
import { CsrfTokens } from './csrf.js';
import { DatabaseOutageLog } from './database-outage.js';
import { adminErrorHandler, adminNotFound, apiNotFound, portalErrorHandler, portalNotFound } from './error-handlers.js';
import { ADMIN_BODIES, ADMIN_FORM_BODIES, ADMIN_FORM_FIELDS, formBody, jsonBody, PORTAL_API_BODIES, PORTAL_PAGE_BODIES, requireJsonWrites, requireReadableBody } from './json-body.js';
import { ADMIN_MODULE_CHANGING, moduleViewRecovery } from './module-view-changes.js';
import { PageRenderer } from './page-renderer.js';
import { noStore, securityHeaders } from './security-headers.js';

export const PluginRouters = Symbol.for('business-portal.PluginRouters');
export interface PluginRouters {
  portal(contributions: readonly PortalRouteContribution[]): Router;
  admin(contributions: readonly AdminRouteContribution[]): Router;
}

@injectable()
export class ExpressPluginRouters implements PluginRouters {
  /** One for both routers: an outage is logged once, whichever page met it first. */
  private readonly outages: DatabaseOutageLog;

  constructor(
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(Translator) private readonly translator: Translator,
    @inject(PageRenderer) private readonly renderer: PageRenderer,
    @inject(AdminPages) private readonly pages: AdminPages,
    @inject(CsrfTokens) private readonly csrf: CsrfTokens,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(HostApiVersion) @optional() private readonly hostApiVersion?: string,
  ) {
    this.outages = new DatabaseOutageLog(logger);
  }

  portal(contributions: readonly PortalRouteContribution[]): Router {
    const routes = express.Router();
    routes.use(securityHeaders(), noStore);
    for (const contribution of contributions) contribution.registerPortalFront?.(routes);
    // JSON is the API's: only its paths parse it. A page reads what its form sends (urlencoded, and
    // multipart where it takes a file, each route's parser refusing the other): JSON posted to a
    // page, with a valid session and token, was read as an empty form and closed a ticket.
    routes.use(API_PREFIX, jsonBody(), requireJsonWrites);
    const apiBodies = requireReadableBody(PORTAL_API_BODIES);
    const pageBodies = requireReadableBody(PORTAL_PAGE_BODIES);
    routes.use((req, res, next) => (isApiPath(req.path) ? apiBodies : pageBodies)(req, res, next));
    for (const contribution of contributions) contribution.registerPortalRoutes(routes);
    // A request that meets a module changed outside this process re-syncs; a read runs again, else a 503.
    const recovery = moduleViewRecovery(routes, this.registry, this.logger, this.hostApiVersion);
    const router = answeredOrNotFound(routes, recovery.note);
    router.use(recovery.retry);
    router.use(API_PREFIX, apiNotFound(this.translator));
    router.use(portalNotFound(this.translator, this.renderer));
    router.use(portalErrorHandler(this.logger, this.translator, this.renderer, this.outages));
    return router;
  }

  admin(contributions: readonly AdminRouteContribution[]): Router {
    const routes = express.Router();
    routes.use(securityHeaders(), noStore);
    routes.use(requireCrmAdmin(this.http, this.pages, this.translator));
    routes.use(requireReadableBody(ADMIN_BODIES), formBody(ADMIN_FORM_FIELDS), requireCsrfToken(this.csrf, this.pages, this.translator));
    for (const contribution of contributions) contribution.registerAdminJsonRoutes?.(routes);
    // A JSON body that no JSON route took is not a form: read as an empty one, it acted on nothing ticked.
    routes.use(requireReadableBody(ADMIN_FORM_BODIES));
    for (const contribution of contributions) contribution.registerAdminRoutes(routes);
    // As the portal's: an admin page that meets a module changed outside this process re-syncs; a read runs again, else a 503.
    const recovery = moduleViewRecovery(routes, this.registry, this.logger, this.hostApiVersion, ADMIN_MODULE_CHANGING);
    const router = answeredOrNotFound(routes, recovery.note);
    router.use(recovery.retry);
    router.use(adminNotFound(this.pages, this.translator));
    router.use(adminErrorHandler(this.logger, this.pages, this.translator, this.outages));
    return router;
  }
}

/**
 * The routes in a router of their own, so that Express's own OPTIONS answer reaches the client:
 * for a path some route answers, `200` with `Allow` listing the methods the routes of that path
 * answer (no route handles OPTIONS itself). With the 404 in the same router, OPTIONS met the 404
 * first. The answer carries no `Access-Control-*` header, so a preflight from another origin
 * still fails and its request is never sent. What the routes leave (another path, an error)
 * goes on to the 404 and the error handler the caller adds.
 */
function answeredOrNotFound(routes: Router, ...before: RequestHandler[]): Router {
  const router = express.Router();
  if (before.length > 0) router.use(...before);
  router.use(routes);
  return router;
}
