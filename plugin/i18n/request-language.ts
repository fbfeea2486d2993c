/** The language of a portal request: the visitor's explicit choice (a cookie), else their browser's. */
import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, Response } from 'express';
import type { LanguageCode } from '../host-contract/index.js';
import { parseAcceptLanguage, type Translator } from './translator.js';

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

/** A tag's language and region (`en-gb` → `en`, `GB`; `es-419`): none for a tag without a region. */
const REGION_TAG = /^([a-z]{2,3})(?:-[a-z]{4})?-([a-z]{2}|\d{3})(?:-|$)/;

/**
 * The locale `language`'s dates are written in for a browser that sends `acceptLanguage`: the
 * first region it names for that language, best first (`en-GB,en;q=0.9` → `en-GB`, and for a
 * customer who reads English on `it-CH,en-GB;q=0.8` too), else the language alone (its own
 * default: `en` writes `Dec 6, 2026`). Always `language` or `language-REGION`, never the
 * browser's text as sent.
 */
export function formattingLocale(acceptLanguage: string | null | undefined, language: LanguageCode): string {
  for (const tag of parseAcceptLanguage(acceptLanguage ?? '')) {
    const match = REGION_TAG.exec(tag);
    if (match?.[1] === language) return `${language}-${match[2]!.toUpperCase()}`;
  }
  return language;
}

/**
 * The locale a mail to a customer writes its dates in: the region of their stored language when it
 * names one and the mail is in that language (`en-GB`, `en_GB`), else the mail's language as before.
 */
export function storedLocale(stored: unknown, language: LanguageCode): string {
  return formattingLocale(typeof stored === 'string' ? stored.replace(/_/g, '-') : '', language);
}

/** The locale a portal page writes its dates in: see `formattingLocale`. */
export function requestLocale(req: Request, language: LanguageCode): string {
  return formattingLocale(req.headers['accept-language'], language);
}

/** Keeps `language` as this browser's choice for a year, with the portal's cookie options (`portalCookieOptions`). */
export function rememberLanguage(res: Response, language: LanguageCode, cookieOptions: CookieOptions): void {
  res.cookie(LANGUAGE_COOKIE, language, { ...cookieOptions, maxAge: LANGUAGE_COOKIE_MAX_AGE_MS });
}

/** Whether this browser has chosen a language (the cookie is there). */
export function languageChosen(req: Request): boolean {
  return Boolean(chosenLanguage(req));
}
