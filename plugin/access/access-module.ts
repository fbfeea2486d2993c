import { ContainerModule } from 'inversify';
import { SessionCompanionColumns } from '../auth/portal-sessions.js';
import { LifecycleContribution } from '../lifecycle/contributions.js';
import { AccessPolicies, CachedAccessPolicies, PolicyStampColumns } from './access-policies.js';
import { LayeredPortalAccess, PortalAccess } from './portal-access.js';
import { UploadSlots } from './upload-slots.js';

export const accessModule = new ContainerModule(({ bind }) => {
  bind(CachedAccessPolicies).toSelf().inSingletonScope();
  bind<AccessPolicies>(AccessPolicies).toService(CachedAccessPolicies);
  bind<LifecycleContribution>(LifecycleContribution).toService(CachedAccessPolicies);
  // Every signed-in request reads the policy stamp with its session's row.
  bind<SessionCompanionColumns>(SessionCompanionColumns).to(PolicyStampColumns).inSingletonScope();
  bind<PortalAccess>(PortalAccess).to(LayeredPortalAccess).inSingletonScope();
  // One count of the uploads in flight for the whole process (pages and API alike).
  bind(UploadSlots).toSelf().inSingletonScope();
});
