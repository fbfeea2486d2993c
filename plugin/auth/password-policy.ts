/**
 * What a new portal password must be (SECURITY.md, NIST SP 800-63B): at least 8 characters, at
 * most 256, no composition rules, never truncated, not common, and not the customer's own email.
 * Lengths count Unicode characters (code points) after the NFKC normalisation the hasher applies.
 *
 * "Common" is judged the way guessing tools mangle their word lists, on the password compared
 * without case:
 * - the password itself is in the list: the ~49,000 passwords of `@zxcvbn-ts/language-common`
 *   (drawn from public breach corpora; MIT), plus the few of our own in `common-passwords.txt`;
 * - or it is one of those with digits and symbols around it (`Password123!`, `!Welcome2025`),
 *   or with the usual look-alike letters (`P@ssw0rd1`) — a run of at most 6 non-letters at
 *   either end is taken off, or a longer run that is itself a repetition or a sequence;
 * - or it is, or such a word is, a repetition of one to four characters (`aaaaaaaa`,
 *   `abcabcabc`) or a plain ascending or descending sequence (`abcdefgh`, `98765432`).
 * Only the whole password, with at most that taken off its ends, is compared: a passphrase that
 * merely holds a common word is never refused for it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as CommonLanguage from '@zxcvbn-ts/language-common';
import { injectable } from 'inversify';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordProblem = 'tooShort' | 'tooLong' | 'common' | 'containsEmail';

export type PasswordVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly problem: PasswordProblem; readonly messageKey: MessageKey; readonly params?: MessageParams };

export const PasswordPolicy = Symbol.for('business-portal.auth.PasswordPolicy');
export interface PasswordPolicy {
  /** Whether `password` may be set; `email` is the account's, when known. */
  check(password: string, context?: { readonly email?: string }): PasswordVerdict;
}

const COMMON_PASSWORDS_FILE = new URL('./common-passwords.txt', import.meta.url);

/** The most characters of digits and symbols taken off an end as mere decoration. */
const DECORATION_MAX = 6;

function canonical(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Our own additions to the list (Italian words, the portal's terms), one per line. */
export function readCommonPasswords(file: URL = COMMON_PASSWORDS_FILE): ReadonlySet<string> {
  return new Set(
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map(canonical),
  );
}

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * Every common password, lower-cased: built once per process, when a password is first checked
 * (the list's module costs about 12 MB of memory, which a host that never sets a password need not pay).
 */
export function commonPasswordList(): ReadonlySet<string> {
  if (!commonPasswords) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as typeof CommonLanguage;
    commonPasswords = new Set([...dictionary['passwords-common'].map(canonical), ...readCommonPasswords()]);
  }
  return commonPasswords;
}

/** One to four characters repeated (`aaaaaaaa`, `abababab`, `abcabcabc`). */
function isRepetition(text: string): boolean {
  return /^(.{1,4})\1+$/su.test(text);
}

/** Every character one code point above, or every one below, the one before (`abcdefgh`, `87654321`). */
function isSequence(text: string): boolean {
  const points = [...text].map((character) => character.codePointAt(0)!);
  if (points.length < 3) return false;
  const step = points[1]! - points[0]!;
  return (step === 1 || step === -1) && points.every((point, i) => i === 0 || point - points[i - 1]! === step);
}

function isTrivial(text: string): boolean {
  return [...text].length >= 3 && (isRepetition(text) || isSequence(text));
}

/** Takes a run of non-letters off one end when it is mere decoration: short, or trivial itself. */
function undecorated(text: string, end: 'start' | 'end'): string {
  const run = (end === 'end' ? /[^\p{L}\p{M}]+$/u : /^[^\p{L}\p{M}]+/u).exec(text)?.[0];
  if (!run || ([...run].length > DECORATION_MAX && !isTrivial(run))) return text;
  return end === 'end' ? text.slice(0, text.length - run.length) : text.slice(run.length);
}

/** The usual look-alikes back to letters; `1` is tried as both `i` and `l`. */
const LOOK_ALIKES: Readonly<Record<string, string>> = { '@': 'a', '4': 'a', '8': 'b', '3': 'e', '6': 'g', '9': 'g', '!': 'i', '|': 'l', '0': 'o', '$': 's', '5': 's', '7': 't', '+': 't' };

function withLetters(text: string, one: 'i' | 'l'): string {
  return [...text].map((character) => (character === '1' ? one : (LOOK_ALIKES[character] ?? character))).join('');
}

/** The forms of a (canonical) password that a guesser would reach from a common one. */
function guessableForms(password: string): Set<string> {
  const trailing = undecorated(password, 'end');
  const forms = new Set([password, undecorated(trailing, 'start')]);
  // Look-alikes only inside the word: trailing digits are decoration, not letters.
  if (/\p{L}/u.test(trailing)) for (const one of ['i', 'l'] as const) forms.add(undecorated(withLetters(trailing, one), 'start'));
  forms.delete('');
  return forms;
}

@injectable()
export class CommonPasswordPolicy implements PasswordPolicy {
  /** Whether the password is common, or a common one dressed up. */
  isCommon(password: string): boolean {
    const common = commonPasswordList();
    for (const form of guessableForms(canonical(password))) {
      if (common.has(form) || isTrivial(form)) return true;
    }
    return false;
  }

  check(typed: string, context: { readonly email?: string } = {}): PasswordVerdict {
    // As the hash keeps it: UTF-8 has no lone surrogate (JSON's "\ud800"), each is U+FFFD there, so
    // eight different ones were a strong password here and one character repeated to the hash.
    const password = typed.replace(/\p{Cs}/gu, '\uFFFD');
    const length = [...password.normalize('NFKC')].length;
    if (length < PASSWORD_MIN_LENGTH) {
      return { ok: false, problem: 'tooShort', messageKey: 'auth.password.tooShort', params: { min: PASSWORD_MIN_LENGTH } };
    }
    if (length > PASSWORD_MAX_LENGTH) {
      return { ok: false, problem: 'tooLong', messageKey: 'auth.password.tooLong', params: { max: PASSWORD_MAX_LENGTH } };
    }
    if (this.isCommon(password)) return { ok: false, problem: 'common', messageKey: 'auth.password.common' };
    const lowered = canonical(password);
    const email = context.email ? canonical(context.email.trim()) : '';
    if (email !== '' && lowered.includes(email)) {
      return { ok: false, problem: 'containsEmail', messageKey: 'auth.password.containsEmail' };
    }
    return { ok: true };
  }
}
