/**
 * Choosing a CRM user (or group) on a CRM of thousands of them: the settings pages that offer one
 * (the owner of a profile, version 1's "select user") list them all in one dropdown up to
 * OWNER_LIST_LIMIT, as vtenext does; beyond that they list the chosen one and those a search names
 * (`?ownerSearch=` / `?userSearch=`, a GET form of the page: no script needed), at most
 * OWNER_MATCHES_SHOWN of them. A dropdown of 5,000 users was 330 KB of a page that no one scrolls.
 */
import type { CrmGroup, CrmUser, LanguageCode } from '../host-contract/index.js';
import type { MessageKey, MessageParams } from '../i18n/message-keys.js';

/** Up to this many users and groups together, one dropdown lists them all. */
export const OWNER_LIST_LIMIT = 200;
/** The most users and groups one search lists. */
export const OWNER_MATCHES_SHOWN = 50;
/** The longest search kept (a name, a user name or an email). */
export const USER_SEARCH_LENGTH = 100;

/** A search as a page takes it from its query: one string, trimmed, cut to USER_SEARCH_LENGTH, without control characters; else none. */
export function userSearchOf(value: unknown): string {
  if (typeof value !== 'string' || /[\u0000-\u001f\u007f-\u009f]/.test(value)) return '';
  return value.trim().slice(0, USER_SEARCH_LENGTH);
}

export interface SearchedChoices {
  /** The users and groups the search names, the chosen ones left out (a page lists those first anyway). */
  readonly users: readonly CrmUser[];
  readonly groups: readonly CrmGroup[];
  /** How many the search names, the chosen ones included. */
  readonly matches: number;
}

/** The users (by first, last or full name, user name or email) and groups (by name) that `search` names, ignoring case. */
export function searchChoices(
  search: string,
  language: LanguageCode,
  users: readonly CrmUser[],
  groups: readonly CrmGroup[],
  chosen: { readonly user: CrmUser | undefined; readonly group: CrmGroup | undefined },
): SearchedChoices {
  const needle = search.toLocaleLowerCase(language);
  if (!needle) return { users: [], groups: [], matches: 0 };
  const names = (text: string) => text.toLocaleLowerCase(language).includes(needle);
  const userMatches = (u: CrmUser) => [u.firstName, u.lastName, `${u.firstName} ${u.lastName}`, u.userName, u.email].some(names);
  const matchedUsers = users.filter((u) => u !== chosen.user && userMatches(u));
  const matchedGroups = groups.filter((g) => g !== chosen.group && names(g.name));
  const chosenMatches = (chosen.user !== undefined && userMatches(chosen.user)) || (chosen.group !== undefined && names(chosen.group.name));
  return { users: matchedUsers, groups: matchedGroups, matches: matchedUsers.length + matchedGroups.length + (chosenMatches ? 1 : 0) };
}

/** The keys of the line under a search box (the hint is given whole: its counts differ by page). */
export interface SearchOutcomeKeys {
  readonly none: MessageKey;
  readonly all: MessageKey;
  readonly some: MessageKey;
}

/** The line under a search box: the hint before a search, then none, all, or the first OWNER_MATCHES_SHOWN of how many. */
export function searchOutcome(
  search: string,
  matches: number,
  language: LanguageCode,
  t: (key: MessageKey, params?: MessageParams) => string,
  hint: () => string,
  keys: SearchOutcomeKeys,
): string {
  if (!search) return hint();
  if (matches === 0) return t(keys.none, { search });
  if (matches > OWNER_MATCHES_SHOWN) return t(keys.some, { count: countIn(language, matches), search, shown: OWNER_MATCHES_SHOWN });
  return t(keys.all, { count: matches, search });
}

/** A count in the admin's number format (5.000 in Italian). */
export function countIn(language: LanguageCode, value: number): string {
  return new Intl.NumberFormat(language).format(value);
}
