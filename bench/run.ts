/**
 * The benchmark: `npm run bench -- --db sqlite|postgres|mariadb [--scale 0.1] [--duration 5]`.
 *
 * 1. Prepares a new database (SQLite: a temporary file; PostgreSQL / MariaDB: a new database on
 *    POSTGRES_URL / MARIADB_URL, default the local server as `postgres` / `root`), fills it with the
 *    large-data generator (seed 42) and configures the Default profile for HelpDesk (account
 *    scope, five list columns, the search tool) through the plugin's ProfileService.
 * 2. Spawns the host (`bench/bench-host.ts`) as a child process, signs a generated customer in,
 *    warms up, and drives load from this process with autocannon.
 * 3. Prints one table of ratios measured side by side in this run, each with its target and
 *    PASS / MISS, then stops the hosts and drops the database (unless `--keep`).
 *
 * Options: see USAGE below (`npm run bench -- --help`).
 */
import { parseArgs } from 'node:util';
import type { Args } from './benchmark.js';

const USAGE = `Usage: npm run bench -- [options]   (--help, -h: this text)
  --db sqlite|postgres|mariadb   the database (sqlite, or the one --database-url names); postgres uses
                                 POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres,
                                 mariadb MARIADB_URL, default mariadb://root@127.0.0.1:3306/mysql
                                 (a new database is made there)
  --scale S                      the generated data, above 0 and at most 1 (0.1; 1 is the full data;
                                 not with --database-url, whose data is used)
  --duration N                   seconds per measurement (5)
  --connections N                autocannon's connections (10)
  --requests A,B                 the two memory checkpoints, in requests (10000,50000)
  --keep                         keep the generated database (it is dropped otherwise)
  --database-url URL             use this database, generated before (with --keep), instead of a new one;
                                 one without the generated data (or an SQLite file that does not exist)
                                 is refused
Exit code: 0 when every row passes, 1 when one misses, 2 when the benchmark could not run.`;

/** A wrong command line: said in one sentence with a pointer to --help, before anything is made. */
class UsageError extends Error {}

function wholeNumber(name: string, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1) throw new UsageError(`${name} must be a whole number${name === '--duration' ? ' of seconds' : ''}, at least 1 (got "${value}")`);
  return number;
}

/** The database a URL names, as `host/database.ts` reads it (not imported: the help must not load Sequelize). */
function dialectOfUrl(url: string): Args['db'] {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (/^(mariadb|mysql):\/\//.test(url)) return 'mariadb';
  throw new UsageError('--database-url must start with sqlite:, postgres:// or mariadb://');
}

function parseCommandLine(): Args | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        db: { type: 'string' },
        scale: { type: 'string' },
        duration: { type: 'string', default: '5' },
        connections: { type: 'string', default: '10' },
        requests: { type: 'string', default: '10000,50000' },
        keep: { type: 'boolean', default: false },
        'database-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const databaseUrl = values['database-url'];
  const given = databaseUrl === undefined ? undefined : dialectOfUrl(databaseUrl);
  const db = values.db ?? given ?? 'sqlite';
  if (db !== 'sqlite' && db !== 'postgres' && db !== 'mariadb') throw new UsageError('--db must be sqlite, postgres or mariadb');
  // The results name the database the run measured.
  if (given && db !== given) throw new UsageError(`--db ${db} does not match --database-url, a${given === 'sqlite' ? 'n' : ''} ${given} database (leave --db out with --database-url)`);
  if (databaseUrl !== undefined && values.scale !== undefined) throw new UsageError('--scale does not apply with --database-url (the benchmark uses the data in it)');
  const scale = Number(values.scale ?? '0.1');
  if (!(scale > 0 && scale <= 1)) throw new UsageError('--scale must be above 0 and at most 1');
  const checkpoints = values.requests.split(',').map(Number);
  if (checkpoints.length !== 2 || !checkpoints.every((n) => Number.isInteger(n) && n > 0) || checkpoints[0]! >= checkpoints[1]!) throw new UsageError('--requests must be two growing counts, e.g. 10000,50000');
  return {
    db,
    scale,
    duration: wholeNumber('--duration', values.duration),
    connections: wholeNumber('--connections', values.connections),
    checkpoints: checkpoints as [number, number],
    keep: values.keep,
    ...(databaseUrl ? { databaseUrl } : {}),
  };
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  // Loaded only now: the help and a usage error need neither the host nor the generator.
  const { runBenchmark } = await import('./benchmark.js');
  await runBenchmark(args);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\nSee npm run bench -- --help`);
  else console.error(`Benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
