/**
 * The portal's authentication API, under the portal router (`{portalPath}/api/v1`):
 *
 *   POST /auth/login   {"email","password","remember"?} → 200 {"contact"} + session cookie, or 401;
 *                      202 {"secondFactor": {"method"}} + challenge cookie when the profile asks for
 *                      a second factor (then `POST /auth/two-factor`, see account-api-routes.ts);
 *                      503 `code_not_sent` when the code could not be mailed (nothing started);
 *                      429 `too_many_codes` when the contact had its hour's codes (nothing started)
 *   GET  /me           → 200 {"contact"} of the signed-in customer, or 401
 *   POST /auth/logout  → 204; the server session is gone and the cookie cleared
 *
 * Every refused login — unknown email, wrong password, locked, banned address, outside the
 * support period, portal off — gets the very same 401 (status, body, headers, no cookie).
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { Ajv, type JSONSchemaType } from 'ajv';
import { API_PREFIX, ApiError, sendApiError } from '../http/api-errors.js';
import { requestLanguage } from '../i18n/request-language.js';
import { Translator } from '../i18n/translator.js';
import type { PortalRouteContribution } from '../lifecycle/contributions.js';
import { ContactSummaries } from './contact-summary.js';
import { PortalSessions } from './portal-sessions.js';
import { SignInFlow } from './sign-in-flow.js';

export { clientAddress } from './client-address.js';

interface LoginBody {
  email: string;
  password: string;
  remember?: boolean;
}

/** Lengths only bound the work: a password longer than the policy allows simply does not match. */
export const loginSchema: JSONSchemaType<LoginBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', minLength: 1, maxLength: 254 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
    remember: { type: 'boolean', nullable: true },
  },
};

const validateLogin = new Ajv({ strict: true, allErrors: false }).compile(loginSchema);

export const LOGIN_PATH = `${API_PREFIX}/auth/login`;
export const LOGOUT_PATH = `${API_PREFIX}/auth/logout`;
export const ME_PATH = `${API_PREFIX}/me`;

@injectable()
export class AuthApiRoutes implements PortalRouteContribution {
  constructor(
    @inject(SignInFlow) private readonly flow: SignInFlow,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(ContactSummaries) private readonly summaries: ContactSummaries,
    @inject(Translator) private readonly translator: Translator,
  ) {}

  registerPortalRoutes(router: Router): void {
    router.post(LOGIN_PATH, (req, res) => this.login(req, res));
    router.get(ME_PATH, (req, res) => this.me(req, res));
    router.post(LOGOUT_PATH, (req, res) => this.logout(req, res));
  }

  private async login(req: Request, res: Response): Promise<void> {
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'auth.errors.jsonRequired');
    const body: unknown = req.body;
    if (!validateLogin(body)) throw new ApiError(400, 'invalid_request', 'auth.errors.invalidLoginBody');
    const result = await this.flow.signIn(req, res, { email: body.email, password: body.password, remember: body.remember === true });
    if (result.kind === 'refused') {
      sendApiError(res, 401, 'invalid_credentials', this.translator.t(requestLanguage(req, this.translator), 'auth.errors.invalidCredentials'));
      return;
    }
    if (result.kind === 'second-factor') {
      res.status(202).json({ secondFactor: { method: result.method } });
      return;
    }
    if (result.kind === 'code-not-sent') {
      sendApiError(res, 503, 'code_not_sent', this.translator.t(requestLanguage(req, this.translator), 'auth.twoFactor.codeNotSent'));
      return;
    }
    if (result.kind === 'too-many-codes') {
      sendApiError(res, 429, 'too_many_codes', this.translator.t(requestLanguage(req, this.translator), 'auth.twoFactor.tooManyCodes'));
      return;
    }
    res.status(200).json({ contact: await this.summaries.summarize(result.account, result.contact) });
  }

  private async me(req: Request, res: Response): Promise<void> {
    const session = await this.sessions.current(req, res);
    if (!session) {
      sendApiError(res, 401, 'not_signed_in', this.translator.t(requestLanguage(req, this.translator), 'auth.errors.notSignedIn'));
      return;
    }
    res.status(200).json({ contact: await this.summaries.summarize(session.account, session.contact) });
  }

  private async logout(req: Request, res: Response): Promise<void> {
    await this.sessions.end(req, res);
    res.status(204).end();
  }
}
