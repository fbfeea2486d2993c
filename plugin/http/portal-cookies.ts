/**
 * The options of every cookie the portal sets (session, form token, language, second-factor
 * challenge), and of its clearing: HttpOnly, SameSite=Lax, the portal's mount path, and Secure
 * behind HTTPS — a TLS request, a trusted proxy's `X-Forwarded-Proto`, or an https address for
 * customers (`publicUrl`: a TLS terminator the host does not trust for its headers), as the
 * host's own session cookie.
 */
import type { CookieOptions, Request } from 'express';
import type { HostHttp } from '../host-contract/index.js';

export function portalCookieOptions(req: Request, http: HostHttp, portalPath: string): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: req.secure || http.publicUrl('/').startsWith('https:'), path: portalPath };
}
