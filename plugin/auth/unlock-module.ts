/**
 * The lock email and its unlock link: the links' store (also a lock listener that kills a lock's
 * links when it ends), the listener that mails a link when an account locks, the redemption and
 * its portal page. Needs the auth capability (the lockout) and a `PortalMailer`.
 */
import { ContainerModule } from 'inversify';
import { LifecycleContribution, PortalRouteContribution } from '../lifecycle/contributions.js';
import { AccountLockListener } from './account-lock-listener.js';
import { LockNotification } from './lock-notification.js';
import { LinkUnlocker, SequelizeUnlockLinks, TransactionalLinkUnlocker, UnlockLinks } from './unlock-links.js';
import { UnlockRoutes } from './unlock-routes.js';

export const unlockModule = new ContainerModule(({ bind }) => {
  bind(SequelizeUnlockLinks).toSelf().inSingletonScope();
  bind<UnlockLinks>(UnlockLinks).toService(SequelizeUnlockLinks);
  bind<AccountLockListener>(AccountLockListener).toService(SequelizeUnlockLinks);
  bind(LockNotification).toSelf().inSingletonScope();
  bind<AccountLockListener>(AccountLockListener).toService(LockNotification);
  bind<LifecycleContribution>(LifecycleContribution).toService(LockNotification);
  bind<LinkUnlocker>(LinkUnlocker).to(TransactionalLinkUnlocker).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(UnlockRoutes).inSingletonScope();
});
