/**
 * The portal's JSON API (`{portalPath}/api/v1`). Loaded after the sign-in capability so that its
 * routes sit behind the sign-in gates (a customer who must change their password reaches none).
 */
import { ContainerModule } from 'inversify';
import { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { ApiRequestContext } from './api-request-context.js';
import { PortalApiRoutes } from './portal-api-routes.js';
import { RecordsApi } from './records-api.js';
import { TicketsApi } from './tickets-api.js';

export const portalApiModule = new ContainerModule(({ bind }) => {
  bind(ApiRequestContext).toSelf().inSingletonScope();
  bind(RecordsApi).toSelf().inSingletonScope();
  bind(TicketsApi).toSelf().inSingletonScope();
  bind(PortalApiRoutes).toSelf().inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).toService(PortalApiRoutes);
});
