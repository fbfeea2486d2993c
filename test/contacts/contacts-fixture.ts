/**
 * A reference host for the Contact block suites: real Express server, real scratch database, real
 * CRM login and Contact pages, a real SMTP server on loopback (the host's global mail server), and
 * the plugin's capabilities as its entry point composes them (core, auth, access, unlock,
 * contacts) installed and activated through the plugin's
 * lifecycle on the host's API, as the plugin loader does. It exposes the reminder sweep and the
 * contact listeners for the tests that call them with a given day, and every log line the plugin
 * wrote (to check that no password is ever logged).
 */
import { ContainerModule } from 'inversify';
import type { ParsedMail } from 'mailparser';
import { QueryTypes } from 'sequelize';
import type { ReferenceHostOptions } from '../../host/reference-host.js';
import { hashPassword } from '../../host/users/password-hash.js';
import { accessModule } from '../../plugin/access/access-module.js';
import { authModule } from '../../plugin/auth/auth-module.js';
import { unlockModule } from '../../plugin/auth/unlock-module.js';
import { DemoAccountSeeder } from '../../plugin/auth/demo-accounts.js';
import { contactsModule } from '../../plugin/contacts/contacts-module.js';
import { ContactRecordListeners } from '../../plugin/contacts/contact-record-listeners.js';
import { DatabaseSupportReminders, SupportReminders } from '../../plugin/contacts/support-reminders.js';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { DeactivationDeadline } from '../../plugin/lifecycle/background-work.js';
import { LifecycleContribution } from '../../plugin/lifecycle/contributions.js';
import { coreModules } from '../../plugin/lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from '../../plugin/lifecycle/plugin-lifecycle.js';
import { PortalMailer } from '../../plugin/notifications/portal-mailer.js';
import { TEST_ADMIN_PASSWORD, crmLogin, startTestHost, type TestHost } from '../support/host.js';
import { startMailbox, type Mailbox } from '../sign-in/sign-in-fixture.js';

export const CLERK = 'tom.support';
const CLERK_PASSWORD = 'Clerk-test-1';
export const XSS = '<script>alert("xss")</script>';

export interface LoggedLine {
  readonly level: string;
  readonly message: string;
  readonly fields: string;
}

export interface ContactsHost {
  readonly test: TestHost;
  readonly url: string;
  readonly api: HostApi;
  readonly mailbox: Mailbox;
  /** Cookie headers of CRM sessions: the admin (Ada Admin) and a non-admin user. */
  readonly admin: string;
  readonly clerk: string;
  readonly reminders: SupportReminders;
  readonly listeners: ContactRecordListeners;
  /** The plugin's mailer, as its services get it (the host's global mail server is `mailbox`). */
  readonly mailer: PortalMailer;
  /** A second, independent sweeper on the same database (as another host process would run); `sendToContact` replaces its mailer's. */
  otherProcessReminders(sendToContact?: PortalMailer['sendToContact']): SupportReminders;
  readonly logs: LoggedLine[];
  addContact(values: Record<string, string>): Promise<number>;
  contactPage(contactId: number, cookie?: string): Promise<{ status: number; html: string }>;
  /** The CSRF token in the contact page's portal-user form. */
  formToken(contactId: number, cookie?: string): Promise<{ token: string; version: string }>;
  /** Posts the portal-user form of a contact; the token and version come from its page unless given. */
  savePortalUser(contactId: number, fields: Record<string, string>, options?: { cookie?: string; csrf?: string | null }): Promise<{ status: number; html: string }>;
  portalLogin(email: string, password: string): Promise<{ status: number; cookie: string | null }>;
  me(cookie: string): Promise<number>;
  /** The status of a data route (`GET /api/v1/modules`): 403 while the generated password must still be changed (`/me` answers then). */
  modules(cookie: string): Promise<number>;
  changePassword(cookie: string, currentPassword: string, newPassword: string): Promise<{ status: number; cookie: string | null }>;
  account(contactId: number): Promise<Record<string, unknown> | undefined>;
  sql<T extends object>(sql: string, replacements?: Record<string, unknown>): Promise<T[]>;
  stop(): Promise<void>;
}

function sessionCookieOf(response: Response): string | null {
  for (const header of response.headers.getSetCookie()) {
    const match = /^bp_session=([^;]+)/.exec(header);
    if (match && match[1] !== '') return `bp_session=${match[1]}`;
  }
  return null;
}

export function passwordIn(mail: ParsedMail): string {
  const password = /Password: (\S+)/.exec(mail.text ?? '')?.[1];
  if (!password) throw new Error('The mail holds no password');
  return password;
}

/** `options` go to the reference host, e.g. `installOrigin` for an install upgraded from version 1. */
export async function startContactsHost(options: Partial<ReferenceHostOptions> = {}): Promise<ContactsHost> {
  const mailbox = await startMailbox();
  let test: TestHost;
  try {
    test = await startTestHost({ pluginManifests: [], smtpUrl: mailbox.url, ...options });
  } catch (error) {
    await mailbox.close();
    throw error;
  }
  const api = test.host.api;
  const logs: LoggedLine[] = [];
  const realLogger = api.logger;
  const recordingLogger = Object.fromEntries(
    (['debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (message: string, fields?: object) => {
        logs.push({ level, message, fields: JSON.stringify(fields ?? {}) });
        realLogger[level](message, fields as never);
      },
    ]),
  ) as unknown as HostApi['logger'];
  const pluginApi: HostApi = { ...api, logger: recordingLogger };

  let reminders: SupportReminders | null = null;
  let listeners: ContactRecordListeners | null = null;
  let mailer: PortalMailer | null = null;
  const probe = new ContainerModule(({ bind }) => {
    bind<LifecycleContribution>(LifecycleContribution).toDynamicValue((context) => {
      reminders = context.get<SupportReminders>(SupportReminders);
      listeners = context.get<ContactRecordListeners>(ContactRecordListeners);
      mailer = context.get<PortalMailer>(PortalMailer);
      return {};
    });
  });
  const plugin = new BusinessPortalLifecycle({}, { modules: [...coreModules, authModule, accessModule, unlockModule, contactsModule, probe], demoSeeder: DemoAccountSeeder });
  try {
    await plugin.install(pluginApi);
    await plugin.activate(pluginApi);
    await api.database.sequelize.query('UPDATE crm_users SET password_hash = :hash WHERE user_name = :name', {
      replacements: { hash: await hashPassword(CLERK_PASSWORD), name: CLERK },
    });
  } catch (error) {
    await test.stop();
    await mailbox.close();
    throw error;
  }
  const admin = await crmLogin(test.url, 'admin', TEST_ADMIN_PASSWORD);
  const clerk = await crmLogin(test.url, CLERK, CLERK_PASSWORD);
  const url = test.url;

  const contactPage = async (contactId: number, cookie = admin) => {
    const response = await fetch(`${url}/contacts/${contactId}`, { redirect: 'manual', headers: { cookie } });
    return { status: response.status, html: await response.text() };
  };
  const formToken = async (contactId: number, cookie = admin) => {
    const { html } = await contactPage(contactId, cookie);
    const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
    const token = /name="_csrf" value="([^"]+)"/.exec(form)?.[1];
    const version = /name="version" value="(\d+)"/.exec(form)?.[1];
    if (!token || !version) throw new Error('The contact page has no portal-user form');
    return { token, version };
  };
  const sql = <T extends object>(text: string, replacements: Record<string, unknown> = {}) =>
    api.database.sequelize.query<T>(text, { type: QueryTypes.SELECT, replacements });

  return {
    test,
    url,
    api,
    mailbox,
    admin,
    clerk,
    reminders: reminders!,
    listeners: listeners!,
    mailer: mailer!,
    otherProcessReminders(sendToContact) {
      const own: PortalMailer = Object.create(mailer!) as PortalMailer;
      if (sendToContact) own.sendToContact = sendToContact;
      return new DatabaseSupportReminders(api.database, api.regional, recordingLogger, own, new DeactivationDeadline());
    },
    logs,
    async addContact(values) {
      const contact = await api.records.create('Contacts', { values: { language: 'en', ...values } });
      return contact.id;
    },
    contactPage,
    formToken,
    async savePortalUser(contactId, fields, options = {}) {
      const cookie = options.cookie ?? admin;
      const form = options.csrf === undefined || !('version' in fields) ? await formToken(contactId).catch(() => ({ token: '', version: '0' })) : null;
      const body = new URLSearchParams({
        portalUser: 'yes',
        profileId: '',
        supportStartDate: '',
        supportEndDate: '',
        version: form?.version ?? '0',
        ...fields,
      });
      const csrf = options.csrf === undefined ? form!.token : options.csrf;
      if (csrf !== null) body.set('_csrf', csrf);
      const response = await fetch(`${url}/settings/business-portal/contacts/${contactId}/portal-user`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: body.toString(),
      });
      return { status: response.status, html: await response.text() };
    },
    async portalLogin(email, password) {
      const response = await fetch(`${url}/portal/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      await response.text();
      return { status: response.status, cookie: sessionCookieOf(response) };
    },
    async me(cookie) {
      const response = await fetch(`${url}/portal/api/v1/me`, { headers: { cookie } });
      await response.text();
      return response.status;
    },
    async modules(cookie) {
      const response = await fetch(`${url}/portal/api/v1/modules`, { headers: { cookie } });
      await response.text();
      return response.status;
    },
    async changePassword(cookie, currentPassword, newPassword) {
      const response = await fetch(`${url}/portal/api/v1/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ currentPassword, newPassword, confirmPassword: newPassword }),
      });
      await response.text();
      return { status: response.status, cookie: sessionCookieOf(response) };
    },
    async account(contactId) {
      const rows = await sql<Record<string, unknown>>('SELECT * FROM bp_portal_accounts WHERE contact_id = :contactId', { contactId });
      return rows[0];
    },
    sql,
    async stop() {
      try {
        await plugin.deactivate();
      } finally {
        try {
          await test.stop();
        } finally {
          await mailbox.close();
        }
      }
    },
  };
}
