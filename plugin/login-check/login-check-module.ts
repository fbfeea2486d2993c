import { ContainerModule } from 'inversify';
import { AdminRouteContribution } from '../lifecycle/contributions.js';
import { LockedAccounts, SequelizeLockedAccounts } from './locked-accounts.js';
import { LoginCheckRoutes } from './login-check-routes.js';

export const loginCheckModule = new ContainerModule(({ bind }) => {
  bind<LockedAccounts>(LockedAccounts).to(SequelizeLockedAccounts).inSingletonScope();
  bind<AdminRouteContribution>(AdminRouteContribution).to(LoginCheckRoutes).inSingletonScope();
});
