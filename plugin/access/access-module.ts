import { ContainerModule } from 'inversify';
import { LifecycleContribution } from '../lifecycle/contributions.js';
import { AccessPolicies, CachedAccessPolicies } from './access-policies.js';
import { LayeredPortalAccess, PortalAccess } from './portal-access.js';

export const accessModule = new ContainerModule(({ bind }) => {
  bind(CachedAccessPolicies).toSelf().inSingletonScope();
  bind<AccessPolicies>(AccessPolicies).toService(CachedAccessPolicies);
  bind<LifecycleContribution>(LifecycleContribution).toService(CachedAccessPolicies);
  bind<PortalAccess>(PortalAccess).to(LayeredPortalAccess).inSingletonScope();
});
