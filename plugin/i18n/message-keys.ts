/**
 * Translation keys, typed from the English locale (`locales/en.json`): a key that English
 * lacks does not compile. Keys are prefixed by capability (`menu.*`, `profiles.*`, `auth.*`…).
 */
type EnglishLocale = typeof import('../../locales/en.json', { with: { type: 'json' } });

/** The categories of `Intl.PluralRules`: a message with plural forms is an object of some of them, `other` always. */
export const PLURAL_CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;
export type PluralCategory = (typeof PLURAL_CATEGORIES)[number];
/** A message's plural forms, chosen by its `count` parameter (`other` when the language lacks a category). */
export type PluralText = Readonly<Partial<Record<PluralCategory, string>> & { other: string }>;

/** A message: a text, or an object of plural forms (its keys are plural categories only, `other` among them). */
type Message<T> = T extends string ? true : T extends { other: string } ? (Exclude<keyof T, PluralCategory> extends never ? true : false) : false;

type LeafKeys<T, Prefix extends string = ''> = {
  [K in keyof T & string]: Message<T[K]> extends true ? `${Prefix}${K}` : LeafKeys<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

export type MessageKey = LeafKeys<EnglishLocale>;

/** Values for `{name}` placeholders. */
export type MessageParams = Readonly<Record<string, string | number>>;
