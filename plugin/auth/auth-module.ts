/**
 * The auth capability's bindings: accounts, passwords, lockout, sessions, the sign-in flows
 * (second factor, first access, password reset), their pages and API, and demo users. The
 * first-access gate is the first portal route contribution, so it stands before every route
 * registered after it.
 */
import { ContainerModule } from 'inversify';
import { LifecycleContribution, PortalRouteContribution } from '../lifecycle/contributions.js';
import { AccountApiRoutes } from './account-api-routes.js';
import { AccountEligibility, PortalAccountEligibility } from './account-eligibility.js';
import { AuthApiRoutes } from './auth-routes.js';
import { ContactSummaries, CrmContactSummaries } from './contact-summary.js';
import { DemoAccountSeeder, PortalDemoAccountSeeder } from './demo-accounts.js';
import { FirstAccessGate } from './first-access.js';
import { DatabaseFormSubmissions, FormSubmissions } from './form-submissions.js';
import { DatabaseLockout, Lockout } from './lockout.js';
import { LoginHistory, SequelizeLoginHistory } from './login-history.js';
import { LoginService, PasswordLoginService } from './login-service.js';
import { PasswordChange, PortalPasswordChange } from './password-change.js';
import { PasswordHasher, ScryptPasswordHasher } from './password-hasher.js';
import { CommonPasswordPolicy, PasswordPolicy } from './password-policy.js';
import { PasswordReset, TokenPasswordReset } from './password-reset.js';
import { PortalAccountStore, SequelizePortalAccountStore } from './portal-account-store.js';
import { PortalFormCsrf, SignedDoubleSubmitCsrf } from './portal-form-csrf.js';
import { LayoutPortalPages, PortalPages } from './portal-pages.js';
import { DatabasePortalSessions, PortalSessions } from './portal-sessions.js';
import { ProfileInForce } from './profile-in-force.js';
import { RetentionPurge } from './retention-purge.js';
import { SignInFlow, PortalSignInFlow } from './sign-in-flow.js';
import { SignInPages } from './sign-in-pages.js';
import {
  ChallengeTwoFactor,
  EmailTwoFactorMethod,
  ProfileTwoFactorPolicy,
  TwoFactor,
  TwoFactorMethods,
  TwoFactorPolicy,
  type TwoFactorMethod,
} from './two-factor.js';

export const authModule = new ContainerModule(({ bind }) => {
  bind<PasswordHasher>(PasswordHasher).to(ScryptPasswordHasher).inSingletonScope();
  bind<PasswordPolicy>(PasswordPolicy).to(CommonPasswordPolicy).inSingletonScope();
  bind<PortalAccountStore>(PortalAccountStore).to(SequelizePortalAccountStore).inSingletonScope();
  bind<LoginHistory>(LoginHistory).to(SequelizeLoginHistory).inSingletonScope();
  bind<Lockout>(Lockout).to(DatabaseLockout).inSingletonScope();
  bind<AccountEligibility>(AccountEligibility).to(PortalAccountEligibility).inSingletonScope();
  bind<LoginService>(LoginService).to(PasswordLoginService).inSingletonScope();
  bind<PortalSessions>(PortalSessions).to(DatabasePortalSessions).inSingletonScope();
  bind(ProfileInForce).toSelf().inSingletonScope();
  bind<ContactSummaries>(ContactSummaries).to(CrmContactSummaries).inSingletonScope();
  bind<DemoAccountSeeder>(DemoAccountSeeder).to(PortalDemoAccountSeeder).inSingletonScope();
  bind<TwoFactorPolicy>(TwoFactorPolicy).to(ProfileTwoFactorPolicy).inSingletonScope();
  bind<TwoFactorMethod>(TwoFactorMethods).to(EmailTwoFactorMethod).inSingletonScope();
  bind<TwoFactor>(TwoFactor).to(ChallengeTwoFactor).inSingletonScope();
  bind<SignInFlow>(SignInFlow).to(PortalSignInFlow).inSingletonScope();
  bind<PasswordChange>(PasswordChange).to(PortalPasswordChange).inSingletonScope();
  bind(TokenPasswordReset).toSelf().inSingletonScope();
  bind<PasswordReset>(PasswordReset).toService(TokenPasswordReset);
  // Its deactivation waits for the recovery mails still being sent.
  bind<LifecycleContribution>(LifecycleContribution).toService(TokenPasswordReset);
  bind<FormSubmissions>(FormSubmissions).to(DatabaseFormSubmissions).inSingletonScope();
  bind<PortalFormCsrf>(PortalFormCsrf).to(SignedDoubleSubmitCsrf).inSingletonScope();
  bind<PortalPages>(PortalPages).to(LayoutPortalPages).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(FirstAccessGate).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(AuthApiRoutes).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(AccountApiRoutes).inSingletonScope();
  bind<PortalRouteContribution>(PortalRouteContribution).to(SignInPages).inSingletonScope();
  bind<LifecycleContribution>(LifecycleContribution).to(RetentionPurge).inSingletonScope();
});
