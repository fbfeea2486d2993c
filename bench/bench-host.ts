/**
 * A reference host for the benchmark, run as its own process by `bench/run.ts`: the CRM on
 * `DATABASE_URL` with the Business Portal (or, with `BENCH_PLUGIN=0`, without any plugin), plus
 * bare comparison routes under `/bench`, mounted before it listens and served by the same Express
 * app (the same security headers, the same `no-store`) on the same Sequelize connection:
 *
 *   GET /bench/sql-list?contact&account&bytes    hand-written SQL for the portal ticket list's 20 rows
 *                                                (account scope, newest first) and its total, as an
 *                                                HTML page padded to `bytes` (the portal page's size)
 *   GET /bench/sql-search?…&title&priority&q     the same with two column searches and a general search
 *   GET /bench/static-home?bytes                 a static page of `bytes` bytes (the portal home's size)
 *   GET /bench/rss                               {"rss","heapUsed"} in bytes, after a full GC when
 *                                                the process runs with --expose-gc
 *
 * Prints one line `BENCH_HOST_URL=<url>` when it listens. `BENCH_SQL_LOG=1` logs every SQL
 * statement to stderr (to see what the portal runs); `BENCH_SOURCE_MAPS=1` keeps tsx's source-mapped stacks. These routes are for a benchmark machine only:
 * they read tickets without a session.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import express, { type Request } from 'express';
import Handlebars from 'handlebars';
import type { Sequelize } from 'sequelize';
import { RAW_SELECT } from '../host/records/record-store.js';
import { createReferenceHost, DEFAULT_PLUGIN_MANIFEST, type ReferenceHost } from '../host/reference-host.js';

/** The escaping the host's and the portal's templates apply. */
const escapeHtml = (value: unknown): string => Handlebars.escapeExpression(String(value ?? ''));

const PAGE_SIZE = 20;

interface TicketRow {
  id: number | string;
  ticket_no: string | null;
  ticket_title: string | null;
  status: string | null;
  priority: string | null;
  contact_id: number | string | null;
  firstname: string | null;
  lastname: string | null;
}

function numberParam(req: Request, name: string): number {
  const value = Number(req.query[name]);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

function textParam(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value.slice(0, 200) : '';
}

/** `LIKE` needle with `%`, `_` and `!` literal (the host escapes with `!` too). */
const likeNeedle = (text: string): string => `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;

/** Pads a page to `bytes` with a comment before `</body>`, so both sides send the same amount. */
function padded(html: string, bytes: number): string {
  const missing = bytes - Buffer.byteLength(html);
  if (missing <= 8) return html;
  return html.replace('</body>', `<!--${'.'.repeat(missing - 7)}--></body>`);
}

function listPage(title: string, rows: readonly TicketRow[], total: number, search: { title: string; priority: string; q: string }): string {
  const body = rows
    .map(
      (r) =>
        `<tr><th scope="row"><a href="/portal/m/HelpDesk/${escapeHtml(r.id)}">${escapeHtml(r.ticket_no)}</a></th><td>${escapeHtml(r.ticket_title)}</td><td>${escapeHtml(r.status)}</td><td>${escapeHtml(r.priority)}</td><td><a href="/portal/m/Contacts/${escapeHtml(r.contact_id)}">${escapeHtml(`${r.firstname ?? ''} ${r.lastname ?? ''}`.trim())}</a></td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
<form method="get"><input type="search" name="q" value="${escapeHtml(search.q)}"><input name="f_ticket_title" value="${escapeHtml(search.title)}"><input name="f_priority" value="${escapeHtml(search.priority)}"><button>Search</button></form>
<table><thead><tr><th>Ticket No</th><th>Title</th><th>Status</th><th>Priority</th><th>Contact</th></tr></thead><tbody>
${body}
</tbody></table>
<p>${rows.length === 0 ? 0 : 1}–${rows.length} of ${total}</p></main></body></html>`;
}

/** The ticket list the portal shows in account scope, as hand-written SQL: the page and the total. */
async function ticketList(sequelize: Sequelize, table: string, contactsTable: string, req: Request, searched: boolean): Promise<string> {
  const replacements: Record<string, unknown> = { contact: numberParam(req, 'contact'), account: numberParam(req, 'account') };
  let where = '(t.contact_id = :contact OR t.account_id = :account)';
  const search = { title: '', priority: '', q: '' };
  if (searched) {
    search.title = textParam(req, 'title');
    search.priority = textParam(req, 'priority');
    search.q = textParam(req, 'q');
    replacements.title = likeNeedle(search.title);
    replacements.priority = search.priority;
    replacements.q = likeNeedle(search.q);
    where +=
      " AND LOWER(t.ticket_title) LIKE :title ESCAPE '!' AND t.priority = :priority" +
      " AND (LOWER(t.ticket_no) LIKE :q ESCAPE '!' OR LOWER(t.ticket_title) LIKE :q ESCAPE '!' OR LOWER(t.status) LIKE :q ESCAPE '!' OR LOWER(t.priority) LIKE :q ESCAPE '!')";
  }
  const [rows, counted] = await Promise.all([
    sequelize.query<TicketRow>(
      `SELECT t.id, t.ticket_no, t.ticket_title, t.status, t.priority, t.contact_id, c.firstname, c.lastname
         FROM ${table} t LEFT JOIN ${contactsTable} c ON c.id = t.contact_id
        WHERE ${where} ORDER BY t.modified_at DESC, t.id ASC LIMIT ${PAGE_SIZE}`,
      { ...RAW_SELECT, replacements },
    ),
    sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} t WHERE ${where}`, { ...RAW_SELECT, replacements }),
  ]);
  return padded(listPage('Tickets', rows, Number(counted[0]?.n ?? 0), search), numberParam(req, 'bytes'));
}

const staticPages = new Map<number, string>();
function staticHome(bytes: number): string {
  const size = Math.min(Math.max(bytes, 200), 1_000_000);
  let page = staticPages.get(size);
  if (!page) {
    page = padded(
      '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Home</title></head><body><main><h1>Welcome</h1><nav><a href="/portal/m/HelpDesk">My requests</a></nav></main></body></html>',
      size,
    );
    staticPages.set(size, page);
  }
  return page;
}

async function main(): Promise<void> {
  // Measure the host as it is deployed: compiled JavaScript, whose stacks are not source-mapped.
  // tsx turns source-mapped stacks on, and Sequelize's SQLite dialect reads a stack after every
  // statement: mapped, that was a tenth of the portal's CPU (and the bare routes' too). Both sides
  // of every ratio run in this process, so both lose it.
  if (process.env.BENCH_SOURCE_MAPS !== '1') process.setSourceMapsEnabled(false);
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const withPlugin = process.env.BENCH_PLUGIN !== '0';
  // From the start, so that a stop sent as soon as the URL is printed (or while starting) still
  // closes the host and runs the exit handlers; an unhandled signal would skip them.
  let host: ReferenceHost | undefined;
  const stop = () => {
    if (!host) process.exit(1);
    host.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) {
    // A folder of its own, removed however the process ends (every way out goes through process.exit).
    const made = mkdtempSync(join(tmpdir(), 'bp-bench-host-'));
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
    dataDir = made;
  }
  host = await createReferenceHost({
    databaseUrl,
    dataDir,
    port: 0,
    demo: false,
    logLevel: 'warn',
    sessionSecret: process.env.SESSION_SECRET ?? 'bench-secret-bench-secret-bench-secret-0123',
    pluginManifests: withPlugin ? [DEFAULT_PLUGIN_MANIFEST] : [],
    watchRegistryMs: 0,
  });
  await host.start();
  const { sequelize } = host.api.database;
  // Sequelize reads `options.logging` and `options.benchmark` on every query (its typings do not show `options`).
  if (process.env.BENCH_SQL_LOG === '1') {
    const options = (sequelize as unknown as { options: { logging: unknown; benchmark: boolean } }).options;
    options.benchmark = true;
    // When each statement ended (ms since the host started) and how long it took: the order shows what runs at once.
    options.logging = (sql: string, ms?: number) => process.stderr.write(`${performance.now().toFixed(2)}  ${ms ?? '?'} ms  ${sql.replace(/\s+/g, ' ')}\n`);
  }
  const qi = sequelize.getQueryInterface();
  const table = qi.quoteIdentifier(host.registry.tableName('HelpDesk'));
  const contactsTable = qi.quoteIdentifier(host.registry.tableName('Contacts'));

  const router = express.Router();
  router.get('/sql-list', async (req, res) => {
    res.type('html').send(await ticketList(sequelize, table, contactsTable, req, false));
  });
  router.get('/sql-search', async (req, res) => {
    res.type('html').send(await ticketList(sequelize, table, contactsTable, req, true));
  });
  router.get('/static-home', (req, res) => {
    res.type('html').send(staticHome(numberParam(req, 'bytes')));
  });
  router.get('/rss', (_req, res) => {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (collect) collect();
    const memory = process.memoryUsage();
    // Where V8's reserved heap is: the young generation (new space) grows under sustained load.
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]));
    res.json({ rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, newSpace: spaces.new_space ?? 0, gc: collect !== undefined });
  });
  // Mounted like a plugin's router: the same middleware in front as the portal's routes.
  host.api.http.mount('/bench', router);

  const { url } = await host.listen(Number(process.env.PORT ?? 0));
  process.stdout.write(`BENCH_HOST_URL=${url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench host: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
