/**
 * A ticket's comments as the portal reads them — the public ones, counted, and a page of the newest
 * (`internal = false ORDER BY created_at DESC, id DESC LIMIT 50`) — come from the index
 * `(module, record_id, internal, created_at, id)`, in place of `(module, record_id, created_at)`:
 * the count reads the index alone, where it read every comment's row to see whether it was internal
 * (a ticket of 20,000 comments: 10–25 ms on SQLite, 3 ms now), and the page comes in the index's
 * order on all three databases. The CRM's own reads of every comment (internal ones too, oldest
 * first) still find the ticket's comments by the index's first two columns, then sort them.
 * Checked by test/scale/query-plans.test.ts. Safe to re-run.
 */
import { createIndex, dropIndex } from '../schema/indexes.js';
import type { HostMigrationContext } from '../schema/migrate.js';

export const COMMENTS_VISIBLE_INDEX = { name: 'crm_comments_record_visible_idx', columns: ['module', 'record_id', 'internal', 'created_at', 'id'] } as const;
const PREVIOUS = { name: 'crm_comments_record_created_idx', columns: ['module', 'record_id', 'created_at'] } as const;

export async function up({ context }: { context: HostMigrationContext }): Promise<void> {
  if (!(await context.queryInterface.tableExists('crm_comments'))) return;
  await createIndex(context, 'crm_comments', COMMENTS_VISIBLE_INDEX.name, COMMENTS_VISIBLE_INDEX.columns);
  await dropIndex(context, 'crm_comments', PREVIOUS.name);
}

export async function down({ context }: { context: HostMigrationContext }): Promise<void> {
  if (!(await context.queryInterface.tableExists('crm_comments'))) return;
  await createIndex(context, 'crm_comments', PREVIOUS.name, PREVIOUS.columns);
  await dropIndex(context, 'crm_comments', COMMENTS_VISIBLE_INDEX.name);
}
