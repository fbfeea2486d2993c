/**
 * The reference host's composition root: one CRM (database, module registry, records, users,
 * templates, mail, rules, web pages) built from options, with the plugins of its manifests
 * loaded, installed and activated. `npm start` and the tests both start it through here.
 *
 * `createReferenceHost` opens the database and brings the host's schema up to date (the registry
 * reads its metadata as it opens); `start` seeds and starts the plugins; `listen` serves HTTP.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import { HOST_API_VERSION, type HostApi, type InstallOrigin, type Unsubscribe } from '../plugin/host-contract/index.js';
import { SqlCrmSessions } from './auth/crm-sessions.js';
import { CsrfTokens } from './auth/csrf-tokens.js';
import { loginRoutes } from './auth/login-routes.js';
import { loadOrCreateSecret } from './config.js';
import { seedStandardRules } from './conditional-rules/standard-rules.js';
import { SqlConditionalRules } from './conditional-rules/rule-service.js';
import { DATABASE_WAIT_MS, openDatabase, SQLITE_LOCK_WAIT_MS } from './database.js';
import { seedStandardTemplates } from './email-templates/standard-templates.js';
import { SqlEmailTemplates } from './email-templates/template-service.js';
import { LineLogger, type LogLevel } from './logging/line-logger.js';
import { MailOutbox } from './mail/mail-outbox.js';
import { MailQueue } from './mail/mail-queue.js';
import { SmtpMail } from './mail/smtp-mail.js';
import { HostSettingsTable, StoredInstallation, StoredLicences } from './plugins/installation-settings.js';
import { PluginLoader } from './plugins/plugin-loader.js';
import { SqlRecordStore } from './records/record-store.js';
import { SqlModuleRegistry } from './registry/module-registry.js';
import { seedStandardModules } from './registry/standard-modules.js';
import { migrateHost, withSetupLock } from './schema/migrate.js';
import { seedBaseUsers } from './users/base-users.js';
import { CrmLoginLockout } from './users/login-lockout.js';
import { SqlUserDirectory } from './users/user-directory.js';
import { contactChangePages } from './web/contact-change-pages.js';
import { crmPages } from './web/crm-pages.js';
import { WebHostHttp } from './web/host-http.js';
import { modulePages } from './web/module-pages.js';
import { ticketPages } from './web/ticket-pages.js';
import { PageRenderer } from './web/page-renderer.js';
import { FixedRegional } from './web/regional.js';
import { InMemoryRecordBlocks } from './web/record-blocks.js';
import { InMemorySettingsMenu } from './web/settings-menu.js';
import { InFlightRequests } from './web/in-flight.js';
import { DatabaseReadiness } from './web/readiness.js';
import { createWebApp } from './web/web-app.js';

/** The repository's own plugin: the Business Portal. */
export const DEFAULT_PLUGIN_MANIFEST = fileURLToPath(new URL('../manifest.json', import.meta.url));
const SESSION_PURGE_MS = 60 * 60_000;
/** How often each process looks for queued mail due to be tried again. */
const MAIL_RETRY_MS = 30_000;
/** How long a shutdown waits for the requests in flight before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface ReferenceHostOptions {
  readonly databaseUrl: string;
  /** Where the host keeps its files: uploaded documents (`files/`) and, when no sessionSecret is given, `secret`. */
  readonly dataDir: string;
  readonly port?: number;
  readonly baseUrl?: string;
  readonly smtpUrl?: string;
  readonly sessionSecret?: string;
  readonly adminPassword?: string;
  readonly demo?: boolean;
  readonly portalPath?: string;
  readonly licences?: readonly string[];
  readonly installOrigin?: InstallOrigin;
  /** Default: the repository's manifest.json. */
  readonly pluginManifests?: readonly string[];
  readonly logLevel?: LogLevel;
  /** How often to pick up module registry changes other processes made (default 2000; 0: never). */
  readonly watchRegistryMs?: number;
  /** The CRM's time zone (IANA name; default Europe/Rome). */
  readonly timeZone?: string;
  /** How long to wait for a PostgreSQL or MariaDB server before a statement fails (default `DATABASE_WAIT_MS`, 30000 ms), or for SQLite's write lock (default `SQLITE_LOCK_WAIT_MS`, 10000 ms). */
  readonly databaseWaitMs?: number;
  /** How long `close()` waits for the requests in flight and its timers' runs under way (default 10000 ms). */
  readonly shutdownGraceMs?: number;
  /** How often to look for queued mail due to be tried again (default 30000; 0: never, the mail waits for another process). */
  readonly mailRetryMs?: number;
  /** How long a CRM user stays locked after five failed sign-ins, unless unlocked before (default `CRM_LOCK_MS`, 15 minutes). */
  readonly crmLockMs?: number;
}

export interface ReferenceHost {
  readonly app: Express;
  readonly api: HostApi;
  readonly registry: SqlModuleRegistry;
  readonly records: SqlRecordStore;
  readonly plugins: PluginLoader;
  readonly options: ReferenceHostOptions;
  /** Seeds standard modules and base data, then loads, installs and activates the plugins. */
  start(): Promise<void>;
  /** Port 0 = any free port. */
  listen(port?: number): Promise<{ readonly url: string }>;
  /** Requests the host is still answering, also those whose client has gone (a test waits for them to finish). */
  requestsInFlight(): number;
  /**
   * Stops its timers and accepting connections, waits for the requests in flight and the timers'
   * runs under way (up to `shutdownGraceMs`, then cuts the connections), then deactivates the
   * plugins (which wait for their own background work) and closes the database.
   */
  close(): Promise<void>;
}

function derivedKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(purpose).digest();
}

function senderHost(baseUrl: string | undefined): string {
  try {
    return baseUrl ? new URL(baseUrl).hostname : 'localhost';
  } catch {
    return 'localhost';
  }
}

export async function createReferenceHost(options: ReferenceHostOptions): Promise<ReferenceHost> {
  const logger = new LineLogger(options.logLevel ?? 'info');
  const secret = options.sessionSecret ?? loadOrCreateSecret(options.dataDir);
  if (secret.length < 32) throw new Error('The session secret must have at least 32 characters');
  const regional = new FixedRegional(options.timeZone);

  const db = await openDatabase(options.databaseUrl, { waitMs: options.databaseWaitMs ?? (options.databaseUrl.startsWith('sqlite:') ? SQLITE_LOCK_WAIT_MS : DATABASE_WAIT_MS) });
  const { sequelize } = db;
  let registry: SqlModuleRegistry;
  try {
    await migrateHost(sequelize, db.dialect);
    registry = await SqlModuleRegistry.open(db, logger);
  } catch (error) {
    await sequelize.close();
    throw error;
  }
  const records = new SqlRecordStore(db, registry, join(options.dataDir, 'files'));

  const users = new SqlUserDirectory(sequelize);
  const sessions = new SqlCrmSessions(sequelize, users);
  const csrf = new CsrfTokens(derivedKey(secret, 'crm-csrf'));
  const http = new WebHostHttp(sessions, csrf, new PageRenderer(), regional, {
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const outbox = new MailOutbox(sequelize);
  const mailQueue = new MailQueue(sequelize);
  const mail = new SmtpMail(sequelize, outbox, mailQueue, logger, {
    ...(options.smtpUrl ? { smtpUrl: options.smtpUrl } : {}),
    sender: { address: `crm@${senderHost(options.baseUrl)}`, name: 'Reference CRM' },
  });
  const settings = new HostSettingsTable(sequelize);
  const installation = new StoredInstallation(settings, derivedKey(secret, 'plugin-secrets'));
  const licences = new StoredLicences(settings);
  const settingsMenu = new InMemorySettingsMenu();
  const recordBlocks = new InMemoryRecordBlocks();

  const api: HostApi = Object.freeze({
    apiVersion: HOST_API_VERSION,
    http,
    database: Object.freeze({ sequelize, dialect: db.dialect }),
    settingsMenu,
    recordBlocks,
    modules: registry,
    records,
    users,
    emailTemplates: new SqlEmailTemplates(sequelize),
    mail,
    conditionalRules: new SqlConditionalRules(sequelize),
    regional,
    licences,
    installation,
    logger,
  });
  const plugins = new PluginLoader(sequelize, api, logger, options.portalPath ? { portalPath: options.portalPath } : {});

  let started = false;
  let closed = false;
  let server: Server | undefined;
  const timers: Unsubscribe[] = [];
  const inFlight = new InFlightRequests();
  const readiness = new DatabaseReadiness(sequelize);

  const app = createWebApp({
    http,
    logger,
    started: () => started,
    inFlight,
    databaseReady: () => readiness.ready(),
    routers: [
      loginRoutes({ http, users, lockout: new CrmLoginLockout(sequelize, options.crmLockMs), sessions, csrf, logger }),
      crmPages({ http, modules: registry, records, settingsMenu, recordBlocks, outbox, mailQueue, smtpConfigured: Boolean(options.smtpUrl), csrf, logger }),
      contactChangePages({ http, modules: registry, records, csrf }),
      ticketPages({ http, modules: registry, records, csrf, timeZone: regional.timeZone() }),
      modulePages({ http, modules: registry }),
    ],
  });

  return {
    app,
    api,
    registry,
    records,
    plugins,
    options,

    async start() {
      if (started) return;
      if (closed) throw new Error('This host was closed');
      let generatedAdminPassword: string | undefined;
      // One process at a time: several starting together on an empty database would each seed.
      await withSetupLock(sequelize, async () => {
        await seedStandardModules(registry);
        ({ generatedAdminPassword } = await seedBaseUsers(sequelize, {
          demo: options.demo ?? false,
          ...(options.adminPassword ? { adminPassword: options.adminPassword } : {}),
        }));
        await seedStandardTemplates(sequelize);
        await seedStandardRules(sequelize);
        await installation.load(options.installOrigin);
        await licences.configure(options.licences);
      });
      if (generatedAdminPassword) {
        // Shown once, on purpose not through the logger (logs never carry passwords).
        process.stdout.write(`\nThe CRM admin was created: user "admin", password "${generatedAdminPassword}". It is shown only this once.\n\n`);
      }

      const watchMs = options.watchRegistryMs ?? 2000;
      // What these timers start counts as in flight: a shutdown waits for it as for a request.
      if (watchMs > 0) timers.push(registry.watch(watchMs, (run) => void inFlight.background(run)));
      /** Runs `work` every `ms` off the request path (counted in flight, so a shutdown waits for it); a failure is logged as `failure`. */
      const every = (ms: number, work: () => Promise<unknown>, failure: string) => {
        const timer = setInterval(() => {
          void inFlight.background(work().catch((error: unknown) => logger.warn(failure, { error: String(error) })));
        }, ms);
        timer.unref();
        timers.push(() => clearInterval(timer));
      };
      await sessions.purgeExpired();
      every(SESSION_PURGE_MS, () => sessions.purgeExpired(), 'Purging expired CRM sessions failed');
      const mailRetryMs = options.mailRetryMs ?? MAIL_RETRY_MS;
      // Mail a server refused for the moment, this process's or another's (one that stopped, too).
      if (mailRetryMs > 0) every(mailRetryMs, () => mail.retryDue(), 'Trying queued mail again failed');

      for (const manifest of options.pluginManifests ?? [DEFAULT_PLUGIN_MANIFEST]) await plugins.start(manifest);
      started = true;
      logger.info('Reference host started', { plugins: plugins.list().length });
    },

    requestsInFlight: () => inFlight.size,

    async listen(port) {
      if (server) throw new Error('The host is listening already');
      const listening = app.listen(port ?? options.port ?? 3000);
      server = listening;
      await new Promise<void>((resolve, reject) => {
        listening.once('listening', resolve);
        listening.once('error', reject);
      });
      const bound = (listening.address() as AddressInfo).port;
      http.setBoundPort(bound);
      return { url: `http://127.0.0.1:${bound}` };
    },

    async close() {
      if (closed) return;
      closed = true;
      started = false;
      // Requests in flight (also those whose client has gone: a login still checks its password and
      // writes its history) finish before the plugins stop and the database closes under them; so
      // does a run of the host's own timers (session purge, registry sync), within the same bound
      // (`shutdownGraceMs`). The timers stop first, so that none starts another run meanwhile.
      for (const stop of timers.splice(0)) stop();
      const serverClosed = server
        ? new Promise<void>((resolve) => {
            server!.close(() => resolve());
          })
        : Promise.resolve();
      const finished = await inFlight.drain(options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS);
      if (!finished) logger.warn('Stopping with requests still unanswered or background runs still under way', { requests: inFlight.size, runs: inFlight.running });
      server?.closeAllConnections();
      await serverClosed;
      await plugins.stopAll();
      mail.close();
      await sequelize.close();
    },
  };
}
