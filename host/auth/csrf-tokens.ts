/**
 * CSRF tokens of the host's own forms. Signed-in forms (sign out) carry an HMAC of the session id;
 * the login form, which has no session yet, uses a signed double-submit cookie that expires.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const LOGIN_CSRF_COOKIE = 'crm_login_csrf';
const LOGIN_TOKEN_MAX_AGE_MS = 2 * 60 * 60_000;

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class CsrfTokens {
  constructor(private readonly secret: Buffer) {}

  forSession(sessionId: string): string {
    return this.sign(`crm-session:${sessionId}`);
  }

  verifyForSession(sessionId: string, token: unknown): boolean {
    return typeof token === 'string' && sameText(token, this.forSession(sessionId));
  }

  /** A fresh login-form token: `<issued>.<nonce>.<signature>`, set as a cookie and as a hidden field. */
  forLoginForm(now = Date.now()): string {
    const payload = `${now.toString(36)}.${randomBytes(16).toString('base64url')}`;
    return `${payload}.${this.sign(`crm-login:${payload}`)}`;
  }

  /** The field must equal the cookie, carry our signature and be recent. */
  verifyLoginForm(cookieValue: unknown, fieldValue: unknown, now = Date.now()): boolean {
    if (typeof cookieValue !== 'string' || typeof fieldValue !== 'string' || !sameText(cookieValue, fieldValue)) return false;
    const parts = fieldValue.split('.');
    if (parts.length !== 3) return false;
    const [issued, nonce, signature] = parts as [string, string, string];
    const age = now - parseInt(issued, 36);
    return Number.isFinite(age) && age >= 0 && age <= LOGIN_TOKEN_MAX_AGE_MS && sameText(signature, this.sign(`crm-login:${issued}.${nonce}`));
  }

  private sign(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('base64url');
  }
}
