/**
 * The sign-in flows of the portal's JSON API, with the same rules as the pages:
 *
 *   POST /auth/two-factor {"code"}                                   → 200 {"contact"} + session, or 401 invalid_code
 *   POST /auth/password   {"currentPassword"?, "newPassword", "confirmPassword"?} → 204 (new session cookie)
 *   POST /auth/forgot     {"email"}                                  → 202, whatever the email
 *   POST /auth/reset      {"token", "newPassword", "confirmPassword"?} → 204, or 400 invalid_link / password_rejected
 *
 * Bodies must be JSON (a cross-site form cannot send it) and match their ajv schema.
 */
import type { Request, Response, Router } from 'express';
import { inject, injectable } from 'inversify';
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { API_PREFIX, ApiError, sendApiError } from '../http/api-errors.js';
import { requestLanguage } from '../i18n/request-language.js';
import { Translator } from '../i18n/translator.js';
import type { PortalRouteContribution } from '../lifecycle/contributions.js';
import { clientAddress } from './client-address.js';
import { ContactSummaries } from './contact-summary.js';
import { PASSWORD_CHANGE_API_PATH } from './first-access.js';
import { PasswordChange } from './password-change.js';
import { PasswordReset } from './password-reset.js';
import { PortalSessions } from './portal-sessions.js';
import { SignInFlow } from './sign-in-flow.js';

export const TWO_FACTOR_API_PATH = `${API_PREFIX}/auth/two-factor`;
export const FORGOT_API_PATH = `${API_PREFIX}/auth/forgot`;
export const RESET_API_PATH = `${API_PREFIX}/auth/reset`;

const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 } as const;

interface CodeBody {
  code: string;
}
interface ChangeBody {
  currentPassword?: string;
  newPassword: string;
  confirmPassword?: string;
}
interface ForgotBody {
  email: string;
}
interface ResetBody {
  token: string;
  newPassword: string;
  confirmPassword?: string;
}

/** The bodies' schemas, exported for the OpenAPI document (which shows these very schemas). */
export const codeSchema: JSONSchemaType<CodeBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  // Six digits (spaces between them dropped, as the check drops them): a code that cannot be one is a
  // 400 that spends no try, as on the page.
  properties: { code: { type: 'string', minLength: 1, maxLength: 20, pattern: '^\\s*(?:\\d\\s*){6}$' } },
};
export const changeSchema: JSONSchemaType<ChangeBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['newPassword'],
  properties: { currentPassword: { ...PASSWORD, nullable: true }, newPassword: PASSWORD, confirmPassword: { ...PASSWORD, nullable: true } },
};
export const forgotSchema: JSONSchemaType<ForgotBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  properties: { email: { type: 'string', minLength: 1, maxLength: 254 } },
};
export const resetSchema: JSONSchemaType<ResetBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'newPassword'],
  properties: { token: { type: 'string', minLength: 1, maxLength: 100 }, newPassword: PASSWORD, confirmPassword: { ...PASSWORD, nullable: true } },
};

const ajv = new Ajv({ strict: true, allErrors: false });
const validateCode = ajv.compile<CodeBody>(codeSchema);
const validateChange = ajv.compile<ChangeBody>(changeSchema);
const validateForgot = ajv.compile<ForgotBody>(forgotSchema);
const validateReset = ajv.compile<ResetBody>(resetSchema);

function jsonBodyOf<T>(req: Request, validate: ValidateFunction<T>): T {
  if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'auth.errors.jsonRequired');
  const body: unknown = req.body;
  if (!validate(body)) throw new ApiError(400, 'invalid_request', 'auth.errors.invalidBody');
  return body;
}

@injectable()
export class AccountApiRoutes implements PortalRouteContribution {
  constructor(
    @inject(SignInFlow) private readonly flow: SignInFlow,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(PasswordChange) private readonly passwords: PasswordChange,
    @inject(PasswordReset) private readonly resets: PasswordReset,
    @inject(ContactSummaries) private readonly summaries: ContactSummaries,
    @inject(Translator) private readonly translator: Translator,
  ) {}

  registerPortalRoutes(router: Router): void {
    router.post(TWO_FACTOR_API_PATH, (req, res) => this.twoFactor(req, res));
    router.post(PASSWORD_CHANGE_API_PATH, (req, res) => this.change(req, res));
    router.post(FORGOT_API_PATH, (req, res) => this.forgot(req, res));
    router.post(RESET_API_PATH, (req, res) => this.reset(req, res));
  }

  private message(req: Request, key: Parameters<Translator['t']>[1], params?: Parameters<Translator['t']>[2]): string {
    return this.translator.t(requestLanguage(req, this.translator), key, params);
  }

  private async twoFactor(req: Request, res: Response): Promise<void> {
    const body = jsonBodyOf(req, validateCode);
    const result = await this.flow.completeSecondFactor(req, res, body.code);
    if (result.kind !== 'signed-in') {
      sendApiError(res, 401, 'invalid_code', this.message(req, 'auth.twoFactor.invalidCodeApi'));
      return;
    }
    res.status(200).json({ contact: await this.summaries.summarize(result.account, result.contact) });
  }

  private async change(req: Request, res: Response): Promise<void> {
    const body = jsonBodyOf(req, validateChange);
    const session = await this.sessions.current(req, res);
    if (!session) {
      sendApiError(res, 401, 'not_signed_in', this.message(req, 'auth.errors.notSignedIn'));
      return;
    }
    const result = await this.passwords.change(req, res, session, {
      newPassword: body.newPassword,
      ...(body.currentPassword !== undefined && body.currentPassword !== null ? { currentPassword: body.currentPassword } : {}),
      ...(body.confirmPassword !== undefined && body.confirmPassword !== null ? { confirmPassword: body.confirmPassword } : {}),
    });
    if (result.ok) {
      res.status(204).end();
      return;
    }
    if (result.problem === 'currentWrong') sendApiError(res, 403, 'current_password_wrong', this.message(req, result.messageKey));
    else sendApiError(res, 400, 'password_rejected', this.message(req, result.messageKey, result.params));
  }

  private async forgot(req: Request, res: Response): Promise<void> {
    const body = jsonBodyOf(req, validateForgot);
    await this.resets.request(body.email, clientAddress(req));
    res.status(202).json({ message: this.message(req, 'auth.forgot.sent') });
  }

  private async reset(req: Request, res: Response): Promise<void> {
    const body = jsonBodyOf(req, validateReset);
    const result = await this.resets.complete(
      body.token,
      { newPassword: body.newPassword, ...(body.confirmPassword !== undefined && body.confirmPassword !== null ? { confirmPassword: body.confirmPassword } : {}) },
      clientAddress(req),
    );
    if (result.ok) {
      res.status(204).end();
      return;
    }
    if (result.problem === 'invalidLink') sendApiError(res, 400, 'invalid_link', this.message(req, result.messageKey));
    else sendApiError(res, 400, 'password_rejected', this.message(req, result.messageKey, result.params));
  }
}
