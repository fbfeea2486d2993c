/**
 * The reference host (real Express server, real scratch database, real CRM login and Contact
 * pages) with the plugin's auth, unlock-link, login-check and contacts capabilities, installed
 * and activated through the plugin's lifecycle on the host's API, as the plugin loader does.
 *
 * The portal mailer is replaced by a recording implementation of the `PortalMailer` interface:
 * the notifications capability's mailer was written in parallel with this one, and what these
 * suites check is what the lockout asks the mailer to send (kind, contact, unlock link), once per
 * lock. (`startLoginCheckHost({ realMailer: true })` keeps the real one, for the outbox test.)
 */
import { ContainerModule } from 'inversify';
import { QueryTypes } from 'sequelize';
import { hashPassword } from '../../host/users/password-hash.js';
import { authModule } from '../../plugin/auth/auth-module.js';
import { DemoAccountSeeder } from '../../plugin/auth/demo-accounts.js';
import { LockNotification } from '../../plugin/auth/lock-notification.js';
import { Lockout } from '../../plugin/auth/lockout.js';
import { unlockModule } from '../../plugin/auth/unlock-module.js';
import { contactsModule } from '../../plugin/contacts/contacts-module.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { LifecycleContribution } from '../../plugin/lifecycle/contributions.js';
import { coreModules } from '../../plugin/lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from '../../plugin/lifecycle/plugin-lifecycle.js';
import { PortalMailer, type PortalMailData, type PortalMailKind } from '../../plugin/notifications/portal-mailer.js';
import { TEST_ADMIN_PASSWORD, crmLogin, startTestHost, type TestHost } from '../support/host.js';

export const PORTAL_PASSWORD = 'Portal-demo-1';
export const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-1';

export interface RecordedMail {
  readonly kind: PortalMailKind;
  readonly contactId: number;
  readonly data: PortalMailData;
}

export interface LoginCheckHost {
  readonly test: TestHost;
  readonly url: string;
  readonly api: HostApi;
  /** Cookie headers of CRM sessions. */
  readonly admin: string;
  readonly clerk: string;
  readonly lockout: Lockout;
  readonly mails: RecordedMail[];
  /** Waits for the lock emails started so far. */
  mailsSettled(): Promise<void>;
  /** A CRM contact that is a portal user with `PORTAL_PASSWORD`. */
  addCustomer(values: { firstname: string; lastname: string; email: string; language?: string }): Promise<number>;
  portalLogin(email: string, password: string, ip?: string): Promise<Response>;
  /**
   * `count` contacts that are portal users locked by five failures, written in bulk (the records API
   * and five logins each would take minutes): the aftermath of a password-spraying wave. Their ids, in order.
   */
  addLockedInBulk(count: number, prefix: string): Promise<number[]>;
  /** Five failed API logins. */
  lock(email: string, ip?: string): Promise<void>;
  isLocked(contactId: number): Promise<boolean>;
  sql<T extends object>(sql: string, replacements?: Record<string, unknown>): Promise<T[]>;
  get(path: string, cookie?: string): Promise<Response>;
  /** A form POST (urlencoded; repeated keys for arrays). */
  post(path: string, cookie: string | undefined, fields: Record<string, string | readonly string[]>): Promise<Response>;
  /** The CSRF token of the login-check page for this session. */
  csrf(cookie: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startLoginCheckHost(options: { readonly realMailer?: boolean } = {}): Promise<LoginCheckHost> {
  const test = await startTestHost({ pluginManifests: [] });
  const api = test.host.api;
  const mails: RecordedMail[] = [];
  let lockout: Lockout | null = null;
  let notification: LockNotification | null = null;
  const probe = new ContainerModule(({ bind, isBound, rebind }) => {
    if (!options.realMailer) {
      (isBound(PortalMailer) ? rebind<PortalMailer>(PortalMailer) : bind<PortalMailer>(PortalMailer)).toConstantValue({
        async sendToContact(kind, contactId, data) {
          mails.push({ kind, contactId, data });
          return 'sent';
        },
        async readinessFor() {
          return 'ready';
        },
        async mailLanguage() {
          return 'en';
        },
        async sendToOwner() {
          return 0;
        },
      });
    }
    bind<LifecycleContribution>(LifecycleContribution).toDynamicValue((context) => {
      lockout = context.get<Lockout>(Lockout);
      notification = context.get<LockNotification>(LockNotification);
      return {};
    });
  });
  const plugin = new BusinessPortalLifecycle({}, { modules: [...coreModules, authModule, unlockModule, contactsModule, probe], demoSeeder: DemoAccountSeeder });
  try {
    await plugin.install(api);
    await plugin.activate(api);
    // Staff users have no password outside the demo: give one to a non-admin.
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
  } catch (error) {
    await test.stop();
    throw error;
  }
  const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
  const clerk = await crmLogin(test.url, CLERK, CLERK_PASSWORD);
  const url = test.url;

  const portalLogin = (email: string, password: string, ip?: string) =>
    fetch(`${url}/portal/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(ip ? { 'x-forwarded-for': ip } : {}) },
      body: JSON.stringify({ email, password }),
    });
  const sql = <T extends object>(text: string, replacements: Record<string, unknown> = {}) =>
    api.database.sequelize.query<T>(text, { type: QueryTypes.SELECT, replacements });
  const get = (path: string, cookie?: string) => fetch(`${url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  return {
    test,
    url,
    api,
    admin,
    clerk,
    lockout: lockout!,
    mails,
    mailsSettled: () => notification!.settled(),
    async addCustomer(values) {
      const contact = await api.records.create('Contacts', { values: { language: 'en', ...values } });
      await plugin.seedDemo(api, [{ contactId: contact.id, password: PORTAL_PASSWORD }]);
      return contact.id;
    },
    portalLogin,
    async addLockedInBulk(count, prefix) {
      const sequelize = api.database.sequelize;
      const contacts = sequelize.getQueryInterface().quoteIdentifier(test.host.registry.tableName('Contacts'));
      const now = new Date();
      const emails = Array.from({ length: count }, (_, i) => `${prefix}${i}@example.com`);
      for (let at = 0; at < count; at += 500) {
        const replacements: Record<string, unknown> = { now, prefix };
        const rows = emails.slice(at, at + 500).map((email, i) => {
          Object.assign(replacements, { [`l${i}`]: `${prefix}${at + i}`, [`e${i}`]: email });
          return `('Sprayed', :l${i}, :e${i}, 'en', :now, :now, 1)`;
        });
        await sequelize.query(`INSERT INTO ${contacts} (firstname, lastname, email, language, created_at, modified_at, version) VALUES ${rows.join(', ')}`, { replacements });
      }
      const found = await sql<{ id: unknown; email: string }>(`SELECT id, email FROM ${contacts} WHERE email LIKE :pattern`, { pattern: `${prefix}%@example.com` });
      const ids = new Map(found.map((row) => [row.email, Number(row.id)]));
      for (let at = 0; at < count; at += 500) {
        const replacements: Record<string, unknown> = { now };
        const rows = emails.slice(at, at + 500).map((email, i) => {
          Object.assign(replacements, { [`c${i}`]: ids.get(email), [`e${i}`]: email });
          return `(:c${i}, :e${i}, TRUE, FALSE, 5, :now, :now, '203.0.113.9', :now, :now, :now, 1)`;
        });
        await sequelize.query(
          `INSERT INTO bp_portal_accounts (contact_id, email, portal_enabled, must_change_password, failed_attempts, first_failed_at, last_failed_at, last_failed_ip, locked_at, created_at, updated_at, version) VALUES ${rows.join(', ')}`,
          { replacements },
        );
      }
      return emails.map((email) => ids.get(email)!);
    },
    async lock(email, ip) {
      for (let i = 0; i < 5; i++) {
        const response = await portalLogin(email, 'Wrong-password-1', ip);
        if (response.status !== 401) throw new Error(`A wrong password got HTTP ${response.status}`);
      }
    },
    async isLocked(contactId) {
      const [row] = await sql<{ locked_at: unknown }>('SELECT locked_at FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
      return row !== undefined && row.locked_at !== null;
    },
    sql,
    get,
    post(path, cookie, fields) {
      const body = new URLSearchParams();
      for (const [key, value] of Object.entries(fields)) for (const item of typeof value === 'string' ? [value] : value) body.append(key, item);
      return fetch(`${url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        body: body.toString(),
      });
    },
    async csrf(cookie) {
      const html = await (await get('/settings/business-portal/login-check', cookie)).text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
      if (token) return token;
      // No form on the page (nothing listed): the token is the same for every page of the session.
      throw new Error('The login-check page holds no CSRF token (nothing to act on?)');
    },
    async stop() {
      try {
        await notification?.settled();
        await plugin.deactivate();
      } finally {
        await test.stop();
      }
    },
  };
}

/** The token of the unlock link in a recorded lock mail. */
export function unlockTokenOf(mail: RecordedMail): string {
  const link = String(mail.data.portal?.unlockUrl ?? '');
  const token = new URL(link).searchParams.get('token');
  if (!token) throw new Error(`No token in the unlock link ${link}`);
  return token;
}

/** A POST's way back to the login-check page without the outcome's signature. */
export { unsigned } from '../support/admin-outcomes.js';
