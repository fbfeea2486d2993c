/**
 * What a new portal password must be (SECURITY.md, NIST SP 800-63B): at least 8 characters, at
 * most 256, no composition rules, never truncated, not one of the common passwords shipped in
 * `common-passwords.txt`, and not the customer's own email. Lengths count Unicode characters
 * (code points) after the NFKC normalisation the hasher applies.
 */
import { readFileSync } from 'node:fs';
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

function canonical(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

export function readCommonPasswords(file: URL = COMMON_PASSWORDS_FILE): ReadonlySet<string> {
  return new Set(
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map(canonical),
  );
}

@injectable()
export class CommonPasswordPolicy implements PasswordPolicy {
  private readonly common: ReadonlySet<string> = readCommonPasswords();

  check(password: string, context: { readonly email?: string } = {}): PasswordVerdict {
    const length = [...password.normalize('NFKC')].length;
    if (length < PASSWORD_MIN_LENGTH) {
      return { ok: false, problem: 'tooShort', messageKey: 'auth.password.tooShort', params: { min: PASSWORD_MIN_LENGTH } };
    }
    if (length > PASSWORD_MAX_LENGTH) {
      return { ok: false, problem: 'tooLong', messageKey: 'auth.password.tooLong', params: { max: PASSWORD_MAX_LENGTH } };
    }
    const lowered = canonical(password);
    if (this.common.has(lowered)) return { ok: false, problem: 'common', messageKey: 'auth.password.common' };
    const email = context.email ? canonical(context.email.trim()) : '';
    if (email !== '' && lowered.includes(email)) {
      return { ok: false, problem: 'containsEmail', messageKey: 'auth.password.containsEmail' };
    }
    return { ok: true };
  }
}
