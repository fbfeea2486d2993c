/**
 * Mounts the portal API's route table on the portal router (under `/api/v1`) and serves the
 * OpenAPI document built from that same table.
 */
import type { Router } from 'express';
import { inject, injectable } from 'inversify';
import { API_PREFIX } from '../../http/api-errors.js';
import { refuseMultipart } from '../../http/json-body.js';
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
}
