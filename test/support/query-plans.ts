/**
 * Reading back the plans of the statements the host really sends: capture the SELECTs a call makes
 * (`capturedStatements`, from `sequelize.query`, with their bind values), then ask the database
 * for each one's plan (`planOf`: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN with sequential
 * scans off, MariaDB's EXPLAIN). Used by test/scale/query-plans.test.ts and the plan tests beside
 * the features they guard.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { DatabaseDialect } from '../../plugin/host-contract/index.js';

export interface Statement {
  readonly sql: string;
  readonly bind?: unknown;
  readonly replacements?: Record<string, unknown>;
}

/** One row of MariaDB's EXPLAIN. */
export interface MariadbPlanRow {
  readonly table: string | null;
  readonly type: string | null;
  readonly key: string | null;
  readonly rows: unknown;
  readonly Extra: string | null;
}

/** One statement's plan as the database gives it: SQLite's steps, PostgreSQL's root node (sequential scans off), MariaDB's rows. */
export type Plan =
  | { readonly dialect: 'sqlite'; readonly details: readonly string[] }
  | { readonly dialect: 'postgres'; readonly root: Record<string, unknown> }
  | { readonly dialect: 'mariadb'; readonly rows: readonly MariadbPlanRow[] };

/**
 * The plan of `statement`. PostgreSQL prefers sequential scans on small tables whatever the
 * indexes: it is asked with `enable_seqscan = off`, so a Seq Scan left in the plan means no index
 * could serve the statement.
 */
export async function planOf(sequelize: Sequelize, dialect: DatabaseDialect, statement: Statement): Promise<Plan> {
  const options = { bind: statement.bind as Record<string, unknown>, replacements: statement.replacements, type: QueryTypes.SELECT } as const;
  if (dialect === 'sqlite') {
    const rows = await sequelize.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement.sql}`, options);
    return { dialect, details: rows.map((r) => r.detail) };
  }
  if (dialect === 'postgres') {
    return sequelize.transaction(async (transaction) => {
      await sequelize.query('SET LOCAL enable_seqscan = off', { transaction });
      const [row] = await sequelize.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${statement.sql}`, { ...options, transaction });
      const plan = row!['QUERY PLAN'];
      return { dialect, root: ((typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: Record<string, unknown> }[])[0]!.Plan };
    });
  }
  return { dialect, rows: await sequelize.query<MariadbPlanRow>(`EXPLAIN ${statement.sql}`, options) };
}

/** Every node of a PostgreSQL plan, the root first. */
export function nodesOf(node: Record<string, unknown>): Record<string, unknown>[] {
  return [node, ...((node.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(nodesOf)];
}

/** The statements `run` sends through `sequelize.query` whose SQL `keep` accepts, with their bind values. */
export async function capturedStatements(sequelize: Sequelize, keep: (sql: string) => boolean, run: () => Promise<unknown>): Promise<Statement[]> {
  const captured: Statement[] = [];
  const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
  (sequelize as unknown as { query: typeof original }).query = (sql, options) => {
    const given = options as { bind?: unknown; replacements?: Record<string, unknown> } | undefined;
    if (typeof sql === 'string' && keep(sql)) captured.push({ sql, bind: given?.bind, replacements: given?.replacements });
    return original(sql, options);
  };
  try {
    await run();
  } finally {
    (sequelize as unknown as { query: typeof original }).query = original;
  }
  return captured;
}
