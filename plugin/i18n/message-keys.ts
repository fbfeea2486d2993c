/**
 * Translation keys, typed from the English locale (`locales/en.json`): a key that English
 * lacks does not compile. Keys are prefixed by capability (`menu.*`, `profiles.*`, `auth.*`…).
 */
type EnglishLocale = typeof import('../../locales/en.json', { with: { type: 'json' } });

type LeafKeys<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : LeafKeys<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

export type MessageKey = LeafKeys<EnglishLocale>;

/** Values for `{name}` placeholders. */
export type MessageParams = Readonly<Record<string, string | number>>;
