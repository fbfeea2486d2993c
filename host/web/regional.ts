/** The CRM's languages (English and Italian, English by default) and its time zone. */
import type { HostRegional, LanguageCode } from '../../plugin/host-contract/index.js';

export const DEFAULT_TIME_ZONE = 'Europe/Rome';

const languages = Object.freeze([Object.freeze({ code: 'en', name: 'English' }), Object.freeze({ code: 'it', name: 'Italiano' })]);

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export class FixedRegional implements HostRegional {
  private readonly zone: string;

  constructor(zone: string = DEFAULT_TIME_ZONE) {
    if (!isTimeZone(zone)) throw new Error(`Unknown time zone "${zone}" (use an IANA name such as Europe/Rome)`);
    // Intl takes a zone in any case (`europe/rome`); the portal names it to customers as IANA spells it.
    this.zone = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  }

  languages(): readonly { readonly code: LanguageCode; readonly name: string }[] {
    return languages;
  }

  defaultLanguage(): LanguageCode {
    return 'en';
  }

  /** A supported language, or the default one. */
  pick(language: string | null | undefined): LanguageCode {
    return languages.some((l) => l.code === language) ? (language as LanguageCode) : this.defaultLanguage();
  }

  timeZone(): string {
    return this.zone;
  }
}
