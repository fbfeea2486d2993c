/**
 * Mounts the portal API's route table on the portal router (under `/api/v1`) and serves the
 * OpenAPI document built from that same table.
 */
import type { RequestHandler, Router } from 'express';
import { inject, injectable } from 'inversify';
import { API_PREFIX, sendApiError } from '../../http/api-errors.js';
import { refuseMultipart } from '../../http/json-body.js';
import { requestLanguage } from '../../i18n/request-language.js';
import { Translator } from '../../i18n/translator.js';
import { PluginSettings, type PortalRouteContribution } from '../../lifecycle/contributions.js';
import type { ApiOperation, ApiRoute } from './api-route-table.js';
import { openApiDocument, SIGN_IN_OPERATIONS } from './openapi.js';
import { RecordsApi } from './records-api.js';
import { TicketsApi } from './tickets-api.js';

@injectable()
export class PortalApiRoutes implements PortalRouteContribution {
  constructor(
    @inject(RecordsApi) private readonly records: RecordsApi,
    @inject(TicketsApi) private readonly tickets: TicketsApi,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(Translator) private readonly translator: Translator,
  ) {}

  routes(): readonly ApiRoute[] {
    return [...this.records.routes(), ...this.tickets.routes()];
  }

  /** Every operation of the API: the sign-in routes, the shell's, and this table's. */
  operations(): readonly ApiOperation[] {
    return [...SIGN_IN_OPERATIONS, ...this.routes()];
  }

  registerPortalRoutes(router: Router): void {
    for (const route of this.routes()) {
      // Multipart only where the table says the route takes a file.
      const reads = route.body?.contentType === 'multipart/form-data' ? [] : [refuseMultipart];
      router[route.method](`${API_PREFIX}${route.path}`, ...reads, ...(route.before ?? []), (req, res) => route.handle(req, res));
    }
    router.get(`${API_PREFIX}/openapi.json`, (req, res) => {
      res.json(openApiDocument(this.operations(), `${req.baseUrl}${API_PREFIX}`, this.settings.manifest.version));
    });
  }

  /**
   * The 405 comes before the body is read: a wrong method is told so whatever it sends (a text
   * body, unparseable or oversized JSON was a 415, 400 or 413 that said nothing of the method).
   * The operations are the API's every route (the OpenAPI test holds them to the router).
   */
  registerPortalFront(router: Router): void {
    router.use(API_PREFIX, methodNotAllowed(this.operations(), this.translator));
  }
}

/** `/modules/:module/records/:id` as Express matches it: any segment for a parameter, a trailing slash or not, any case. */
function pathPattern(path: string): RegExp {
  const escaped = path.replace(/\/$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`, 'i');
}

/**
 * A path of the API asked with a method none of its routes answers: 405 `method_not_allowed` with
 * `Allow`, the methods its operations answer (a GET answers HEAD too), listed as Express's own
 * OPTIONS answer lists them. It was the 404 of a route that does not exist, which told a client
 * that sent `GET /tickets/1/resolve` nothing of the POST it meant. A path no operation has goes on
 * to the 404. OPTIONS on a path of the API is answered here, as Express would (200, `Allow`, the
 * list as text, no `Access-Control-*` header) but with OPTIONS in the list: every path of the API
 * answers it, and `Allow` names what the path supports (RFC 9110 §10.2.1), in the 405 too.
 */
export function methodNotAllowed(operations: readonly ApiOperation[], translator: Translator): RequestHandler {
  const paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const operation of operations) {
    const entry = paths.get(operation.path) ?? { pattern: pathPattern(operation.path), methods: new Set<string>() };
    entry.methods.add(operation.method.toUpperCase());
    if (operation.method === 'get') entry.methods.add('HEAD');
    entry.methods.add('OPTIONS');
    paths.set(operation.path, entry);
  }
  return (req, res, next) => {
    const methods = new Set([...paths.values()].filter((p) => p.pattern.test(req.path)).flatMap((p) => [...p.methods]));
    if (methods.size === 0) return next();
    const allow = [...methods].sort().join(', ');
    if (req.method === 'OPTIONS') {
      res.status(200).setHeader('Allow', allow);
      res.type('text/plain').send(allow);
      return;
    }
    if (methods.has(req.method)) return next();
    res.setHeader('Allow', allow);
    sendApiError(res, 405, 'method_not_allowed', translator.t(requestLanguage(req, translator), 'errors.methodNotAllowed'));
  };
}
