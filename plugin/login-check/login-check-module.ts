/** The Check Business Portal login page: the listed accounts, the admins' audit trail and the routes. */
import { ContainerModule } from 'inversify';
import { AdminRouteContribution } from '../lifecycle/contributions.js';
import { LockedAccounts, SequelizeLockedAccounts } from './locked-accounts.js';
import { LoginCheckAudit, SequelizeLoginCheckAudit } from './login-check-audit.js';
import { LoginCheckRoutes } from './login-check-routes.js';

export const loginCheckModule = new ContainerModule(({ bind }) => {
  bind<LockedAccounts>(LockedAccounts).to(SequelizeLockedAccounts).inSingletonScope();
  bind<LoginCheckAudit>(LoginCheckAudit).to(SequelizeLoginCheckAudit).inSingletonScope();
  bind<AdminRouteContribution>(AdminRouteContribution).to(LoginCheckRoutes).inSingletonScope();
});
