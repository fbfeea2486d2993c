/** The language of a portal request: the visitor's explicit choice (a cookie), else their browser's. */
import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, Response } from 'express';
import type { LanguageCode } from '../host-contract/index.js';
import type { Translator } from './translator.js';

/** Set by the portal's language dropdown (or at a sign-in, from the contact); holds a language code and nothing else. */
export const LANGUAGE_COOKIE = 'bp_lang';
/** The language cookie lasts a year. */
const LANGUAGE_COOKIE_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

/** The language this browser chose (the cookie), if any. */
function chosenLanguage(req: Request): string | undefined {
  return req.headers.cookie ? parseCookies(req.headers.cookie)[LANGUAGE_COOKIE] : undefined;
}

export function requestLanguage(req: Request, translator: Translator): LanguageCode {
  return translator.pickLanguage(req.headers['accept-language'], chosenLanguage(req));
}

/** Keeps `language` as this browser's choice for a year, with the portal's cookie options (`portalCookieOptions`). */
export function rememberLanguage(res: Response, language: LanguageCode, cookieOptions: CookieOptions): void {
  res.cookie(LANGUAGE_COOKIE, language, { ...cookieOptions, maxAge: LANGUAGE_COOKIE_MAX_AGE_MS });
}

/** Whether this browser has chosen a language (the cookie is there). */
export function languageChosen(req: Request): boolean {
  return Boolean(chosenLanguage(req));
}
