/**
 * A reference host for the sign-in suites, with a real SMTP server on loopback that keeps every
 * mail it receives, and helpers to make portal accounts through the plugin's own store, to read
 * pages with their cookies and form tokens, and to wait for mail.
 */
import type { ParsedMail } from 'mailparser';
import { DataTypes, QueryTypes, type Sequelize } from 'sequelize';
import { ScryptPasswordHasher } from '../../plugin/auth/password-hasher.js';
import { SequelizePortalAccountStore } from '../../plugin/auth/portal-account-store.js';
import type { ReferenceHostOptions } from '../../host/reference-host.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { startScriptedSmtp } from '../support/scripted-smtp.js';

export interface Mailbox {
  readonly received: ParsedMail[];
  /** Waits for a mail to `to` (and matching `subject` if given) that arrived after `since` mails. */
  waitFor(to: string, options?: { subject?: RegExp; since?: number; timeoutMs?: number }): Promise<ParsedMail>;
  close(): Promise<void>;
  readonly url: string;
}

export async function startMailbox(): Promise<Mailbox> {
  const server = await startScriptedSmtp();
  const received = server.received as ParsedMail[];
  const addressOf = (mail: ParsedMail) => (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => v.address?.toLowerCase()));
  return {
    url: server.url,
    received,
    async waitFor(to, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 5000);
      for (;;) {
        const found = received.slice(options.since ?? 0).find((mail) => addressOf(mail).includes(to.toLowerCase()) && (!options.subject || options.subject.test(mail.subject ?? '')));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`No mail to ${to} arrived`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () => server.close(),
  };
}

export interface SignInHost {
  readonly test: TestHost;
  readonly url: string;
  readonly portal: string;
  readonly mailbox: Mailbox;
  readonly sequelize: Sequelize;
  /** A CRM contact with a portal account; answers the contact id. */
  addCustomer(customer: {
    email: string;
    password: string;
    language?: 'en' | 'it';
    firstname?: string;
    mustChangePassword?: boolean;
    profileId?: number | null;
  }): Promise<number>;
  /** A portal profile asking for an email code after the password; answers its id. */
  twoFactorProfile(): Promise<number>;
  sql<T extends object>(sql: string, replacements?: Record<string, unknown>): Promise<T[]>;
  exec(sql: string, replacements?: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startSignInHost(options: Partial<ReferenceHostOptions> = {}): Promise<SignInHost> {
  const mailbox = await startMailbox();
  let test: TestHost;
  try {
    test = await startTestHost({ smtpUrl: mailbox.url, ...options });
  } catch (error) {
    await mailbox.close();
    throw error;
  }
  const database = test.host.api.database;
  const sequelize = database.sequelize;
  const accounts = new SequelizePortalAccountStore(database);
  const hasher = new ScryptPasswordHasher();
  let profile: number | null = null;
  return {
    test,
    url: test.url,
    portal: `${test.url}/portal`,
    mailbox,
    sequelize,
    async addCustomer(customer) {
      const contact = await test.host.records.create('Contacts', {
        values: { firstname: customer.firstname ?? 'Test', lastname: 'Customer', email: customer.email, language: customer.language ?? 'en' },
      });
      await accounts.create({
        contactId: contact.id,
        email: customer.email,
        portalEnabled: true,
        profileId: customer.profileId ?? null,
        language: customer.language ?? 'en',
        passwordHash: await hasher.hash(customer.password),
        mustChangePassword: customer.mustChangePassword ?? false,
      });
      return contact.id;
    },
    async twoFactorProfile() {
      if (profile !== null) return profile;
      // The profiles capability adds this column; add it here when its migration is not there.
      const columns = await sequelize.getQueryInterface().describeTable('bp_profiles');
      if (!('two_factor_type' in columns)) {
        await sequelize.getQueryInterface().addColumn('bp_profiles', 'two_factor_type', { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'none' });
      }
      const now = new Date();
      await sequelize.query(
        `INSERT INTO bp_profiles (name, description, is_default, created_at, updated_at, version) VALUES ('Two-factor', '', :no, :now, :now, 1)`,
        { replacements: { no: false, now } },
      );
      const [row] = await sequelize.query<{ id: unknown }>(`SELECT id FROM bp_profiles WHERE name = 'Two-factor'`, { type: QueryTypes.SELECT });
      profile = Number(row!.id);
      await sequelize.query(`UPDATE bp_profiles SET two_factor_type = 'email' WHERE id = :id`, { replacements: { id: profile } });
      return profile;
    },
    sql: <T extends object>(query: string, replacements: Record<string, unknown> = {}) => sequelize.query<T>(query, { type: QueryTypes.SELECT, replacements }),
    exec: async (query: string, replacements: Record<string, unknown> = {}) => void (await sequelize.query(query, { replacements })),
    async stop() {
      try {
        await test.stop();
      } finally {
        await mailbox.close();
      }
    },
  };
}

/** A browser without a browser: keeps cookies per name, reads form tokens, posts forms. */
export class PortalClient {
  readonly cookies = new Map<string, string>();

  constructor(
    private readonly portal: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ response: Response; html: string }> {
    const response = await fetch(`${this.portal}${path}`, { redirect: 'manual', headers: { ...this.headers, cookie: this.cookieHeader(), ...headers } });
    this.keep(response);
    return { response, html: await response.text() };
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ response: Response; html: string }> {
    const response = await fetch(`${this.portal}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookieHeader(), ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    this.keep(response);
    return { response, html: await response.text() };
  }

  async api(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(`${this.portal}/api/v1${path}`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json', cookie: this.cookieHeader(), ...headers },
      body: JSON.stringify(body),
    });
    this.keep(response);
    return response;
  }

  /** Loads a page and posts its form with the page's CSRF token. */
  async submit(pagePath: string, action: string, fields: Record<string, string>): Promise<{ response: Response; html: string }> {
    const { html } = await this.get(pagePath);
    return this.post(action, { _csrf: tokenIn(html), ...fields });
  }

  async signIn(email: string, password: string): Promise<{ response: Response; html: string }> {
    return this.submit('/login', '/login', { email, password });
  }
}

export function tokenIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('The page has no CSRF token');
  return token;
}

/** The reset link's token in a recovery mail. */
export function resetTokenIn(mail: ParsedMail): string {
  const token = /reset-password\?token=([A-Za-z0-9_-]{43})/.exec(mail.text ?? '')?.[1];
  if (!token) throw new Error('The mail has no reset link');
  return token;
}

export function codeIn(mail: ParsedMail): string {
  const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
  if (!code) throw new Error('The mail has no code');
  return code;
}
