/**
 * `npm start` (host/main.ts) as a person runs it: a start that cannot listen says why in one
 * sentence and leaves the database as it was — the demo reseed (which restores the demo passwords
 * and ends the demo customers' sessions) must not run for a host that never served.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sqlite3 from 'sqlite3';
import { QueryTypes } from 'sequelize';
import { openDatabase } from '../../host/database.js';
import { LOCK_STALE_AFTER_MS } from '../../plugin/lifecycle/table-lock.js';
import { scratchDatabase, serverUnderTest } from '../support/database.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function start(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'host/main.ts'], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function rowCount(file: string, table: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (opened) => {
      if (opened) return reject(opened);
      db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`, (error, row) => {
        db.close();
        if (error) reject(error);
        else resolve(row!.n);
      });
    });
  });
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm start on a database server it cannot use @db', function () {
  this.timeout(90_000);

  it('names what to fix: the database to create, or the user name and password', async function () {
    const server = serverUnderTest();
    if (!server) return this.skip();
    const url = (change: (url: URL) => void) => {
      const changed = new URL(server);
      change(changed);
      return changed.toString();
    };
    const cases: [string, RegExp][] = [
      [url((u) => void (u.pathname = '/bp_no_such_database')), /^The database does not exist \(DATABASE_URL\): .*bp_no_such_database.*\. Create it first \(createdb, or CREATE DATABASE in MariaDB\)\.\n$/],
      [url((u) => ((u.username = 'bp_no_such_user'), (u.password = 'hunter2'))), /^The database server refused the user \(DATABASE_URL\): .*bp_no_such_user.*\. Check the user name and password in DATABASE_URL\.\n$/],
    ];
    for (const [databaseUrl, message] of cases) {
      const started = await start({ PORT: '0', DEMO: '1', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl });
      expect(started.code, databaseUrl).to.equal(1);
      expect(started.stderr, databaseUrl).to.match(message);
      expect(started.stderr).not.to.include('hunter2');
    }
  });
});

describe('npm start after one killed with kill -9 while it set the database up @db', function () {
  this.timeout(180_000);

  it('goes on within about a minute: the killed start stopped refreshing its setup lock, which is then taken over', async () => {
    const database = await scratchDatabase();
    const watcher = await openDatabase(database.url);
    const env = { ...process.env, PORT: '0', DATABASE_URL: database.url, DEMO: '0', ADMIN_PASSWORD: 'Admin-kill-1', LOG_LEVEL: 'silent' };
    const lockHolder = async () => {
      const rows = await watcher.sequelize.query<{ owner: string }>('SELECT owner FROM crm_setup_lock WHERE id = 1', { type: QueryTypes.SELECT }).catch(() => []);
      return rows[0]?.owner;
    };
    const children: ReturnType<typeof spawn>[] = [];
    try {
      const first = spawn(process.execPath, ['--import', 'tsx', 'host/main.ts'], { cwd: root, env });
      children.push(first);
      const firstExited = new Promise<NodeJS.Signals | null>((resolve) => first.once('exit', (_code, signal) => resolve(signal)));
      let held: string | undefined;
      while (!(held = await lockHolder())) {
        if (first.exitCode !== null) throw new Error('the first start ended before it took the setup lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      first.kill('SIGKILL');
      expect(await firstExited).to.equal('SIGKILL');
      const killedAt = Date.now();
      expect(await lockHolder(), 'the killed start left its lock row').to.equal(held);

      const second = spawn(process.execPath, ['--import', 'tsx', 'host/main.ts'], { cwd: root, env });
      children.push(second);
      let output = '';
      second.stdout!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      second.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      const secondExited = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
      while ((await lockHolder()) === held) {
        if (second.exitCode !== null) throw new Error(`the second start exited (${second.exitCode}) before it took the lock over:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const takenOverAfterMs = Date.now() - killedAt;
      // A minute for the row to go stale (a second more on MariaDB), and the second start's next try.
      expect(takenOverAfterMs, 'ms from the kill until the second start took the lock over').to.be.within(LOCK_STALE_AFTER_MS - 16_000, LOCK_STALE_AFTER_MS + 5_000);
      await new Promise<void>((resolve, reject) => {
        const served = () => /\nOutbox /.test(output) && resolve();
        served();
        second.stdout!.on('data', served);
        void secondExited.then((code) => reject(new Error(`the second start exited (${code}) before it served:\n${output}`)));
      });
      second.kill('SIGINT');
      expect(await secondExited, output).to.equal(0);
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await watcher.sequelize.close();
      await database.drop();
    }
  });
});

describe('npm start (host/main.ts)', function () {
  this.timeout(90_000);
  let dir: string;
  let holder: Server;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bp-start-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('on a port in use says so in one sentence and seeds no demo data', async () => {
    const file = join(dir, 'crm.sqlite');
    const started = await start({ PORT: String(port), DATABASE_URL: `sqlite:${file}`, DEMO: '1', LOG_LEVEL: 'silent' });
    expect(started.code).to.equal(1);
    expect(started.stderr).to.match(/^The port is in use by another program: .*Choose another with PORT=…\n$/);
    expect(started.stderr).not.to.match(/\n\s+at /);
    expect(started.stdout).not.to.include('demo customer');
    // The CRM's own tables exist (the host started), but no demo contact was written.
    expect(await rowCount(file, 'mod_contacts')).to.equal(0);
  });

  it('on a DATABASE_URL, TZ_CRM or DATA_DIR it cannot use says so in one sentence, without a stack trace', async () => {
    const notADatabase = join(dir, 'notes.sqlite');
    writeFileSync(notADatabase, 'not a database\n');
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATABASE_URL: join(dir, 'crm.sqlite') }, /^DATABASE_URL must start with sqlite:, postgres:\/\/ or mariadb:\/\/ .*sqlite:<path>\)\n$/],
      [{ DATABASE_URL: `sqlite:${notADatabase}` }, /^Cannot open the SQLite database \(DATABASE_URL\): SQLITE_NOTADB: .*\n$/],
      [{ DATABASE_URL: `sqlite:${join(dir, 'crm.sqlite')}`, TZ_CRM: 'Mars/Base' }, /^TZ_CRM must be an IANA time zone such as Europe\/Rome \(got "Mars\/Base"\)\n$/],
      // The first upload, or the generated secret, failed with a stack trace.
      [{ DATA_DIR: notADatabase }, /^DATA_DIR must be a folder this user may write: ".*notes\.sqlite" is a file\n$/],
      // The driver's own URL parser threw "TypeError: Invalid URL" with its stack.
      [{ DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:54x32/crm' }, /^DATABASE_URL is not a valid postgres:\/\/ URL .*\n$/],
      // No server there: not a question of whether the database exists.
      [{ DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/crm` }, /^Cannot reach the database server \(DATABASE_URL\): .*ECONNREFUSED.*\. Is the server running, and are the host and port right\?\n$/],
    ];
    for (const [env, message] of cases) {
      const started = await start({ PORT: String(port), DEMO: '1', LOG_LEVEL: 'silent', ...env });
      expect(started.code, JSON.stringify(env)).to.equal(1);
      expect(started.stderr, JSON.stringify(env)).to.match(message);
    }
  });

  it('stops gracefully when a service manager sends SIGTERM to npm start itself, leaving no host behind', async function () {
    // systemd, Docker or `kill <pid>` signal the process they started: npm, not the host. npm
    // passes the signal to the shell running the script, which died and left the host serving.
    const child = spawn('npm', ['start'], {
      cwd: root,
      detached: true, // its own process group, so that whatever is left can be cleaned up
      env: { ...process.env, PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'npm.sqlite')}`, DEMO: '0', ADMIN_PASSWORD: 'Admin-npm-1', LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => /\nOutbox /.test(stdout) && resolve());
        void exited.then((code) => reject(new Error(`npm start exited (${code}) before it served:\n${stdout}`)));
      });
      const url = /CRM {12}(http:\/\/localhost:\d+)\//.exec(stdout)![1]!.replace('localhost', '127.0.0.1');
      expect((await fetch(`${url}/login`)).status).to.equal(200);
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(stdout).to.include('SIGTERM: stopping the CRM');
      // Nothing answers any more: the host stopped with npm.
      const after = await fetch(`${url}/login`).then((response) => response.status, () => 'refused');
      expect(after).to.equal('refused');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
  });

  it('stopped while its first start sets the database up, finishes that first and leaves no setup lock behind', async function () {
    // Ctrl+C during a slow first start closed the database under the migrations and seeds: their lock
    // row stayed, and every start for the next 10 minutes waited 60 s and failed with a stack trace.
    // Counted from the moment the database file appears: the host is then opening it and migrating.
    for (const delayMs of [0, 600, 1500]) {
      const file = join(dir, `interrupted-${delayMs}.sqlite`);
      const child = spawn(process.execPath, ['--import', 'tsx', 'host/main.ts'], {
        cwd: root,
        env: { ...process.env, PORT: '0', DATABASE_URL: `sqlite:${file}`, DEMO: '1', LOG_LEVEL: 'silent' },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      while (!existsSync(file)) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGINT');
      expect(await exited, `${delayMs} ms:\n${output}`).to.equal(0);
      expect(output, `${delayMs} ms`).not.to.match(/\n\s+at /);
      for (const lock of ['crm_setup_lock', 'bp_migration_lock']) {
        const held = await rowCount(file, lock).catch((error: Error) => (/no such table/.test(error.message) ? 0 : Promise.reject(error)));
        expect(held, `${lock} after SIGINT at ${delayMs} ms:\n${output}`).to.equal(0);
      }
    }
  });

  it("prints the README's demo logins and where to use them, and stops on Ctrl+C (SIGINT)", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const logins = [...readme.matchAll(/^\| [^|]+ \| http:\/\/localhost:3000(\/[a-z]+) \| `([^`]+)` \/ `([^`]+)` \|$/gm)].map((m) => ({ path: m[1]!, user: m[2]!, password: m[3]! }));
    expect(logins.map((l) => l.user)).to.include.members(['admin', 'jane.doe@example.com', 'mario.rossi@example.com']);
    const child = spawn(process.execPath, ['--import', 'tsx', 'host/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'banner.sqlite')}`, DEMO: '1', LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => /\nOutbox /.test(stdout) && resolve());
      void exited.then((code) => reject(new Error(`npm start exited (${code}) before printing the logins:\n${stdout}`)));
    });
    const port = /http:\/\/localhost:(\d+)\//.exec(stdout)![1];
    for (const login of logins) {
      const line = stdout.split('\n').find((l) => l.includes(`${login.user} / ${login.password}`));
      expect(line, `${login.user} / ${login.password}`).to.be.a('string');
      if (login.path === '/login') expect(line).to.include(`http://localhost:${port}/login`);
    }
    expect(stdout).to.include(`Portal         http://localhost:${port}/portal`);
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(stdout).to.include('SIGINT: stopping the CRM');
  });
});
