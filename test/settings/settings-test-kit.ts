/**
 * What the settings suites share: hosts on a fresh or an upgraded install, a CRM clerk (signed in,
 * not an admin), the stored value of a setting, and the host logger's lines captured (by level).
 */
import { QueryTypes } from 'sequelize';
import { hashPassword } from '../../host/users/password-hash.js';
import type { HostApi, InstallOrigin, LogFields } from '../../plugin/host-contract/index.js';
import { adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import type { ParsedMail } from 'mailparser';
import type { Mailbox } from '../sign-in/sign-in-fixture.js';
import type { TestHost } from '../support/host.js';

export { SETTINGS } from '../profiles/profile-test-kit.js';

export const UPGRADED_FROM_V1: InstallOrigin = { kind: 'upgraded', fromRelease: '20.04', hadPortalVersion1: true };

export const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-password-1';

/** Tom, a signed-in CRM user who is not an administrator. */
export async function clerkClient(test: TestHost): Promise<AdminClient> {
  await test.host.api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
    replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
  });
  return adminClient(test, CLERK, CLERK_PASSWORD);
}

/** The JSON value stored under a key of `bp_settings` (undefined when none). */
export async function storedSetting(api: HostApi, key: string): Promise<unknown> {
  const column = api.database.sequelize.getQueryInterface().quoteIdentifier('key');
  const [row] = await api.database.sequelize.query<{ value: string }>(`SELECT value FROM bp_settings WHERE ${column} = :key`, {
    type: QueryTypes.SELECT,
    replacements: { key },
  });
  return row ? JSON.parse(row.value) : undefined;
}

export async function userId(api: HostApi, userName: string): Promise<number> {
  return (await api.users.users()).find((u) => u.userName === userName)!.id;
}

/** Records what the host logger is told at `info`, while still passing it on. */
export function captureInfoLogs(api: HostApi): { readonly lines: { message: string; fields?: LogFields }[]; restore(): void } {
  return captureLogs(api, 'info');
}

/** Records what the host logger is told at `level`, while still passing it on. */
export function captureLogs(api: HostApi, level: 'info' | 'warn' | 'error'): { readonly lines: { message: string; fields?: LogFields }[]; restore(): void } {
  const logger = api.logger as Record<typeof level, (message: string, fields?: LogFields) => void>;
  const original = logger[level];
  const lines: { message: string; fields?: LogFields }[] = [];
  logger[level] = function (message: string, fields?: LogFields) {
    lines.push({ message, ...(fields ? { fields } : {}) });
    original.call(this, message, fields);
  };
  return {
    lines,
    restore: () => {
      logger[level] = original;
    },
  };
}

/** Handlebars escapes quotes and ampersands: compare page text with this. */
export const html = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

/** A form post with repeated fields (`active=A&active=B`) and the admin's CSRF token unless `csrf: false`. */
export async function postPairs(test: TestHost, client: AdminClient, path: string, pairs: readonly (readonly [string, string])[], options: { csrf?: boolean } = {}): Promise<Response> {
  const body = new URLSearchParams(options.csrf === false ? [] : [['_csrf', client.csrf]]);
  for (const [name, value] of pairs) body.append(name, value);
  return fetch(`${test.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: client.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
}

/** Turns a contact's portal access on from its Contact page, as an admin does; answers the mail it sends to `email`. */
export async function enablePortalUser(url: string, admin: AdminClient, contactId: number, mailbox: Mailbox, email: string): Promise<ParsedMail> {
  const page = await (await admin.get(`/contacts/${contactId}`)).text();
  const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(page)![0];
  const since = mailbox.received.length;
  const response = await fetch(`${url}/settings/business-portal/contacts/${contactId}/portal-user`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.cookie },
    body: new URLSearchParams({
      _csrf: /name="_csrf" value="([^"]+)"/.exec(form)![1]!,
      version: /name="version" value="(\d+)"/.exec(form)![1]!,
      portalUser: 'yes',
      profileId: '',
      supportStartDate: '',
      supportEndDate: '',
    }).toString(),
  });
  if (response.status !== 200) throw new Error(`Turning portal access on answered ${response.status}: ${await response.text()}`);
  return mailbox.waitFor(email, { since });
}
