/** The auth capability's bindings: accounts, passwords, lockout, sessions, the login API and demo users. */
import { ContainerModule } from 'inversify';
import { LifecycleContribution, PortalRouteContribution } from '../lifecycle/contributions.js';
import { AccountEligibility, PortalAccountEligibility } from './account-eligibility.js';
import { AuthApiRoutes } from './auth-routes.js';
import { ContactSummaries, CrmContactSummaries } from './contact-summary.js';
import { DemoAccountSeeder, PortalDemoAccountSeeder } from './demo-accounts.js';
import { DatabaseLockout, Lockout } from './lockout.js';
import { LoginHistory, SequelizeLoginHistory } from './login-history.js';
import { LoginService, PasswordLoginService } from './login-service.js';
import { PasswordHasher, ScryptPasswordHasher } from './password-hasher.js';
import { CommonPasswordPolicy, PasswordPolicy } from './password-policy.js';
import { PortalAccountStore, SequelizePortalAccountStore } from './portal-account-store.js';
import { DatabasePortalSessions, PortalSessions } from './portal-sessions.js';
import { SessionPurge } from './session-purge.js';

export const authModule = new ContainerModule(({ bind }) => {
  bind<PasswordHasher>(PasswordHasher).to(ScryptPasswordHasher).inSingletonScope();
  bind<PasswordPolicy>(PasswordPolicy).to(CommonPasswordPolicy).inSingletonScope();
  bind<PortalAccountStore>(PortalAccountStore).to(SequelizePortalAccountStore).inSingletonScope();
  bind<LoginHistory>(LoginHistory).to(SequelizeLoginHistory).inSingletonScope();
  bind<Lockout>(Lockout).to(DatabaseLockout).inSingletonScope();
  bind<AccountEligibility>(AccountEligibility).to(PortalAccountEligibility).inSingletonScope();
  bind<LoginService>(LoginService).to(PasswordLoginService).inSingletonScope();
  bind<PortalSessions>(PortalSessions).to(DatabasePortalSessions).inSingletonScope();
  bind<ContactSummaries>(ContactSummaries).to(CrmContactSummaries).inSingletonScope();
  bind<DemoAccountSeeder>(DemoAccountSeeder).to(PortalDemoAccountSeeder).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(AuthApiRoutes).inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).to(SessionPurge).inSingletonScope();
});
