/**
 * The smallest host the plugin's own suites need, until and beside the reference host: a real
 * Express server on loopback and a real scratch database, a settings menu that keeps its
 * entries, CRM sessions picked by a `test_crm` cookie, and a logger that records. Members of the
 * contract these suites never reach throw when used, so a test cannot pass by accident.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseCookies } from 'cookie';
import express, { type Router } from 'express';
import type { ContainerModule } from 'inversify';
import { openDatabase } from '../../host/database.js';
import {
  HOST_API_VERSION,
  type CrmUser,
  type HostApi,
  type HostSettingsMenu,
  type InstallOrigin,
  type LogFields,
  type RecordBlock,
  type SettingsMenuEntry,
} from '../../plugin/host-contract/index.js';
import { coreModules } from '../../plugin/lifecycle/plugin-container.js';
import { BusinessPortalLifecycle } from '../../plugin/lifecycle/plugin-lifecycle.js';
import { scratchDatabase, type ScratchDatabase } from '../support/database.js';

export const CRM_COOKIE = 'test_crm';

export function crmUser(overrides: Partial<CrmUser> & { id: number }): CrmUser {
  return {
    userName: `user${overrides.id}`,
    firstName: 'Test',
    lastName: 'User',
    email: `user${overrides.id}@example.com`,
    active: true,
    isAdmin: false,
    language: 'en',
    roleId: null,
    ...overrides,
  };
}

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly fields?: LogFields;
}

export interface PluginTestHost {
  readonly host: HostApi;
  readonly url: string;
  readonly scratch: ScratchDatabase;
  readonly logs: LogEntry[];
  readonly menuEntries: () => readonly SettingsMenuEntry[];
  /** The cookie header of a CRM session of this user (users are registered with `addUser`). */
  sessionCookie(userId: number): string;
  addUser(user: CrmUser): void;
  setOrigin(origin: InstallOrigin): void;
  tableNames(): Promise<string[]>;
  stop(): Promise<void>;
}

function unavailable<T extends object>(member: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      if (property === 'then') return undefined;
      throw new Error(`The plugin test host does not provide ${member}.${String(property)}`);
    },
  });
}

export async function startPluginTestHost(): Promise<PluginTestHost> {
  const scratch = await scratchDatabase();
  const db = await openDatabase(scratch.url);
  const app = express();
  const logs: LogEntry[] = [];
  const users = new Map<number, CrmUser>();
  const sessions = new Map<string, number>();
  let origin: InstallOrigin = { kind: 'fresh' };
  const secret = randomBytes(32);

  const mounts = express.Router();
  app.use(mounts);

  const entries: SettingsMenuEntry[] = [];
  const blocks: RecordBlock[] = [];
  const settingsMenu: HostSettingsMenu = {
    register(entry) {
      if (entries.some((e) => e.id === entry.id)) throw new Error(`Duplicate settings entry ${entry.id}`);
      entries.push(entry);
      return () => {
        const at = entries.indexOf(entry);
        if (at >= 0) entries.splice(at, 1);
      };
    },
    entries: () => [...entries],
  };

  const log = (level: string) => (message: string, fields?: LogFields) => void logs.push({ level, message, fields });

  const host: HostApi = {
    apiVersion: HOST_API_VERSION,
    http: {
      mount(path: string, router: Router) {
        let mounted = true;
        mounts.use(path, (req, res, next) => (mounted ? router(req, res, next) : next()));
        return () => {
          mounted = false;
        };
      },
      async crmSession(req) {
        const id = req.headers.cookie ? parseCookies(req.headers.cookie)[CRM_COOKIE] : undefined;
        const userId = id ? sessions.get(id) : undefined;
        const user = userId === undefined ? undefined : users.get(userId);
        return user ? { user, sessionId: id! } : null;
      },
      loginUrl: (returnTo) => `/login?returnTo=${encodeURIComponent(returnTo)}`,
      publicUrl: (path) => `https://crm.example.com${path}`,
      async sendCrmPage(_req, res, page) {
        res
          .status(page.status ?? 200)
          .type('html')
          .send(`<!doctype html><html><head><title>${page.title.replace(/[<&]/g, '')}</title>${page.headHtml ?? ''}</head><body><main>${page.bodyHtml}</main></body></html>`);
      },
    },
    database: { sequelize: db.sequelize, dialect: db.dialect },
    settingsMenu,
    recordBlocks: {
      register(block) {
        blocks.push(block);
        return () => {
          const at = blocks.indexOf(block);
          if (at >= 0) blocks.splice(at, 1);
        };
      },
      blocksFor: (module) => blocks.filter((b) => b.module === module).sort((a, b) => a.order - b.order),
    },
    modules: {
      ...unavailable<HostApi['modules']>('modules'),
      // A CRM without modules: nothing is portal-eligible, nothing is listed as not eligible.
      modules: () => [],
      module: () => undefined,
      relations: () => [],
      // Nothing registers here: listeners may subscribe and hear nothing.
      on: () => () => undefined,
    } as HostApi['modules'],
    // No records change here: listeners may subscribe (the contacts capability does) and hear nothing.
    records: new Proxy(unavailable<HostApi['records']>('records'), {
      get: (target, property) => (property === 'on' ? () => () => undefined : Reflect.get(target, property)),
    }),
    users: unavailable('users'),
    emailTemplates: unavailable('emailTemplates'),
    mail: unavailable('mail'),
    conditionalRules: unavailable('conditionalRules'),
    regional: {
      languages: () => [
        { code: 'en', name: 'English' },
        { code: 'it', name: 'Italiano' },
      ],
      defaultLanguage: () => 'en',
      timeZone: () => 'Europe/Rome',
    },
    licences: { has: async () => true },
    installation: { origin: () => origin, pluginSecret: () => secret },
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  };

  app.get('/login', (_req, res) => void res.type('text').send('CRM login'));
  app.use((_req, res) => void res.status(404).type('text').send('host 404'));

  const server: Server = await new Promise((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  const { port } = server.address() as AddressInfo;

  return {
    host,
    url: `http://127.0.0.1:${port}`,
    scratch,
    logs,
    menuEntries: () => settingsMenu.entries(),
    sessionCookie(userId) {
      const id = randomBytes(16).toString('hex');
      sessions.set(id, userId);
      return `${CRM_COOKIE}=${id}`;
    },
    addUser: (user) => void users.set(user.id, user),
    setOrigin: (next) => void (origin = next),
    async tableNames() {
      const names = (await db.sequelize.getQueryInterface().showAllTables()) as unknown[];
      return names.map((n) => (typeof n === 'string' ? n : (n as { tableName: string }).tableName)).sort();
    },
    async stop() {
      await new Promise<void>((ok) => server.close(() => ok()));
      await db.sequelize.close();
      await scratch.drop();
    },
  };
}

/** The plugin with its core capabilities (and any extra test modules), as the entry point builds it. */
export function corePlugin(options: { rootDir?: string; portalPath?: string } = {}, extra: readonly ContainerModule[] = []): BusinessPortalLifecycle {
  return new BusinessPortalLifecycle(options, { modules: [...coreModules, ...extra] });
}
