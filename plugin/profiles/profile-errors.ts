/** What profile operations refuse, with a stable code, an HTTP status and a translatable message. */
import type { LocalizedText } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';

export type ProfileErrorCode = 'not_found' | 'stale' | 'licence_required' | 'default_undeletable' | 'name_taken' | 'invalid';

export class ProfileError extends Error {
  constructor(
    readonly code: ProfileErrorCode,
    readonly status: number,
    readonly messageKey: MessageKey,
    readonly params?: MessageParams,
  ) {
    super(`Profile ${code}`);
    this.name = 'ProfileError';
  }
}

/**
 * Placeholders filled with a text in the reader's language (a module's or a field's label): the
 * service does not know who reads, the page that translates the message picks the language.
 */
export type MessageLabels = Readonly<Record<string, LocalizedText>>;

/** One reason a body or a file was refused: where (a JSON pointer) and what, translatable. */
export interface ValidationProblem {
  readonly path: string;
  readonly messageKey: MessageKey;
  readonly params?: MessageParams;
  readonly labels?: MessageLabels;
}

export class ProfileValidationError extends ProfileError {
  constructor(readonly problems: readonly ValidationProblem[]) {
    super('invalid', 400, 'profiles.errors.invalid');
    this.name = 'ProfileValidationError';
  }
}

export const profileNotFound = () => new ProfileError('not_found', 404, 'profiles.errors.notFound');
export const staleProfile = () => new ProfileError('stale', 409, 'profiles.errors.stale');
export const licenceRequired = () => new ProfileError('licence_required', 403, 'profiles.errors.licenceRequired');
export const nameTaken = (name: string) => new ProfileError('name_taken', 409, 'profiles.errors.nameTaken', { name });
