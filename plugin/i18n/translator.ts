/**
 * The plugin's translations: one JSON file per language in the manifest's `locales` folder
 * (`en.json`, `it.json`, …), nested by capability and read once when the service is created.
 *
 * A message that counts something may have plural forms: an object whose keys are the language's
 * plural categories (`Intl.PluralRules`: `one`, `other`, and `zero`, `two`, `few`, `many` where the
 * language has them), `other` always present, e.g. `{ "one": "{count} contact moved", "other":
 * "{count} contacts moved" }`. The form is chosen by the `count` parameter; `other` stands in for a
 * category the locale leaves out, and is used when `count` is missing or not a number.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'inversify';
import { HostRegional, type LanguageCode, type LocalizedText } from '../host-contract/index.js';
import { PluginFiles } from '../lifecycle/plugin-files.js';
import { PLURAL_CATEGORIES, type MessageKey, type MessageParams, type PluralCategory, type PluralText } from './message-keys.js';

export const FALLBACK_LANGUAGE = 'en';

export const Translator = Symbol.for('business-portal.Translator');
export interface Translator {
  /**
   * The text of `key` in `language` with `{name}` placeholders filled; English, then the key itself,
   * when missing. A message with plural forms gives the form for `params.count`.
   */
  t(language: LanguageCode, key: MessageKey, params?: MessageParams): string;
  /** The text of `key` in every language (English always present). */
  localized(key: MessageKey, params?: MessageParams): LocalizedText;
  /** Whether `key` exists in English (for keys built at run time, e.g. from an error code). */
  has(key: string): key is MessageKey;
  /** The languages that have a locale file, English first. */
  languages(): readonly LanguageCode[];
  /** The language to answer in: `language` when the plugin has it, else the default language. */
  supported(language: string | null | undefined): LanguageCode;
  /** The default language: the CRM's when the plugin has it, else English. */
  defaultLanguage(): LanguageCode;
  /**
   * The language for a visitor: an explicit choice (the language cookie) beats the browser's
   * `Accept-Language`; anything unsupported gives the default language.
   */
  pickLanguage(acceptLanguage: string | null | undefined, chosen: string | null | undefined): LanguageCode;
}

/** A message: its text, or its plural forms. */
export type LocaleText = string | PluralText;

type Catalogue = ReadonlyMap<string, LocaleText>;

const languageFile = /^([a-z]{2})\.json$/;

/** Whether a locale object is a message's plural forms: only plural categories, `other` among them, each a text. */
export function isPluralText(value: unknown): value is PluralText {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    Object.prototype.hasOwnProperty.call(value, 'other') &&
    entries.every(([category, text]) => (PLURAL_CATEGORIES as readonly string[]).includes(category) && typeof text === 'string')
  );
}

/** Every text of a message: the one text, or each plural form. */
export function textsOf(message: LocaleText): string[] {
  return typeof message === 'string' ? [message] : Object.values(message).filter((text): text is string => typeof text === 'string');
}

/**
 * `{ "a": { "b": "x" } }` → `a.b` = `x`; plural forms (`{ "one": …, "other": … }`) are one message.
 * Other non-string leaves are refused: a locale holds text only.
 */
export function flattenLocale(tree: unknown, file: string, prefix = '', into = new Map<string, LocaleText>()): Map<string, LocaleText> {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new Error(`Locale ${file}: "${prefix}" must be an object`);
  for (const [key, value] of Object.entries(tree)) {
    const path = `${prefix}${key}`;
    if (typeof value === 'string') into.set(path, value);
    else if (isPluralText(value)) into.set(path, Object.freeze({ ...value }));
    else flattenLocale(value, file, `${path}.`, into);
  }
  return into;
}

export function readLocales(folder: string): Map<LanguageCode, Catalogue> {
  const catalogues = new Map<LanguageCode, Catalogue>();
  for (const file of readdirSync(folder).sort()) {
    const match = languageFile.exec(file);
    if (!match) continue;
    catalogues.set(match[1]!, flattenLocale(JSON.parse(readFileSync(join(folder, file), 'utf8')), file));
  }
  if (!catalogues.has(FALLBACK_LANGUAGE)) throw new Error(`Business Portal: ${folder} has no ${FALLBACK_LANGUAGE}.json`);
  return catalogues;
}

/** `it-IT;q=0.8, en;q=0.5` → `[it-it, en]`, best first; malformed parts are skipped. */
export function parseAcceptLanguage(header: string): string[] {
  return header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...parameters] = part.trim().split(';');
      const weight = parameters.find((p) => /^\s*q=/i.test(p));
      // No weight means 1; a malformed one drops the entry (NaN fails the filter below).
      const q = weight === undefined ? 1 : Number(/^\s*q=([01](?:\.\d{0,3})?)\s*$/i.exec(weight)?.[1] ?? Number.NaN);
      return { tag: tag.trim().toLowerCase(), q, index };
    })
    .filter(({ tag, q }) => /^([a-z]{1,8})(-[a-z0-9]{1,8})*$|^\*$/.test(tag) && q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map(({ tag }) => tag);
}

@injectable()
export class LocaleTranslator implements Translator {
  private readonly catalogues: Map<LanguageCode, Catalogue>;
  private readonly pluralRules = new Map<LanguageCode, Intl.PluralRules>();

  constructor(
    @inject(PluginFiles) files: PluginFiles,
    @inject(HostRegional) private readonly regional: HostRegional,
  ) {
    this.catalogues = readLocales(files.localesDir);
  }

  t(language: LanguageCode, key: MessageKey, params?: MessageParams): string {
    const own = this.catalogues.get(language)?.get(key);
    const message = own ?? this.catalogues.get(FALLBACK_LANGUAGE)!.get(key) ?? key;
    // Plural forms follow the rules of the language the message is written in.
    const text = typeof message === 'string' ? message : this.pluralForm(own !== undefined ? language : FALLBACK_LANGUAGE, message, params?.count);
    if (!params) return text;
    return text.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
    );
  }

  /** The form of `forms` for `count` in `language`; `other` when the locale lacks that category or `count` is not a number. */
  private pluralForm(language: LanguageCode, forms: PluralText, count: string | number | undefined): string {
    const n = typeof count === 'number' ? count : typeof count === 'string' && count.trim() !== '' ? Number(count) : Number.NaN;
    if (!Number.isFinite(n)) return forms.other;
    let rules = this.pluralRules.get(language);
    if (!rules) {
      rules = new Intl.PluralRules(language);
      this.pluralRules.set(language, rules);
    }
    return forms[rules.select(n) as PluralCategory] ?? forms.other;
  }

  localized(key: MessageKey, params?: MessageParams): LocalizedText {
    const text: Record<LanguageCode, string> = {};
    for (const language of this.languages()) text[language] = this.t(language, key, params);
    return text as LocalizedText;
  }

  has(key: string): key is MessageKey {
    return this.catalogues.get(FALLBACK_LANGUAGE)!.has(key);
  }

  languages(): readonly LanguageCode[] {
    return [FALLBACK_LANGUAGE, ...[...this.catalogues.keys()].filter((l) => l !== FALLBACK_LANGUAGE)];
  }

  defaultLanguage(): LanguageCode {
    const crm = this.regional.defaultLanguage().toLowerCase().slice(0, 2);
    return this.catalogues.has(crm) ? crm : FALLBACK_LANGUAGE;
  }

  supported(language: string | null | undefined): LanguageCode {
    const code = (language ?? '').toLowerCase().slice(0, 2);
    return this.catalogues.has(code) ? code : this.defaultLanguage();
  }

  pickLanguage(acceptLanguage: string | null | undefined, chosen: string | null | undefined): LanguageCode {
    if (chosen && this.catalogues.has(chosen)) return chosen;
    for (const tag of parseAcceptLanguage(acceptLanguage ?? '')) {
      const primary = tag.split('-')[0]!;
      if (this.catalogues.has(primary)) return primary;
    }
    return this.defaultLanguage();
  }
}
