/**
 * Login emails are kept composed (Unicode NFC), as `normalizeEmail` now writes and compares them:
 * an account created from a contact whose address held a decomposed accent (`e` and U+0301, as
 * text copied from some PDFs holds it) was stored so, and a customer typing the address could not
 * sign in once the typed address is composed before it is looked up. Each such login is composed
 * here; one whose composed spelling is already another account's login is left as it was (it
 * was a second login for one address, which the listeners now refuse and switch off).
 * Nothing to undo: a composed address is the same address.
 */
import { QueryTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const rows = await context.sequelize.query<{ id: number; email: string }>(`SELECT id, email FROM ${TABLE}`, { type: QueryTypes.SELECT });
  const taken = new Set(rows.map((row) => row.email));
  for (const row of rows) {
    const composed = row.email.normalize('NFC');
    if (composed === row.email || taken.has(composed)) continue;
    await context.sequelize.query(`UPDATE ${TABLE} SET email = :composed, version = version + 1, updated_at = :now WHERE id = :id AND email = :email`, {
      replacements: { composed, id: row.id, email: row.email, now: new Date() },
    });
    taken.add(composed);
  }
}

export async function down(): Promise<void> {
  // Nothing to undo (see above).
}
