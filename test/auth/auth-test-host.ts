/**
 * The plugin with its auth capability on the plugin test host (a real Express server on
 * loopback, a real scratch database): installed and activated through the plugin's lifecycle,
 * as a host does. The test host has no record store, so Contacts are served from memory by a
 * small stand-in of `HostRecords` (only `get`; anything else throws).
 *
 * A test module binds two hooks into the plugin's container: a `PasswordCheckListener` that
 * counts real and dummy password checks, and a lifecycle contribution that hands the test the
 * auth services the running plugin uses.
 */
import { ContainerModule } from 'inversify';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { CrmRecord, FieldValue, HostApi, HostRecords } from '../../plugin/host-contract/index.js';
import { authModule } from '../../plugin/auth/auth-module.js';
import { DemoAccountSeeder } from '../../plugin/auth/demo-accounts.js';
import { Lockout } from '../../plugin/auth/lockout.js';
import { LoginHistory } from '../../plugin/auth/login-history.js';
import { PasswordCheckListener, PasswordHasher } from '../../plugin/auth/password-hasher.js';
import { PortalAccountStore } from '../../plugin/auth/portal-account-store.js';
import { PortalSessions } from '../../plugin/auth/portal-sessions.js';
import { LifecycleContribution } from '../../plugin/lifecycle/contributions.js';
import { coreModules } from '../../plugin/lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from '../../plugin/lifecycle/plugin-lifecycle.js';
import { startPluginTestHost, type PluginTestHost } from '../plugin/plugin-test-host.js';

export const PASSWORD = 'Portal-demo-1';

export interface AuthServices {
  readonly lockout: Lockout;
  readonly accounts: PortalAccountStore;
  readonly sessions: PortalSessions;
  readonly history: LoginHistory;
  readonly hasher: PasswordHasher;
  readonly demo: DemoAccountSeeder;
}

export interface ContactValues {
  readonly firstname: string;
  readonly lastname: string;
  readonly email: string;
  readonly language: string;
  readonly account_id?: number;
}

export interface AuthTestHost {
  readonly test: PluginTestHost;
  readonly url: string;
  readonly portal: string;
  readonly sequelize: Sequelize;
  readonly services: AuthServices;
  /** Password checks the hasher ran since the start (or the last `resetChecks`). */
  readonly checks: { real: number; dummy: number };
  resetChecks(): void;
  /** Adds a CRM contact (in memory) and answers its id. */
  addContact(values: ContactValues): number;
  deleteContact(id: number): void;
  /** Adds a contact and makes it a portal user through the demo seeder. */
  addPortalUser(values: ContactValues, password?: string): Promise<number>;
  /** A SELECT's rows. */
  sql<T extends object>(sql: string, replacements?: Record<string, unknown>): Promise<T[]>;
  /** Runs a write (UPDATE, INSERT, DELETE) set up by a test. */
  exec(sql: string, replacements?: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

function contactsStandIn(contacts: Map<number, Readonly<Record<string, FieldValue>>>): HostRecords {
  const now = new Date().toISOString();
  const get = async (module: string, id: number): Promise<CrmRecord | null> => {
    if (module !== 'Contacts') throw new Error(`The auth test host only serves Contacts (asked for ${module})`);
    const values = contacts.get(id);
    return values ? { id, module, values, owner: null, createdAt: now, modifiedAt: now, version: 1 } : null;
  };
  return new Proxy({ get } as unknown as HostRecords, {
    get: (target, property) => {
      if (property === 'get') return get;
      if (property === 'then') return undefined;
      throw new Error(`The auth test host does not provide records.${String(property)}`);
    },
  });
}

export async function startAuthTestHost(): Promise<AuthTestHost> {
  const test = await startPluginTestHost();
  const contacts = new Map<number, Readonly<Record<string, FieldValue>>>();
  let nextContactId = 100;
  const host: HostApi = { ...test.host, records: contactsStandIn(contacts) };

  const checks = { real: 0, dummy: 0 };
  let services: AuthServices | null = null;
  const probe = new ContainerModule(({ bind }) => {
    bind<PasswordCheckListener>(PasswordCheckListener).toConstantValue({ passwordChecked: (kind) => void (checks[kind] += 1) });
    bind<LifecycleContribution>(LifecycleContribution).toDynamicValue((context) => {
      services = {
        lockout: context.get<Lockout>(Lockout),
        accounts: context.get<PortalAccountStore>(PortalAccountStore),
        sessions: context.get<PortalSessions>(PortalSessions),
        history: context.get<LoginHistory>(LoginHistory),
        hasher: context.get<PasswordHasher>(PasswordHasher),
        demo: context.get<DemoAccountSeeder>(DemoAccountSeeder),
      };
      return {};
    });
  });

  const plugin = new BusinessPortalLifecycle({}, { modules: [...coreModules, authModule, probe], demoSeeder: DemoAccountSeeder });
  await plugin.install(host);
  await plugin.activate(host);
  const sequelize = host.database.sequelize;

  const addContact = (values: ContactValues): number => {
    const id = nextContactId++;
    contacts.set(id, { ...values, account_id: values.account_id ?? null });
    return id;
  };

  return {
    test,
    url: test.url,
    portal: `${test.url}/portal`,
    sequelize,
    services: services!,
    checks,
    resetChecks: () => {
      checks.real = 0;
      checks.dummy = 0;
    },
    addContact,
    deleteContact: (id) => void contacts.delete(id),
    async addPortalUser(values, password = PASSWORD) {
      const id = addContact(values);
      await plugin.seedDemo(host, [{ contactId: id, password }]);
      return id;
    },
    sql: <T extends object>(sql: string, replacements: Record<string, unknown> = {}) =>
      sequelize.query<T>(sql, { type: QueryTypes.SELECT, replacements }),
    exec: async (sql: string, replacements: Record<string, unknown> = {}) => void (await sequelize.query(sql, { type: QueryTypes.RAW, replacements })),
    async stop() {
      await plugin.deactivate();
      await test.stop();
    },
  };
}

/** Calls the login API; answers the response (its body unread). */
export function login(
  host: AuthTestHost,
  body: unknown,
  options: { cookie?: string; contentType?: string; language?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.language) headers['accept-language'] = options.language;
  return fetch(`${host.portal}/api/v1/auth/login`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function me(host: AuthTestHost, cookie?: string): Promise<Response> {
  return fetch(`${host.portal}/api/v1/me`, { headers: cookie ? { cookie } : {} });
}

/** `bp_session=<token>` from a response's Set-Cookie, or null. */
export function sessionCookie(response: Response): string | null {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('bp_session='));
  if (!header) return null;
  const value = header.split(';')[0]!;
  return value === 'bp_session=' ? null : value;
}
