/**
 * Where the portal may send a visitor back to after a login or a language change: paths under the
 * portal only, with their query string rebuilt from encoded parameters (it cannot leave the portal
 * or split a header).
 */

/** Where the language form may send the visitor back to (paths under the portal, beside the workspace's; the customer's password page included). */
export const RETURN_PATHS = /^\/(|login|two-factor|first-access|forgot-password|reset-password|unlock|account\/password)$/;
/**
 * The workspace's own pages (home, a module's list, a new record, a record, its edit and delete
 * forms; a trailing slash as Express routes it): where a login may continue to and where the
 * workspace sends a signed-out visitor back from.
 */
export const WORKSPACE_PAGE = /^\/(m\/[A-Z][A-Za-z0-9_]{0,63}(\/(new|\d{1,12}(\/(edit|delete))?))?\/?)?$/;

/**
 * The language form's way back: a sign-in page or a workspace page, with its query string rebuilt
 * (only encoded parameters: it cannot leave the portal or split a header); anything else is null.
 */
export function safeReturn(given: string, paths: readonly RegExp[] = [RETURN_PATHS, WORKSPACE_PAGE]): string | null {
  if (given.length > 2000) return null;
  const at = given.indexOf('?');
  const path = at < 0 ? given : given.slice(0, at);
  if (!paths.some((allowed) => allowed.test(path))) return null;
  const query = at < 0 ? '' : new URLSearchParams(given.slice(at + 1)).toString();
  return query === '' ? path : `${path}?${query}`;
}

/** A workspace page to continue to after a login, its query kept (rebuilt, as `safeReturn` does); else null. */
export function workspaceNext(given: string): string | null {
  return safeReturn(given, [WORKSPACE_PAGE]);
}

/** A record's action that only takes a POST (a comment, a file, resolving a ticket): its form is on the record's page. */
const RECORD_ACTION = /^(\/m\/[A-Z][A-Za-z0-9_]{0,63}\/\d{1,12})\/(comments|documents|resolve)$/;

/**
 * Where the language switch of a page that refused a form (a stale CSRF token) comes back to: the
 * page the form came from when the address it was posted to tells it — a sign-in or workspace page
 * that took the POST itself, or the record page of a record's comment, file or resolve form — with
 * its query rebuilt as `safeReturn` does; else the portal's home (a sign-out, a language change).
 * Never anywhere outside the portal.
 */
export function refusedFormPage(address: string): string {
  const at = address.indexOf('?');
  const path = at < 0 ? address : address.slice(0, at);
  const query = at < 0 ? '' : address.slice(at);
  return safeReturn(`${path.replace(RECORD_ACTION, '$1')}${query}`) ?? '/';
}
