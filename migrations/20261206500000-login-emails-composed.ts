/**
 * Login emails are kept composed (Unicode NFC), an international domain in letters, as
 * `normalizeEmail` now writes and compares them: an account created from a contact whose address
 * held a decomposed accent (`e` and U+0301, as text copied from some PDFs holds it) or a domain
 * in punycode (`xn--bcher-kva.example`) was stored so, and a customer typing the address could
 * not sign in once the typed address is composed before it is looked up. Each such login is
 * rewritten here; one whose new spelling is already another account's login is left as it was
 * (it was a second login for one address, which the listeners now refuse and switch off).
 * Nothing to undo: the address is the same address.
 */
import { domainToUnicode } from 'node:url';
import { QueryTypes } from 'sequelize';
import type { PluginMigrationContext } from '../plugin/lifecycle/plugin-migrator.js';

const TABLE = 'bp_portal_accounts';

/** `normalizeEmail` (plugin/auth/portal-account-store.ts) as of this migration, on a stored (trimmed, lower-cased) login. */
function respelled(email: string): string {
  const composed = email.normalize('NFC');
  const at = composed.lastIndexOf('@');
  const domain = composed.slice(at + 1);
  if (at < 0 || !/[^\x00-\x7f]|(^|\.)xn--/.test(domain)) return composed;
  const letters = domainToUnicode(domain);
  return letters === '' ? composed : `${composed.slice(0, at + 1)}${letters.normalize('NFC')}`;
}

export async function up({ context }: { context: PluginMigrationContext }): Promise<void> {
  const rows = await context.sequelize.query<{ id: number; email: string }>(`SELECT id, email FROM ${TABLE}`, { type: QueryTypes.SELECT });
  const taken = new Set(rows.map((row) => row.email));
  for (const row of rows) {
    const email = respelled(row.email);
    if (email === row.email || taken.has(email)) continue;
    await context.sequelize.query(`UPDATE ${TABLE} SET email = :email, version = version + 1, updated_at = :now WHERE id = :id AND email = :was`, {
      replacements: { email, id: row.id, was: row.email, now: new Date() },
    });
    taken.add(email);
  }
}

export async function down(): Promise<void> {
  // Nothing to undo (see above).
}
