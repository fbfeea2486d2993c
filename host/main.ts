/**
 * `npm start`: the reference CRM with the Business Portal installed (and, in the demo, the demo
 * data and logins), configured from the environment (see host/config.ts).
 */
import { AccessDeniedError, ConnectionError, ConnectionRefusedError, ConnectionTimedOutError, HostNotFoundError, HostNotReachableError } from 'sequelize';
import { ConfigError, readConfig } from './config.js';
import { PluginRefusedError } from './plugins/plugin-loader.js';
import { DemoRefusedError, seedDemoData } from './demo/demo-data.js';
import { SetupLockBusyError, SetupLockLostError } from './schema/migrate.js';
import { createReferenceHost, type ReferenceHost, type ReferenceHostOptions } from './reference-host.js';

/** The signal that asked the CRM to stop, once one has. */
let stopRequested: string | null = null;

async function main(): Promise<void> {
  const options = readConfig();
  let host: ReferenceHost | undefined;
  let startup: Promise<void> = Promise.resolve();
  const stop = (signal: string) => {
    if (stopRequested) return;
    stopRequested = signal;
    console.log(`\n${signal}: stopping the CRM…`);
    // A start under way finishes its step first: migrations, seeds and the plugin's install each
    // hold a lock row that other processes wait for. Closing the database under them (or a
    // signal before these handlers existed) left the row behind, and the next starts waited for it
    // to go stale (then 10 minutes, now a minute: plugin/lifecycle/table-lock.ts).
    startup
      .catch(() => undefined)
      .then(() => host?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('The CRM did not stop cleanly:', error instanceof Error ? error.message : error);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  startup = serve(options, (created) => void (host = created));
  await startup;
}

/** Opens, starts and serves the CRM, step by step, until a stop is asked for. */
async function serve(options: ReferenceHostOptions, created: (host: ReferenceHost) => void): Promise<void> {
  const host = await createReferenceHost(options);
  created(host);
  if (stopRequested) return;
  await host.start();
  if (stopRequested) return;
  // Listen first: a second start on a port in use must fail before it reseeds the demo (the reseed
  // restores the demo passwords and ends the demo customers' sessions of the host already running).
  await host.listen();
  if (stopRequested) return;
  const demo = options.demo ? await seedDemoData(host) : null;
  if (stopRequested) return;

  const http = host.api.http;
  const lines = [
    '',
    `CRM            ${http.publicUrl('/')}`,
    `CRM login      ${http.publicUrl('/login')}  ${demo?.adminPassword ? `${demo.adminUser} / ${demo.adminPassword}` : 'admin (password: the one ADMIN_PASSWORD set or the host printed at the first start; later starts do not change it)'}`,
    `Portal         ${http.publicUrl(options.portalPath ?? '/portal')}`,
    ...(demo ? demo.customers.map((c) => `  demo customer ${c.email} / ${c.password}  (${c.account}, ${c.language})`) : []),
    ...(options.smtpUrl ? [] : [`Outbox         ${http.publicUrl('/outbox')}  (SMTP_URL is not set: mail is kept there)`]),
    '',
  ];
  console.log(lines.join('\n'));
}

/**
 * What a database server's refusal asks the person starting the host to fix: one hint for every
 * refusal sent them looking for a missing database when the password was wrong.
 */
function databaseRefusal(error: ConnectionError): string {
  const cause = (error.parent ?? {}) as { code?: unknown; errno?: unknown };
  const message = error.message;
  // PostgreSQL 3D000 (invalid_catalog_name); MariaDB 1049 (ER_BAD_DB_ERROR).
  if (cause.code === '3D000' || cause.errno === 1049) return `The database does not exist (DATABASE_URL): ${message}. Create it first (createdb, or CREATE DATABASE in MariaDB).`;
  // PostgreSQL 28P01 / 28000 (a wrong password, an unknown role, no pg_hba.conf entry); MariaDB 1045, 1044.
  if (error instanceof AccessDeniedError || cause.code === '28P01' || cause.code === '28000' || cause.errno === 1045 || cause.errno === 1044) {
    return `The database server refused the user (DATABASE_URL): ${message}. Check the user name and password in DATABASE_URL.`;
  }
  if (error instanceof ConnectionRefusedError || error instanceof HostNotFoundError || error instanceof HostNotReachableError || error instanceof ConnectionTimedOutError) {
    return `Cannot reach the database server (DATABASE_URL): ${message}. Is the server running, and are the host and port right?`;
  }
  return `Cannot reach the database (DATABASE_URL): ${message}. Is the server running, and does the database exist (createdb …)?`;
}

main().catch((error: unknown) => {
  // Stopping: the stop closes what was opened and exits.
  if (stopRequested) return;
  // What a person starting the host can fix is explained in a sentence; anything else with its stack.
  if (error instanceof ConfigError || error instanceof PluginRefusedError || error instanceof DemoRefusedError || error instanceof SetupLockBusyError || error instanceof SetupLockLostError) console.error(error.message);
  else if (error instanceof ConnectionError || /^SQLITE_(CANTOPEN|NOTADB|CORRUPT)/.test(String((error as NodeJS.ErrnoException).code))) {
    const message = (error as Error).message;
    if (message.startsWith('SQLITE_')) console.error(`Cannot open the SQLite database (DATABASE_URL): ${message}. Give sqlite:<path> of an SQLite file, or of a new file in a folder this user may write.`);
    else console.error(databaseRefusal(error as ConnectionError));
  }
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') console.error(`The port is in use by another program: ${(error as Error).message}. Choose another with PORT=…`);
  else console.error(error);
  process.exit(1);
});
