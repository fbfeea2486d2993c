import { ContainerModule } from 'inversify';
import { PortalRouteContribution } from '../../lifecycle/contributions.js';
import { AccountPages } from './account-pages.js';
import { ListPage } from './list-page.js';
import { RecordPages } from './record-pages.js';
import { RecordDetailPage } from './record-detail.js';
import { WorkspaceFrame } from './workspace-frame.js';
import { WorkspacePages } from './workspace-pages.js';

/** The customer portal's pages: home, the account's password, lists, records, tickets (routes in this order). */
export const portalPagesModule = new ContainerModule(({ bind }) => {
  bind(WorkspaceFrame).toSelf().inSingletonScope();
  bind(RecordDetailPage).toSelf().inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(WorkspacePages).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(AccountPages).inSingletonScope();
  // The list's `export.csv` must come before the record routes' `/:id`.
  bind<PortalRouteContribution>(PortalRouteContribution).to(ListPage).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).toService(RecordDetailPage);
  bind<PortalRouteContribution>(PortalRouteContribution).to(RecordPages).inSingletonScope();
});
