/**
 * The benchmark itself, as `bench/run.ts` (the command, `npm run bench`) runs it once its
 * arguments are read: what it does is described there. Kept apart from the command so that
 * `--help` and a wrong argument answer without loading the host, the data generator and
 * autocannon (about two seconds of CPU each time).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon, { type Options as CannonOptions, type Result as CannonResult } from 'autocannon';
import { QueryTypes } from 'sequelize';
import { dialectOf, openDatabase, sqliteStorage } from '../host/database.js';
import { createReferenceHost } from '../host/reference-host.js';
import { tableOf } from '../host/registry/module-tables.js';
import { generateLargeData, SCALE_PORTAL_PASSWORD } from '../host/scale/large-data.js';
import { RegistryModuleEligibility } from '../plugin/eligibility/module-eligibility.js';
import type { HostApi } from '../plugin/host-contract/index.js';
import { ProfileAudit } from '../plugin/profiles/profile-audit.js';
import type { ModulePrivilegesInput } from '../plugin/profiles/profile-schemas.js';
import { ProfileSectionsStore } from '../plugin/profiles/profile-sections-store.js';
import { DatabaseProfileService } from '../plugin/profiles/profile-service.js';
import { SequelizeProfileStore } from '../plugin/profiles/profile-store.js';


const SEED = 42;
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const LIST_COLUMNS = ['ticket_no', 'ticket_title', 'status', 'priority', 'contact_id'];
/** The searched list: two column searches and a general search. */
const SEARCH = { title: 'e', priority: 'Normal', q: 'problem' };
const MB = 1024 * 1024;

const log = (message: string) => process.stderr.write(`${message}\n`);
/** A database URL without its user and password; an SQLite one as its file. */
const shown = (url: string) => (url.startsWith('sqlite:') ? sqliteStorage(url) : url.replace(/\/\/[^@/]*@/, '//'));

/** The command line, read by `run.ts`. */
export interface Args {
  db: 'sqlite' | 'postgres' | 'mariadb';
  scale: number;
  duration: number;
  connections: number;
  checkpoints: [number, number];
  keep: boolean;
  databaseUrl?: string;
}


// ───────────────────────────── the database ─────────────────────────────

interface PreparedDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function newDatabase(db: Args['db']): Promise<PreparedDatabase> {
  if (db === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bp-bench-'));
    return { url: `sqlite:${join(dir, 'crm.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = db === 'postgres' ? (process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : (process.env.MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/mysql');
  const name = `bp_bench_${Date.now().toString(36)}`;
  const admin = await openDatabase(server);
  const quoted = dialectOf(server) === 'postgres' ? `"${name}"` : `\`${name}\``;
  await admin.sequelize.query(`CREATE DATABASE ${quoted}`);
  await admin.sequelize.close();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = await openDatabase(server);
      try {
        await again.sequelize.query(`DROP DATABASE ${quoted}`);
      } finally {
        await again.sequelize.close();
      }
    },
  };
}

/** The Default profile shows HelpDesk: account scope, the list columns, search; the home has a button to it. */
async function configureProfile(api: HostApi): Promise<void> {
  const db = api.database;
  const service = new DatabaseProfileService(
    db,
    new SequelizeProfileStore(db),
    new ProfileSectionsStore(db),
    new ProfileAudit(db),
    new RegistryModuleEligibility(api.modules),
    api.modules,
    api.licences,
    api.users,
    api.emailTemplates,
  );
  const profile = (await service.list()).find((p) => p.isDefault);
  if (!profile) throw new Error('The plugin has no Default profile');
  const document = await service.document(profile.id);
  const modules: ModulePrivilegesInput[] = document.modules.map((entry) =>
    entry.module === 'HelpDesk'
      ? {
          ...entry,
          shown: true,
          view: true,
          create: true,
          edit: false,
          delete: false,
          scope: 'account',
          listColumns: LIST_COLUMNS.filter((c) => c in entry.fields && entry.fields[c] !== 'hidden'),
          tools: { comments: true, documents: false, search: true, export: false },
        }
      : { ...entry },
  );
  const actor = { userId: 0, userName: 'bench' };
  const saved = await service.saveSection(profile.id, 'modules', modules, document.profile.version, actor);
  const buttons = [{ title: 'My tickets', description: 'Follow your requests', colour: 'info', icon: 'ticket', action: 'list', module: 'HelpDesk' }];
  await service.saveSection(profile.id, 'buttons', buttons, saved.document.profile.version, actor);
}

interface Customer {
  readonly email: string;
  readonly contactId: number;
  readonly accountId: number;
}

/** How a database for `--database-url` is made. */
const GENERATE_ONE = 'Generate one with npm run bench -- --db sqlite --keep (or --db postgres, --db mariadb), which prints its URL at the end, or leave --database-url out to use a new database.';

/**
 * `--database-url` names a database generated before: one that is not there, or holds no generated
 * data, is refused as it is, before anything is written to it, rather than filled. A mistyped path
 * would otherwise spend the generation, measure other data than the kept database's, and leave the
 * new database behind (a given one is never dropped).
 */
async function checkGivenDatabase(url: string): Promise<void> {
  if (dialectOf(url) === 'sqlite') {
    const file = sqliteStorage(url);
    if (!existsSync(file)) throw new Error(`--database-url: there is no SQLite file at ${file}. ${GENERATE_ONE}`);
  }
  const { sequelize } = await openDatabase(url);
  try {
    const qi = sequelize.getQueryInterface();
    const tickets = tableOf('HelpDesk');
    const counted = (await qi.tableExists(tickets))
      ? await sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${qi.quoteIdentifier(tickets)}`, { type: QueryTypes.SELECT })
      : [];
    if (Number(counted[0]?.n ?? 0) === 0) throw new Error(`--database-url: ${shown(url)} holds no generated data. ${GENERATE_ONE}`);
  } finally {
    await sequelize.close();
  }
}

async function prepare(args: Args): Promise<{ database: PreparedDatabase; customer: Customer; stormEmails: string[] }> {
  const database = args.databaseUrl ? { url: args.databaseUrl, drop: async () => undefined } : await newDatabase(args.db);
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-bench-gen-'));
  const host = await createReferenceHost({ databaseUrl: database.url, dataDir, demo: false, logLevel: 'warn', watchRegistryMs: 0, sessionSecret: SECRET });
  try {
    await host.start();
    const { sequelize } = host.api.database;
    const tickets = host.registry.tableName('HelpDesk');
    const [present] = await sequelize.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sequelize.getQueryInterface().quoteIdentifier(tickets)}`, { type: QueryTypes.SELECT });
    if (Number(present?.n ?? 0) === 0) {
      const started = Date.now();
      let lastTenth = -1;
      const summary = await generateLargeData(host, {
        seed: SEED,
        scale: args.scale,
        onProgress: ({ done, total, phase }) => {
          const tenth = Math.floor((done / Math.max(total, 1)) * 10);
          if (tenth > lastTenth) {
            lastTenth = tenth;
            log(`  generating: ${tenth * 10}% (${phase})`);
          }
        },
      });
      log(`Generated ${summary.counts.tickets} tickets, ${summary.counts.portalUsers} portal users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } else {
      log(`Using the data already in ${shown(database.url)}`);
    }
    await configureProfile(host.api);
    // The customer: the portal user whose account has the most tickets (a full first page, a real total).
    const contacts = host.registry.tableName('Contacts');
    const [best] = await sequelize.query<{ email: string; contact_id: unknown; account_id: unknown }>(
      `SELECT a.email, a.contact_id, c.account_id FROM bp_portal_accounts a JOIN ${contacts} c ON c.id = a.contact_id
        WHERE c.account_id IS NOT NULL ORDER BY (SELECT COUNT(*) FROM ${tickets} t WHERE t.account_id = c.account_id) DESC, a.contact_id LIMIT 1`,
      { type: QueryTypes.SELECT },
    );
    if (!best) throw new Error('The database has no portal user with an account');
    const storm = await sequelize.query<{ email: string }>('SELECT email FROM bp_portal_accounts WHERE contact_id <> :me ORDER BY contact_id LIMIT 50', {
      type: QueryTypes.SELECT,
      replacements: { me: best.contact_id },
    });
    return { database, customer: { email: best.email, contactId: Number(best.contact_id), accountId: Number(best.account_id) }, stormEmails: storm.map((r) => r.email) };
  } finally {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ───────────────────────────── host processes ─────────────────────────────

/** The host's memory after a full garbage collection. */
interface MemoryReading {
  readonly rss: number;
  /** What the V8 heap holds: a leak grows it. */
  readonly heapUsed: number;
  /** What V8 has reserved for the heap: resident, and grown by V8 under load even without a leak. */
  readonly heapTotal: number;
  /** The part of `heapTotal` that is V8's young generation (it grows with the allocation rate, not with what is kept). */
  readonly newSpace: number;
  readonly external: number;
}

interface HostProcess {
  readonly url: string;
  readonly child: ChildProcess;
  memory(): Promise<MemoryReading>;
  stop(): Promise<void>;
}

async function spawnHost(databaseUrl: string, withPlugin: boolean): Promise<HostProcess> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/bench-host.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, BENCH_PLUGIN: withPlugin ? '1' : '0', SESSION_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^BENCH_HOST_URL=(.+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`The bench host exited (code ${code})`)));
  });
  return {
    url,
    child,
    async memory() {
      const response = await fetch(`${url}/bench/rss`);
      const memory = (await response.json()) as MemoryReading;
      log(`  ${withPlugin ? 'plugin' : 'bare'} host: RSS ${mb(memory.rss)}, V8 heap ${mb(memory.heapUsed)} used of ${mb(memory.heapTotal)} (young generation ${mb(memory.newSpace)}), external ${mb(memory.external)}`);
      return memory;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function signIn(url: string, email: string): Promise<string> {
  const response = await fetch(`${url}/portal/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: SCALE_PORTAL_PASSWORD }),
  });
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('bp_session='));
  if (response.status !== 200 || !cookie) throw new Error(`The portal login of ${email} failed (HTTP ${response.status})`);
  // A browser keeps the form cookie the first page sets (pages set it only when it is missing).
  const home = await fetch(`${url}/portal/`, { headers: { cookie } });
  await home.arrayBuffer();
  const form = home.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('bp_csrf='));
  return form ? `${cookie}; ${form}` : cookie;
}

async function pageBytes(url: string, cookie: string, mustContain: string): Promise<number> {
  const response = await fetch(url, { headers: { cookie } });
  const text = await response.text();
  if (response.status !== 200 || !text.includes(mustContain)) throw new Error(`${url} answered HTTP ${response.status} without "${mustContain}"`);
  return Buffer.byteLength(text);
}

// ───────────────────────────── load ─────────────────────────────

interface Load {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly requests: number;
}

async function cannon(options: CannonOptions): Promise<Load> {
  const result: CannonResult = await autocannon({ connections: 10, ...options });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${options.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, requests: result.requests.total };
}

interface Row {
  readonly measurement: string;
  readonly portal: string;
  readonly bare: string;
  readonly ratio: string;
  readonly target: string;
  readonly pass: boolean;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const rps = (n: number) => `${Math.round(n)} req/s`;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
/** A difference in MB with its sign: "+3.0 MB", "-6.5 MB". */
const signed = (n: number) => `${Number((n / MB).toFixed(1)) >= 0 ? '+' : '-'}${mb(Math.abs(n))}`;

function printTable(rows: readonly Row[]): void {
  const header = ['measurement', 'portal', 'bare', 'ratio', 'target', 'result'];
  const cells = rows.map((r) => [r.measurement, r.portal, r.bare, r.ratio, r.target, r.pass ? 'PASS' : 'MISS']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const c of cells) console.log(line(c));
}

/** Runs the benchmark `args` describes (parsed by `run.ts`, the command). */
export async function runBenchmark(args: Args): Promise<void> {
  const began = Date.now();
  if (args.databaseUrl) await checkGivenDatabase(args.databaseUrl);
  const data = args.databaseUrl ? 'the data kept in --database-url' : `scale ${args.scale}`;
  log(`Preparing the ${args.db} database (${args.databaseUrl ? data : `${data}, seed ${SEED}`})…`);
  const { database, customer, stormEmails } = await prepare(args);
  const hosts: HostProcess[] = [];
  try {
    const host = await spawnHost(database.url, true);
    hosts.push(host);
    const cookie = await signIn(host.url, customer.email);
    const headers = { cookie };
    const d = args.duration;
    const c = args.connections;

    const listUrl = `${host.url}/portal/m/HelpDesk`;
    const searchUrl = `${listUrl}?${new URLSearchParams({ f_ticket_title: SEARCH.title, f_priority: SEARCH.priority, q: SEARCH.q })}`;
    const homeUrl = `${host.url}/portal/`;
    const listBytes = await pageBytes(listUrl, cookie, 'TT');
    const searchBytes = await pageBytes(searchUrl, cookie, 'TT');
    const homeBytes = await pageBytes(homeUrl, cookie, '/portal/m/HelpDesk');
    const scope = { contact: String(customer.contactId), account: String(customer.accountId) };
    const sqlListUrl = `${host.url}/bench/sql-list?${new URLSearchParams({ ...scope, bytes: String(listBytes) })}`;
    const sqlSearchUrl = `${host.url}/bench/sql-search?${new URLSearchParams({ ...scope, ...SEARCH, bytes: String(searchBytes) })}`;
    const staticUrl = `${host.url}/bench/static-home?bytes=${homeBytes}`;
    for (const [url, bytes] of [
      [sqlListUrl, listBytes],
      [sqlSearchUrl, searchBytes],
      [staticUrl, homeBytes],
    ] as const) {
      const got = await pageBytes(url, cookie, '</html>');
      if (Math.abs(got - bytes) > 64) log(`  note: ${url} sends ${got} bytes, the portal page ${bytes}`);
    }
    log(`Customer ${customer.email} (contact ${customer.contactId}, account ${customer.accountId}); pages: list ${listBytes} B, searched ${searchBytes} B, home ${homeBytes} B`);

    log('Warming up…');
    for (const url of [listUrl, sqlListUrl, searchUrl, sqlSearchUrl, homeUrl, staticUrl]) await cannon({ url, headers, duration: Math.min(3, d), connections: c });

    const rows: Row[] = [];
    const pair = async (label: string, portalUrl: string, bareUrl: string, latencyTarget: number | null) => {
      log(`Measuring ${label}…`);
      const portal = await cannon({ url: portalUrl, headers, duration: d, connections: c });
      const bare = await cannon({ url: bareUrl, headers, duration: d, connections: c });
      if (latencyTarget !== null) {
        const ratio = portal.p50 / Math.max(bare.p50, 0.001);
        rows.push({ measurement: `${label}: median latency`, portal: ms(portal.p50), bare: ms(bare.p50), ratio: `${ratio.toFixed(2)}×`, target: `≤ ${latencyTarget}×`, pass: ratio <= latencyTarget });
      }
      const ratio = portal.rps / Math.max(bare.rps, 0.001);
      rows.push({ measurement: `${label}: throughput`, portal: rps(portal.rps), bare: rps(bare.rps), ratio: `${ratio.toFixed(2)}×`, target: '≥ 0.5×', pass: ratio >= 0.5 });
    };
    await pair('1 list page vs SQL', listUrl, sqlListUrl, 2);
    await pair('2 searched list vs SQL', searchUrl, sqlSearchUrl, 2.5);
    // The searched list has a latency target only; its throughput row is for information.
    const searchThroughput = rows.pop()!;
    rows.push({ ...searchThroughput, target: '(info)', pass: true });
    await pair('3 home vs static page', homeUrl, staticUrl, null);

    log('Measuring 4: list p99 quiet, then during 20 logins a second…');
    const quiet = await cannon({ url: listUrl, headers, duration: d, connections: c });
    let next = 0;
    const storm = autocannon({
      url: `${host.url}/portal/api/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Enough connections that 20 a second go out even when a login takes up to a second.
      connections: 20,
      overallRate: 20,
      duration: d + 1,
      requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: stormEmails[next++ % stormEmails.length], password: SCALE_PORTAL_PASSWORD }) }) }],
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const loud = await cannon({ url: listUrl, headers, duration: d, connections: c });
    const logins = await storm;
    // Logins still queued in the host when the load tool stopped finish before the host is stopped.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const loginsOk = logins['2xx'];
    const stormRatio = loud.p99 / Math.max(quiet.p99, 0.001);
    rows.push({
      measurement: `4 list p99 during login storm (${(loginsOk / (d + 1)).toFixed(1)} logins/s ok, ${logins.non2xx} refused)`,
      portal: ms(loud.p99),
      bare: `${ms(quiet.p99)} quiet`,
      ratio: `${stormRatio.toFixed(2)}×`,
      target: '≤ 2×',
      pass: stormRatio <= 2 && logins.non2xx === 0 && loginsOk >= 18 * d,
    });
    await host.stop();
    hosts.length = 0;

    // 5: fresh processes, so that "after N requests" counts from the start.
    log(`Measuring 5: resident memory after ${args.checkpoints.join(' and ')} requests (two fresh hosts, loaded at once)…`);
    const memory = async (withPlugin: boolean): Promise<[MemoryReading, MemoryReading]> => {
      const fresh = await spawnHost(database.url, withPlugin);
      hosts.push(fresh);
      try {
        const freshCookie = withPlugin ? await signIn(fresh.url, customer.email) : '';
        // Portal requests: home, the list's first pages (sorted, searched) and the JSON API's list;
        // bare: the SQL list route and the static page, alternately.
        const requests = withPlugin
          ? [1, 2].flatMap((page) => [
              { path: '/portal/' },
              { path: `/portal/m/HelpDesk?page=${page}` },
              { path: `/portal/m/HelpDesk?sort=ticket_no&dir=asc&page=${page}` },
              { path: `/portal/m/HelpDesk?${new URLSearchParams({ f_ticket_title: SEARCH.title, f_priority: SEARCH.priority, q: SEARCH.q, page: String(page) })}` },
              { path: `/portal/api/v1/modules/HelpDesk/records?page=${page}` },
            ])
          : [{ path: `/bench/sql-list?${new URLSearchParams({ ...scope, bytes: String(listBytes) })}` }, { path: `/bench/static-home?bytes=${homeBytes}` }];
        const first = args.checkpoints[0];
        await cannon({ url: fresh.url, headers: withPlugin ? { cookie: freshCookie } : {}, requests, amount: first, connections: c });
        const atFirst = await fresh.memory();
        await cannon({ url: fresh.url, headers: withPlugin ? { cookie: freshCookie } : {}, requests, amount: args.checkpoints[1] - first, connections: c });
        const atSecond = await fresh.memory();
        return [atFirst, atSecond];
      } finally {
        await fresh.stop();
        hosts.splice(hosts.indexOf(fresh), 1);
      }
    };
    // Both hosts at once (each its own process and load): the bare one finishes first.
    const [[plugin1, plugin2], [bare1, bare2]] = await Promise.all([memory(true), memory(false)]);
    const [n1, n2] = args.checkpoints.map((n) => `${n / 1000}k`);
    for (const [label, p, b] of [
      [n1, plugin1, bare1],
      [n2, plugin2, bare2],
    ] as const) {
      rows.push({ measurement: `5 RSS after ${label} requests`, portal: mb(p.rss), bare: mb(b.rss), ratio: signed(p.rss - b.rss), target: '≤ +60 MB', pass: p.rss - b.rss <= 60 * MB });
    }
    // Flat: the host with the plugin grows by at most 10 MB from the first checkpoint to the second.
    const growth = plugin2.rss - plugin1.rss;
    rows.push({
      measurement: `5 RSS growth ${n1} → ${n2}`,
      portal: signed(growth),
      bare: signed(bare2.rss - bare1.rss),
      ratio: signed(growth),
      target: '≤ +10 MB (flat)',
      pass: growth <= 10 * MB,
    });
    // What a leak would grow. The resident size also moves with the heap V8 reserves (which it
    // grows under load, leak or not) and with malloc's free lists, by several MB either way.
    const heapGrowth = plugin2.heapUsed - plugin1.heapUsed;
    rows.push({
      measurement: `5 V8 heap in use, growth ${n1} → ${n2}`,
      portal: signed(heapGrowth),
      bare: signed(bare2.heapUsed - bare1.heapUsed),
      ratio: signed(heapGrowth),
      target: '(info)',
      pass: true,
    });

    console.log(`\nBusiness Portal benchmark — ${args.db}, ${data}, ${c} connections, ${d} s per measurement, ${new Date().toISOString()}`);
    printTable(rows);
    const missed = rows.filter((r) => !r.pass).length;
    console.log(`\n${rows.length - missed} of ${rows.length} rows pass; ${((Date.now() - began) / 1000).toFixed(0)} s in all.`);
    if (missed > 0) process.exitCode = 1;
  } finally {
    for (const h of hosts) await h.stop();
    if (args.keep) log(`Kept the database: ${database.url}`);
    else await database.drop();
  }
}

